//! PAL-K8S-060: priorityClassName not set.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct PriorityClass;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-060",
    title: "priorityClassName not set",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "Without a priority class, important pods can be preempted by or starve behind less important ones.",
    remediation: "Set spec.priorityClassName to an appropriate PriorityClass.",
    references: &["Kubernetes docs: pod priority"],
    peers: &["kube-linter:priority-class-name", "polaris:priorityClassNotSet"],
    ..CheckMeta::K8S
};

impl Check for PriorityClass {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        if pod.spec.field("priorityClassName").is_none() {
            out.push(Hit::at(pod.spec, "priorityClassName is not set; assign a PriorityClass"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PriorityClass as C;

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
    const PASS: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  priorityClassName: high
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
