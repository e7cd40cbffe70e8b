//! PAL-K8S-074: Workload not selected by any NetworkPolicy.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NotIsolated;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-074",
    title: "Workload not selected by any NetworkPolicy",
    severity: Severity::Low,
    groups: &["kubernetes", "network"],
    rationale: "Pods that no NetworkPolicy selects accept traffic from, and send traffic to, anything in the cluster.",
    remediation: "Add a NetworkPolicy (a default-deny per namespace plus explicit allows) that selects the pods.",
    references: &["CIS Kubernetes 5.3.2", "NSA/CISA Kubernetes Hardening: network separation"],
    peers: &["kube-linter:non-isolated-pod", "checkov:CKV2_K8S_6", "polaris:missingNetworkPolicy"],
    ..CheckMeta::K8S
};

impl Check for NotIsolated {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.pod().is_none() {
            return;
        }
        // The NetworkPolicies of the pod's namespace may be in any file of the scan.
        let (labels, namespace, display) = (pod_labels(obj), ns(obj).to_string(), obj.display());
        let (line, col) = (obj.root.line, obj.root.col);
        cx.relate(move |index, out| {
            let (mut ingress, mut egress) = (false, false);
            for p in index.network_policies_in(&namespace).filter(|p| p.selects(&labels)) {
                ingress |= p.ingress;
                egress |= p.egress;
            }
            let missing = match (ingress, egress) {
                (true, true) => return,
                (false, false) => "no NetworkPolicy",
                (true, false) => "no egress NetworkPolicy",
                (false, true) => "no ingress NetworkPolicy",
            };
            out.push(Hit::pos(
                line,
                col,
                format!("{missing} in the checked manifests selects {display}; add one covering ingress and egress"),
            ));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::NotIsolated as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0
"#;
    const PASS: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: apps}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn only_policies_of_the_pods_namespace_count() {
        // The PASS policy moved to another namespace no longer covers the Deployment.
        assert_eq!(
            hits(&C, &PASS.replace("{name: deny, namespace: apps}", "{name: deny, namespace: other}")).len(),
            1
        );
        // Without namespaces, both are in default.
        let unnamespaced = PASS.replace("  namespace: apps\n", "").replace(", namespace: apps}", "}");
        assert!(hits(&C, &unnamespaced).is_empty());
    }
}
