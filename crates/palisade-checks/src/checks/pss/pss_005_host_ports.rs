//! PAL-PSS-005 (PSS baseline `hostPorts`): Container uses a hostPort.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct HostPorts;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-005",
    title: "Container uses a hostPort",
    severity: Severity::Medium,
    groups: super::BASELINE_GROUPS,
    rationale: "A hostPort binds the container to a port of the node itself, bypassing network policies and limiting scheduling.",
    remediation: "Remove ports[*].hostPort (or set it to 0) and expose the workload through a Service.",
    references: &["PSS baseline: Host Ports", "CIS Kubernetes 5.2.13"],
    peers: &["checkov:CKV_K8S_26", "polaris:hostPortSet"],
    pss: Some(PssInfo { psa_id: "hostPorts", level: PssLevel::Baseline, since_minor: 0, overrides: None }),
    ..CheckMeta::K8S
};

impl Check for HostPorts {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        for c in pod.containers() {
            for p in c.node.get("ports").map(crate::yaml::Node::as_seq).unwrap_or(&[]) {
                if let Some(h) = p.get("hostPort").filter(|h| h.as_i64().is_some_and(|v| v != 0)) {
                    out.push(
                        Hit::at(
                            h,
                            format!(
                                "container {:?} uses hostPort {}; remove hostPort and use a Service",
                                c.name,
                                h.as_i64().unwrap_or(0)
                            ),
                        )
                        .in_container(c.name),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HostPorts as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("", "ports: [{containerPort: 80, hostPort: 8080}]")).len(), 1);
        assert!(hits(&C, &pod_with("", "ports: [{containerPort: 80, hostPort: 0}]")).is_empty());
    }
}
