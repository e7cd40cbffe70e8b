//! PAL-K8S-092: Role can mint service account tokens or create PersistentVolumes.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct TokenOrPv;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-092",
    title: "Role can mint service account tokens or create PersistentVolumes",
    severity: Severity::Medium,
    groups: &["kubernetes", "rbac"],
    rationale: "Creating tokens impersonates service accounts; creating PersistentVolumes can mount arbitrary host paths.",
    remediation: "Remove create on serviceaccounts/token and persistentvolumes.",
    references: &["CIS Kubernetes 5.1", "NSA/CISA Kubernetes Hardening: RBAC"],
    peers: &["kubescape:C-0282", "kubescape:C-0278"],
    ..CheckMeta::K8S
};

impl Check for TokenOrPv {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if let Some(r) =
            find_grant(obj, &[("", "serviceaccounts/token"), ("", "persistentvolumes")], &["create"])
        {
            out.push(Hit::at(r, "role can mint service account tokens or create persistentvolumes; remove create on serviceaccounts/token and persistentvolumes."));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TokenOrPv as C;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: [""]
  resources: ["serviceaccounts/token"]
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
