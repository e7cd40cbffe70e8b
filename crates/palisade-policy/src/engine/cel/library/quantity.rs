//! Kubernetes' CEL quantity library: `quantity()`, `isQuantity()` and the methods `sign`, `isInteger`,
//! `asInteger`, `asApproximateFloat`, `add`, `sub`, `isLessThan`, `isGreaterThan`, `compareTo`.
//!
//! A quantity is held as an `f64` with its canonical text: exact for every integer below 2^53 and for the
//! decimal and binary suffixes Kubernetes objects use.

use super::{fail, string_arg};
use cel::extractors::This;
use cel::objects::Opaque;
use cel::{Context, ExecutionError, Value};
use std::sync::Arc;

/// A parsed resource quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub value: f64,
    pub text: String,
}

impl Eq for Quantity {}

impl Opaque for Quantity {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.Quantity"
    }
    fn json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.text.clone()))
    }
}

/// Parse `1.5Gi`, `500m`, `2e3`, ... into a quantity; `None` when `s` is not one.
pub fn parse(s: &str) -> Option<Quantity> {
    let t = s.trim();
    if t.is_empty() || t != s {
        return None;
    }
    let num_end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '+' || c == '-') && i == 0)))
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(num_end);
    let digits = num.trim_start_matches(['+', '-']);
    if digits.is_empty() || digits == "." || digits.matches('.').count() > 1 {
        return None;
    }
    let base: f64 = num.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        e if e.starts_with(['e', 'E']) => {
            let exp: i32 = e[1..].parse().ok()?;
            10f64.powi(exp)
        }
        _ => return None,
    };
    Some(Quantity { value: base * factor, text: s.to_string() })
}

fn quantity_of(function: &str, v: &Value) -> Result<Quantity, ExecutionError> {
    match v {
        Value::Opaque(o) => {
            o.downcast_ref::<Quantity>().cloned().ok_or_else(|| fail(function, "not a quantity"))
        }
        Value::Int(i) => Ok(Quantity { value: *i as f64, text: i.to_string() }),
        other => Err(fail(function, format!("expected a quantity, got {:?}", other.type_of()))),
    }
}

fn wrap(value: f64) -> Value {
    let text = if value.fract() == 0.0 && value.abs() < 9.0e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    };
    Value::Opaque(Arc::new(Quantity { value, text }))
}

fn quantity(s: Value) -> Result<Value, ExecutionError> {
    let text = string_arg("quantity", &s)?;
    parse(text)
        .map(|q| Value::Opaque(Arc::new(q)))
        .ok_or_else(|| fail("quantity", format!("invalid quantity {text:?}")))
}

fn is_quantity(s: Value) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(parse(string_arg("isQuantity", &s)?).is_some()))
}

fn sign(This(q): This<Value>) -> Result<Value, ExecutionError> {
    let q = quantity_of("sign", &q)?;
    Ok(Value::Int(if q.value > 0.0 {
        1
    } else if q.value < 0.0 {
        -1
    } else {
        0
    }))
}

fn is_integer(This(q): This<Value>) -> Result<Value, ExecutionError> {
    let q = quantity_of("isInteger", &q)?;
    Ok(Value::Bool(q.value.fract() == 0.0 && q.value.abs() < 9.2e18))
}

fn as_integer(This(q): This<Value>) -> Result<Value, ExecutionError> {
    let q = quantity_of("asInteger", &q)?;
    if q.value.fract() != 0.0 || q.value.abs() >= 9.2e18 {
        return Err(fail("asInteger", format!("quantity {} is not an integer or overflows int", q.text)));
    }
    Ok(Value::Int(q.value as i64))
}

fn as_approximate_float(This(q): This<Value>) -> Result<Value, ExecutionError> {
    Ok(Value::Float(quantity_of("asApproximateFloat", &q)?.value))
}

fn add(This(q): This<Value>, other: Value) -> Result<Value, ExecutionError> {
    Ok(wrap(quantity_of("add", &q)?.value + quantity_of("add", &other)?.value))
}

fn sub(This(q): This<Value>, other: Value) -> Result<Value, ExecutionError> {
    Ok(wrap(quantity_of("sub", &q)?.value - quantity_of("sub", &other)?.value))
}

fn compare(function: &str, a: &Value, b: &Value) -> Result<std::cmp::Ordering, ExecutionError> {
    let (a, b) = (quantity_of(function, a)?, quantity_of(function, b)?);
    a.value.partial_cmp(&b.value).ok_or_else(|| fail(function, "quantities are not comparable"))
}

fn is_less_than(This(q): This<Value>, other: Value) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(compare("isLessThan", &q, &other)?.is_lt()))
}

fn is_greater_than(This(q): This<Value>, other: Value) -> Result<Value, ExecutionError> {
    Ok(Value::Bool(compare("isGreaterThan", &q, &other)?.is_gt()))
}

fn compare_to(This(q): This<Value>, other: Value) -> Result<Value, ExecutionError> {
    Ok(Value::Int(compare("compareTo", &q, &other)? as i64))
}

pub(super) fn register(ctx: &mut Context, r: &mut dyn FnMut(Result<(), cel::DeclarationError>)) {
    r(ctx.add_function("quantity", quantity));
    r(ctx.add_function("isQuantity", is_quantity));
    r(ctx.add_function("sign", sign));
    r(ctx.add_function("isInteger", is_integer));
    r(ctx.add_function("asInteger", as_integer));
    r(ctx.add_function("asApproximateFloat", as_approximate_float));
    r(ctx.add_function("add", add));
    r(ctx.add_function("sub", sub));
    r(ctx.add_function("isLessThan", is_less_than));
    r(ctx.add_function("isGreaterThan", is_greater_than));
    r(ctx.add_function("compareTo", compare_to));
}

#[cfg(test)]
mod tests {
    use super::super::tests::eval;
    use cel::Value;

    #[test]
    fn quantities() {
        let t = |e: &str| assert_eq!(eval(e), Ok(Value::Bool(true)), "{e}");
        t("quantity('1Gi').isGreaterThan(quantity('1G'))");
        t("quantity('500m').isLessThan(quantity('1'))");
        t("quantity('2k').compareTo(quantity('2000')) == 0");
        t("quantity('1Ki').add(1).asInteger() == 1025");
        t("quantity('1').sub(quantity('3')).sign() == -1");
        t("isQuantity('10Mi') && !isQuantity('10 Mi') && !isQuantity('abc')");
        t("quantity('1.5').isInteger() == false");
        assert!(eval("quantity('x')").is_err());
    }
}
