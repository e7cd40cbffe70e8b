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

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn pid_1_and_critical_host_processes_by_executable_name() {
        let e = Exempt::new();
        assert_eq!(e.why(1), Some("critical"));
        // this test's own thread: a host process, not critical
        assert_eq!(e.why(std::process::id()), None);
        if e.host_pidns.is_none() || std::fs::read_link("/proc/1/exe").is_err() {
            eprintln!("skipped: cannot read other processes' /proc entries here");
            return;
        }
        let dir = std::env::temp_dir().join(format!("palisade-exempt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (kubelet, other) = (dir.join("kubelet"), dir.join("not-kubelet"));
        for p in [&kubelet, &other] {
            std::fs::copy("/bin/sleep", p).unwrap();
        }
        let mut a = Command::new(&kubelet).arg("5").spawn().unwrap();
        let mut b = Command::new(&other).arg("5").spawn().unwrap();
        // let both reach their exec (the exe link names the new image once exec is done)
        let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < end
            && [a.id(), b.id()]
                .iter()
                .any(|p| std::fs::read_link(format!("/proc/{p}/exe")).map_or(true, |e| !e.starts_with(&dir)))
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let (wa, wb) = (e.why(a.id()), e.why(b.id()));
        for c in [&mut a, &mut b] {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(wa, Some("critical"));
        assert_eq!(wb, None);
    }
}
