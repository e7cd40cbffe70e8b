//! L7 inspection run by the agent: for each watched container whose profile has L7 rules (`spec.l7`, in
//! the workload's mode: [`Decider::l7`]) or whose workload `runtime agent --l7-policy FILE` names (the
//! file overrides the profile for the workloads it names), an inspector ([`palisade_network::inspect`]) on a thread of the agent,
//! bound to an NFQUEUE queue in the container's own network namespace, and iptables rules there sending
//! the container's TCP and UDP traffic (not loopback) to that queue.
//!
//! - Fail open by default: the rules carry `--queue-bypass` (no inspector bound, e.g. the agent crashed:
//!   packets pass) and the queue fails open when full. With `fail_closed`, neither: packets wait for the
//!   inspector and are dropped when it is not there or the queue is full.
//! - Bounded: each queue holds `palisade_network::inspect::nfqueue::QUEUE_LEN` packets; the inspector's flow table and DLP budget are its
//!   [`Limits`].
//! - Only that container: the rules are in chains of its own (`PALISADE-L7-IN`/`-OUT`, jumped to from
//!   `INPUT`/`OUTPUT` for every interface but `lo`) in its namespace.
//! - Clean stop ([`L7::stop_all`]) and a container that ended ([`L7::refresh`]) stop the inspector and
//!   remove its rules; a profile's L7 rules or mode that changed (a mode switched from discover to
//!   protect, a profile reloaded) restart its inspector with the new ones ([`L7::refresh`], every 2 s).
//! - Crash recovery: before an inspector starts in a container, the rules an earlier agent left in its
//!   namespace are removed (only in containers this agent inspects: others are left alone).
//!
//! A blocked `recv` on the queue cannot be interrupted from another thread, so stopping sets a flag and
//! sends one UDP datagram to `127.0.0.1:`[`WAKE_PORT`] inside the namespace, which a rule of its own
//! queues: the inspector judges it, sees the flag and unbinds.
//!
//! Alerts have the inspector's shape ([`event_alert`], source `network`) plus the container's id, name
//! and workload; counters are `palisade_runtime_l7_*` on the agent's `/metrics`.

use crate::event::Container;
use crate::output::Alert;
use crate::rules::fields::{evt_time, iso_time};
use crate::verdict::Decider;
use palisade_network::inspect::nfqueue::Bound;
use palisade_network::inspect::policy::{L7Rules, Mode, Policy};
use palisade_network::inspect::{Decision, Event, Inspector, Limits};
use palisade_network::netns::Netns;
use palisade_network::protocol::Transport;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The loopback UDP port whose datagrams wake a stopping inspector.
pub const WAKE_PORT: u16 = 9;
const CHAIN_IN: &str = "PALISADE-L7-IN";
const CHAIN_OUT: &str = "PALISADE-L7-OUT";
/// How often ended containers are looked for.
const REFRESH: Duration = Duration::from_secs(2);

/// What the agent's inspectors enforce.
#[derive(Debug, Clone)]
pub struct L7Config {
    /// `--l7-policy`: workloads by name glob ([`Policy::load_for_agent`]), overriding their profiles' L7
    /// rules; empty without the flag.
    pub policy: Policy,
    /// The NFQUEUE queue number used in every container's namespace (queues are per namespace).
    pub queue: u16,
    /// Drop packets when no inspector is bound or the queue is full, instead of letting them pass.
    pub fail_closed: bool,
    pub limits: Limits,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    verdict: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
}

/// The agent's L7 counters (`palisade_runtime_l7_*`), over every container's inspector.
#[derive(Default)]
pub struct L7Stats {
    packets: Family<VerdictLabels, Counter>,
    events: Family<RuleLabels, Counter>,
    inspectors: Gauge,
    errors: Counter,
    leftovers: Counter,
}

impl L7Stats {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("palisade_runtime_l7");
        r.register("packets", "Packets judged by the agent's inspectors, by verdict", self.packets.clone());
        r.register("events", "L7 violations and DLP matches, by rule", self.events.clone());
        r.register("inspectors", "Containers with an inspector running", self.inspectors.clone());
        r.register("errors", "Inspectors that failed to start or stopped on an error", self.errors.clone());
        r.register(
            "leftovers_removed",
            "Queue rules an earlier agent left behind, removed when the container was seen again",
            self.leftovers.clone(),
        );
    }
}

struct Running {
    /// The namespace, held open: it outlives the container's processes until the inspector is stopped.
    ns: File,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Running {
    fn netns(&self) -> Netns {
        Netns::Path(PathBuf::from(format!("/proc/self/fd/{}", self.ns.as_raw_fd())))
    }
}

/// Where a container's L7 rules come from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// Its workload's entry in `--l7-policy`.
    File,
    /// Its profile's `spec.l7`, in the workload's mode.
    Profile(Mode, L7Rules),
}

/// A container the agent watches: how to reach it and where its rules came from.
struct Watched {
    pid: u32,
    container: Container,
    source: Option<Source>,
}

/// The inspectors this agent runs, by container id.
pub struct L7 {
    config: L7Config,
    running: HashMap<String, Running>,
    watched: HashMap<String, Watched>,
    sink: std::sync::mpsc::SyncSender<Alert>,
    pub stats: Arc<L7Stats>,
    hostname: String,
    last_refresh: Instant,
}

impl L7 {
    /// Check that iptables runs; alerts go to `sink` (dropped, not waited for, when it is full).
    pub fn new(config: L7Config, sink: std::sync::mpsc::SyncSender<Alert>) -> Result<L7, String> {
        let ok = Command::new("iptables").arg("-V").output().is_ok_and(|o| o.status.success());
        if !ok {
            return Err("--l7-policy: iptables does not run here (it installs the NFQUEUE rules)".into());
        }
        Ok(L7 {
            config,
            running: HashMap::new(),
            watched: HashMap::new(),
            sink,
            stats: Arc::new(L7Stats::default()),
            hostname: crate::rules::local_hostname(),
            last_refresh: Instant::now(),
        })
    }

    /// A container seen for the first time, through its process `pid`: start its inspector when
    /// `--l7-policy` names its workload or its profile has L7 rules (and is not in discover mode).
    /// Returns lines for the log.
    pub fn watch(&mut self, pid: u32, container: &Container, decider: &dyn Decider) -> Vec<String> {
        if self.watched.contains_key(&container.id) {
            return Vec::new();
        }
        let source = self.source(container, decider);
        self.watched
            .insert(container.id.clone(), Watched { pid, container: container.clone(), source: None });
        self.apply(&container.id, source)
    }

    /// Where `container`'s rules come from now.
    fn source(&self, container: &Container, decider: &dyn Decider) -> Option<Source> {
        let workload = crate::profile::workload::identify(container).key();
        if self.config.policy.for_container(&workload).is_some() {
            return Some(Source::File);
        }
        decider.l7(container).map(|(mode, rules)| Source::Profile(mode, rules))
    }

    /// Make watched container `id`'s inspector follow `source`: stop the one running, start the new one.
    fn apply(&mut self, id: &str, source: Option<Source>) -> Vec<String> {
        let Some(w) = self.watched.get(id) else { return Vec::new() };
        if w.source == source {
            return Vec::new();
        }
        let (pid, container) = (w.pid, w.container.clone());
        let mut lines: Vec<String> = self.stop_one(id).into_iter().collect();
        if let Some(w) = self.watched.get_mut(id) {
            w.source = source.clone();
        }
        let Some(source) = source else { return lines };
        let name = container.name.as_deref().unwrap_or(&container.id).to_string();
        // first, whatever rules an earlier agent left (crash recovery); only in containers this agent
        // inspects, so that containers of another agent (a test's, a second one) are left alone
        match remove_rules(&Netns::Pid(pid)) {
            Ok(true) => {
                self.stats.leftovers.inc();
                lines.push(format!("L7: container {name}: removed queue rules an earlier agent left"));
            }
            Ok(false) => {}
            Err(e) => lines.push(format!("L7: container {name}: {e}")),
        }
        let workload = crate::profile::workload::identify(&container).key();
        let (policy, from) = match &source {
            Source::File => (
                self.config
                    .policy
                    .for_container(&workload)
                    .ok_or_else(|| "no longer in --l7-policy".to_string()),
                "--l7-policy",
            ),
            Source::Profile(mode, rules) => (Policy::for_profile(&workload, *mode, rules), "its profile"),
        };
        match policy.and_then(|p| self.start(pid, &container, p)) {
            Ok(running) => {
                self.running.insert(id.to_string(), running);
                self.stats.inspectors.set(self.running.len() as i64);
                lines.push(format!(
                    "L7: container {name}: inspector started for workload {workload} (rules from {from}; queue {}, fail {})",
                    self.config.queue,
                    if self.config.fail_closed { "closed" } else { "open" }
                ));
            }
            Err(e) => {
                self.stats.errors.inc();
                lines.push(format!("L7: container {name}: inspector not started: {e}"));
            }
        }
        lines
    }

    fn start(&self, pid: u32, container: &Container, policy: Policy) -> Result<Running, String> {
        let mut inspector = Inspector::new(policy, self.config.limits)?;
        let path = format!("/proc/{pid}/ns/net");
        let file = File::open(&path).map_err(|e| format!("{path}: {e}"))?;
        let ns = Netns::Path(PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd())));
        let (queue, fail_closed) = (self.config.queue, self.config.fail_closed);
        let bound = ns.run(|| Bound::bind(queue, !fail_closed)).map_err(|e| e.to_string())??;
        install_rules(&ns, queue, fail_closed)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (stop2, stats, sink) = (stop.clone(), self.stats.clone(), self.sink.clone());
        let (container, host) = (container.clone(), self.hostname.clone());
        let accepted = stats.packets.get_or_create(&VerdictLabels { verdict: "accept" }).clone();
        let dropped = stats.packets.get_or_create(&VerdictLabels { verdict: "drop" }).clone();
        let short: String = container.id.chars().take(12).collect();
        let thread = std::thread::Builder::new()
            .name(format!("l7-{short}"))
            .spawn(move || {
                let result = bound.serve(&mut inspector, &stop2, |d: &Decision| {
                    if d.drop {
                        dropped.inc()
                    } else {
                        accepted.inc()
                    };
                    for e in &d.events {
                        stats.events.get_or_create(&RuleLabels { rule: e.rule.clone() }).inc();
                        let _ = sink.try_send(container_alert(e, &container, &host));
                    }
                });
                if let Err(e) = result {
                    stats.errors.inc();
                    tracing::warn!("L7: container {}: inspector stopped: {e}", container.id);
                }
            })
            .map_err(|e| format!("starting its thread: {e}"))?;
        Ok(Running { ns: file, stop, thread })
    }

    /// Stop the inspectors of containers whose process is gone, and follow profiles whose L7 rules or
    /// mode changed (at most every 2 s). Returns log lines.
    pub fn refresh(&mut self, decider: &dyn Decider) -> Vec<String> {
        if self.last_refresh.elapsed() < REFRESH {
            return Vec::new();
        }
        self.last_refresh = Instant::now();
        let gone: Vec<String> = self
            .watched
            .iter()
            .filter(|(_, w)| !std::path::Path::new(&format!("/proc/{}/ns/net", w.pid)).exists())
            .map(|(id, _)| id.clone())
            .collect();
        let mut lines: Vec<String> = Vec::new();
        for id in gone {
            self.watched.remove(&id);
            lines.extend(self.stop_one(&id));
        }
        let changed: Vec<(String, Option<Source>)> = self
            .watched
            .iter()
            .map(|(id, w)| (id.clone(), self.source(&w.container, decider)))
            .filter(|(id, s)| self.watched.get(id).is_some_and(|w| &w.source != s))
            .collect();
        for (id, source) in changed {
            lines.extend(self.apply(&id, source));
        }
        lines
    }

    /// Stop every inspector and remove its rules (a clean stop).
    pub fn stop_all(&mut self) {
        let ids: Vec<String> = self.running.keys().cloned().collect();
        for id in ids {
            if let Some(line) = self.stop_one(&id) {
                tracing::info!("{line}");
            }
        }
    }

    fn stop_one(&mut self, id: &str) -> Option<String> {
        let r = self.running.remove(id)?;
        self.stats.inspectors.set(self.running.len() as i64);
        let ns = r.netns();
        r.stop.store(true, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(2);
        while !r.thread.is_finished() && Instant::now() < deadline {
            let _ = ns.run(|| {
                std::net::UdpSocket::bind("127.0.0.1:0")
                    .and_then(|s| s.send_to(b"", ("127.0.0.1", WAKE_PORT)))
            });
            std::thread::sleep(Duration::from_millis(20));
        }
        let finished = r.thread.is_finished();
        if finished {
            let _ = r.thread.join();
        }
        let removed = remove_rules(&ns);
        Some(match (finished, removed) {
            (true, Ok(_)) => format!("L7: container {id}: inspector stopped, queue rules removed"),
            (false, Ok(_)) => format!("L7: container {id}: queue rules removed; the inspector did not wake"),
            (_, Err(e)) => format!("L7: container {id}: removing its queue rules: {e}"),
        })
    }
}

impl Drop for L7 {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// `iptables`/`ip6tables` in `ns`: success, stderr.
fn xtables(ns: &Netns, tool: &'static str, args: Vec<String>) -> Result<(bool, String), String> {
    ns.run(move || Command::new(tool).arg("-w").args(&args).output())
        .map_err(|e| e.to_string())?
        .map(|o| (o.status.success(), String::from_utf8_lossy(&o.stderr).trim().to_string()))
        .map_err(|e| format!("{tool}: {e}"))
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// The rules jumping to (or queueing from) the built-in chains, as `CHAIN SPEC` per tool.
fn jumps(tool: &str, queue: u16) -> Vec<String> {
    let mut j = vec![format!("INPUT ! -i lo -j {CHAIN_IN}"), format!("OUTPUT ! -o lo -j {CHAIN_OUT}")];
    if tool == "iptables" {
        j.push(format!(
            "OUTPUT -o lo -d 127.0.0.1/32 -p udp --dport {WAKE_PORT} -m comment --comment palisade-l7-wake \
             -j NFQUEUE --queue-num {queue} --queue-bypass"
        ));
    }
    j
}

fn install_rules(ns: &Netns, queue: u16, fail_closed: bool) -> Result<(), String> {
    let bypass = if fail_closed { "" } else { " --queue-bypass" };
    for tool in ["iptables", "ip6tables"] {
        for chain in [CHAIN_IN, CHAIN_OUT] {
            let _ = xtables(ns, tool, words(&format!("-N {chain}")))?;
            for proto in ["tcp", "udp"] {
                let rule = format!("-A {chain} -p {proto} -j NFQUEUE --queue-num {queue}{bypass}");
                let (ok, err) = xtables(ns, tool, words(&rule))?;
                if !ok {
                    let _ = remove_rules(ns);
                    return Err(format!("{tool} {rule}: {err}"));
                }
            }
        }
        for jump in jumps(tool, queue) {
            let (ok, err) = xtables(ns, tool, words(&format!("-I {jump}")))?;
            if !ok {
                let _ = remove_rules(ns);
                return Err(format!("{tool} -I {jump}: {err}"));
            }
        }
    }
    Ok(())
}

/// Remove the queue rules from `ns`; whether there were any.
fn remove_rules(ns: &Netns) -> Result<bool, String> {
    let mut found = false;
    for tool in ["iptables", "ip6tables"] {
        let (exists, _) = xtables(ns, tool, words(&format!("-S {CHAIN_IN}")))?;
        let (exists_out, _) = xtables(ns, tool, words(&format!("-S {CHAIN_OUT}")))?;
        found |= exists || exists_out;
        // the wake rule's queue number is not known here: delete it as listed
        let listed = ns
            .run(move || Command::new(tool).args(["-w", "-S", "OUTPUT"]).output())
            .map_err(|e| e.to_string())?
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for line in listed.lines().filter(|l| l.contains("palisade-l7-wake")) {
            found = true;
            if let Some(spec) = line.strip_prefix("-A ") {
                let _ = xtables(ns, tool, words(&format!("-D {spec}")));
            }
        }
        for jump in [format!("INPUT ! -i lo -j {CHAIN_IN}"), format!("OUTPUT ! -o lo -j {CHAIN_OUT}")] {
            for _ in 0..16 {
                let (ok, _) = xtables(ns, tool, words(&format!("-D {jump}")))?;
                if !ok {
                    break;
                }
            }
        }
        for chain in [CHAIN_IN, CHAIN_OUT] {
            let _ = xtables(ns, tool, words(&format!("-F {chain}")))?;
            let _ = xtables(ns, tool, words(&format!("-X {chain}")))?;
        }
    }
    Ok(found)
}

/// An inspector event as a Falco-shaped alert (source `network`): the rule's fields plus `workload`,
/// `action`, `fd.cip`, `fd.sip`, `fd.l4proto` and `proto`.
pub fn event_alert(e: &Event, host: &str) -> Alert {
    let ns = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let mut fields: BTreeMap<String, Value> =
        e.fields.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let s = |v: &str| Value::String(v.to_string());
    let l4 = if e.transport == Transport::Tcp { "tcp" } else { "udp" };
    fields.insert("workload".into(), s(&e.workload));
    fields.insert("action".into(), s(e.action));
    fields.insert("fd.cip".into(), s(&e.client));
    fields.insert("fd.sip".into(), s(&e.server));
    fields.insert("fd.l4proto".into(), s(l4));
    fields.insert("proto".into(), e.protocol.map_or(Value::Null, |p| s(p.name())));
    Alert {
        time: iso_time(ns),
        rule: e.rule.clone(),
        priority: e.priority.to_string(),
        output: format!(
            "{}: {} {} ({l4} {} -> {}, workload {}, {})",
            evt_time(ns),
            e.priority,
            e.message,
            e.client,
            e.server,
            e.workload,
            e.action
        ),
        output_fields: fields,
        tags: vec!["network".into(), "l7".into()],
        hostname: host.to_string(),
        source: "network".into(),
    }
}

/// [`event_alert`] with the container's short id, name and workload key.
fn container_alert(e: &Event, c: &Container, host: &str) -> Alert {
    let mut a = event_alert(e, host);
    let short: String = c.id.chars().take(12).collect();
    a.output = format!("{} container={short}", a.output);
    a.output_fields.insert("container.id".into(), Value::String(short));
    a.output_fields.insert("container.name".into(), c.name.clone().map_or(Value::Null, Value::String));
    a.output_fields.insert("palisade.workload".into(), Value::String(e.workload.clone()));
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_network::protocol::AppProtocol;

    #[test]
    fn alerts_carry_the_event_and_the_container() {
        let e = Event {
            rule: "DLP card".into(),
            priority: "Critical",
            workload: "shop/Deployment/web".into(),
            action: "drop",
            message: "card number in client data".into(),
            transport: Transport::Tcp,
            client: "10.0.0.2:40000".into(),
            server: "10.0.0.1:8080".into(),
            protocol: Some(AppProtocol::Http1),
            fields: BTreeMap::from([("dlp.preview".into(), "************1111".into())]),
        };
        let c = Container { id: "0123456789abcdef".into(), name: Some("web".into()), ..Default::default() };
        let a = container_alert(&e, &c, "node-1");
        assert_eq!(
            (a.rule.as_str(), a.priority.as_str(), a.source.as_str()),
            ("DLP card", "Critical", "network")
        );
        assert_eq!(a.output_fields["container.id"], "0123456789ab");
        assert_eq!(a.output_fields["palisade.workload"], "shop/Deployment/web");
        assert_eq!(a.output_fields["dlp.preview"], "************1111");
        assert_eq!(a.output_fields["fd.l4proto"], "tcp");
        assert!(a.output.ends_with(", drop) container=0123456789ab"), "{}", a.output);
    }

    #[test]
    fn rules_jump_only_for_non_loopback_traffic_and_the_wake_port() {
        let v4 = jumps("iptables", 7);
        assert!(v4[0].contains("! -i lo") && v4[1].contains("! -o lo"));
        assert!(v4[2].contains(&format!("--dport {WAKE_PORT}")) && v4[2].contains("--queue-bypass"));
        assert_eq!(jumps("ip6tables", 7).len(), 2);
    }
}
