//! PAL-PSS-010 (PSS baseline `sysctls`): Unsafe sysctls.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct Sysctls;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-010",
    title: "Unsafe sysctls",
    severity: Severity::High,
    groups: super::BASELINE_GROUPS,
    rationale: "Sysctls outside the namespaced safe set can change kernel behaviour for every pod on the node.",
    remediation: "Only set sysctls from the PSS safe set for the target Kubernetes version, or remove spec.securityContext.sysctls.",
    references: &["PSS baseline: Sysctls"],
    peers: &["kube-linter:unsafe-sysctls"],
    pss: Some(PssInfo { psa_id: "sysctls", level: PssLevel::Baseline, since_minor: 0, overrides: None }),
    ..CheckMeta::K8S
};

impl Check for Sysctls {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        let Some(list) = pod.sc_field("sysctls") else { return };
        let safe = safe_sysctls(cx.version.minor);
        for s in list.as_seq() {
            let name = s.get("name").and_then(crate::yaml::Node::scalar_text).unwrap_or_default();
            if !safe.contains(&name.as_str()) {
                out.push(Hit::at(
                    s,
                    format!(
                        "sysctl {name:?} is not in the safe set for Kubernetes 1.{}; remove it",
                        cx.version.minor
                    ),
                ));
            }
        }
    }
}

/// The safe sysctl set for a policy version (it grew in 1.27, 1.29, 1.32 and 1.37).
pub fn safe_sysctls(minor: u32) -> Vec<&'static str> {
    let mut v = vec![
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    ];
    if minor >= 27 {
        v.push("net.ipv4.ip_local_reserved_ports");
    }
    if minor >= 29 {
        v.extend([
            "net.ipv4.tcp_keepalive_time",
            "net.ipv4.tcp_fin_timeout",
            "net.ipv4.tcp_keepalive_intvl",
            "net.ipv4.tcp_keepalive_probes",
        ]);
    }
    if minor >= 32 {
        v.extend(["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"]);
    }
    if minor >= 37 {
        v.extend(["net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"]);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::Sysctls as C;
    use crate::testutil::{hits, hits_v, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(
            hits(&C, &pod_with("securityContext: {sysctls: [{name: kernel.msgmax, value: \"1\"}]}", ""))
                .len(),
            1
        );
        assert!(
            hits(&C, &pod_with("securityContext: {sysctls: [{name: net.ipv4.tcp_rmem, value: \"1\"}]}", ""))
                .is_empty()
        );
        assert_eq!(
            hits_v(
                &C,
                &pod_with("securityContext: {sysctls: [{name: net.ipv4.tcp_rmem, value: \"1\"}]}", ""),
                31
            )
            .len(),
            1
        );
    }
}
