//! A profile compiled for judging: literal paths in hash sets, globs in one `globset` per list, network
//! rules as [`NetRule`]s. [`CompiledProfile::check`] says which [`Fact`] falls outside the profile and why.
//!
//! `capabilities` and `syscalls` are checked only when the profile lists some (a hand-written profile
//! may leave them out); processes, files and network always are. DNS peers allow an address when the
//! connection carried that name or the agent saw it resolve to that address ([`DnsCache`]); workload
//! peers cannot be resolved on the node and allow nothing here.

use crate::caps;
use crate::profile::facts::Fact;
use crate::profile::glob::PathSet;
use crate::profile::model::{PalisadeProfile, Workload};
use palisade_network::rules::{Direction, Flow, NetRule, Peer, Protocol};
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

/// Something outside a profile or against a global rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule's name, as alerts carry it (`Process not in profile`, `Shell in container`, …).
    pub rule: &'static str,
    /// What happened, in words.
    pub reason: String,
}

pub const PROCESS: &str = "Process not in profile";
pub const PROCESS_ARGS: &str = "Process arguments not in profile";
pub const PROCESS_PARENT: &str = "Process parent not in profile";
pub const FILE: &str = "File access not in profile";
pub const CONNECTION: &str = "Connection not in profile";
pub const LISTEN: &str = "Listening port not in profile";
pub const CAPABILITY: &str = "Capability not in profile";
pub const SYSCALL: &str = "Syscall not in profile";

/// Names the agent saw addresses resolve to (from `DnsResolve` events and connections that carried a name).
#[derive(Debug, Default, Clone)]
pub struct DnsCache {
    names: HashMap<IpAddr, HashSet<String>>,
}

/// Most addresses remembered; past it the cache starts over (names are re-learned as they resolve).
const DNS_CACHE_MAX: usize = 65_536;

impl DnsCache {
    pub fn note(&mut self, name: &str, addr: IpAddr) {
        if self.names.len() >= DNS_CACHE_MAX {
            self.names.clear();
        }
        self.names.entry(addr).or_default().insert(name.to_ascii_lowercase());
    }

    /// Note what an event says about names.
    pub fn observe(&mut self, event: &crate::event::Event) {
        match &event.kind {
            crate::event::EventKind::DnsResolve { name, addresses } => {
                for a in addresses.iter().filter_map(|a| a.parse().ok()) {
                    self.note(name, a);
                }
            }
            crate::event::EventKind::Connect(c) => {
                if let (Some(n), Some(a)) =
                    (&c.remote_name, c.remote_addr.as_deref().and_then(|a| a.parse().ok()))
                {
                    self.note(n, a);
                }
            }
            _ => {}
        }
    }

    /// Every address with the names it resolved from.
    pub fn entries(&self) -> impl Iterator<Item = (&IpAddr, &HashSet<String>)> {
        self.names.iter()
    }

    fn names(&self, addr: &IpAddr) -> impl Iterator<Item = &str> {
        self.names.get(addr).into_iter().flatten().map(String::as_str)
    }
}

/// Whether a DNS pattern (`api.example.com`, `*.example.com`) covers `name`.
pub fn dns_matches(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.trim_end_matches('.'), name.trim_end_matches('.'));
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            name.len() > suffix.len() + 1
                && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
                && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
        }
        None => pattern.eq_ignore_ascii_case(name),
    }
}

#[derive(Debug, Clone)]
struct Proc {
    name: Option<String>,
    args: Option<PathSet>,
    parents: Option<PathSet>,
}

/// A profile ready to judge facts.
#[derive(Debug, Clone)]
pub struct CompiledProfile {
    pub workload: Workload,
    /// Executable path (or glob) → the process rules for it.
    procs: Vec<(PathSet, Proc)>,
    literal_procs: HashMap<String, Vec<usize>>,
    glob_procs: Vec<usize>,
    /// Every executable path, for exec decisions that know only the path.
    pub exec_paths: PathSet,
    read: PathSet,
    write: PathSet,
    egress: Vec<NetRule>,
    ingress: Vec<NetRule>,
    caps: Option<u64>,
    syscalls: Option<HashSet<String>>,
    /// The profile's L7 rules, for the agent's inspector.
    pub l7: Option<crate::profile::model::L7Rules>,
}

impl CompiledProfile {
    /// Compile a (validated) profile; an invalid glob is an error naming the field.
    pub fn new(p: &PalisadeProfile) -> Result<CompiledProfile, String> {
        p.validate()?;
        let mut procs = Vec::new();
        let mut literal_procs: HashMap<String, Vec<usize>> = HashMap::new();
        let mut glob_procs = Vec::new();
        for (i, r) in p.spec.processes.iter().enumerate() {
            let opt = |list: &[String], args: bool| -> Result<Option<PathSet>, String> {
                if list.is_empty() || (args && list.iter().any(|a| a == "*")) {
                    return Ok(None);
                }
                let strs = list.iter().map(String::as_str);
                if args { PathSet::args(strs) } else { PathSet::new(strs) }.map(Some)
            };
            let rule =
                Proc { name: r.name.clone(), args: opt(&r.args, true)?, parents: opt(&r.parents, false)? };
            if crate::profile::glob::is_pattern(&r.path) {
                glob_procs.push(i);
            } else {
                literal_procs.entry(r.path.clone()).or_default().push(i);
            }
            procs.push((PathSet::new([r.path.as_str()])?, rule));
        }
        let files = |write: bool| {
            PathSet::new(p.spec.files.iter().filter(|f| f.access.covers(write)).map(|f| f.path.as_str()))
        };
        let rules = p.spec.network.rules();
        Ok(CompiledProfile {
            workload: p.spec.workload.clone(),
            exec_paths: PathSet::new(p.spec.processes.iter().map(|r| r.path.as_str()))?,
            procs,
            literal_procs,
            glob_procs,
            read: files(false)?,
            write: files(true)?,
            egress: rules.iter().filter(|r| r.direction == Direction::Egress).cloned().collect(),
            ingress: rules.iter().filter(|r| r.direction == Direction::Ingress).cloned().collect(),
            caps: (!p.spec.capabilities.is_empty()).then(|| caps::mask(&p.spec.capabilities)),
            syscalls: (!p.spec.syscalls.is_empty()).then(|| p.spec.syscalls.iter().cloned().collect()),
            l7: p.spec.l7.clone(),
        })
    }

    /// Every network rule, egress first.
    pub fn rules(&self) -> impl Iterator<Item = &NetRule> {
        self.egress.iter().chain(self.ingress.iter())
    }

    fn candidates(&self, path: &str) -> impl Iterator<Item = &Proc> {
        let literal = self.literal_procs.get(path).into_iter().flatten().copied();
        let globs = self.glob_procs.iter().copied().filter(move |i| self.procs[*i].0.matches(path));
        literal.chain(globs).map(|i| &self.procs[i].1)
    }

    /// Whether a file access is in the profile.
    pub fn file_allowed(&self, path: &str, write: bool) -> bool {
        if write { self.write.matches(path) } else { self.read.matches(path) }
    }

    /// Whether a flow is in the profile.
    pub fn flow_allowed(&self, flow: &Flow, name: Option<&str>, dns: &DnsCache) -> bool {
        let rules = if flow.direction == Direction::Egress { &self.egress } else { &self.ingress };
        rules.iter().any(|r| match &r.peer {
            Peer::Dns(pattern) => {
                let by_name = name.is_some_and(|n| dns_matches(pattern, n))
                    || dns.names(&flow.peer).any(|n| dns_matches(pattern, n));
                by_name && r.allows(flow, &[flow.peer])
            }
            _ => r.allows(flow, &[]),
        })
    }

    /// The violation of a fact, if it is outside the profile.
    pub fn check(&self, fact: &Fact<'_>, dns: &DnsCache) -> Option<Violation> {
        match fact {
            Fact::Exec { path, name, args, parent, .. } => {
                let cands: Vec<&Proc> = self.candidates(path).collect();
                let shown = match name {
                    Some(n) => format!("{path} (as {n})"),
                    None => path.to_string(),
                };
                if cands.is_empty() {
                    return Some(Violation {
                        rule: PROCESS,
                        reason: format!("{shown} is not a profile process"),
                    });
                }
                let named: Vec<&&Proc> =
                    cands.iter().filter(|c| c.name.is_none() || c.name.as_deref() == *name).collect();
                if named.is_empty() {
                    return Some(Violation {
                        rule: PROCESS,
                        reason: format!("{shown} is not a profile process"),
                    });
                }
                let joined = args.join(" ");
                let with_args: Vec<&&&Proc> =
                    named.iter().filter(|c| c.args.as_ref().is_none_or(|a| a.matches(&joined))).collect();
                if with_args.is_empty() {
                    return Some(Violation {
                        rule: PROCESS_ARGS,
                        reason: format!("{shown} with arguments {joined:?} matches no argument pattern"),
                    });
                }
                let parent_ok = with_args.iter().any(|c| match (&c.parents, parent) {
                    (None, _) => true,
                    (Some(set), Some(p)) => set.matches(p),
                    (Some(_), None) => true,
                });
                if !parent_ok {
                    return Some(Violation {
                        rule: PROCESS_PARENT,
                        reason: format!(
                            "{shown} started by {} is not an allowed parent",
                            parent.unwrap_or("?")
                        ),
                    });
                }
                None
            }
            Fact::File { path, write } => (!self.file_allowed(path, *write)).then(|| Violation {
                rule: FILE,
                reason: format!("{} of {path} is not in the profile", if *write { "write" } else { "read" }),
            }),
            Fact::Flow { direction, protocol, addr, port, name } => {
                let flow = Flow { direction: *direction, protocol: *protocol, peer: *addr, port: *port };
                (!self.flow_allowed(&flow, *name, dns)).then(|| Violation {
                    rule: CONNECTION,
                    reason: format!(
                        "{} {} {}{}:{port} is not in the profile",
                        if *direction == Direction::Egress { "egress" } else { "ingress" },
                        proto_name(*protocol),
                        name.map(|n| format!("{n} = ")).unwrap_or_default(),
                        addr
                    ),
                })
            }
            Fact::Listen { protocol, port } => {
                let listened = self.ingress.iter().any(|r| {
                    r.protocol.covers(*protocol)
                        && (r.ports.is_empty() || r.ports.iter().any(|p| p.contains(*port)))
                });
                (!listened).then(|| Violation {
                    rule: LISTEN,
                    reason: format!(
                        "listening on {} port {port} is not in the profile",
                        proto_name(*protocol)
                    ),
                })
            }
            Fact::Caps(mask) => {
                let extra = mask & !self.caps?;
                (extra != 0).then(|| Violation {
                    rule: CAPABILITY,
                    reason: format!("capabilities {} are not in the profile", caps::names(extra).join(", ")),
                })
            }
            Fact::Syscall(s) => {
                let set = self.syscalls.as_ref()?;
                (!set.contains(*s)).then(|| Violation {
                    rule: SYSCALL,
                    reason: format!("syscall {s} is not in the profile"),
                })
            }
        }
    }
}

fn proto_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Any => "ip",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::model::*;
    use palisade_network::rules::PortRange;

    fn profile() -> CompiledProfile {
        let mut p = PalisadeProfile::new(Workload {
            kind: WorkloadKind::Image,
            name: "web".into(),
            namespace: None,
            ..Workload::default()
        });
        p.spec.processes = vec![
            ProcessRule {
                path: "/bin/busybox".into(),
                name: Some("cat".into()),
                args: vec!["/etc/*.conf".into()],
                ..ProcessRule::default()
            },
            ProcessRule {
                path: "/usr/local/bin/*".into(),
                parents: vec!["/bin/sh".into()],
                ..ProcessRule::default()
            },
        ];
        p.spec.files = vec![
            FileRule { path: "/etc/app.conf".into(), access: FileAccess::Read, ..FileRule::default() },
            FileRule { path: "/tmp/**".into(), access: FileAccess::ReadWrite, ..FileRule::default() },
        ];
        p.spec.network.egress = vec![
            NetEntry {
                peer: Peer::Cidr("10.0.0.0/8".parse().unwrap()),
                protocol: Protocol::Tcp,
                ports: vec![PortSpec(PortRange::single(5432))],
                seen: Seen::default(),
            },
            NetEntry {
                peer: Peer::Dns("*.example.com".into()),
                protocol: Protocol::Tcp,
                ports: vec![],
                seen: Seen::default(),
            },
        ];
        p.spec.network.ingress = vec![NetEntry {
            peer: Peer::Any,
            protocol: Protocol::Tcp,
            ports: vec![PortSpec(PortRange::single(8080))],
            seen: Seen::default(),
        }];
        p.spec.syscalls = vec!["execve".into(), "openat".into()];
        CompiledProfile::new(&p).unwrap()
    }

    fn exec<'a>(
        path: &'a str,
        name: Option<&'a str>,
        args: &'a [String],
        parent: Option<&'a str>,
    ) -> Fact<'a> {
        Fact::Exec { path, name, args, parent, upper_layer: false }
    }

    #[test]
    fn answers() {
        let c = profile();
        let dns = DnsCache::default();
        let conf = ["/etc/app.conf".to_string()];
        assert_eq!(c.check(&exec("/bin/busybox", Some("cat"), &conf, None), &dns), None);
        assert_eq!(c.check(&exec("/bin/busybox", Some("nc"), &conf, None), &dns).unwrap().rule, PROCESS);
        assert_eq!(
            c.check(&exec("/bin/busybox", Some("cat"), &["/etc/shadow".into()], None), &dns).unwrap().rule,
            PROCESS_ARGS
        );
        assert_eq!(c.check(&exec("/usr/local/bin/app", None, &[], Some("/bin/sh")), &dns), None);
        assert_eq!(
            c.check(&exec("/usr/local/bin/app", None, &[], Some("/bin/bash")), &dns).unwrap().rule,
            PROCESS_PARENT
        );
        assert_eq!(c.check(&exec("/usr/local/bin/sub/app", None, &[], None), &dns).unwrap().rule, PROCESS);
        assert_eq!(c.check(&Fact::File { path: "/etc/app.conf", write: false }, &dns), None);
        assert_eq!(c.check(&Fact::File { path: "/etc/app.conf", write: true }, &dns).unwrap().rule, FILE);
        assert_eq!(c.check(&Fact::File { path: "/tmp/a/b", write: true }, &dns), None);
        let flow = |addr: &str, port, name| Fact::Flow {
            direction: Direction::Egress,
            protocol: Protocol::Tcp,
            addr: addr.parse().unwrap(),
            port,
            name,
        };
        assert_eq!(c.check(&flow("10.1.1.1", 5432, None), &dns), None);
        assert_eq!(c.check(&flow("10.1.1.1", 5433, None), &dns).unwrap().rule, CONNECTION);
        assert_eq!(c.check(&flow("192.0.2.1", 443, Some("api.example.com")), &dns), None);
        assert_eq!(c.check(&flow("192.0.2.1", 443, None), &dns).unwrap().rule, CONNECTION);
        let mut seen = DnsCache::default();
        seen.note("cdn.example.com", "192.0.2.1".parse().unwrap());
        assert_eq!(c.check(&flow("192.0.2.1", 443, None), &seen), None);
        assert_eq!(c.check(&Fact::Listen { protocol: Protocol::Tcp, port: 8080 }, &dns), None);
        assert_eq!(c.check(&Fact::Listen { protocol: Protocol::Tcp, port: 22 }, &dns).unwrap().rule, LISTEN);
        assert_eq!(c.check(&Fact::Syscall("ptrace"), &dns).unwrap().rule, SYSCALL);
        assert_eq!(c.check(&Fact::Caps(1 << 13), &dns), None, "no capabilities listed: not checked");
        assert!(
            dns_matches("*.example.com", "a.b.example.com") && !dns_matches("*.example.com", "example.com")
        );
        assert!(!dns_matches("*.example.com", "badexample.com"));
    }
}
