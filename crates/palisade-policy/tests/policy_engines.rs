//! The CEL and Kyverno engines through the bundle API, on the fixture bundle in
//! `tests/fixtures/policy-bundle`: loading (errors and unsupported rules named, the rest loads),
//! decisions (policy, rule, message, action), the CEL cost budget, and the `kyverno-test.yaml` runner.

use palisade_policy::bundle::{Bundle, test_runners};
use palisade_policy::engine::{Action, Budget, Decision, Language, Origin, Outcome, Subject, evaluate_all};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy-bundle")
}

fn workloads() -> Vec<Value> {
    let text = std::fs::read_to_string(fixture().join("resources/workloads.yaml")).unwrap();
    palisade_checks::yaml::load_all(&text).into_iter().map(|d| d.unwrap().to_json()).collect()
}

fn object(name: &str) -> Subject {
    let v = workloads()
        .into_iter()
        .find(|o| o.pointer("/metadata/name").and_then(Value::as_str) == Some(name))
        .unwrap();
    Subject::object(v, Origin::default())
}

fn rules(ds: &[Decision], policy: &str) -> Vec<String> {
    let mut r: Vec<String> = ds.iter().filter(|d| d.policy == policy).map(|d| d.rule.clone()).collect();
    r.sort();
    r
}

#[test]
fn loads_reports_errors_and_unsupported_rules() {
    let bundle = Bundle::read(&fixture()).unwrap();
    let compiled = bundle.compile();
    let names: Vec<&str> = compiled.policies.iter().map(|p| p.name()).collect();
    assert!(
        names.contains(&"replica-limit")
            && names.contains(&"require-team-label")
            && names.contains(&"pod-rules"),
        "{names:?}"
    );
    assert!(!names.contains(&"broken"));
    let broken =
        compiled.errors.iter().find(|e| e.message.contains("broken")).expect("broken policy reported");
    assert!(broken.location.path.ends_with("cel/broken.yaml") && !broken.unsupported, "{broken}");
    assert!(broken.message.contains("spec.validations[0].expression"), "{broken}");
    let mutate =
        compiled.errors.iter().find(|e| e.message.contains("add-label")).expect("mutate rule reported");
    assert!(mutate.unsupported && mutate.location.path.ends_with("kyverno/pods.yaml"), "{mutate}");
}

#[test]
fn cel_decisions_with_params_bindings_and_actions() {
    let compiled = Bundle::read(&fixture()).unwrap().compile();
    let budget = Budget::default();
    let web = evaluate_all(&compiled.policies, &object("web"), &budget);
    let vap: Vec<&Decision> = web.iter().filter(|d| d.policy == "replica-limit").collect();
    assert_eq!(
        rules(&web, "replica-limit"),
        ["auditAnnotations[replicas]", "validations[0]", "validations[1]"]
    );
    let replicas = vap.iter().find(|d| d.rule == "validations[0]").unwrap();
    assert_eq!(replicas.message, "Invalid: replicas 5 exceed 3");
    assert_eq!(
        (replicas.action, replicas.language, replicas.outcome),
        (Action::Warn, Language::Cel, Outcome::Violation)
    );
    assert!(replicas.source.as_ref().unwrap().path.ends_with("cel/replicas.yaml"));
    // `web` has the team label and a small memory limit: the ValidatingPolicy passes.
    assert!(rules(&web, "require-team-label").is_empty());
    let small = evaluate_all(&compiled.policies, &object("small"), &budget);
    assert!(rules(&small, "replica-limit").is_empty());
    let vpol: Vec<&Decision> = small.iter().filter(|d| d.policy == "require-team-label").collect();
    assert_eq!(vpol.len(), 2, "{vpol:?}");
    assert!(vpol.iter().all(|d| d.action == Action::Deny));
    assert!(vpol.iter().any(|d| d.message.contains("under 2Gi")));
    // Pods are not selected by either CEL policy.
    let pod = evaluate_all(&compiled.policies, &object("pinned-pod"), &budget);
    assert!(pod.iter().all(|d| d.language != Language::Cel));
}

#[test]
fn cel_budget_exceeded_is_an_error_naming_the_policy() {
    let compiled = Bundle::read(&fixture()).unwrap().compile();
    let tight = Budget { cel_cost: 5, ..Budget::default() };
    let ds = evaluate_all(&compiled.policies, &object("web"), &tight);
    let err = ds.iter().find(|d| d.policy == "replica-limit").unwrap();
    assert_eq!(err.outcome, Outcome::Error);
    assert!(
        err.message.contains("replica-limit") && err.message.contains("exceeds the budget"),
        "{}",
        err.message
    );
}

#[test]
fn kyverno_decisions_autogen_and_exceptions() {
    let compiled = Bundle::read(&fixture()).unwrap().compile();
    let budget = Budget::default();
    let latest = evaluate_all(&compiled.policies, &object("latest-pod"), &budget);
    assert_eq!(rules(&latest, "pod-rules"), ["no-latest"]);
    let d = latest.iter().find(|d| d.policy == "pod-rules").unwrap();
    assert_eq!((d.action, d.language), (Action::Deny, Language::Kyverno));
    assert!(d.message.contains("images must not use the latest tag"), "{}", d.message);
    // The exception exempts the sandbox namespace.
    assert!(
        rules(&evaluate_all(&compiled.policies, &object("sandbox-pod"), &budget), "pod-rules").is_empty()
    );
    // A Deployment gets the auto-generated rule.
    assert_eq!(
        rules(&evaluate_all(&compiled.policies, &object("web"), &budget), "pod-rules"),
        ["autogen-no-latest"]
    );
    // The deny rule's message substitutes variables; its action is the rule's failureAction.
    let pinned = evaluate_all(&compiled.policies, &object("pinned-pod"), &budget);
    let d = pinned.iter().find(|d| d.rule == "no-default-namespace").unwrap();
    assert_eq!(d.action, Action::Audit);
    assert!(d.message.contains("Pod pinned-pod is in the default namespace"), "{}", d.message);
}

#[test]
fn kyverno_test_runner_runs_the_fixture_test() {
    let bundle = Bundle::read(&fixture()).unwrap();
    let compiled = bundle.compile();
    let (_, run) = test_runners().iter().find(|(n, _)| *n == "kyverno").unwrap();
    let results = run(&bundle, &compiled);
    assert_eq!(results.len(), 5, "{results:#?}");
    for r in &results {
        assert!(r.passed, "{} {}: {}", r.suite.display(), r.name, r.message);
    }
}
