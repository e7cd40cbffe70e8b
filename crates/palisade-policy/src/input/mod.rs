//! conftest's input formats besides YAML, JSON and Dockerfiles: each parser turns a file into the JSON
//! document conftest's parser of that format gives the policies, registered once in [`parsers`] by name
//! and file extensions. `policy eval` picks a parser by the file's name; the Rego builtin `parse_config`
//! takes the same names.
//!
//! | parser | files | shape (as conftest) |
//! |---|---|---|
//! | `hcl2` | `*.tf`, `*.hcl`, `*.tfvars` | blocks nested by type and labels, each a list of bodies; literals as JSON, other expressions as `"${…}"` text |
//! | `toml` | `*.toml` | the document; dates and times as RFC 3339 text |
//! | `ini` | `*.ini`, `*.cfg`, `*.conf` | sections of keys (the unnamed default section left out); numbers and booleans converted |
//! | `properties` | `*.properties` | a map of strings |
//! | `dotenv` | `*.env`, `.env` | a map of strings |
//! | `xml` | `*.xml` | mxj's shape: root element as key, `-attr`, `#text`, repeated elements as lists, strings |
//! | `hcl1` | `--parser hcl1` | HCL1's shape: blocks and objects as lists of objects, labels nested in lists |
//! | `edn` | `*.edn` | maps as objects keyed by the key's text (`:db`), lists as arrays, strings kept, every other value as Go's `%v` text |
//! | `vcl` | `*.vcl` | block types keyed by label, `.field` values, acl entries and `sub` code not kept (go-vcl) |
//! | `hocon` | `--parser hocon` | objects by key (dotted keys nest, objects merge), leaves typed by their text, substitutions from the document only |
//! | `cue` | `*.cue` | the document's JSON, for CUE that is data (no evaluator: other constructs are errors naming them) |
//! | `spdx` | `*.spdx` | the SPDX JSON field names (tools-golang's document as JSON) |
//! | `cyclonedx` | `--parser cyclonedx` | CycloneDX JSON as written; XML converted to the CycloneDX JSON shape |
//! | `textproto` | `*.textproto`, `*.textpb` | protojson of the `# proto-message:` type from `--proto-file-dirs` `.proto` files |
//! | `ignore` | `.dockerignore`, `.gitignore` | a list of `{Kind, Value, Original}` entries |

mod cue;
mod cyclonedx;
mod dotenv;
mod edn;
mod hcl;
mod hcl1;
mod hocon;
mod ignore;
mod ini;
mod properties;
mod spdx;
pub mod textproto;
mod toml;
mod vcl;
mod xml;

use serde_json::Value;

/// Why a file did not parse; line and column are 1-based, 0 when the parser gives none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl InputError {
    pub(crate) fn new(line: usize, column: usize, message: impl Into<String>) -> Self {
        InputError { line, column, message: message.into() }
    }
}

/// A parser: the file's text to its document.
pub type Parse = fn(&str) -> Result<Value, InputError>;

/// One registered input format.
#[derive(Debug, Clone, Copy)]
pub struct Parser {
    /// The name conftest's `--parser` and `parse_config` use.
    pub name: &'static str,
    /// File extensions (lower case, without the dot) read with it.
    pub extensions: &'static [&'static str],
    /// Whole file names (lower case) read with it, e.g. `.gitignore`.
    pub names: &'static [&'static str],
    pub parse: Parse,
}

/// Every input parser, registered here once.
pub fn parsers() -> &'static [Parser] {
    &[
        Parser { name: "hcl2", extensions: &["tf", "hcl", "tfvars"], names: &[], parse: hcl::parse },
        Parser { name: "hcl1", extensions: &[], names: &[], parse: hcl1::parse },
        Parser { name: "toml", extensions: &["toml"], names: &[], parse: toml::parse },
        Parser { name: "ini", extensions: &["ini", "cfg", "conf"], names: &[], parse: ini::parse },
        Parser { name: "properties", extensions: &["properties"], names: &[], parse: properties::parse },
        Parser { name: "dotenv", extensions: &["env"], names: &[".env"], parse: dotenv::parse },
        Parser { name: "xml", extensions: &["xml"], names: &[], parse: xml::parse },
        Parser { name: "edn", extensions: &["edn"], names: &[], parse: edn::parse },
        Parser { name: "vcl", extensions: &["vcl"], names: &[], parse: vcl::parse },
        Parser { name: "cue", extensions: &["cue"], names: &[], parse: cue::parse },
        Parser { name: "spdx", extensions: &["spdx"], names: &[], parse: spdx::parse },
        Parser { name: "cyclonedx", extensions: &[], names: &[], parse: cyclonedx::parse },
        Parser {
            name: "textproto",
            extensions: &["textproto", "textpb"],
            names: &[],
            parse: textproto::parse,
        },
        Parser { name: "hocon", extensions: &[], names: &[], parse: hocon::parse },
        Parser {
            name: "ignore",
            extensions: &[],
            names: &[".dockerignore", ".gitignore"],
            parse: ignore::parse,
        },
    ]
}

/// Deepest nesting a parser accepts: deeper input is an error, not a stack overflow.
pub(crate) const MAX_DEPTH: usize = 256;

/// The parser of a file, by its name (`.env`, `.gitignore`, … by their whole name); `None` for YAML/JSON and anything else.
pub fn parser_for_file(name: &str) -> Option<&'static Parser> {
    let lower = name.to_ascii_lowercase();
    if let Some(p) = parsers().iter().find(|p| p.names.contains(&lower.as_str())) {
        return Some(p);
    }
    let ext = lower.rsplit_once('.')?.1;
    parsers().iter().find(|p| p.extensions.contains(&ext))
}

/// The parser called `name` (`hcl` is `hcl2`, as in conftest).
pub fn parser_named(name: &str) -> Option<&'static Parser> {
    let name = if name == "hcl" { "hcl2" } else { name };
    parsers().iter().find(|p| p.name == name)
}

/// A position in an input's text for the hand-written readers (CUE, HOCON, VCL). `F` names the format, so each
/// reader adds its own methods (`skip`, `value`, ...) in its own file while sharing these.
pub(crate) struct Cursor<'a, F> {
    pub(crate) text: &'a str,
    pub(crate) pos: usize,
    format: std::marker::PhantomData<F>,
}

impl<'a, F> Cursor<'a, F> {
    pub(crate) fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0, format: std::marker::PhantomData }
    }

    /// An error at byte `at`, with its line and column.
    pub(crate) fn error(&self, at: usize, message: impl Into<String>) -> InputError {
        let (line, column) = line_col(self.text, at);
        InputError::new(line, column, message)
    }

    /// The text not read yet.
    pub(crate) fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
}

/// 1-based line and column of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_matched_by_extension_and_name() {
        assert_eq!(parser_for_file("main.TF").map(|p| p.name), Some("hcl2"));
        assert_eq!(parser_for_file(".env").map(|p| p.name), Some("dotenv"));
        assert_eq!(parser_for_file("grafana.ini").map(|p| p.name), Some("ini"));
        assert!(parser_for_file("pod.yaml").is_none() && parser_for_file("Makefile").is_none());
        assert_eq!(parser_named("hcl").map(|p| p.name), Some("hcl2"));
        assert_eq!(parser_for_file(".gitignore").map(|p| p.name), Some("ignore"));
        assert_eq!(parser_for_file("pom.xml").map(|p| p.name), Some("xml"));
        assert_eq!(line_col("a\nbc\nd", 4), (2, 3));
    }
}
