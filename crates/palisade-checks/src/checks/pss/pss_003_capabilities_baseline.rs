//! PAL-PSS-003 (PSS baseline `capabilities_baseline`): Capabilities added beyond the baseline default set.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct CapabilitiesBaseline;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-003",
    title: "Capabilities added beyond the baseline default set",
    severity: Severity::High,
    groups: super::BASELINE_GROUPS,
    rationale: "Capabilities beyond the container runtime default set (e.g. SYS_ADMIN, NET_ADMIN, NET_RAW) give powers that allow escaping the container or attacking the node network.",
    remediation: "Only add capabilities from AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT; remove others from securityContext.capabilities.add.",
    references: &["PSS baseline: Capabilities", "CIS Kubernetes 5.2.8-5.2.9"],
    peers: &["checkov:CKV_K8S_25", "polaris:insecureCapabilities"],
    pss: Some(PssInfo {
        psa_id: "capabilities_baseline",
        level: PssLevel::Baseline,
        since_minor: 0,
        overrides: None,
    }),
    ..CheckMeta::K8S
};

impl Check for CapabilitiesBaseline {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        for c in pod.containers() {
            let Some(add) = c.sc().and_then(|s| s.field("capabilities")).and_then(|caps| caps.get("add"))
            else {
                continue;
            };
            let bad: Vec<String> =
                add.str_list().into_iter().filter(|x| !ALLOWED.contains(&x.as_str())).collect();
            if !bad.is_empty() {
                out.push(Hit::at(add, format!("container {:?} adds non-default capabilities {}; remove them from securityContext.capabilities.add", c.name, bad.join(", "))).in_container(c.name));
            }
        }
    }
}

/// The capabilities baseline allows to add (the container runtime default set).
pub const ALLOWED: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

#[cfg(test)]
mod tests {
    use super::CapabilitiesBaseline as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(
            hits(&C, &pod_with("", "securityContext: {capabilities: {add: [SYS_ADMIN, CHOWN]}}")).len(),
            1
        );
        assert!(
            hits(&C, &pod_with("", "securityContext: {capabilities: {add: [CHOWN, NET_BIND_SERVICE]}}"))
                .is_empty()
        );
    }
}
