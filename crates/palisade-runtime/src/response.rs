//! Response rules run by the agent (`runtime agent --response FILE` / `--response-bundle BUNDLE`): every
//! alert the agent raises (Falco rules, profile violations, the firewall's refusals as the profile's
//! "Connection not in profile", enforcement, L7/DLP/WAF) is a [`Trigger`] of the response engine
//! ([`palisade_network::response::Engine`]: condition, sliding-window count, dedup); the actions are
//! carried out here, on the container the alert names:
//!
//! - `alert`: a `Response …` alert, returned to the caller for the agent's outputs;
//! - `quarantine`: `palisade_network::quarantine` in the container's network namespace (all its traffic
//!   dropped, its processes keep running) until `palisade network release --pid PID`;
//! - `capture`: a pcap capture in that namespace (`palisade_network::capture`), bounded by the rule's
//!   duration and size, rotated over [`MAX_FILES`] files, at most [`MAX_CAPTURES`] at once;
//! - `kill`: SIGKILL to the container's init process (the whole pid namespace ends; the orchestrator
//!   restarts it from its image).
//!
//! Which container: the alert's `container.id` (short id), resolved to a live process through the events
//! the agent saw ([`Responder::note`]: each container's latest process and its ancestors). Safety: a
//! namespace the agent itself is in (a host-network or host-pid container, or a host process) is never
//! quarantined, captured or killed; the action fails with a message instead. The work per alert is
//! bounded: each action of one response rule runs at most once per workload per dedup window, a quarantine
//! is one nft transaction, a capture a thread of its own, a kill one signal.

use crate::event::Event;
use crate::output::Alert;
use crate::rules::fields::{evt_time, iso_time};
use palisade_network::capture::{CaptureConfig, Running};
use palisade_network::netns::Netns;
use palisade_network::response::{
    CaptureSpec, Engine, Executed, Executor, ResponseAlert, ResponseRules, Target, Trigger,
};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Captures running at once; a trigger past it fails with a message.
pub const MAX_CAPTURES: usize = 8;
/// Files a capture rotates over (its size bound is spread over them).
pub const MAX_FILES: usize = 4;
/// Containers remembered for resolving alerts to processes; past it the map starts again.
const MAX_CONTAINERS: usize = 10_000;
/// Candidate processes kept per container (the latest event's process and its ancestors).
const MAX_CANDIDATES: usize = 8;

/// Where the agent's responses act.
#[derive(Debug, Clone)]
pub struct ResponseConfig {
    pub rules: ResponseRules,
    /// Where captures write their pcap files.
    pub capture_dir: PathBuf,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    rule: String,
    action: String,
    /// `ok`, `deduplicated` or `failed`.
    result: String,
}

/// `palisade_runtime_response_*` on the agent's `/metrics`.
#[derive(Default)]
pub struct ResponseStats {
    triggers: Counter,
    actions: Family<ActionLabels, Counter>,
    captures: Gauge,
}

impl ResponseStats {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("palisade_runtime_response");
        r.register("triggers", "Alerts evaluated against the response rules", self.triggers.clone());
        r.register(
            "actions",
            "Response actions by response rule, action and result (ok, deduplicated, failed)",
            self.actions.clone(),
        );
        r.register("captures", "Packet captures running", self.captures.clone());
    }
}

/// A container as the agent saw it last: its workload key and live-process candidates, nearest first.
#[derive(Debug, Clone, Default)]
struct Seen {
    workload: String,
    pids: Vec<u32>,
}

/// The agent's response side.
pub struct Responder {
    engine: Engine,
    exec: NodeExecutor,
    /// Short container id → what the agent saw of it.
    containers: HashMap<String, Seen>,
    pub stats: Arc<ResponseStats>,
}

impl Responder {
    pub fn new(config: ResponseConfig) -> Responder {
        Responder {
            engine: Engine::new(config.rules),
            exec: NodeExecutor::new(config.capture_dir, false),
            containers: HashMap::new(),
            stats: Arc::new(ResponseStats::default()),
        }
    }

    /// Number of response rules loaded.
    pub fn rule_count(&self) -> usize {
        self.engine.rules().rules.len()
    }

    /// Remember the container of `event` (its workload and processes) for resolving later alerts. Called
    /// for every event: no allocation for a container already known.
    pub fn note(&mut self, event: &Event) {
        let Some(c) = &event.container else { return };
        let short = c.id.get(..12).unwrap_or(&c.id);
        if !self.containers.contains_key(short) {
            if self.containers.len() >= MAX_CONTAINERS {
                self.containers.clear();
            }
            let workload = crate::profile::workload::identify(c).key();
            self.containers.insert(short.to_string(), Seen { workload, pids: Vec::new() });
        }
        let Some(seen) = self.containers.get_mut(short) else { return };
        seen.pids.clear();
        for pid in std::iter::once(event.process.pid)
            .chain(std::iter::once(event.process.ppid))
            .chain(event.ancestors.iter().map(|a| a.pid))
        {
            if pid > 1 && !seen.pids.contains(&pid) && seen.pids.len() < MAX_CANDIDATES {
                seen.pids.push(pid);
            }
        }
    }

    /// The trigger an alert is: its rule, priority and output, and the container it names.
    pub fn trigger(&self, alert: &Alert) -> Trigger {
        let field = |k: &str| {
            alert.output_fields.get(k).and_then(|v| match v {
                Value::String(s) if !s.is_empty() && s != "<NA>" => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let container_id = field("container.id").filter(|id| id != "host");
        let seen = container_id.as_ref().and_then(|id| self.containers.get(id));
        let workload = field("palisade.workload")
            .or_else(|| field("workload"))
            .or_else(|| seen.map(|s| s.workload.clone()).filter(|w| !w.is_empty()))
            .or_else(|| Some(format!("{}/{}", field("k8s.ns.name")?, field("k8s.pod.name")?)))
            .or_else(|| field("container.name"))
            .or_else(|| container_id.clone())
            .unwrap_or_else(|| "host".into());
        let pid = field("proc.pid").and_then(|p| p.parse::<u32>().ok());
        Trigger {
            rule: alert.rule.clone(),
            priority: alert.priority.clone(),
            message: alert.output.clone(),
            target: Target { workload, container_id, pid, address: None },
        }
    }

    /// Evaluate one alert of the agent; the response alerts to send to the outputs. Response alerts
    /// themselves (source `response`) are not evaluated again.
    pub fn observe(&mut self, alert: &Alert) -> Vec<Alert> {
        if alert.source == "response" {
            return Vec::new();
        }
        self.stats.triggers.inc();
        let mut trigger = self.trigger(alert);
        // the process the actions reach the container through: the alert's own when it still runs in
        // that container's namespace, else the newest the agent saw of the container
        let candidates: Vec<u32> = trigger
            .target
            .pid
            .into_iter()
            .chain(
                trigger
                    .target
                    .container_id
                    .as_ref()
                    .and_then(|id| self.containers.get(id))
                    .map(|s| s.pids.clone())
                    .unwrap_or_default(),
            )
            .collect();
        self.exec.target_pid = if trigger.target.container_id.is_some() {
            candidates.into_iter().find(|&p| self.exec.contained(p).is_ok())
        } else {
            None
        };
        if let Some(pid) = self.exec.target_pid {
            trigger.target.pid = Some(pid);
        }
        let done = self.engine.observe(&trigger, Instant::now(), &mut self.exec);
        for d in &done {
            self.count(d);
        }
        self.stats.captures.set(self.exec.running_captures() as i64);
        std::mem::take(&mut self.exec.alerts)
    }

    fn count(&self, d: &Executed) {
        let result = match d.result.as_str() {
            "ok" | "deduplicated" => d.result.clone(),
            _ => "failed".into(),
        };
        if result == "failed" {
            tracing::warn!("response {}: {} of {}: {}", d.response_rule, d.action, d.workload, d.result);
        } else if result == "ok" {
            tracing::info!("response {}: {} of {} done", d.response_rule, d.action, d.workload);
        }
        self.stats
            .actions
            .get_or_create(&ActionLabels {
                rule: d.response_rule.clone(),
                action: d.action.to_string(),
                result,
            })
            .inc();
    }

    /// Stop the captures still running (their files are complete); a line per capture for the log.
    pub fn stop(&mut self) -> Vec<String> {
        self.exec.stop_captures()
    }
}

/// Carries out actions on the node: alerts collected for the outputs, quarantine and capture in a
/// container's network namespace, kill of its init process.
pub struct NodeExecutor {
    host: String,
    capture_dir: PathBuf,
    captures: Vec<(String, Running)>,
    /// The process the current trigger's actions reach its container through.
    pub target_pid: Option<u32>,
    /// Act on the executor's own network namespace when the trigger names no process (the standalone
    /// inspector runs inside the pod's namespace); the agent never does.
    own_namespace: bool,
    /// Response alerts produced since the caller last took them.
    pub alerts: Vec<Alert>,
    own_netns: Option<u64>,
    own_pidns: Option<u64>,
}

fn ns_inode(path: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| m.ino())
}

impl NodeExecutor {
    /// `own_namespace`: with no process named, act on this process's own network namespace.
    pub fn new(capture_dir: PathBuf, own_namespace: bool) -> NodeExecutor {
        NodeExecutor {
            host: crate::rules::local_hostname(),
            capture_dir,
            captures: Vec::new(),
            target_pid: None,
            own_namespace,
            alerts: Vec::new(),
            own_netns: ns_inode("/proc/self/ns/net"),
            own_pidns: ns_inode("/proc/self/ns/pid"),
        }
    }

    /// Whether `pid` runs in network and pid namespaces other than the agent's (a container's own).
    fn contained(&self, pid: u32) -> Result<(), String> {
        let net = ns_inode(&format!("/proc/{pid}/ns/net")).ok_or_else(|| format!("process {pid} is gone"))?;
        if Some(net) == self.own_netns {
            return Err(format!("process {pid} shares the agent's network namespace (host network)"));
        }
        Ok(())
    }

    /// The network namespace to act on: the target process's (a container's own, unless this executor
    /// acts on its own namespace), else this process's own when allowed.
    fn netns(&self, t: &Target) -> Result<Netns, String> {
        match self.target_pid.or(t.pid) {
            Some(pid) if self.own_namespace => Ok(Netns::Pid(pid)),
            Some(pid) => {
                self.contained(pid).map_err(|e| format!("{}: {e}", t.workload))?;
                Ok(Netns::Pid(pid))
            }
            None if self.own_namespace => Ok(Netns::Path("/proc/self/ns/net".into())),
            None => Err(format!(
                "{}: no running process of the container is known (alert without container.id, or the \
                 container ended)",
                t.workload
            )),
        }
    }

    fn running_captures(&mut self) -> usize {
        self.captures.retain(|(_, c)| !c.finished());
        self.captures.len()
    }

    fn stop_captures(&mut self) -> Vec<String> {
        self.captures
            .drain(..)
            .map(|(name, c)| match c.stop() {
                Ok(s) => format!("response capture of {name}: {} packets, {} bytes", s.packets, s.bytes),
                Err(e) => format!("response capture of {name}: {e}"),
            })
            .collect()
    }

    /// The init process of `pid`'s pid namespace: up the parent chain while the parent shares it.
    fn container_init(&self, pid: u32) -> Result<u32, String> {
        let pidns = |p: u32| ns_inode(&format!("/proc/{p}/ns/pid"));
        let ns = pidns(pid).ok_or_else(|| format!("process {pid} is gone"))?;
        if Some(ns) == self.own_pidns {
            return Err(format!("process {pid} is in the agent's pid namespace (not a container's own)"));
        }
        let mut cur = pid;
        for _ in 0..64 {
            let Some(parent) = ppid(cur) else { break };
            if parent <= 1 || pidns(parent) != Some(ns) {
                break;
            }
            cur = parent;
        }
        Ok(cur)
    }
}

/// The parent of `pid` (`/proc/PID/stat`, after the command name's closing parenthesis).
fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

/// A workload name as a capture file prefix: letters, digits, `-`, `_` and `.` only.
pub fn capture_prefix(workload: &str) -> String {
    let p: String = workload
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .take(64)
        .collect();
    if p.trim_matches('.').is_empty() { "capture".into() } else { p }
}

impl Executor for NodeExecutor {
    fn alert(&mut self, a: &ResponseAlert) -> Result<(), String> {
        self.alerts.push(response_alert(a, &self.host));
        Ok(())
    }

    fn capture(&mut self, t: &Target, spec: &CaptureSpec) -> Result<(), String> {
        if self.running_captures() >= MAX_CAPTURES {
            return Err(format!("capture of {}: {MAX_CAPTURES} captures already running", t.workload));
        }
        let netns = self.netns(t)?;
        let config = CaptureConfig {
            prefix: capture_prefix(&t.workload),
            duration: spec.duration,
            max_bytes: spec.max_bytes,
            file_bytes: (spec.max_bytes / MAX_FILES as u64).max(64 * 1024),
            max_files: MAX_FILES,
            ..CaptureConfig::new(netns, self.capture_dir.clone())
        };
        let running = Running::start(config).map_err(|e| format!("capture of {}: {e}", t.workload))?;
        tracing::info!(
            "response: capturing {} into {} ({} s, {} bytes at most)",
            t.workload,
            self.capture_dir.display(),
            spec.duration.as_secs(),
            spec.max_bytes
        );
        self.captures.push((t.workload.clone(), running));
        Ok(())
    }

    fn quarantine(&mut self, t: &Target) -> Result<(), String> {
        let netns = self.netns(t)?;
        palisade_network::quarantine::quarantine(&netns)
            .map_err(|e| format!("quarantine of {}: {e}", t.workload))?;
        let release = match &netns {
            Netns::Pid(pid) => format!("palisade network release --pid {pid}"),
            Netns::Path(p) => format!("palisade network release --netns {}", p.display()),
        };
        tracing::info!(
            "response: quarantined {} (container {}): release with `{release}`",
            t.workload,
            t.container_id.as_deref().unwrap_or("?")
        );
        Ok(())
    }

    fn kill(&mut self, t: &Target) -> Result<(), String> {
        let pid = self
            .target_pid
            .or(t.pid)
            .ok_or_else(|| format!("kill of {}: no process of the container is known", t.workload))?;
        let init = self.container_init(pid).map_err(|e| format!("kill of {}: {e}", t.workload))?;
        crate::enforce::kill::kill_now(init)
            .map_err(|e| format!("kill of {} (pid {init}): {e}", t.workload))?;
        tracing::info!("response: killed {} (its init process, pid {init})", t.workload);
        Ok(())
    }
}

/// A response rule's alert, in Falco's shape (source `response`): the response and trigger rules, the
/// workload, the count and suppressed repeats, the actions, and the container when known.
pub fn response_alert(a: &ResponseAlert, host: &str) -> Alert {
    let ns = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let s = |v: &str| Value::String(v.to_string());
    let mut fields = BTreeMap::from([
        ("response.rule".to_string(), s(&a.response_rule)),
        ("trigger.rule".to_string(), s(&a.trigger_rule)),
        ("workload".to_string(), s(&a.workload)),
        ("count".to_string(), Value::from(a.count)),
        ("suppressed".to_string(), Value::from(a.suppressed)),
        ("actions".to_string(), s(&a.actions.join(","))),
    ]);
    if let Some(addr) = &a.target.address {
        fields.insert("address".into(), s(addr));
    }
    if let Some(id) = &a.target.container_id {
        fields.insert("container.id".into(), s(id));
    }
    if let Some(pid) = a.target.pid {
        fields.insert("proc.pid".into(), Value::from(pid));
    }
    Alert {
        time: iso_time(ns),
        rule: format!("Response {}", a.response_rule),
        priority: a.priority.clone(),
        output: format!(
            "{}: {} response {} on {} after {}x {} (actions {}; {} suppressed): {}",
            evt_time(ns),
            a.priority,
            a.response_rule,
            a.workload,
            a.count,
            a.trigger_rule,
            a.actions.join(","),
            a.suppressed,
            a.message
        ),
        output_fields: fields,
        tags: vec!["network".into(), "response".into()],
        hostname: host.to_string(),
        source: "response".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Container, EventKind, Process, ProcessRef};

    fn rules(text: &str) -> ResponseRules {
        ResponseRules::parse(text).unwrap()
    }

    fn alert(rule: &str, fields: &[(&str, Value)]) -> Alert {
        Alert {
            time: "2026-12-06T00:00:00Z".into(),
            rule: rule.into(),
            priority: "Warning".into(),
            output: "o".into(),
            output_fields: fields.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
            tags: Vec::new(),
            hostname: "h".into(),
            source: "syscall".into(),
        }
    }

    fn responder(text: &str) -> Responder {
        Responder::new(ResponseConfig {
            rules: rules(text),
            capture_dir: std::env::temp_dir().join("palisade-response-unit"),
        })
    }

    #[test]
    fn the_third_alert_in_the_window_alerts_once_and_later_ones_are_deduplicated() {
        let mut r = responder(
            "kind: ResponseRules\ndedup: 10m\nrules:\n  - name: denied\n    when: {rule: \"Connection not in profile\", count: 3, within: 1m}\n    actions: [alert]\n",
        );
        let a = alert(
            "Connection not in profile",
            &[("container.id", "0123456789ab".into()), ("palisade.workload", "shop/Deployment/web".into())],
        );
        assert!(r.observe(&a).is_empty());
        assert!(r.observe(&a).is_empty());
        let sent = r.observe(&a);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].rule, "Response denied");
        assert_eq!(sent[0].source, "response");
        assert_eq!(sent[0].output_fields["workload"], "shop/Deployment/web");
        assert_eq!(sent[0].output_fields["count"], 3);
        assert_eq!(sent[0].output_fields["container.id"], "0123456789ab");
        for _ in 0..3 {
            assert!(r.observe(&a).is_empty(), "deduplicated");
        }
        assert!(r.observe(&sent[0]).is_empty(), "response alerts are not triggers");
        let mut reg = Registry::default();
        r.stats.register(&mut reg);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &reg).unwrap();
        assert!(text.contains("palisade_runtime_response_triggers_total 6"), "{text}");
        assert!(
            text.contains(
                "palisade_runtime_response_actions_total{rule=\"denied\",action=\"alert\",result=\"ok\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("result=\"deduplicated\"} 1"), "{text}");
    }

    #[test]
    fn the_workload_comes_from_the_alert_else_from_the_container_the_agent_saw() {
        let mut r = responder("kind: ResponseRules\nrules:\n  - name: x\n    actions: [alert]\n");
        let container =
            Container { id: "0123456789abcdef".into(), name: Some("web".into()), ..Default::default() };
        let event = Event {
            time_ns: 0,
            kind: EventKind::Execve,
            result: None,
            process: Process { pid: 4242, ppid: 4200, ..Default::default() },
            ancestors: vec![ProcessRef { pid: 4100, ..Default::default() }],
            container: Some(container.clone()),
        };
        r.note(&event);
        let t = r.trigger(&alert("Terminal shell in container", &[("container.id", "0123456789ab".into())]));
        assert_eq!(t.target.workload, crate::profile::workload::identify(&container).key());
        assert_eq!(t.target.container_id.as_deref(), Some("0123456789ab"));
        assert_eq!(r.containers["0123456789ab"].pids, [4242, 4200, 4100]);
        let t = r.trigger(&alert(
            "x",
            &[("k8s.ns.name", "shop".into()), ("k8s.pod.name", "web-1".into()), ("proc.pid", 77.into())],
        ));
        assert_eq!((t.target.workload.as_str(), t.target.pid), ("shop/web-1", Some(77)));
        assert_eq!(r.trigger(&alert("x", &[])).target.workload, "host");
    }

    #[test]
    fn actions_on_the_agents_own_namespaces_are_refused() {
        let mut r = responder(
            "kind: ResponseRules\nrules:\n  - name: cut\n    actions: [quarantine, capture, kill]\n",
        );
        // a host process (this test's own): same network and pid namespaces as the agent
        let me = std::process::id();
        let a = alert("x", &[("container.id", "0123456789ab".into()), ("proc.pid", me.into())]);
        assert!(r.observe(&a).is_empty());
        assert_eq!(r.exec.target_pid, None, "the agent's own process is no container's");
        let mut x = NodeExecutor::new(std::env::temp_dir(), false);
        let t = Target { workload: "w".into(), pid: Some(me), ..Target::default() };
        assert!(x.quarantine(&t).unwrap_err().contains("network namespace"));
        assert!(x.kill(&t).unwrap_err().contains("pid namespace"));
        assert!(x.capture(&t, &CaptureSpec::default()).unwrap_err().contains("network namespace"));
        let none = Target { workload: "w".into(), ..Target::default() };
        assert!(x.quarantine(&none).unwrap_err().contains("no running process"));
    }

    #[test]
    fn capture_prefixes_are_plain_names_and_ppid_reads_stat() {
        assert_eq!(capture_prefix("shop/Deployment/web"), "shop_Deployment_web");
        assert_eq!(capture_prefix(".."), "capture");
        assert_eq!(ppid(std::process::id()), Some(nix::unistd::getppid().as_raw() as u32));
    }
}
