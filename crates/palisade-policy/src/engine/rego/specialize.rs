//! Set rules computed only for the keys anyone asks for. Gatekeeper's container templates write
//!
//! ```rego
//! violation[{"msg": msg}] { general_violation[{"msg": msg, "field": "containers"}] }
//! violation[{"msg": msg}] { general_violation[{"msg": msg, "field": "initContainers"}] }
//! general_violation[{"msg": msg, "field": field}] {
//!   container := input.review.object.spec[field][_]
//!   …
//! }
//! ```
//!
//! OPA unifies the asked key with the rule's head before running the body, so `field` is bound and
//! `spec[field]` is one lookup. regorus 0.14.1 computes the whole set first: every value of every field of
//! the Pod's spec (each volume, each security-context setting) runs through the body as a "container",
//! messages are formatted for them and then thrown away. On the PSS fixture Pods that is most of the cost of
//! the five container templates for Pods with volumes (the slowest Pods of the policy benchmark).
//!
//! A set rule whose every use is a lookup with an object literal giving the same key a constant
//! (`R[{"field": "containers", …}]`) gets, in each definition whose head binds that key to a variable, a
//! first condition limiting the variable to the constants asked (`{"containers", "initContainers"}[field]`):
//! the set keeps exactly the members any lookup can see. Anything else that could see the whole set
//! disqualifies the rule: a use as a value (`count(R)`, `R[x]`), a `data` reference above it or beside it
//! (`data.pkg`, `data[x]`, `with data.pkg.R`), an import of it, a definition of another kind, or a name that
//! callers query directly (`violation`, `deny…`, `warn…`, `test_…`). Text is inserted on the body's first
//! line, so line numbers do not move.

use super::tables::{Rewritten, rewritten_modules, string_literal};
use regorus::Engine;
use regorus::unstable::{AssignOp, Expr, Literal, Query, Rule, RuleHead};
use std::collections::{BTreeMap, BTreeSet};

/// A rule: its package path and name.
type RuleId = (Vec<String>, String);

/// What the walk found about one candidate: the constants each lookup gave each key, or `None` once
/// something else sees the rule.
type Uses = BTreeMap<RuleId, Option<Vec<BTreeMap<String, String>>>>;

/// The modules of `engine` with every qualifying set rule specialised; `None` when there is none.
pub fn rewrite(engine: &mut Engine) -> Option<Vec<Rewritten>> {
    let packages = engine.get_policy_package_components().ok()?;
    let modules = engine.get_modules().clone();
    if packages.len() != modules.len() {
        return None;
    }
    let package = |i: usize| packages[i].components.clone();
    // candidates: set rules with an object-literal key, by name; any other rule of the name disqualifies
    let mut uses: Uses = BTreeMap::new();
    let mut others: BTreeSet<RuleId> = BTreeSet::new();
    for (i, module) in modules.iter().enumerate() {
        for rule in &module.policy {
            let (name, set_with_object) = match rule.as_ref() {
                Rule::Spec { head: RuleHead::Set { refr, key: Some(key), .. }, .. } => {
                    (simple_name(refr), matches!(key.as_ref(), Expr::Object { .. }))
                }
                Rule::Spec {
                    head:
                        RuleHead::Set { refr, .. } | RuleHead::Compr { refr, .. } | RuleHead::Func { refr, .. },
                    ..
                }
                | Rule::Default { refr, .. } => (simple_name(refr), false),
            };
            let Some(name) = name else { continue };
            let id = (package(i), name.clone());
            if set_with_object && !queried_directly(&name) {
                uses.entry(id).or_insert_with(|| Some(Vec::new()));
            } else {
                others.insert(id);
            }
        }
    }
    for id in &others {
        uses.remove(id);
    }
    if uses.is_empty() {
        return None;
    }
    // every use of every candidate, in every module
    for (i, module) in modules.iter().enumerate() {
        let mut walk = Walk { uses: &mut uses, package: package(i), aliases: BTreeMap::new() };
        for import in &module.imports {
            let Some(path) = data_path(&import.refr) else { continue };
            let alias = match &import.r#as {
                Some(span) => span.text().to_string(),
                None => match path.last() {
                    Some(last) => last.clone(),
                    None => continue,
                },
            };
            // an import of a candidate (or of a package holding one) sees the whole rule
            walk.touch_data(&path, true);
            walk.aliases.insert(alias, path);
        }
        for rule in &module.policy {
            match rule.as_ref() {
                Rule::Spec { head, bodies, .. } => {
                    match head {
                        RuleHead::Set { key, .. } => key.iter().for_each(|k| walk.expr(k)),
                        RuleHead::Compr { assign, .. } => assign.iter().for_each(|a| walk.expr(&a.value)),
                        RuleHead::Func { args, assign, .. } => {
                            args.iter().for_each(|a| walk.expr(a));
                            assign.iter().for_each(|a| walk.expr(&a.value));
                        }
                    }
                    for body in bodies {
                        if let Some(a) = &body.assign {
                            walk.expr(&a.value);
                        }
                        walk.query(&body.query);
                    }
                }
                Rule::Default { args, value, .. } => {
                    args.iter().for_each(|a| walk.expr(a));
                    walk.expr(value);
                }
            }
        }
    }
    // the guards: for each definition, each head key bound to a variable that every lookup gives a constant
    let mut edits: BTreeMap<usize, Vec<(usize, String)>> = BTreeMap::new();
    for (i, module) in modules.iter().enumerate() {
        for rule in &module.policy {
            let Rule::Spec { head: RuleHead::Set { refr, key: Some(key), .. }, bodies, .. } = rule.as_ref()
            else {
                continue;
            };
            let Some(name) = simple_name(refr) else { continue };
            let Some(Some(sites)) = uses.get(&(package(i), name)) else { continue };
            if sites.is_empty() {
                continue;
            }
            let ([body], Expr::Object { fields, .. }) = (bodies.as_slice(), key.as_ref()) else { continue };
            let Some(first) = body.query.stmts.first() else { continue };
            if body.is_else {
                continue;
            }
            let mut guards = Vec::new();
            for (_, k, v) in fields {
                let (Some(k), Expr::Var { value, .. }) = (string_literal(k), v.as_ref()) else { continue };
                let Ok(var) = value.as_string() else { continue };
                if var.as_ref() == "_" || declared_in(&body.query, var.as_ref()) {
                    continue;
                }
                let Some(consts) = sites.iter().map(|s| s.get(&k).cloned()).collect::<Option<BTreeSet<_>>>()
                else {
                    continue;
                };
                let set = consts.into_iter().collect::<Vec<_>>().join(", ");
                guards.push(format!("{{{set}}}[{var}]; "));
            }
            if !guards.is_empty() {
                edits.entry(i).or_default().push((first.span.start as usize, guards.concat()));
            }
        }
    }
    if edits.is_empty() {
        return None;
    }
    rewritten_modules(&modules, |i, _, mut text| {
        let mut inserts = edits.remove(&i).unwrap_or_default();
        inserts.sort();
        for (at, guard) in inserts.iter().rev() {
            if !text.is_char_boundary(*at) {
                return None;
            }
            text.insert_str(*at, guard);
        }
        Some(text)
    })
}

/// Rules that engines and tests query by name: never narrowed.
fn queried_directly(name: &str) -> bool {
    ["violation", "deny", "warn", "exception", "test_", "todo_test_"].iter().any(|p| name.starts_with(p))
}

/// The name of a rule whose head is a plain identifier.
fn simple_name(refr: &Expr) -> Option<String> {
    match refr {
        Expr::Var { value, .. } => value.as_string().ok().map(|s| s.to_string()),
        _ => None,
    }
}

/// A scalar literal as Rego text (strings quoted as JSON, which Rego reads the same).
fn scalar_text(e: &Expr) -> Option<String> {
    match e {
        Expr::String { value, .. } | Expr::RawString { value, .. } => {
            Some(serde_json::Value::String(value.as_string().ok()?.to_string()).to_string())
        }
        Expr::Number { span, .. } | Expr::Bool { span, .. } | Expr::Null { span, .. } => {
            Some(span.text().to_string())
        }
        _ => None,
    }
}

/// `data.a.b` as `[a, b]` (static fields only).
fn data_path(e: &Expr) -> Option<Vec<String>> {
    let (root, accessors) = flatten(e);
    if root != "data" {
        return None;
    }
    let mut path = Vec::new();
    for a in accessors {
        path.push(static_field(&a)?);
    }
    Some(path)
}

/// One step of a reference: `.name` or `[expr]`.
enum Accessor<'a> {
    Field(String),
    Index(&'a Expr),
}

fn static_field(a: &Accessor) -> Option<String> {
    match a {
        Accessor::Field(f) => Some(f.clone()),
        Accessor::Index(e) => string_literal(e),
    }
}

/// A reference as its root variable and its steps, outermost last (`""` when the root is not a variable).
fn flatten(e: &Expr) -> (String, Vec<Accessor<'_>>) {
    let mut steps = Vec::new();
    let mut cur = e;
    loop {
        match cur {
            Expr::RefDot { refr, field, .. } => {
                steps.push(Accessor::Field(field.1.as_string().map(|s| s.to_string()).unwrap_or_default()));
                cur = refr;
            }
            Expr::RefBrack { refr, index, .. } => {
                steps.push(Accessor::Index(index));
                cur = refr;
            }
            Expr::Var { value, .. } => {
                steps.reverse();
                return (value.as_string().map(|s| s.to_string()).unwrap_or_default(), steps);
            }
            _ => {
                steps.reverse();
                return (String::new(), steps);
            }
        }
    }
}

/// Whether `var` is declared in the body (`var := …`, `some var`), which the guard would then precede.
fn declared_in(q: &Query, var: &str) -> bool {
    q.stmts.iter().any(|s| match &s.literal {
        Literal::SomeVars { vars, .. } => vars.iter().any(|v| v.text() == var),
        Literal::SomeIn { .. } | Literal::Every { .. } => true,
        Literal::Expr { expr, .. } => matches!(expr.as_ref(), Expr::AssignExpr { op: AssignOp::ColEq, lhs, .. }
            if matches!(lhs.as_ref(), Expr::Var { value, .. } if value.as_string().is_ok_and(|v| v.as_ref() == var))),
        Literal::NotExpr { .. } => false,
    })
}

struct Walk<'a> {
    uses: &'a mut Uses,
    package: Vec<String>,
    /// Import aliases → the data path they name.
    aliases: BTreeMap<String, Vec<String>>,
}

impl Walk<'_> {
    /// A `data` reference reaching `path` (static part) that sees what is below it (`whole`) or only
    /// picks into it: any candidate at or below `path` is seen whole; a candidate above is not touched.
    fn touch_data(&mut self, path: &[String], whole: bool) {
        for ((pkg, name), state) in self.uses.iter_mut() {
            let full: Vec<&String> = pkg.iter().chain(std::iter::once(name)).collect();
            let reaches = path.len() <= full.len() && path.iter().zip(&full).all(|(a, b)| a == *b);
            let below = path.len() > full.len() && full.iter().zip(path).all(|(a, b)| *a == b);
            if (reaches && (whole || path.len() < full.len())) || below {
                *state = None;
            }
        }
    }

    fn site(&mut self, id: &RuleId, index: &Expr) {
        let Some(Some(sites)) = self.uses.get_mut(id) else { return };
        let Expr::Object { fields, .. } = index else {
            self.uses.insert(id.clone(), None);
            return;
        };
        let consts = fields
            .iter()
            .filter_map(|(_, k, v)| Some((string_literal(k)?, scalar_text(v)?)))
            .collect::<BTreeMap<_, _>>();
        sites.push(consts);
    }

    fn query(&mut self, q: &Query) {
        for stmt in &q.stmts {
            match &stmt.literal {
                Literal::SomeVars { .. } => {}
                Literal::SomeIn { key, value, collection, .. } => {
                    key.iter().for_each(|k| self.expr(k));
                    self.expr(value);
                    self.expr(collection);
                }
                Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => self.expr(expr),
                Literal::Every { domain, query, .. } => {
                    self.expr(domain);
                    self.query(query);
                }
            }
            for w in &stmt.with_mods {
                // `with data.x as …` replaces what it names: seen whole
                if let Some(path) = data_path(&w.refr) {
                    self.touch_data(&path, true);
                }
                self.expr(&w.refr);
                self.expr(&w.r#as);
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::String { .. }
            | Expr::RawString { .. }
            | Expr::Number { .. }
            | Expr::Bool { .. }
            | Expr::Null { .. } => {}
            Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. } => self.reference(e),
            Expr::Array { items, .. } | Expr::Set { items, .. } => items.iter().for_each(|i| self.expr(i)),
            Expr::Object { fields, .. } => fields.iter().for_each(|(_, k, v)| {
                self.expr(k);
                self.expr(v);
            }),
            Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
                self.expr(term);
                self.query(query);
            }
            Expr::ObjectCompr { key, value, query, .. } => {
                self.expr(key);
                self.expr(value);
                self.query(query);
            }
            Expr::Call { fcn, params, .. } => {
                // a function's name is not a use of a set rule, unless it is one (an error anyway)
                self.reference(fcn);
                params.iter().for_each(|p| self.expr(p));
            }
            Expr::UnaryExpr { expr, .. } => self.expr(expr),
            Expr::BinExpr { lhs, rhs, .. }
            | Expr::BoolExpr { lhs, rhs, .. }
            | Expr::ArithExpr { lhs, rhs, .. }
            | Expr::AssignExpr { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            Expr::Membership { key, value, collection, .. } => {
                key.iter().for_each(|k| self.expr(k));
                self.expr(value);
                self.expr(collection);
            }
        }
    }

    fn reference(&mut self, e: &Expr) {
        let (root, steps) = flatten(e);
        // the static path from `data`, through an import alias or the package's own rules
        let base: Option<Vec<String>> = if root == "data" {
            Some(Vec::new())
        } else if let Some(path) = self.aliases.get(&root) {
            Some(path.clone())
        } else if self.uses.contains_key(&(self.package.clone(), root.clone())) {
            let mut p = self.package.clone();
            p.push(root.clone());
            Some(p)
        } else {
            None
        };
        if let Some(mut path) = base {
            let mut rest = steps.iter();
            let mut next = rest.next();
            while let Some(step) = next {
                let Some(f) = static_field(step) else { break };
                // a constant object key is the lookup of a candidate, not a field of the path
                if let Accessor::Index(Expr::Object { .. }) = step {
                    break;
                }
                path.push(f);
                next = rest.next();
            }
            let candidate =
                (path[..path.len().saturating_sub(1)].to_vec(), path.last().cloned().unwrap_or_default());
            match next {
                Some(Accessor::Index(index)) if !path.is_empty() && self.uses.contains_key(&candidate) => {
                    // `R[{…}]`: a lookup, its constants recorded; anything past it is inside the member
                    if matches!(index, Expr::Object { .. }) {
                        self.site(&candidate, index);
                    } else {
                        self.uses.insert(candidate, None);
                    }
                }
                // the path itself is the value (whole), or something dynamic picks below it
                _ => self.touch_data(&path, next.is_none()),
            }
        }
        for step in &steps {
            if let Accessor::Index(i) = step {
                self.expr(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tables::testing::engine;
    use super::*;

    fn eval(modules: &[Rewritten], input: &serde_json::Value, rule: &str) -> serde_json::Value {
        serde_json::to_value(super::super::tables::testing::eval(modules, input, rule)).unwrap()
    }

    const V0: &str = r#"package k

violation[{"msg": msg}] {
  general_violation[{"msg": msg, "field": "containers"}]
}

violation[{"msg": msg}] {
  general_violation[{"msg": msg, "field": "initContainers"}]
}

general_violation[{"msg": msg, "field": field}] {
  container := input.spec[field][_]
  not container.resources
  msg := sprintf("container <%v> has no resources", [container.name])
}
"#;

    fn pod() -> serde_json::Value {
        serde_json::json!({"spec": {
            "containers": [{"name": "a"}, {"name": "b", "resources": {}}],
            "initContainers": [{"name": "i"}],
            "volumes": [{"name": "v1"}, {"name": "v2"}],
            "securityContext": {"runAsNonRoot": true}
        }})
    }

    #[test]
    fn a_set_looked_up_with_constant_keys_is_computed_for_those_keys_only() {
        let rewritten = rewrite(&mut engine(&[("k.rego", V0)], true)).expect("general_violation narrowed");
        let text = &rewritten[0].text;
        assert!(text.contains(r#"{"containers", "initContainers"}[field]; container :="#), "{text}");
        assert_eq!(text.lines().count(), V0.lines().count());
        let original = [Rewritten { path: "k.rego".into(), text: V0.into(), rego_v0: true }];
        let before = eval(&original, &pod(), "data.k.violation");
        assert_eq!(eval(&rewritten, &pod(), "data.k.violation"), before);
        assert_eq!(before.as_array().map(Vec::len), Some(2), "{before}");
        // the narrowed set no longer holds the volumes' members
        let all = eval(&rewritten, &pod(), "data.k.general_violation");
        assert_eq!(all.as_array().map(Vec::len), Some(2), "{all}");
        assert_eq!(eval(&original, &pod(), "data.k.general_violation").as_array().map(Vec::len), Some(4));
    }

    #[test]
    fn rego_v1_rules_are_narrowed_too() {
        let v1 = r#"package k

violation contains {"msg": msg} if {
  general_violation[{"msg": msg, "field": "containers"}]
}

general_violation contains {"msg": msg, "field": field} if {
  container := input.spec[field][_]
  not container.resources
  msg := sprintf("container <%v> has no resources", [container.name])
}
"#;
        let rewritten = rewrite(&mut engine(&[("k.rego", v1)], false)).expect("narrowed");
        assert!(rewritten[0].text.contains(r#"{"containers"}[field]; "#), "{}", rewritten[0].text);
        let original = [Rewritten { path: "k.rego".into(), text: v1.into(), rego_v0: false }];
        assert_eq!(eval(&rewritten, &pod(), "data.k.violation"), eval(&original, &pod(), "data.k.violation"));
    }

    #[test]
    fn a_set_seen_whole_is_left_alone() {
        for extra in [
            "n := count(general_violation)",
            "general_violation[x]",
            "x := data.k",
            "x := data[\"k\"].general_violation",
            "general_violation[{\"msg\": m, \"field\": f}]",
            "x := data.k.general_violation with input as {}",
        ] {
            let text = format!("{V0}\nother[y] {{ {extra}; y := 1 }}\n");
            assert!(rewrite(&mut engine(&[("k.rego", &text)], true)).is_none(), "{extra}");
        }
        // another package importing the rule sees it whole
        let importer = "package other\nimport data.k.general_violation\nx { general_violation[_] }\n";
        assert!(rewrite(&mut engine(&[("k.rego", V0), ("o.rego", importer)], true)).is_none());
        // a rule callers query is never narrowed
        let direct = "package k\ndeny[{\"m\": m, \"f\": f}] { f := \"x\"; m := 1 }\nr { deny[{\"m\": 1, \"f\": \"x\"}] }\n";
        assert!(rewrite(&mut engine(&[("k.rego", direct)], true)).is_none());
    }

    #[test]
    fn a_key_assigned_in_the_body_is_not_guarded() {
        let text = V0.replace(
            "container := input.spec[field][_]",
            "field := \"containers\"\n  container := input.spec[field][_]",
        );
        assert!(rewrite(&mut engine(&[("k.rego", &text)], true)).is_none());
    }
}
