//! PAL-PSS-007 (PSS baseline `seLinuxOptions`): Custom SELinux type, user or role.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct SeLinux;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-007",
    title: "Custom SELinux type, user or role",
    severity: Severity::High,
    groups: super::BASELINE_GROUPS,
    rationale: "Setting a custom SELinux type (e.g. spc_t), user or role can remove the SELinux confinement of the container.",
    remediation: "Leave seLinuxOptions.user and .role unset and use only type container_t, container_init_t, container_kvm_t (or container_engine_t from 1.31).",
    references: &["PSS baseline: SELinux"],
    peers: &["polaris:linuxHardening"],
    pss: Some(PssInfo {
        psa_id: "seLinuxOptions",
        level: PssLevel::Baseline,
        since_minor: 0,
        overrides: None,
    }),
    ..CheckMeta::K8S
};

impl Check for SeLinux {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        let allowed: &[&str] = if cx.version.at_least(31) {
            &["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]
        } else {
            &["", "container_t", "container_init_t", "container_kvm_t"]
        };
        let bad = |o: &crate::yaml::Node| {
            let s = |k: &str| o.get(k).and_then(crate::yaml::Node::scalar_text).unwrap_or_default();
            !allowed.contains(&s("type").as_str()) || !s("user").is_empty() || !s("role").is_empty()
        };
        if let Some(o) = pod.sc_field("seLinuxOptions").filter(|o| bad(o)) {
            out.push(Hit::at(
                o,
                "pod sets forbidden securityContext.seLinuxOptions; unset user/role and use an allowed type",
            ));
        }
        for c in pod.containers() {
            if let Some(o) = c.sc_field("seLinuxOptions").filter(|o| bad(o)) {
                out.push(Hit::at(o, format!("container {:?} sets forbidden seLinuxOptions; unset user/role and use an allowed type", c.name)).in_container(c.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SeLinux as C;
    use crate::testutil::{hits, hits_v, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("securityContext: {seLinuxOptions: {type: spc_t}}", "")).len(), 1);
        assert_eq!(hits(&C, &pod_with("", "securityContext: {seLinuxOptions: {user: sysadm_u}}")).len(), 1);
        assert!(
            hits(&C, &pod_with("", "securityContext: {seLinuxOptions: {type: container_engine_t}}"))
                .is_empty()
        );
        assert_eq!(
            hits_v(&C, &pod_with("", "securityContext: {seLinuxOptions: {type: container_engine_t}}"), 30)
                .len(),
            1
        );
    }
}
