//! PAL-K8S-102: Namespace without a NetworkPolicy.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NamespaceNoNetpol;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-102",
    title: "Namespace without a NetworkPolicy",
    severity: Severity::Medium,
    groups: &["kubernetes", "network"],
    rationale: "A namespace with no NetworkPolicy allows all pod-to-pod traffic in and out of it.",
    remediation: "Add a default-deny NetworkPolicy to the namespace, then allow the required flows.",
    references: &["CIS Kubernetes 5.3.2", "NSA/CISA Kubernetes Hardening: network separation"],
    peers: &["kubescape:C-0260"],
    ..CheckMeta::K8S
};

impl Check for NamespaceNoNetpol {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "Namespace" {
            return;
        }
        if !cx
            .objects
            .iter()
            .any(|p| p.kind == "NetworkPolicy" && p.namespace.as_deref() == Some(obj.name.as_str()))
        {
            out.push(Hit::at(
                &obj.root,
                format!(
                    "namespace {:?} has no NetworkPolicy in the checked manifests; add a default-deny policy",
                    obj.name
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NamespaceNoNetpol as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: apps}
"#;
    const PASS: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: apps}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: d, namespace: apps}
spec: {podSelector: {}}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
