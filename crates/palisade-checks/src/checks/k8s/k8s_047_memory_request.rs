//! PAL-K8S-047: Memory request not set.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct MemoryRequest;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-047",
    title: "Memory request not set",
    severity: Severity::Low,
    groups: &["kubernetes", "resources"],
    rationale: "Without resources.requests.memory one container can starve its neighbours or the node (noisy neighbour, denial of service).",
    remediation: "Set resources.requests.memory on every container.",
    references: &["CIS Kubernetes 5.7", "NSA/CISA Kubernetes Hardening: resource policies"],
    peers: &["checkov:CKV_K8S_12", "kube-linter:unset-memory-requirements", "polaris:memoryRequestsMissing"],
    ..CheckMeta::K8S
};

impl Check for MemoryRequest {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in spec_containers(obj) {
            // A limit without a request is copied into the request by the API server.
            if missing_request(c.node, "memory") {
                out.push(
                    Hit::at(
                        c.node.get("resources").unwrap_or(c.node),
                        format!("container {:?} has no resources.requests.memory; set it", c.name),
                    )
                    .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryRequest as C;

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
    resources: {requests: {memory: 64Mi}}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    /// Kubernetes copies a limit into the unset request: such a container has a request.
    #[test]
    fn a_limit_without_a_request_is_the_request() {
        use crate::testutil::hits;
        let limit = FAIL.replace(
            "image: registry.example.com/app:1.0\n",
            "image: registry.example.com/app:1.0\n    resources: {limits: {memory: 128Mi}}\n",
        );
        assert!(hits(&C, &limit).is_empty());
        let zero = limit.replace("limits: {memory: 128Mi}", "limits: {memory: 128Mi}, requests: {memory: 0}");
        assert_eq!(hits(&C, &zero).len(), 1);
    }
}
