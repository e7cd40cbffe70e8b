//! PAL-K8S-100: StatefulSet volume claim without storage request or access mode.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct VolumeClaimTemplate;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-100",
    title: "StatefulSet volume claim without storage request or access mode",
    severity: Severity::Info,
    groups: &["kubernetes"],
    rationale: "Volume claim templates without a storage request or access modes are rejected or get surprising defaults.",
    remediation: "Set accessModes (ReadWriteOnce) and resources.requests.storage on every volumeClaimTemplate.",
    references: &["kubesec: VolumeClaimRequestsStorage"],
    peers: &[],
    ..CheckMeta::K8S
};

impl Check for VolumeClaimTemplate {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "StatefulSet" {
            return;
        }
        for t in obj.spec().and_then(|s| s.get("volumeClaimTemplates")).map(Node::as_seq).unwrap_or(&[]) {
            let spec = t.get("spec");
            if spec.and_then(|s| s.path(&["resources", "requests", "storage"])).is_none()
                || spec.and_then(|s| s.get("accessModes")).is_none()
            {
                out.push(Hit::at(t, "volumeClaimTemplate lacks accessModes or resources.requests.storage"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::VolumeClaimTemplate as C;

    const FAIL: &str = r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s, namespace: apps}
spec:
  volumeClaimTemplates:
  - metadata: {name: d}
    spec: {}
"#;
    const PASS: &str = r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s, namespace: apps}
spec:
  volumeClaimTemplates:
  - metadata: {name: d}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
