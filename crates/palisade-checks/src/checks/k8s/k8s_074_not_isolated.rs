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
        let (mut ingress, mut egress) = (false, false);
        for p in cx.objects.iter().filter(|p| p.kind == "NetworkPolicy" && ns(p) == ns(obj)) {
            let Some(spec) = p.spec() else { continue };
            if !spec.get("podSelector").is_none_or(|s| s.is_null() || selects(s, &labels)) {
                continue;
            }
            let types = spec.get("policyTypes").map(Node::str_list);
            match types {
                Some(t) => {
                    ingress |= t.iter().any(|x| x == "Ingress");
                    egress |= t.iter().any(|x| x == "Egress");
                }
                None => {
                    ingress = true;
                    egress |= spec.get("egress").is_some();
                }
            }
        }
        if !(ingress && egress) {
            let missing = match (ingress, egress) {
                (false, false) => "no NetworkPolicy",
                (true, false) => "no egress NetworkPolicy",
                _ => "no ingress NetworkPolicy",
            };
            out.push(Hit::at(
                &obj.root,
                format!(
                    "{missing} in the checked manifests selects {}; add one covering ingress and egress",
                    obj.display()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NotIsolated as C;

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
}
