//! API schema validation (PAL-SCH-001) on the third-party corpora: kube-linter's kubeconform fixture gives
//! exactly kubeconform's two errors, and the 4,537 pod-security-admission fixtures (objects the API server
//! accepts; only their security settings vary) give none, at every shipped Kubernetes version.

mod common;

use palisade_checks::{CheckOptions, Engine};

fn engine(version: &str) -> Engine {
    let opts = CheckOptions {
        select: vec!["schema".into()],
        k8s_version: Some(version.into()),
        ..Default::default()
    };
    Engine::new(&opts).unwrap_or_else(|e| panic!("{e}"))
}

fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let Some(dir) = common::data_dir("schema corpus") else { return Vec::new() };
    common::read_tar_gz(&dir.join("k8s").join(name))
}

#[test]
fn kubeconform_fixture_of_kube_linter() {
    let files = corpus("kube-linter-fixtures.tar.gz");
    let Some((path, data)) = files.iter().find(|(p, _)| p.ends_with("tests/checks/kubeconform.yml")) else {
        return;
    };
    let r = engine("1.37").check_file(path, data);
    let got: Vec<(u32, u32, &str)> = r
        .findings
        .iter()
        .map(|f| (f.line, f.column, f.resource.as_ref().map_or("", |r| r.name.as_str())))
        .collect();
    // The DaemonSet's `replicas` and the Pod's `invalidField`; the valid Pod and Service pass, and the custom
    // resource without a schema is skipped (kubeconform -strict -ignore-missing-schemas).
    assert_eq!(got, [(22, 3, "invalid-daemonset"), (69, 3, "invalid-pod")], "{:#?}", r.findings);
}

#[test]
fn objects_the_api_server_accepts_stay_valid() {
    let files = corpus("psa-testdata.tar.gz");
    let yaml: Vec<_> = files.iter().filter(|(p, _)| p.ends_with(".yaml") || p.ends_with(".yml")).collect();
    if yaml.is_empty() {
        return;
    }
    assert!(yaml.len() > 4000, "only {} fixtures", yaml.len());
    for minor in palisade_checks::schema::shipped_minors() {
        let e = engine(&format!("1.{minor}"));
        let mut bad = Vec::new();
        for (path, data) in &yaml {
            for f in e.check_file(path, data).findings {
                bad.push(format!("{path}:{}:{} {}", f.line, f.column, f.message));
            }
        }
        assert!(bad.is_empty(), "1.{minor}: {} findings, first: {:#?}", bad.len(), &bad[..bad.len().min(10)]);
    }
}
