//! Kyverno conditions (`preconditions`, `deny.conditions`): `{any: [...], all: [...]}` or a plain list (all
//! must hold), each `{key, operator, value}` with variables substituted. Operators: `Equals`, `NotEquals`,
//! `In`, `NotIn`, `AnyIn`, `AllIn`, `AnyNotIn`, `AllNotIn`, `GreaterThan`, `GreaterThanOrEquals`,
//! `LessThan`, `LessThanOrEquals` and the `Duration…` forms (numbers, quantities and durations compare by
//! value; string values may hold wildcards).

use super::jmespath_fns::wildcard;
use super::pattern::duration;
use super::variables::substitute_with;
use crate::engine::cel::library::quantity_value;
use serde_json::Value;

/// Whether `conditions` hold for `data`; the error names the bad condition or variable.
pub fn evaluate(conditions: &Value, data: &Value) -> Result<bool, String> {
    match conditions {
        Value::Null => Ok(true),
        Value::Array(list) => all(list, data),
        Value::Object(m) => {
            let all_ok = match m.get("all") {
                Some(Value::Array(l)) => all(l, data)?,
                _ => true,
            };
            if !all_ok {
                return Ok(false);
            }
            match m.get("any") {
                Some(Value::Array(l)) if !l.is_empty() => {
                    for c in l {
                        if one(c, data)? {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                }
                _ => Ok(true),
            }
        }
        _ => Err("conditions must be a list or {any, all}".into()),
    }
}

/// The message of the first condition in `conditions` that holds (deny rules report it), if any.
pub fn first_message(conditions: &Value, data: &Value) -> Option<String> {
    let lists: Vec<&Value> = match conditions {
        Value::Array(_) => vec![conditions],
        Value::Object(m) => ["any", "all"].iter().filter_map(|k| m.get(*k)).collect(),
        _ => Vec::new(),
    };
    lists
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .find(|c| one(c, data).unwrap_or(false))
        .and_then(|c| c.get("message").and_then(Value::as_str).map(str::to_owned))
}

/// Why `conditions` do not hold for `data` (attestation conditions, where the failing condition is the
/// news): each failing condition of `all` (or every condition of an `any` none of which holds) as
/// `all[1]: {{ key }} GreaterThan 5 (key is 3): message`. Empty when they hold; the error names a bad
/// condition or variable.
pub fn failing(conditions: &Value, data: &Value) -> Result<Vec<String>, String> {
    let describe = |list: &str, i: usize, c: &Value| -> Result<String, String> {
        let key = substitute_with(c.get("key").unwrap_or(&Value::Null), data, true)?;
        let op = c.get("operator").and_then(Value::as_str).unwrap_or("Equals");
        let shown = |v: Option<&Value>| match v {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => "null".into(),
        };
        let message = c.get("message").and_then(Value::as_str).map(|m| format!(": {m}")).unwrap_or_default();
        Ok(format!(
            "{list}[{i}]: {} {op} {} (key is {}){message}",
            shown(c.get("key")),
            shown(c.get("value")),
            shown(Some(&key))
        ))
    };
    let (all_list, any_list): (&[Value], &[Value]) = match conditions {
        Value::Null => return Ok(Vec::new()),
        Value::Array(l) => (l, &[]),
        Value::Object(m) => (
            m.get("all").and_then(Value::as_array).map_or(&[], Vec::as_slice),
            m.get("any").and_then(Value::as_array).map_or(&[], Vec::as_slice),
        ),
        _ => return Err("conditions must be a list or {any, all}".into()),
    };
    let mut out = Vec::new();
    for (i, c) in all_list.iter().enumerate() {
        if !one(c, data)? {
            out.push(describe("all", i, c)?);
        }
    }
    let mut any_ok = any_list.is_empty();
    for c in any_list {
        any_ok = any_ok || one(c, data)?;
    }
    if !any_ok {
        let each: Result<Vec<String>, String> =
            any_list.iter().enumerate().map(|(i, c)| describe("any", i, c)).collect();
        out.push(format!("none of: {}", each?.join("; ")));
    }
    Ok(out)
}

fn all(list: &[Value], data: &Value) -> Result<bool, String> {
    for c in list {
        if !one(c, data)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn one(c: &Value, data: &Value) -> Result<bool, String> {
    let key = substitute_with(c.get("key").unwrap_or(&Value::Null), data, true)?;
    let value = substitute_with(c.get("value").unwrap_or(&Value::Null), data, true)?;
    let op = c.get("operator").and_then(Value::as_str).unwrap_or("Equals");
    operate(op, &key, &value)
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => quantity_value(s).or_else(|| duration(s)),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Kyverno's equality: deep equality, numbers/quantities/durations by value, wildcards in string values.
pub fn equals(key: &Value, value: &Value) -> bool {
    if key == value {
        return true;
    }
    // An unresolved variable reads as the empty string.
    if key.is_null() && value.as_str() == Some("") || value.is_null() && key.as_str() == Some("") {
        return true;
    }
    match (key, value) {
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => false,
        (_, Value::String(v)) if v.contains('*') || v.contains('?') => {
            text(key).is_some_and(|k| wildcard(v, &k))
        }
        (Value::Bool(_), _) | (_, Value::Bool(_)) => text(key) == text(value),
        _ => match (number(key), number(value)) {
            (Some(a), Some(b)) => a == b,
            _ => text(key).is_some() && text(key) == text(value),
        },
    }
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn contained(item: &Value, set: &Value) -> bool {
    // A ConfigMap holds lists as JSON text (`'["a", "b"]'`): Kyverno reads them as lists.
    if let Value::String(s) = set
        && s.trim_start().starts_with('[')
        && let Ok(list @ Value::Array(_)) = serde_json::from_str::<Value>(s)
    {
        return contained(item, &list);
    }
    // A wildcard in the key matches the set's elements (`A=*` is in `["A=x"]`).
    if let Value::String(k) = item
        && (k.contains('*') || k.contains('?'))
        && let Value::Array(a) = set
    {
        return a.iter().any(|s| text(s).is_some_and(|t| wildcard(k, &t)) || equals(item, s));
    }
    match set {
        Value::Array(a) => a.iter().any(|s| equals(item, s)),
        Value::String(s) => equals(item, &Value::String(s.clone())),
        other => equals(item, other),
    }
}

fn compare(key: &Value, value: &Value, ok: fn(std::cmp::Ordering) -> bool) -> bool {
    match (number(key), number(value)) {
        (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(ok),
        _ => false,
    }
}

/// Apply one operator.
pub fn operate(op: &str, key: &Value, value: &Value) -> Result<bool, String> {
    let keys = as_list(key);
    Ok(match op {
        "Equals" | "Equal" => equals(key, value),
        "NotEquals" | "NotEqual" => !equals(key, value),
        "In" | "AllIn" => !keys.is_empty() && keys.iter().all(|k| contained(k, value)),
        "NotIn" => !keys.iter().all(|k| contained(k, value)) || keys.is_empty() && !key.is_null(),
        "AnyIn" => keys.iter().any(|k| contained(k, value)),
        "AnyNotIn" => keys.iter().any(|k| !contained(k, value)),
        "AllNotIn" => keys.iter().all(|k| !contained(k, value)),
        "GreaterThan" | "DurationGreaterThan" => compare(key, value, |o| o.is_gt()),
        "GreaterThanOrEquals" | "DurationGreaterThanOrEquals" => compare(key, value, |o| o.is_ge()),
        "LessThan" | "DurationLessThan" => compare(key, value, |o| o.is_lt()),
        "LessThanOrEquals" | "DurationLessThanOrEquals" => compare(key, value, |o| o.is_le()),
        other => return Err(format!("unknown condition operator {other:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operators_and_blocks() {
        let d = json!({"request": {"operation": "CREATE", "object": {"spec": {"replicas": 3}, "metadata": {"labels": {"a": "x"}}}}});
        let c = json!({"any": [{"key": "{{request.operation}}", "operator": "Equals", "value": "UPDATE"},
                               {"key": "{{request.object.spec.replicas}}", "operator": "GreaterThan", "value": 2}]});
        assert_eq!(evaluate(&c, &d), Ok(true));
        let c = json!([{"key": "{{request.operation}}", "operator": "AnyIn", "value": ["CREATE", "UPDATE"]},
                       {"key": "{{request.object.metadata.labels.a}}", "operator": "NotEquals", "value": "y*"}]);
        assert_eq!(evaluate(&c, &d), Ok(true));
        assert_eq!(operate("AllIn", &json!(["a", "b"]), &json!(["a", "b", "c"])), Ok(true));
        assert_eq!(operate("AnyNotIn", &json!(["a", "d"]), &json!(["a", "b"])), Ok(true));
        assert_eq!(operate("LessThan", &json!("500m"), &json!("1")), Ok(true));
        assert_eq!(operate("DurationGreaterThan", &json!("2h"), &json!("90m")), Ok(true));
        assert!(operate("Bogus", &json!(1), &json!(1)).is_err());
    }
}
