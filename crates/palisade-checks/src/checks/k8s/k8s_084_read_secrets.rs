//! PAL-K8S-084: Role can read Secrets.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct ReadSecrets;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-084",
    title: "Role can read Secrets",
    severity: Severity::High,
    groups: &["kubernetes", "rbac"],
    rationale: "Reading Secrets exposes every credential in scope, including service account tokens of more privileged accounts.",
    remediation: "Remove get/list/watch on secrets, or restrict with resourceNames.",
    references: &["CIS Kubernetes 5.1", "NSA/CISA Kubernetes Hardening: RBAC"],
    peers: &["checkov:CKV2_K8S_5", "kube-linter:access-to-secrets"],
    ..CheckMeta::K8S
};

impl Check for ReadSecrets {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if let Some(r) = find_grant(obj, &[("", "secrets")], &["get", "list", "watch"]) {
            out.push(Hit::at(
                r,
                "role can read secrets; remove get/list/watch on secrets, or restrict with resourceNames.",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ReadSecrets as C;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: [""]
  resources: ["secrets"]
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
