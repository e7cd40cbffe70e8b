//! One compiled CEL expression and its evaluation under a cost bound.
//!
//! cel 0.15 has no cost tracking, so Palisade bounds an evaluation before it starts: the expression's
//! worst-case cost is estimated from its syntax tree and the size of the actual input — every node costs
//! 1, and each comprehension (`all`, `exists`, `map`, `filter`, ...) multiplies the cost of its body by the
//! largest list or map in the input (nested comprehensions multiply again). An evaluation whose estimate
//! exceeds [`Budget::cel_cost`](crate::engine::Budget) is not run and yields an error naming the policy.
//! Lists built inside an expression (`lists.range(n)`) are not counted; `lists.range` is itself capped by
//! cel at 1,000,000 elements.

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::{Context, Program, Value};

/// The variables a CEL program may read that need a live cluster or network: policies using them are
/// reported as unsupported at load time.
pub const CLUSTER_VARIABLES: &[&str] =
    &["authorizer", "resource", "http", "globalContext", "image", "imageData", "generator"];

/// A compiled expression.
pub struct CelExpr {
    pub source: String,
    program: Program,
}

impl std::fmt::Debug for CelExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

impl CelExpr {
    /// Compile `source`; the error is cel's parse message.
    pub fn compile(source: &str) -> Result<CelExpr, String> {
        let program = super::library::env().compile(source).map_err(|e| e.to_string().trim().to_string())?;
        Ok(CelExpr { source: source.to_string(), program })
    }

    /// The first variable this expression reads that needs a live cluster, if any.
    pub fn cluster_variable(&self) -> Option<&'static str> {
        let refs = self.program.references();
        CLUSTER_VARIABLES.iter().copied().find(|v| refs.has_variable(*v))
    }

    /// Estimated worst-case cost when every collection has at most `n` elements.
    pub fn cost(&self, n: u64) -> u64 {
        cost(self.program.expression(), n.max(1))
    }

    /// Evaluate in `ctx`, refusing to start when the estimate for inputs whose largest collection has
    /// `largest` elements exceeds `limit`.
    pub fn eval(&self, ctx: &Context, largest: u64, limit: u64) -> Result<Value, String> {
        let estimate = self.cost(largest);
        if estimate > limit {
            return Err(format!(
                "estimated CEL cost {estimate} exceeds the budget of {limit} for expression {:?}",
                self.source
            ));
        }
        self.program.execute(ctx).map_err(|e| e.to_string())
    }
}

fn cost(e: &IdedExpr, n: u64) -> u64 {
    let sum =
        |it: &mut dyn Iterator<Item = &IdedExpr>| it.fold(0u64, |acc, x| acc.saturating_add(cost(x, n)));
    let own = match &e.expr {
        Expr::Call(c) => sum(&mut c.target.iter().map(|b| &**b).chain(c.args.iter())),
        Expr::Comprehension(c) => {
            let body = cost(&c.loop_cond, n).saturating_add(cost(&c.loop_step, n));
            cost(&c.iter_range, n)
                .saturating_add(cost(&c.accu_init, n))
                .saturating_add(body.saturating_mul(n))
                .saturating_add(cost(&c.result, n))
        }
        Expr::List(l) => sum(&mut l.elements.iter()),
        Expr::Map(m) => sum(&mut m.entries.iter().flat_map(|en| match &en.expr {
            EntryExpr::MapEntry(me) => vec![&me.key, &me.value],
            EntryExpr::StructField(f) => vec![&f.value],
        })),
        Expr::Struct(s) => sum(&mut s.entries.iter().flat_map(|en| match &en.expr {
            EntryExpr::MapEntry(me) => vec![&me.key, &me.value],
            EntryExpr::StructField(f) => vec![&f.value],
        })),
        Expr::Select(s) => cost(&s.operand, n),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => 0,
    };
    own.saturating_add(1)
}

/// The largest number of elements of any list or map (and characters/10 of any string) in `v`.
pub fn largest_collection(v: &serde_json::Value) -> u64 {
    match v {
        serde_json::Value::Array(a) => {
            a.iter().map(largest_collection).max().unwrap_or(0).max(a.len() as u64)
        }
        serde_json::Value::Object(o) => {
            o.values().map(largest_collection).max().unwrap_or(0).max(o.len() as u64)
        }
        serde_json::Value::String(s) => s.len() as u64 / 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_grows_with_nesting_and_input() {
        let flat = CelExpr::compile("object.a == 1").unwrap();
        let one = CelExpr::compile("object.items.all(x, x > 0)").unwrap();
        let two = CelExpr::compile("object.items.all(x, object.items.all(y, x != y))").unwrap();
        assert_eq!(flat.cost(1000), flat.cost(1));
        assert!(one.cost(1000) > 1000 && one.cost(1000) < 20_000);
        assert!(two.cost(1000) > 1_000_000);
        let ctx = super::super::library::root_context();
        assert!(two.eval(&ctx, 1000, 1_000_000).unwrap_err().contains("exceeds the budget"));
        assert!(CelExpr::compile("object.").is_err());
        assert_eq!(CelExpr::compile("http.Get('x')").unwrap().cluster_variable(), Some("http"));
        assert_eq!(largest_collection(&serde_json::json!({"a": [1, 2, 3], "b": {"c": 1}})), 3);
    }
}
