//! PAL-PSS-008 (PSS baseline `procMount`): Unmasked /proc mount.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct ProcMount;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-008",
    title: "Unmasked /proc mount",
    severity: Severity::High,
    groups: super::BASELINE_GROUPS,
    rationale: "procMount Unmasked exposes kernel interfaces in /proc that are normally masked, which can leak host information or allow escapes.",
    remediation: "Remove securityContext.procMount or set it to Default (from 1.35 a pod with hostUsers: false may use Unmasked).",
    references: &["PSS baseline: /proc Mount Type"],
    peers: &["kube-linter:unsafe-proc-mount", "polaris:procMount"],
    pss: Some(PssInfo { psa_id: "procMount", level: PssLevel::Baseline, since_minor: 0, overrides: None }),
    ..CheckMeta::K8S
};

impl Check for ProcMount {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        if cx.version.at_least(35) && pod.user_namespaced() {
            return;
        }
        super::non_default_proc_mounts(&pod, out);
    }
}

#[cfg(test)]
mod tests {
    use super::ProcMount as C;
    use crate::testutil::{hits, hits_v, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("", "securityContext: {procMount: Unmasked}")).len(), 1);
        assert!(hits(&C, &pod_with("hostUsers: false", "securityContext: {procMount: Unmasked}")).is_empty());
        assert_eq!(
            hits_v(&C, &pod_with("hostUsers: false", "securityContext: {procMount: Unmasked}"), 34).len(),
            1
        );
    }
}
