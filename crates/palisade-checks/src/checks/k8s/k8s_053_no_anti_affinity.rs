//! PAL-K8S-053: Replicas may all land on one node (no anti-affinity or topology spread).

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NoAntiAffinity;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-053",
    title: "Replicas may all land on one node (no anti-affinity or topology spread)",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "Without pod anti-affinity or topology spread constraints all replicas can be scheduled on one node and fail together.",
    remediation: "Add podAntiAffinity or topologySpreadConstraints keyed on kubernetes.io/hostname.",
    references: &["Kubernetes docs: topology spread constraints"],
    peers: &["kube-linter:no-anti-affinity", "polaris:topologySpreadConstraint"],
    ..CheckMeta::K8S
};

impl Check for NoAntiAffinity {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "Deployment" && obj.kind != "StatefulSet" {
            return;
        }
        let Some(pod) = obj.pod() else { return };
        let r = obj.spec().and_then(|s| s.get("replicas")).and_then(Node::as_i64).unwrap_or(1);
        let has = pod.spec.path(&["affinity", "podAntiAffinity"]).is_some()
            || pod.spec.get("topologySpreadConstraints").is_some_and(|t| !t.as_seq().is_empty());
        if r > 1 && !has {
            out.push(Hit::at(pod.spec, format!("{r} replicas without podAntiAffinity or topologySpreadConstraints; spread them across nodes")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NoAntiAffinity as C;
    #[allow(unused_imports)]
    use crate::testutil::{hits, hits_v};

    const FAIL: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  replicas: 3
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
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule}]
      containers:
      - name: app
        image: registry.example.com/app:1.0
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
