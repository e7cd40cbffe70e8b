//! PAL-K8S-056: PodDisruptionBudget allows no disruption.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct PdbBlocksDisruption;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-056",
    title: "PodDisruptionBudget allows no disruption",
    severity: Severity::Low,
    groups: &["kubernetes", "reliability"],
    rationale: "maxUnavailable: 0 or minAvailable: 100% blocks node drains and cluster upgrades indefinitely.",
    remediation: "Allow at least one pod to be disrupted (maxUnavailable >= 1 or minAvailable below the replica count).",
    references: &["Kubernetes docs: disruptions"],
    peers: &[
        "kube-linter:pdb-max-unavailable",
        "kube-linter:pdb-min-available",
        "polaris:pdbDisruptionsIsZero",
    ],
    ..CheckMeta::K8S
};

impl Check for PdbBlocksDisruption {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "PodDisruptionBudget" {
            return;
        }
        let Some(spec) = obj.spec() else { return };
        if let Some(m) = spec.get("maxUnavailable").filter(|m| matches!(port_text(m).as_str(), "0" | "0%")) {
            out.push(Hit::at(m, "maxUnavailable is 0: no pod can ever be evicted; allow at least 1"));
        }
        if let Some(m) = spec.get("minAvailable").filter(|m| port_text(m) == "100%") {
            out.push(Hit::at(m, "minAvailable is 100%: no pod can ever be evicted; lower it"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PdbBlocksDisruption as C;

    const FAIL: &str = r#"apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: p, namespace: apps}
spec:
  maxUnavailable: 0
  selector: {matchLabels: {app: web}}
"#;
    const PASS: &str = r#"apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: p, namespace: apps}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {app: web}}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
