//! Cluster scan on a fixture dump: the cluster checks' findings, the component versions and the cluster
//! version read from it.

use palisade_checks::dump::Dump;
use palisade_posture::cluster::scan;
use std::path::PathBuf;

fn dump() -> Dump {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster/dump.yaml");
    let d = Dump::load(&[p]).unwrap();
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    d
}

#[test]
fn cluster_checks_find_what_the_dump_holds_and_nothing_else() {
    let d = dump();
    let s = scan(&d, None);
    assert_eq!(s.version.as_deref(), Some("1.30"));
    let mut got: Vec<(String, String, String)> = s
        .findings
        .iter()
        .map(|f| {
            let r = f.resource.as_ref().unwrap();
            (f.check_id.clone(), format!("{}/{}", r.kind, r.name), format!("{:?}", f.severity))
        })
        .collect();
    got.sort();
    let want: Vec<(String, String, String)> = [
        ("PAL-CLU-001", "Namespace/shop", "Low"),
        ("PAL-CLU-002", "Deployment/web", "High"),
        ("PAL-CLU-003", "ValidatingWebhookConfiguration/policy-webhook", "Medium"),
        ("PAL-CLU-004", "FlowSchema/batch-jobs", "Low"),
        // The RBAC risk itself, on the binding that grants it.
        ("PAL-RBAC-002", "RoleBinding/web-secrets", "High"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, want);
    let sa = s.findings.iter().find(|f| f.check_id == "PAL-CLU-002").unwrap();
    assert!(
        sa.message.contains("ServiceAccount shop/web") && sa.message.contains("PAL-RBAC-002"),
        "{}",
        sa.message
    );
    // The line is the serviceAccountName field.
    assert_eq!(sa.line, 67);
    // After 1.32 the v1beta3 FlowSchema is removed (PAL-K8S-070's business), no longer deprecated.
    assert!(scan(&d, Some("1.32")).findings.iter().all(|f| f.check_id != "PAL-CLU-004"));
    // Before 1.29 it was not deprecated yet.
    assert!(scan(&d, Some("1.28")).findings.iter().all(|f| f.check_id != "PAL-CLU-004"));
}

#[test]
fn component_versions_come_from_node_status_and_static_pod_images() {
    let s = scan(&dump(), None);
    let got: Vec<(String, String, String)> =
        s.components.iter().map(|c| (c.name.clone(), c.module.clone(), c.version.clone())).collect();
    let want: Vec<(String, String, String)> = [
        ("containerd", "github.com/containerd/containerd", "v1.7.0"),
        ("coredns", "github.com/coredns/coredns", "v1.11.1"),
        ("etcd", "go.etcd.io/etcd/server/v3", "v3.5.12"),
        ("kube-apiserver", "k8s.io/kubernetes", "v1.30.2"),
        ("kube-proxy", "k8s.io/kubernetes", "v1.30.2"),
        ("kubelet", "k8s.io/kubernetes", "v1.30.2"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, want);
    let kubelet = s.components.iter().find(|c| c.name == "kubelet").unwrap();
    assert_eq!(kubelet.seen.len(), 1);
    assert!(
        kubelet.seen[0].contains("dump.yaml:10 (Node/cp1 status.nodeInfo.kubeletVersion)"),
        "{:?}",
        kubelet.seen
    );
    // One package per module version: kubelet, kube-proxy and the API server ship the same Kubernetes.
    let pkgs = palisade_posture::cluster::components::packages(&s.components);
    assert_eq!(pkgs.len(), 4);
    let k = pkgs.iter().find(|p| p.name == "k8s.io/kubernetes").unwrap();
    assert_eq!(k.purl, "pkg:golang/k8s.io/kubernetes@v1.30.2");
    assert_eq!(k.metadata["components"], "kube-apiserver,kube-proxy,kubelet");
}
