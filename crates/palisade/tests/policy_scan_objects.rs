//! `scan config --policy B` runs the bundle's Kubernetes policies (CEL, Kyverno, Rego) on the scanned
//! manifests, from the objects the misconfiguration checks parsed, and reports the same decisions as
//! `policy eval` in every format; deny decisions fail the gate.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// palisade-policy's example bundle: CEL (VAP) and Kyverno policies, with manifests in `resources/`.
fn bundle() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-policy/tests/fixtures/policy-bundle")
}

/// The conftest + Gatekeeper example bundle of this crate, with Pods in `inputs/`.
fn rego_bundle() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy-bundle")
}

fn palisade(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).current_dir(cwd).output().expect("run palisade")
}

/// (policy, rule, kind/name, action) of decisions in JSON.
fn keys(decisions: &Value) -> Vec<(String, String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut out: Vec<_> = decisions
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| {
            let o = &d["object"];
            (s(&d["policy"]), s(&d["rule"]), format!("{}/{}", s(&o["kind"]), s(&o["name"])), s(&d["action"]))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn scan_config_policy_evaluates_cel_kyverno_and_rego_on_the_manifests_in_every_format() {
    for (dir, inputs, rego) in [(bundle(), "resources/", false), (rego_bundle(), "inputs/pods.yaml", true)] {
        let eval = palisade(&["policy", "eval", "--bundle", ".", inputs, "--format", "json"], &dir);
        let eval: Value = serde_json::from_slice(&eval.stdout).expect("eval JSON");
        let scan = palisade(&["scan", "config", inputs, "--policy", ".", "-f", "json"], &dir);
        assert_eq!(
            scan.status.code(),
            Some(1),
            "a deny decision fails the gate: {}",
            String::from_utf8_lossy(&scan.stderr)
        );
        let report: Value = serde_json::from_slice(&scan.stdout).expect("report JSON");
        let got = keys(&report["policy"]["decisions"]);
        assert_eq!(got, keys(&eval["decisions"]), "scan config and policy eval disagree");
        let languages: Vec<&str> = report["policy"]["decisions"]
            .as_array()
            .expect("decisions")
            .iter()
            .filter_map(|d| d["language"].as_str())
            .collect();
        if rego {
            assert!(got.iter().any(|k| k.1 == "deny_privileged" && k.2 == "Pod/web"), "{got:?}");
            assert!(languages.iter().all(|l| *l == "rego"), "{languages:?}");
        } else {
            assert!(languages.contains(&"cel") && languages.contains(&"kyverno"), "{languages:?}");
            assert!(got.contains(&(
                "pod-rules".into(),
                "autogen-no-latest".into(),
                "Deployment/web".into(),
                "deny".into()
            )));
        }
        // Every format carries them; the misconfiguration findings stay.
        assert!(report["misconfigurations"].as_array().is_some_and(|m| !m.is_empty()));
        let (policy, rule) = (&got[0].0, &got[0].1);
        for format in ["table", "sarif", "junit"] {
            let out = palisade(&["scan", "config", inputs, "--policy", ".", "-f", format], &dir);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains(policy.as_str()) && text.contains(rule.as_str()), "{format}: {text}");
        }
    }
}

#[test]
fn without_the_misconfig_scanner_only_the_report_is_judged() {
    // `--policy` alone must not make the checks run (or parse) anything the user did not ask for: with the
    // misconfiguration scanner on (the default of `scan config`) the objects are evaluated; with
    // `scan fs --scanners secret` nothing is parsed, so no object decisions appear.
    let out = palisade(
        &["scan", "fs", "resources/", "--scanners", "secret", "--policy", ".", "-f", "json"],
        &bundle(),
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    assert_eq!(report["policy"]["decisions"].as_array().map(Vec::len), Some(0), "{report}");
    let out = palisade(
        &["scan", "fs", "resources/", "--scanners", "misconfig", "--policy", ".", "-f", "json"],
        &bundle(),
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    assert_eq!(report["policy"]["decisions"].as_array().map(Vec::len), Some(8), "{report}");
}
