//! Kubernetes' CEL regex library: `find(regex)` (the first match or `''`) and `findAll(regex[, n])`.
//! (`matches` is in cel's standard library.) Patterns are compiled with a size limit.

use super::{fail, string_arg};
use cel::extractors::This;
use cel::{Context, ExecutionError, Value};
use std::sync::Arc;

fn compile(function: &str, pattern: &str) -> Result<regex::Regex, ExecutionError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| fail(function, format!("invalid regex {pattern:?}: {e}")))
}

fn find(This(s): This<Value>, re: Value) -> Result<Value, ExecutionError> {
    let s = string_arg("find", &s)?;
    let re = compile("find", string_arg("find", &re)?)?;
    Ok(Value::String(Arc::new(re.find(s).map(|m| m.as_str().to_string()).unwrap_or_default())))
}

fn find_all(
    This(s): This<Value>,
    cel::extractors::Arguments(args): cel::extractors::Arguments,
) -> Result<Value, ExecutionError> {
    let s = string_arg("findAll", &s)?;
    let pattern = args.first().ok_or_else(|| fail("findAll", "missing regex"))?;
    let re = compile("findAll", string_arg("findAll", pattern)?)?;
    let limit = match args.get(1) {
        Some(Value::Int(n)) if *n >= 0 => *n as usize,
        Some(Value::Int(_)) | None => usize::MAX,
        Some(_) => return Err(fail("findAll", "the limit must be an int")),
    };
    let found =
        re.find_iter(s).take(limit).map(|m| Value::String(Arc::new(m.as_str().to_string()))).collect();
    Ok(Value::List(Arc::new(found)))
}

pub(super) fn register(ctx: &mut Context, r: &mut dyn FnMut(Result<(), cel::DeclarationError>)) {
    r(ctx.add_function("find", find));
    r(ctx.add_function("findAll", find_all));
}

#[cfg(test)]
mod tests {
    use super::super::tests::eval;
    use cel::Value;

    #[test]
    fn find_and_find_all() {
        let t = |e: &str| assert_eq!(eval(e), Ok(Value::Bool(true)), "{e}");
        t("'abc 123 456'.find('[0-9]+') == '123' && 'abc'.find('[0-9]+') == ''");
        t("'a1b22c333'.findAll('[0-9]+') == ['1', '22', '333']");
        t("'a1b22c333'.findAll('[0-9]+', 2) == ['1', '22']");
        assert!(eval("'x'.find('(')").is_err());
    }
}
