//! Kyverno validate patterns: an overlay of the resource where every field in the pattern must be present
//! and match, with anchors on keys — `(key)` conditional (the pattern applies only if it matches),
//! `<(key)` global conditional (else the whole rule is skipped), `=(key)` equality (checked only when
//! present), `X(key)` negation (must be absent), `^(key)` existence (at least one list element matches),
//! `+(key)` (a mutate anchor; read as `=(key)`) — and operators in scalar values: wildcards `*`/`?`,
//! alternatives `a | b`, conjunctions `>1 & <5`, `!`, `>`, `>=`, `<`, `<=`, ranges `1-5` and `1!-5`,
//! compared as numbers, Kubernetes quantities or durations when both sides parse.

use super::jmespath_fns::wildcard;
use crate::engine::cel::library::quantity_value;
use serde_json::{Map, Value};

/// Why a pattern did not pass.
#[derive(Debug, Clone, PartialEq)]
pub enum Mismatch {
    /// A real violation at a path.
    Fail(String),
    /// A conditional anchor did not match: the (sub)pattern does not apply.
    Skip(String),
    /// A global anchor did not match: the rule does not apply.
    GlobalSkip(String),
}

enum Anchor<'a> {
    None(&'a str),
    Conditional(&'a str),
    Global(&'a str),
    Equality(&'a str),
    Negation(&'a str),
    Existence(&'a str),
}

fn anchor(key: &str) -> Anchor<'_> {
    let inner = |prefix: &str| key.strip_prefix(prefix).and_then(|k| k.strip_suffix(')'));
    if let Some(k) = inner("(") {
        Anchor::Conditional(k)
    } else if let Some(k) = inner("<(") {
        Anchor::Global(k)
    } else if let Some(k) = inner("=(").or_else(|| inner("+(")) {
        Anchor::Equality(k)
    } else if let Some(k) = inner("X(") {
        Anchor::Negation(k)
    } else if let Some(k) = inner("^(") {
        Anchor::Existence(k)
    } else {
        Anchor::None(key)
    }
}

/// Validate `resource` against `pattern`: global anchors anywhere in the pattern's maps first (any
/// mismatch skips the rule), then the overlay.
pub fn validate_rule(resource: &Value, pattern: &Value) -> Result<(), Mismatch> {
    globals(Some(resource), pattern, "")?;
    validate(Some(resource), pattern, "")
}

fn globals(resource: Option<&Value>, pattern: &Value, path: &str) -> Result<(), Mismatch> {
    let Value::Object(p) = pattern else { return Ok(()) };
    let r = resource.and_then(Value::as_object);
    for (k, pv) in p {
        match anchor(k) {
            Anchor::Global(key)
                if validate(r.and_then(|r| r.get(key)), pv, &format!("{path}/{key}")).is_err() =>
            {
                return Err(Mismatch::GlobalSkip(format!("{path}/{key}: global anchor does not match")));
            }
            Anchor::None(key) | Anchor::Equality(key) | Anchor::Conditional(key) => {
                globals(r.and_then(|r| r.get(key)), pv, &format!("{path}/{key}"))?
            }
            _ => {}
        }
    }
    Ok(())
}

/// Validate `resource` against `pattern`; `path` names where we are, for messages.
pub fn validate(resource: Option<&Value>, pattern: &Value, path: &str) -> Result<(), Mismatch> {
    match pattern {
        Value::Object(p) => match resource {
            Some(Value::Object(r)) => validate_map(r, p, path),
            None | Some(Value::Null) => Err(Mismatch::Fail(format!("{path}: field is required"))),
            Some(_) => Err(Mismatch::Fail(format!("{path}: expected an object"))),
        },
        Value::Array(p) => match resource {
            Some(Value::Array(r)) => validate_array(r, p, path),
            None | Some(Value::Null) => Err(Mismatch::Fail(format!("{path}: field is required"))),
            Some(_) => Err(Mismatch::Fail(format!("{path}: expected a list"))),
        },
        scalar => {
            if scalar_matches(resource, scalar) {
                Ok(())
            } else {
                let got = resource.map(|v| v.to_string()).unwrap_or_else(|| "nothing".into());
                Err(Mismatch::Fail(format!("{path}: value {got} does not match {scalar}")))
            }
        }
    }
}

fn validate_map(r: &Map<String, Value>, p: &Map<String, Value>, path: &str) -> Result<(), Mismatch> {
    // Anchors that decide whether the pattern applies go first.
    for (k, pv) in p {
        let sub = |k: &str| format!("{path}/{k}");
        match anchor(k) {
            Anchor::Conditional(key) => match validate(r.get(key), pv, &sub(key)) {
                Ok(()) => {}
                Err(Mismatch::GlobalSkip(m)) => return Err(Mismatch::GlobalSkip(m)),
                Err(Mismatch::Fail(m) | Mismatch::Skip(m)) => return Err(Mismatch::Skip(m)),
            },
            Anchor::Global(key) => match validate(r.get(key), pv, &sub(key)) {
                Ok(()) => {}
                Err(Mismatch::Fail(m) | Mismatch::Skip(m) | Mismatch::GlobalSkip(m)) => {
                    return Err(Mismatch::GlobalSkip(m));
                }
            },
            _ => {}
        }
    }
    // Keys whose values hold anchors go before the others, as in Kyverno, so that a nested conditional
    // decides whether the rest applies before the rest can fail.
    let mut keys: Vec<(&String, &Value)> = p.iter().collect();
    keys.sort_by_key(|(_, v)| !has_anchor(v));
    for (k, pv) in keys {
        let sub = |k: &str| format!("{path}/{k}");
        match anchor(k) {
            Anchor::Conditional(_) | Anchor::Global(_) => {}
            Anchor::Equality(key) => {
                if let Some(rv) = r.get(key) {
                    validate(Some(rv), pv, &sub(key))?;
                }
            }
            Anchor::Negation(key) => {
                if r.get(key).is_some() {
                    return Err(Mismatch::Fail(format!("{}: field is not allowed", sub(key))));
                }
            }
            Anchor::Existence(key) => {
                let Some(Value::Array(items)) = r.get(key) else {
                    return Err(Mismatch::Fail(format!("{}: expected a list", sub(key))));
                };
                let elem = match pv {
                    Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
                    other => other.clone(),
                };
                if !items.iter().any(|i| validate(Some(i), &elem, &sub(key)).is_ok()) {
                    return Err(Mismatch::Fail(format!("{}: no element matches", sub(key))));
                }
            }
            Anchor::None(key) => validate(r.get(key), pv, &sub(key))?,
        }
    }
    Ok(())
}

/// Whether a pattern value holds a conditional or global anchor at any depth.
fn has_anchor(v: &Value) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| matches!(anchor(k), Anchor::Conditional(_) | Anchor::Global(_)) || has_anchor(v)),
        Value::Array(a) => a.iter().any(has_anchor),
        _ => false,
    }
}

fn validate_array(r: &[Value], p: &[Value], path: &str) -> Result<(), Mismatch> {
    if p.len() == 1 || p.iter().all(|x| x.is_object()) {
        // Elements whose conditional (or global) anchors do not match are skipped; when every element
        // is skipped, so is the list.
        let elem = &p[0];
        let mut skipped = None;
        let mut count = 0;
        for (i, item) in r.iter().enumerate() {
            match validate(Some(item), elem, &format!("{path}/{i}")) {
                Ok(()) => {}
                Err(Mismatch::Skip(m) | Mismatch::GlobalSkip(m)) => {
                    count += 1;
                    skipped = Some(m);
                }
                Err(e) => return Err(e),
            }
        }
        return match skipped {
            Some(m) if count == r.len() => Err(Mismatch::Skip(m)),
            _ => Ok(()),
        };
    }
    if r.len() != p.len() {
        return Err(Mismatch::Fail(format!("{path}: expected {} elements, found {}", p.len(), r.len())));
    }
    for (i, (item, pv)) in r.iter().zip(p).enumerate() {
        validate(Some(item), pv, &format!("{path}/{i}"))?;
    }
    Ok(())
}

/// A number, quantity or duration (in seconds) read from text.
fn numeric(t: &str) -> Option<f64> {
    let t = t.trim();
    if let Some(q) = quantity_value(t) {
        return Some(q);
    }
    duration(t)
}

/// A Go duration (`1h30m`, `10s`, `500ms`) in seconds.
pub fn duration(t: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut rest = t;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if n_end == 0 {
            return None;
        }
        let n: f64 = rest[..n_end].parse().ok()?;
        rest = &rest[n_end..];
        let u_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = match &rest[..u_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += n * unit;
        rest = &rest[u_end..];
    }
    Some(total)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether a scalar resource value matches a scalar pattern value.
pub fn scalar_matches(resource: Option<&Value>, pattern: &Value) -> bool {
    match pattern {
        Value::Null => resource.is_none_or(Value::is_null),
        Value::Bool(b) => match resource {
            Some(Value::Bool(r)) => r == b,
            Some(Value::String(s)) => s == &b.to_string(),
            _ => false,
        },
        Value::Number(n) => match resource {
            Some(Value::Number(r)) => r.as_f64() == n.as_f64(),
            Some(Value::String(s)) => s.parse::<f64>().ok() == n.as_f64(),
            _ => false,
        },
        Value::String(p) => {
            let Some(r) = resource else { return false };
            if r.is_object() || r.is_array() {
                return p == "*";
            }
            let text = text_of(r);
            p.split('|').any(|alt| alt.split('&').all(|op| operand_matches(&text, r, op.trim())))
        }
        _ => false,
    }
}

fn compare(text: &str, want: &str, ok: fn(std::cmp::Ordering) -> bool) -> bool {
    match (numeric(text), numeric(want)) {
        (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(ok),
        _ => false,
    }
}

fn operand_matches(text: &str, raw: &Value, op: &str) -> bool {
    if let Some(w) = op.strip_prefix(">=") {
        return compare(text, w, |o| o.is_ge());
    }
    if let Some(w) = op.strip_prefix("<=") {
        return compare(text, w, |o| o.is_le());
    }
    if let Some(w) = op.strip_prefix('>') {
        return compare(text, w, |o| o.is_gt());
    }
    if let Some(w) = op.strip_prefix('<') {
        return compare(text, w, |o| o.is_lt());
    }
    if let Some(w) = op.strip_prefix('!') {
        return !equal(text, raw, w);
    }
    if let Some((a, b)) = op.split_once("!-")
        && let (Some(lo), Some(hi), Some(v)) = (numeric(a), numeric(b), numeric(text))
    {
        return v < lo || v > hi;
    }
    if let Some((a, b)) = op.split_once('-')
        && !a.is_empty()
        && let (Some(lo), Some(hi), Some(v)) = (numeric(a), numeric(b), numeric(text))
    {
        return v >= lo && v <= hi;
    }
    equal(text, raw, op)
}

fn equal(text: &str, raw: &Value, want: &str) -> bool {
    if want.contains('*') || want.contains('?') {
        return wildcard(want, text);
    }
    if text == want {
        return true;
    }
    // Numbers and quantities compare by value (`1` matches `1.0`, `1Gi` matches `1024Mi`).
    if !raw.is_boolean()
        && let (Some(a), Some(b)) = (quantity_value(text), quantity_value(want))
    {
        return a == b;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(r: Value, p: Value) -> Result<(), Mismatch> {
        validate(Some(&r), &p, "")
    }

    #[test]
    fn anchors_and_operators() {
        let pod = json!({"spec": {"hostNetwork": false, "containers": [{"name": "a", "image": "nginx:1.2", "resources": {"limits": {"memory": "1Gi"}}}]}});
        assert!(check(pod.clone(), json!({"spec": {"containers": [{"image": "!*:latest"}]}})).is_ok());
        assert!(matches!(
            check(pod.clone(), json!({"spec": {"containers": [{"image": "*:latest"}]}})),
            Err(Mismatch::Fail(_))
        ));
        assert!(check(pod.clone(), json!({"spec": {"=(hostPID)": false, "containers": [{"resources": {"limits": {"memory": "<=2Gi"}}}]}})).is_ok());
        assert!(matches!(
            check(pod.clone(), json!({"spec": {"(hostNetwork)": true, "containers": [{"name": "b"}]}})),
            Err(Mismatch::Skip(_))
        ));
        assert!(matches!(
            check(pod.clone(), json!({"spec": {"X(hostNetwork)": "null"}})),
            Err(Mismatch::Fail(_))
        ));
        assert!(check(pod.clone(), json!({"spec": {"^(containers)": [{"name": "a"}]}})).is_ok());
        assert!(matches!(
            check(pod.clone(), json!({"spec": {"<(hostNetwork)": true}})),
            Err(Mismatch::GlobalSkip(_))
        ));
        // Every element skipped by its conditional anchor: the list (and the pattern) is skipped.
        assert!(matches!(
            check(pod.clone(), json!({"spec": {"containers": [{"(name)": "b", "image": "x"}]}})),
            Err(Mismatch::Skip(_))
        ));
        assert!(
            check(pod.clone(), json!({"spec": {"containers": [{"(name)": "a", "image": "nginx:*"}]}}))
                .is_ok()
        );
        assert!(
            scalar_matches(Some(&json!(3)), &json!("1-5"))
                && !scalar_matches(Some(&json!(3)), &json!("1!-5"))
        );
        assert!(
            scalar_matches(Some(&json!("b")), &json!("a | b"))
                && scalar_matches(Some(&json!(4)), &json!(">1 & <5"))
        );
        assert!(scalar_matches(Some(&json!("90s")), &json!(">1m")));
        assert!(
            scalar_matches(Some(&json!("x")), &json!("?*"))
                && !scalar_matches(Some(&json!("")), &json!("?*"))
        );
    }
}
