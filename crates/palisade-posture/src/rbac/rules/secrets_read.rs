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

#[cfg(test)]
mod tests {
    use super::super::{USER, ids_for};

    #[test]
    fn fires_on_reading_secrets_and_not_on_creating_them() {
        assert_eq!(
            ids_for(USER, Some("x"), "[{apiGroups: [\"\"], resources: [secrets], verbs: [watch]}]"),
            ["PAL-RBAC-002"]
        );
        assert!(
            ids_for(USER, Some("x"), "[{apiGroups: [\"\"], resources: [secrets], verbs: [create]}]")
                .is_empty()
        );
        // Another group's `secrets` is not the core resource.
        assert!(
            ids_for(USER, Some("x"), "[{apiGroups: [example.com], resources: [secrets], verbs: [get]}]")
                .is_empty()
        );
    }
}
