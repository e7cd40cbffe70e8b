//! PAL-K8S-028: No securityContext at all.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NoSecurityContext;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-028",
    title: "No securityContext at all",
    severity: Severity::Medium,
    groups: &["kubernetes", "pod-security"],
    rationale: "Without any securityContext the container runs with runtime defaults: possibly root, with privilege escalation and a writable root filesystem.",
    remediation: "Add a securityContext to the pod and containers (runAsNonRoot, allowPrivilegeEscalation: false, drop ALL capabilities, seccomp RuntimeDefault).",
    references: &["NSA/CISA Kubernetes Hardening: pod security"],
    peers: &["checkov:CKV_K8S_29", "checkov:CKV_K8S_30"],
    ..CheckMeta::K8S
};

impl Check for NoSecurityContext {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        if pod.sc().is_some_and(|s| !s.as_map().is_empty()) {
            return;
        }
        for c in spec_containers(obj) {
            if c.sc().is_none_or(|s| s.as_map().is_empty()) {
                out.push(
                    Hit::at(
                        c.node,
                        format!(
                            "container {:?} has no securityContext (and the pod has none); add one",
                            c.name
                        ),
                    )
                    .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NoSecurityContext as C;

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
  securityContext: {runAsNonRoot: true}
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
