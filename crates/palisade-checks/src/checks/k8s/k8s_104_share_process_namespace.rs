//! PAL-K8S-104: Containers share the process namespace.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct ShareProcessNamespace;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-104",
    title: "Containers share the process namespace",
    severity: Severity::Medium,
    groups: &["kubernetes", "pod-security"],
    rationale: "shareProcessNamespace lets every container see and signal the others' processes and read their /proc (environment, files).",
    remediation: "Remove spec.shareProcessNamespace unless a debugging sidecar strictly needs it.",
    references: &["Kubernetes docs: share process namespace"],
    peers: &[],
    ..CheckMeta::K8S
};

impl Check for ShareProcessNamespace {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        if let Some(n) = pod.flag("shareProcessNamespace") {
            out.push(Hit::at(n, "shareProcessNamespace=true exposes processes across containers; remove it"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ShareProcessNamespace as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  shareProcessNamespace: true
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
