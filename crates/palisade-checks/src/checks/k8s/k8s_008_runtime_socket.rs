//! PAL-K8S-008: Container runtime socket mounted.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct RuntimeSocket;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-008",
    title: "Container runtime socket mounted",
    severity: Severity::Critical,
    groups: &["kubernetes", "pod-security"],
    rationale: "Access to the Docker, containerd or CRI-O socket gives full control of every container on the node, i.e. root on the node.",
    remediation: "Remove the hostPath volume of the runtime socket; use a dedicated, narrowly scoped API instead.",
    references: &["CIS Docker 5.31", "NSA/CISA Kubernetes Hardening"],
    peers: &["checkov:CKV_K8S_27", "kube-linter:docker-sock", "polaris:hostPathSet"],
    ..CheckMeta::K8S
};

impl Check for RuntimeSocket {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for (p, path) in host_paths(obj) {
            let t = path.trim_end_matches('/');
            if ["docker.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock", "podman.sock"]
                .iter()
                .any(|s| t.ends_with(s))
                || ["/var/run/docker", "/run/containerd", "/var/run/containerd", "/var/run/crio", "/run/crio"]
                    .contains(&t)
            {
                out.push(Hit::at(
                    p,
                    format!("hostPath {path:?} exposes the container runtime socket; remove it"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RuntimeSocket as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  volumes: [{name: s, hostPath: {path: /var/run/docker.sock}}]
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
  volumes: [{name: s, emptyDir: {}}]
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
