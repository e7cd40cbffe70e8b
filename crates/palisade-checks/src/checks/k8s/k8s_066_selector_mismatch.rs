//! PAL-K8S-066: Selector does not match the pod template labels.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct SelectorMismatch;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-066",
    title: "Selector does not match the pod template labels",
    severity: Severity::Medium,
    groups: &["kubernetes"],
    rationale: "A controller whose selector does not match its template labels is rejected by the API server or manages no pods.",
    remediation: "Make spec.selector match the labels in spec.template.metadata.labels.",
    references: &["Kubernetes docs: label selectors"],
    peers: &["kube-linter:mismatching-selector"],
    ..CheckMeta::K8S
};

impl Check for SelectorMismatch {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if ![
            "Deployment",
            "DaemonSet",
            "StatefulSet",
            "ReplicaSet",
            "ReplicationController",
            "Job",
            "DeploymentConfig",
        ]
        .contains(&obj.kind.as_str())
        {
            return;
        }
        let Some(sel) = obj.spec().and_then(|s| s.field("selector")) else { return };
        if !selects(sel, &template_labels(obj)) {
            out.push(Hit::at(
                sel,
                "spec.selector does not match spec.template.metadata.labels; make them agree",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SelectorMismatch as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  selector:
    matchLabels:
      app: api
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
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn deployment_config_plain_selector() {
        let doc = "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {name: d}\nspec:\n  selector: {app: a}\n  template:\n    LABELS\n    spec:\n      containers: [{name: c}]\n";
        assert_eq!(hits(&C, &doc.replace("LABELS", "metadata: {}")).len(), 1);
        assert!(hits(&C, &doc.replace("LABELS", "metadata: {labels: {app: a}}")).is_empty());
    }
}
