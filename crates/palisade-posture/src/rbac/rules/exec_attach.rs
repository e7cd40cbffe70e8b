//! PAL-RBAC-003: `pods/exec` or `pods/attach` (`create`, or `get` for the WebSocket upgrade): a shell in any
//! Pod of the scope, with its service account token and mounted secrets.

use super::{Cx, Hit, RiskRule, hit, matching};
use palisade_core::Severity;

pub const RULE: RiskRule = RiskRule {
    id: "PAL-RBAC-003",
    title: "Runs commands in Pods (pods/exec, pods/attach)",
    severity: Severity::High,
    remediation: "Keep exec/attach to break-glass roles bound for a limited time; debug with ephemeral containers under audit.",
    judge,
};

fn judge(cx: &Cx) -> Option<Hit> {
    hit(matching(cx, &["create", "get"], "", &["pods/exec", "pods/attach"]))
}
