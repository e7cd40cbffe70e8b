use super::*;
use palisade_policy::bundle::Bundle;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn policies() -> Vec<Box<dyn Policy>> {
    let compiled = Bundle::read(&fixtures().join("bundle")).unwrap().compile();
    assert!(compiled.errors.is_empty(), "{:?}", compiled.errors);
    compiled.policies
}

/// An AdmissionReview for a fixture object, as the API server sends it.
pub(crate) fn body(api_version: &str, operation: &str, object: &str, extra: Value) -> Vec<u8> {
    let obj: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("objects").join(object)).unwrap()).unwrap();
    let kind = obj["kind"].as_str().unwrap().to_string();
    let (group, version) = match obj["apiVersion"].as_str().unwrap().split_once('/') {
        Some((g, v)) => (g.to_string(), v.to_string()),
        None => (String::new(), obj["apiVersion"].as_str().unwrap().to_string()),
    };
    let mut request = json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_ascii_lowercase())},
        "name": obj["metadata"]["name"],
        "namespace": obj["metadata"]["namespace"],
        "operation": operation,
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": if operation == "DELETE" { Value::Null } else { obj.clone() },
        "oldObject": if operation == "CREATE" { Value::Null } else { obj },
        "dryRun": false
    });
    if let (Some(r), Some(e)) = (request.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            r.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_vec(&json!({"apiVersion": api_version, "kind": "AdmissionReview", "request": request}))
        .unwrap()
}

#[test]
fn privileged_pod_is_denied_with_every_violation_and_the_fix() {
    let r = review(
        &body("admission.k8s.io/v1", "CREATE", "pod-privileged.json", json!({})),
        &policies(),
        &Settings::default(),
        &Context::default(),
    )
    .unwrap();
    assert!(!r.allowed);
    let resp = &r.response["response"];
    assert_eq!(r.response["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(resp["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_eq!(resp["allowed"], false);
    assert_eq!(resp["status"]["code"], 403);
    let msg = resp["status"]["message"].as_str().unwrap();
    assert!(msg.starts_with("palisade denied Pod/prod/debug: 1 policy violated:"), "{msg}");
    assert!(
        msg.contains("[disallow-privileged/privileged-containers]")
            && msg.contains("remove securityContext.privileged"),
        "{msg}"
    );
    assert_eq!(r.object, "Pod/prod/debug");
}

#[test]
fn clean_pod_is_allowed_and_v1beta1_is_answered_in_kind() {
    let r = review(
        &body("admission.k8s.io/v1beta1", "CREATE", "pod.json", json!({})),
        &policies(),
        &Settings::default(),
        &Context::default(),
    )
    .unwrap();
    assert!(r.allowed, "{:#}", r.response);
    assert_eq!(r.response["apiVersion"], "admission.k8s.io/v1beta1");
    assert!(r.response["response"].get("status").is_none());
}

#[test]
fn warn_and_audit_decisions_become_warnings_and_audit_annotations() {
    let r = review(
        &body("admission.k8s.io/v1", "CREATE", "deployment-big.json", json!({})),
        &policies(),
        &Settings::default(),
        &Context::default(),
    )
    .unwrap();
    assert!(r.allowed, "{:#}", r.response);
    let resp = &r.response["response"];
    let warnings: Vec<&str> =
        resp["warnings"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(warnings.iter().any(|w| w.contains("replicas 9 exceed 5")), "{warnings:?}");
    let audit = resp["auditAnnotations"].as_object().unwrap();
    assert!(audit.keys().any(|k| k.starts_with("palisade.dev/require-team-label")), "{audit:?}");
    assert!(audit.values().any(|v| v.as_str().unwrap().contains("label team is required")), "{audit:?}");
}

#[test]
fn delete_judges_the_old_object_and_update_carries_it() {
    let r = review(
        &body("admission.k8s.io/v1", "DELETE", "pod-privileged.json", json!({})),
        &policies(),
        &Settings::default(),
        &Context::default(),
    )
    .unwrap();
    assert_eq!(r.object, "Pod/prod/debug");
    let r = review(
        &body("admission.k8s.io/v1", "UPDATE", "pod-privileged.json", json!({})),
        &policies(),
        &Settings::default(),
        &Context::default(),
    )
    .unwrap();
    assert!(!r.allowed);
}

#[test]
fn exclusions_and_break_glass() {
    let settings = Settings { excluded_namespaces: vec!["prod".into()], ..Settings::default() };
    let r = review(
        &body("admission.k8s.io/v1", "CREATE", "pod-privileged.json", json!({})),
        &policies(),
        &settings,
        &Context::default(),
    )
    .unwrap();
    assert!(r.allowed);
    assert_eq!(r.path, Path::Excluded);
    let settings = Settings { excluded_groups: vec!["system:authenticated".into()], ..Settings::default() };
    let r = review(
        &body("admission.k8s.io/v1", "CREATE", "pod-privileged.json", json!({})),
        &policies(),
        &settings,
        &Context::default(),
    )
    .unwrap();
    assert_eq!(r.path, Path::Excluded);

    let mut pod: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("objects/pod-privileged.json")).unwrap())
            .unwrap();
    pod["metadata"]["annotations"] = json!({"palisade.dev/break-glass": "INC-4711 restore service"});
    let b = body("admission.k8s.io/v1", "CREATE", "pod-privileged.json", json!({"object": pod}));
    let r = review(&b, &policies(), &Settings::default(), &Context::default()).unwrap();
    assert!(r.allowed);
    assert_eq!(r.path, Path::BreakGlass);
    assert_eq!(
        r.response["response"]["auditAnnotations"]["palisade.dev/break-glass"],
        "INC-4711 restore service"
    );
    assert!(r.response["response"]["warnings"][0].as_str().unwrap().contains("recorded"));
}

#[test]
fn malformed_bodies_are_bad_requests_naming_the_problem() {
    let p = policies();
    let s = Settings::default();
    let cases: [(&[u8], &str); 6] = [
        (b"not json", "not JSON"),
        (br#"{"apiVersion":"v1","kind":"AdmissionReview"}"#, "apiVersion"),
        (br#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod"}"#, "kind is not AdmissionReview"),
        (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#, "no request"),
        (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}"#, "uid"),
        (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"PATCH","object":{}}}"#, "PATCH"),
    ];
    for (b, want) in cases {
        let e = review(b, &p, &s, &Context::default()).unwrap_err().to_string();
        assert!(e.contains(want), "{e} should name {want}");
    }
    let b = br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE"}}"#;
    assert!(
        review(b, &p, &s, &Context::default()).unwrap_err().to_string().contains("request.object is missing")
    );
}

#[test]
fn annotation_keys_are_valid_qualified_names() {
    let k = annotation_key("a policy/with spaces", &"r".repeat(100), 3);
    assert!(k.len() <= 63, "{k}");
    assert!(k.ends_with(".3"));
    assert!(k.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "{k}");
}
