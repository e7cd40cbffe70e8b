//! `.env` input (`dotenvy`'s parser, without touching the process environment), as conftest reads it: a
//! map of strings.

use super::InputError;
use serde_json::{Map, Value};

pub fn parse(text: &str) -> Result<Value, InputError> {
    let mut out = Map::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        let (k, v) = item.map_err(|e| match &e {
            dotenvy::Error::LineParse(line, col) => {
                let n = text.lines().position(|l| l == line).map_or(0, |i| i + 1);
                InputError::new(n, col + 1, format!("cannot parse {line:?}"))
            }
            other => InputError::new(0, 0, other.to_string()),
        })?;
        out.insert(k, Value::String(v));
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_quotes_and_comments() {
        let v = parse("# c\nAPP_NAME=test\nQUOTED=\"a b\"\nexport E=1\n").expect("env");
        assert_eq!(v, json!({"APP_NAME": "test", "QUOTED": "a b", "E": "1"}));
        assert!(parse("BAD LINE\n").is_err());
    }
}
