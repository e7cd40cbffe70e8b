//! PAL-K8S-091: Role can use nodes/proxy.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NodesProxy;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-091",
    title: "Role can use nodes/proxy",
    severity: Severity::High,
    groups: &["kubernetes", "rbac"],
    rationale: "nodes/proxy reaches the kubelet API directly, allowing command execution in any pod on the node.",
    remediation: "Remove nodes/proxy from the role.",
    references: &["CIS Kubernetes 5.1", "NSA/CISA Kubernetes Hardening: RBAC"],
    peers: &["checkov:CKV2_K8S_2", "kubescape:C-0279"],
    ..CheckMeta::K8S
};

impl Check for NodesProxy {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if let Some(r) = find_grant(obj, &[("", "nodes/proxy")], &["get", "create"]) {
            out.push(Hit::at(r, "role can use nodes/proxy; remove nodes/proxy from the role."));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NodesProxy as C;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: [""]
  resources: ["nodes/proxy"]
  verbs: ["get"]
"#;
    const PASS: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get"]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
