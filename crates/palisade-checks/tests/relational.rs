//! Relational checks over a directory as a whole: objects in sibling files count, objects in other
//! namespaces do not (tests/fixtures/cross-file).

use palisade_checks::{CheckOptions, Engine, HelmBinary, Misconfiguration, scan_paths};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn engine(select: &[&str]) -> Engine {
    let opts = CheckOptions {
        select: select.iter().map(|s| s.to_string()).collect(),
        helm: HelmBinary::Disabled,
        ..CheckOptions::default()
    };
    Engine::new(&opts).unwrap_or_else(|e| panic!("{e}"))
}

/// (check, file relative to the fixture dir, line, column) of every finding of the relational checks.
fn relational(paths: &[PathBuf]) -> Vec<(String, String, u32, u32)> {
    let checks = [
        "PAL-K8S-031",
        "PAL-K8S-034",
        "PAL-K8S-052",
        "PAL-K8S-068",
        "PAL-K8S-074",
        "PAL-K8S-083",
        "PAL-K8S-102",
    ];
    let paths: Vec<String> = paths.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let out = scan_paths(engine(&checks), &paths, &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let base = format!("{}/", fixtures().join("cross-file").display());
    out.findings
        .iter()
        .map(|f: &Misconfiguration| {
            (f.check_id.clone(), f.file.strip_prefix(&base).unwrap_or(&f.file).to_string(), f.line, f.column)
        })
        .collect()
}

fn row(check: &str, file: &str, line: u32, col: u32) -> (String, String, u32, u32) {
    (check.to_string(), file.to_string(), line, col)
}

#[test]
fn a_directory_is_checked_as_one_set_per_namespace() {
    let found = relational(&[fixtures().join("cross-file")]);
    let mut want = vec![
        // other/: no NetworkPolicy, ServiceAccount or HPA of its own; apps/'s do not cover it.
        row("PAL-K8S-052", "other/deployment.yaml", 8, 13),
        row("PAL-K8S-074", "other/deployment.yaml", 2, 1),
        row("PAL-K8S-031", "other/deployment.yaml", 17, 7),
        row("PAL-K8S-034", "other/deployment.yaml", 17, 27),
        // Workloads exist in namespace other, none labelled app=api.
        row("PAL-K8S-068", "other/service.yaml", 8, 5),
        // The ClusterRole is in roles.yaml; the Role "power" is in namespace other only.
        row("PAL-K8S-083", "rbac/bindings.yaml", 8, 9),
        row("PAL-K8S-083", "rbac/bindings.yaml", 37, 9),
        // Namespace other has no NetworkPolicy; apps has one in apps/networkpolicy.yaml.
        row("PAL-K8S-102", "namespaces.yaml", 6, 1),
    ];
    want.sort_by(|a, b| (&a.1, a.2, a.3, &a.0).cmp(&(&b.1, b.2, b.3, &b.0)));
    assert_eq!(found, want);
}

#[test]
fn files_named_one_by_one_are_one_set_too() {
    let d = fixtures().join("cross-file");
    // apps/ alone: everything its objects refer to is there.
    let apps = ["deployment", "networkpolicy", "service", "serviceaccount", "hpa"]
        .map(|f| d.join(format!("apps/{f}.yaml")));
    assert_eq!(relational(&apps), Vec::new());
    // Without the policy file, the Deployment is not isolated.
    let found = relational(&[
        d.join("apps/deployment.yaml"),
        d.join("apps/serviceaccount.yaml"),
        d.join("apps/hpa.yaml"),
    ]);
    assert_eq!(found, vec![row("PAL-K8S-074", "apps/deployment.yaml", 1, 1)]);
    // The pod without a namespace is covered by the policy of namespace default in another directory.
    assert_eq!(relational(&[d.join("default/pod.yaml"), d.join("default/policy.yaml")]), Vec::new());
}

#[test]
fn each_file_alone_still_sees_only_itself() {
    let d = fixtures().join("cross-file/apps/deployment.yaml");
    let data = std::fs::read(&d).unwrap_or_else(|e| panic!("{e}"));
    let r = engine(&["PAL-K8S-074", "PAL-K8S-052"]).check_file("deployment.yaml", &data);
    let ids: Vec<&str> = r.findings.iter().map(|f| f.check_id.as_str()).collect();
    assert_eq!(ids, ["PAL-K8S-074", "PAL-K8S-052"]);
}
