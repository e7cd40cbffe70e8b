//! PAL-K8S-089: Role can modify admission webhooks.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct WebhookControl;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-089",
    title: "Role can modify admission webhooks",
    severity: Severity::High,
    groups: &["kubernetes", "rbac"],
    rationale: "Controlling admission webhooks allows disabling policy enforcement or intercepting every object created in the cluster.",
    remediation: "Reserve webhook configuration changes for cluster administrators.",
    references: &["CIS Kubernetes 5.1", "NSA/CISA Kubernetes Hardening: RBAC"],
    peers: &["checkov:CKV_K8S_155"],
    ..CheckMeta::K8S
};

impl Check for WebhookControl {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if let Some(r) = find_grant(
            obj,
            &[(ADMISSION, "validatingwebhookconfigurations"), (ADMISSION, "mutatingwebhookconfigurations")],
            &["create", "update", "patch", "delete"],
        ) {
            out.push(Hit::at(r, "role can modify admission webhooks; reserve webhook configuration changes for cluster administrators."));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WebhookControl as C;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: ["admissionregistration.k8s.io"]
  resources: ["validatingwebhookconfigurations"]
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
