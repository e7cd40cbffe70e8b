//! [`Decider`] over profiles, global rules and modes: the one place that answers "may this process do
//! this?", for permission events ([`Decider::decide`]: exec, open, connect by path or address) and for
//! observed events ([`ProfileDecider::judge`]: every fact of the event, with what only events know:
//! command name, arguments, parent, drift, capabilities).
//!
//! Answers by mode: a global rule broken is an alert in discover and monitor mode and a refusal in
//! protect mode; outside the profile is allowed in discover mode (it is being learned), an alert in
//! monitor mode, a refusal in protect mode. A workload with no profile is judged by the global rules
//! only. Host processes are always allowed.
//!
//! Speed: profiles are compiled once (hash sets of literal paths, one glob set per list); the workload
//! key of a container is cached by container id; the locks are read locks except when the agent swaps a
//! profile or the modes. Permission events that know only a path cannot tell busybox applets apart (they
//! share one executable): those are judged on the exec event, and for the same reason a shell executable
//! started by a process already running it (busybox's shell running an applet through `/proc/self/exe`)
//! is left to the exec event. Drift is judged before the exec through [`Decider::drift`] once
//! enforcement found the executable is not from the image's layers ([`crate::enforce::drift`]), and on
//! the exec event from its upper-layer bit.

use crate::event::{Container, Event};
use crate::profile::check::{CompiledProfile, DnsCache, PROCESS, Violation};
use crate::profile::facts;
use crate::profile::global::{GlobalRules, is_shell};
use crate::profile::model::PalisadeProfile;
use crate::profile::modes::ModeState;
use crate::profile::workload;
use crate::verdict::{Access, Decider, Mode, NetworkPolicy, Request, Verdict};
use palisade_network::inspect::policy::{L7Rules, Mode as L7Mode};
use palisade_network::rules::{Direction, NetRule, Peer, Protocol};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// One judged fact: what was broken, whether it was a global rule, and the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub violation: Violation,
    pub global: bool,
    pub verdict: Verdict,
    pub mode: Mode,
    pub workload: String,
}

/// Most container ids whose workload key is cached.
const KEY_CACHE_MAX: usize = 16_384;

/// Profiles, global rules and modes, compiled.
pub struct ProfileDecider {
    profiles: RwLock<HashMap<String, Arc<CompiledProfile>>>,
    global: GlobalRules,
    modes: RwLock<ModeState>,
    fallback: Mode,
    dns: RwLock<DnsCache>,
    keys: RwLock<HashMap<String, Arc<str>>>,
}

fn verdict(v: &Violation, global: bool, mode: Mode) -> Verdict {
    let (rule, reason) = (v.rule.to_string(), v.reason.clone());
    match mode {
        Mode::Discover if !global => Verdict::Allow,
        Mode::Discover | Mode::Monitor => Verdict::Alert { rule, reason },
        Mode::Protect => Verdict::Deny { rule, reason },
    }
}

/// Whether a host pid is pid 1 of its pid namespace (`NSpid`'s last field), read only when needed.
fn is_entrypoint(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("NSpid:")).map(|l| l.split_whitespace().last() == Some("1"))
        })
        .unwrap_or(false)
}

/// Whether a host pid runs the executable at `path` (as seen in its own mount namespace).
fn reexecutes_itself(pid: u32, path: &str) -> bool {
    std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p.as_os_str() == path)
}

/// Whether a host pid is the container runtime's init (`runc:[2:INIT]`, …), by its `comm`.
fn is_runtime_init_pid(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| {
        let p = crate::event::Process { comm: c.trim_end().to_string(), ..Default::default() };
        facts::is_runtime_init(&p)
    })
}

impl ProfileDecider {
    /// Compile; a profile that does not compile is an error naming its workload.
    pub fn new(
        profiles: &[PalisadeProfile],
        global: GlobalRules,
        modes: ModeState,
        fallback: Mode,
    ) -> Result<ProfileDecider, String> {
        let mut map = HashMap::new();
        for p in profiles {
            let c = CompiledProfile::new(p).map_err(|e| format!("profile {}: {e}", p.metadata.name))?;
            map.insert(p.spec.workload.key(), Arc::new(c));
        }
        Ok(ProfileDecider {
            profiles: RwLock::new(map),
            global,
            modes: RwLock::new(modes),
            fallback,
            dns: RwLock::new(DnsCache::default()),
            keys: RwLock::new(HashMap::new()),
        })
    }

    /// Replace (or add) one workload's profile.
    pub fn set_profile(&self, p: &PalisadeProfile) -> Result<(), String> {
        let c = CompiledProfile::new(p)?;
        if let Ok(mut m) = self.profiles.write() {
            m.insert(p.spec.workload.key(), Arc::new(c));
        }
        Ok(())
    }

    pub fn set_modes(&self, modes: ModeState) {
        if let Ok(mut m) = self.modes.write() {
            *m = modes;
        }
    }

    pub fn modes(&self) -> ModeState {
        self.modes.read().map(|m| m.clone()).unwrap_or_default()
    }

    pub fn has_profile(&self, key: &str) -> bool {
        self.profiles.read().is_ok_and(|m| m.contains_key(key))
    }

    /// The workload key of a container (cached by id).
    pub fn workload_key(&self, c: &Container) -> Arc<str> {
        if let Some(k) = self.keys.read().ok().and_then(|m| m.get(&c.id).cloned()) {
            return k;
        }
        let k: Arc<str> = workload::identify(c).key().into();
        if let Ok(mut m) = self.keys.write() {
            if m.len() >= KEY_CACHE_MAX {
                m.clear();
            }
            m.insert(c.id.clone(), k.clone());
        }
        k
    }

    /// The mode of a container's workload.
    pub fn mode(&self, c: &Container) -> Mode {
        let key = self.workload_key(c);
        self.modes.read().map(|m| m.mode(&key, Some(c), self.fallback)).unwrap_or(self.fallback)
    }

    /// Note DNS names an event carries (resolutions, connections with a name).
    pub fn observe(&self, event: &Event) {
        let names = matches!(event.kind, crate::event::EventKind::DnsResolve { .. })
            || matches!(&event.kind, crate::event::EventKind::Connect(c) if c.remote_name.is_some());
        if names && let Ok(mut d) = self.dns.write() {
            d.observe(event);
        }
    }

    fn profile(&self, key: &str) -> Option<Arc<CompiledProfile>> {
        self.profiles.read().ok().and_then(|m| m.get(key).cloned())
    }

    /// Judge every fact of an observed event: the violations with their answers (empty: all allowed).
    pub fn judge(&self, event: &Event) -> Vec<Judgement> {
        let Some(c) = &event.container else { return Vec::new() };
        let key = self.workload_key(c);
        let mode = self.modes.read().map(|m| m.mode(&key, Some(c), self.fallback)).unwrap_or(self.fallback);
        let profile = self.profile(&key);
        let entrypoint = event.process.vpid == Some(1);
        let dns = self.dns.read().ok();
        let empty = DnsCache::default();
        let dns = dns.as_deref().unwrap_or(&empty);
        let mut out = Vec::new();
        for fact in facts::of(event) {
            let (violation, global) = match self.global.check(&key, &fact, entrypoint) {
                Some(v) => (Some(v), true),
                None => (profile.as_ref().and_then(|p| p.check(&fact, dns)), false),
            };
            if let Some(v) = violation {
                let verdict = verdict(&v, global, mode);
                if verdict != Verdict::Allow {
                    out.push(Judgement { violation: v, global, verdict, mode, workload: key.to_string() });
                }
            }
        }
        out
    }
}

impl Decider for ProfileDecider {
    fn decide(&self, request: &Request<'_>) -> Verdict {
        let Some(c) = request.container else { return Verdict::Allow };
        let key = self.workload_key(c);
        let mode = self.modes.read().map(|m| m.mode(&key, Some(c), self.fallback)).unwrap_or(self.fallback);
        let profile = self.profile(&key);
        let (violation, global) = match request.access {
            Access::Exec { path } => {
                // a shell executable run by a process of that same executable is a multi-call binary
                // re-executing itself (busybox's shell running an applet through /proc/self/exe): what
                // it becomes is known only from the exec event, which `judge` sees
                let entrypoint = is_shell(facts::comm_of(path))
                    && (is_entrypoint(request.pid) || reexecutes_itself(request.pid, path));
                match self.global.exec_path(&key, path, entrypoint) {
                    Some(v) => (Some(v), true),
                    None => (
                        profile.filter(|p| !p.exec_paths.matches(path)).map(|_| Violation {
                            rule: PROCESS,
                            reason: format!("{path} is not a profile process"),
                        }),
                        false,
                    ),
                }
            }
            Access::Open { path, write } => match write.then(|| self.global.write(&key, path)).flatten() {
                Some(v) => (Some(v), true),
                None => (
                    profile
                        // an executable of the profile is read when it is executed
                        .filter(|p| write || !p.exec_paths.matches(path))
                        .and_then(|p| p.check(&facts::Fact::File { path, write }, &DnsCache::default())),
                    false,
                ),
            },
            Access::Connect { protocol, addr, port } => match self.global.port(&key, port) {
                Some(v) => (Some(v), true),
                None => {
                    let protocol = if protocol == "udp" { Protocol::Udp } else { Protocol::Tcp };
                    let fact =
                        facts::Fact::Flow { direction: Direction::Egress, protocol, addr, port, name: None };
                    let dns = self.dns.read().ok();
                    let empty = DnsCache::default();
                    (profile.and_then(|p| p.check(&fact, dns.as_deref().unwrap_or(&empty))), false)
                }
            },
        };
        match violation {
            // the runtime setting the container up is not the workload (read only on a violation)
            Some(_) if is_runtime_init_pid(request.pid) => Verdict::Allow,
            Some(v) => verdict(&v, global, mode),
            None => Verdict::Allow,
        }
    }

    fn checks_drift(&self, container: &Container) -> bool {
        self.global.drift_applies(&self.workload_key(container))
    }

    fn drift(&self, request: &Request<'_>, reason: &str) -> Verdict {
        let Some(c) = request.container else { return Verdict::Allow };
        let key = self.workload_key(c);
        match self.global.drift(&key, reason) {
            // the runtime setting the container up is not the workload (read only on a violation)
            Some(_) if is_runtime_init_pid(request.pid) => Verdict::Allow,
            Some(v) => verdict(&v, true, self.mode(c)),
            None => Verdict::Allow,
        }
    }

    fn network(&self, container: &Container) -> Option<NetworkPolicy> {
        let key = self.workload_key(container);
        let mode = self.modes.read().map(|m| m.mode(&key, Some(container), self.fallback)).ok()?;
        if mode == Mode::Discover {
            return None;
        }
        let profile = self.profile(&key)?;
        let dns = self.dns.read().ok()?;
        let mut rules = Vec::new();
        for r in profile.rules() {
            match &r.peer {
                Peer::Dns(pattern) => {
                    for (addr, names) in dns.entries() {
                        if names.iter().any(|n| crate::profile::check::dns_matches(pattern, n))
                            && let Ok(net) = ipnet::IpNet::new(*addr, if addr.is_ipv4() { 32 } else { 128 })
                        {
                            rules.push(NetRule { peer: Peer::Cidr(net), ..r.clone() });
                        }
                    }
                }
                Peer::Workload { .. } => {}
                _ => rules.push(r.clone()),
            }
        }
        rules.sort();
        rules.dedup();
        Some(NetworkPolicy { mode, rules })
    }

    fn l7(&self, container: &Container) -> Option<(L7Mode, L7Rules)> {
        let key = self.workload_key(container);
        let mode = match self.modes.read().map(|m| m.mode(&key, Some(container), self.fallback)).ok()? {
            Mode::Discover => return None,
            Mode::Monitor => L7Mode::Monitor,
            Mode::Protect => L7Mode::Protect,
        };
        Some((mode, self.profile(&key)?.l7.clone()?))
    }
}

/// Several deciders as one: the first answer that is not "allow" wins (a refusal before an alert when
/// both come), and the first network policy given. The agent puts the deny-rule decider and the profile
/// decider together this way.
pub struct FirstOf(pub Vec<Arc<dyn Decider>>);

impl Decider for FirstOf {
    fn decide(&self, request: &Request<'_>) -> Verdict {
        let mut alert = None;
        for d in &self.0 {
            match d.decide(request) {
                Verdict::Allow => {}
                v @ Verdict::Deny { .. } => return v,
                v @ Verdict::Alert { .. } => {
                    alert.get_or_insert(v);
                }
            }
        }
        alert.unwrap_or(Verdict::Allow)
    }

    fn l7(&self, container: &Container) -> Option<(L7Mode, L7Rules)> {
        self.0.iter().find_map(|d| d.l7(container))
    }

    fn network(&self, container: &Container) -> Option<NetworkPolicy> {
        self.0.iter().find_map(|d| d.network(container))
    }

    fn checks_drift(&self, container: &Container) -> bool {
        self.0.iter().any(|d| d.checks_drift(container))
    }

    fn drift(&self, request: &Request<'_>, reason: &str) -> Verdict {
        self.0.iter().fold(Verdict::Allow, |v, d| v.or(d.drift(request, reason)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{EventKind, FileOpen, Pod, Process};
    use crate::profile::global::{DRIFT, SHELL, WRITE_BELOW};
    use crate::profile::model::*;
    use palisade_network::rules::PortRange;

    fn container(mode: Option<&str>) -> Container {
        let mut pod = Pod { name: "web-5d8c-abcde".into(), namespace: "shop".into(), ..Pod::default() };
        pod.labels.insert("pod-template-hash".into(), "5d8c".into());
        if let Some(m) = mode {
            pod.annotations.insert("palisade.io/mode".into(), m.into());
        }
        Container { id: "c1".into(), runtime: "runc".into(), pod: Some(pod), ..Container::default() }
    }

    fn decider(fallback: Mode) -> ProfileDecider {
        let mut p = PalisadeProfile::new(Workload {
            kind: WorkloadKind::Deployment,
            name: "web".into(),
            namespace: Some("shop".into()),
            ..Workload::default()
        });
        p.spec.processes = vec![ProcessRule { path: "/usr/bin/app".into(), ..ProcessRule::default() }];
        p.spec.files =
            vec![FileRule { path: "/etc/app/*".into(), access: FileAccess::Read, ..FileRule::default() }];
        p.spec.network.egress = vec![
            NetEntry {
                peer: Peer::Cidr("10.0.0.5/32".parse().unwrap()),
                protocol: Protocol::Tcp,
                ports: vec![PortSpec(PortRange::single(5432))],
                seen: Seen::default(),
            },
            NetEntry {
                peer: Peer::Dns("api.example.com".into()),
                protocol: Protocol::Tcp,
                ports: vec![],
                seen: Seen::default(),
            },
        ];
        ProfileDecider::new(&[p], GlobalRules::default(), ModeState::default(), fallback).unwrap()
    }

    fn ask(d: &ProfileDecider, c: &Container, access: Access<'_>) -> Verdict {
        d.decide(&Request { pid: u32::MAX, container: Some(c), access })
    }

    #[test]
    fn answers_by_mode() {
        let d = decider(Mode::Protect);
        let c = container(None);
        assert_eq!(ask(&d, &c, Access::Exec { path: "/usr/bin/app" }), Verdict::Allow);
        let v = ask(&d, &c, Access::Exec { path: "/usr/bin/curl" });
        assert!(matches!(&v, Verdict::Deny { rule, .. } if rule == PROCESS), "{v:?}");
        assert!(ask(&d, &c, Access::Exec { path: "/bin/bash" }).is_deny());
        assert_eq!(ask(&d, &c, Access::Open { path: "/etc/app/a.conf", write: false }), Verdict::Allow);
        assert_eq!(
            ask(&d, &c, Access::Open { path: "/usr/bin/app", write: false }),
            Verdict::Allow,
            "exec's read"
        );
        assert!(ask(&d, &c, Access::Open { path: "/usr/bin/app", write: true }).is_deny());
        assert!(ask(&d, &c, Access::Open { path: "/etc/app/a.conf", write: true }).is_deny());
        let v = ask(&d, &c, Access::Open { path: "/usr/lib/x", write: true });
        assert!(matches!(&v, Verdict::Deny { rule, .. } if rule == WRITE_BELOW), "{v:?}");
        let addr = "10.0.0.5".parse().unwrap();
        assert_eq!(ask(&d, &c, Access::Connect { protocol: "tcp", addr, port: 5432 }), Verdict::Allow);
        assert!(ask(&d, &c, Access::Connect { protocol: "tcp", addr, port: 22 }).is_deny());
        assert!(
            d.decide(&Request { pid: 1, container: None, access: Access::Exec { path: "/bin/bash" } })
                == Verdict::Allow
        );

        // monitor by annotation: alerts; discover: outside the profile is allowed, global rules alert
        let monitor = container(Some("monitor"));
        assert!(matches!(ask(&d, &monitor, Access::Exec { path: "/usr/bin/curl" }), Verdict::Alert { .. }));
        let d = decider(Mode::Discover);
        let c = container(None);
        assert_eq!(ask(&d, &c, Access::Exec { path: "/usr/bin/curl" }), Verdict::Allow);
        assert!(matches!(ask(&d, &c, Access::Exec { path: "/bin/bash" }), Verdict::Alert { .. }));
        // a workload without a profile: global rules only
        let other = Container { id: "c2".into(), image: Some("x/y:1".into()), ..Container::default() };
        let d = decider(Mode::Protect);
        assert_eq!(ask(&d, &other, Access::Exec { path: "/usr/bin/curl" }), Verdict::Allow);
        assert!(ask(&d, &other, Access::Exec { path: "/bin/zsh" }).is_deny());
    }

    #[test]
    fn judges_events_and_resolves_dns_for_the_network_policy() {
        let d = decider(Mode::Monitor);
        let c = container(None);
        let ev = |kind, exe: &str, upper| Event {
            time_ns: 1,
            kind,
            result: Some(0),
            process: Process {
                pid: 9,
                comm: facts::comm_of(exe).into(),
                exe: exe.into(),
                exe_from_upper_layer: upper,
                ..Process::default()
            },
            ancestors: vec![],
            container: Some(c.clone()),
        };
        let j = d.judge(&ev(EventKind::Execve, "/tmp/dropped", true));
        assert_eq!(j.len(), 1);
        assert_eq!((j[0].violation.rule, j[0].global), (DRIFT, true));
        assert!(matches!(j[0].verdict, Verdict::Alert { .. }));
        assert!(d.judge(&ev(EventKind::Execve, "/usr/bin/app", false)).is_empty());
        let open =
            EventKind::Open(FileOpen { path: "/etc/passwd".into(), raw_path: None, flags: 0, mode: 0 });
        assert_eq!(d.judge(&ev(open, "/usr/bin/app", false))[0].violation.rule, crate::profile::check::FILE);
        let mut sh = ev(EventKind::Execve, "/bin/sh", false);
        assert_eq!(d.judge(&sh)[0].violation.rule, SHELL);
        sh.process.vpid = Some(1);
        assert!(d.judge(&sh).iter().all(|j| j.violation.rule != SHELL), "the entrypoint may be a shell");

        d.observe(&Event {
            kind: EventKind::DnsResolve {
                name: "api.example.com".into(),
                addresses: vec!["192.0.2.9".into()],
            },
            ..ev(EventKind::Execve, "/usr/bin/app", false)
        });
        let net = d.network(&c).unwrap();
        assert_eq!(net.mode, Mode::Monitor);
        let peers: Vec<String> = net.rules.iter().map(|r| format!("{:?}", r.peer)).collect();
        assert_eq!(net.rules.len(), 2, "{peers:?}");
        assert!(peers.iter().any(|p| p.contains("192.0.2.9/32")), "{peers:?}");
        assert!(decider(Mode::Discover).network(&c).is_none());
    }

    #[test]
    fn drift_before_exec_by_mode_and_exception() {
        let d = decider(Mode::Protect);
        let c = container(None);
        let req = Request { pid: u32::MAX, container: Some(&c), access: Access::Exec { path: "/tmp/x" } };
        assert!(d.checks_drift(&c));
        let v = d.drift(&req, "/tmp/x was written in the container");
        assert!(
            matches!(&v, Verdict::Deny { rule, reason } if rule == DRIFT && reason.contains("/tmp/x")),
            "{v:?}"
        );
        let monitor = container(Some("monitor"));
        let req_m = Request { container: Some(&monitor), ..req };
        assert!(matches!(d.drift(&req_m, "r"), Verdict::Alert { .. }));
        // an exception for the workload
        let spec = crate::profile::global::GlobalSpec {
            zero_drift: crate::profile::global::RuleConfig {
                enabled: true,
                exceptions: vec!["shop/Deployment/*".into()],
            },
            ..Default::default()
        };
        let excepted =
            ProfileDecider::new(&[], GlobalRules::new(&spec).unwrap(), ModeState::default(), Mode::Protect)
                .unwrap();
        assert!(!excepted.checks_drift(&c));
        assert_eq!(excepted.drift(&req, "r"), Verdict::Allow);
        // FirstOf: any decider that checks drift, the strongest answer
        let both = FirstOf(vec![Arc::new(excepted), Arc::new(d)]);
        assert!(both.checks_drift(&c));
        assert!(both.drift(&req, "r").is_deny());
        // a host process is never judged
        let host = Request { container: None, ..req };
        assert_eq!(decider(Mode::Protect).drift(&host, "r"), Verdict::Allow);
    }

    #[test]
    fn first_of_prefers_a_refusal_then_an_alert() {
        struct Fixed(Verdict);
        impl Decider for Fixed {
            fn decide(&self, _: &Request<'_>) -> Verdict {
                self.0.clone()
            }
            fn network(&self, _: &Container) -> Option<NetworkPolicy> {
                None
            }
        }
        let alert = Verdict::Alert { rule: "a".into(), reason: "r".into() };
        let deny = Verdict::Deny { rule: "d".into(), reason: "r".into() };
        let c = container(None);
        let req = Request { pid: 1, container: Some(&c), access: Access::Exec { path: "/x" } };
        let both = FirstOf(vec![Arc::new(Fixed(alert.clone())), Arc::new(Fixed(deny.clone()))]);
        assert_eq!(both.decide(&req), deny);
        let one = FirstOf(vec![Arc::new(Fixed(Verdict::Allow)), Arc::new(Fixed(alert.clone()))]);
        assert_eq!(one.decide(&req), alert);
        assert_eq!(FirstOf(vec![Arc::new(Fixed(Verdict::Allow))]).decide(&req), Verdict::Allow);
        let with_profiles = FirstOf(vec![Arc::new(Fixed(Verdict::Allow)), Arc::new(decider(Mode::Monitor))]);
        assert!(with_profiles.network(&c).is_some());
    }
}
