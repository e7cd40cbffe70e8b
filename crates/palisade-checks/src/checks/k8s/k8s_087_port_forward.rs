//! PAL-K8S-087: Role can port-forward to pods.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct PortForward;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-087",
    title: "Role can port-forward to pods",
    severity: Severity::Medium,
    groups: &["kubernetes", "rbac"],
    rationale: "Port-forwarding reaches pod ports directly, bypassing Services and NetworkPolicies.",
    remediation: "Remove pods/portforward from the role.",
    references: &["CIS Kubernetes 5.1", "NSA/CISA Kubernetes Hardening: RBAC"],
    peers: &["kubescape:C-0063"],
    ..CheckMeta::K8S
};

impl Check for PortForward {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if let Some(r) = find_grant(obj, &[("", "pods/portforward")], &["create", "get"]) {
            out.push(Hit::at(r, "role can port-forward to pods; remove pods/portforward from the role."));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PortForward as C;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: [""]
  resources: ["pods/portforward"]
  verbs: ["create"]
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
