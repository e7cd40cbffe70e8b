//! Pod Security Standards checks (`PAL-PSS-001`..`PAL-PSS-019`), one per pod-security-admission check, each
//! evaluated exactly as Kubernetes evaluates it for the configured policy version (`k8s_version`).
//!
//! Groups: every PSS check is in `pss` and `pss:restricted` (the restricted profile includes baseline);
//! baseline-level checks are also in `pss:baseline`. Four restricted controls extend a baseline one
//! (`capabilities_restricted`, `seccompProfile_restricted`, `restrictedVolumes`, `procMount_restricted`):
//! pod-security-admission evaluates the restricted one in place of the baseline one. Palisade runs both and
//! reports each violation once, at its level: the baseline check what baseline forbids (severity high), the
//! restricted check only what restricted adds (an unset seccomp profile, capabilities not dropped, volume
//! types other than hostPath, procMount in user namespaces). Neither hides the other, in scans or in
//! `checks list`; `PssInfo::overrides` records the pairing for the level decision.

pub mod pss_001_host_namespaces;
pub mod pss_002_privileged;
pub mod pss_003_capabilities_baseline;
pub mod pss_004_host_path_volumes;
pub mod pss_005_host_ports;
pub mod pss_006_apparmor;
pub mod pss_007_selinux;
pub mod pss_008_proc_mount;
pub mod pss_009_seccomp_baseline;
pub mod pss_010_sysctls;
pub mod pss_011_windows_host_process;
pub mod pss_012_host_probes;
pub mod pss_013_restricted_volumes;
pub mod pss_014_allow_privilege_escalation;
pub mod pss_015_run_as_non_root;
pub mod pss_016_run_as_user;
pub mod pss_017_seccomp_restricted;
pub mod pss_018_capabilities_restricted;
pub mod pss_019_proc_mount_restricted;

/// Groups of baseline-level PSS checks.
pub const BASELINE_GROUPS: &[&str] = &["kubernetes", "pss", "pss:baseline", "pss:restricted", "pod-security"];
/// Groups of restricted-level PSS checks.
pub const RESTRICTED_GROUPS: &[&str] = &["kubernetes", "pss", "pss:restricted", "pod-security"];

/// Reports every container of `pod` whose `securityContext.procMount` is set to anything but `Default`
/// (shared by the baseline and restricted `procMount` checks, which differ only in when they apply).
pub fn non_default_proc_mounts(pod: &crate::k8s::PodView<'_>, out: &mut Vec<crate::check::Hit>) {
    for c in pod.containers() {
        if let Some(p) = c.sc_field("procMount").filter(|p| p.as_str() != Some("Default")) {
            out.push(
                crate::check::Hit::at(
                    p,
                    format!(
                        "container {:?} sets securityContext.procMount={}; use Default",
                        c.name,
                        p.scalar_text().unwrap_or_default()
                    ),
                )
                .in_container(c.name),
            );
        }
    }
}
