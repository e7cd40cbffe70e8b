//! Who enforcement never acts on, whatever the decider says.
//!
//! - the agent itself (its threads, and any exec or open of its executable: checked by the readers in
//!   [`fanotify`](crate::enforce::fanotify));
//! - pid 1 of the host;
//! - the node's critical processes: a process in the host's pid namespace whose executable's name is in
//!   [`CRITICAL`] (init systems, container runtimes and their shims, kubelet, kube-proxy). A container
//!   runtime's helper that already joined a container's pid namespace (`runc init` before it runs the
//!   container's program) is not exempt: `runc exec` into a container is judged like any process there;
//! - host processes: anything not attributed to a container (checked by the deciders' threads).

use std::os::unix::fs::MetadataExt;

/// Executable names of the node's critical processes.
pub const CRITICAL: &[&str] = &[
    "init",
    "systemd",
    "containerd",
    "containerd-shim",
    "containerd-shim-runc-v1",
    "containerd-shim-runc-v2",
    "dockerd",
    "docker-proxy",
    "runc",
    "crun",
    "crio",
    "conmon",
    "podman",
    "kubelet",
    "kube-proxy",
];

pub struct Exempt {
    host_pidns: Option<u64>,
}

impl Default for Exempt {
    fn default() -> Self {
        Self::new()
    }
}

impl Exempt {
    pub fn new() -> Exempt {
        Exempt { host_pidns: std::fs::metadata("/proc/1/ns/pid").ok().map(|m| m.ino()) }
    }

    /// Why thread `tid` is exempt, if it is.
    pub fn why(&self, tid: u32) -> Option<&'static str> {
        if tid == 1 {
            return Some("critical");
        }
        let ns = std::fs::metadata(format!("/proc/{tid}/ns/pid")).ok().map(|m| m.ino());
        if ns.is_none() || ns != self.host_pidns {
            return None;
        }
        let exe = std::fs::read_link(format!("/proc/{tid}/exe")).ok()?;
        let name = exe.file_name()?.to_str()?;
        let name = name.strip_suffix(" (deleted)").unwrap_or(name);
        CRITICAL.contains(&name).then_some("critical")
    }
}
