//! PAL-RBAC-009: `*` in verbs or resources: grants everything present and future (new resources and
//! subresources included). Critical when both are `*` (cluster-admin in the scope).

use super::{Cx, Hit, RiskRule};
use palisade_core::Severity;

pub const RULE: RiskRule = RiskRule {
    id: "PAL-RBAC-009",
    title: "Wildcard permissions",
    severity: Severity::Medium,
    remediation: "List the verbs and resources needed; a wildcard also grants what later API versions add.",
    judge,
};

fn judge(cx: &Cx) -> Option<Hit> {
    let star = |v: &[String]| v.iter().any(|x| x == "*");
    let mut grants = Vec::new();
    let mut full = false;
    for (i, g) in cx.grants.iter().enumerate() {
        let (verbs, res) = (star(&g.rule.verbs), star(&g.rule.resources) || star(&g.rule.non_resource_urls));
        if verbs || res {
            grants.push(i);
            full |= verbs && star(&g.rule.resources) && star(&g.rule.api_groups);
        }
    }
    (!grants.is_empty()).then_some(Hit { grants, severity: full.then_some(Severity::Critical) })
}

#[cfg(test)]
mod tests {
    use super::super::{USER, ids_for};

    #[test]
    fn fires_on_wildcards_and_not_on_named_verbs() {
        assert_eq!(
            ids_for(USER, Some("x"), "[{apiGroups: [apps], resources: [\"*\"], verbs: [get]}]"),
            ["PAL-RBAC-009"]
        );
        assert!(
            ids_for(USER, Some("x"), "[{apiGroups: [apps], resources: [deployments], verbs: [get, list]}]")
                .is_empty()
        );
    }
}
