//! PAL-PSS-019 (PSS restricted `procMount_restricted`): Unmasked /proc mount (restricted, even with user namespaces).

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct ProcMountRestricted;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-019",
    title: "Unmasked /proc mount (restricted, even with user namespaces)",
    severity: Severity::High,
    groups: super::RESTRICTED_GROUPS,
    rationale: "From 1.35 the restricted profile forbids non-default procMount even for pods in a user namespace.",
    remediation: "Remove securityContext.procMount or set it to Default.",
    references: &["PSS restricted: /proc Mount Type (1.35+)"],
    peers: &["kube-linter:unsafe-proc-mount"],
    pss: Some(PssInfo {
        psa_id: "procMount_restricted",
        level: PssLevel::Restricted,
        since_minor: 35,
        overrides: Some("procMount"),
    }),
    ..CheckMeta::K8S
};

impl Check for ProcMountRestricted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        // Where baseline forbids a non-default procMount too, PAL-PSS-008 reports it at its level; restricted
        // adds only pods in a user namespace (hostUsers: false), which baseline allows from 1.35.
        if !(cx.version.at_least(35) && pod.user_namespaced()) {
            return;
        }
        super::non_default_proc_mounts(&pod, out);
    }
}

#[cfg(test)]
mod tests {
    use super::ProcMountRestricted as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(
            hits(&C, &pod_with("hostUsers: false", "securityContext: {procMount: Unmasked}")).len(),
            1
        );
        assert!(hits(&C, &pod_with("", "securityContext: {procMount: Default}")).is_empty());
    }
}
