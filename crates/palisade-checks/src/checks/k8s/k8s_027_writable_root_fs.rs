//! PAL-K8S-027: Root filesystem is writable.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct WritableRootFs;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-027",
    title: "Root filesystem is writable",
    severity: Severity::Low,
    groups: &["kubernetes", "pod-security"],
    rationale: "A writable root filesystem lets an attacker persist tools and modify binaries inside the container.",
    remediation: "Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where the app must write.",
    references: &["CIS Kubernetes 5.7.x", "NSA/CISA Kubernetes Hardening: immutable container file systems"],
    peers: &["checkov:CKV_K8S_22", "kube-linter:no-read-only-root-fs", "polaris:notReadOnlyRootFilesystem"],
    ..CheckMeta::K8S
};

impl Check for WritableRootFs {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in spec_containers(obj) {
            if c.sc_field("readOnlyRootFilesystem").and_then(Node::as_bool) != Some(true) {
                out.push(Hit::at(c.sc_field("readOnlyRootFilesystem").or(c.sc()).unwrap_or(c.node), format!("container {:?} has a writable root filesystem; set securityContext.readOnlyRootFilesystem: true", c.name)).in_container(c.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WritableRootFs as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
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
  containers:
  - name: app
    image: registry.example.com/app:1.0
    securityContext: {readOnlyRootFilesystem: true}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
