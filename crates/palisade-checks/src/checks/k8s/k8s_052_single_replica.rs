//! PAL-K8S-052: Deployment runs a single replica.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct SingleReplica;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-052",
    title: "Deployment runs a single replica",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "One replica means downtime on every node drain, rollout or crash.",
    remediation: "Run at least 2 replicas (spec.replicas) or let an HPA manage them.",
    references: &["Kubernetes docs: high availability"],
    peers: &["kube-linter:minimum-three-replicas", "polaris:deploymentMissingReplicas"],
    ..CheckMeta::K8S
};

impl Check for SingleReplica {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "Deployment" && obj.kind != "StatefulSet" {
            return;
        }
        let Some(spec) = obj.spec() else { return };
        let r = spec.get("replicas").and_then(Node::as_i64).unwrap_or(1);
        if r >= 2 {
            return;
        }
        // Unless a HorizontalPodAutoscaler of the namespace, in any file of the scan, scales it.
        let (kind, name, namespace) = (obj.kind.clone(), obj.name.clone(), ns(obj).to_string());
        let at = spec.get("replicas").unwrap_or(spec);
        let (line, col) = (at.line, at.col);
        cx.relate(move |index, out| {
            if !index.autoscaled(&namespace, &kind, &name) {
                out.push(Hit::pos(line, col, format!("{kind} runs {r} replica; set replicas >= 2")));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::SingleReplica as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  replicas: 1
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
      containers:
      - name: app
        image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn an_autoscaler_counts_in_the_same_namespace_for_the_same_target() {
        let hpa = |ns: &str, kind: &str| {
            format!(
                "{FAIL}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: h, namespace: {ns}}}\nspec: {{scaleTargetRef: {{kind: {kind}, name: web}}, minReplicas: 2}}\n"
            )
        };
        assert!(hits(&C, &hpa("apps", "Deployment")).is_empty());
        assert_eq!(hits(&C, &hpa("other", "Deployment")).len(), 1);
        assert_eq!(hits(&C, &hpa("apps", "StatefulSet")).len(), 1);
    }
}
