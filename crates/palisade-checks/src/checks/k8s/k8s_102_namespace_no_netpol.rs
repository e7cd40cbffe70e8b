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
        let (name, line, col) = (obj.name.clone(), obj.root.line, obj.root.col);
        cx.relate(move |index, out| {
            if index.network_policies_in(&name).next().is_none() {
                out.push(Hit::pos(
                    line,
                    col,
                    format!(
                        "namespace {name:?} has no NetworkPolicy in the checked manifests; add a default-deny policy"
                    ),
                ));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::NamespaceNoNetpol as C;
    use crate::testutil::hits;

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

    #[test]
    fn a_policy_without_namespace_is_in_default() {
        let doc = "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: d}\nspec: {podSelector: {}}\n";
        assert!(hits(&C, doc).is_empty());
        assert_eq!(hits(&C, &doc.replace("{name: default}", "{name: apps}")).len(), 1);
    }
}
