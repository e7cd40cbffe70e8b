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
        let labels = pod_labels(obj);
        let covered = cx.objects.iter().any(|p| {
            p.kind == "NetworkPolicy"
                && ns(p) == ns(obj)
                && p.spec()
                    .and_then(|s| s.get("podSelector"))
                    .is_none_or(|s| s.is_null() || selects(s, &labels))
        });
        if !covered {
            out.push(Hit::at(
                &obj.root,
                format!("no NetworkPolicy in the checked manifests selects {}; add one", obj.display()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NotIsolated as C;
    #[allow(unused_imports)]
    use crate::testutil::{hits, hits_v};

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

    #[test]
    fn fires_on_fail_fixture() {
        assert!(!hits(&C, FAIL).is_empty());
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(hits(&C, PASS).is_empty(), "{:?}", hits(&C, PASS));
    }
}
