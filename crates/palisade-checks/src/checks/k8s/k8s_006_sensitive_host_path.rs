//! PAL-K8S-006: Sensitive host path mounted.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct SensitiveHostPath;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-006",
    title: "Sensitive host path mounted",
    severity: Severity::Critical,
    groups: &["kubernetes", "pod-security"],
    rationale: "Mounting system directories of the node (/, /etc, /proc, /var/lib/kubelet, ...) exposes credentials and lets the pod tamper with the node.",
    remediation: "Do not mount node system directories; use a ConfigMap, Secret or PVC instead.",
    references: &["CIS Kubernetes 5.2.12", "NSA/CISA Kubernetes Hardening: immutable containers"],
    peers: &["kube-linter:sensitive-host-mounts", "polaris:hostPathSet"],
    ..CheckMeta::K8S
};

impl Check for SensitiveHostPath {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for (p, path) in host_paths(obj) {
            let norm = path.trim_end_matches('/');
            let exact = ["", "/var", "/usr", "/lib", "/bin", "/sbin", "/home", "/var/log"].contains(&norm);
            let under = [
                "/etc",
                "/proc",
                "/sys",
                "/boot",
                "/dev",
                "/root",
                "/var/lib/kubelet",
                "/var/lib/docker",
                "/var/lib/containerd",
                "/var/run",
                "/run",
                "/var/lib/etcd",
                "/usr/bin",
                "/usr/lib",
            ]
            .iter()
            .any(|s| norm == *s || norm.starts_with(&format!("{s}/")));
            if exact || under {
                out.push(Hit::at(
                    p,
                    format!("hostPath {path:?} mounts a sensitive node directory; remove the volume"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SensitiveHostPath as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  volumes: [{name: h, hostPath: {path: /etc/kubernetes}}]
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;
    const PASS: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  volumes: [{name: h, hostPath: {path: /data/cache}}]
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
