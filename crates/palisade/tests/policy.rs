//! `palisade policy eval|test|lint` on the real binary with the example bundle in
//! `tests/fixtures/policy-bundle` (conftest Rego with unit tests, a Gatekeeper template, constraint and gator
//! suite; inputs: two Pods and a Dockerfile), and on a bundle with broken files.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bundle() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy-bundle")
}

fn palisade(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).current_dir(cwd).output().unwrap()
}

#[test]
fn eval_reports_each_decision_with_policy_rule_object_and_action() {
    let out = palisade(&["policy", "eval", "--bundle", ".", "inputs/", "--format", "json"], &bundle());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["bundle"]["name"], "example");
    let got: Vec<(String, String, String, String)> = v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let o = &d["object"];
            let object = match o["kind"].as_str() {
                Some(k) => format!("{k}/{}", o["name"].as_str().unwrap()),
                None => o["path"].as_str().unwrap().to_string(),
            };
            (
                d["policy"].as_str().unwrap().into(),
                d["rule"].as_str().unwrap().into(),
                object,
                d["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("main", "deny", "inputs/Dockerfile", "deny"),
        ("main", "deny_privileged", "Pod/web", "deny"),
        ("k8srequiredlabels/pods-need-team", "violation", "Pod/web", "warn"),
    ];
    let want: Vec<(String, String, String, String)> = want
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    // The kube-system Pod is excepted (conftest `exception`) and excluded (constraint `excludedNamespaces`).
    assert_eq!(got, want);

    // Only warnings left: exit 0, unless --fail-on-warn.
    let pods = bundle().join("inputs/pods.yaml");
    let ns = ["policy", "eval", "--bundle", ".", "--namespace", "none", pods.to_str().unwrap()];
    assert_eq!(palisade(&ns, &bundle()).status.code(), Some(0));
    let mut strict = ns.to_vec();
    strict.push("--fail-on-warn");
    assert_eq!(palisade(&strict, &bundle()).status.code(), Some(1));

    let sarif = palisade(&["policy", "eval", "--bundle", ".", "inputs/", "--format", "sarif"], &bundle());
    let s: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(s["runs"][0]["results"].as_array().unwrap().len(), 3);
}

#[test]
fn test_runs_rego_unit_tests_and_gator_suites() {
    let out = palisade(&["policy", "test", "--bundle", ".", "--format", "json"], &bundle());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["passed"].as_u64(), v["failed"].as_u64()), (Some(4), Some(0)));
    let runners: Vec<&str> =
        v["tests"].as_array().unwrap().iter().map(|t| t["runner"].as_str().unwrap()).collect();
    assert_eq!(runners, ["rego", "rego", "gator", "gator"]);
    let tap = palisade(&["policy", "test", "--bundle", ".", "--format", "tap"], &bundle());
    assert!(String::from_utf8_lossy(&tap.stdout).starts_with("1..4\nok 1 "));
}

#[test]
fn a_broken_file_is_reported_and_the_rest_still_runs() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("good.rego"),
        "package main\nimport rego.v1\ndeny contains \"always\" if true\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("bad.rego"),
        "package other\nimport rego.v1\n\ndeny contains msg if {\n  msg := [\n}\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("orphan.yaml"),
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNoSuchTemplate\nmetadata: {name: x}\n",
    )
    .unwrap();
    std::fs::write(d.path().join("input.json"), "{}").unwrap();
    let lint = palisade(&["policy", "lint", "--bundle", "."], d.path());
    assert_eq!(lint.status.code(), Some(1));
    let text = String::from_utf8_lossy(&lint.stdout);
    assert!(text.contains("bad.rego:"), "{text}");
    assert!(text.contains("orphan.yaml:1:1: error: constraint x of kind K8sNoSuchTemplate"), "{text}");
    assert!(text.contains("2 errors"), "{text}");
    // The good policy still runs; the load errors fail the gate too.
    let eval = palisade(&["policy", "eval", "--bundle", ".", "input.json", "--format", "json"], d.path());
    assert_eq!(eval.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&eval.stdout).unwrap();
    assert_eq!(v["decisions"][0]["message"], "always");
    assert_eq!(v["errors"].as_array().unwrap().len(), 2);
}

#[test]
fn a_runaway_policy_is_an_error_decision_not_a_hang() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("slow.rego"),
        "package main\nimport rego.v1\ndeny contains \"big\" if {\n  count([1 | some a in numbers.range(1, 5000); \
         some b in numbers.range(1, 5000)]) > 0\n}\n",
    )
    .unwrap();
    std::fs::write(d.path().join("input.json"), "{}").unwrap();
    let start = std::time::Instant::now();
    let out = palisade(
        &["policy", "eval", "--bundle", ".", "--timeout-ms", "100", "input.json", "--format", "json"],
        d.path(),
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(20), "{:?}", start.elapsed());
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decisions"][0]["outcome"], "error", "{v}");
    assert_eq!(v["decisions"][0]["policy"], "main");
}

#[test]
fn deny_rules_read_a_palisade_scan_report() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("src")).unwrap();
    std::fs::write(d.path().join("src/app.py"), "print('hi')\n").unwrap();
    let report = palisade(&["scan", "fs", "src", "--scanners", "secret", "--format", "json", "-q"], d.path());
    assert!(report.status.success());
    std::fs::write(d.path().join("report.json"), &report.stdout).unwrap();
    std::fs::create_dir_all(d.path().join("pol")).unwrap();
    std::fs::write(
        d.path().join("pol/scan.rego"),
        "package main\nimport rego.v1\ndeny contains msg if {\n  input.artifact.kind == \"fs\"\n  \
         \"secret\" in input.scanners\n  msg := sprintf(\"scan of %s by %s\", [input.artifact.name, input.tool.name])\n}\n",
    )
    .unwrap();
    let out = palisade(&["policy", "eval", "--bundle", "pol", "report.json", "--format", "json"], d.path());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decisions"][0]["message"], "scan of src by palisade", "{v}");
}

#[test]
fn jsonl_streams_the_same_decisions_as_json_one_a_line() {
    let json = palisade(&["policy", "eval", "--bundle", ".", "inputs/", "--format", "json"], &bundle());
    let lines = palisade(&["policy", "eval", "--bundle", ".", "inputs/", "--format", "jsonl"], &bundle());
    assert_eq!(lines.status.code(), json.status.code());
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    let each: Vec<Value> =
        String::from_utf8(lines.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(&each, v["decisions"].as_array().unwrap());
    assert_eq!(each.len(), 3);
}
