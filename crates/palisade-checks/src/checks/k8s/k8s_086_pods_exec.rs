//! PAL-K8S-086: Role can exec or attach into pods.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct PodsExec;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-086",
    title: "Role can exec or attach into pods",
    severity: Severity::High,
    groups: &["kubernetes", "rbac"],
    rationale: "pods/exec and pods/attach give a shell in running containers with their credentials.",
    remediation: "Remove pods/exec and pods/attach from the role.",
    references: &["CIS Kubernetes 5.1", "NSA/CISA Kubernetes Hardening: RBAC"],
    peers: &["checkov:CKV2_K8S_2", "polaris:clusterrolePodExecAttach"],
    ..CheckMeta::K8S
};

impl Check for PodsExec {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if let Some(r) = find_grant(obj, &[("", "pods/exec"), ("", "pods/attach")], &["create", "get"]) {
            out.push(Hit::at(
                r,
                "role can exec or attach into pods; remove pods/exec and pods/attach from the role.",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PodsExec as C;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: [""]
  resources: ["pods/exec"]
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
