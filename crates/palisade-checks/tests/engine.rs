//! End-to-end behaviour of the engine: positions, suppressions, config, selection, errors.

use palisade_checks::{CheckOptions, Engine, Severity, Suppression, registry};

const DEPLOY: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    palisade.io/ignore: "PAL-K8S-039: pinned by the release pipeline; PAL-K8S-04*"
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:latest
        securityContext:
          privileged: true
---
this: is: not: yaml
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  hostPID: true
  containers: [{name: c, image: "nginx:1.27"}]
"#;

fn engine(opts: CheckOptions) -> Engine {
    Engine::new(&opts).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn findings_carry_position_resource_and_container() {
    let r = engine(CheckOptions::default()).check_file("deploy/app.yaml", DEPLOY.as_bytes());
    let f = r.findings.iter().find(|f| f.check_id == "PAL-PSS-002").unwrap_or_else(|| panic!("no PSS-002"));
    assert_eq!((f.line, f.column), (17, 23));
    assert_eq!(f.container.as_deref(), Some("app"));
    let res = f.resource.as_ref().unwrap_or_else(|| panic!("resource"));
    assert_eq!(
        (res.kind.as_str(), res.namespace.as_deref(), res.name.as_str()),
        ("Deployment", Some("shop"), "web")
    );
    assert!(f.suppressed.is_none());
    // The broken middle document is an error with its line; the Pod after it is still checked.
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(r.errors[0].line, 19);
    assert!(r.findings.iter().any(|f| f.check_id == "PAL-PSS-001" && f.line == 25));
}

#[test]
fn annotation_and_config_suppressions() {
    let opts = CheckOptions {
        suppress: vec![Suppression {
            id: "PAL-PSS-001".into(),
            path: Some("deploy/*.yaml".into()),
            resource: Some("Pod/shop/p".into()),
            reason: "node agent".into(),
        }],
        ..Default::default()
    };
    let r = engine(opts).check_file("deploy/app.yaml", DEPLOY.as_bytes());
    let latest = r.findings.iter().find(|f| f.check_id == "PAL-K8S-039").unwrap_or_else(|| panic!("039"));
    assert_eq!(
        latest.suppressed.as_deref(),
        Some("annotation palisade.io/ignore: pinned by the release pipeline")
    );
    let on_web =
        |f: &&palisade_checks::Misconfiguration| f.resource.as_ref().is_some_and(|r| r.name == "web");
    let k04 = |f: &&palisade_checks::Misconfiguration| f.check_id.starts_with("PAL-K8S-04");
    assert!(r.findings.iter().filter(on_web).filter(k04).all(|f| f.suppressed.is_some()));
    assert!(r.findings.iter().filter(|f| !on_web(f)).filter(k04).any(|f| f.suppressed.is_none()));
    let host = r.findings.iter().find(|f| f.check_id == "PAL-PSS-001").unwrap_or_else(|| panic!("001"));
    assert_eq!(host.suppressed.as_deref(), Some("config: node agent"));
    // Other files are not suppressed by the path glob.
    let r2 = engine(CheckOptions {
        suppress: vec![Suppression {
            id: "PAL-PSS-001".into(),
            path: Some("deploy/*.yaml".into()),
            resource: None,
            reason: "x".into(),
        }],
        ..Default::default()
    })
    .check_file("other/app.yaml", DEPLOY.as_bytes());
    assert!(r2.findings.iter().any(|f| f.check_id == "PAL-PSS-001" && f.suppressed.is_none()));
}

#[test]
fn selection_severity_overrides_and_config_file() {
    let opts = CheckOptions::from_toml(
        "select = [\"pss:baseline\", \"PAL-K8S-03*\"]\nskip = [\"PAL-PSS-001\"]\n[severity]\n\"PAL-PSS-002\" = \"low\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let e = engine(opts);
    assert!(e.checks().iter().all(|c| {
        let m = c.meta();
        m.id != "PAL-PSS-001" && (m.groups.contains(&"pss:baseline") || m.id.starts_with("PAL-K8S-03"))
    }));
    let r = e.check_file("a.yml", DEPLOY.as_bytes());
    assert!(r.findings.iter().all(|f| f.check_id != "PAL-PSS-001" && f.check_id != "PAL-PSS-014"));
    let p = r.findings.iter().find(|f| f.check_id == "PAL-PSS-002").unwrap_or_else(|| panic!("002"));
    assert_eq!(p.severity, Severity::Low);
    assert!(Engine::new(&CheckOptions { select: vec!["nonsense".into()], ..Default::default() }).is_err());
    assert!(Engine::new(&CheckOptions { k8s_version: Some("banana".into()), ..Default::default() }).is_err());
}

/// Each Pod Security control is reported at its own level: the restricted checks run beside the baseline
/// ones they extend, and a violation is reported once, by the check of the level that forbids it.
#[test]
fn pss_controls_are_reported_at_their_level_without_shadowing() {
    let e = engine(CheckOptions { select: vec!["pss:restricted".into()], ..Default::default() });
    let ids: Vec<&str> = e.checks().iter().map(|c| c.meta().id).collect();
    for id in [
        "PAL-PSS-003",
        "PAL-PSS-004",
        "PAL-PSS-008",
        "PAL-PSS-009",
        "PAL-PSS-013",
        "PAL-PSS-017",
        "PAL-PSS-018",
    ] {
        assert!(ids.contains(&id), "{id} not run: {ids:?}");
    }
    let pod = |spec: &str, container: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: apps\nspec:\n  {spec}\n  containers:\n  - name: c\n    image: registry.example.com/app:1.0\n    securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {{drop: [ALL]{container}}}}}\n"
        )
    };
    let found = |yaml: &str| -> Vec<(String, Severity)> {
        e.check_file("p.yaml", yaml.as_bytes())
            .findings
            .iter()
            .map(|f| (f.check_id.clone(), f.severity))
            .collect()
    };
    // Unconfined is forbidden by baseline: high, once.
    let unconfined = found(&pod("securityContext: {seccompProfile: {type: Unconfined}}", ""));
    assert_eq!(unconfined, vec![("PAL-PSS-009".to_string(), Severity::High)]);
    // An unset profile is forbidden by restricted only: medium.
    let unset = found(&pod("", ""));
    assert_eq!(unset, vec![("PAL-PSS-017".to_string(), Severity::Medium)]);
    let seccomp = "securityContext: {seccompProfile: {type: RuntimeDefault}}";
    assert!(found(&pod(seccomp, "")).is_empty());
    // hostPath: baseline's; nfs: restricted's.
    let host = found(&pod(&format!("{seccomp}\n  volumes: [{{name: h, hostPath: {{path: /data}}}}]"), ""));
    assert_eq!(host.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(), vec!["PAL-PSS-004"]);
    let nfs = found(&pod(&format!("{seccomp}\n  volumes: [{{name: n, nfs: {{server: s, path: /}}}}]"), ""));
    assert_eq!(nfs.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(), vec!["PAL-PSS-013"]);
    // SYS_ADMIN: baseline's; CHOWN (in the runtime default set): restricted's.
    let sys_admin = found(&pod(seccomp, ", add: [SYS_ADMIN]"));
    assert_eq!(sys_admin.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(), vec!["PAL-PSS-003"]);
    let chown = found(&pod(seccomp, ", add: [CHOWN]"));
    assert_eq!(chown.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(), vec!["PAL-PSS-018"]);
    // Before 1.22 the restricted capabilities control does not exist; baseline's still runs.
    let old = engine(CheckOptions {
        select: vec!["pss:restricted".into()],
        k8s_version: Some("1.21".into()),
        ..Default::default()
    });
    let ids: Vec<&str> = old.checks().iter().map(|c| c.meta().id).collect();
    assert!(ids.contains(&"PAL-PSS-003") && !ids.contains(&"PAL-PSS-018"), "{ids:?}");
}

#[test]
fn dockerfiles_and_image_configs() {
    let e = engine(CheckOptions::default());
    let df = "FROM ubuntu:latest\n# palisade:ignore PAL-DF-009: vendor installer, checksum checked upstream\nRUN curl -fsSL https://x.example/i.sh | sh\nUSER root\n";
    let r = e.check_file("build/Dockerfile", df.as_bytes());
    assert!(r.errors.is_empty());
    let pipe = r.findings.iter().find(|f| f.check_id == "PAL-DF-009").unwrap_or_else(|| panic!("009"));
    assert_eq!(pipe.line, 3);
    assert!(pipe.suppressed.is_some());
    let root = r.findings.iter().find(|f| f.check_id == "PAL-DF-005").unwrap_or_else(|| panic!("005"));
    assert_eq!((root.line, root.suppressed.as_deref()), (4, None));
    assert!(!e.check_file("Dockerfile", b"FROM alpine\nFOO bar\n").errors.is_empty());
    let img = e.check_image_config(&palisade_core::ImageConfig::default());
    assert!(img.iter().any(|f| f.check_id == "PAL-IMG-001"));
    assert!(e.check_file("README.md", b"# hi").findings.is_empty());
    assert!(!e.check_file("x.yaml", &[0xff, 0xfe, 0x00]).errors.is_empty());
}

#[test]
fn registry_ids_are_unique_and_documented() {
    let mut ids: Vec<&str> = registry().iter().map(|c| c.meta().id).collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate check ids");
    for c in registry() {
        let m = c.meta();
        assert!(!m.title.is_empty() && !m.rationale.is_empty() && !m.remediation.is_empty(), "{}", m.id);
    }
    let count = |p: &str| registry().iter().filter(|c| c.meta().id.starts_with(p)).count();
    assert_eq!(count("PAL-PSS-"), 19);
    assert!(count("PAL-K8S-") >= 60 && count("PAL-DF-") >= 40, "{} {}", count("PAL-K8S-"), count("PAL-DF-"));
}
