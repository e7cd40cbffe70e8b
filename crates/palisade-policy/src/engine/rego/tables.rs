//! Lookup-table functions, compiled as one table: a Rego function written as one definition per constant
//! argument,
//!
//! ```rego
//! mem_multiple("Ki") = 1024000 { true }
//! mem_multiple("Mi") = 1048576000 { true }
//! # … 14 definitions in Gatekeeper's containerlimits, containerrequests, containerresourceratios and
//! # ephemeralstoragelimit templates
//! ```
//!
//! regorus 0.14.1 runs every definition of a function on every call (it must, to find conflicting
//! outputs), each with a rule-body set-up; the quantity-parsing templates call such a function dozens of
//! times per container, so on the PSS fixture Pods those calls were about a seventh of all Gatekeeper
//! evaluation instructions (callgrind). A family whose every definition has one string-literal argument,
//! a scalar-literal value and no body (or `{ true }`), with no two definitions for the same argument, is
//! rewritten once at compile time into one definition reading an object:
//!
//! ```rego
//! mem_multiple(palisade_key__) = palisade_value__ { palisade_value__ := {"Ki": 1024000, "Mi": 1048576000}[palisade_key__] }
//! ```
//!
//! Its answers are the family's: the value for a listed argument, undefined for any other (the keys are
//! distinct, so no call could have had conflicting outputs). The rewritten text keeps every other line
//! where it was (the first definition's line holds the table, the others become blank), so positions in
//! messages do not move. A family spread over several modules of one package is left as written.

use regorus::Engine;
use regorus::unstable::{Expr, Literal, Rule, RuleHead};
use std::collections::{BTreeMap, BTreeSet};

/// One module after the rewrite: its path, text and dialect, in the engine's order.
pub struct Rewritten {
    pub path: String,
    pub text: String,
    pub rego_v0: bool,
}

/// A definition of a candidate family: the byte range of the rule in its module's text, its key and the
/// source text of its value.
struct Definition {
    start: usize,
    end: usize,
    key: String,
    value: String,
}

/// The module a family is written in and its definitions; `None` once the family disqualifies itself.
type Family = Option<(usize, Vec<Definition>)>;

/// The modules of `engine` with every lookup-table family rewritten; `None` when there is none.
pub fn rewrite(engine: &mut Engine) -> Option<Vec<Rewritten>> {
    let packages = engine.get_policy_package_components().ok()?;
    let modules = engine.get_modules().clone();
    if packages.len() != modules.len() {
        return None;
    }
    // (package, function) → its family.
    let mut families: BTreeMap<(String, String), Family> = BTreeMap::new();
    // Names declared in each package by anything that is not a candidate definition.
    let mut others: BTreeSet<(String, String)> = BTreeSet::new();
    for (i, module) in modules.iter().enumerate() {
        let package = packages[i].components.join(".");
        for rule in &module.policy {
            let (name, candidate) = match rule.as_ref() {
                Rule::Spec { span, head: RuleHead::Func { refr, args, assign, .. }, bodies } => {
                    let name = refr.span().text().to_string();
                    let def = match (args.as_slice(), assign) {
                        ([arg], Some(assign)) if bodies_are_true(bodies) => {
                            match (string_literal(arg), scalar_literal(&assign.value)) {
                                (Some(key), Some(value)) => Some(Definition {
                                    start: span.start as usize,
                                    end: span.end as usize,
                                    key,
                                    value,
                                }),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    (name, def)
                }
                Rule::Spec { head, .. } => (head_name(head), None),
                Rule::Default { refr, .. } => (refr.span().text().to_string(), None),
            };
            let Some(def) = candidate else {
                others.insert((package.clone(), name));
                continue;
            };
            let entry = families.entry((package.clone(), name)).or_insert_with(|| Some((i, Vec::new())));
            match entry {
                Some((m, defs)) if *m == i && !defs.iter().any(|d| d.key == def.key) => defs.push(def),
                _ => *entry = None,
            }
        }
    }
    let mut edits: BTreeMap<usize, Vec<(String, Vec<Definition>)>> = BTreeMap::new();
    for ((package, name), family) in families {
        let Some((module, defs)) = family else { continue };
        // One definition gains nothing; a name also used by another rule is left alone.
        if defs.len() < 2 || others.contains(&(package, name.clone())) || !is_identifier(&name) {
            continue;
        }
        edits.entry(module).or_default().push((name, defs));
    }
    if edits.is_empty() {
        return None;
    }
    rewritten_modules(&modules, |i, v0, text| match edits.get(&i) {
        Some(families) => apply(&text, families, v0),
        None => Some(text),
    })
}

/// Every module of an engine as [`Rewritten`]: its text passed through `edit(index, rego_v0, text)`;
/// `None` when an edit fails.
pub(super) fn rewritten_modules(
    modules: &[regorus::unstable::Ref<regorus::unstable::Module>],
    mut edit: impl FnMut(usize, bool, String) -> Option<String>,
) -> Option<Vec<Rewritten>> {
    let mut out = Vec::with_capacity(modules.len());
    for (i, module) in modules.iter().enumerate() {
        let source = &module.package.span.source;
        let text = edit(i, !module.rego_v1, source.contents().clone())?;
        out.push(Rewritten { path: source.file().clone(), text, rego_v0: !module.rego_v1 });
    }
    Some(out)
}

/// The name of a rule head (its reference's text).
fn head_name(head: &RuleHead) -> String {
    match head {
        RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } | RuleHead::Func { refr, .. } => {
            refr.span().text().to_string()
        }
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// No body, or one body that is exactly `true` (not `else`, no `with`, no value of its own).
fn bodies_are_true(bodies: &[regorus::unstable::RuleBody]) -> bool {
    match bodies {
        [] => true,
        [body] => {
            !body.is_else
                && body.assign.is_none()
                && matches!(body.query.stmts.as_slice(), [stmt] if stmt.with_mods.is_empty()
                    && matches!(&stmt.literal, Literal::Expr { expr, .. }
                        if matches!(expr.as_ref(), Expr::Bool { value, .. } if *value == regorus::Value::Bool(true))))
        }
        _ => false,
    }
}

/// The value of a string literal argument.
pub(super) fn string_literal(e: &Expr) -> Option<String> {
    match e {
        Expr::String { value, .. } | Expr::RawString { value, .. } => {
            value.as_string().ok().map(|s| s.to_string())
        }
        _ => None,
    }
}

/// The source text of a scalar literal (number, string, boolean, null).
fn scalar_literal(e: &Expr) -> Option<String> {
    match e {
        Expr::Number { span, .. }
        | Expr::String { span, .. }
        | Expr::RawString { span, .. }
        | Expr::Bool { span, .. }
        | Expr::Null { span, .. } => Some(span.text().to_string()),
        _ => None,
    }
}

/// Rewrite `families` in `text`: the first definition of each becomes the table, the others blank (their
/// line breaks kept).
fn apply(text: &str, families: &[(String, Vec<Definition>)], v0: bool) -> Option<String> {
    let mut ranges: Vec<(usize, usize, Option<String>)> = Vec::new();
    for (name, defs) in families {
        let table = defs
            .iter()
            .map(|d| format!("{}: {}", serde_json::Value::String(d.key.clone()), d.value))
            .collect::<Vec<_>>()
            .join(", ");
        let (k, v) = ("palisade_key__", "palisade_value__");
        let head = if v0 { format!("{name}({k}) = {v} {{") } else { format!("{name}({k}) := {v} if {{") };
        let def = format!("{head} {v} := {{{table}}}[{k}] }}");
        for (n, d) in defs.iter().enumerate() {
            ranges.push((d.start, d.end, (n == 0).then(|| def.clone())));
        }
    }
    ranges.sort_by_key(|r| r.0);
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    for (start, end, replacement) in ranges {
        if start < at || end > text.len() || start > end {
            return None;
        }
        out.push_str(text.get(at..start)?);
        let old = text.get(start..end)?;
        if let Some(r) = replacement {
            out.push_str(&r);
        }
        out.extend(old.chars().filter(|c| *c == '\n'));
        at = end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

/// Engines for the rewrite tests: modules loaded as given, and an evaluation of rewritten modules.
#[cfg(test)]
pub(super) mod testing {
    use super::*;

    pub(in crate::engine::rego) fn engine(modules: &[(&str, &str)], v0: bool) -> Engine {
        let mut e = Engine::new();
        e.set_rego_v0(v0);
        for (path, text) in modules {
            e.add_policy(path.to_string(), text.to_string()).unwrap();
        }
        e
    }

    pub(in crate::engine::rego) fn eval(
        modules: &[Rewritten],
        input: &serde_json::Value,
        rule: &str,
    ) -> regorus::Value {
        let mut e = Engine::new();
        for m in modules {
            e.set_rego_v0(m.rego_v0);
            e.add_policy(m.path.clone(), m.text.clone()).unwrap();
        }
        e.set_input(regorus::Value::from(input.clone()));
        e.eval_rule(rule.into()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{engine, eval};
    use super::*;

    const V0: &str = r#"package q

# 10 ** 3
mult("k") = 1000 { true }

# 2 ** 10
mult("Ki") = 1024 { true }
mult("") = 1 { true }

size(s) = n {
  suffix := substring(s, count(s) - 2, -1)
  mult(suffix)
  n := to_number(trim_suffix(s, suffix)) * mult(suffix)
}

size(s) = n {
  suffix := substring(s, count(s) - 1, -1)
  mult(suffix)
  not mult(substring(s, count(s) - 2, -1))
  n := to_number(trim_suffix(s, suffix)) * mult(suffix)
}

size(s) = n {
  regex.match("^[0-9]+$", s)
  n := to_number(s)
}

other("a") = 1 { input.x }
other("b") = 2 { true }

deny[msg] {
  n := size(input.q)
  n > 1500
  msg := sprintf("too big: %v (line %v)", [n, "marker"])
}
"#;

    #[test]
    fn a_lookup_family_becomes_one_table_and_answers_the_same() {
        let mut e = engine(&[("q.rego", V0)], true);
        let rewritten = rewrite(&mut e).expect("one family to rewrite");
        let text = &rewritten[0].text;
        assert_eq!(text.lines().count(), V0.lines().count(), "lines keep their places:\n{text}");
        let line = |t: &str, needle: &str| t.lines().position(|l| l.contains(needle));
        assert_eq!(line(text, "sprintf"), line(V0, "sprintf"));
        assert_eq!(line(text, "mult(palisade_key__) = palisade_value__"), line(V0, "mult(\"k\")"), "{text}");
        assert!(text.contains(r#"{"k": 1000, "Ki": 1024, "": 1}[palisade_key__]"#), "{text}");
        // `other` has a real body: left as written.
        assert!(text.contains(r#"other("a") = 1 { input.x }"#), "{text}");
        let original = [Rewritten { path: "q.rego".into(), text: V0.into(), rego_v0: true }];
        for q in ["2Ki", "1k", "900", "7Mi", "25", "2000"] {
            let input = serde_json::json!({"q": q});
            assert_eq!(
                eval(&rewritten, &input, "data.q.deny"),
                eval(&original, &input, "data.q.deny"),
                "{q}"
            );
        }
        let input = serde_json::json!({"q": "2Ki"});
        assert_eq!(
            serde_json::to_value(eval(&rewritten, &input, "data.q.deny")).unwrap()[0],
            "too big: 2048 (line marker)"
        );
    }

    #[test]
    fn rego_v1_families_are_rewritten_in_v1_syntax() {
        let v1 = "package q\n\nm(\"a\") := 1\nm(\"b\") := 2\n\nr := [m(\"a\"), m(\"b\")]\n";
        let mut e = engine(&[("q.rego", v1)], false);
        let rewritten = rewrite(&mut e).expect("a family");
        assert!(
            rewritten[0].text.contains("m(palisade_key__) := palisade_value__ if {"),
            "{}",
            rewritten[0].text
        );
        let v = eval(&rewritten, &serde_json::json!({}), "data.q.r");
        assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!([1, 2]));
    }

    #[test]
    fn families_that_could_conflict_or_span_modules_are_left_alone() {
        // The same key twice (a conflict OPA reports when that key is asked for).
        let dup = "package q\nm(\"a\") = 1 { true }\nm(\"a\") = 2 { true }\n";
        assert!(rewrite(&mut engine(&[("q.rego", dup)], true)).is_none());
        // A definition with a variable argument.
        let var = "package q\nm(\"a\") = 1 { true }\nm(x) = 2 { x == \"b\" }\n";
        assert!(rewrite(&mut engine(&[("q.rego", var)], true)).is_none());
        // One package in two modules, the family split between them.
        let a = "package q\nm(\"a\") = 1 { true }\nm(\"b\") = 2 { true }\n";
        let b = "package q\nm(\"c\") = 3 { true }\n";
        assert!(rewrite(&mut engine(&[("a.rego", a), ("b.rego", b)], true)).is_none());
        // The same family name in another package does not matter.
        let c = "package other\nm(\"c\") = 3 { true }\n";
        let r = rewrite(&mut engine(&[("a.rego", a), ("c.rego", c)], true)).expect("package q's family");
        assert!(r[0].text.contains("palisade_key__") && !r[1].text.contains("palisade_key__"));
    }
}
