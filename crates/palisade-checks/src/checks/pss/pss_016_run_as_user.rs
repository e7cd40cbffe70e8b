//! PAL-PSS-016 (PSS restricted `runAsUser`): Container runs as UID 0 (runAsUser: 0).

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct RunAsUser;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-016",
    title: "Container runs as UID 0 (runAsUser: 0)",
    severity: Severity::High,
    groups: super::RESTRICTED_GROUPS,
    rationale: "runAsUser: 0 runs the container process as root regardless of the image.",
    remediation: "Set securityContext.runAsUser to a non-zero UID (or leave it unset and set runAsNonRoot: true).",
    references: &["PSS restricted: Running as Non-root user (1.23+)", "CIS Kubernetes 5.2.7"],
    peers: &["polaris:runAsRootAllowed", "kube-linter:run-as-non-root"],
    pss: Some(PssInfo { psa_id: "runAsUser", level: PssLevel::Restricted, since_minor: 23, overrides: None }),
    ..CheckMeta::K8S
};

impl Check for RunAsUser {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        if cx.version.at_least(35) && pod.user_namespaced() {
            return;
        }
        if let Some(v) = pod.sc_field("runAsUser").filter(|v| v.as_i64() == Some(0)) {
            out.push(Hit::at(v, "pod sets securityContext.runAsUser=0; use a non-zero UID"));
        }
        for c in pod.containers() {
            if let Some(v) = c.sc_field("runAsUser").filter(|v| v.as_i64() == Some(0)) {
                out.push(
                    Hit::at(
                        v,
                        format!(
                            "container {:?} sets securityContext.runAsUser=0; use a non-zero UID",
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
    use super::RunAsUser as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("securityContext: {runAsUser: 0}", "")).len(), 1);
        assert!(hits(&C, &pod_with("securityContext: {runAsUser: 1000}", "")).is_empty());
    }
}
