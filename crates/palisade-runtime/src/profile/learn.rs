//! The learner: folds [`Event`]s into one profile per workload.
//!
//! Each event's [`facts`] are generalised ([`generalize`]) and added to its workload's sets with when
//! they were seen. Learning can start from existing profiles ([`Learner::add_profile`]), so a second test
//! run extends what a first one learned. [`Learner::profiles`] finishes the profiles: directories with
//! many files of one class collapse to a glob, everything sorted, so the same behaviour always exports
//! the same YAML.

use crate::caps;
use crate::event::Event;
use crate::profile::facts::{self, Fact};
use crate::profile::generalize::{self, FANOUT, MAX_ARG_PATTERNS};
use crate::profile::model::*;
use crate::profile::workload;
use palisade_network::rules::{Direction, Peer, PortRange, Protocol};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default, Clone)]
struct ProcAcc {
    sha256: Option<String>,
    /// Any arguments: written so, or more than [`MAX_ARG_PATTERNS`] seen.
    any_args: bool,
    args: BTreeSet<String>,
    parents: BTreeSet<String>,
    seen: Seen,
}

#[derive(Debug, Default, Clone)]
struct FileAcc {
    access: FileAccess,
    class: Option<FileClass>,
    seen: Seen,
}

#[derive(Debug, Default, Clone)]
struct NetAcc {
    ports: BTreeSet<PortRange>,
    /// Learned or written without ports: any port.
    any_port: bool,
    seen: Seen,
}

/// What has been learned of one workload.
#[derive(Debug, Clone)]
struct Acc {
    workload: Workload,
    annotations: BTreeMap<String, String>,
    processes: BTreeMap<(String, Option<String>), ProcAcc>,
    files: BTreeMap<String, FileAcc>,
    net: BTreeMap<(Direction, Peer, Protocol), NetAcc>,
    caps: BTreeSet<String>,
    syscalls: BTreeSet<String>,
    /// A reviewer's L7 rules, kept as they are (never learned).
    l7: Option<L7Rules>,
    seen: Seen,
    /// When something new was last learned (nanoseconds).
    last_new_ns: u64,
}

impl Acc {
    fn new(workload: Workload) -> Acc {
        Acc {
            workload,
            annotations: BTreeMap::new(),
            processes: BTreeMap::new(),
            files: BTreeMap::new(),
            net: BTreeMap::new(),
            caps: BTreeSet::new(),
            syscalls: BTreeSet::new(),
            l7: None,
            seen: Seen::default(),
            last_new_ns: 0,
        }
    }
}

/// Folds events into profiles, one per workload.
#[derive(Debug, Default, Clone)]
pub struct Learner {
    workloads: BTreeMap<String, Acc>,
}

fn net_key(peer: Peer, protocol: Protocol, direction: Direction) -> (Direction, Peer, Protocol) {
    (direction, peer, protocol)
}

fn host_cidr(addr: std::net::IpAddr) -> Peer {
    let bits = if addr.is_ipv4() { 32 } else { 128 };
    match ipnet::IpNet::new(addr, bits) {
        Ok(net) => Peer::Cidr(net),
        Err(_) => Peer::Any,
    }
}

impl Learner {
    pub fn new() -> Learner {
        Learner::default()
    }

    /// Start from a profile (its items count as learned before any event).
    pub fn add_profile(&mut self, profile: &PalisadeProfile) {
        let key = profile.spec.workload.key();
        let acc = self.workloads.entry(key).or_insert_with(|| Acc::new(profile.spec.workload.clone()));
        for (k, v) in &profile.metadata.annotations {
            if ![ANN_FIRST_SEEN, ANN_LAST_SEEN, ANN_EVENTS].contains(&k.as_str()) {
                acc.annotations.insert(k.clone(), v.clone());
            }
        }
        if profile.spec.l7.is_some() {
            acc.l7 = profile.spec.l7.clone();
        }
        for p in &profile.spec.processes {
            let a = acc.processes.entry((p.path.clone(), p.name.clone())).or_default();
            a.sha256 = a.sha256.take().or_else(|| p.sha256.clone());
            a.any_args |= p.args.is_empty() || p.args.iter().any(|x| x == "*");
            a.args.extend(p.args.iter().filter(|x| *x != "*").cloned());
            a.parents.extend(if p.parents.is_empty() { vec!["**".to_string()] } else { p.parents.clone() });
            a.seen.merge(p.seen);
        }
        for f in &profile.spec.files {
            let a = acc
                .files
                .entry(f.path.clone())
                .or_insert_with(|| FileAcc { access: f.access, ..FileAcc::default() });
            a.access = a.access.union(f.access);
            a.class = Some(f.class);
            a.seen.merge(f.seen);
        }
        for (dir, list) in [
            (Direction::Egress, &profile.spec.network.egress),
            (Direction::Ingress, &profile.spec.network.ingress),
        ] {
            for e in list {
                let a = acc.net.entry(net_key(e.peer.clone(), e.protocol, dir)).or_default();
                a.any_port |= e.ports.is_empty();
                a.ports.extend(e.ports.iter().map(|p| p.0));
                a.seen.merge(e.seen);
            }
        }
        acc.caps.extend(profile.spec.capabilities.iter().cloned());
        acc.syscalls.extend(profile.spec.syscalls.iter().cloned());
    }

    /// Learn one event; `true` when it added something the profile did not have.
    pub fn learn(&mut self, event: &Event) -> bool {
        let Some(container) = &event.container else { return false };
        let facts = facts::of(event);
        if facts.is_empty() {
            return false;
        }
        let wl = workload::identify(container);
        let acc = self.workloads.entry(wl.key()).or_insert_with(|| Acc::new(wl));
        let t = event.time_ns;
        acc.seen.add(t);
        let mut new = false;
        for fact in facts {
            new |= learn_fact(acc, &fact, t);
        }
        if new {
            acc.last_new_ns = acc.last_new_ns.max(t);
        }
        new
    }

    /// When each workload last learned something new (nanoseconds), by workload key.
    pub fn last_new(&self) -> impl Iterator<Item = (&str, u64)> {
        self.workloads.iter().map(|(k, a)| (k.as_str(), a.last_new_ns))
    }

    pub fn is_empty(&self) -> bool {
        self.workloads.is_empty()
    }

    /// The profile of one workload key.
    pub fn profile(&self, key: &str) -> Option<PalisadeProfile> {
        self.workloads.get(key).map(finish)
    }

    /// Every profile, finished, in workload-key order.
    pub fn profiles(&self) -> Vec<PalisadeProfile> {
        self.workloads.values().map(finish).collect()
    }
}

fn learn_fact(acc: &mut Acc, fact: &Fact<'_>, t: u64) -> bool {
    match fact {
        Fact::Exec { path, name, args, parent, .. } => {
            let key = (generalize::path(path), name.map(str::to_string));
            let new_proc = !acc.processes.contains_key(&key);
            let a = acc.processes.entry(key).or_default();
            a.seen.add(t);
            let mut new = new_proc;
            if !a.any_args {
                new |= a.args.insert(generalize::args(args));
                if a.args.len() > MAX_ARG_PATTERNS {
                    a.any_args = true;
                    a.args.clear();
                }
            }
            if let Some(parent) = parent
                && !a.parents.contains("**")
            {
                new |= a.parents.insert(generalize::path(parent));
            }
            new
        }
        Fact::File { path, write } => {
            let glob = generalize::path(path);
            let access = if *write { FileAccess::Write } else { FileAccess::Read };
            match acc.files.get_mut(&glob) {
                Some(a) => {
                    a.seen.add(t);
                    let before = a.access;
                    a.access = a.access.union(access);
                    a.access != before
                }
                None => {
                    acc.files.insert(glob, FileAcc { access, class: None, seen: Seen::at(t) });
                    true
                }
            }
        }
        Fact::Flow { direction, protocol, addr, port, name } => {
            let peer = match name {
                Some(n) if !n.is_empty() => Peer::Dns(n.to_string()),
                _ => host_cidr(*addr),
            };
            // an ingress flow to a port a listener already allows from anywhere adds nothing
            if *direction == Direction::Ingress
                && acc
                    .net
                    .get(&net_key(Peer::Any, *protocol, Direction::Ingress))
                    .is_some_and(|a| a.any_port || a.ports.iter().any(|r| r.contains(*port)))
            {
                return false;
            }
            let a = acc.net.entry(net_key(peer, *protocol, *direction)).or_default();
            let new = a.seen.count == 0 || (!a.any_port && !a.ports.iter().any(|r| r.contains(*port)));
            a.seen.add(t);
            if !a.any_port {
                a.ports.insert(PortRange::single(*port));
            }
            new
        }
        Fact::Listen { protocol, port } => {
            let a = acc.net.entry(net_key(Peer::Any, *protocol, Direction::Ingress)).or_default();
            let new = !a.any_port && !a.ports.iter().any(|r| r.contains(*port));
            a.seen.add(t);
            if !a.any_port {
                a.ports.insert(PortRange::single(*port));
            }
            new
        }
        Fact::Caps(mask) => {
            let mut new = false;
            for c in caps::names(*mask) {
                new |= acc.caps.insert(c);
            }
            new
        }
        Fact::Syscall(s) => acc.syscalls.insert((*s).to_string()),
    }
}

/// Collapse directories with more than [`FANOUT`] files of one class into `<dir>/*`.
fn collapse(files: &BTreeMap<String, FileAcc>) -> BTreeMap<String, FileAcc> {
    let mut groups: BTreeMap<(String, FileClass), Vec<&String>> = BTreeMap::new();
    for (path, a) in files {
        let class = a.class.unwrap_or_else(|| generalize::classify(path));
        if let Some((dir, base)) = path.rsplit_once('/')
            && !base.contains('*')
            && class != FileClass::Secrets
        {
            groups.entry((dir.to_string(), class)).or_default().push(path);
        }
    }
    let mut out = files.clone();
    for ((dir, class), paths) in groups {
        if paths.len() <= FANOUT {
            continue;
        }
        let mut merged = FileAcc { access: out[paths[0]].access, class: Some(class), seen: Seen::default() };
        for p in paths {
            if let Some(a) = out.remove(p) {
                merged.access = merged.access.union(a.access);
                merged.seen.merge(a.seen);
            }
        }
        let glob = format!("{dir}/*");
        match out.get_mut(&glob) {
            Some(a) => {
                a.access = a.access.union(merged.access);
                a.seen.merge(merged.seen);
            }
            None => {
                out.insert(glob, merged);
            }
        }
    }
    out
}

fn finish(acc: &Acc) -> PalisadeProfile {
    let mut p = PalisadeProfile::new(acc.workload.clone());
    p.metadata.annotations = acc.annotations.clone();
    p.spec.l7 = acc.l7.clone();
    if acc.seen.count > 0 {
        let t = |ns| crate::rules::fields::iso_time(ns).chars().take(19).collect::<String>() + "Z";
        p.metadata.annotations.insert(ANN_FIRST_SEEN.into(), t(acc.seen.first_ns));
        p.metadata.annotations.insert(ANN_LAST_SEEN.into(), t(acc.seen.last_ns));
        p.metadata.annotations.insert(ANN_EVENTS.into(), acc.seen.count.to_string());
    }
    p.spec.processes = acc
        .processes
        .iter()
        .map(|((path, name), a)| ProcessRule {
            path: path.clone(),
            name: name.clone(),
            sha256: a.sha256.clone(),
            args: if a.any_args { vec!["*".into()] } else { a.args.iter().cloned().collect() },
            parents: if a.parents.contains("**") { Vec::new() } else { a.parents.iter().cloned().collect() },
            seen: a.seen,
        })
        .collect();
    p.spec.files = collapse(&acc.files)
        .into_iter()
        .map(|(path, a)| {
            let class = a.class.unwrap_or_else(|| generalize::classify(&path));
            FileRule { path, access: a.access, class, seen: a.seen }
        })
        .collect();
    p.spec.files.sort_by(|a, b| (a.class, &a.path).cmp(&(b.class, &b.path)));
    for ((dir, peer, protocol), a) in &acc.net {
        let entry = NetEntry {
            peer: peer.clone(),
            protocol: *protocol,
            ports: if a.any_port { Vec::new() } else { merge_ports(&a.ports) },
            seen: a.seen,
        };
        match dir {
            Direction::Egress => p.spec.network.egress.push(entry),
            Direction::Ingress => p.spec.network.ingress.push(entry),
        }
    }
    p.spec.capabilities = acc.caps.iter().cloned().collect();
    p.spec.syscalls = acc.syscalls.iter().cloned().collect();
    p
}

fn merge_ports(ports: &BTreeSet<PortRange>) -> Vec<PortSpec> {
    let mut out: Vec<PortRange> = Vec::new();
    for r in ports {
        match out.last_mut() {
            Some(last) if u32::from(r.first) <= u32::from(last.last) + 1 => last.last = last.last.max(r.last),
            _ => out.push(*r),
        }
    }
    out.into_iter().map(PortSpec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::*;

    fn ev(t: u64, kind: EventKind, exe: &str, args: &[&str]) -> Event {
        Event {
            time_ns: t * 1_000_000_000,
            kind,
            result: Some(0),
            process: Process {
                pid: 7,
                comm: facts::comm_of(exe).into(),
                exe: exe.into(),
                args: args.iter().map(|a| a.to_string()).collect(),
                ..Process::default()
            },
            ancestors: vec![ProcessRef { pid: 1, comm: "sh".into(), exe: "/bin/sh".into(), args: vec![] }],
            container: Some(Container {
                id: "c1".into(),
                runtime: "runc".into(),
                image: Some("shop/web:1".into()),
                ..Container::default()
            }),
        }
    }

    #[test]
    fn events_fold_into_a_generalised_profile() {
        let mut l = Learner::new();
        assert!(l.learn(&ev(1, EventKind::Execve, "/bin/cat", &["cat", "/etc/app.conf"])));
        assert!(!l.learn(&ev(2, EventKind::Execve, "/bin/cat", &["cat", "/etc/app.conf"])), "nothing new");
        let open =
            |p: &str, flags| EventKind::Open(FileOpen { path: p.into(), raw_path: None, flags, mode: 0 });
        l.learn(&ev(3, open("/etc/app.conf", 0), "/bin/cat", &[]));
        l.learn(&ev(3, open("/proc/77/status", 0), "/bin/cat", &[]));
        l.learn(&ev(4, open("/proc/78/status", 0), "/bin/cat", &[]));
        for i in 0..9 {
            l.learn(&ev(5, open(&format!("/srv/data/f{i}.db"), 0o101), "/bin/cat", &[]));
        }
        let conn = Connection {
            protocol: "tcp".into(),
            remote_addr: Some("10.0.0.7".into()),
            remote_port: Some(5432),
            local_addr: None,
            local_port: None,
            remote_name: None,
        };
        l.learn(&ev(6, EventKind::Connect(conn), "/bin/cat", &[]));
        let profiles = l.profiles();
        assert_eq!(profiles.len(), 1);
        let p = &profiles[0];
        assert_eq!(p.spec.workload.key(), "Image/shop/web");
        assert_eq!(p.spec.processes.len(), 1);
        assert_eq!(p.spec.processes[0].args, ["/etc/app.conf"]);
        assert_eq!(p.spec.processes[0].parents, ["/bin/sh"]);
        assert_eq!(p.spec.processes[0].seen.count, 2);
        let files: Vec<_> = p.spec.files.iter().map(|f| (f.path.as_str(), f.access, f.class)).collect();
        assert_eq!(
            files,
            [
                ("/etc/app.conf", FileAccess::Read, FileClass::Config),
                ("/proc/*/status", FileAccess::Read, FileClass::System),
                ("/srv/data/*", FileAccess::Write, FileClass::Data),
            ]
        );
        let rules = p.spec.network.rules();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].peer, Peer::Cidr("10.0.0.7/32".parse().unwrap()));
        assert_eq!(rules[0].ports, [PortRange::single(5432)]);
        assert!(p.spec.syscalls.contains(&"execve".to_string()));
        assert_eq!(p.metadata.annotations[ANN_EVENTS], "15");
        // learning on top of the finished profile changes nothing
        let mut again = Learner::new();
        again.add_profile(p);
        assert_eq!(again.profiles()[0].spec, p.spec);
    }
}
