//! HOCON input (`--parser hocon`), in the shape conftest's HOCON parser (go-akka/configuration, every leaf
//! converted by its text) gives: objects nested by key (dotted keys `a.b = 1` nest; a repeated key merges
//! objects and otherwise the later value wins); a leaf whose text reads as a number becomes a number, as a
//! Go boolean (`true`, `false`, `t`, `F`, …) a boolean, else text (quoted or unquoted, unquoted words joined
//! by their spaces: `75 seconds`); `null` is the text `null`. Arrays are arrays of converted values.
//! Substitutions `${a.b}` resolve against the document only (never the environment): an optional `${?x}`
//! that the document does not define leaves the field as it was; a required one is empty text (go-akka
//! does not fail on it either). `+=` appends; `include` is an error (Palisade parses without reading other files).

use super::{Cursor, InputError, MAX_DEPTH};
use serde_json::{Map, Value};

/// A value as read, before substitutions are resolved.
#[derive(Debug, Clone)]
enum Raw {
    Object(Vec<(Vec<String>, Field)>),
    Array(Vec<Raw>),
    /// Concatenated parts: text, and substitutions (path, optional).
    Parts(Vec<Part>),
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Subst { path: String, optional: bool },
}

#[derive(Debug, Clone)]
enum Field {
    Set(Raw),
    Append(Raw),
}

pub fn parse(text: &str) -> Result<Value, InputError> {
    let mut r = Reader::new(text);
    r.skip()?;
    let root = if r.peek() == Some('{') {
        r.pos += 1;
        r.object(0, true)?
    } else {
        r.object(0, false)?
    };
    r.skip()?;
    if r.pos < text.len() {
        return Err(r.error(r.pos, "text after the root object"));
    }
    // Two passes: build the tree with substitutions left as markers, then resolve them against it.
    let Raw::Object(root) = root else { return Err(InputError::new(1, 1, "no root object")) };
    let mut tree = Map::new();
    merge_object(&mut tree, &root, None, text)?;
    let snapshot = Value::Object(tree);
    let mut out = Map::new();
    merge_object(&mut out, &root, Some(&snapshot), text)?;
    Ok(Value::Object(out))
}

/// Apply an object's fields onto `into`; with `doc`, substitutions resolve against it (else they are skipped).
fn merge_object(
    into: &mut Map<String, Value>,
    fields: &[(Vec<String>, Field)],
    doc: Option<&Value>,
    text: &str,
) -> Result<(), InputError> {
    for (path, field) in fields {
        let Some((first, rest)) = path.split_first() else { continue };
        if !rest.is_empty() {
            // `a.b = v` is `a { b = v }`.
            let nested = [(rest.to_vec(), field.clone())];
            let obj = into.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
            if !obj.is_object() {
                *obj = Value::Object(Map::new());
            }
            if let Value::Object(m) = obj {
                merge_object(m, &nested, doc, text)?;
            }
            continue;
        }
        let (last, slot) = (first, &mut *into);
        match field {
            Field::Set(Raw::Object(inner)) => {
                let entry = slot.entry(last.clone()).or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                if let Value::Object(m) = entry {
                    merge_object(m, inner, doc, text)?;
                }
            }
            Field::Set(raw) => {
                if let Some(v) = resolve(raw, doc, text)? {
                    slot.insert(last.clone(), v);
                }
            }
            Field::Append(raw) => {
                if let Some(v) = resolve(raw, doc, text)? {
                    match slot.get_mut(last) {
                        Some(Value::Array(items)) => items.push(v),
                        _ => {
                            slot.insert(last.clone(), Value::Array(vec![v]));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// A value; `None` when an optional substitution is undefined (the field keeps its earlier value).
fn resolve(raw: &Raw, doc: Option<&Value>, text: &str) -> Result<Option<Value>, InputError> {
    match raw {
        Raw::Object(fields) => {
            let mut m = Map::new();
            merge_object(&mut m, fields, doc, text)?;
            Ok(Some(Value::Object(m)))
        }
        Raw::Array(items) => {
            let mut out = Vec::new();
            for i in items {
                if let Some(v) = resolve(i, doc, text)? {
                    out.push(v);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        Raw::Parts(parts) => {
            if let [Part::Subst { path, optional }] = parts.as_slice() {
                let Some(doc) = doc else { return Ok(None) };
                return Ok(match lookup(doc, path) {
                    Some(v) => Some(v.clone()),
                    None if *optional => None,
                    // Undefined in the file (Palisade never reads the environment): empty, as go-akka.
                    None => Some(Value::String(String::new())),
                });
            }
            let mut s = String::new();
            for p in parts {
                match p {
                    Part::Text(t) => s.push_str(t),
                    Part::Subst { path, .. } => match doc.and_then(|d| lookup(d, path)) {
                        Some(Value::String(v)) => s.push_str(v),
                        Some(v) => s.push_str(&v.to_string()),
                        None => {}
                    },
                }
            }
            Ok(Some(typed(s.trim())))
        }
    }
}

fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(doc, |v, k| v.get(k.trim_matches('"')))
}

/// conftest converts a leaf by its text: a number, else a Go boolean, else the text.
fn typed(s: &str) -> Value {
    if let Ok(i) = s.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(f) = s.parse::<f64>()
        && f.is_finite()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Value::Number(n);
    }
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Value::Bool(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Value::Bool(false),
        _ => Value::String(s.to_string()),
    }
}

/// The Hocon reader: the shared [`Cursor`] with this format's methods below.
struct Hocon;
type Reader<'a> = Cursor<'a, Hocon>;

impl Reader<'_> {
    /// Skip whitespace (newlines too), commas are not skipped here; `#` and `//` comments.
    fn skip(&mut self) -> Result<(), InputError> {
        loop {
            let r = self.rest();
            let n = r.len() - r.trim_start().len();
            self.pos += n;
            let t = self.rest();
            if t.starts_with('#') || t.starts_with("//") {
                let n = t.find('\n').unwrap_or(t.len());
                self.pos += n;
            } else {
                return Ok(());
            }
        }
    }

    /// Skip spaces and tabs only (inside a value).
    fn skip_inline(&mut self) {
        let r = self.rest();
        let n = r.len() - r.trim_start_matches([' ', '\t']).len();
        self.pos += n;
    }

    /// Fields up to `}` (`braced`) or the end.
    fn object(&mut self, depth: usize, braced: bool) -> Result<Raw, InputError> {
        if depth > MAX_DEPTH {
            return Err(self.error(self.pos, format!("objects nested deeper than {MAX_DEPTH} levels")));
        }
        let mut fields = Vec::new();
        loop {
            self.skip()?;
            match self.peek() {
                None if braced => return Err(self.error(self.pos, "'}' expected before the end of input")),
                None => return Ok(Raw::Object(fields)),
                Some('}') if braced => {
                    self.pos += 1;
                    return Ok(Raw::Object(fields));
                }
                Some(',') => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            let at = self.pos;
            let path = self.key()?;
            if path.len() == 1 && path[0] == "include" && matches!(self.peek(), Some(' ' | '"')) {
                return Err(self.error(
                    at,
                    "include is not supported (Palisade parses one file without reading others)",
                ));
            }
            self.skip()?;
            let field = match self.peek() {
                Some('{') => {
                    self.pos += 1;
                    Field::Set(self.object(depth + 1, true)?)
                }
                Some('=') | Some(':') => {
                    self.pos += 1;
                    self.skip()?;
                    Field::Set(self.value(depth + 1)?)
                }
                Some('+') if self.rest().starts_with("+=") => {
                    self.pos += 2;
                    self.skip()?;
                    Field::Append(self.value(depth + 1)?)
                }
                _ => {
                    return Err(self
                        .error(self.pos, format!("'=', ':' or '{{' expected after key {}", path.join("."))));
                }
            };
            fields.push((path, field));
        }
    }

    /// A key path: dot-separated unquoted or quoted segments.
    fn key(&mut self) -> Result<Vec<String>, InputError> {
        let mut path = Vec::new();
        let mut seg = String::new();
        loop {
            match self.peek() {
                Some('"') => seg.push_str(&self.quoted()?),
                Some('.') => {
                    self.pos += 1;
                    path.push(std::mem::take(&mut seg));
                }
                Some(c)
                    if !c.is_whitespace()
                        && !"=:{}[],+#\"$".contains(c)
                        && !self.rest().starts_with("//") =>
                {
                    seg.push(c);
                    self.pos += c.len_utf8();
                }
                _ => break,
            }
        }
        path.push(seg);
        if path.iter().any(String::is_empty) {
            return Err(self.error(self.pos, "a key is empty"));
        }
        Ok(path)
    }

    fn quoted(&mut self) -> Result<String, InputError> {
        let start = self.pos;
        if self.rest().starts_with("\"\"\"") {
            let body = &self.rest()[3..];
            let Some(end) = body.find("\"\"\"") else {
                return Err(self.error(start, "\"\"\" string not closed"));
            };
            let s = body[..end].to_string();
            self.pos += 3 + end + 3;
            return Ok(s);
        }
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else { return Err(self.error(start, "string not closed")) };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\n' => return Err(self.error(start, "string not closed on its line")),
                '\\' => {
                    let Some(e) = self.peek() else { return Err(self.error(start, "string not closed")) };
                    self.pos += e.len_utf8();
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'u' => {
                            let hex = self.rest().get(..4).unwrap_or("");
                            let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                            let Some(c) = c else { return Err(self.error(self.pos, "invalid \\u escape")) };
                            out.push(c);
                            self.pos += 4;
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
    }

    /// A value: an object, an array, or a concatenation of text and substitutions up to the line's end.
    fn value(&mut self, depth: usize) -> Result<Raw, InputError> {
        if depth > MAX_DEPTH {
            return Err(self.error(self.pos, format!("values nested deeper than {MAX_DEPTH} levels")));
        }
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                return self.object(depth + 1, true);
            }
            Some('[') => {
                self.pos += 1;
                let start = self.pos - 1;
                let mut items = Vec::new();
                loop {
                    self.skip()?;
                    match self.peek() {
                        None => return Err(self.error(start, "'[' not closed")),
                        Some(']') => {
                            self.pos += 1;
                            return Ok(Raw::Array(items));
                        }
                        Some(',') => self.pos += 1,
                        _ => items.push(self.value(depth + 1)?),
                    }
                }
            }
            _ => {}
        }
        let mut parts = Vec::new();
        let mut pending_space = String::new();
        loop {
            match self.peek() {
                None | Some('\n' | ',' | '}' | ']' | '#') => break,
                _ if self.rest().starts_with("//") => break,
                Some(' ' | '\t' | '\r') => {
                    let before = self.pos;
                    self.skip_inline();
                    if self.peek() == Some('\r') {
                        self.pos += 1;
                    }
                    pending_space.push_str(&self.text[before..self.pos]);
                    continue;
                }
                Some('"') => {
                    let s = self.quoted()?;
                    if !parts.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut pending_space)));
                    }
                    parts.push(Part::Text(s));
                }
                Some('$') if self.rest().starts_with("${") => {
                    let at = self.pos;
                    let Some(end) = self.rest().find('}') else {
                        return Err(self.error(at, "'${' not closed"));
                    };
                    let inner = self.rest()[2..end].trim().to_string();
                    self.pos += end + 1;
                    let (path, optional) = match inner.strip_prefix('?') {
                        Some(p) => (p.trim().to_string(), true),
                        None => (inner, false),
                    };
                    if !parts.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut pending_space)));
                    }
                    parts.push(Part::Subst { path, optional });
                }
                Some('{' | '[') => {
                    return Err(
                        self.error(self.pos, "an object or array concatenated with text is not supported")
                    );
                }
                Some(_) => {
                    let r = self.rest();
                    let n = r
                        .find(|c: char| c.is_whitespace() || ",}]#\"$".contains(c) || c == '{' || c == '[')
                        .unwrap_or(r.len());
                    let n = if n == 0 { r.chars().next().map_or(1, char::len_utf8) } else { n };
                    let word = r[..n].to_string();
                    let word = match word.find("//") {
                        Some(i) if i > 0 => word[..i].to_string(),
                        _ => word,
                    };
                    self.pos += word.len();
                    if !parts.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut pending_space)));
                    }
                    parts.push(Part::Text(word));
                }
            }
            pending_space.clear();
        }
        if parts.is_empty() {
            return Err(self.error(self.pos, "a value is missing"));
        }
        Ok(Raw::Parts(parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_merge_and_optional_substitutions_keep_earlier_values() {
        let text = r#"
# comment
play {
  server {
    dir = ${?user.dir}
    http {
      port = 9001
      port = ${?PLAY_HTTP_PORT}
      address = "0.0.0.0"
      idleTimeout = 75 seconds   // trailing comment
      enabled = true
    }
    http.maxHeaders: 64
  }
}
play.server.http { ratio = 0.5 }
copy = ${play.server.http.port}
list = [1, "two", ${play.server.http.port}]
list += 3
"#;
        assert_eq!(
            parse(text).expect("hocon"),
            json!({
                "play": {"server": {"http": {"port": 9001, "address": "0.0.0.0", "idleTimeout": "75 seconds",
                    "enabled": true, "maxHeaders": 64, "ratio": 0.5}}},
                "copy": 9001,
                "list": [1, "two", 9001, 3],
            })
        );
    }

    #[test]
    fn malformed_hocon_is_an_error_with_a_position() {
        let e = parse("a {\n  b = \"open\n}").expect_err("open string");
        assert_eq!(e.line, 2, "{e:?}");
        assert_eq!(
            parse("a = ${missing}\nb = ${missing}/x").expect("undefined"),
            json!({"a": "", "b": "/x"})
        );
        let e = parse("include \"other.conf\"").expect_err("include");
        assert!(e.message.contains("include"), "{e:?}");
        assert!(parse(&"a {".repeat(10_000)).is_err() && parse("a b").is_err() && parse("[").is_err());
    }
}
