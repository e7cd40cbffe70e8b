//! TOML input (the `toml` crate), as conftest reads it: the document, with dates and times as RFC 3339 text.

use super::{InputError, line_col};
use serde_json::Value;

pub fn parse(text: &str) -> Result<Value, InputError> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
        InputError::new(line, column, e.message().to_string())
    })?;
    Ok(convert(toml::Value::Table(doc)))
}

fn convert(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(convert).collect()),
        toml::Value::Table(t) => Value::Object(t.into_iter().map(|(k, v)| (k, convert(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_arrays_and_dates() {
        let v = parse("a = 1\n[s.t]\nx = [\"p\", \"q\"]\nwhen = 1979-05-27T07:32:00Z\n[[c]]\nn = 1.5\n")
            .expect("toml");
        assert_eq!(
            v,
            json!({"a": 1, "s": {"t": {"x": ["p", "q"], "when": "1979-05-27T07:32:00Z"}}, "c": [{"n": 1.5}]})
        );
        let e = parse("a = 1\nb = \n").expect_err("bad");
        assert_eq!(e.line, 2, "{e:?}");
    }
}
