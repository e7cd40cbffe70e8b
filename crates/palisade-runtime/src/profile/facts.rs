//! What an event means for a profile, decided once for the learner and the checkers alike: an event is
//! turned into [`Fact`]s (a program ran, a file was read or written, a flow went out or came in, a socket
//! listened, capabilities were held, a syscall was made). Host events (no container) have none, and
//! neither has the container runtime's own setup (`runc init` before the entrypoint runs).

use crate::event::{Connection, Event, EventKind};
use palisade_network::rules::{Direction, Protocol};
use std::net::IpAddr;

const O_ACCMODE: u32 = 0o3;
const O_CREAT: u32 = 0o100;
const O_TRUNC: u32 = 0o1000;

/// One thing a workload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact<'a> {
    Exec {
        path: &'a str,
        /// `comm`, when it differs from the executable's name (busybox applets, scripts).
        name: Option<&'a str>,
        /// Arguments after argv[0].
        args: &'a [String],
        parent: Option<&'a str>,
        upper_layer: bool,
    },
    File {
        path: &'a str,
        write: bool,
    },
    Flow {
        direction: Direction,
        protocol: Protocol,
        addr: IpAddr,
        port: u16,
        name: Option<&'a str>,
    },
    Listen {
        protocol: Protocol,
        port: u16,
    },
    Caps(u64),
    Syscall(&'a str),
}

/// Whether `open(2)` flags write (or create or truncate).
pub fn open_writes(flags: u32) -> bool {
    flags & O_ACCMODE != 0 || flags & (O_CREAT | O_TRUNC) != 0
}

/// The executable's file name, as the kernel truncates it for `comm` (15 bytes).
pub fn comm_of(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    let mut end = base.len().min(15);
    while !base.is_char_boundary(end) {
        end -= 1;
    }
    &base[..end]
}

/// The name a program runs as, when its executable's name does not say it: `comm` (busybox applets
/// reached through a symbolic link), or argv[0] when the program re-executed itself through
/// `/proc/self/exe` (busybox's shell running applets: `comm` is then `exe`).
pub fn program_name<'a>(comm: &'a str, exe: &str, args: &'a [String]) -> Option<&'a str> {
    let own = comm_of(exe);
    let name = if comm == "exe" && own != "exe" { args.first().map(|a| comm_of(a))? } else { comm };
    (!name.is_empty() && name != own).then_some(name)
}

fn protocol(c: &Connection) -> Option<Protocol> {
    match c.protocol.as_str() {
        "tcp" => Some(Protocol::Tcp),
        "udp" => Some(Protocol::Udp),
        _ => None,
    }
}

/// Whether the process is the container runtime setting the container up (`runc init` and its
/// kin before they execute the entrypoint): its work is the runtime's, not the workload's, and whether
/// the sensor attributes it to the container depends on timing.
pub fn is_runtime_init(p: &crate::event::Process) -> bool {
    p.comm.starts_with("runc:[")
        || p.comm.starts_with("crun")
        || p.comm.starts_with("youki")
        || matches!(comm_of(&p.exe), "runc" | "crun" | "youki" | "runsc")
        || p.exe.starts_with("/memfd:runc_cloned")
}

/// The facts of one event (empty for host processes and the runtime's own setup).
pub fn of(event: &Event) -> Vec<Fact<'_>> {
    let mut out = Vec::new();
    if event.container.is_none() || is_runtime_init(&event.process) {
        return out;
    }
    let p = &event.process;
    match &event.kind {
        EventKind::Execve => {
            let name = program_name(&p.comm, &p.exe, &p.args);
            out.push(Fact::Exec {
                path: &p.exe,
                name,
                args: p.args.get(1..).unwrap_or(&[]),
                parent: event.ancestors.first().map(|a| a.exe.as_str()).filter(|e| !e.is_empty()),
                upper_layer: p.exe_from_upper_layer,
            });
        }
        EventKind::Open(o) => out.push(Fact::File { path: &o.path, write: open_writes(o.flags) }),
        EventKind::Rename { from, to } => {
            out.push(Fact::File { path: from, write: true });
            out.push(Fact::File { path: to, write: true });
        }
        EventKind::Unlink { path } | EventKind::Mkdir { path } => out.push(Fact::File { path, write: true }),
        EventKind::Connect(c) | EventKind::Accept(c) => {
            let egress = matches!(event.kind, EventKind::Connect(_));
            let (addr, port) =
                if egress { (&c.remote_addr, c.remote_port) } else { (&c.remote_addr, c.local_port) };
            if let (Some(proto), Some(addr), Some(port)) =
                (protocol(c), addr.as_deref().and_then(|a| a.parse::<IpAddr>().ok()), port)
            {
                out.push(Fact::Flow {
                    direction: if egress { Direction::Egress } else { Direction::Ingress },
                    protocol: proto,
                    addr,
                    port,
                    name: if egress { c.remote_name.as_deref() } else { None },
                });
            }
        }
        EventKind::Listen(c) => {
            if let (Some(proto), Some(port)) = (protocol(c), c.local_port) {
                out.push(Fact::Listen { protocol: proto, port });
            }
        }
        EventKind::Bind(c) if c.protocol == "udp" => {
            if let Some(port) = c.local_port.filter(|p| *p != 0) {
                out.push(Fact::Listen { protocol: Protocol::Udp, port });
            }
        }
        EventKind::Capset { effective } => out.push(Fact::Caps(*effective)),
        _ => {}
    }
    if let Some(caps) = p.cap_effective
        && matches!(event.kind, EventKind::Execve)
    {
        out.push(Fact::Caps(caps));
    }
    out.push(Fact::Syscall(event.syscall()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_comm() {
        assert!(!open_writes(0));
        assert!(open_writes(1) && open_writes(2) && open_writes(0o100) && open_writes(0o1000));
        assert_eq!(comm_of("/usr/bin/a-very-long-program-name"), "a-very-long-pro");
        assert_eq!(comm_of("/bin/busybox"), "busybox");
        let args = ["nc".to_string(), "-l".into()];
        assert_eq!(program_name("exe", "/bin/sh", &args), Some("nc"));
        assert_eq!(program_name("nc", "/bin/busybox", &args), Some("nc"));
        assert_eq!(program_name("cat", "/bin/cat", &args), None);
        assert_eq!(program_name("exe", "/bin/sh", &["/bin/sh".to_string()]), None);
    }
}
