//! PAL-PSS-013 (PSS restricted `restrictedVolumes`): Volume type not allowed by the restricted profile.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct RestrictedVolumes;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-013",
    title: "Volume type not allowed by the restricted profile",
    severity: Severity::Medium,
    groups: super::RESTRICTED_GROUPS,
    rationale: "The restricted profile only allows volume types that cannot reach node or network storage directly.",
    remediation: "Use only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret volumes.",
    references: &["PSS restricted: Volume Types"],
    peers: &[],
    pss: Some(PssInfo {
        psa_id: "restrictedVolumes",
        level: PssLevel::Restricted,
        since_minor: 0,
        overrides: Some("hostPathVolumes"),
    }),
    ..CheckMeta::K8S
};

impl Check for RestrictedVolumes {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        const OK: &[&str] = &[
            "configMap",
            "csi",
            "downwardAPI",
            "emptyDir",
            "ephemeral",
            "image",
            "persistentVolumeClaim",
            "projected",
            "secret",
        ];
        const BAD: &[&str] = &[
            "hostPath",
            "gcePersistentDisk",
            "awsElasticBlockStore",
            "gitRepo",
            "nfs",
            "iscsi",
            "glusterfs",
            "rbd",
            "flexVolume",
            "cinder",
            "cephfs",
            "flocker",
            "fc",
            "azureFile",
            "vsphereVolume",
            "quobyte",
            "azureDisk",
            "photonPersistentDisk",
            "portworxVolume",
            "scaleIO",
            "storageos",
        ];
        for v in pod.volumes() {
            if OK.iter().any(|k| v.field(k).is_some()) {
                continue;
            }
            // A volume with no known source is defaulted to emptyDir by the API server.
            let Some(ty) = BAD.iter().find(|k| v.field(k).is_some()) else { continue };
            // hostPath is a baseline violation, reported by PAL-PSS-004 at its level.
            if *ty == "hostPath" {
                continue;
            }
            let name = v.get("name").and_then(crate::yaml::Node::as_str).unwrap_or("");
            out.push(Hit::at(v, format!("volume {name:?} uses restricted volume type {ty}; use a PVC, CSI, configMap, secret, emptyDir or projected volume")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RestrictedVolumes as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("volumes: [{name: n, nfs: {server: s, path: /}}]", "")).len(), 1);
        assert!(hits(&C, &pod_with("volumes: [{name: d}, {name: e, emptyDir: {}}, {name: p, persistentVolumeClaim: {claimName: x}}]", "")).is_empty());
    }
}
