//! Enforcement: carry out the [`Decider`]'s answers before the act, fail safe.
//!
//! - [`probe`]: which facilities work on this kernel (tried at start), and the mechanism picked per need;
//! - [`exec`]: execs blocked before they run (fanotify `FAN_OPEN_EXEC_PERM`), or killed after;
//! - [`drift`]: whether an executable about to run is from the image's layers (zero drift before exec);
//! - [`open`]: opens denied before they happen (fanotify `FAN_OPEN_PERM`) and how a write is told;
//! - [`kill`]: kill on violation (`bpf_send_signal` at exec in the kernel, else `kill(2)`);
//! - [`network`]: each container's network policy installed as its firewall (nftables), kept current;
//! - [`l7`]: the L7 inspector on each container the L7 policy names (NFQUEUE in its namespace);
//! - [`fanotify`]: the permission groups, the marks on containers' mounts, the readers;
//! - [`responder`]: every permission event answered within the deadline, whatever the deciders do;
//! - [`deciders`]: the threads asking the decider, behind a bounded queue;
//! - [`exempt`]: who is never acted on (the agent, pid 1, the node's critical processes, host processes);
//! - [`rules`]: a decider of its own from deny rules (path globs scoped by container);
//! - [`alert`], [`stats`]: alerts in the rule engine's shape, `/metrics` counters.
//!
//! Fail safe: permission events are answered within [`EnforceConfig::deadline`] (allow, an alert and a
//! metric when no decision came in time), and allowed at once when the deciders' queue is full; the
//! fanotify groups are the agent's file descriptors, so when the agent exits or dies the kernel allows
//! every pending event and no mark outlives it; the in-kernel kill program is detached the same way.

pub mod alert;
pub mod deciders;
pub mod drift;
pub mod exec;
pub mod exempt;
pub mod fanotify;
pub mod kill;
pub mod l7;
pub mod network;
pub mod open;
pub mod probe;
pub mod responder;
pub mod rules;
pub mod stats;

use crate::attribution::Attributor;
use crate::event::{Container, Event, EventKind};
use crate::output::Alert;
use crate::verdict::Decider;
use alert::AlertSink;
use fanotify::Group;
use kill::Killer;
use responder::{Job, Kind, Responder};
use stats::{AvailableLabels, ChosenLabels, KillLabels, Stats};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How execs are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecEnforcer {
    /// fanotify when the probe proved it, else kill after the exec.
    #[default]
    Auto,
    /// fanotify, or fail to start.
    Fanotify,
    /// No pre-exec block: denied execs are killed (user space at once, the kernel for later execs).
    Kill,
}

#[derive(Debug, Clone)]
pub struct EnforceConfig {
    /// Every permission event is answered within this (default 100 ms).
    pub deadline: Duration,
    /// Decider threads.
    pub workers: usize,
    /// Permission events waiting for a decider; past it they are allowed at once.
    pub queue: usize,
    pub exec: ExecEnforcer,
    /// Also mark containers' mounts for open permission events.
    pub open: bool,
    /// Install each container's network policy (the decider's) as its firewall.
    pub network: bool,
    /// Runtime state directories for attribution (as the sensor's).
    pub runtime_roots: Vec<PathBuf>,
    /// Run L7 inspectors on the containers this policy names.
    pub l7: Option<l7::L7Config>,
}

impl Default for EnforceConfig {
    fn default() -> Self {
        EnforceConfig {
            deadline: Duration::from_millis(100),
            workers: 2,
            queue: 1024,
            exec: ExecEnforcer::Auto,
            open: false,
            network: false,
            runtime_roots: Vec::new(),
            l7: None,
        }
    }
}

/// The running enforcement side of the agent.
pub struct Enforcer {
    pub facilities: probe::Facilities,
    /// Mechanism per need: `exec-block`, `open-deny`, `kill`.
    pub chosen: Vec<(&'static str, &'static str)>,
    pub stats: Arc<Stats>,
    decider: Arc<dyn Decider>,
    groups: Vec<Arc<Group>>,
    responder: Arc<Responder>,
    alerts: Arc<AlertSink>,
    alerts_rx: Receiver<Alert>,
    killer: Killer,
    attributor: Attributor,
    /// Container id → when its mounts were marked (ns since the epoch).
    marked: HashMap<String, u64>,
    /// Containers watched since the last [`Enforcer::take_watched`]: id and the pid marked through.
    watched: Vec<(String, u32)>,
    /// Firewalls installed from the decider's network policies (with [`EnforceConfig::network`]).
    network: Option<network::Network>,
    /// The L7 inspectors (with [`EnforceConfig::l7`]).
    l7: Option<l7::L7>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    last_kills: u64,
    own_exe: Option<(u64, u64)>,
    exempt: exempt::Exempt,
}

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

impl Enforcer {
    /// Probe, pick the mechanisms, start the readers, deciders and the deadline thread, and mark the
    /// containers already running.
    pub fn start(config: &EnforceConfig, decider: Arc<dyn Decider>) -> Result<Enforcer, String> {
        let fanotify = probe::fanotify();
        let (bpf_lsm, kprobe, bpf_override_return) = probe::bpf_facilities();
        let (killer, bpf_send_signal) = Killer::start();
        let facilities =
            probe::Facilities { fanotify, bpf_send_signal, bpf_lsm, kprobe, bpf_override_return };
        let stats = Arc::new(Stats::default());
        for (name, r) in facilities.all() {
            stats
                .available
                .get_or_create(&AvailableLabels { facility: name.into() })
                .set(i64::from(r.is_ok()));
        }
        let fan_ok = facilities.fanotify.is_ok();
        let exec_fanotify = match config.exec {
            ExecEnforcer::Auto => fan_ok,
            ExecEnforcer::Fanotify if fan_ok => true,
            ExecEnforcer::Fanotify => {
                return Err(format!(
                    "--exec-enforcer fanotify: fanotify permission events do not work here ({})",
                    facilities.fanotify.as_ref().err().map(String::as_str).unwrap_or_default()
                ));
            }
            ExecEnforcer::Kill => false,
        };
        let mut groups = Vec::new();
        if exec_fanotify {
            groups.push(Arc::new(Group::new(Kind::Exec).map_err(|e| format!("fanotify exec group: {e}"))?));
        }
        if config.open && fan_ok {
            groups.push(Arc::new(Group::new(Kind::Open).map_err(|e| format!("fanotify open group: {e}"))?));
        }
        let chosen = vec![
            ("exec-block", if exec_fanotify { "fanotify" } else { "kill-after-exec" }),
            ("open-deny", if config.open && fan_ok { "fanotify" } else { "none" }),
            ("kill", killer.mechanism()),
        ];
        for (need, mechanism) in &chosen {
            stats
                .chosen
                .get_or_create(&ChosenLabels { need: (*need).into(), mechanism: (*mechanism).into() })
                .set(1);
        }

        let responder = Arc::new(Responder::new(config.deadline));
        let (alert_tx, alerts_rx) = sync_channel(4096);
        // without --l7-policy, L7 runs for profiles' L7 rules when iptables is there
        let l7 = match &config.l7 {
            Some(c) => match l7::L7::new(c.clone(), alert_tx.clone()) {
                Ok(l7) => Some(l7),
                Err(e) if c.policy.workloads.is_empty() => {
                    tracing::warn!("profiles' L7 rules are not enforced: {e}");
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        let alerts = Arc::new(AlertSink::new(alert_tx));
        let stop = Arc::new(AtomicBool::new(false));
        let (job_tx, job_rx) = sync_channel::<Job>(config.queue.max(1));
        let job_rx = Arc::new(Mutex::new(job_rx));
        let mut threads = Vec::new();
        let spawn = |name: String, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.clone())
                .spawn(f)
                .map_err(|e| format!("starting {name}: {e}"))
        };
        let shared = Arc::new(deciders::Shared {
            responder: responder.clone(),
            decider: decider.clone(),
            stats: stats.clone(),
            alerts: alerts.clone(),
            runtime_roots: config.runtime_roots.clone(),
        });
        for i in 0..config.workers.max(1) {
            let (rx, shared, stop) = (job_rx.clone(), shared.clone(), stop.clone());
            threads.push(spawn(
                format!("enforce-decide-{i}"),
                Box::new(move || deciders::run(rx, shared, stop)),
            )?);
        }
        {
            let (responder, stats, alerts, stop) =
                (responder.clone(), stats.clone(), alerts.clone(), stop.clone());
            threads.push(spawn(
                "enforce-deadline".into(),
                Box::new(move || responder::run_deadline(&responder, &stats, &alerts, &stop)),
            )?);
        }
        for g in &groups {
            let (g2, responder, tx, stop, stats) =
                (g.clone(), responder.clone(), job_tx.clone(), stop.clone(), stats.clone());
            threads.push(spawn(
                format!("enforce-{}-reader", g.kind.name()),
                Box::new(move || fanotify::read_loop(g2, responder, tx, stop, stats)),
            )?);
        }
        drop(job_tx);
        let mut enforcer = Enforcer {
            facilities,
            chosen,
            stats,
            decider,
            groups,
            responder,
            alerts,
            alerts_rx,
            killer,
            attributor: Attributor::new(&config.runtime_roots),
            marked: HashMap::new(),
            watched: Vec::new(),
            network: config.network.then(network::Network::default),
            l7,
            stop,
            threads,
            last_kills: 0,
            own_exe: fanotify::own_executable(),
            exempt: exempt::Exempt::new(),
        };
        enforcer.mark_running();
        Ok(enforcer)
    }

    /// Start-up notes: what the probe found and what was picked.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.facilities.notes();
        notes.push(format!(
            "enforcement: {}",
            self.chosen.iter().map(|(n, m)| format!("{n} {m}")).collect::<Vec<_>>().join(", ")
        ));
        notes
    }

    /// Register the counters on the agent's registry (`palisade_runtime_enforce_*`).
    pub fn register(&self, registry: &mut prometheus_client::registry::Registry) {
        self.stats.register(registry);
        if let Some(l7) = &self.l7 {
            l7.stats.register(registry);
        }
    }

    /// Feed one sensor event: mark a container seen for the first time, judge an exec that escaped the
    /// pre-exec block.
    pub fn observe(&mut self, event: &Event) {
        let Some(container) = event.container.as_ref() else { return };
        if !self.marked.contains_key(&container.id) {
            // the event's process may be gone by now (a short-lived one, an agent behind): its parent and
            // ancestors in the same container have the same mounts
            let candidates: Vec<u32> = std::iter::once(event.process.pid)
                .chain(std::iter::once(event.process.ppid))
                .chain(event.ancestors.iter().map(|a| a.pid))
                .collect();
            let live = candidates.into_iter().find(|&pid| {
                pid > 1 && self.attributor.attribute(pid, 0, false).is_some_and(|c| c.id == container.id)
            });
            if let Some(pid) = live {
                self.mark(pid, container);
            }
        }
        if let Some(net) = self.network.as_mut() {
            for line in net.refresh(self.decider.as_ref()) {
                tracing::info!("{line}");
            }
            for r in net.ingress_refusals() {
                let (rule, priority, action) = match r.mode {
                    crate::verdict::Mode::Protect => (alert::FIREWALL_REFUSED, "Warning", "refused"),
                    _ => (alert::FIREWALL_OUTSIDE, "Notice", "monitored"),
                };
                let v = &r.violation;
                let what = format!("ingress {} from {} to port {}", v.protocol, v.peer, v.port);
                self.alerts.send(alert::Facts {
                    rule,
                    priority,
                    because: "no rule of the container's network policy allows it",
                    action,
                    pid: r.pid,
                    path: &what,
                    container: Some(&r.container),
                });
            }
        }
        if let Some(l7) = self.l7.as_mut() {
            for line in l7.refresh(self.decider.as_ref()) {
                tracing::info!("{line}");
            }
        }
        // an exec the exec group held was judged there; any other (before the marks, from a mount not
        // marked such as a memfd, or with no exec group) is judged now
        if matches!(event.kind, EventKind::Execve)
            && !self.responder.take_exec(event.process.pid)
            && !self.exempt_after(event.process.pid)
        {
            exec::judge_after(event, self.decider.as_ref(), &mut self.killer, &self.stats, &self.alerts);
        }
        // the kernel counts its kills; read it only once something is listed
        if self.killer.listed() == 0 {
            return;
        }
        let (by_exe, _) = self.killer.in_kernel_kills();
        if by_exe > self.last_kills {
            self.stats
                .kills
                .get_or_create(&KillLabels { how: "bpf_send_signal".into() })
                .inc_by(by_exe - self.last_kills);
            self.last_kills = by_exe;
        }
    }

    /// Alerts raised since the last call.
    pub fn take_alerts(&self) -> Vec<Alert> {
        self.alerts_rx.try_iter().collect()
    }

    /// Mark every mount of the container of `pid`.
    fn mark(&mut self, pid: u32, container: &Container) {
        let at = now_ns();
        if self.marked.len() > 100_000 {
            self.marked.clear();
        }
        self.marked.insert(container.id.clone(), at);
        if let Some(net) = self.network.as_mut()
            && let Some(line) = net.watch(pid, container, self.decider.as_ref())
        {
            tracing::info!("{line}");
        }
        if let Some(l7) = self.l7.as_mut() {
            for line in l7.watch(pid, container, self.decider.as_ref()) {
                tracing::info!("{line}");
            }
        }
        if self.groups.is_empty() {
            self.watched.push((container.id.clone(), pid));
            return;
        }
        let mounts = match fanotify::container_mounts(pid) {
            Ok(m) => m,
            Err(e) => {
                // the process is gone: try again on the container's next event
                self.marked.remove(&container.id);
                tracing::debug!("container {}: {e}", container.id);
                return;
            }
        };
        let mut ok = 0;
        for m in &mounts {
            for g in self.groups.iter().filter(|g| g.kind == Kind::Exec || !m.exec_only) {
                match g.mark_mount(&m.path) {
                    Ok(()) => ok += 1,
                    Err(e) => {
                        self.stats.mark_errors.inc();
                        tracing::debug!("marking {} ({}): {e}", m.path.display(), g.kind.name());
                    }
                }
            }
        }
        if ok > 0 {
            self.stats.marked.inc();
            self.watched.push((container.id.clone(), pid));
            tracing::info!(
                "enforcement: container {} marked ({} mounts)",
                container.name.as_deref().unwrap_or(&container.id),
                mounts.len()
            );
        }
    }

    /// Mark the containers already running (one process of each).
    fn mark_running(&mut self) {
        let Ok(rd) = std::fs::read_dir("/proc") else { return };
        let pids: Vec<u32> = rd.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect();
        for pid in pids {
            if let Some(c) = self.attributor.attribute(pid, 0, false)
                && !self.marked.contains_key(&c.id)
            {
                self.mark(pid, &c);
            }
        }
    }

    /// Whether a process that exec'd is one enforcement never acts on: the agent's executable, pid 1, a
    /// critical process (see [`exempt`]).
    fn exempt_after(&self, pid: u32) -> bool {
        let exe =
            nix::sys::stat::stat(format!("/proc/{pid}/exe").as_str()).ok().map(|s| (s.st_dev, s.st_ino));
        (exe.is_some() && exe == self.own_exe) || self.exempt.why(pid).is_some()
    }

    /// Containers watched (marked) since the last call, with the pid they were reached through.
    pub fn take_watched(&mut self) -> Vec<(String, u32)> {
        std::mem::take(&mut self.watched)
    }

    /// Whether container `id`'s mounts are marked.
    pub fn is_marked(&self, id: &str) -> bool {
        self.marked.contains_key(id)
    }

    /// Stop: allow everything held, close the groups (the kernel drops the marks), detach the kill program.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.responder.release_all();
        self.groups.clear();
        if let Some(net) = self.network.as_mut() {
            net.release_all();
        }
        if let Some(l7) = self.l7.as_mut() {
            l7.stop_all();
        }
    }
}

impl Drop for Enforcer {
    fn drop(&mut self) {
        self.stop();
    }
}
