//! PAL-K8S-080: hostAliases set.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct HostAliases;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-080",
    title: "hostAliases set",
    severity: Severity::Info,
    groups: &["kubernetes", "network"],
    rationale: "hostAliases rewrite /etc/hosts in the pod and can redirect traffic for well-known names.",
    remediation: "Use DNS (Services, ExternalName) instead of spec.hostAliases.",
    references: &["kubesec: HostAliases"],
    peers: &[],
    ..CheckMeta::K8S
};

impl Check for HostAliases {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        if let Some(h) = pod.spec.get("hostAliases").filter(|h| !h.as_seq().is_empty()) {
            out.push(Hit::at(h, "spec.hostAliases overrides /etc/hosts; use DNS instead"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HostAliases as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  hostAliases: [{ip: 10.0.0.1, hostnames: [api.example.com]}]
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
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
