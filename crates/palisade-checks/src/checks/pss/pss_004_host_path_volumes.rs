//! PAL-PSS-004 (PSS baseline `hostPathVolumes`): hostPath volume.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct HostPathVolumes;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-004",
    title: "hostPath volume",
    severity: Severity::High,
    groups: super::BASELINE_GROUPS,
    rationale: "hostPath volumes expose the node filesystem to the pod: credentials, the container runtime socket and kubelet state can be read or replaced.",
    remediation: "Replace hostPath volumes with emptyDir, configMap, secret, a PersistentVolumeClaim or a CSI volume.",
    references: &["PSS baseline: HostPath Volumes", "CIS Kubernetes 5.2.12"],
    peers: &["polaris:hostPathSet"],
    pss: Some(PssInfo {
        psa_id: "hostPathVolumes",
        level: PssLevel::Baseline,
        since_minor: 0,
        overrides: None,
    }),
    ..CheckMeta::K8S
};

impl Check for HostPathVolumes {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        for v in pod.volumes() {
            if let Some(h) = v.field("hostPath") {
                let name = v.get("name").and_then(crate::yaml::Node::as_str).unwrap_or("");
                out.push(Hit::at(
                    h,
                    format!(
                        "volume {name:?} is a hostPath volume; use emptyDir, a PVC or a CSI volume instead"
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HostPathVolumes as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("volumes: [{name: h, hostPath: {path: /etc}}]", "")).len(), 1);
        assert!(hits(&C, &pod_with("volumes: [{name: e, emptyDir: {}}]", "")).is_empty());
    }
}
