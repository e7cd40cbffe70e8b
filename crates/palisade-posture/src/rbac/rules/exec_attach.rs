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

#[cfg(test)]
mod tests {
    use super::super::{USER, ids_for};

    #[test]
    fn fires_on_exec_or_attach_and_not_on_logs() {
        assert_eq!(
            ids_for(USER, Some("x"), "[{apiGroups: [\"\"], resources: [pods/attach], verbs: [create]}]"),
            ["PAL-RBAC-003"]
        );
        assert_eq!(
            ids_for(USER, Some("x"), "[{apiGroups: [\"\"], resources: [\"*/exec\"], verbs: [get]}]"),
            ["PAL-RBAC-003"]
        );
        assert!(
            ids_for(USER, Some("x"), "[{apiGroups: [\"\"], resources: [pods/log], verbs: [get]}]").is_empty()
        );
    }
}
