//! PAL-K8S-068: Service selects no workload.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
use crate::relate::LabelSelector;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct DanglingService;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-068",
    title: "Service selects no workload",
    severity: Severity::Low,
    groups: &["kubernetes", "network"],
    rationale: "A Service whose selector matches no pod has no endpoints; traffic to it fails.",
    remediation: "Fix the Service selector (or the workload labels).",
    references: &["Kubernetes docs: services"],
    peers: &["kube-linter:dangling-service"],
    ..CheckMeta::K8S
};

impl Check for DanglingService {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "Service" {
            return;
        }
        let Some(sel) = obj.spec().and_then(|s| s.field("selector")) else { return };
        if sel.as_map().is_empty() {
            return;
        }
        // Judged only when the scan has workloads in the Service's namespace.
        let (selector, namespace) = (LabelSelector::from_node(sel), ns(obj).to_string());
        let (line, col) = (sel.line, sel.col);
        cx.relate(move |index, out| {
            let mut workloads = index.workloads_in(&namespace).peekable();
            if workloads.peek().is_some() && !workloads.any(|w| selector.matches(&w.labels)) {
                out.push(Hit::pos(
                    line,
                    col,
                    "the Service selector matches no workload in the checked manifests",
                ));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::DanglingService as C;
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
---
apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: apps
spec:
  selector: {app: api}
  ports: [{port: 80}]
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
apiVersion: v1
kind: Service
metadata:
  name: s
  namespace: apps
spec:
  selector: {app: web}
  ports: [{port: 80}]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn templates_without_spec_still_count() {
        let doc = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    metadata: {labels: {app: a}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: SEL}\n";
        assert_eq!(hits(&C, &doc.replace("SEL", "b")).len(), 1);
        assert!(hits(&C, &doc.replace("SEL", "a")).is_empty());
    }
}
