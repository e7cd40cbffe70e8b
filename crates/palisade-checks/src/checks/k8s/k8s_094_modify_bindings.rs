//! PAL-K8S-094: Role can modify role bindings.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct ModifyBindings;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-094",
    title: "Role can modify role bindings",
    severity: Severity::Medium,
    groups: &["kubernetes", "rbac"],
    rationale: "Creating or changing bindings lets the subject grant itself (or others) any role it may bind.",
    remediation: "Remove write access to rolebindings/clusterrolebindings.",
    references: &["CIS Kubernetes 5.1", "NSA/CISA Kubernetes Hardening: RBAC"],
    peers: &["checkov:CKV2_K8S_1"],
    ..CheckMeta::K8S
};

impl Check for ModifyBindings {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if let Some(r) = find_grant(
            obj,
            &[(RBAC, "rolebindings"), (RBAC, "clusterrolebindings")],
            &["create", "update", "patch"],
        ) {
            out.push(Hit::at(
                r,
                "role can modify role bindings; remove write access to rolebindings/clusterrolebindings.",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ModifyBindings as C;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["rolebindings"]
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
