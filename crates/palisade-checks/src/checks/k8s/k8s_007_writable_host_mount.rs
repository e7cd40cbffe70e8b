//! PAL-K8S-007: Writable hostPath mount.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct WritableHostMount;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-007",
    title: "Writable hostPath mount",
    severity: Severity::High,
    groups: &["kubernetes", "pod-security"],
    rationale: "A hostPath mounted read-write lets the container modify files on the node, which can lead to node compromise.",
    remediation: "Set readOnly: true on every volumeMount of a hostPath volume (or remove the hostPath volume).",
    references: &["CIS Kubernetes 5.2.12"],
    peers: &["kube-linter:writable-host-mount"],
    ..CheckMeta::K8S
};

impl Check for WritableHostMount {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        let host: Vec<String> = pod
            .volumes()
            .iter()
            .filter(|v| v.field("hostPath").is_some())
            .filter_map(|v| v.get("name").and_then(Node::scalar_text))
            .collect();
        for c in pod.containers() {
            for m in c.node.get("volumeMounts").map(Node::as_seq).unwrap_or(&[]) {
                let name = m.get("name").and_then(Node::scalar_text).unwrap_or_default();
                if host.contains(&name) && m.get("readOnly").and_then(Node::as_bool) != Some(true) {
                    out.push(Hit::at(m, format!("container {:?} mounts hostPath volume {name:?} read-write; set readOnly: true", c.name)).in_container(c.name));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WritableHostMount as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  volumes: [{name: h, hostPath: {path: /data}}]
  containers:
  - name: app
    image: registry.example.com/app:1.0
    volumeMounts: [{name: h, mountPath: /d}]
"#;
    const PASS: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  volumes: [{name: h, hostPath: {path: /data}}]
  containers:
  - name: app
    image: registry.example.com/app:1.0
    volumeMounts: [{name: h, mountPath: /d, readOnly: true}]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
