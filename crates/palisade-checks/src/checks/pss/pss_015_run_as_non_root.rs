//! PAL-PSS-015 (PSS restricted `runAsNonRoot`): Containers may run as root (runAsNonRoot not true).

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct RunAsNonRoot;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-015",
    title: "Containers may run as root (runAsNonRoot not true)",
    severity: Severity::Medium,
    groups: super::RESTRICTED_GROUPS,
    rationale: "Without runAsNonRoot: true the kubelet lets a container start as UID 0 if the image says so; root in a container is one kernel bug away from root on the node.",
    remediation: "Set securityContext.runAsNonRoot: true at pod level (or in every container) and run the image as a non-root user.",
    references: &[
        "PSS restricted: Running as Non-root",
        "CIS Kubernetes 5.2.7",
        "NSA/CISA Kubernetes Hardening: non-root containers",
    ],
    peers: &["checkov:CKV_K8S_23", "kube-linter:run-as-non-root", "polaris:runAsRootAllowed"],
    pss: Some(PssInfo {
        psa_id: "runAsNonRoot",
        level: PssLevel::Restricted,
        since_minor: 0,
        overrides: None,
    }),
    ..CheckMeta::K8S
};

impl Check for RunAsNonRoot {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        if cx.version.at_least(35) && pod.user_namespaced() {
            return;
        }
        let pod_v = pod.sc_field("runAsNonRoot");
        let pod_true = pod_v.and_then(crate::yaml::Node::as_bool) == Some(true);
        let mut explicit = false;
        if let Some(v) = pod_v.filter(|v| v.as_bool() != Some(true)) {
            out.push(Hit::at(v, "pod sets securityContext.runAsNonRoot=false; set it to true"));
            explicit = true;
        }
        let mut implicit = Vec::new();
        for c in pod.containers() {
            match c.sc_field("runAsNonRoot") {
                Some(v) if v.as_bool() != Some(true) => {
                    out.push(
                        Hit::at(
                            v,
                            format!(
                                "container {:?} sets securityContext.runAsNonRoot=false; set it to true",
                                c.name
                            ),
                        )
                        .in_container(c.name),
                    );
                    explicit = true;
                }
                Some(_) => {}
                None if !pod_true => implicit.push(c),
                None => {}
            }
        }
        if !explicit {
            for c in implicit {
                out.push(
                    Hit::at(
                        c.sc().unwrap_or(c.node),
                        format!("pod or container {:?} must set securityContext.runAsNonRoot=true", c.name),
                    )
                    .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RunAsNonRoot as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("", "")).len(), 1);
        assert_eq!(
            hits(
                &C,
                &pod_with("securityContext: {runAsNonRoot: true}", "securityContext: {runAsNonRoot: false}")
            )
            .len(),
            1
        );
        assert!(hits(&C, &pod_with("securityContext: {runAsNonRoot: true}", "")).is_empty());
        assert!(hits(&C, &pod_with("hostUsers: false", "")).is_empty());
    }
}
