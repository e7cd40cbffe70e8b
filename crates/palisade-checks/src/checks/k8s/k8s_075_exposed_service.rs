//! PAL-K8S-075: Service exposed outside the cluster (NodePort, LoadBalancer, externalIPs).

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct ExposedService;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-075",
    title: "Service exposed outside the cluster (NodePort, LoadBalancer, externalIPs)",
    severity: Severity::Medium,
    groups: &["kubernetes", "network"],
    rationale: "NodePort and LoadBalancer Services (and externalIPs) expose the workload on node or public addresses, bypassing ingress controls.",
    remediation: "Use a ClusterIP Service behind an Ingress/Gateway; if a LoadBalancer is needed restrict loadBalancerSourceRanges.",
    references: &["CIS Kubernetes 5.3", "NSA/CISA Kubernetes Hardening: network separation"],
    peers: &["kube-linter:exposed-services"],
    ..CheckMeta::K8S
};

impl Check for ExposedService {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "Service" {
            return;
        }
        let Some(spec) = obj.spec() else { return };
        if let Some(t) = spec.get("type").filter(|t| matches!(t.as_str(), Some("NodePort" | "LoadBalancer")))
        {
            let ranges = spec.get("loadBalancerSourceRanges").is_some_and(|r| !r.as_seq().is_empty());
            if !(t.as_str() == Some("LoadBalancer") && ranges) {
                out.push(Hit::at(t, format!("Service type {} exposes the workload outside the cluster; use ClusterIP behind an Ingress or restrict loadBalancerSourceRanges", t.scalar_text().unwrap_or_default())));
            }
        }
        if let Some(e) = spec.get("externalIPs").filter(|e| !e.as_seq().is_empty()) {
            out.push(Hit::at(
                e,
                "Service sets externalIPs (CVE-2020-8554 traffic interception risk); remove them",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ExposedService as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: apps
spec:
  type: NodePort
  ports: [{port: 80}]
"#;
    const PASS: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: apps
spec:
  type: ClusterIP
  ports: [{port: 80}]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
