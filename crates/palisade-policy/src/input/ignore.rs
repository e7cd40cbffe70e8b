//! `.dockerignore` / `.gitignore` input, in the shape conftest's ignore parser gives: a list with one
//! `{"Kind", "Value", "Original"}` entry per line, in order. `Kind` is `Empty` (a blank line), `Comment`
//! (`#…`, `Value` the text after `#`), `NegatedPath` (`!…`, `Value` the pattern after `!`) or `Path`;
//! `Original` is the line as written and `Value` is trimmed of surrounding whitespace.

use super::InputError;
use serde_json::{Value, json};

pub fn parse(text: &str) -> Result<Value, InputError> {
    let mut out = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        let (kind, value) = if trimmed.is_empty() {
            ("Empty", "")
        } else if let Some(c) = trimmed.strip_prefix('#') {
            ("Comment", c.trim())
        } else if let Some(p) = trimmed.strip_prefix('!') {
            ("NegatedPath", p.trim())
        } else {
            ("Path", trimmed)
        };
        out.push(json!({"Kind": kind, "Value": value, "Original": line}));
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_line() {
        let v = parse("foo\n!bar\n\n# Baz\nqux\\ ").expect("ignore");
        assert_eq!(
            v,
            json!([
                {"Kind": "Path", "Value": "foo", "Original": "foo"},
                {"Kind": "NegatedPath", "Value": "bar", "Original": "!bar"},
                {"Kind": "Empty", "Value": "", "Original": ""},
                {"Kind": "Comment", "Value": "Baz", "Original": "# Baz"},
                {"Kind": "Path", "Value": "qux\\", "Original": "qux\\ "},
            ])
        );
    }
}
