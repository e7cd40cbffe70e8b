//! `palisade scan config DIR` through the real binary: a directory is checked as one set of objects, and
//! Helm charts are rendered (with a helm binary) or reported as not rendered (without one).

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../palisade-checks/tests/fixtures")
}

/// `palisade ARGS --format json` with no helm reachable unless `--helm` is among the args.
fn scan(args: &[&str]) -> Value {
    let out = Command::cargo_bin("palisade")
        .unwrap_or_else(|e| panic!("{e}"))
        .args(args)
        .args(["--format", "json"])
        .env_remove("PALISADE_HELM")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not JSON: {e}"))
}

fn findings<'a>(report: &'a Value, check: &str) -> Vec<(&'a str, u64)> {
    report["misconfigurations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter(|f| f["check_id"] == check)
        .map(|f| (f["file"].as_str().unwrap_or(""), f["line"].as_u64().unwrap_or(0)))
        .collect()
}

#[test]
fn a_directory_is_one_set_of_objects() {
    let dir = fixtures().join("cross-file");
    let d = dir.to_string_lossy();
    let report = scan(&["scan", "config", &d, "--checks", "network,PAL-K8S-083"]);
    // apps/deployment.yaml is covered by the NetworkPolicy in apps/networkpolicy.yaml; namespace other has
    // none (the apps policy does not reach it).
    assert_eq!(findings(&report, "PAL-K8S-074"), [(format!("{d}/other/deployment.yaml").as_str(), 2)]);
    // Service selectors are matched against workloads of other files, in the Service's namespace only.
    assert_eq!(findings(&report, "PAL-K8S-068"), [(format!("{d}/other/service.yaml").as_str(), 8)]);
    // The binding's ClusterRole is defined in another file.
    assert_eq!(findings(&report, "PAL-K8S-083").len(), 2);
    // Naming the deployment file alone, its policy is not in the set.
    let alone = scan(&["scan", "config", &format!("{d}/apps/deployment.yaml"), "--checks", "PAL-K8S-074"]);
    assert_eq!(findings(&alone, "PAL-K8S-074").len(), 1);
}

#[test]
fn a_chart_without_helm_is_one_warning_and_no_parse_errors() {
    let dir = fixtures().join("helm");
    let d = dir.to_string_lossy();
    let report = scan(&["scan", "config", &d]);
    let warnings = report["warnings"].as_array().cloned().unwrap_or_default();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["path"], format!("{d}/web"));
    let msg = warnings[0]["message"].as_str().unwrap_or("");
    assert!(msg.contains("Helm chart \"web\" was not rendered") && msg.contains("--helm PATH"), "{msg}");
    let files: Vec<String> = report["misconfigurations"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["file"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    assert!(files.iter().all(|f| f.ends_with("helm/service.yaml")), "{files:?}");
}

#[test]
fn a_chart_is_rendered_with_helm() {
    let helm = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.fixtures/bin/helm");
    if !helm.is_file() {
        println!("SKIP a_chart_is_rendered_with_helm: no {} (run .ci/helm.sh)", helm.display());
        return;
    }
    let dir = fixtures().join("helm");
    let d = dir.to_string_lossy();
    let report = scan(&["scan", "config", &d, "--helm", &helm.to_string_lossy(), "--k8s-version", "1.30"]);
    assert_eq!(report["warnings"].as_array().map_or(0, Vec::len), 0, "{}", report["warnings"]);
    let deploy = format!("{d}/web/templates/deployment.yaml");
    assert_eq!(findings(&report, "PAL-PSS-002"), [(deploy.as_str(), 21)]);
    assert!(findings(&report, "PAL-K8S-074").is_empty());
}

#[test]
fn a_missing_helm_binary_is_a_clear_error() {
    Command::cargo_bin("palisade")
        .unwrap_or_else(|e| panic!("{e}"))
        .args(["scan", "config", ".", "--helm", "/nonexistent/helm"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("/nonexistent/helm"));
}
