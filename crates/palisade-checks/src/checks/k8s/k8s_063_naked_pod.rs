//! PAL-K8S-063: Pod not managed by a controller.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NakedPod;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-063",
    title: "Pod not managed by a controller",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "A bare Pod is not rescheduled when its node fails and cannot be rolled out safely.",
    remediation: "Run the pod through a Deployment, StatefulSet, DaemonSet or Job.",
    references: &["Kubernetes docs: workload resources"],
    peers: &["kubescape:C-0073"],
    ..CheckMeta::K8S
};

impl Check for NakedPod {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind == "Pod" && obj.metadata().and_then(|m| m.get("ownerReferences")).is_none() {
            out.push(Hit::at(
                &obj.root,
                "bare Pod without a controller; use a Deployment, StatefulSet or Job",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NakedPod as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
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
}
