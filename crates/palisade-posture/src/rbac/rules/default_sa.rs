//! PAL-RBAC-011: a namespace's `default` service account bound to a role: every Pod that names no service
//! account gets the permissions.

use super::{Cx, Hit, RiskRule, hit};
use crate::rbac::model::SubjectKind;
use palisade_core::Severity;

pub const RULE: RiskRule = RiskRule {
    id: "PAL-RBAC-011",
    title: "Default service account has permissions",
    severity: Severity::Medium,
    remediation: "Bind the role to a service account of its own and set serviceAccountName on the workloads that need it.",
    judge,
};

fn judge(cx: &Cx) -> Option<Hit> {
    hit(cx
        .grants
        .iter()
        .enumerate()
        .filter(|(_, g)| g.subject.kind == SubjectKind::ServiceAccount && g.subject.name == "default")
        .map(|(i, _)| i)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::ids_for;

    #[test]
    fn fires_for_the_default_service_account_and_not_for_a_named_one() {
        let r = "[{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}]";
        assert_eq!(
            ids_for("{kind: ServiceAccount, name: default, namespace: x}", Some("x"), r),
            ["PAL-RBAC-011"]
        );
        assert!(ids_for("{kind: ServiceAccount, name: app, namespace: x}", Some("x"), r).is_empty());
    }
}
