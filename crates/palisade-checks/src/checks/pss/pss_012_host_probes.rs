//! PAL-PSS-012 (PSS baseline `hostProbesAndHostLifecycle`): Probe or lifecycle handler targets another host.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct HostProbes;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-012",
    title: "Probe or lifecycle handler targets another host",
    severity: Severity::Medium,
    groups: super::BASELINE_GROUPS,
    rationale: "A host in an httpGet/tcpSocket probe or lifecycle handler makes the kubelet connect to arbitrary addresses (server-side request forgery from the node).",
    remediation: "Remove the host field from liveness/readiness/startup probes and postStart/preStop handlers.",
    references: &["PSS baseline: Probes and Lifecycle Hooks (1.34+)"],
    peers: &[],
    pss: Some(PssInfo {
        psa_id: "hostProbesAndHostLifecycle",
        level: PssLevel::Baseline,
        since_minor: 34,
        overrides: None,
    }),
    ..CheckMeta::K8S
};

impl Check for HostProbes {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        for c in pod.containers() {
            let mut handlers = Vec::new();
            for p in ["livenessProbe", "readinessProbe", "startupProbe"] {
                handlers.extend(c.node.field(p));
            }
            for h in ["postStart", "preStop"] {
                handlers.extend(c.node.field("lifecycle").and_then(|l| l.field(h)));
            }
            for h in handlers {
                for kind in ["httpGet", "tcpSocket"] {
                    if let Some(host) = h
                        .field(kind)
                        .and_then(|k| k.get("host"))
                        .filter(|x| x.scalar_text().is_some_and(|s| !s.is_empty()))
                    {
                        out.push(
                            Hit::at(
                                host,
                                format!(
                                    "container {:?} probes/hooks host {:?}; remove the host field",
                                    c.name,
                                    host.scalar_text().unwrap_or_default()
                                ),
                            )
                            .in_container(c.name),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HostProbes as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("", "livenessProbe: {httpGet: {host: 10.0.0.1, port: 80}}")).len(), 1);
        assert!(hits(&C, &pod_with("", "livenessProbe: {httpGet: {port: 80}}")).is_empty());
    }
}
