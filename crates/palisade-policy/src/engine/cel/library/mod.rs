//! The Kubernetes CEL libraries Palisade adds to cel 0.15's standard environment, each in its own file:
//! quantity, ip/cidr, url, lists, sets and regex. The `strings`, `lists`, `math` and `encoders`
//! extensions and the optional types (`.?x`, `orValue`) come with cel itself.
//!
//! Functions are registered on a root [`Context`] built once; each evaluation binds its variables in a
//! child scope of it.

mod lists;
mod net;
mod quantity;
mod regex;
mod url;

use cel::{Context, Env, ExecutionError, Value};
use std::sync::Arc;

/// The numeric value of a Kubernetes quantity (`1Gi`, `500m`, `2`), for engines other than CEL.
pub fn quantity_value(s: &str) -> Option<f64> {
    quantity::parse(s).map(|q| q.value)
}

/// A function error naming the CEL function.
pub(crate) fn fail(function: &str, message: impl std::fmt::Display) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

/// The string inside `v`, or an error naming `function`.
pub(crate) fn string_arg<'a>(function: &str, v: &'a Value) -> Result<&'a str, ExecutionError> {
    match v {
        Value::String(s) => Ok(s.as_str()),
        other => Err(fail(function, format!("expected a string, got {:?}", other.type_of()))),
    }
}

/// The standard environment with cel's extensions: built once per process.
pub fn env() -> Arc<Env> {
    static ENV: std::sync::OnceLock<Arc<Env>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        // The extensions only fail on duplicate declarations, which a fresh stdlib cannot have.
        for ext in [
            cel::extensions::strings as fn(&mut Env) -> Result<(), cel::DeclarationError>,
            cel::extensions::lists,
            cel::extensions::math,
            cel::extensions::encoders,
        ] {
            let _ = env.add_extension(ext);
        }
        Arc::new(env)
    })
    .clone()
}

/// A root context with the Kubernetes library functions registered.
pub fn root_context() -> Context<'static, 'static> {
    let mut ctx = Context::with_env(env());
    let mut register = |r: Result<(), cel::DeclarationError>| {
        debug_assert!(r.is_ok(), "{r:?}");
    };
    quantity::register(&mut ctx, &mut register);
    net::register(&mut ctx, &mut register);
    url::register(&mut ctx, &mut register);
    lists::register(&mut ctx, &mut register);
    regex::register(&mut ctx, &mut register);
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluate `expr` with the library and no variables.
    pub(crate) fn eval(expr: &str) -> Result<Value, String> {
        let program = env().compile(expr).map_err(|e| e.to_string())?;
        let ctx = root_context();
        program.execute(&ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn optional_syntax_and_extensions() {
        assert_eq!(eval("{'a': 1}.?b.orValue(2) == 2"), Ok(Value::Bool(true)));
        assert_eq!(eval("{'a': {'x': 1}}.?a.?x.orValue(0) == 1"), Ok(Value::Bool(true)));
        assert_eq!(eval("{'a': 'x'}[?'b'].orValue('') == ''"), Ok(Value::Bool(true)));
        assert_eq!(eval("'a,b'.split(',').join('-') == 'a-b'"), Ok(Value::Bool(true)));
        assert_eq!(eval("' x '.trim() == 'x'"), Ok(Value::Bool(true)));
    }
}
