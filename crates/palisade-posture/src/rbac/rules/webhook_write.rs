//! PAL-RBAC-008: writes to admission webhook configurations: disable policy enforcement, or send every
//! object (Secrets included) to a webhook of one's own.

use super::{Cx, Hit, RiskRule, WRITE_VERBS, hit, matching};
use palisade_core::Severity;

pub const RULE: RiskRule = RiskRule {
    id: "PAL-RBAC-008",
    title: "Modifies admission webhook configurations",
    severity: Severity::High,
    remediation: "Only the operator installing a webhook should write its configuration, through resourceNames.",
    judge,
};

fn judge(cx: &Cx) -> Option<Hit> {
    hit(matching(
        cx,
        WRITE_VERBS,
        "admissionregistration.k8s.io",
        &["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
    ))
}

#[cfg(test)]
mod tests {
    use super::super::{USER, ids_for};

    #[test]
    fn fires_on_webhook_writes_and_not_on_reads() {
        assert_eq!(
            ids_for(
                USER,
                None,
                "[{apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [delete]}]"
            ),
            ["PAL-RBAC-008"]
        );
        assert!(ids_for(USER, None, "[{apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [get, list, watch]}]").is_empty());
    }
}
