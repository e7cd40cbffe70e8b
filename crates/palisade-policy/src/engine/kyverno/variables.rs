//! Kyverno variables: `{{ expression }}` in any string of a rule is replaced by the JMESPath expression's
//! result over the rule's context (`request`, `serviceAccountName`, `element`, `elementIndex`, context
//! entries, values supplied from outside). A string that is exactly one variable takes the result's type
//! (a list stays a list); otherwise the results are spliced in as text. `\{{` escapes a variable.

use super::jmespath_fns::search;
use serde_json::{Map, Value};

/// Set `value` at the dotted `path` of `data` (creating maps on the way).
pub fn set_path(data: &mut Value, path: &str, value: Value) {
    let mut cur = data;
    let parts = split_path(path);
    for (i, p) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Some(obj) = cur.as_object_mut() else { return };
        if i == parts.len() - 1 {
            obj.insert(p.to_string(), value);
            return;
        }
        cur = obj.entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Split a dotted path; `"quoted.segments"` keep their dots.
pub fn split_path(path: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in path.chars() {
        match c {
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// Evaluate one variable's expression.
pub fn eval(expr: &str, data: &Value) -> Result<Value, String> {
    let expr = expr.trim();
    if expr == "@" {
        return Ok(data.get("@").cloned().unwrap_or(Value::Null));
    }
    search(expr, data).map_err(|e| format!("variable {{{{{expr}}}}}: {e}"))
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Substitute the variables of one string. Unresolved variables (a null result) are errors naming them.
pub fn substitute_str(s: &str, data: &Value) -> Result<Value, String> {
    substitute_str_with(s, data, false)
}

/// The innermost `{{ ... }}` of `s` that is not escaped: its byte range including the braces.
fn innermost(s: &str) -> Option<(usize, usize)> {
    let close = s.find("}}")?;
    let open = s[..close].rfind("{{")?;
    if open > 0 && s.as_bytes()[open - 1] == b'\\' {
        return None;
    }
    Some((open, close + 2))
}

/// As [`substitute_str`]; with `lenient`, an unresolved variable becomes `null` (conditions read it so).
/// Nested variables (`{{ divide('{{ a }}', '{{ b }}') }}`) are resolved innermost first.
pub fn substitute_str_with(s: &str, data: &Value, lenient: bool) -> Result<Value, String> {
    if !s.contains("{{") {
        return Ok(Value::String(s.to_string()));
    }
    let mut text = s.to_string();
    while let Some((open, end)) = innermost(&text) {
        let inner = text[open + 2..end - 2].to_string();
        let v = eval(&inner, data)?;
        if v.is_null() && !lenient {
            return Err(format!("variable {{{{{}}}}} could not be resolved", inner.trim()));
        }
        // A string that is exactly one variable keeps the result's type.
        if open == 0 && end == text.len() && text.trim() == text {
            return Ok(v);
        }
        if text[..open].trim().is_empty() && text[end..].trim().is_empty() {
            return Ok(v);
        }
        text = format!("{}{}{}", &text[..open], as_text(&v), &text[end..]);
    }
    Ok(Value::String(text.replace("\\{{", "{{")))
}

/// Substitute every string (keys included) of `v`.
pub fn substitute(v: &Value, data: &Value) -> Result<Value, String> {
    substitute_with(v, data, false)
}

/// As [`substitute`]; `lenient` as in [`substitute_str_with`].
pub fn substitute_with(v: &Value, data: &Value, lenient: bool) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => substitute_str_with(s, data, lenient)?,
        Value::Array(a) => {
            Value::Array(a.iter().map(|x| substitute_with(x, data, lenient)).collect::<Result<_, _>>()?)
        }
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                let key = if k.contains("{{") {
                    as_text(&substitute_str_with(k, data, lenient)?)
                } else {
                    k.clone()
                };
                out.insert(key, substitute_with(x, data, lenient)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn substitution() {
        let d = json!({"request": {"object": {"metadata": {"name": "web", "labels": {"a": "1"}}}}, "list": [1, 2]});
        assert_eq!(substitute_str("{{ request.object.metadata.name }}", &d).unwrap(), json!("web"));
        assert_eq!(substitute_str("{{list}}", &d).unwrap(), json!([1, 2]));
        assert_eq!(
            substitute_str("name-{{request.object.metadata.name}}-{{list[0]}}", &d).unwrap(),
            json!("name-web-1")
        );
        assert!(
            substitute_str("{{request.object.missing}}", &d).unwrap_err().contains("request.object.missing")
        );
        assert_eq!(substitute_str("\\{{x}}", &d).unwrap(), json!("{{x}}"));
        assert_eq!(
            substitute_str("{{ to_upper('{{request.object.metadata.name}}') }}", &d).unwrap(),
            json!("WEB")
        );
        let mut v = json!({});
        set_path(&mut v, "request.operation", json!("UPDATE"));
        assert_eq!(v, json!({"request": {"operation": "UPDATE"}}));
    }
}
