//! PAL-PSS-017 (PSS restricted `seccompProfile_restricted`): Seccomp profile not set to RuntimeDefault or Localhost.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct SeccompRestricted;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-017",
    title: "Seccomp profile not set",
    severity: Severity::Medium,
    groups: super::RESTRICTED_GROUPS,
    rationale: "The restricted profile requires an explicit seccomp profile so syscall filtering is on regardless of the runtime default.",
    remediation: "Set spec.securityContext.seccompProfile.type: RuntimeDefault (or Localhost) at pod level, or in every container.",
    references: &["PSS restricted: Seccomp"],
    peers: &["checkov:CKV_K8S_31"],
    pss: Some(PssInfo {
        psa_id: "seccompProfile_restricted",
        level: PssLevel::Restricted,
        since_minor: 19,
        overrides: Some("seccompProfile_baseline"),
    }),
    ..CheckMeta::K8S
};

impl Check for SeccompRestricted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        if cx.version.at_least(25) && pod.is_windows() {
            return;
        }
        // An explicit profile other than RuntimeDefault/Localhost (`Unconfined`) is a baseline violation,
        // reported by PAL-PSS-009 at its level; this check reports the profile restricted requires and
        // baseline does not: an unset one. A container without its own profile inherits the pod's.
        if pod.sc_field("seccompProfile").is_some() {
            return;
        }
        for c in pod.containers() {
            if c.sc_field("seccompProfile").is_none() {
                out.push(Hit::at(c.sc().unwrap_or(c.node), format!("pod or container {:?} must set securityContext.seccompProfile.type to RuntimeDefault or Localhost", c.name)).in_container(c.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SeccompRestricted as C;
    use crate::testutil::{hits, hits_v, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("", "")).len(), 1);
        assert!(
            hits(&C, &pod_with("securityContext: {seccompProfile: {type: RuntimeDefault}}", "")).is_empty()
        );
        assert!(hits_v(&C, &pod_with("", ""), 18).is_empty());
    }
}
