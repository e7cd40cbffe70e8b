//! PAL-PSS-011 (PSS baseline `windowsHostProcess`): Windows HostProcess container.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct WindowsHostProcess;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-011",
    title: "Windows HostProcess container",
    severity: Severity::Critical,
    groups: super::BASELINE_GROUPS,
    rationale: "A Windows HostProcess container runs directly on the host with host privileges.",
    remediation: "Remove securityContext.windowsOptions.hostProcess (or set it to false) at pod and container level.",
    references: &["PSS baseline: HostProcess"],
    peers: &["polaris:hostProcess"],
    pss: Some(PssInfo {
        psa_id: "windowsHostProcess",
        level: PssLevel::Baseline,
        since_minor: 0,
        overrides: None,
    }),
    ..CheckMeta::K8S
};

impl Check for WindowsHostProcess {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        let on = |n: Option<&crate::yaml::Node>| {
            n.and_then(|w| w.get("hostProcess")).filter(|h| h.as_bool() == Some(true)).cloned()
        };
        if let Some(h) = on(pod.sc_field("windowsOptions")) {
            out.push(Hit::at(&h, "pod sets securityContext.windowsOptions.hostProcess=true; remove it"));
        }
        for c in pod.containers() {
            if let Some(h) = on(c.sc_field("windowsOptions")) {
                out.push(
                    Hit::at(
                        &h,
                        format!("container {:?} sets windowsOptions.hostProcess=true; remove it", c.name),
                    )
                    .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::WindowsHostProcess as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(
            hits(&C, &pod_with("securityContext: {windowsOptions: {hostProcess: true}}", "")).len(),
            1
        );
        assert!(
            hits(&C, &pod_with("", "securityContext: {windowsOptions: {hostProcess: false}}")).is_empty()
        );
    }
}
