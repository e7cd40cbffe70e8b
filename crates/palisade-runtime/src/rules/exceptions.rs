//! Falco rule exceptions turned into condition terms: each exception becomes `and not (…)` after the
//! rule's condition, one `or` branch per value tuple, one check per field.
//!
//! `comps` take Falco's operators, optionally with a quantifier (`startswith oneof`, `contains allof`),
//! which then takes a list of values. The scalar form (`fields: proc.name`) compares the field with all
//! values at once and only allows `in`, `pmatch` or `intersects`.

use super::ast::{Expr, Operand, Quant, Rhs};
use super::loader::{ExcValue, ExceptionDef};

const BASE_OPS: &[&str] = &[
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "intersects",
    "pmatch",
    "contains",
    "icontains",
    "bcontains",
    "startswith",
    "bstartswith",
    "endswith",
    "glob",
    "iglob",
    "regex",
];
const LIST_OPS: &[&str] = &["in", "intersects", "pmatch"];
const QUANTIFIABLE: &[&str] = &[
    "=",
    "==",
    "!=",
    "contains",
    "icontains",
    "bcontains",
    "startswith",
    "bstartswith",
    "endswith",
    "glob",
    "iglob",
    "regex",
];

/// Split and validate a comparison (`startswith oneof` → (`startswith`, Some(OneOf))).
fn parse_comp(comp: &str) -> Result<(String, Option<Quant>), String> {
    let unsupported = || format!("'{comp}' is not a supported comparison operator");
    let mut words = comp.split_whitespace();
    let op = words.next().ok_or_else(unsupported)?;
    let quant = match words.next() {
        None => None,
        Some(q) => Some(Quant::parse(q).ok_or_else(unsupported)?),
    };
    if words.next().is_some() || !BASE_OPS.contains(&op) || (quant.is_some() && !QUANTIFIABLE.contains(&op)) {
        return Err(unsupported());
    }
    Ok((op.to_string(), quant))
}

/// The operand an exception field names (a field, possibly with an argument or a transformer).
fn operand(field: &str) -> Result<Operand, String> {
    match super::parser::parse(&format!("{field} exists")) {
        Ok(Expr::Unary { lhs, .. }) => Ok(lhs),
        _ => Err(format!("'{field}' is not a valid exception field")),
    }
}

fn check(field: &str, comp: &str, value: &ExcValue) -> Result<Expr, String> {
    let (op, quant) = parse_comp(comp)?;
    let lhs = operand(field)?;
    let rhs = if LIST_OPS.contains(&op.as_str()) || quant.is_some() {
        match value {
            ExcValue::List(items) => Rhs::List(items.clone()),
            ExcValue::Scalar(s) => Rhs::List(vec![s.clone()]),
        }
    } else {
        match value {
            ExcValue::Scalar(s) => Rhs::Value(s.clone()),
            ExcValue::List(_) => {
                return Err(format!(
                    "exception value for field '{field}' with comparison '{comp}' must be a single value, not a list"
                ));
            }
        }
    };
    Ok(Expr::Binary { lhs, op, quant, rhs })
}

/// The term excluded by one exception, or `None` when it has no values.
pub fn exception_expr(e: &ExceptionDef) -> Result<Option<Expr>, String> {
    if e.values.is_empty() {
        return Ok(None);
    }
    if !e.fields_is_list {
        let comp = e.comps.first().map(String::as_str).unwrap_or("in");
        if !LIST_OPS.contains(&comp) {
            return Err(format!(
                "exception '{}': when fields is a single value (not a list), comps must be one of (in, pmatch, intersects), got '{comp}'",
                e.name
            ));
        }
        let field = e.fields.first().map(String::as_str).unwrap_or("");
        let values: Vec<String> = e
            .values
            .iter()
            .flatten()
            .flat_map(|v| match v {
                ExcValue::Scalar(s) => vec![s.clone()],
                ExcValue::List(l) => l.clone(),
            })
            .collect();
        return check(field, comp, &ExcValue::List(values))
            .map(Some)
            .map_err(|m| format!("exception '{}': {m}", e.name));
    }
    if e.comps.len() != e.fields.len() {
        return Err(format!("exception '{}': fields and comps lists must have equal length", e.name));
    }
    for c in &e.comps {
        parse_comp(c).map_err(|m| format!("exception '{}': {m}", e.name))?;
    }
    let mut branches = Vec::with_capacity(e.values.len());
    for tuple in &e.values {
        if tuple.len() != e.fields.len() {
            return Err(format!(
                "exception '{}': fields and values lists must have equal length ({} fields, {} values)",
                e.name,
                e.fields.len(),
                tuple.len()
            ));
        }
        let mut checks = Vec::with_capacity(tuple.len());
        for ((f, c), v) in e.fields.iter().zip(&e.comps).zip(tuple) {
            checks.push(check(f, c, v).map_err(|m| format!("exception '{}': {m}", e.name))?);
        }
        branches.push(if checks.len() == 1 { checks.remove(0) } else { Expr::And(checks) });
    }
    Ok(Some(if branches.len() == 1 { branches.remove(0) } else { Expr::Or(branches) }))
}

/// `condition and not exc1 and not exc2 …`.
pub fn apply(condition: Expr, exceptions: &[ExceptionDef]) -> Result<Expr, String> {
    let mut terms = vec![condition];
    for e in exceptions {
        if let Some(x) = exception_expr(e)? {
            terms.push(Expr::Not(Box::new(x)));
        }
    }
    Ok(if terms.len() == 1 { terms.remove(0) } else { Expr::And(terms) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comps_are_validated() {
        assert!(parse_comp("startswith oneof").is_ok());
        assert_eq!(parse_comp("in oneof").unwrap_err(), "'in oneof' is not a supported comparison operator");
        assert_eq!(parse_comp(">= oneof").unwrap_err(), "'>= oneof' is not a supported comparison operator");
        assert_eq!(parse_comp("oneof").unwrap_err(), "'oneof' is not a supported comparison operator");
    }
}
