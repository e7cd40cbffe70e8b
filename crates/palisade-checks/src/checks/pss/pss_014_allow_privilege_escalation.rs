//! PAL-PSS-014 (PSS restricted `allowPrivilegeEscalation`): allowPrivilegeEscalation not set to false.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct AllowPrivilegeEscalation;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-014",
    title: "allowPrivilegeEscalation not set to false",
    severity: Severity::High,
    groups: super::RESTRICTED_GROUPS,
    rationale: "Without allowPrivilegeEscalation: false, set-user-ID binaries and file capabilities can raise a process's privileges (no_new_privs is not set).",
    remediation: "Set securityContext.allowPrivilegeEscalation: false in every container.",
    references: &[
        "PSS restricted: Privilege Escalation",
        "CIS Kubernetes 5.2.6",
        "NSA/CISA Kubernetes Hardening",
    ],
    peers: &[
        "checkov:CKV_K8S_20",
        "kube-linter:privilege-escalation-container",
        "polaris:privilegeEscalationAllowed",
    ],
    pss: Some(PssInfo {
        psa_id: "allowPrivilegeEscalation",
        level: PssLevel::Restricted,
        since_minor: 8,
        overrides: None,
    }),
    ..CheckMeta::K8S
};

impl Check for AllowPrivilegeEscalation {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        if cx.version.at_least(25) && pod.is_windows() {
            return;
        }
        for c in pod.containers() {
            let v = c.sc_field("allowPrivilegeEscalation");
            if v.and_then(crate::yaml::Node::as_bool) != Some(false) {
                let at = v.or(c.sc()).unwrap_or(c.node);
                out.push(
                    Hit::at(
                        at,
                        format!(
                            "container {:?} must set securityContext.allowPrivilegeEscalation=false",
                            c.name
                        ),
                    )
                    .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AllowPrivilegeEscalation as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("", "securityContext: {allowPrivilegeEscalation: true}")).len(), 1);
        assert!(hits(&C, &pod_with("", "securityContext: {allowPrivilegeEscalation: false}")).is_empty());
        assert!(hits(&C, &pod_with("os: {name: windows}", "")).is_empty());
    }
}
