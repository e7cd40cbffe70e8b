//! A bundle with CEL and Kyverno policies on the real binary (`scan config --policy`): the policies
//! compile next to the gates, a CEL expression that does not compile and a Kyverno mutate rule are listed
//! with their file, line and column; the broken expression fails the gate (a policy that did not load did
//! not run), the mutate rule is listed as not run without failing it.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[test]
fn load_errors_of_cel_and_kyverno_policies_fail_the_gate_with_their_location() {
    let bundle =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-policy/tests/fixtures/policy-bundle");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - {name: web, image: nginx:1.27}\n",
    )
    .unwrap();
    let out_file = dir.path().join("out.json");
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "config", "pod.yaml", "--policy"])
        .arg(&bundle)
        .args(["--format", "json", "--output"])
        .arg(&out_file)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(v["policy"]["bundle"], "engines-fixture");
    let errors: Vec<&str> =
        v["policy"]["errors"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(
        errors.iter().any(|e| e.contains("cel/broken.yaml:14:") && e.contains("CEL compile error")),
        "{errors:?}"
    );
    let unsupported: Vec<&str> =
        v["policy"]["unsupported"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(
        unsupported.iter().any(|e| e.contains("kyverno/pods.yaml:35:")
            && e.contains("unsupported")
            && e.contains("add-label")),
        "{unsupported:?}"
    );
    assert!(!errors.iter().any(|e| e.contains("add-label")), "{errors:?}");
    // CEL and Kyverno policies select Kubernetes objects, not the scan report: their decisions are about the
    // scanned Pod (the Kyverno rule auditing the default namespace), none about the report.
    let decisions = v["policy"]["decisions"].as_array().unwrap();
    let about_objects: Vec<&Value> =
        decisions.iter().filter(|d| d["language"] == "cel" || d["language"] == "kyverno").collect();
    assert!(
        about_objects.iter().all(|d| d["object"]["kind"] == "Pod" && d["object"]["path"] == "pod.yaml"),
        "{decisions:?}"
    );
    assert!(about_objects.iter().any(|d| d["rule"] == "no-default-namespace"), "{decisions:?}");
}
