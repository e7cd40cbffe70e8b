//! Kernel records to [`Event`]s: the process from the pid table, relative paths resolved, addresses
//! rendered, the container attributed. Runs on the consumer side of the queue, never in the reader.

use crate::event::{Connection, Event, EventKind, FileOpen, Process};
use crate::sensor::dns::{DnsNames, parse_answer};
use crate::sensor::procfs::{ProcTable, absolute, is_cwd};
use crate::sensor::record::{Record, RecordKind};
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

const AF_UNIX: u8 = 1;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Turns records into events. One per consumer thread.
pub struct Enricher {
    pub procs: ProcTable,
    /// User names by (container id or "" for the host, uid), from the process's own `/etc/passwd`.
    users: HashMap<(String, u32), Option<String>>,
    /// `CLOCK_REALTIME - CLOCK_BOOTTIME`, to put kernel timestamps on the wall clock.
    boot_offset_ns: u64,
    /// Which name each address was resolved from, per container (DNS answers the sensor saw).
    dns: DnsNames,
}

impl Enricher {
    pub fn new() -> Self {
        let boot_offset_ns = boot_offset_ns();
        Enricher {
            procs: ProcTable::new("/proc", boot_offset_ns),
            users: HashMap::new(),
            boot_offset_ns,
            dns: DnsNames::default(),
        }
    }

    /// The event for one record (`None` for a record that only updates state, e.g. a thread exit).
    pub fn event(&mut self, r: &Record) -> Option<Event> {
        let kind = r.kind?;
        let time_ns = if r.boot_ns == 0 { now_ns() } else { r.boot_ns + self.boot_offset_ns };
        let info = match kind {
            RecordKind::Exec => {
                Some(self.procs.exec(r.pid, r.ppid, &r.comm, &r.s1, r.argv(), r.exe_upper_layer).clone())
            }
            _ => self.procs.get(r.pid).cloned(),
        };
        let info = info.unwrap_or_default();
        let resolve = |procs: &ProcTable, path: &str, dirfd: u64| -> String {
            if path.starts_with('/') || path.is_empty() {
                return absolute(path, None);
            }
            let mut base = procs.dir_path(r.pid, dirfd);
            if base.is_none() && is_cwd(dirfd) {
                base = info.cwd.clone();
            }
            absolute(path, base.as_deref())
        };
        let scope = r.container.as_ref().map_or("", |c| c.id.as_str());
        let event_kind = match kind {
            RecordKind::Exec => EventKind::Execve,
            RecordKind::Fork => {
                self.procs.fork(r.pid, r.a0 as u32);
                EventKind::Clone { child_pid: r.a0 as u32 }
            }
            RecordKind::Exit => EventKind::Exit { code: exit_code(r.a0 as u32) },
            RecordKind::Open => {
                let path = resolve(&self.procs, &r.s1, r.a2);
                // Falco's fd.nameraw: the path as passed, when resolving changed it
                let raw_path = (path != r.s1).then(|| r.s1.clone());
                EventKind::Open(FileOpen { path, raw_path, flags: r.a0 as u32, mode: r.a1 as u32 })
            }
            RecordKind::Rename => {
                let to = crate::sensor::record::c_str(&r.s2);
                EventKind::Rename {
                    from: resolve(&self.procs, &r.s1, r.a0),
                    to: resolve(&self.procs, &to, r.a1),
                }
            }
            RecordKind::Unlink => EventKind::Unlink { path: resolve(&self.procs, &r.s1, r.a2) },
            RecordKind::Mkdir => EventKind::Mkdir { path: resolve(&self.procs, &r.s1, r.a2) },
            RecordKind::Connect => {
                let mut c = connection(r);
                c.remote_name =
                    c.remote_addr.as_deref().and_then(|a| self.dns.name_of(scope, a)).map(String::from);
                EventKind::Connect(c)
            }
            RecordKind::Accept => EventKind::Accept(connection(r)),
            RecordKind::Listen => EventKind::Listen(connection(r)),
            RecordKind::Bind => EventKind::Bind(connection(r)),
            RecordKind::Setuid => EventKind::Setuid { uid: r.a0 as u32 },
            RecordKind::Setgid => EventKind::Setgid { gid: r.a0 as u32 },
            RecordKind::Capset => EventKind::Capset { effective: r.a0 },
            RecordKind::Ptrace => EventKind::Ptrace { request: r.a0 as i64, target_pid: r.a1 as u32 },
            RecordKind::Mount => {
                let (target, fstype) = r.mount_target_fstype();
                EventKind::Mount { source: r.s1.clone(), target, fstype }
            }
            RecordKind::Module => EventKind::ModuleLoad { name: r.s1.clone() },
            RecordKind::Dns => {
                let (name, addresses) = parse_answer(&r.s2)?;
                self.dns.learn(scope, &name, &addresses);
                EventKind::DnsResolve { name, addresses }
            }
        };
        let ancestors = self.procs.ancestors(r.ppid);
        let container = r.container.clone();
        if kind == RecordKind::Exit {
            self.procs.exit(r.pid);
        }
        let user = self.user_name(r.pid, r.uid, container.as_ref().map_or("", |c| c.id.as_str()));
        let comm = if r.comm.is_empty() { info.comm.clone() } else { r.comm.clone() };
        Some(Event {
            time_ns,
            kind: event_kind,
            result: r.result,
            process: Process {
                pid: r.pid,
                tid: r.tid,
                vpid: (r.vpid != 0 && r.vpid != r.pid).then_some(r.vpid),
                ppid: if r.ppid != 0 { r.ppid } else { info.ppid },
                comm,
                exe: info.exe,
                args: info.args,
                cwd: info.cwd,
                uid: r.uid,
                gid: r.gid,
                loginuid: (r.loginuid != u32::MAX || r.boot_ns != 0).then_some(r.loginuid),
                user,
                tty: r.tty,
                sid: info.sid,
                vpgid: info.vpgid,
                exe_from_upper_layer: info.exe_from_upper_layer,
                exe_writable: false,
                cap_effective: info.cap_effective,
                cap_permitted: info.cap_permitted,
                start_ns: info.start_ns,
            },
            ancestors,
            container,
        })
    }
}

impl Default for Enricher {
    fn default() -> Self {
        Self::new()
    }
}

impl Enricher {
    /// The name of `uid` in the `/etc/passwd` the process sees (its container's), cached per container.
    fn user_name(&mut self, pid: u32, uid: u32, container: &str) -> Option<String> {
        let key = (container.to_string(), uid);
        if let Some(name) = self.users.get(&key) {
            return name.clone();
        }
        let passwd = std::fs::read_to_string(format!("/proc/{pid}/root/etc/passwd")).ok()?;
        let name = passwd.lines().find_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
        });
        if self.users.len() > 4096 {
            self.users.clear();
        }
        self.users.insert(key, name.clone());
        name
    }
}

/// `wait(2)` status to an exit code: the status when exited, 128 + signal when killed.
fn exit_code(status: u32) -> i32 {
    let signal = status & 0x7f;
    if signal == 0 { ((status >> 8) & 0xff) as i32 } else { 128 + signal as i32 }
}

fn addr(family: u8, b: &[u8; 16]) -> Option<String> {
    match family {
        AF_INET => Some(Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()),
        AF_INET6 => Some(Ipv6Addr::from(*b).to_string()),
        _ => None,
    }
}

fn connection(r: &Record) -> Connection {
    let protocol = match (r.family, r.proto, r.a1) {
        (AF_UNIX, ..) => "unix",
        (_, 6, _) => "tcp",
        (_, 17, _) => "udp",
        (_, _, 1) => "tcp",
        (_, _, 2) => "udp",
        _ => "raw",
    };
    let unix_path = (r.family == AF_UNIX && !r.s1.is_empty()).then(|| r.s1.clone());
    let remote_side = matches!(r.kind, Some(RecordKind::Connect) | Some(RecordKind::Accept));
    let (local_addr, remote_addr) = if r.family == AF_UNIX {
        if remote_side { (None, unix_path) } else { (unix_path, None) }
    } else {
        (addr(r.family, &r.laddr), if remote_side { addr(r.family, &r.raddr) } else { None })
    };
    Connection {
        protocol: protocol.to_string(),
        local_addr,
        local_port: (r.lport != 0).then_some(r.lport),
        remote_addr,
        remote_port: (remote_side && r.rport != 0).then_some(r.rport),
        remote_name: None,
    }
}

fn clock_ns(id: nix::time::ClockId) -> u64 {
    nix::time::clock_gettime(id).map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64).unwrap_or(0)
}

/// Wall-clock now, nanoseconds since the epoch.
pub fn now_ns() -> u64 {
    clock_ns(nix::time::ClockId::CLOCK_REALTIME)
}

fn boot_offset_ns() -> u64 {
    now_ns().saturating_sub(clock_ns(nix::time::ClockId::CLOCK_BOOTTIME))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(0), 0);
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(9), 137);
    }

    #[test]
    fn relative_opens_resolve_against_the_cwd_whatever_the_upper_bits_of_at_fdcwd() {
        let me = std::process::id();
        let cwd = std::env::current_dir().unwrap();
        let mut e = Enricher::new();
        // openat(AT_FDCWD, …): the register holds the int zero-extended; open(…): the kernel's own -100
        for a2 in [0xffff_ff9c_u64, (-100i64) as u64] {
            let r = Record {
                kind: Some(RecordKind::Open),
                pid: me,
                tid: me,
                a2,
                s1: "x.txt".into(),
                ..Record::default()
            };
            let Some(Event { kind: EventKind::Open(open), .. }) = e.event(&r) else {
                panic!("no open event")
            };
            assert_eq!(open.path, cwd.join("x.txt").display().to_string(), "a2 {a2:#x}");
            assert_eq!(open.raw_path.as_deref(), Some("x.txt"));
        }
    }

    #[test]
    fn tcp_connect_tuple() {
        let mut r = Record {
            kind: Some(RecordKind::Connect),
            family: AF_INET,
            proto: 6,
            lport: 40000,
            rport: 443,
            ..Record::default()
        };
        r.laddr[..4].copy_from_slice(&[10, 0, 0, 2]);
        r.raddr[..4].copy_from_slice(&[10, 96, 0, 1]);
        let c = connection(&r);
        assert_eq!(c.protocol, "tcp");
        assert_eq!((c.remote_addr.as_deref(), c.remote_port), (Some("10.96.0.1"), Some(443)));
        assert_eq!((c.local_addr.as_deref(), c.local_port), (Some("10.0.0.2"), Some(40000)));
        let unix = Record {
            kind: Some(RecordKind::Bind),
            family: AF_UNIX,
            s1: "/run/x.sock".into(),
            ..Record::default()
        };
        let c = connection(&unix);
        assert_eq!(
            (c.protocol.as_str(), c.local_addr.as_deref(), c.remote_addr),
            ("unix", Some("/run/x.sock"), None)
        );
    }
}
