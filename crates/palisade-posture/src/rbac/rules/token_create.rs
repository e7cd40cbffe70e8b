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

#[cfg(test)]
mod tests {
    use super::super::{USER, ids_for};

    #[test]
    fn fires_on_token_creation_and_not_on_reading_service_accounts() {
        assert_eq!(
            ids_for(
                USER,
                Some("x"),
                "[{apiGroups: [\"\"], resources: [serviceaccounts/token], verbs: [create]}]"
            ),
            ["PAL-RBAC-006"]
        );
        assert!(
            ids_for(
                USER,
                Some("x"),
                "[{apiGroups: [\"\"], resources: [serviceaccounts], verbs: [get, list]}]"
            )
            .is_empty()
        );
    }
}
