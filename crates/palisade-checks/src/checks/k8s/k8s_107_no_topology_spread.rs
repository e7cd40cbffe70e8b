//! PAL-K8S-107: Replicated workload without topologySpreadConstraints.

use crate::check::{Check, CheckMeta, Hit, K8sCx};
use crate::k8s::Object;
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NoTopologySpread;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-107",
    title: "No topologySpreadConstraints",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "Without topology spread constraints the scheduler may put every replica in one node or zone, so a single failure takes the whole workload down.",
    remediation: "Add spec.template.spec.topologySpreadConstraints (for example maxSkew 1 over topology.kubernetes.io/zone or kubernetes.io/hostname).",
    references: &["Kubernetes docs: Pod Topology Spread Constraints"],
    peers: &["polaris:topologySpreadConstraint"],
    ..CheckMeta::K8S
};

impl Check for NoTopologySpread {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, _cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if !["Deployment", "StatefulSet", "DeploymentConfig"].contains(&obj.kind.as_str()) {
            return;
        }
        let Some(pod) = obj.pod() else { return };
        let constraints = pod.spec.get("topologySpreadConstraints");
        if constraints.map(Node::as_seq).is_none_or(<[Node]>::is_empty) {
            out.push(Hit::at(
                constraints.unwrap_or(pod.spec),
                format!(
                    "{} sets no topologySpreadConstraints; spread replicas across nodes or zones",
                    obj.kind
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NoTopologySpread as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  replicas: 3
  template:
    metadata:
      labels: {app: web}
    spec:
      topologySpreadConstraints: []
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
  template:
    metadata:
      labels: {app: web}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: app
        image: registry.example.com/app:1.0
"#;

    #[test]
    fn fires_on_fail_fixture() {
        assert_eq!(hits(&C, FAIL).len(), 1);
        assert_eq!(hits(&C, &FAIL.replace("      topologySpreadConstraints: []\n", "")).len(), 1);
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(hits(&C, PASS).is_empty(), "{:?}", hits(&C, PASS));
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers: [{name: c, image: x:1}]\n";
        assert!(hits(&C, pod).is_empty());
    }
}
