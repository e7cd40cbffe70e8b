//! PAL-CLU-001: a namespace runs Deployments or StatefulSets but has no PodDisruptionBudget: a node drain or
//! upgrade may evict every replica at once.

use super::{ClusterCheck, Cx, Hit, system_namespace};
use palisade_core::Severity;
use std::collections::BTreeMap;

pub const CHECK: ClusterCheck = ClusterCheck {
    id: "PAL-CLU-001",
    title: "Namespace without a PodDisruptionBudget",
    severity: Severity::Low,
    remediation: "Add a PodDisruptionBudget (minAvailable or maxUnavailable) for each replicated workload.",
    run,
};

fn run<'a>(cx: &Cx<'a>) -> Vec<Hit<'a>> {
    let ns_of = |o: &palisade_checks::k8s::Object| o.namespace.clone().unwrap_or_else(|| "default".into());
    let mut with_pdb = std::collections::BTreeSet::new();
    let mut workloads: BTreeMap<String, Vec<&'a palisade_checks::dump::DumpObject>> = BTreeMap::new();
    for d in &cx.dump.objects {
        match d.object.kind.as_str() {
            "PodDisruptionBudget" => {
                with_pdb.insert(ns_of(&d.object));
            }
            "Deployment" | "StatefulSet" => workloads.entry(ns_of(&d.object)).or_default().push(d),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (ns, ws) in workloads {
        if system_namespace(&ns) || with_pdb.contains(&ns) {
            continue;
        }
        let names: Vec<String> = ws.iter().map(|w| format!("{}/{}", w.object.kind, w.object.name)).collect();
        // On the Namespace object when the dump has it, else on the first workload.
        let at = cx.dump.of_kind("Namespace").find(|n| n.object.name == ns).unwrap_or(ws[0]);
        out.push(Hit {
            object: at,
            line: at.object.root.line,
            message: format!("namespace {ns} has no PodDisruptionBudget for {}", names.join(", ")),
            severity: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::ids;

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: shop}\nspec: {template: {spec: {containers: [{name: a, image: a}]}}}\n";

    #[test]
    fn fires_without_a_pdb_and_not_with_one() {
        assert_eq!(ids(DEPLOY, None), ["PAL-CLU-001"]);
        let pdb = "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p, namespace: shop}\nspec: {minAvailable: 1}\n";
        assert!(ids(&format!("{DEPLOY}{pdb}"), None).is_empty());
        assert!(ids(&DEPLOY.replace("shop", "kube-system"), None).is_empty());
    }
}
