//! Varnish VCL input (`*.vcl`), in the shape conftest's VCL parser (KeisukeYamashita/go-vcl decoded into a
//! map) gives: top-level assignments by name; each block type (`backend`, `acl`, `probe`, `sub`, …) an
//! object keyed by the block's first label, its further labels nesting as one-key objects (a later block
//! with the same label replaces an earlier one); in a body, `.name = value;` fields by name without the dot
//! (strings as text, integers as numbers, anything else such as `60s` as its text), nested blocks by type
//! (one block an object, several a list). As in go-vcl, bare entries (an `acl`'s `"127.0.0.1";`) are not
//! kept, and a `sub` routine's code is not decoded (its body is `{}`).

use super::{Cursor, InputError, MAX_DEPTH};
use serde_json::{Map, Value};

/// A block read from a body: its type, labels and decoded body.
struct Block {
    kind: String,
    labels: Vec<String>,
    body: Map<String, Value>,
}

pub fn parse(text: &str) -> Result<Value, InputError> {
    let mut r = Reader::new(text);
    let (mut attrs, blocks) = r.body(0, false)?;
    // Top level: every block type is an object keyed by the first label.
    for b in blocks {
        let mut v = Value::Object(b.body);
        for label in b.labels.iter().skip(1) {
            let mut m = Map::new();
            m.insert(label.clone(), v);
            v = Value::Object(m);
        }
        let first = b.labels.first().cloned().unwrap_or_default();
        let slot = attrs.entry(b.kind).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = slot {
            m.insert(first, v);
        } else {
            let mut m = Map::new();
            m.insert(first, v);
            *slot = Value::Object(m);
        }
    }
    Ok(Value::Object(attrs))
}

/// The Vcl reader: the shared [`Cursor`] with this format's methods below.
struct Vcl;
type Reader<'a> = Cursor<'a, Vcl>;

impl Reader<'_> {
    /// Skip whitespace and `#`, `//` and `/* */` comments.
    fn skip(&mut self) -> Result<(), InputError> {
        loop {
            let r = self.rest();
            let skipped = r.len() - r.trim_start().len();
            self.pos += skipped;
            let trimmed = self.rest();
            if trimmed.starts_with('#') || trimmed.starts_with("//") {
                let n = trimmed.find('\n').unwrap_or(trimmed.len());
                self.pos += n;
            } else if trimmed.starts_with("/*") {
                let Some(end) = trimmed.find("*/") else {
                    return Err(self.error(self.pos, "comment not closed"));
                };
                self.pos += end + 2;
            } else {
                return Ok(());
            }
        }
    }

    fn ident(&mut self) -> String {
        let r = self.rest();
        let len =
            r.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))).unwrap_or(r.len());
        let s = r[..len].to_string();
        self.pos += len;
        s
    }

    /// A `"…"` or `{"…"}` string.
    fn string(&mut self) -> Result<String, InputError> {
        let start = self.pos;
        let (open, close) = if self.rest().starts_with("{\"") { ("{\"", "\"}") } else { ("\"", "\"") };
        let body = &self.rest()[open.len()..];
        let Some(end) = body.find(close) else { return Err(self.error(start, "string not closed")) };
        if open == "\"" && body[..end].contains('\n') {
            return Err(self.error(start, "string not closed on its line"));
        }
        let s = body[..end].to_string();
        self.pos += open.len() + end + close.len();
        Ok(s)
    }

    /// Skip a balanced `{ … }` (strings and comments respected).
    fn skip_braces(&mut self) -> Result<(), InputError> {
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            self.skip()?;
            match self.peek() {
                None => return Err(self.error(start, "'{' not closed")),
                Some('"') => {
                    self.string()?;
                }
                Some('{') if self.rest().starts_with("{\"") => {
                    self.string()?;
                }
                Some(c) => {
                    self.pos += c.len_utf8();
                    if c == '{' {
                        depth += 1;
                    } else if c == '}' {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(());
                        }
                    }
                }
            }
        }
    }

    /// Statements up to `}` (`nested`) or the end: fields and blocks.
    fn body(&mut self, depth: usize, nested: bool) -> Result<(Map<String, Value>, Vec<Block>), InputError> {
        if depth > MAX_DEPTH {
            return Err(self.error(self.pos, format!("blocks nested deeper than {MAX_DEPTH} levels")));
        }
        let mut attrs = Map::new();
        let mut blocks: Vec<Block> = Vec::new();
        loop {
            self.skip()?;
            let at = self.pos;
            match self.peek() {
                None if nested => return Err(self.error(at, "'}' expected before the end of input")),
                None => break,
                Some('}') if nested => {
                    self.pos += 1;
                    break;
                }
                Some('}') => return Err(self.error(at, "unexpected '}'")),
                Some(';') => self.pos += 1,
                Some(c) if c.is_ascii_alphabetic() || c == '.' || c == '_' => {
                    let name = self.ident();
                    self.skip()?;
                    if self.peek() == Some('=') {
                        self.pos += 1;
                        self.skip()?;
                        let key = name.trim_start_matches('.').to_string();
                        if self.peek() == Some('{') && !self.rest().starts_with("{\"") {
                            self.pos += 1;
                            let (a, b) = self.body(depth + 1, true)?;
                            blocks.push(Block { kind: key, labels: Vec::new(), body: nest(a, b) });
                        } else {
                            let v = self.value()?;
                            attrs.insert(key, v);
                        }
                        continue;
                    }
                    // A block header: labels up to `{`; a statement such as `vcl 4.1;` ends at `;`.
                    let mut labels = Vec::new();
                    loop {
                        self.skip()?;
                        match self.peek() {
                            Some('{') if !self.rest().starts_with("{\"") => break,
                            Some('"') => labels.push(self.string()?),
                            Some(';') | None | Some('}') => break,
                            Some(c) if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') => {
                                labels.push(self.ident())
                            }
                            Some(c) => {
                                return Err(
                                    self.error(self.pos, format!("unexpected {c:?} in a block header"))
                                );
                            }
                        }
                    }
                    if self.peek() != Some('{') {
                        continue;
                    }
                    if name == "sub" {
                        self.skip_braces()?;
                        blocks.push(Block { kind: name, labels, body: Map::new() });
                    } else {
                        self.pos += 1;
                        let (a, b) = self.body(depth + 1, true)?;
                        blocks.push(Block { kind: name, labels, body: nest(a, b) });
                    }
                }
                Some(_) => {
                    // A bare entry (an acl's address): skipped to its `;`.
                    loop {
                        self.skip()?;
                        match self.peek() {
                            None | Some(';') | Some('}') => break,
                            Some('"') => {
                                self.string()?;
                            }
                            Some(c) => self.pos += c.len_utf8(),
                        }
                    }
                }
            }
        }
        Ok((attrs, blocks))
    }

    /// A field's value up to `;`: one string, one integer, or the text as written.
    fn value(&mut self) -> Result<Value, InputError> {
        let start = self.pos;
        if self.peek() == Some('"') || self.rest().starts_with("{\"") {
            let s = self.string()?;
            self.skip()?;
            if matches!(self.peek(), Some(';') | Some('}') | None) {
                if self.peek() == Some(';') {
                    self.pos += 1;
                }
                return Ok(Value::String(s));
            }
        }
        self.pos = start;
        let end = self.rest().find([';', '}', '\n']).map_or(self.text.len(), |i| self.pos + i);
        let raw = self.text[start..end].trim().to_string();
        self.pos = end;
        if self.peek() == Some(';') {
            self.pos += 1;
        }
        Ok(match raw.parse::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => Value::String(raw),
        })
    }
}

/// A nested body: fields, then blocks by type (one an object, several a list of label-wrapped objects).
fn nest(mut attrs: Map<String, Value>, blocks: Vec<Block>) -> Map<String, Value> {
    let mut by_kind: Vec<(String, Vec<Block>)> = Vec::new();
    for b in blocks {
        match by_kind.iter_mut().find(|(k, _)| *k == b.kind) {
            Some((_, list)) => list.push(b),
            None => by_kind.push((b.kind.clone(), vec![b])),
        }
    }
    for (kind, list) in by_kind {
        let value = if list.len() == 1 {
            list.into_iter().next().map(|b| Value::Object(b.body)).unwrap_or_default()
        } else {
            Value::Array(
                list.into_iter()
                    .map(|b| {
                        let mut v = Value::Object(b.body);
                        for label in &b.labels {
                            let mut m = Map::new();
                            m.insert(label.clone(), v);
                            v = Value::Object(m);
                        }
                        v
                    })
                    .collect(),
            )
        };
        attrs.insert(kind, value);
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backends_acls_and_subs_like_go_vcl() {
        let text = r#"vcl 4.1;
import std;
# a comment
backend app {
    .host = "127.0.0.1";
    .port = "8081";  // the port
    .connect_timeout = 60s;
    .max_connections = 800;
    .probe = { .url = "/"; }
}
acl purge {
    "127.0.0.1";
    "10.0.0.0"/8;
}
sub vcl_recv {
    if (req.url ~ "^/admin") { return (pass); }
}
"#;
        assert_eq!(
            parse(text).expect("vcl"),
            json!({
                "backend": {"app": {"host": "127.0.0.1", "port": "8081", "connect_timeout": "60s",
                    "max_connections": 800, "probe": {"url": "/"}}},
                "acl": {"purge": {}},
                "sub": {"vcl_recv": {}},
            })
        );
    }

    #[test]
    fn malformed_vcl_is_an_error_with_a_position() {
        let e = parse("backend a {\n  .host = \"x;\n}").expect_err("open string");
        assert_eq!(e.line, 2, "{e:?}");
        let e = parse("sub x {\n if (a) {\n").expect_err("open sub");
        assert_eq!(e.line, 1, "{e:?}");
        assert!(parse(&"backend a { .x = {".repeat(10_000)).is_err());
        assert!(parse("}").is_err() && parse("/* open").is_err());
    }
}
