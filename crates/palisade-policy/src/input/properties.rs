//! Java `.properties` input (`java-properties`), as conftest reads it: a map of strings.

use super::InputError;
use serde_json::Value;

pub fn parse(text: &str) -> Result<Value, InputError> {
    let map = java_properties::read(text.as_bytes())
        .map_err(|e| InputError::new(e.line_number().unwrap_or(0), 0, e.to_string()))?;
    Ok(Value::Object(map.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_and_continuations() {
        let v = parse("# c\na.url=https://x/\nlong = one \\\n  two\nb:c\n").expect("properties");
        assert_eq!(v, json!({"a.url": "https://x/", "long": "one two", "b": "c"}));
    }
}
