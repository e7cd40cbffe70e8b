//! PAL-RBAC-002: `get`, `list` or `watch` on Secrets: service account tokens and credentials of everything
//! in the scope (`list` returns their contents too).

use super::{Cx, Hit, RiskRule, hit, matching};
use palisade_core::Severity;

pub const RULE: RiskRule = RiskRule {
    id: "PAL-RBAC-002",
    title: "Reads Secrets",
    severity: Severity::High,
    remediation: "Grant get on the named Secrets the workload needs (resourceNames), never list/watch on all of them.",
    judge,
};

fn judge(cx: &Cx) -> Option<Hit> {
    hit(matching(cx, &["get", "list", "watch"], "", &["secrets"]))
}
