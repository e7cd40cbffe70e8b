//! Kubernetes' CEL list and set libraries: `isSorted`, `sum`, `min`, `max` on lists, and
//! `sets.contains`, `sets.equivalent`, `sets.intersects`. (`indexOf`/`lastIndexOf` on lists are not
//! offered: cel's strings extension owns those names.)

use super::fail;
use cel::extractors::This;
use cel::{Context, ExecutionError, Value};
use std::cmp::Ordering;
use std::sync::Arc;

fn list<'a>(function: &str, v: &'a Value) -> Result<&'a Arc<Vec<Value>>, ExecutionError> {
    match v {
        Value::List(l) => Ok(l),
        other => Err(fail(function, format!("expected a list, got {:?}", other.type_of()))),
    }
}

fn cmp(function: &str, a: &Value, b: &Value) -> Result<Ordering, ExecutionError> {
    a.partial_cmp(b)
        .ok_or_else(|| fail(function, format!("{:?} and {:?} are not comparable", a.type_of(), b.type_of())))
}

fn is_sorted(This(v): This<Value>) -> Result<Value, ExecutionError> {
    let l = list("isSorted", &v)?;
    for w in l.windows(2) {
        if cmp("isSorted", &w[0], &w[1])? == Ordering::Greater {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn sum(This(v): This<Value>) -> Result<Value, ExecutionError> {
    let l = list("sum", &v)?;
    let mut acc = match l.first() {
        None | Some(Value::Int(_)) => Value::Int(0),
        Some(Value::UInt(_)) => Value::UInt(0),
        Some(Value::Float(_)) => Value::Float(0.0),
        Some(other) => return Err(fail("sum", format!("cannot sum {:?}", other.type_of()))),
    };
    for x in l.iter() {
        acc = match (&acc, x) {
            (Value::Int(a), Value::Int(b)) => {
                Value::Int(a.checked_add(*b).ok_or_else(|| fail("sum", "overflow"))?)
            }
            (Value::UInt(a), Value::UInt(b)) => {
                Value::UInt(a.checked_add(*b).ok_or_else(|| fail("sum", "overflow"))?)
            }
            (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
            _ => return Err(fail("sum", "the list mixes types")),
        };
    }
    Ok(acc)
}

fn extreme(function: &str, v: &Value, want: Ordering) -> Result<Value, ExecutionError> {
    let l = list(function, v)?;
    let mut best = l.first().ok_or_else(|| fail(function, "the list is empty"))?;
    for x in l.iter().skip(1) {
        if cmp(function, x, best)? == want {
            best = x;
        }
    }
    Ok(best.clone())
}

fn min(This(v): This<Value>) -> Result<Value, ExecutionError> {
    extreme("min", &v, Ordering::Less)
}

fn max(This(v): This<Value>) -> Result<Value, ExecutionError> {
    extreme("max", &v, Ordering::Greater)
}

fn sets_contains(a: Value, b: Value) -> Result<Value, ExecutionError> {
    let (a, b) = (list("sets.contains", &a)?, list("sets.contains", &b)?);
    Ok(Value::Bool(b.iter().all(|x| a.contains(x))))
}

fn sets_equivalent(a: Value, b: Value) -> Result<Value, ExecutionError> {
    let (a, b) = (list("sets.equivalent", &a)?, list("sets.equivalent", &b)?);
    Ok(Value::Bool(b.iter().all(|x| a.contains(x)) && a.iter().all(|x| b.contains(x))))
}

fn sets_intersects(a: Value, b: Value) -> Result<Value, ExecutionError> {
    let (a, b) = (list("sets.intersects", &a)?, list("sets.intersects", &b)?);
    Ok(Value::Bool(b.iter().any(|x| a.contains(x))))
}

pub(super) fn register(ctx: &mut Context, r: &mut dyn FnMut(Result<(), cel::DeclarationError>)) {
    r(ctx.add_function("isSorted", is_sorted));
    r(ctx.add_function("sum", sum));
    r(ctx.add_function("min", min));
    r(ctx.add_function("max", max));
    r(ctx.add_function("sets.contains", sets_contains));
    r(ctx.add_function("sets.equivalent", sets_equivalent));
    r(ctx.add_function("sets.intersects", sets_intersects));
}

#[cfg(test)]
mod tests {
    use super::super::tests::eval;
    use cel::Value;

    #[test]
    fn lists_and_sets() {
        let t = |e: &str| assert_eq!(eval(e), Ok(Value::Bool(true)), "{e}");
        t("[1, 2, 2, 3].isSorted() && !['b', 'a'].isSorted()");
        t("[1, 2, 3].sum() == 6 && [1.5, 2.5].sum() == 4.0 && [].sum() == 0");
        t("[3, 1, 2].min() == 1 && [3, 1, 2].max() == 3");
        t("sets.contains([1, 2, 3], [2, 3]) && !sets.contains([1], [2])");
        t("sets.equivalent([1, 2], [2, 1, 1]) && sets.intersects([1, 2], [2, 5])");
        assert!(eval("[].min()").is_err());
    }
}
