//! EDN input (`*.edn`), in the shape conftest's EDN parser gives (olympos.io/encoding/edn, then every value
//! that is not a string, a list or a map printed with Go's `%v`): maps become objects keyed by the key's
//! text (`:db` for a keyword), lists and vectors become arrays, strings stay strings, and every other value
//! becomes its Go text: numbers (`5432`, `0.5`, `1e+21`), keywords (`:debug`), symbols, `true`/`false`,
//! `<nil>`, characters as their code point, sets as `map[:a:true :b:true]`, `#inst` as Go's time text
//! (`2032-01-01 12:20:50.52 +0000 UTC`) and other tagged values as `{tag value}`. `#_` discards a form.

use super::{InputError, MAX_DEPTH, line_col};
use serde_json::{Map, Value};

/// An EDN value as read.
#[derive(Debug, Clone)]
enum Edn {
    Nil,
    Bool(bool),
    /// An integer or float as Go prints it.
    Number(String),
    Str(String),
    Char(u32),
    Keyword(String),
    Symbol(String),
    List(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
    Set(Vec<Edn>),
    Inst(String),
    Tagged(String, Box<Edn>),
}

pub fn parse(text: &str) -> Result<Value, InputError> {
    let mut r = Reader { text, pos: 0 };
    let value = loop {
        r.skip_space();
        if r.pos >= text.len() {
            return Err(r.error("no EDN value"));
        }
        if let Some(v) = r.form(0)? {
            break v;
        }
    };
    r.skip_space();
    if r.pos < text.len() {
        return Err(r.error("text after the first EDN value"));
    }
    Ok(clean(&value))
}

/// conftest's clean-up: strings, lists and maps kept, every other value as Go's `%v` text.
fn clean(v: &Edn) -> Value {
    match v {
        Edn::Str(s) => Value::String(s.clone()),
        Edn::List(items) => Value::Array(items.iter().map(clean).collect()),
        Edn::Map(entries) => {
            let mut m = Map::new();
            for (k, v) in entries {
                m.insert(go_text(k), clean(v));
            }
            Value::Object(m)
        }
        other => Value::String(go_text(other)),
    }
}

/// Go's `%v` of the value olympos decodes.
fn go_text(v: &Edn) -> String {
    match v {
        Edn::Nil => "<nil>".into(),
        Edn::Bool(b) => b.to_string(),
        Edn::Number(n) => n.clone(),
        Edn::Str(s) | Edn::Symbol(s) => s.clone(),
        Edn::Char(c) => c.to_string(),
        Edn::Keyword(k) => format!(":{k}"),
        Edn::List(items) => format!("[{}]", items.iter().map(go_text).collect::<Vec<_>>().join(" ")),
        Edn::Map(entries) => {
            let mut parts: Vec<String> =
                entries.iter().map(|(k, v)| format!("{}:{}", go_text(k), go_text(v))).collect();
            parts.sort();
            format!("map[{}]", parts.join(" "))
        }
        Edn::Set(items) => {
            let mut parts: Vec<String> = items.iter().map(|i| format!("{}:true", go_text(i))).collect();
            parts.sort();
            format!("map[{}]", parts.join(" "))
        }
        Edn::Inst(t) => go_time(t),
        Edn::Tagged(tag, v) => format!("{{{tag} {}}}", go_text(v)),
    }
}

/// An RFC 3339 `#inst` as Go's `time.Time` prints it (`2006-01-02 15:04:05.999999999 -0700 MST`).
fn go_time(t: &str) -> String {
    let Some((date, rest)) = t.split_once('T') else { return t.to_string() };
    let (clock, zone) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => rest.split_at(i),
        None => (rest, "Z"),
    };
    let clock = match clock.split_once('.') {
        Some((hms, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() { hms.to_string() } else { format!("{hms}.{frac}") }
        }
        None => clock.to_string(),
    };
    if zone.eq_ignore_ascii_case("z") {
        return format!("{date} {clock} +0000 UTC");
    }
    let z = zone.replace(':', "");
    format!("{date} {clock} {z} {z}")
}

/// Go's `%v` of a float64: shortest digits, an exponent below 1e-4 and from 1e21.
fn go_float(f: f64) -> String {
    if f == 0.0 || !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f.is_infinite() {
            if f > 0.0 { "+Inf".into() } else { "-Inf".into() }
        } else {
            "0".into()
        };
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..21).contains(&exp) {
        format!("{f}")
    } else {
        format!("{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    }
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, message: impl Into<String>) -> InputError {
        let (line, column) = line_col(self.text, self.pos);
        InputError::new(line, column, message)
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ',' {
                self.pos += c.len_utf8();
            } else if c == ';' {
                let end = self.text[self.pos..].find('\n').map_or(self.text.len(), |i| self.pos + i);
                self.pos = end;
            } else {
                break;
            }
        }
    }

    /// The next form; `None` for a `#_` discard.
    fn form(&mut self, depth: usize) -> Result<Option<Edn>, InputError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("EDN nested deeper than {MAX_DEPTH} levels")));
        }
        self.skip_space();
        let Some(c) = self.peek() else { return Err(self.error("unexpected end of input")) };
        let v = match c {
            '(' | '[' => {
                self.bump();
                Edn::List(self.items(if c == '(' { ')' } else { ']' }, depth)?)
            }
            '{' => {
                self.bump();
                let items = self.items('}', depth)?;
                if items.len() % 2 == 1 {
                    return Err(self.error("a map with an odd number of forms"));
                }
                let mut it = items.into_iter();
                let mut entries = Vec::new();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    entries.push((k, v));
                }
                Edn::Map(entries)
            }
            ')' | ']' | '}' => return Err(self.error(format!("unexpected '{c}'"))),
            '"' => Edn::Str(self.string()?),
            '\\' => self.character()?,
            '#' => {
                self.bump();
                match self.peek() {
                    Some('{') => {
                        self.bump();
                        Edn::Set(self.items('}', depth)?)
                    }
                    Some('_') => {
                        self.bump();
                        while self.form(depth + 1)?.is_none() {}
                        return Ok(None);
                    }
                    _ => {
                        let tag = self.token();
                        if tag.is_empty() {
                            return Err(self.error("'#' without a tag"));
                        }
                        let value = loop {
                            if let Some(v) = self.form(depth + 1)? {
                                break v;
                            }
                        };
                        match (tag.as_str(), &value) {
                            ("inst", Edn::Str(s)) => Edn::Inst(s.clone()),
                            ("uuid", Edn::Str(s)) => Edn::Str(s.clone()),
                            _ => Edn::Tagged(tag, Box::new(value)),
                        }
                    }
                }
            }
            _ => {
                let start = self.pos;
                let tok = self.token();
                if tok.is_empty() {
                    return Err(self.error(format!("unexpected character {c:?}")));
                }
                self.atom(&tok).map_err(|m| {
                    self.pos = start;
                    self.error(m)
                })?
            }
        };
        Ok(Some(v))
    }

    fn items(&mut self, close: char, depth: usize) -> Result<Vec<Edn>, InputError> {
        let mut out = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                None => return Err(self.error(format!("'{close}' expected before the end of input"))),
                Some(c) if c == close => {
                    self.bump();
                    return Ok(out);
                }
                Some(_) => {
                    if let Some(v) = self.form(depth + 1)? {
                        out.push(v);
                    }
                }
            }
        }
    }

    /// A symbol, keyword, number or literal: up to whitespace or a delimiter.
    fn token(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '[' | ']' | '{' | '}' | '"') {
                break;
            }
            if c == '\\' && self.pos > start {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.text[start..self.pos].to_string()
    }

    fn atom(&self, tok: &str) -> Result<Edn, String> {
        Ok(match tok {
            "nil" => Edn::Nil,
            "true" => Edn::Bool(true),
            "false" => Edn::Bool(false),
            _ if tok.starts_with(':') => {
                if tok.len() == 1 {
                    return Err("a keyword without a name".into());
                }
                Edn::Keyword(tok[1..].to_string())
            }
            _ if tok.starts_with(|c: char| c.is_ascii_digit())
                || (tok.len() > 1
                    && tok.starts_with(['+', '-'])
                    && tok[1..].starts_with(|c: char| c.is_ascii_digit())) =>
            {
                number(tok)?
            }
            _ => Edn::Symbol(tok.to_string()),
        })
    }

    fn string(&mut self) -> Result<String, InputError> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            let Some(c) = self.bump() else {
                self.pos = start;
                return Err(self.error("string not closed"));
            };
            match c {
                '"' => return Ok(out),
                '\\' => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('u') => {
                        let hex: String = (0..4).filter_map(|_| self.bump()).collect();
                        let c = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                        out.push(c.ok_or_else(|| self.error(format!("invalid escape \\u{hex}")))?);
                    }
                    other => return Err(self.error(format!("invalid escape \\{}", other.unwrap_or(' ')))),
                },
                c => out.push(c),
            }
        }
    }

    fn character(&mut self) -> Result<Edn, InputError> {
        self.bump();
        let Some(first) = self.bump() else { return Err(self.error("'\\' at the end of input")) };
        let start = self.pos - first.len_utf8();
        let tok = format!("{first}{}", self.token());
        let code = match tok.as_str() {
            "newline" => Some(10),
            "space" => Some(32),
            "tab" => Some(9),
            "return" => Some(13),
            "backspace" => Some(8),
            "formfeed" => Some(12),
            t if t.chars().count() == 1 => Some(u32::from(first)),
            t if t.len() == 5 && t.starts_with('u') => u32::from_str_radix(&t[1..], 16).ok(),
            _ => None,
        };
        code.map(Edn::Char).ok_or_else(|| {
            self.pos = start;
            self.error(format!("invalid character \\{tok}"))
        })
    }
}

/// An integer (`N` suffix allowed) or float (`M` suffix allowed) as Go prints it.
fn number(tok: &str) -> Result<Edn, String> {
    let t = tok.strip_suffix(['N', 'M']).unwrap_or(tok);
    if let Ok(i) = t.parse::<i64>() {
        return Ok(Edn::Number(i.to_string()));
    }
    if tok.ends_with('N') && t.trim_start_matches(['+', '-']).chars().all(|c| c.is_ascii_digit()) {
        return Ok(Edn::Number(t.trim_start_matches('+').to_string()));
    }
    match t.parse::<f64>() {
        Ok(f) if !t.contains(['i', 'I', 'n', 'N']) => Ok(Edn::Number(go_float(f))),
        _ => Err(format!("invalid number {tok}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_as_conftest_prints_them() {
        let text = r#";; config
{:db {:user "me" :port 5432 :ratio 0.5 :big 1e21}
 :features #{:b :a} #_:all
 :when #inst "2032-01-01T12:20:50.520Z"
 :every #duration "20m"
 :keys ["k1" "k2" (1 nil true)]
 :ch \a
 :log :debug}"#;
        assert_eq!(
            parse(text).expect("edn"),
            json!({
                ":db": {":user": "me", ":port": "5432", ":ratio": "0.5", ":big": "1e+21"},
                ":features": "map[:a:true :b:true]",
                ":when": "2032-01-01 12:20:50.52 +0000 UTC",
                ":every": "{duration 20m}",
                ":keys": ["k1", "k2", ["1", "<nil>", "true"]],
                ":ch": "97",
                ":log": ":debug",
            })
        );
    }

    #[test]
    fn malformed_edn_is_an_error_with_a_position() {
        let e = parse("{:a 1\n :b}").expect_err("odd map");
        assert_eq!(e.line, 2, "{e:?}");
        let e = parse("{:a \"open}").expect_err("open string");
        assert_eq!((e.line, e.column), (1, 5), "{e:?}");
        let e = parse(&"[".repeat(100_000)).expect_err("deep");
        assert!(e.message.contains("deeper"), "{e:?}");
        assert!(parse("").is_err() && parse("1 2").is_err() && parse("#").is_err() && parse("\\").is_err());
    }
}
