//! PAL-K8S-081: Resource in the default namespace.
//!
//! An explicit `namespace: default` is reported for any kind; a missing namespace only for the namespaced
//! kinds of the built-in API (cluster-scoped kinds have no namespace, and a custom resource's scope is
//! declared by its CRD, which the scan may not hold).

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct DefaultNamespace;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-081",
    title: "Resource in the default namespace",
    severity: Severity::Low,
    groups: &["kubernetes"],
    rationale: "The default namespace is shared and usually has no quotas, network policies or RBAC boundaries.",
    remediation: "Set metadata.namespace to a dedicated namespace.",
    references: &["CIS Kubernetes 5.7.4"],
    peers: &["checkov:CKV_K8S_21", "kube-linter:use-namespace"],
    ..CheckMeta::K8S
};

impl Check for DefaultNamespace {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        // Objects Kubernetes itself creates in the default namespace: its `default` ServiceAccount and the
        // API server's `kubernetes` Service.
        let builtin = (obj.kind == "ServiceAccount" && obj.name == "default")
            || (obj.kind == "Service" && obj.name == "kubernetes");
        if CLUSTER_SCOPED.contains(&obj.kind.as_str()) || builtin {
            return;
        }
        match obj.metadata().and_then(|m| m.get("namespace")) {
            Some(n) if n.scalar_text().as_deref() == Some("default") => {
                out.push(Hit::at(n, "resource is in the default namespace; use a dedicated namespace"))
            }
            // Only a kind known to be namespaced lands in `default` when it names no namespace: a
            // cluster-scoped kind has none, and a custom resource's scope is its CRD's to say.
            None if namespaced_builtin(obj) => out.push(Hit::at(
                obj.metadata().unwrap_or(&obj.root),
                "no namespace set (defaults to default); set metadata.namespace",
            )),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DefaultNamespace as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
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
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn kubernetes_created_objects_are_exempt() {
        let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: NAME, namespace: default}\n";
        assert!(hits(&C, &sa.replace("NAME", "default")).is_empty());
        assert_eq!(hits(&C, &sa.replace("NAME", "app")).len(), 1);
        let svc =
            "apiVersion: v1\nkind: Service\nmetadata: {name: kubernetes}\nspec: {ports: [{port: 443}]}\n";
        assert!(hits(&C, svc).is_empty());
    }

    #[test]
    fn cluster_scoped_and_unknown_kinds_have_no_default_namespace() {
        // kind's cluster config and a Kyverno ClusterPolicy: not namespaced objects of the built-in API.
        let kind_cfg = "apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\nnodes:\n- role: control-plane\n";
        assert!(hits(&C, kind_cfg).is_empty());
        let policy = "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: require-labels}\nspec: {rules: []}\n";
        assert!(hits(&C, policy).is_empty());
        let cert = "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: web}\n";
        assert!(hits(&C, cert).is_empty());
        let pv = "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: data}\n";
        assert!(hits(&C, pv).is_empty());
        // A namespaced built-in kind without a namespace, and any kind placed in `default` explicitly.
        assert_eq!(hits(&C, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n").len(), 1);
        assert_eq!(
            hits(&C, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\n").len(),
            1
        );
        assert_eq!(hits(&C, &cert.replace("name: web}", "name: web, namespace: default}")).len(), 1);
    }
}
