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

#[test]
fn scan_cluster_runs_manifest_and_cluster_checks_and_matches_component_versions() {
    let dump = posture_fixtures().join("cluster/dump.yaml");
    let dump = dump.to_str().unwrap();
    let o = palisade(&["scan", "cluster", "--from", dump, "--allow-missing-db", "-f", "json", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let ids: Vec<&str> =
        v["misconfigurations"].as_array().unwrap().iter().map(|m| m["check_id"].as_str().unwrap()).collect();
    for id in [
        "PAL-CLU-001",
        "PAL-CLU-002",
        "PAL-CLU-003",
        "PAL-CLU-004",
        "PAL-K8S-068",
        "PAL-K8S-102",
        "PAL-PSS-001",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(!ids.iter().any(|i| i.starts_with("PAL-SCH")), "{ids:?}");
    let purls: Vec<&str> =
        v["packages"].as_array().unwrap().iter().map(|p| p["purl"].as_str().unwrap()).collect();
    assert_eq!(
        purls,
        [
            "pkg:golang/github.com/containerd/containerd@v1.7.0",
            "pkg:golang/github.com/coredns/coredns@v1.11.1",
            "pkg:golang/go.etcd.io/etcd/server/v3@v3.5.12",
            "pkg:golang/k8s.io/kubernetes@v1.30.2",
        ]
    );

    // The component versions against the Go vulnerability database (the corpus in ../shared/data).
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/advisories/osv-go.tar.gz");
    if !corpus.exists() {
        eprintln!("SKIP: {} absent: component vulnerabilities not checked", corpus.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("go.db");
    let o =
        palisade(&["db", "build", "-q", "--from", corpus.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = palisade(&["scan", "cluster", "--from", dump, "--db", db.to_str().unwrap(), "-f", "json", "-q"]);
    let v = json(&o);
    let mut by_pkg: std::collections::BTreeMap<String, usize> = Default::default();
    for f in v["vulnerabilities"].as_array().unwrap() {
        *by_pkg.entry(f["package_name"].as_str().unwrap_or("?").to_string()).or_default() += 1;
    }
    println!("component vulnerabilities by module: {by_pkg:?}");
    assert!(by_pkg.get("k8s.io/kubernetes").is_some_and(|n| *n > 0), "{by_pkg:?}");
    assert!(by_pkg.get("github.com/containerd/containerd").is_some_and(|n| *n > 0), "{by_pkg:?}");
    // The cluster BOM: one component per module version, with the vulnerabilities.
    let o =
        palisade(&["scan", "cluster", "--from", dump, "--db", db.to_str().unwrap(), "-f", "cyclonedx", "-q"]);
    let bom = json(&o);
    assert_eq!(bom["components"].as_array().unwrap().len(), 4);
    assert!(!bom["vulnerabilities"].as_array().unwrap().is_empty());
}

#[test]
fn compliance_report_judges_controls_from_cluster_and_node_reports() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("node");
    std::fs::create_dir_all(root.join("var/lib/kubelet")).unwrap();
    std::fs::write(
        root.join("var/lib/kubelet/config.yaml"),
        "kind: KubeletConfiguration\nauthentication:\n  anonymous: {enabled: true}\nauthorization: {mode: Webhook}\n",
    )
    .unwrap();
    let node_json = dir.path().join("node.json");
    let o =
        palisade(&["scan", "node", root.to_str().unwrap(), "-f", "json", "-o", node_json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cluster_json = dir.path().join("cluster.json");
    let dump = posture_fixtures().join("cluster/dump.yaml");
    let o = palisade(&[
        "scan",
        "cluster",
        "--from",
        dump.to_str().unwrap(),
        "--scanners",
        "misconfig",
        "-f",
        "json",
        "-o",
        cluster_json.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (n, c) = (node_json.to_str().unwrap(), cluster_json.to_str().unwrap());
    let o = palisade(&[
        "compliance",
        "report",
        "--framework",
        "cis-kubernetes",
        n,
        c,
        "-f",
        "json",
        "--exit-code",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let verdict = |id: &str| {
        v["controls"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("{id}"))["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(verdict("4.2.1"), "fail"); // kubelet anonymous auth, from the node report
    assert_eq!(verdict("4.2.2"), "pass");
    assert_eq!(verdict("5.1.2"), "fail"); // shop/web reads Secrets, from the cluster scan's RBAC findings
    assert_eq!(verdict("5.3.2"), "fail"); // namespace shop has no NetworkPolicy
    assert_eq!(verdict("5.2.11"), "pass"); // no Windows HostProcess Pod
    assert_eq!(verdict("5.1.7"), "manual");
    assert_eq!(verdict("1.2.6"), "not-assessed"); // no API server on this node
    assert_eq!(verdict("4.2.4"), "manual"); // Manual in the benchmark: the value is shown, a person decides
    let ev = &v["controls"].as_array().unwrap().iter().find(|c| c["id"] == "5.1.2").unwrap()["evidence"];
    let ev: Vec<&str> = ev.as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert!(
        ev.iter().any(|e| e.starts_with("PAL-RBAC-002 ") && e.contains("ServiceAccount:shop/web")),
        "{ev:?}"
    );
    assert!(ev.iter().any(|e| e.starts_with("PAL-K8S-084 ")), "{ev:?}");

    let o = palisade(&["compliance", "report", "--framework", "nist-800-190", n, c, "-f", "html"]);
    let html = String::from_utf8(o.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && !html.contains("<script") && !html.contains("http://"));
    assert!(html.contains("4.3.3") && html.contains("class=\"fail\""));

    let o = palisade(&["compliance", "report", "--framework", "sox", n]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown framework \"sox\""));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"x\": 1}").unwrap();
    let o = palisade(&["compliance", "report", "--framework", "hipaa", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad.json"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = palisade(&["compliance", "list"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("cis-kubernetes        130"));
}
