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
