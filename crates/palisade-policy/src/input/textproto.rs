//! Protocol Buffers text format input (`*.textproto`, `*.textpb`), as conftest's textproto parser gives it:
//! the message type is named by a `# proto-message: pkg.Message` comment and looked up in the `.proto`
//! files of `policy eval --proto-file-dirs` (parsed in pure Rust by `protobuf-parse`, no `protoc`); the
//! text is read into that message (`protobuf`'s text format) and given as its protobuf JSON with the
//! `.proto` field names (as protojson's `UseProtoNames`: 64-bit integers as strings, enums by name, unset
//! fields left out). Without `.proto` files, or when the type is not in them, the file is an error saying
//! the message type cannot be looked up.

use super::{InputError, MAX_DEPTH};
use protobuf::reflect::{FileDescriptor, MessageDescriptor};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The message types of a set of `.proto` files.
#[derive(Clone, Default)]
pub struct ProtoTypes {
    files: Vec<FileDescriptor>,
}

impl std::fmt::Debug for ProtoTypes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtoTypes").field("files", &self.files.len()).finish()
    }
}

impl ProtoTypes {
    /// Every `.proto` file under `dirs` (recursively; imports resolve from the directories).
    pub fn load(dirs: &[PathBuf]) -> Result<Self, String> {
        let mut inputs = Vec::new();
        for d in dirs {
            collect(d, &mut inputs).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        if inputs.is_empty() {
            return Ok(ProtoTypes::default());
        }
        inputs.sort();
        let parsed = protobuf_parse::Parser::new()
            .pure()
            .includes(dirs)
            .inputs(&inputs)
            .parse_and_typecheck()
            .map_err(|e| format!("parse .proto files: {e:#}"))?;
        let files = FileDescriptor::new_dynamic_fds(parsed.file_descriptors, &[])
            .map_err(|e| format!("load .proto files: {e}"))?;
        Ok(ProtoTypes { files })
    }

    fn message(&self, name: &str) -> Option<MessageDescriptor> {
        let full = format!(".{}", name.trim_start_matches('.'));
        self.files.iter().find_map(|f| f.message_by_full_name(&full))
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let path = e?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

/// The registered parser (and `parse_config`): no `.proto` files, so only the message-type error.
pub fn parse(text: &str) -> Result<Value, InputError> {
    parse_with(text, None)
}

/// Read `text` as the message its `# proto-message:` comment names, from `types`.
pub fn parse_with(text: &str, types: Option<&ProtoTypes>) -> Result<Value, InputError> {
    let (line, name) = message_type(text)?;
    let Some(desc) = types.and_then(|t| t.message(&name)) else {
        let why = if types.is_none_or(|t| t.files.is_empty()) {
            "no .proto files were given (policy eval --proto-file-dirs)"
        } else {
            "it is in none of the --proto-file-dirs .proto files"
        };
        return Err(InputError::new(line, 1, format!("cannot look up message type {name:?}: {why}")));
    };
    check_depth(text)?;
    let mut msg = desc.new_instance();
    protobuf::text_format::merge_from_str(&mut *msg, text).map_err(|e| {
        let m = e.to_string();
        let (l, c) = position(&m);
        InputError::new(l, c, format!("textproto {name}: {m}"))
    })?;
    let options = protobuf_json_mapping::PrintOptions { proto_field_name: true, ..Default::default() };
    let json = protobuf_json_mapping::print_to_string_with_options(&*msg, &options)
        .map_err(|e| InputError::new(0, 0, format!("textproto {name} to JSON: {e}")))?;
    serde_json::from_str(&json).map_err(|e| InputError::new(0, 0, format!("textproto {name} to JSON: {e}")))
}

/// `line:col` at the start of the text format parser's message.
fn position(message: &str) -> (usize, usize) {
    let mut nums = message.split(|c: char| !c.is_ascii_digit()).take(2).map(|n| n.parse().unwrap_or(0));
    (nums.next().unwrap_or(0), nums.next().unwrap_or(0))
}

/// The `# proto-message: NAME` comment (its line and the name).
fn message_type(text: &str) -> Result<(usize, String), InputError> {
    for (i, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix('#') else { continue };
        let Some(name) = rest.trim_start().strip_prefix("proto-message:") else { continue };
        let name: String =
            name.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.')).collect();
        if !name.is_empty() {
            return Ok((i + 1, name));
        }
    }
    Err(InputError::new(1, 1, "no '# proto-message: TYPE' comment names the message type"))
}

/// Nesting of `{`/`<` (outside strings and comments) deeper than the limit is an error.
fn check_depth(text: &str) -> Result<(), InputError> {
    let (mut depth, mut line, mut quote, mut comment) = (0usize, 1usize, None::<char>, false);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\n', _) => {
                line += 1;
                comment = false;
            }
            _ if comment => {}
            ('\\', Some(_)) => {
                chars.next();
            }
            (q, Some(open)) if q == open => quote = None,
            (_, Some(_)) => {}
            ('"' | '\'', None) => quote = Some(c),
            ('#', None) => comment = true,
            ('{' | '<', None) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(InputError::new(
                        line,
                        1,
                        format!("messages nested deeper than {MAX_DEPTH} levels"),
                    ));
                }
            }
            ('}' | '>', None) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_format_to_protojson_with_proto_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("t.proto"),
            "syntax = \"proto3\";\npackage t.v1;\nenum Kind { KIND_UNSPECIFIED = 0; BIG = 1; }\n\
             message Inner { string the_name = 1; }\n\
             message Top { string name = 1; int32 number = 2; int64 big = 3; bool truthy = 4; \
             repeated Inner inner_items = 5; Kind kind = 6; }\n",
        )
        .expect("write");
        let types = ProtoTypes::load(&[dir.path().to_path_buf()]).expect("load");
        let text = "# proto-message: t.v1.Top\nname: \"x\"\nnumber: 9001\nbig: 5\n\
                    inner_items { the_name: \"a\" }\ninner_items < the_name: \"b\" >\nkind: BIG\n";
        assert_eq!(
            parse_with(text, Some(&types)).expect("textproto"),
            json!({"name": "x", "number": 9001, "big": "5", "kind": "BIG",
                "inner_items": [{"the_name": "a"}, {"the_name": "b"}]})
        );
        let e =
            parse_with("# proto-message: t.v1.Top\nnumber: \"nine\"\n", Some(&types)).expect_err("bad value");
        assert_eq!(e.line, 2, "{e:?}");
        let e = parse_with("# proto-message: t.v1.Nope\n", Some(&types)).expect_err("unknown type");
        assert!(e.message.contains("look up message type"), "{e:?}");
        let deep = format!("# proto-message: t.v1.Top\n{}", "inner_items {".repeat(1000));
        assert!(parse_with(&deep, Some(&types)).expect_err("deep").message.contains("deeper"));
        let e = parse("# proto-message: t.v1.Top\nname: \"x\"\n").expect_err("no types");
        assert!(e.message.contains("cannot look up message type \"t.v1.Top\""), "{e:?}");
        assert!(parse("name: \"x\"\n").expect_err("no comment").message.contains("proto-message"));
    }
}
