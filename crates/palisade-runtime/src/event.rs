//! The one event type every sensor produces and every consumer (rules, learning, network) reads.
//!
//! An [`Event`] is a syscall-level fact (a process started, a file was opened, a connection was made)
//! with the process that did it, its parent chain and the container it runs in. Sensors fill what they
//! know; everything optional is `None` when the source could not tell (a short-lived process whose
//! `/proc` entry was gone, a host process with no container). Events serialise to one JSON object per
//! line (`palisade runtime record`), and that form is stable: replays in CI read it back.

use serde::{Deserialize, Serialize};

/// One observed event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Wall-clock time in nanoseconds since the Unix epoch.
    pub time_ns: u64,
    /// What happened, with the syscall's own arguments.
    pub kind: EventKind,
    /// Syscall return value when the sensor saw the exit (0 or a positive fd/pid on success,
    /// `-errno` on failure); `None` when only the entry was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<i64>,
    /// The thread group (process) that made the call.
    pub process: Process,
    /// Parent chain, nearest first (parent, grandparent, …), as far as the sensor could read it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ancestors: Vec<ProcessRef>,
    /// The container the process runs in; `None` for host processes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<Container>,
}

/// What happened. Names follow the syscall (Falco's `evt.type`) where one syscall is meant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A program was executed (`execve`/`execveat`); the new image is in [`Event::process`].
    Execve,
    /// A process forked or cloned (`clone`, `clone3`, `fork`, `vfork`); the child's pid.
    Clone { child_pid: u32 },
    /// A process exited with this status.
    Exit { code: i32 },
    /// A file was opened (`open`, `openat`, `openat2`, `creat`).
    Open(FileOpen),
    /// A file was renamed (`rename`, `renameat`, `renameat2`).
    Rename { from: String, to: String },
    /// A file or directory was removed (`unlink`, `unlinkat`, `rmdir`).
    Unlink { path: String },
    /// A directory was created (`mkdir`, `mkdirat`).
    Mkdir { path: String },
    /// An outbound connection (`connect`).
    Connect(Connection),
    /// An inbound connection was accepted (`accept`, `accept4`).
    Accept(Connection),
    /// A socket started listening (`listen`) on this local address.
    Listen(Connection),
    /// A socket was bound (`bind`) to this local address.
    Bind(Connection),
    /// A DNS name was resolved to these addresses (seen from a resolver hook or the DNS traffic).
    DnsResolve { name: String, addresses: Vec<String> },
    /// `setuid`/`setresuid`: the new effective uid.
    Setuid { uid: u32 },
    /// `setgid`/`setresgid`: the new effective gid.
    Setgid { gid: u32 },
    /// `capset`: the new effective capability mask.
    Capset { effective: u64 },
    /// `ptrace` on another process.
    Ptrace { request: i64, target_pid: u32 },
    /// `mount` of `source` on `target` with file-system type `fstype`.
    Mount { source: String, target: String, fstype: String },
    /// A kernel module load (`init_module`, `finit_module`).
    ModuleLoad { name: String },
    /// Any other syscall a sensor reports by name.
    Other { syscall: String },
}

/// A file open and how it was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOpen {
    /// Absolute path as resolved by the sensor (relative paths joined with the cwd or dirfd).
    pub path: String,
    /// The path exactly as the process passed it, when it differs from `path` (`../` sequences, a
    /// relative path): Falco's `fd.nameraw`, which the directory-traversal rule reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_path: Option<String>,
    /// `open(2)` flags (`O_RDONLY`, `O_WRONLY`, `O_RDWR`, `O_CREAT`, `O_TRUNC`, …) as the kernel saw them.
    pub flags: u32,
    /// `mode` argument (permissions of a created file).
    #[serde(default)]
    pub mode: u32,
}

/// The endpoints of a connection. Addresses are textual (IPv4, IPv6 or a Unix socket path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    /// `tcp`, `udp`, `unix` or `raw`.
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_addr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_addr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_port: Option<u16>,
    /// The DNS name the remote address was resolved from, when the sensor saw the resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_name: Option<String>,
}

/// The process that made the call.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Process {
    /// Thread-group id as seen from the host's pid namespace.
    pub pid: u32,
    /// Thread id that made the call.
    #[serde(default)]
    pub tid: u32,
    /// Pid inside the container's pid namespace, when different (`proc.vpid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpid: Option<u32>,
    pub ppid: u32,
    /// Kernel `comm` (at most 15 bytes).
    pub comm: String,
    /// Executable path (`/proc/PID/exe` or the path passed to execve).
    pub exe: String,
    /// argv, argv[0] included.
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    pub uid: u32,
    pub gid: u32,
    /// Audit login uid (`u32::MAX` when unset), Falco's `user.loginuid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loginuid: Option<u32>,
    /// User name from the container's (or host's) `/etc/passwd`, when resolvable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Controlling terminal number (0: none), Falco's `proc.tty`.
    #[serde(default)]
    pub tty: u32,
    /// Session id and process-group id as seen inside the process's pid namespace.
    #[serde(default)]
    pub sid: u32,
    #[serde(default)]
    pub vpgid: u32,
    /// The executable lives in the container's writable upper layer: it was not in the image (drift).
    #[serde(default)]
    pub exe_from_upper_layer: bool,
    /// The executable file is writable by the process's user.
    #[serde(default)]
    pub exe_writable: bool,
    /// Effective and permitted capability masks (`CapEff`/`CapPrm` of `/proc/PID/status`), when read:
    /// Falco's `thread.cap_effective` and `thread.cap_permitted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_effective: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_permitted: Option<u64>,
    /// Process start time, nanoseconds since the epoch.
    #[serde(default)]
    pub start_ns: u64,
}

/// An ancestor in the parent chain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProcessRef {
    pub pid: u32,
    pub comm: String,
    pub exe: String,
    #[serde(default)]
    pub args: Vec<String>,
}

/// The container (and pod) a process runs in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Container {
    /// Full container id (64 hex digits for containerd, runc and podman; a name when a runtime uses one).
    pub id: String,
    /// `containerd`, `cri-o`, `docker`, `podman` or `runc`.
    pub runtime: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Image reference as the runtime recorded it (repository:tag or repository@digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_digest: Option<String>,
    #[serde(default)]
    pub privileged: bool,
    /// cgroup id (the inode of the container's cgroup v2 directory) the sensor attributed by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_id: Option<u64>,
    /// Kubernetes pod, when the container belongs to one (from CRI labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<Pod>,
}

/// The Kubernetes pod of a container.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Pod {
    pub name: String,
    pub namespace: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Pod annotations the runtime passed to the container (`palisade.io/…` ones, such as
    /// `palisade.io/mode`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub annotations: std::collections::BTreeMap<String, String>,
}

impl Event {
    /// Falco's `evt.type`: the syscall name this event stands for.
    pub fn syscall(&self) -> &str {
        match &self.kind {
            EventKind::Execve => "execve",
            EventKind::Clone { .. } => "clone",
            EventKind::Exit { .. } => "procexit",
            EventKind::Open(_) => "openat",
            EventKind::Rename { .. } => "renameat2",
            EventKind::Unlink { .. } => "unlinkat",
            EventKind::Mkdir { .. } => "mkdirat",
            EventKind::Connect(_) => "connect",
            EventKind::Accept(_) => "accept4",
            EventKind::Listen(_) => "listen",
            EventKind::Bind(_) => "bind",
            EventKind::DnsResolve { .. } => "dns",
            EventKind::Setuid { .. } => "setuid",
            EventKind::Setgid { .. } => "setgid",
            EventKind::Capset { .. } => "capset",
            EventKind::Ptrace { .. } => "ptrace",
            EventKind::Mount { .. } => "mount",
            EventKind::ModuleLoad { .. } => "finit_module",
            EventKind::Other { syscall } => syscall,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_round_trip() {
        let event = Event {
            time_ns: 1,
            kind: EventKind::Open(FileOpen { path: "/etc/shadow".into(), raw_path: None, flags: 0, mode: 0 }),
            result: Some(3),
            process: Process { pid: 42, comm: "cat".into(), exe: "/bin/cat".into(), ..Process::default() },
            ancestors: vec![ProcessRef { pid: 1, comm: "sh".into(), exe: "/bin/sh".into(), args: vec![] }],
            container: Some(Container { id: "c1".into(), runtime: "runc".into(), ..Container::default() }),
        };
        let line = serde_json::to_string(&event).unwrap();
        assert!(line.contains(r#""type":"open""#), "{line}");
        assert_eq!(serde_json::from_str::<Event>(&line).unwrap(), event);
        assert_eq!(event.syscall(), "openat");
    }
}
