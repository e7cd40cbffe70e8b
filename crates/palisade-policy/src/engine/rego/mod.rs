//! Rego policies, run with regorus: conftest policies (`*.rego` files of the bundle, see [`conftest`]) and
//! Gatekeeper `ConstraintTemplate`s with their constraints (see [`gatekeeper`]).
//!
//! Each group of modules that must see each other (all conftest files of a bundle; one template with its
//! libraries) is compiled once into a prototype [`Engine`]. regorus engines are not `Sync`, so evaluations
//! borrow an engine from a per-group pool of clones of the prototype (a clone is made only when every pooled
//! engine is busy): one evaluation per engine at a time, as many at once as there are threads. Measured on
//! the 4,537 PSS fixture Pods with one Gatekeeper template (`tests/rego_pool_bench.rs`): a clone of the
//! compiled prototype per evaluation and a reused engine cost the same (24 and 25 µs per evaluation in the
//! debug profile; regorus shares the compiled modules behind `Arc`s), so the pool exists to bound
//! allocations, not for speed.
//!
//! Functions written as a table of constant definitions (`mem_multiple("Ki") = 1024000 { true }` …) are
//! compiled as one table lookup ([`tables`]), which regorus evaluates far faster and answers the same; a set
//! rule only ever looked up with constant keys is computed for those keys only ([`specialize`]).
//!
//! Limits: regorus has a cooperative wall-clock timer ([`ExecutionTimerConfig`]), checked every few
//! evaluation steps; each evaluation gets the time left before [`Budget::deadline`], or [`DEFAULT_TIME_LIMIT`]
//! without one. regorus counts no steps, so [`Budget::rego_steps`] is not enforced (the timer bounds the
//! same thing). A policy over its limit yields an [`Outcome::Error`] decision naming it.

pub mod builtins;
pub mod compat;
pub mod conftest;
pub mod gatekeeper;
pub mod metadata;
pub mod rvm;
pub mod specialize;
pub mod tables;
pub mod tests;

use crate::bundle::{Bundle, BundleFile};
use crate::engine::{Budget, LoadError, Policy, SourceLocation};
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value as RegoValue};
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Time limit of one Rego evaluation when the budget has no deadline.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(2);

/// The Rego dialect a module is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegoVersion {
    V0,
    V1,
}

/// Which dialects a loader accepts for a module: one, or v1 then v0 (files that do not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionChoice {
    Only(RegoVersion),
    Detect,
}

/// A module to compile: its path (for messages) and text.
#[derive(Debug, Clone)]
pub struct Module {
    pub path: String,
    pub text: String,
    /// First line of the module in `path` (for Rego embedded in YAML); 1 for `.rego` files.
    pub line_offset: usize,
}

/// A compiled group of modules and the engines that evaluate it.
#[derive(Debug)]
pub struct EnginePool {
    prototype: Engine,
    idle: Mutex<Vec<Engine>>,
}

impl Clone for EnginePool {
    fn clone(&self) -> Self {
        EnginePool { prototype: self.prototype.clone(), idle: Mutex::new(Vec::new()) }
    }
}

/// Why one evaluation failed.
#[derive(Debug, Clone)]
pub struct EvalError(pub String);

impl EnginePool {
    /// Build a prototype engine with `modules` (each one that does not parse becomes a [`LoadError`] and is
    /// left out) and `data`. Builtins Palisade adds are registered first.
    pub fn build(
        modules: &[Module],
        choice: VersionChoice,
        data: Option<serde_json::Value>,
        errors: &mut Vec<LoadError>,
    ) -> (EnginePool, Vec<(Module, RegoVersion)>) {
        let mut engine = Engine::new();
        builtins::register(&mut engine);
        let mut loaded = Vec::new();
        for m in modules {
            match add_module(&mut engine, m, choice) {
                Ok(v) => loaded.push((m.clone(), v)),
                Err(e) => errors.push(e),
            }
        }
        if let Some(faster) = tables::rewrite(&mut engine).and_then(|modules| rebuild(&modules)) {
            engine = faster;
        }
        if let Some(narrower) = specialize::rewrite(&mut engine).and_then(|modules| rebuild(&modules)) {
            engine = narrower;
        }
        if let Some(d) = data
            && let Err(e) = engine.add_data(RegoValue::from(d))
        {
            errors.push(LoadError {
                location: SourceLocation {
                    path: modules.first().map(|m| m.path.clone().into()).unwrap_or_default(),
                    line: 0,
                    column: 0,
                },
                message: format!("cannot load data: {e}"),
                unsupported: false,
            });
        }
        (EnginePool { prototype: engine, idle: Mutex::new(Vec::new()) }, loaded)
    }

    /// The prototype, for reading its modules.
    pub fn prototype(&self) -> &Engine {
        &self.prototype
    }

    /// Run `f` with an engine of this pool whose input is `input` (taken by value, so it is converted without
    /// another copy) and whose timer is set from `budget`.
    pub fn with_engine<T>(
        &self,
        input: serde_json::Value,
        extra_data: Option<&serde_json::Value>,
        budget: &Budget,
        f: impl FnOnce(&mut Engine) -> Result<T, EvalError>,
    ) -> Result<T, EvalError> {
        let mut engine = self.take();
        let limit = match budget.deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => DEFAULT_TIME_LIMIT,
        };
        if limit.is_zero() {
            self.give_back(engine);
            return Err(EvalError("the time budget ran out before evaluation".into()));
        }
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit,
            check_interval: NonZeroU32::new(64).unwrap_or(NonZeroU32::MIN),
        });
        engine.set_input(RegoValue::from(input));
        let mut dirty_data = false;
        if let Some(extra) = extra_data {
            dirty_data = true;
            if let Err(e) = engine.add_data(RegoValue::from(extra.clone())) {
                return Err(EvalError(format!("cannot set data: {e}")));
            }
        }
        let result = f(&mut engine);
        if dirty_data {
            // Data added for one evaluation must not leak into the next: start from the prototype again.
            return result;
        }
        self.give_back(engine);
        result
    }

    fn take(&self) -> Engine {
        let popped = self.idle.lock().ok().and_then(|mut v| v.pop());
        popped.unwrap_or_else(|| self.prototype.clone())
    }

    fn give_back(&self, engine: Engine) {
        if let Ok(mut v) = self.idle.lock()
            && v.len() < 64
        {
            v.push(engine);
        }
    }
}

/// A fresh engine with `modules` (as [`tables::rewrite`] gives them back); `None` if any fails to load, and
/// the engine they were rewritten from is kept.
fn rebuild(modules: &[tables::Rewritten]) -> Option<Engine> {
    let mut engine = Engine::new();
    builtins::register(&mut engine);
    for m in modules {
        engine.set_rego_v0(m.rego_v0);
        engine.add_policy(m.path.clone(), m.text.clone()).ok()?;
    }
    Some(engine)
}

/// Add one module, trying the dialects `choice` allows; on failure a [`LoadError`] at the reported place.
fn add_module(engine: &mut Engine, m: &Module, choice: VersionChoice) -> Result<RegoVersion, LoadError> {
    let order: &[RegoVersion] = match choice {
        VersionChoice::Only(RegoVersion::V0) => &[RegoVersion::V0],
        VersionChoice::Only(RegoVersion::V1) => &[RegoVersion::V1],
        VersionChoice::Detect => &[RegoVersion::V1, RegoVersion::V0],
    };
    let mut first_error = None;
    for &v in order {
        engine.set_rego_v0(v == RegoVersion::V0);
        let text = compat::rewrite(&m.text, v == RegoVersion::V0).unwrap_or_else(|| m.text.clone());
        let text = metadata::inline(&text).unwrap_or(text);
        match engine.add_policy(m.path.clone(), text) {
            Ok(_) if v == RegoVersion::V1 => match v1_head_error(engine) {
                // Accepted by regorus but not by OPA: report it like OPA does.
                Some(e) => {
                    return Err(LoadError {
                        location: SourceLocation {
                            path: m.path.clone().into(),
                            line: e.0 + m.line_offset.saturating_sub(1),
                            column: e.1,
                        },
                        message: e.2,
                        unsupported: false,
                    });
                }
                None => return Ok(v),
            },
            Ok(_) => match v0_keyword_error(engine) {
                // Reported in the position format of regorus errors; `load_error` shifts the line.
                Some(e) => {
                    first_error.get_or_insert(format!("\n--> {}:{}:{}\nerror: {}", m.path, e.0, e.1, e.2));
                }
                None => return Ok(v),
            },
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    Err(load_error(&m.path, m.line_offset, &first_error.unwrap_or_default()))
}

/// OPA rejects a Rego v1 partial-set rule written `name[key] if { … }` ("`if` keyword without `contains`
/// keyword"); regorus 0.14 accepts it. Checked on the module just added: `(line, column, message)`.
fn v1_head_error(engine: &mut Engine) -> Option<(usize, usize, String)> {
    use regorus::unstable::{Rule, RuleHead};
    let module = engine.get_modules().last()?.clone();
    for rule in &module.policy {
        let Rule::Spec { head, bodies, .. } = rule.as_ref() else { continue };
        let bad = match head {
            RuleHead::Set { refr, key: Some(_), span } => {
                let src = span.source.contents();
                src.get(refr.span().end as usize..).unwrap_or("").starts_with('[').then_some(span)
            }
            // `name[key] if { … }` read as an object rule with the value `true`.
            // (regorus's span of the ref can stop one character short; the head's span does not).
            RuleHead::Compr { assign: None, span, .. } => {
                span.text().trim_end().ends_with(']').then_some(span)
            }
            _ => None,
        };
        if let Some(span) = bad
            && !bodies.is_empty()
        {
            return Some((
                span.line as usize,
                span.col as usize,
                "'if' keyword without 'contains' keyword: write `name contains key if { … }`".into(),
            ));
        }
    }
    None
}

/// OPA reads `contains` and `if` as keywords in Rego v0 only after `import future.keywords…` or
/// `import rego.v1`; regorus 0.14 always does. A v0 module using them without the import is an error in OPA.
fn v0_keyword_error(engine: &mut Engine) -> Option<(usize, usize, String)> {
    use regorus::unstable::{Rule, RuleHead};
    let module = engine.get_modules().last()?.clone();
    let src = module.package.span.source.contents();
    if src.contains("future.keywords") || src.contains("rego.v1") {
        return None;
    }
    for rule in &module.policy {
        if let Rule::Spec { head: RuleHead::Set { refr, key: Some(_), span }, .. } = rule.as_ref() {
            let after = src.get(refr.span().end as usize..).unwrap_or("").trim_start();
            if after.starts_with("contains") {
                return Some((
                    span.line as usize,
                    span.col as usize,
                    "`contains` is a keyword in Rego v0 only with `import future.keywords.contains` or `import rego.v1`".into(),
                ));
            }
        }
    }
    None
}

/// Turn a regorus error (`--> file:line:col` … `error: message`) into a [`LoadError`], shifting the line by
/// the module's place in its file.
pub fn load_error(path: &str, line_offset: usize, text: &str) -> LoadError {
    let (line, column) = error_position(text);
    let line = if line > 0 { line + line_offset.saturating_sub(1) } else { 0 };
    LoadError {
        location: SourceLocation { path: path.into(), line, column },
        message: error_message(text),
        unsupported: false,
    }
}

/// Line and column of a regorus error message, 0 when it has none.
pub fn error_position(text: &str) -> (usize, usize) {
    let Some(arrow) = text.lines().find_map(|l| l.trim_start().strip_prefix("--> ")) else { return (0, 0) };
    let mut parts = arrow.rsplitn(3, ':');
    let col = parts.next().and_then(|c| c.trim().parse().ok()).unwrap_or(0);
    let line = parts.next().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
    (line, col)
}

/// The message of a regorus error without its source snippet.
pub fn error_message(text: &str) -> String {
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let last = last.strip_prefix("error: ").unwrap_or(last);
    if last.is_empty() { "Rego error".into() } else { last.to_string() }
}

/// A package path without the leading `data.`, as conftest names namespaces.
pub fn package_of(engine: &Engine) -> Vec<(String, String)> {
    engine
        .get_policy_package_components()
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.source_file, p.components.join(".")))
        .collect()
}

/// Names of the rules declared in each module of `engine`, by (source file, package), with the line of
/// their first definition.
pub fn rule_names(engine: &mut Engine) -> Vec<(String, String, String, usize)> {
    let packages = package_of(engine);
    let mut out = Vec::new();
    for (i, module) in engine.get_modules().iter().enumerate() {
        let Some((file, package)) = packages.get(i) else { continue };
        for rule in &module.policy {
            let span = rule.span();
            let text = span.text();
            let name: String = text
                .trim_start()
                .trim_start_matches("default ")
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() || out.iter().any(|(f, p, n, _)| f == file && p == package && *n == name) {
                continue;
            }
            out.push((file.clone(), package.clone(), name, span.line as usize));
        }
    }
    out
}

/// Evaluate `data.<path>` and return it as JSON (`None` when undefined).
pub fn eval_path(engine: &mut Engine, path: &str) -> Result<Option<serde_json::Value>, EvalError> {
    let v = engine.eval_rule(format!("data.{path}")).map_err(|e| EvalError(error_message(&e.to_string())))?;
    if v == RegoValue::Undefined {
        return Ok(None);
    }
    serde_json::to_value(&v).map(Some).map_err(|e| EvalError(format!("result is not JSON: {e}")))
}

/// The dialect choice of a bundle's conftest files: the manifest's `spec.regoVersion`, else detection.
pub fn bundle_choice(bundle: &Bundle) -> VersionChoice {
    match bundle.manifest.rego_version.as_deref() {
        Some("v0") => VersionChoice::Only(RegoVersion::V0),
        Some("v1") => VersionChoice::Only(RegoVersion::V1),
        _ => VersionChoice::Detect,
    }
}

/// The `.rego` files of a bundle as modules; `tests` selects `*_test.rego` files instead of policies.
pub fn rego_modules(bundle: &Bundle, tests: bool) -> Vec<Module> {
    bundle
        .files
        .iter()
        .filter(|f| f.is_rego() && is_test_file(f) == tests)
        .map(|f| Module { path: f.path.display().to_string(), text: f.text.clone(), line_offset: 1 })
        .collect()
}

/// Whether a `.rego` file holds unit tests (`*_test.rego`).
pub fn is_test_file(f: &BundleFile) -> bool {
    Path::new(&f.rel).file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("_test.rego"))
}

/// The Rego loader registered in [`crate::bundle::loaders`]: conftest policies, then Gatekeeper.
pub fn load(bundle: &Bundle, policies: &mut Vec<Box<dyn Policy>>, errors: &mut Vec<LoadError>) {
    conftest::load(bundle, policies, errors);
    gatekeeper::load(bundle, policies, errors);
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn error_positions_are_read_from_regorus_messages() {
        let text = "\n--> p.rego:3:7\n  |\n3 | deny[x {\n  |       ^\nerror: expecting `]`";
        assert_eq!(error_position(text), (3, 7));
        assert_eq!(error_message(text), "expecting `]`");
        let e = load_error("t.yaml", 10, text);
        assert_eq!((e.location.line, e.location.column), (12, 7));
        assert_eq!(error_position("no position"), (0, 0));
    }

    #[test]
    fn a_broken_module_is_reported_and_the_others_load() {
        let mut errors = Vec::new();
        let modules = [
            Module { path: "good.rego".into(), text: "package a\nx := 1\n".into(), line_offset: 1 },
            Module { path: "bad.rego".into(), text: "package b\nx := [\n".into(), line_offset: 1 },
            Module { path: "old.rego".into(), text: "package c\ny[v] { v := 1 }\n".into(), line_offset: 1 },
        ];
        let (pool, loaded) = EnginePool::build(&modules, VersionChoice::Detect, None, &mut errors);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].location.path.ends_with("bad.rego") && errors[0].location.line > 0, "{errors:?}");
        assert_eq!(loaded.iter().map(|(_, v)| *v).collect::<Vec<_>>(), [RegoVersion::V1, RegoVersion::V0]);
        let v = pool
            .with_engine(serde_json::json!({}), None, &Budget::default(), |e| eval_path(e, "c.y"))
            .unwrap();
        assert_eq!(v, Some(serde_json::json!([1])));
    }

    #[test]
    fn a_runaway_policy_stops_at_its_deadline() {
        let mut errors = Vec::new();
        let text = "package slow\nimport rego.v1\nn := count([1 | some a in numbers.range(1, 3000); \
                    some b in numbers.range(1, 3000); a * b > 0])\n";
        let modules = [Module { path: "slow.rego".into(), text: text.into(), line_offset: 1 }];
        let (pool, _) = EnginePool::build(&modules, VersionChoice::Detect, None, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let budget =
            Budget { deadline: Some(Instant::now() + Duration::from_millis(50)), ..Budget::default() };
        let started = Instant::now();
        let r = pool.with_engine(serde_json::json!({}), None, &budget, |e| eval_path(e, "slow.n"));
        assert!(r.is_err(), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }
}

#[cfg(test)]
mod strictness {
    use super::*;

    #[test]
    fn v1_set_rule_without_contains_is_an_error_as_in_opa() {
        let mut errors = Vec::new();
        let m = Module {
            path: "p.rego".into(),
            text: "package main\nimport rego.v1\n\ndeny[msg] if {\n    msg := \"foo\"\n}\n".into(),
            line_offset: 1,
        };
        EnginePool::build(&[m], VersionChoice::Detect, None, &mut errors);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("'if' keyword without 'contains' keyword"), "{errors:?}");
        assert_eq!(errors[0].location.line, 4);
    }
}
