//! PAL-RBAC-006: `create` on `serviceaccounts/token`: mints tokens for any service account of the scope, and
//! so holds all their permissions.

use super::{Cx, Hit, RiskRule, hit, matching};
use palisade_core::Severity;

pub const RULE: RiskRule = RiskRule {
    id: "PAL-RBAC-006",
    title: "Creates service account tokens",
    severity: Severity::High,
    remediation: "Limit serviceaccounts/token to the named service accounts (resourceNames) that need it.",
    judge,
};

fn judge(cx: &Cx) -> Option<Hit> {
    hit(matching(cx, &["create"], "", &["serviceaccounts/token"]))
}
