//! PAL-K8S-088: Role can bind, escalate or impersonate.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct EscalationVerbs;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-088",
    title: "Role can bind, escalate or impersonate",
    severity: Severity::Critical,
    groups: &["kubernetes", "rbac"],
    rationale: "bind/escalate allow granting permissions the subject does not have; impersonate lets it act as any user, group or service account.",
    remediation: "Remove bind, escalate and impersonate verbs.",
    references: &["CIS Kubernetes 5.1", "NSA/CISA Kubernetes Hardening: RBAC"],
    peers: &["checkov:CKV_K8S_157", "checkov:CKV_K8S_158", "checkov:CKV2_K8S_3"],
    ..CheckMeta::K8S
};

impl Check for EscalationVerbs {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let escalate = find_grant(obj, &[(RBAC, "roles"), (RBAC, "clusterroles")], &["bind", "escalate"]);
        let impersonate = || {
            find_grant(
                obj,
                &[
                    ("", "users"),
                    ("", "groups"),
                    ("", "serviceaccounts"),
                    ("authentication.k8s.io", "userextras/*"),
                    ("authentication.k8s.io", "uids"),
                ],
                &["impersonate"],
            )
        };
        if let Some(r) = escalate.or_else(impersonate) {
            out.push(Hit::at(
                r,
                "role can bind, escalate or impersonate; remove bind, escalate and impersonate verbs.",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EscalationVerbs as C;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles"]
  verbs: ["bind"]
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
