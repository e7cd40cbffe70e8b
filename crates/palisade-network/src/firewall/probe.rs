//! Which per-container connection enforcement a container's node offers.
//!
//! nftables in the pod's network namespace works wherever `nft` runs and the kernel has nf_tables; it is
//! what [`super::apply`] installs by default. cgroup `connect4`/`connect6` BPF ([`super::cgroup_bpf`])
//! needs the container's cgroup on a cgroup v2 hierarchy (on hybrid hosts the v2 tree at
//! `/sys/fs/cgroup/unified`): the probe finds that directory and reports it, so the choice and its reason
//! are visible.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What a node offers one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    /// `nft` runs and lists tables (nf_tables in the kernel).
    pub nftables: bool,
    /// Where the cgroup v2 hierarchy is mounted, if it is.
    pub cgroup2_mount: Option<PathBuf>,
    /// The container's directory in that hierarchy, when it has one (connect4/6 BPF could attach there).
    pub cgroup2_dir: Option<PathBuf>,
    /// The mechanism the firewall uses, and why.
    pub chosen: String,
}

/// The cgroup v2 mount point from a `/proc/self/mountinfo` text.
pub fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let point = left.split_whitespace().nth(4)?;
        (right.split_whitespace().next()? == "cgroup2").then(|| PathBuf::from(point))
    })
}

/// The v2 path (`0::/PATH` line) of a `/proc/PID/cgroup` text.
pub fn cgroup2_path(cgroup: &str) -> Option<String> {
    cgroup.lines().find_map(|l| l.strip_prefix("0::").map(str::to_string))
}

/// Probe for the process `pid` (a container's, or any).
pub fn probe(pid: u32) -> Probe {
    let nftables = Command::new("nft")
        .args(["list", "tables"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mount = std::fs::read_to_string("/proc/self/mountinfo").ok().and_then(|t| cgroup2_mount(&t));
    let dir = match (&mount, std::fs::read_to_string(format!("/proc/{pid}/cgroup"))) {
        (Some(m), Ok(text)) => cgroup2_path(&text)
            .map(|p| m.join(p.trim_start_matches('/')))
            .filter(|d| d.is_dir() && d.as_path() != Path::new(m)),
        _ => None,
    };
    let chosen = match (nftables, &dir) {
        (true, Some(d)) => format!(
            "nftables in the network namespace (ingress and egress); cgroup connect4/connect6 BPF \
             (--mechanism cgroup-bpf, egress connects only) can attach at {}",
            d.display()
        ),
        (true, None) => {
            "nftables in the network namespace (the process has no cgroup v2 directory of its own: \
                         cgroup BPF is not possible)"
                .to_string()
        }
        (false, _) => "none: nft does not run (install nftables)".to_string(),
    };
    Probe { nftables, cgroup2_mount: mount, cgroup2_dir: dir, chosen }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_v2_mount_and_path_on_a_hybrid_host() {
        let mountinfo = "\
30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
33 30 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
        assert_eq!(cgroup2_mount(mountinfo), Some(PathBuf::from("/sys/fs/cgroup/unified")));
        let cgroup = "4:cpu:/runc-1\n1:name=systemd:/runc-1\n0::/runc-1\n";
        assert_eq!(cgroup2_path(cgroup).as_deref(), Some("/runc-1"));
        assert_eq!(cgroup2_path("4:cpu:/x\n"), None);
    }
}
