//! The check registry: the ONE place checks are listed. Ids are stable; never reuse a retired id.
//!
//! Id scheme: `PAL-PSS-nnn` Pod Security Standards (exact pod-security-admission semantics per version),
//! `PAL-K8S-nnn` other Kubernetes checks (numbers follow the project check catalog `K8S-nnn`; catalog rows
//! that are exactly a PSS control are served by the `PAL-PSS` check instead), `PAL-DF-nnn` Dockerfile checks
//! (catalog `DF-nnn`), `PAL-IMG-nnn` image-config checks.

use crate::check::Check;

pub mod pss;

use pss::*;

/// Every check, in id order.
pub static ALL: &[&dyn Check] = &[
    &pss_001_host_namespaces::HostNamespaces,
    &pss_002_privileged::Privileged,
    &pss_003_capabilities_baseline::CapabilitiesBaseline,
    &pss_004_host_path_volumes::HostPathVolumes,
    &pss_005_host_ports::HostPorts,
    &pss_006_apparmor::AppArmor,
    &pss_007_selinux::SeLinux,
    &pss_008_proc_mount::ProcMount,
    &pss_009_seccomp_baseline::SeccompBaseline,
    &pss_010_sysctls::Sysctls,
    &pss_011_windows_host_process::WindowsHostProcess,
    &pss_012_host_probes::HostProbes,
    &pss_013_restricted_volumes::RestrictedVolumes,
    &pss_014_allow_privilege_escalation::AllowPrivilegeEscalation,
    &pss_015_run_as_non_root::RunAsNonRoot,
    &pss_016_run_as_user::RunAsUser,
    &pss_017_seccomp_restricted::SeccompRestricted,
    &pss_018_capabilities_restricted::CapabilitiesRestricted,
    &pss_019_proc_mount_restricted::ProcMountRestricted,
];
