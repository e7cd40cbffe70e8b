//! PAL-K8S-012: NET_RAW capability not dropped.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NetRawNotDropped;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-012",
    title: "NET_RAW capability not dropped",
    severity: Severity::Medium,
    groups: &["kubernetes", "pod-security"],
    rationale: "NET_RAW lets a compromised container craft raw packets (ARP/DNS spoofing) on the pod network.",
    remediation: "Add NET_RAW (or ALL) to securityContext.capabilities.drop.",
    references: &["CIS Kubernetes 5.2.7"],
    peers: &["checkov:CKV_K8S_28", "kube-linter:drop-net-raw-capability"],
    ..CheckMeta::K8S
};

impl Check for NetRawNotDropped {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in spec_containers(obj) {
            let drop = c
                .sc()
                .and_then(|s| s.field("capabilities"))
                .and_then(|k| k.get("drop"))
                .map(Node::str_list)
                .unwrap_or_default();
            if !drop
                .iter()
                .any(|d| matches!(d.to_ascii_uppercase().as_str(), "ALL" | "NET_RAW" | "CAP_NET_RAW"))
            {
                out.push(Hit::at(c.sc().unwrap_or(c.node), format!("container {:?} does not drop NET_RAW; add it (or ALL) to securityContext.capabilities.drop", c.name)).in_container(c.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NetRawNotDropped as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;
    const PASS: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    securityContext: {capabilities: {drop: [ALL]}}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
