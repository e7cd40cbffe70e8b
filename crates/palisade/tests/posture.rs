//! Cluster posture on the real binary: `rbac`, `scan node`, `scan cluster` and `compliance report` on
//! fixture dumps and node trees (crate `palisade-posture`). No API server runs here: dumps are the input.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn posture_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-posture/tests/fixtures")
}

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    })
}

#[test]
fn rbac_analyze_who_can_and_can() {
    let risky = posture_fixtures().join("rbac/risky.yaml");
    let risky = risky.to_str().unwrap();
    let o = palisade(&["rbac", "analyze", "--from", risky, "--format", "json", "--exit-code", "3"]);
    assert_eq!(o.status.code(), Some(3));
    let v = json(&o);
    assert_eq!(v["findings"].as_array().unwrap().len(), 23);
    let clean = posture_fixtures().join("rbac/clean.json");
    let o = palisade(&["rbac", "analyze", "--from", clean.to_str().unwrap(), "--exit-code", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));

    let o = palisade(&["rbac", "who-can", "get", "secrets", "--from", risky]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("User:ci-bot (cluster-wide)") && text.ends_with("3 subjects\n"), "{text}");

    let o = palisade(&[
        "rbac",
        "can",
        "ServiceAccount:team-a/deployer",
        "create",
        "deployments",
        "-n",
        "team-a",
        "--from",
        risky,
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = palisade(&[
        "rbac",
        "can",
        "ServiceAccount:team-a/deployer",
        "create",
        "deployments",
        "-n",
        "team-b",
        "--from",
        risky,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "no\n");
    let o = palisade(&["rbac", "who-can", "get", "pods/", "--from", risky]);
    assert_eq!(o.status.code(), Some(2));
    let o = palisade(&["rbac", "who-can", "get", "pods", "--from", "/nonexistent/dump.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/dump.yaml"));
}

#[test]
fn scan_node_reports_controls_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("var/lib/kubelet")).unwrap();
    std::fs::write(
        root.join("var/lib/kubelet/config.yaml"),
        "kind: KubeletConfiguration\nauthentication:\n  anonymous: {enabled: true}\nauthorization: {mode: Webhook}\n",
    )
    .unwrap();
    let o = palisade(&["scan", "node", root.to_str().unwrap(), "-f", "json", "--exit-code", "4"]);
    assert_eq!(o.status.code(), Some(4), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let r = v["results"].as_array().unwrap();
    let c = r.iter().find(|c| c["id"] == "4.2.1").unwrap();
    assert_eq!(c["status"], "fail");
    assert_eq!(c["evidence"][0], "/var/lib/kubelet/config.yaml: authentication.anonymous.enabled: true");
    assert_eq!(r.iter().find(|c| c["id"] == "4.2.2").unwrap()["status"], "pass");
    assert_eq!(r.iter().find(|c| c["id"] == "1.2.6").unwrap()["status"], "not-applicable");
    let o = palisade(&["scan", "node", root.join("nope").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope: not a directory"));
}
