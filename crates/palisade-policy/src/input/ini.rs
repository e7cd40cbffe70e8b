//! INI input (`rust-ini`), as conftest reads it: one object per named section (keys outside any section are
//! left out, as conftest leaves out go-ini's `DEFAULT` section); a value that reads as a number becomes a
//! number, `true`/`false` a boolean, anything else stays text.

use super::InputError;
use serde_json::{Map, Value};

pub fn parse(text: &str) -> Result<Value, InputError> {
    let ini = ini::Ini::load_from_str(text).map_err(|e| InputError::new(e.line, e.col, e.msg.to_string()))?;
    let mut out = Map::new();
    for (section, props) in ini.iter() {
        let Some(section) = section else { continue };
        let entry = out.entry(section.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(keys) = entry {
            for (k, v) in props.iter() {
                keys.insert(k.to_string(), typed(v));
            }
        }
    }
    Ok(Value::Object(out))
}

/// conftest converts each value: a number (Go's `ParseFloat`), else a boolean (`ParseBool`), else text.
fn typed(v: &str) -> Value {
    if let Ok(i) = v.parse::<i64>() {
        return Value::from(i);
    }
    if let Ok(f) = v.parse::<f64>()
        && f.is_finite()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Value::Number(n);
    }
    match v {
        "t" | "T" | "TRUE" | "true" | "True" => Value::Bool(true),
        "f" | "F" | "FALSE" | "false" | "False" => Value::Bool(false),
        _ => Value::String(v.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sections_with_typed_values() {
        let v = parse("top = 1\n[server]\nhttp_port = 3000\nprotocol = http\n[auth.basic]\nenabled = true\nratio = 0.5\n")
            .expect("ini");
        assert_eq!(
            v,
            json!({"server": {"http_port": 3000, "protocol": "http"}, "auth.basic": {"enabled": true, "ratio": 0.5}})
        );
        let e = parse("[open\nx = 1\n").expect_err("unclosed section");
        assert!(e.line >= 1, "{e:?}");
    }
}
