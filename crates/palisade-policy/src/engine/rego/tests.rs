//! `palisade policy test` runners for Rego: unit tests (`test_*` rules, as `opa test` and `conftest
//! verify` run them) and gator `Suite` files (`test.gatekeeper.sh/v1alpha1`, as `gator verify` runs them).

use super::gatekeeper::{self, GatekeeperPolicy, Template};
use super::{EnginePool, Module, VersionChoice, eval_path, rego_modules, rule_names};
use crate::bundle::{Bundle, Compiled, Role};
use crate::engine::{Budget, LoadError, Origin, Policy, SourceLocation, Subject, TestResult};
use palisade_core::json::JsonPointer;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Run every `test_*` rule of the bundle's Rego files (policies and `*_test.rego` compiled together).
/// A test passes when it evaluates to `true`; `todo_test_*` rules are reported as skipped.
pub fn run_rego_tests(bundle: &Bundle, _compiled: &Compiled) -> Vec<TestResult> {
    let mut modules = rego_modules(bundle, false);
    modules.extend(rego_modules(bundle, true));
    let mut errors = Vec::new();
    let data = super::conftest::bundle_data(bundle, &mut errors);
    let mut out = load_failures(&errors);
    out.extend(run_modules(&modules, super::bundle_choice(bundle), data, |_| true));
    out
}

fn load_failures(errors: &[LoadError]) -> Vec<TestResult> {
    errors
        .iter()
        .map(|e| TestResult {
            suite: e.location.path.clone(),
            name: "(load)".into(),
            passed: false,
            message: e.to_string(),
            skipped: false,
        })
        .collect()
}

/// Run the `test_*` rules of `modules` in the packages `select` accepts. Modules that fail to load are
/// reported as failed tests named after the file.
pub fn run_modules(
    modules: &[Module],
    choice: VersionChoice,
    data: Option<Value>,
    select: impl Fn(&str) -> bool,
) -> Vec<TestResult> {
    let mut errors: Vec<LoadError> = Vec::new();
    let (pool, _) = EnginePool::build(modules, choice, data, &mut errors);
    let mut out = load_failures(&errors);
    let mut proto = pool.prototype().clone();
    for (file, package, rule, _) in rule_names(&mut proto) {
        if !select(&package) {
            continue;
        }
        let name = format!("data.{package}.{rule}");
        if rule.starts_with("todo_test_") {
            out.push(TestResult {
                suite: file.into(),
                name,
                passed: false,
                message: "todo".into(),
                skipped: true,
            });
            continue;
        }
        if !rule.starts_with("test_") {
            continue;
        }
        let r = pool.with_engine(Value::Null, None, &Budget::default(), |e| {
            eval_path(e, &format!("{package}.{rule}"))
        });
        let (passed, message) = match r {
            Ok(Some(Value::Bool(true))) => (true, String::new()),
            Ok(Some(v)) => (false, format!("result {v}")),
            Ok(None) => (false, "undefined".into()),
            Err(e) => (false, e.0),
        };
        out.push(TestResult { suite: file.into(), name, passed, message, skipped: false });
    }
    out
}

/// Read the documents of a file the suite names: from the bundle when it holds it, else from disk.
fn documents(bundle: &Bundle, path: &Path) -> Result<Vec<Value>, String> {
    if let Some(f) = bundle.files.iter().find(|f| f.path == path) {
        return Ok(f.documents.iter().map(|d| d.value.clone()).collect());
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut out = Vec::new();
    for d in crate::bundle::load_yaml(&text) {
        match d {
            Ok(node) => {
                let v = node.to_json();
                if !v.is_null() {
                    out.push(v);
                }
            }
            Err(e) => return Err(format!("{}:{}:{}: {}", path.display(), e.line, e.col, e.message)),
        }
    }
    Ok(out)
}

/// One gator assertion: `violations` (yes, no or a count) of messages matching `message` (a regular
/// expression; absent = all).
fn check_assertion(a: &Value, messages: &[String]) -> Result<(), String> {
    let pattern = a.get("message").and_then(Value::as_str);
    let re = match pattern.map(regex::Regex::new) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => return Err(format!("bad message pattern: {e}")),
        None => None,
    };
    let n = messages.iter().filter(|m| re.as_ref().is_none_or(|r| r.is_match(m))).count();
    let what = pattern.map(|p| format!(" matching {p:?}")).unwrap_or_default();
    let expect = a.get("violations").cloned().unwrap_or(Value::String("yes".into()));
    let ok = match &expect {
        Value::Bool(b) => (n > 0) == *b,
        Value::String(s) if s.eq_ignore_ascii_case("yes") => n > 0,
        Value::String(s) if s.eq_ignore_ascii_case("no") => n == 0,
        Value::String(s) => s.trim().parse::<usize>().is_ok_and(|c| c == n),
        Value::Number(c) => c.as_u64() == Some(n as u64),
        _ => false,
    };
    if ok { Ok(()) } else { Err(format!("expected violations{what}: {expect}, got {n}: {messages:?}")) }
}

/// Run every gator `Suite` of the bundle.
pub fn run_gator_suites(bundle: &Bundle, _compiled: &Compiled) -> Vec<TestResult> {
    let mut out = Vec::new();
    for (file, doc) in bundle.documents(Role::Test) {
        if doc.kind() == "Suite" && doc.group() == "test.gatekeeper.sh" {
            out.extend(run_suite(bundle, &file.path, &doc.value));
        }
    }
    out
}

/// Run one gator suite (`suite` is the document read from `path`).
pub fn run_suite(bundle: &Bundle, path: &Path, suite: &Value) -> Vec<TestResult> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    let result = |name: String, r: Result<(), String>| TestResult {
        suite: path.to_path_buf(),
        name,
        passed: r.is_ok(),
        message: r.err().unwrap_or_default(),
        skipped: false,
    };
    for test in suite.get("tests").and_then(Value::as_array).into_iter().flatten() {
        let tname = test.get("name").and_then(Value::as_str).unwrap_or("");
        let cases = test.get("cases").and_then(Value::as_array).cloned().unwrap_or_default();
        let prepared = prepare(bundle, dir, test);
        for case in &cases {
            let cname = case.get("name").and_then(Value::as_str).unwrap_or("");
            let name = format!("{tname}/{cname}");
            let r = match &prepared {
                Err(e) => Err(e.clone()),
                Ok((template, policy)) => run_case(bundle, dir, template, policy, case),
            };
            out.push(result(name, r));
        }
    }
    out
}

fn join(dir: &Path, rel: Option<&Value>) -> Option<PathBuf> {
    rel.and_then(Value::as_str).map(|r| dir.join(r))
}

/// Compile a suite test's template and instantiate its constraint.
fn prepare(bundle: &Bundle, dir: &Path, test: &Value) -> Result<(Template, GatekeeperPolicy), String> {
    let tpath = join(dir, test.get("template")).ok_or("the test names no template")?;
    let cpath = join(dir, test.get("constraint")).ok_or("the test names no constraint")?;
    let tdoc = documents(bundle, &tpath)?.into_iter().next().ok_or(format!("{}: empty", tpath.display()))?;
    let cdoc = documents(bundle, &cpath)?.into_iter().next().ok_or(format!("{}: empty", cpath.display()))?;
    let mut errors = Vec::new();
    let template = gatekeeper::compile_template(&tpath, &tdoc, 0, None, &mut errors)
        .ok_or_else(|| errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))?;
    let policy = template.constrain(&cdoc, SourceLocation { path: cpath, line: 1, column: 1 });
    Ok((template, policy))
}

fn run_case(
    bundle: &Bundle,
    dir: &Path,
    _template: &Template,
    policy: &GatekeeperPolicy,
    case: &Value,
) -> Result<(), String> {
    let opath = join(dir, case.get("object")).ok_or("the case names no object")?;
    let object =
        documents(bundle, &opath)?.into_iter().next().ok_or(format!("{}: empty", opath.display()))?;
    let mut inventory = Vec::new();
    for p in case.get("inventory").and_then(Value::as_array).into_iter().flatten() {
        let p = join(dir, Some(p)).ok_or("inventory entries are paths")?;
        inventory.extend(documents(bundle, &p)?);
    }
    let origin = Origin { path: Some(opath.clone()), ..Origin::default() };
    let mut subject = if object.get("kind").and_then(Value::as_str) == Some("AdmissionReview") {
        let req = object.get("request").ok_or("AdmissionReview without request")?;
        Subject::from_admission_request(req, origin).ok_or("AdmissionReview request without object")?
    } else {
        Subject::object(object, origin)
    };
    if let Some(ns) = subject.value.at("/metadata/namespace").and_then(Value::as_str) {
        subject.admission.namespace_object = inventory
            .iter()
            .find(|o| {
                o.get("kind").and_then(Value::as_str) == Some("Namespace")
                    && o.at("/metadata/name").and_then(Value::as_str) == Some(ns)
            })
            .cloned();
    }
    let messages = if policy.selects(&subject) {
        let data = (!inventory.is_empty()).then(|| gatekeeper::inventory(inventory.iter()));
        policy.violations_with(&subject, &Budget::default(), data.as_ref())?
    } else {
        Vec::new()
    };
    let assertions = case.get("assertions").and_then(Value::as_array).cloned().unwrap_or_default();
    let failures: Vec<String> =
        assertions.iter().filter_map(|a| check_assertion(a, &messages).err()).collect();
    if failures.is_empty() { Ok(()) } else { Err(failures.join("; ")) }
}

#[cfg(test)]
mod unit {
    use super::*;
    use serde_json::json;

    #[test]
    fn assertions_count_matching_messages() {
        let msgs = vec!["container a".to_string(), "initContainer b".to_string()];
        assert!(check_assertion(&json!({"violations": "yes"}), &msgs).is_ok());
        assert!(check_assertion(&json!({"violations": 2}), &msgs).is_ok());
        assert!(check_assertion(&json!({"violations": 1, "message": "^init"}), &msgs).is_ok());
        assert!(check_assertion(&json!({"violations": "no"}), &msgs).is_err());
        assert!(check_assertion(&json!({"violations": false}), &[]).is_ok());
    }

    #[test]
    fn rego_unit_tests_pass_fail_and_skip() {
        let m = |p: &str, t: &str| Module { path: p.into(), text: t.into(), line_offset: 1 };
        let modules = [
            m("p.rego", "package main\nimport rego.v1\ndeny contains \"x\" if input.bad\n"),
            m(
                "p_test.rego",
                "package main\nimport rego.v1\ntest_bad if { deny[\"x\"] with input as {\"bad\": true} }\n\
                 test_wrong if { count(deny) == 1 with input as {} }\ntodo_test_later if { false }\n",
            ),
        ];
        let r = run_modules(&modules, VersionChoice::Detect, None, |_| true);
        let got: Vec<_> = r.iter().map(|t| (t.name.as_str(), t.passed, t.skipped)).collect();
        assert_eq!(
            got,
            [
                ("data.main.test_bad", true, false),
                ("data.main.test_wrong", false, false),
                ("data.main.todo_test_later", false, true)
            ]
        );
    }
}
