//! CUE input (`*.cue`), data subset. conftest evaluates CUE with the CUE Go library and gives the
//! document's JSON; there is no CUE evaluator in Rust, so Palisade reads the CUE that is data: fields with
//! unquoted or quoted labels (`a: b: c: 1` nests), structs, lists, strings (`"…"` and `"""` blocks),
//! numbers, `true`/`false`/`null`, `//` comments, commas or newlines between fields, a `package` clause,
//! and fields given twice that unify (structs merge, equal values agree). Definitions (`#Name: …`) and
//! hidden fields (`_name: …`) are left out, as in CUE's JSON. Anything else — references, types (`int`),
//! operators (`|`, `&`, `+`, …), optional/required fields, comprehensions, `import`, `...` — is an error
//! naming the construct and its line and column.

use super::{Cursor, InputError, MAX_DEPTH};
use serde_json::{Map, Value};

pub fn parse(text: &str) -> Result<Value, InputError> {
    let mut r = Reader::new(text);
    r.skip(true);
    if r.rest().starts_with("package") && r.rest()[7..].starts_with([' ', '\t']) {
        r.pos += 7;
        r.skip(false);
        let name = r.ident();
        if name.is_empty() {
            return Err(r.error(r.pos, "a package name is expected"));
        }
    }
    r.skip(true);
    let out = if r.peek() == Some('{') {
        r.pos += 1;
        let m = r.fields(0, true)?;
        r.skip(true);
        if r.pos < text.len() {
            return Err(r.error(r.pos, "text after the top-level struct"));
        }
        m
    } else {
        r.fields(0, false)?
    };
    Ok(Value::Object(out))
}

/// The Cue reader: the shared [`Cursor`] with this format's methods below.
struct Cue;
type Reader<'a> = Cursor<'a, Cue>;

impl<'a> Reader<'a> {
    /// Skip spaces and comments; newlines too when `newlines`.
    fn skip(&mut self, newlines: bool) {
        loop {
            let r = self.rest();
            let n = if newlines {
                r.len() - r.trim_start().len()
            } else {
                r.len() - r.trim_start_matches([' ', '\t', '\r']).len()
            };
            self.pos += n;
            let t = self.rest();
            if t.starts_with("//") {
                let n = t.find('\n').unwrap_or(t.len());
                self.pos += n;
            } else {
                return;
            }
        }
    }

    fn ident(&mut self) -> String {
        let r = self.rest();
        let n = r.find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '$' | '#'))).unwrap_or(r.len());
        self.pos += n;
        r[..n].to_string()
    }

    /// Fields up to `}` (`braced`) or the end of the file.
    fn fields(&mut self, depth: usize, braced: bool) -> Result<Map<String, Value>, InputError> {
        if depth > MAX_DEPTH {
            return Err(self.error(self.pos, format!("structs nested deeper than {MAX_DEPTH} levels")));
        }
        let mut out = Map::new();
        loop {
            self.skip(true);
            match self.peek() {
                None if braced => return Err(self.error(self.pos, "'}' expected before the end of input")),
                None => return Ok(out),
                Some('}') if braced => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(',') => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            let at = self.pos;
            if self.rest().starts_with("import") {
                return Err(self.error(at, "import is not supported (CUE data subset)"));
            }
            let (labels, keep) = self.labels()?;
            let value = self.value(depth + 1)?;
            self.end_of_field()?;
            if !keep {
                continue;
            }
            let mut v = value;
            for l in labels[1..].iter().rev() {
                let mut m = Map::new();
                m.insert(l.clone(), v);
                v = Value::Object(m);
            }
            unify(&mut out, labels[0].clone(), v).map_err(|m| self.error(at, m))?;
        }
    }

    /// `a: b: c:` labels; `keep` is false for a definition or hidden field.
    fn labels(&mut self) -> Result<(Vec<String>, bool), InputError> {
        let mut labels = Vec::new();
        let mut keep = true;
        loop {
            self.skip(false);
            let at = self.pos;
            let label = match self.peek() {
                Some('"') => self.string()?,
                Some('(') | Some('[') => {
                    return Err(
                        self.error(at, "a computed or pattern label is not supported (CUE data subset)")
                    );
                }
                _ => {
                    let id = self.ident();
                    if id.is_empty() {
                        return Err(self.error(
                            at,
                            format!("a field label is expected, found {:?}", self.peek().unwrap_or(' ')),
                        ));
                    }
                    if matches!(id.as_str(), "if" | "for" | "let") {
                        return Err(self.error(
                            at,
                            format!("'{id}' (comprehensions and let) is not supported (CUE data subset)"),
                        ));
                    }
                    if id.starts_with('#') || id.starts_with('_') {
                        keep = false;
                    }
                    id
                }
            };
            self.skip(false);
            match self.peek() {
                Some('?') | Some('!') => {
                    let c = self.peek().unwrap_or('?');
                    return Err(self.error(
                        self.pos,
                        format!(
                            "an optional or required field ('{label}{c}') is not supported (CUE data subset)"
                        ),
                    ));
                }
                Some(':') => {
                    self.pos += 1;
                    labels.push(label);
                }
                _ => return Err(self.error(self.pos, format!("':' expected after the label {label}"))),
            }
            // Another label follows when an identifier or string is followed by ':' on this line.
            self.skip(false);
            let save = self.pos;
            let next_is_label = match self.peek() {
                Some('"') => {
                    self.string().is_ok() && {
                        self.skip(false);
                        self.peek() == Some(':')
                    }
                }
                Some(c) if c.is_alphabetic() || matches!(c, '_' | '$' | '#') => {
                    self.ident();
                    self.skip(false);
                    matches!(self.peek(), Some(':' | '?' | '!'))
                }
                _ => false,
            };
            self.pos = save;
            if !next_is_label {
                return Ok((labels, keep));
            }
        }
    }

    /// After a value: a comma, a newline, `}` or the end; an operator is an error naming it.
    fn end_of_field(&mut self) -> Result<(), InputError> {
        self.skip(false);
        match self.peek() {
            None | Some(',' | '\n' | '}' | ']') => Ok(()),
            Some(c) => Err(self.error(
                self.pos,
                format!("the operator or expression '{c}…' is not supported (CUE data subset)"),
            )),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, InputError> {
        if depth > MAX_DEPTH {
            return Err(self.error(self.pos, format!("values nested deeper than {MAX_DEPTH} levels")));
        }
        self.skip(false);
        let at = self.pos;
        match self.peek() {
            Some('{') => {
                self.pos += 1;
                Ok(Value::Object(self.fields(depth + 1, true)?))
            }
            Some('[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip(true);
                    match self.peek() {
                        None => return Err(self.error(at, "'[' not closed")),
                        Some(']') => {
                            self.pos += 1;
                            return Ok(Value::Array(items));
                        }
                        Some(',') => self.pos += 1,
                        _ if self.rest().starts_with("...") => {
                            return Err(self
                                .error(self.pos, "open lists ('...') are not supported (CUE data subset)"));
                        }
                        _ => {
                            items.push(self.value(depth + 1)?);
                            self.skip(true);
                            match self.peek() {
                                Some(',' | ']') => {}
                                Some(c) => {
                                    return Err(self.error(self.pos, format!("the operator or expression '{c}…' is not supported (CUE data subset)")));
                                }
                                None => return Err(self.error(at, "'[' not closed")),
                            }
                        }
                    }
                }
            }
            Some('"') => Ok(Value::String(self.string()?)),
            Some('\'') => Err(self.error(at, "byte strings are not supported (CUE data subset)")),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => self.number(),
            Some(c) if c.is_alphabetic() || matches!(c, '_' | '$' | '#') => {
                let id = self.ident();
                match id.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" => Ok(Value::Null),
                    "int" | "float" | "number" | "string" | "bool" | "bytes" | "_" | "top" => {
                        Err(self.error(at, format!("the type '{id}' is not data: only concrete values are supported (CUE data subset)")))
                    }
                    _ => Err(self.error(at, format!("the reference '{id}' is not supported (CUE data subset)"))),
                }
            }
            Some(c) => {
                Err(self.error(at, format!("the expression '{c}…' is not supported (CUE data subset)")))
            }
            None => Err(self.error(at, "a value is expected")),
        }
    }

    fn number(&mut self) -> Result<Value, InputError> {
        let at = self.pos;
        let r = self.rest();
        let n = r
            .char_indices()
            .find(|&(i, c)| {
                !(c.is_ascii_alphanumeric()
                    || c == '.'
                    || c == '_'
                    || ((c == '-' || c == '+') && (i == 0 || r[..i].ends_with(['e', 'E']))))
            })
            .map_or(r.len(), |(i, _)| i);
        let tok = r[..n].replace('_', "");
        self.pos += n;
        if let Ok(i) = tok.parse::<i64>() {
            return Ok(Value::from(i));
        }
        let radix = |p: &str, base| {
            let (neg, digits) = match tok.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, tok.trim_start_matches('+')),
            };
            digits
                .strip_prefix(p)
                .and_then(|d| i64::from_str_radix(d, base).ok())
                .map(|v| if neg { -v } else { v })
        };
        for (p, base) in [("0x", 16), ("0o", 8), ("0b", 2)] {
            if let Some(v) = radix(p, base) {
                return Ok(Value::from(v));
            }
        }
        match tok.parse::<f64>() {
            Ok(f) if f.is_finite() && !tok.contains(['i', 'n', 'N', 'I']) => {
                Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number))
            }
            _ => Err(self
                .error(at, format!("the number or expression '{tok}' is not supported (CUE data subset)"))),
        }
    }

    fn string(&mut self) -> Result<String, InputError> {
        let start = self.pos;
        if self.rest().starts_with("\"\"\"") {
            // A multi-line string: the lines after the opening, less the closing line's indentation.
            let body = &self.rest()[3..];
            let Some(end) = body.find("\"\"\"") else {
                return Err(self.error(start, "\"\"\" string not closed"));
            };
            let raw = &body[..end];
            self.pos += 3 + end + 3;
            let raw = raw.strip_prefix('\n').or_else(|| raw.strip_prefix("\r\n")).unwrap_or(raw);
            let indent = raw.rsplit('\n').next().unwrap_or("");
            let lines: Vec<&str> = raw.split('\n').collect();
            let kept = &lines[..lines.len().saturating_sub(1)];
            let text: Vec<&str> = kept.iter().map(|l| l.strip_prefix(indent).unwrap_or(l)).collect();
            return unescape(&text.join("\n")).map_err(|m| self.error(start, m));
        }
        let body = &self.rest()[1..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                '\n' => break,
                '\\' if !escaped => {
                    escaped = true;
                    continue;
                }
                '"' if !escaped => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
            escaped = false;
        }
        let Some(end) = end else { return Err(self.error(start, "string not closed on its line")) };
        let raw = body[..end].to_string();
        self.pos += 1 + end + 1;
        if raw.contains("\\(") {
            return Err(self.error(start, "string interpolation is not supported (CUE data subset)"));
        }
        unescape(&raw).map_err(|m| self.error(start, m))
    }
}

fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let c = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                out.push(c.ok_or_else(|| format!("invalid escape \\u{hex}"))?);
            }
            other => return Err(format!("invalid escape \\{}", other.unwrap_or(' '))),
        }
    }
    Ok(out)
}

/// CUE unification of a field given twice: structs merge, equal values agree, others conflict.
fn unify(into: &mut Map<String, Value>, key: String, v: Value) -> Result<(), String> {
    match into.get_mut(&key) {
        None => {
            into.insert(key, v);
            Ok(())
        }
        Some(Value::Object(existing)) => match v {
            Value::Object(m) => {
                for (k, v) in m {
                    unify(existing, k, v)?;
                }
                Ok(())
            }
            other => Err(format!("conflicting values for {key}: a struct and {other}")),
        },
        Some(existing) if *existing == v => Ok(()),
        Some(existing) => Err(format!("conflicting values for {key}: {existing} and {v}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_cue_gives_its_json() {
        let text = r#"package k8s

// a Deployment
apiVersion: "apps/v1"
kind:       "Deployment"
metadata: name: "hello"
#Port: 8080
_hidden: 1
spec: {
	replicas: 3, paused: false
	template: spec: containers: [{
		name:  "c"
		ports: [{containerPort: 8081}, {containerPort: 0x10}]
	}]
	note: """
		two
		lines
		"""
}
spec: template: metadata: labels: app: "hello"
"#;
        assert_eq!(
            parse(text).expect("cue"),
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "hello"},
                "spec": {"replicas": 3, "paused": false, "note": "two\nlines",
                    "template": {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8081}, {"containerPort": 16}]}]},
                        "metadata": {"labels": {"app": "hello"}}}},
            })
        );
    }

    #[test]
    fn constructs_outside_the_data_subset_are_named() {
        for (text, word, line) in [
            ("a: 1\nb: a\n", "reference 'a'", 2),
            ("a: int\n", "type 'int'", 1),
            ("a: 1 | 2\n", "'|", 1),
            ("a?: 1\n", "optional", 1),
            ("import \"strings\"\n", "import", 1),
            ("a: [1, ...]\n", "open lists", 1),
            ("a: 1\na: 2\n", "conflicting", 2),
            ("a: \"x\\(b)\"\n", "interpolation", 1),
        ] {
            let e = parse(text).expect_err(text);
            assert!(e.message.contains(word) && e.line == line, "{text:?}: {e:?}");
        }
        assert!(parse(&"a: {".repeat(10_000)).is_err() && parse("a: \"open").is_err());
    }
}
