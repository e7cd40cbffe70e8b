use crate::bundle::Bundle;
use crate::engine::{Action, Budget, Decision, Origin, Subject, SubjectKind, evaluate_all};
use serde_json::{Value, json};

fn bundle(gates: &str) -> crate::bundle::Compiled {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("gates.yaml"), gates).unwrap();
    let b = Bundle::read(d.path()).unwrap();
    b.compile()
}

fn report() -> Value {
    json!({
        "schema_version": 1,
        "tool": {"name": "palisade", "version": "0"},
        "created": "2026-01-01T00:00:00Z",
        "artifact": {
            "kind": "image", "name": "nginx:1.25", "repo_tags": ["nginx:1.25"],
            "config": {"user": "", "created": "2020-01-01T00:00:00Z"}
        },
        "packages": [],
        "vulnerabilities": [
            {"id": "CVE-2024-0001", "aliases": ["GHSA-aaaa"], "package_name": "openssl", "package_version": "3.0.1",
             "installed_version": "3.0.1", "ecosystem": "debian", "purl": "pkg:deb/debian/openssl@3.0.1",
             "locations": [{"path": "var/lib/dpkg/status"}], "fixed_version": "3.0.2", "status": "fixed",
             "severity": "critical", "published": "2024-01-01T00:00:00Z"},
            {"id": "CVE-2026-0002", "package_name": "lodash", "package_version": "4.17.20",
             "installed_version": "4.17.20", "ecosystem": "npm", "purl": "pkg:npm/lodash@4.17.20",
             "locations": [{"path": "app/package-lock.json"}], "status": "affected", "severity": "high",
             "exploit": {"kev_added": "2026-03-02", "ransomware": true, "epss": 0.42, "epss_percentile": 0.97}},
            {"id": "CVE-2024-0003", "package_name": "zlib", "package_version": "1", "installed_version": "1",
             "ecosystem": "debian", "purl": "pkg:deb/debian/zlib@1", "locations": [], "fixed_version": "2",
             "status": "fixed", "severity": "critical", "suppressed": "ignored by .trivyignore"}
        ],
        "secrets": [
            {"rule_id": "aws-access-key-id", "title": "AWS", "severity": "critical", "path": "app/.env", "line": 3,
             "column": 1, "redacted": "AKIA****", "fingerprint": "x"}
        ],
        "misconfigurations": [
            {"check_id": "PAL-PSS-001", "title": "t", "severity": "high", "file": "k8s/pod.yaml", "line": 7,
             "column": 3, "message": "privileged", "remediation": "r"}
        ],
        "scanners": ["vuln", "secret", "misconfig", "license"],
        "licenses": [
            {"source": "package", "package": "bash", "version": "5.2", "purl": "pkg:deb/debian/bash@5.2",
             "raw": "GPL-3+", "expression": "GPL-3.0-or-later", "category": "restricted", "severity": "high",
             "path": "usr/share/doc/bash/copyright"},
            {"source": "package", "package": "dual", "version": "1", "purl": "pkg:npm/dual@1",
             "raw": "MIT OR GPL-3.0-only", "expression": "MIT OR GPL-3.0-only", "category": "notice",
             "severity": "low", "path": "app/node_modules/dual/package.json"},
            {"source": "file", "raw": "unknown", "category": "unknown", "severity": "unknown",
             "path": "opt/x/LICENSE"}
        ]
    })
}

fn run(gates: &str) -> Vec<Decision> {
    let compiled = bundle(gates);
    assert!(compiled.errors.is_empty(), "{:?}", compiled.errors);
    let subject = Subject {
        memo: Default::default(),
        kind: SubjectKind::ScanReport,
        value: report(),
        origin: Origin::default(),
        admission: Default::default(),
    };
    evaluate_all(&compiled.policies, &subject, &Budget::default())
}

const HEAD: &str = "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: g}\n";

#[test]
fn fixable_critical_vulnerabilities_fail_and_suppressed_ones_do_not_count() {
    let d = run(&format!("{HEAD}spec: {{vulnerabilities: {{severities: [CRITICAL], fixable: true}}}}\n"));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].action, Action::Deny);
    assert_eq!(d[0].rule, "vulnerabilities");
    assert!(d[0].message.starts_with("CVE-2024-0001 (critical) in openssl 3.0.1"), "{}", d[0].message);
    assert!(d[0].message.contains("fixed in 3.0.2"), "{}", d[0].message);
    assert_eq!(d[0].object.kind.as_deref(), Some("Image"));
    assert_eq!(d[0].object.name.as_deref(), Some("nginx:1.25"));
}

#[test]
fn age_ecosystem_package_and_id_conditions() {
    // Published in 2024: older than 30 days. The npm finding has no publication date: it cannot count.
    let d = run(&format!("{HEAD}spec: {{vulnerabilities: {{minAge: 30d}}}}\n"));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(d[0].message.contains("published"), "{}", d[0].message);
    let d = run(&format!("{HEAD}spec: {{vulnerabilities: {{ecosystems: [npm], packages: ['lod*']}}}}\n"));
    assert_eq!(d.len(), 1);
    assert!(d[0].message.contains("no fix yet"));
    let d = run(&format!("{HEAD}spec: {{vulnerabilities: {{ids: ['GHSA-*']}}}}\n"));
    assert_eq!(d.len(), 1);
    assert!(d[0].message.starts_with("CVE-2024-0001"));
}

#[test]
fn exploited_vulnerabilities_by_kev_and_epss() {
    // Only the lodash finding carries exploit data; the openssl one has none and never counts.
    let d = run(&format!("{HEAD}spec: {{vulnerabilities: {{kev: true}}}}\n"));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(d[0].message.ends_with("in CISA KEV since 2026-03-02, used by ransomware"), "{}", d[0].message);
    let d = run(&format!("{HEAD}spec: {{vulnerabilities: {{epss: {{min: 0.4, minPercentile: 0.95}}}}}}\n"));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(d[0].message.ends_with("EPSS 0.420, percentile 97"), "{}", d[0].message);
    assert!(run(&format!("{HEAD}spec: {{vulnerabilities: {{epss: {{min: 0.5}}}}}}\n")).is_empty());
    // With other conditions: all must hold (lodash is high, not critical).
    assert!(
        run(&format!("{HEAD}spec: {{vulnerabilities: {{kev: true, severities: [CRITICAL]}}}}\n")).is_empty()
    );
    let bad = bundle(&format!("{HEAD}spec: {{vulnerabilities: {{epss: {{min: 2}}}}}}\n"));
    let e = format!("{:?}", bad.errors);
    assert!(e.contains("spec.vulnerabilities.epss.min: 2 is not between 0 and 1"), "{e}");
}

#[test]
fn secrets_misconfigurations_by_group_and_action() {
    let d = run(&format!(
        "{HEAD}spec: {{action: warn, secrets: {{}}, misconfigurations: {{groups: ['pss:baseline']}}}}\n"
    ));
    assert_eq!(d.len(), 2, "{d:#?}");
    assert!(d.iter().all(|d| d.action == Action::Warn));
    assert!(d.iter().any(|d| d.message == "secret aws-access-key-id (critical) in app/.env:3"));
    assert!(d.iter().any(|d| d.message.starts_with("PAL-PSS-001 (high) in k8s/pod.yaml:7")));
    let d = run(&format!("{HEAD}spec: {{misconfigurations: {{ids: ['PAL-DF-*']}}}}\n"));
    assert!(d.is_empty());
}

#[test]
fn image_facts() {
    let d = run(&format!(
        "{HEAD}spec: {{image: {{registries: [registry.acme.io], runAsRoot: false, maxAge: 90d}}}}\n"
    ));
    let rules: Vec<_> = d.iter().map(|d| d.rule.as_str()).collect();
    assert_eq!(rules, ["image.registries", "image.runAsRoot", "image.maxAge"], "{d:#?}");
    assert!(d[0].message.contains("docker.io/library/nginx"), "{}", d[0].message);
    let d = run(&format!("{HEAD}spec: {{image: {{registries: [docker.io/library]}}}}\n"));
    assert!(d.is_empty(), "{d:#?}");
}

#[test]
fn scope_selects_images_and_paths() {
    let d = run(&format!("{HEAD}spec: {{scope: {{images: ['ghcr.io/**']}}, secrets: {{}}}}\n"));
    assert!(d.is_empty());
    let d =
        run(&format!("{HEAD}spec: {{scope: {{paths: ['app/**']}}, secrets: {{}}, vulnerabilities: {{}}}}\n"));
    assert_eq!(d.len(), 2, "{d:#?}");
    // Namespaced gates never select a report scanned outside admission.
    let d = run(&format!("{HEAD}spec: {{scope: {{namespaces: [prod]}}, secrets: {{}}}}\n"));
    assert!(d.is_empty());
}

#[test]
fn waivers_audit_and_expired_waivers_warn() {
    let d = run(&format!(
        "{HEAD}spec:\n  vulnerabilities: {{severities: [CRITICAL]}}\n  waivers:\n\
         \x20   - {{id: CVE-2024-0001, owner: team-a, reason: not reachable, expires: 2999-01-01}}\n"
    ));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!((d[0].rule.as_str(), d[0].action), ("waived", Action::Audit));
    assert!(d[0].message.contains("team-a: not reachable, until 2999-01-01"), "{}", d[0].message);
    let d = run(&format!(
        "{HEAD}spec:\n  vulnerabilities: {{severities: [CRITICAL]}}\n  waivers:\n\
         \x20   - {{package: 'pkg:deb/debian/openssl*', reason: accepted, expires: 2001-01-01}}\n"
    ));
    let rules: Vec<_> = d.iter().map(|d| (d.rule.as_str(), d.action)).collect();
    assert_eq!(rules, [("vulnerabilities", Action::Deny), ("waiver-expired", Action::Warn)], "{d:#?}");
    assert!(d[1].message.contains("expired on 2001-01-01"), "{}", d[1].message);
}

#[test]
fn bad_gates_are_load_errors_naming_file_line_and_field() {
    let c = bundle(&format!(
        "{HEAD}spec: {{vulnerabilities: {{severity: [HIGH]}}}}\n---\n{HEAD}spec: {{action: block, secrets: {{}}}}\n\
         ---\n{HEAD}spec: {{}}\n---\n{HEAD}spec: {{secrets: {{}}, waivers: [{{id: X, reason: ''}}]}}\n---\n\
         {HEAD}spec: {{misconfigurations: {{groups: [nope]}}}}\n---\n{HEAD}spec: {{image: {{maxAge: soon}}}}\n"
    ));
    assert!(c.policies.is_empty());
    let msgs: Vec<String> = c.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(msgs.len(), 6, "{msgs:#?}");
    assert!(
        msgs[0].contains(
            "gates.yaml:4:26: error: Gate \"g\": spec.vulnerabilities.severity: unknown field `severity`"
        ),
        "{}",
        msgs[0]
    );
    assert!(
        msgs[1].contains("gates.yaml:9:8:") && msgs[1].contains("not one of deny, warn, audit"),
        "{}",
        msgs[1]
    );
    assert!(msgs[2].contains("needs at least one of"), "{}", msgs[2]);
    assert!(msgs[3].contains("gates.yaml:19:") && msgs[3].contains("needs a reason"), "{}", msgs[3]);
    assert!(msgs[4].contains("no check is in the group \"nope\""), "{}", msgs[4]);
    assert!(msgs[5].contains("spec.image.maxAge"), "{}", msgs[5]);
}

#[test]
fn not_a_report_is_an_error_decision() {
    let compiled = bundle(&format!("{HEAD}spec: {{secrets: {{}}}}\n"));
    let subject = Subject {
        memo: Default::default(),
        kind: SubjectKind::ScanReport,
        value: json!({"artifact": 3}),
        origin: Origin::default(),
        admission: Default::default(),
    };
    let d = evaluate_all(&compiled.policies, &subject, &Budget::default());
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].outcome, crate::engine::Outcome::Error);
    // Gates never select Kubernetes objects.
    let pod = Subject::object(json!({"apiVersion": "v1", "kind": "Pod"}), Origin::default());
    assert!(evaluate_all(&compiled.policies, &pod, &Budget::default()).is_empty());
}

#[test]
fn repository_names() {
    use super::view::repository;
    assert_eq!(repository("nginx"), "docker.io/library/nginx");
    assert_eq!(repository("nginx:1.25"), "docker.io/library/nginx");
    assert_eq!(repository("bitnami/redis:7"), "docker.io/bitnami/redis");
    assert_eq!(repository("localhost:5000/app:1@sha256:ab"), "localhost:5000/app");
    assert_eq!(repository("ghcr.io/a/b@sha256:ab"), "ghcr.io/a/b");
}

#[test]
fn licences_with_expression_semantics_and_waivers() {
    let d = run(&format!("{HEAD}spec: {{licenses: {{failOn: [forbidden, restricted]}}}}\n"));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].rule, "licenses");
    assert_eq!(
        d[0].message,
        "bash 5.2: licence GPL-3.0-or-later fails failOn restricted (from usr/share/doc/bash/copyright)"
    );
    // MIT OR GPL-3.0-only passes with MIT allowed; the unread file follows `unknown`.
    let d = run(&format!("{HEAD}spec: {{licenses: {{allow: [MIT, GPL-3.0-or-later], unknown: ignore}}}}\n"));
    assert!(d.iter().all(|d| !d.message.contains("dual")), "{d:#?}");
    let d = run(&format!("{HEAD}spec: {{licenses: {{deny: [AGPL-3.0], unknown: fail}}}}\n"));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].message.starts_with("opt/x/LICENSE: licence unknown fails unknown fail"),
        "{}",
        d[0].message
    );
    // A waiver by licence id and package gives an audit decision.
    let d = run(&format!(
        "{HEAD}spec:\n  licenses: {{deny: [GPL-3.0]}}\n  waivers:\n  - {{id: GPL-3.0-or-later, package: bash, reason: build only}}\n"
    ));
    assert_eq!((d[0].rule.as_str(), d[0].action), ("waived", Action::Audit), "{d:#?}");
    // Bad entries are errors naming the key.
    let compiled = bundle(&format!("{HEAD}spec: {{licenses: {{failOn: [scary]}}}}\n"));
    assert!(
        compiled.errors.iter().any(|e| format!("{e:?}").contains("spec.licenses.failOn")),
        "{:?}",
        compiled.errors
    );
}

fn on_object(gates: &str, object: Value, namespace: Option<Value>) -> Vec<Decision> {
    let compiled = bundle(gates);
    assert!(compiled.errors.is_empty(), "{:?}", compiled.errors);
    let mut subject = Subject::object(object, Origin::default());
    subject.admission.namespace_object = namespace;
    evaluate_all(&compiled.policies, &subject, &Budget::default())
}

fn pod(kind: &str) -> Value {
    let spec = json!({"containers": [{"name": "app", "image": "nginx:1.27", "securityContext": {"privileged": true}}]});
    match kind {
        "Pod" => {
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}, "spec": spec})
        }
        _ => json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "d", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": spec}}}),
    }
}

fn namespace(labels: Value) -> Option<Value> {
    Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": labels}}))
}

#[test]
fn misconfiguration_gates_judge_objects_with_palisade_checks() {
    let d = on_object(
        &format!("{HEAD}spec: {{misconfigurations: {{groups: ['pss:baseline']}}}}\n"),
        pod("Pod"),
        None,
    );
    assert!(!d.is_empty(), "{d:#?}");
    assert!(d.iter().all(|d| d.rule == "misconfigurations" && d.action == Action::Deny), "{d:#?}");
    assert!(
        d.iter().any(|d| d.message.contains("(container app)") && d.message.contains("rivileged")),
        "{d:#?}"
    );
    // Not in the group: nothing.
    let clean = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}});
    assert!(
        on_object(&format!("{HEAD}spec: {{misconfigurations: {{groups: ['pss:baseline']}}}}\n"), clean, None)
            .is_empty()
    );
    // A gate without misconfigurations or podSecurity does not judge objects at all.
    assert!(on_object(&format!("{HEAD}spec: {{vulnerabilities: {{}}}}\n"), pod("Pod"), None).is_empty());
}

#[test]
fn pod_security_follows_namespace_labels_as_admission_does() {
    let gate = format!("{HEAD}spec: {{action: deny, podSecurity: {{level: baseline}}}}\n");
    // No labels: the gate's level and action.
    let d = on_object(&gate, pod("Pod"), None);
    assert!(
        !d.is_empty() && d.iter().all(|d| d.rule == "pod-security-baseline" && d.action == Action::Deny),
        "{d:#?}"
    );
    assert!(d[0].message.starts_with("Pod Security baseline: PAL-PSS-"), "{}", d[0].message);
    // enforce=privileged: nothing is checked.
    assert!(
        on_object(&gate, pod("Pod"), namespace(json!({"pod-security.kubernetes.io/enforce": "privileged"})))
            .is_empty()
    );
    // enforce=restricted refuses Pods (restricted includes baseline), warn=baseline warns too.
    let labels = json!({"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "baseline"});
    let d = on_object(&gate, pod("Pod"), namespace(labels.clone()));
    assert!(d.iter().any(|d| d.rule == "pod-security-restricted" && d.action == Action::Deny), "{d:#?}");
    assert!(d.iter().any(|d| d.rule == "pod-security-baseline" && d.action == Action::Warn), "{d:#?}");
    assert!(d.iter().any(|d| d.message.contains("namespace label enforce")), "{d:#?}");
    // For a Deployment, enforce only warns: its Pods will be refused.
    let d = on_object(&gate, pod("Deployment"), namespace(labels));
    assert!(d.iter().all(|d| d.action != Action::Deny), "{d:#?}");
    assert!(d.iter().any(|d| d.message.contains("the Pods it creates will be refused")), "{d:#?}");
    // namespaceLabels: false ignores them.
    let fixed = format!("{HEAD}spec: {{podSecurity: {{level: baseline, namespaceLabels: false}}}}\n");
    let d =
        on_object(&fixed, pod("Pod"), namespace(json!({"pod-security.kubernetes.io/enforce": "privileged"})));
    assert!(!d.is_empty());
    // A bad level is a load error naming the field.
    let bad = bundle(&format!("{HEAD}spec: {{podSecurity: {{level: strict}}}}\n"));
    assert!(
        bad.errors[0]
            .message
            .contains("spec.podSecurity.level: \"strict\" is not privileged, baseline or restricted"),
        "{:?}",
        bad.errors
    );
}
