//! PAL-RBAC-010: a binding to `system:anonymous` or `system:unauthenticated`: anyone who reaches the API
//! server has the permissions, without credentials.

use super::{Cx, Hit, RiskRule, hit};
use crate::rbac::model::SubjectKind;
use palisade_core::Severity;

pub const RULE: RiskRule = RiskRule {
    id: "PAL-RBAC-010",
    title: "Permissions for unauthenticated users",
    severity: Severity::Critical,
    remediation: "Delete the binding; keep --anonymous-auth=false on the API server where health checks allow.",
    judge,
};

fn judge(cx: &Cx) -> Option<Hit> {
    hit(cx
        .grants
        .iter()
        .enumerate()
        .filter(|(_, g)| {
            matches!(
                (g.subject.kind, g.subject.name.as_str()),
                (SubjectKind::User, "system:anonymous") | (SubjectKind::Group, "system:unauthenticated")
            )
        })
        .map(|(i, _)| i)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::ids_for;

    #[test]
    fn fires_for_anonymous_subjects_and_not_for_authenticated_ones() {
        let r = "[{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}]";
        assert_eq!(ids_for("{kind: User, name: \"system:anonymous\"}", Some("x"), r), ["PAL-RBAC-010"]);
        assert!(ids_for("{kind: Group, name: \"system:authenticated\"}", Some("x"), r).is_empty());
    }
}
