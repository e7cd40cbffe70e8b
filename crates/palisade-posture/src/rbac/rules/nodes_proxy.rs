//! PAL-RBAC-005: `nodes/proxy`: the kubelet API of every node (exec in any Pod of the node, bypassing audit
//! and admission).

use super::{Cx, Hit, RiskRule, hit, matching};
use palisade_core::Severity;

pub const RULE: RiskRule = RiskRule {
    id: "PAL-RBAC-005",
    title: "Reaches the kubelet API (nodes/proxy)",
    severity: Severity::High,
    remediation: "Grant nodes/metrics or nodes/stats for monitoring instead of nodes/proxy.",
    judge,
};

fn judge(cx: &Cx) -> Option<Hit> {
    hit(matching(cx, &["get", "create"], "", &["nodes/proxy"]))
}

#[cfg(test)]
mod tests {
    use super::super::{USER, ids_for};

    #[test]
    fn fires_on_nodes_proxy_and_not_on_nodes_metrics() {
        assert_eq!(
            ids_for(USER, None, "[{apiGroups: [\"\"], resources: [nodes/proxy], verbs: [create]}]"),
            ["PAL-RBAC-005"]
        );
        assert!(
            ids_for(
                USER,
                None,
                "[{apiGroups: [\"\"], resources: [nodes/metrics, nodes/stats], verbs: [get]}]"
            )
            .is_empty()
        );
    }
}
