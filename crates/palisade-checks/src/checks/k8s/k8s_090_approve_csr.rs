//! PAL-K8S-090: Role can approve certificate signing requests.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct ApproveCsr;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-090",
    title: "Role can approve certificate signing requests",
    severity: Severity::High,
    groups: &["kubernetes", "rbac"],
    rationale: "Approving CSRs lets the subject mint client certificates for any user, including system:masters.",
    remediation: "Remove update on certificatesigningrequests/approval and approve on signers.",
    references: &["CIS Kubernetes 5.1", "NSA/CISA Kubernetes Hardening: RBAC"],
    peers: &["checkov:CKV_K8S_156"],
    ..CheckMeta::K8S
};

impl Check for ApproveCsr {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        // Approving needs both: update/patch on the approval subresource and approve on the signer.
        let approval = find_grant(
            obj,
            &[("certificates.k8s.io", "certificatesigningrequests/approval")],
            &["update", "patch"],
        );
        let signer = find_grant(obj, &[("certificates.k8s.io", "signers")], &["approve"]);
        if let (Some(r), Some(_)) = (approval, signer) {
            out.push(Hit::at(r, "role can approve certificate signing requests; remove update on certificatesigningrequests/approval and approve on signers."));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ApproveCsr as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: ["certificates.k8s.io"]
  resources: ["certificatesigningrequests/approval"]
  verbs: ["update"]
- apiGroups: ["certificates.k8s.io"]
  resources: ["signers"]
  verbs: ["approve"]
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

    #[test]
    fn approve_verb_alone_is_not_enough() {
        let only_approve = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules:\n- {apiGroups: ['*'], resources: ['*'], verbs: [approve]}\n- {apiGroups: [''], resources: [pods], verbs: [update]}\n";
        assert!(hits(&C, only_approve).is_empty());
    }

    #[test]
    fn subresource_wildcard_counts() {
        let doc = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules:\n- {apiGroups: [certificates.k8s.io], resources: ['*'], verbs: [approve]}\n- {apiGroups: [certificates.k8s.io], resources: ['*/approval'], verbs: [update]}\n";
        assert_eq!(hits(&C, doc).len(), 1);
        assert!(hits(&C, &doc.replace("*/approval", "*/status")).is_empty());
    }
}
