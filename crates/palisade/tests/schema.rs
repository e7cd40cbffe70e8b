//! `scan config` with API schema validation (check group `schema`) through the real binary: the typo the
//! issue names (imagePullPolicy under the wrong key) with line and column, custom resources validated
//! against a CRD given with `--crd`, and clear errors for a bad `--crd` file.

use assert_cmd::Command;
use serde_json::Value;

fn palisade() -> Command {
    Command::cargo_bin("palisade").unwrap()
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              size: {type: integer}\n";

const CR: &str = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n";

fn findings(args: &[&str], stdin: Option<&str>) -> Vec<(String, u64, u64, String)> {
    let mut cmd = palisade();
    cmd.args(args).args(["--checks", "schema", "--format", "json"]);
    if let Some(s) = stdin {
        cmd.write_stdin(s);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.code().is_some_and(|c| c < 2), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["misconfigurations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|m| {
            (
                m["file"].as_str().unwrap().to_string(),
                m["line"].as_u64().unwrap(),
                m["column"].as_u64().unwrap(),
                m["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn misplaced_field_is_reported_with_line_and_column() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n  imagePullPolicy: Always\n";
    let f = findings(&["scan", "config", "-", "--k8s-version", "1.34"], Some(pod));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].0.as_str(), f[0].1, f[0].2), ("stdin", 9, 3));
    assert!(f[0].3.contains("unknown field `imagePullPolicy` (Kubernetes 1.34 schema)"), "{}", f[0].3);
}

#[test]
fn custom_resources_against_a_crd_file() {
    let d = tempfile::tempdir().unwrap();
    let crd = d.path().join("crd.yaml");
    let cr = d.path().join("cr.yaml");
    std::fs::write(&crd, CRD).unwrap();
    std::fs::write(&cr, CR).unwrap();
    let (crd, cr) = (crd.to_str().unwrap(), cr.to_str().unwrap());
    let f = findings(&["scan", "config", cr, "--crd", crd], None);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!((f[0].1, f[0].2), (6, 9));
    assert!(
        f[0].3.contains("spec.size: expected an integer, got string (CRD schema of example.com/v1/Widget)"),
        "{}",
        f[0].3
    );
    assert!(
        findings(&["scan", "config", cr], None).is_empty(),
        "without its CRD a custom resource is skipped"
    );
    // The CRD among the scanned files works the same way.
    assert_eq!(findings(&["scan", "config", cr, crd], None).len(), 1);
}

#[test]
fn a_bad_crd_file_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let not_crd = d.path().join("cm.yaml");
    std::fs::write(&not_crd, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n").unwrap();
    let missing = d.path().join("missing.yaml");
    for (file, why) in [(&not_crd, "no CustomResourceDefinition"), (&missing, "cannot read")] {
        let out = palisade()
            .args(["scan", "config", "-", "--crd", file.to_str().unwrap()])
            .write_stdin("")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(file.to_str().unwrap()) && err.contains(why), "{err}");
    }
}
