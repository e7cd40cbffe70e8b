//! PAL-RBAC-007: approving certificate signing requests (`update`/`patch` on
//! `certificatesigningrequests/approval` together with `approve` on a signer): issues client certificates,
//! e.g. for `system:masters`.

use super::{Cx, Hit, RiskRule, hit, matching};
use palisade_core::Severity;

pub const RULE: RiskRule = RiskRule {
    id: "PAL-RBAC-007",
    title: "Approves certificate signing requests",
    severity: Severity::High,
    remediation: "Leave CSR approval to the controller manager; restrict approve to named signers that cannot sign for system:masters.",
    judge,
};

fn judge(cx: &Cx) -> Option<Hit> {
    let g = "certificates.k8s.io";
    let approval = matching(cx, &["update", "patch"], g, &["certificatesigningrequests/approval"]);
    let signer = matching(cx, &["approve"], g, &["signers"]);
    if approval.is_empty() || signer.is_empty() {
        return None;
    }
    let mut all = approval;
    all.extend(signer);
    all.sort_unstable();
    all.dedup();
    hit(all)
}

#[cfg(test)]
mod tests {
    use super::super::{USER, ids_for};

    #[test]
    fn fires_only_with_both_approval_and_a_signer() {
        let approval = "{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [patch]}";
        let signer = "{apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve]}";
        assert_eq!(ids_for(USER, None, &format!("[{approval}, {signer}]")), ["PAL-RBAC-007"]);
        assert!(ids_for(USER, None, &format!("[{approval}]")).is_empty());
        assert!(ids_for(USER, None, &format!("[{signer}]")).is_empty());
    }
}
