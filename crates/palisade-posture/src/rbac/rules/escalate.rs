//! PAL-RBAC-001: `escalate` or `bind` on roles (grant more than one holds) or `impersonate` (act as another
//! user, group or service account): each is a direct path to cluster-admin.

use super::{Cx, Hit, RiskRule, hit, matching};
use palisade_core::Severity;

pub const RULE: RiskRule = RiskRule {
    id: "PAL-RBAC-001",
    title: "Privilege escalation: escalate, bind or impersonate",
    severity: Severity::Critical,
    remediation: "Remove escalate/bind/impersonate; grant the exact roles needed instead, and limit any remaining use with resourceNames.",
    judge,
};

fn judge(cx: &Cx) -> Option<Hit> {
    let rbac = "rbac.authorization.k8s.io";
    let mut g = matching(cx, &["escalate", "bind"], rbac, &["roles", "clusterroles"]);
    g.extend(matching(cx, &["impersonate"], "", &["users", "groups", "serviceaccounts"]));
    g.extend(matching(cx, &["impersonate"], "authentication.k8s.io", &["uids", "userextras/scopes"]));
    g.sort_unstable();
    g.dedup();
    hit(g)
}

#[cfg(test)]
mod tests {
    use super::super::{USER, ids_for};

    #[test]
    fn fires_on_bind_escalate_impersonate_and_not_on_reading_roles() {
        assert_eq!(
            ids_for(
                USER,
                Some("x"),
                "[{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate]}]"
            ),
            ["PAL-RBAC-001"]
        );
        assert_eq!(
            ids_for(
                USER,
                None,
                "[{apiGroups: [\"\"], resources: [serviceaccounts], verbs: [impersonate], resourceNames: [ci]}]"
            ),
            ["PAL-RBAC-001"]
        );
        assert!(
            ids_for(
                USER,
                None,
                "[{apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [get, list]}]"
            )
            .is_empty()
        );
    }
}
