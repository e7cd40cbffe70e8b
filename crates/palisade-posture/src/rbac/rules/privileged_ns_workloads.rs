//! PAL-RBAC-004: creating Pods or workloads cluster-wide or in a privileged namespace (`kube-system`, or one
//! whose Pod Security admission enforces `privileged`): a privileged Pod there is root on a node.

use super::{Cx, Hit, RiskRule, hit, matching};
use crate::rbac::grants::Scope;
use palisade_core::Severity;

pub const RULE: RiskRule = RiskRule {
    id: "PAL-RBAC-004",
    title: "Creates Pods or workloads in a privileged namespace",
    severity: Severity::High,
    remediation: "Deploy through a controller whose namespace enforces the restricted Pod Security Standard; keep kube-system for the control plane.",
    judge,
};

/// Namespaces where a Pod may be privileged.
pub fn privileged(rbac: &crate::rbac::model::Rbac, ns: &str) -> bool {
    ns == "kube-system"
        || rbac
            .namespace_labels(ns)
            .iter()
            .any(|(k, v)| k == "pod-security.kubernetes.io/enforce" && v == "privileged")
}

fn judge(cx: &Cx) -> Option<Hit> {
    let applies = match cx.scope {
        Scope::Cluster => true,
        Scope::Namespace(ns) => privileged(cx.rbac, ns),
    };
    if !applies {
        return None;
    }
    let mut g = matching(cx, &["create"], "", &["pods", "replicationcontrollers"]);
    g.extend(matching(
        cx,
        &["create"],
        "apps",
        &["deployments", "daemonsets", "statefulsets", "replicasets"],
    ));
    g.extend(matching(cx, &["create"], "batch", &["jobs", "cronjobs"]));
    g.sort_unstable();
    g.dedup();
    hit(g)
}

#[cfg(test)]
mod tests {
    use super::super::{USER, ids_for};

    #[test]
    fn fires_in_kube_system_and_cluster_wide_and_not_in_an_ordinary_namespace() {
        let r = "[{apiGroups: [batch], resources: [cronjobs], verbs: [create]}]";
        assert_eq!(ids_for(USER, Some("kube-system"), r), ["PAL-RBAC-004"]);
        assert_eq!(ids_for(USER, None, r), ["PAL-RBAC-004"]);
        assert!(ids_for(USER, Some("team"), r).is_empty());
    }
}
