//! PAL-K8S-082: Wildcard in RBAC rules.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct RbacWildcard;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-082",
    title: "Wildcard in RBAC rules",
    severity: Severity::High,
    groups: &["kubernetes", "rbac"],
    rationale: "'*' in apiGroups, resources or verbs grants access to everything, including resources added in the future.",
    remediation: "List the exact apiGroups, resources and verbs the subject needs.",
    references: &["CIS Kubernetes 5.1.3"],
    peers: &["checkov:CKV_K8S_49", "kube-linter:wildcard-in-rules"],
    ..CheckMeta::K8S
};

impl Check for RbacWildcard {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for r in rules(obj) {
            for key in ["apiGroups", "resources", "verbs"] {
                if let Some(n) = r.get(key).filter(|n| n.str_list().iter().any(|v| v == "*")) {
                    out.push(Hit::at(n, format!("rule uses '*' in {key}; list exact values")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RbacWildcard as C;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: [""]
  resources: ["*"]
  verbs: ["get"]
"#;
    const PASS: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get"]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
