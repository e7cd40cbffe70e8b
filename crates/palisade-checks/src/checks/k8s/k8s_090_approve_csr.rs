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
        if let Some(r) = find_grant(
            obj,
            &["certificatesigningrequests/approval", "signers"],
            &["update", "approve", "patch"],
        ) {
            out.push(Hit::at(r, "role can approve certificate signing requests; remove update on certificatesigningrequests/approval and approve on signers."));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ApproveCsr as C;
    #[allow(unused_imports)]
    use crate::testutil::{hits, hits_v};

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: [""]
  resources: ["certificatesigningrequests/approval"]
  verbs: ["update"]
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

    #[test]
    fn fires_on_fail_fixture() {
        assert!(!hits(&C, FAIL).is_empty());
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(hits(&C, PASS).is_empty(), "{:?}", hits(&C, PASS));
    }
}
