//! PAL-K8S-057: PodDisruptionBudget without unhealthyPodEvictionPolicy.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct PdbEvictionPolicy;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-057",
    title: "PodDisruptionBudget without unhealthyPodEvictionPolicy",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "Without unhealthyPodEvictionPolicy: AlwaysAllow, crash-looping pods count against the budget and can block node drains.",
    remediation: "Set spec.unhealthyPodEvictionPolicy: AlwaysAllow.",
    references: &["Kubernetes docs: unhealthy pod eviction policy"],
    peers: &["kube-linter:pdb-unhealthy-pod-eviction-policy"],
    ..CheckMeta::K8S
};

impl Check for PdbEvictionPolicy {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "PodDisruptionBudget" {
            return;
        }
        let Some(spec) = obj.spec() else { return };
        if spec.field("unhealthyPodEvictionPolicy").is_none() {
            out.push(Hit::at(spec, "unhealthyPodEvictionPolicy is not set; set it to AlwaysAllow"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PdbEvictionPolicy as C;

    const FAIL: &str = r#"apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: p, namespace: apps}
spec:
  maxUnavailable: 1
"#;
    const PASS: &str = r#"apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: p, namespace: apps}
spec:
  maxUnavailable: 1
  unhealthyPodEvictionPolicy: AlwaysAllow
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
