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
