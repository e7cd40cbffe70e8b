//! PAL-PSS-002 (PSS baseline `privileged`): Privileged container.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct Privileged;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-002",
    title: "Privileged container",
    severity: Severity::Critical,
    groups: super::BASELINE_GROUPS,
    rationale: "A privileged container has every capability and full access to host devices; it is effectively root on the node.",
    remediation: "Remove securityContext.privileged or set it to false in every container.",
    references: &[
        "PSS baseline: Privileged Containers",
        "CIS Kubernetes 5.2.1",
        "NSA/CISA Kubernetes Hardening: non-root, unprivileged containers",
    ],
    peers: &["checkov:CKV_K8S_16", "kube-linter:privileged-container", "polaris:runAsPrivileged"],
    pss: Some(PssInfo { psa_id: "privileged", level: PssLevel::Baseline, since_minor: 0, overrides: None }),
    ..CheckMeta::K8S
};

impl Check for Privileged {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        for c in pod.containers() {
            if let Some(n) = c.sc_field("privileged").filter(|n| n.as_bool() == Some(true)) {
                out.push(
                    Hit::at(
                        n,
                        format!(
                            "container {:?} sets securityContext.privileged=true; set it to false",
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
    use super::Privileged as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("", "securityContext: {privileged: true}")).len(), 1);
        assert!(hits(&C, &pod_with("", "securityContext: {privileged: false}")).is_empty());
    }
}
