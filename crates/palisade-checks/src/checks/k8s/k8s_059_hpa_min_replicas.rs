//! PAL-K8S-059: HorizontalPodAutoscaler minReplicas below 2.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct HpaMinReplicas;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-059",
    title: "HorizontalPodAutoscaler minReplicas below 2",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "An HPA that may scale down to one replica loses availability during disruptions.",
    remediation: "Set spec.minReplicas to at least 2.",
    references: &["Kubernetes docs: HPA"],
    peers: &["kube-linter:hpa-minimum-three-replicas", "polaris:hpaMinAvailability"],
    ..CheckMeta::K8S
};

impl Check for HpaMinReplicas {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "HorizontalPodAutoscaler" {
            return;
        }
        let Some(spec) = obj.spec() else { return };
        let m = spec.get("minReplicas").and_then(Node::as_i64).unwrap_or(1);
        if m < 2 {
            out.push(Hit::at(
                spec.get("minReplicas").unwrap_or(spec),
                format!("minReplicas is {m}; set it to 2 or more"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::HpaMinReplicas as C;

    const FAIL: &str = r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h, namespace: apps}
spec:
  minReplicas: 1
  maxReplicas: 5
"#;
    const PASS: &str = r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h, namespace: apps}
spec:
  minReplicas: 2
  maxReplicas: 5
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
