//! `palisade runtime agent` and `palisade runtime record`: the node agent and the event recorder (crate
//! `palisade-runtime`). The `runtime` command family is declared in `runtime.rs`.

use crate::commands::EXIT_OK;
use crate::commands::common::parse_duration;
use crate::commands::runtime_enforce::{EnforceArgs, Enforcement};
use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use palisade_runtime::agent::metrics::RuleLabels;
use palisade_runtime::agent::{self, AgentConfig, Summary};
use palisade_runtime::output::Alert;
use palisade_runtime::output::file::FileOutput;
use palisade_runtime::output::stdout::Stdout;
use palisade_runtime::output::webhook::{Webhook, WebhookConfig};
use palisade_runtime::output::{Emitted, Metrics as OutputMetrics, Outputs};
use palisade_runtime::response::Responder;
use palisade_runtime::rules::interest::{DnsNeed, OpenClass};
use palisade_runtime::rules::{PALISADE_RULES, Ruleset};
use palisade_runtime::sensor::interest::{DnsScope, Interest};
use palisade_runtime::sensor::record::RecordKind;
use palisade_runtime::sensor::{SensorConfig, SourceChoice};
use palisade_runtime::{Event, agent::signals};
use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SourceArg {
    /// eBPF, else the netlink proc connector.
    Auto,
    Ebpf,
    ProcConnector,
}

/// Options of the sensor, shared by `agent` and `record`.
#[derive(Args, Debug)]
pub struct SensorArgs {
    /// Event source.
    #[arg(long, value_enum, default_value = "auto")]
    pub source: SourceArg,
    /// Container runtime state directory searched before the standard ones (`/run/runc`,
    /// `/run/containerd`, …): a runc `--root` or a containerd `--state` directory. Repeatable.
    #[arg(long = "runtime-root", value_name = "DIR")]
    pub runtime_roots: Vec<PathBuf>,
    /// Only events of processes in containers.
    #[arg(long)]
    pub containers_only: bool,
    /// Records held between the kernel reader and the consumer; past it records are dropped and counted.
    #[arg(long, value_name = "N", default_value_t = 65536)]
    pub queue_capacity: usize,
    /// Stop after this long (`30s`, `5m`) instead of waiting for a signal.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
}

#[derive(Args, Debug)]
pub struct AgentArgs {
    #[command(flatten)]
    pub sensor: SensorArgs,
    /// Also write every event as a JSON line to FILE (the `record` format).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Serve `/metrics` (events, drops by source, queue depth, alerts by rule) and `/healthz` on this
    /// address.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Falco rules files, loaded in this order (later files append to and override earlier ones); every
    /// event is evaluated against them. The agent does not start when they have errors.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Also load Palisade's own runtime rules (service-account token reads, API server by address,
    /// unexpected outbound connections), after the given files.
    #[arg(long)]
    pub palisade_rules: bool,
    /// Where alerts go, as JSON lines in Falco's shape: `stdout`, `file:PATH` (appended), `webhook:URL`
    /// (POST, retried), `slack:URL` (a Slack-compatible incoming webhook) or `syslog[:SOCKET]` (RFC 5424
    /// over a Unix datagram socket, default /dev/log); repeatable.
    #[arg(long = "output", value_name = "TARGET", default_value = "stdout", value_parser = parse_output)]
    pub outputs: Vec<AlertTarget>,
    #[command(flatten)]
    pub enforce: EnforceArgs,
    #[command(flatten)]
    pub profiles: crate::commands::profile::AgentProfileArgs,
    #[command(flatten)]
    pub response: crate::commands::runtime_response::AgentResponseArgs,
}

/// An alert destination.
#[derive(Debug, Clone)]
pub enum AlertTarget {
    Stdout,
    File(PathBuf),
    Webhook(String),
    Slack(String),
    Syslog(PathBuf),
}

fn parse_output(s: &str) -> Result<AlertTarget, String> {
    if s == "stdout" {
        return Ok(AlertTarget::Stdout);
    }
    if let Some(p) = s.strip_prefix("file:").filter(|p| !p.is_empty()) {
        return Ok(AlertTarget::File(PathBuf::from(p)));
    }
    let url = |prefix: &str| {
        s.strip_prefix(prefix)
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .map(String::from)
    };
    if let Some(u) = url("webhook:") {
        return Ok(AlertTarget::Webhook(u));
    }
    if let Some(u) = url("slack:") {
        return Ok(AlertTarget::Slack(u));
    }
    if s == "syslog" {
        return Ok(AlertTarget::Syslog(PathBuf::from(palisade_runtime::output::syslog::DEFAULT_SOCKET)));
    }
    if let Some(p) = s.strip_prefix("syslog:").filter(|p| !p.is_empty()) {
        return Ok(AlertTarget::Syslog(PathBuf::from(p)));
    }
    Err(format!(
        "'{s}': expected `stdout`, `file:PATH`, `webhook:URL`, `slack:URL` (http:// or https://) or `syslog[:SOCKET]`"
    ))
}

/// The loaded rules and the live profiles.
struct Detection {
    rules: Option<Ruleset>,
    profiles: Option<palisade_runtime::profile::live::LiveProfiles>,
    alerts: u64,
}

/// The alert outputs (the rule engine's own sinks: stdout, file, webhook with its bounded queue and
/// retries), shared by detection and enforcement.
fn alert_outputs(targets: &[AlertTarget]) -> Result<Outputs> {
    let metrics = Arc::new(OutputMetrics::new());
    let mut outputs = Outputs::new(metrics.clone());
    for t in targets {
        match t {
            AlertTarget::Stdout => outputs.add(Box::new(Stdout { json: true })),
            AlertTarget::File(p) => outputs.add(Box::new(FileOutput::open(p, true)?)),
            AlertTarget::Webhook(url) => {
                outputs.add(Box::new(Webhook::start(WebhookConfig::new(url.clone()), metrics.clone())?))
            }
            AlertTarget::Slack(url) => {
                let cfg = WebhookConfig { slack: true, ..WebhookConfig::new(url.clone()) };
                outputs.add(Box::new(Webhook::start(cfg, metrics.clone())?))
            }
            AlertTarget::Syslog(path) => outputs.add(Box::new(
                palisade_runtime::output::syslog::Syslog::connect(path)
                    .with_context(|| format!("--output syslog:{}", path.display()))?,
            )),
        }
    }
    Ok(outputs)
}

/// Send one alert to every output, counted by rule in `/metrics` when `cx` is given; then through the
/// response rules, whose alerts go out the same way.
fn emit(
    outputs: &mut Outputs,
    alert: &Alert,
    cx: Option<&agent::Context>,
    responder: Option<&mut Responder>,
) {
    if let Some(m) = cx.and_then(|cx| cx.metrics.lock().ok()) {
        m.alerts
            .get_or_create(&RuleLabels { rule: alert.rule.clone(), priority: alert.priority.clone() })
            .inc();
    }
    if let Emitted::Failed(errors) = outputs.emit(alert) {
        for e in errors {
            eprintln!("palisade: warning: {e}");
        }
    }
    if let Some(r) = responder {
        for response in r.observe(alert) {
            emit(outputs, &response, cx, None);
        }
    }
}

impl Detection {
    fn load(args: &AgentArgs) -> Result<Option<Detection>> {
        let profiles = args.profiles.start()?;
        if args.rules.is_empty() && !args.palisade_rules && profiles.is_none() {
            return Ok(None);
        }
        let mut texts = Vec::new();
        for f in &args.rules {
            let t = std::fs::read_to_string(f)
                .with_context(|| format!("cannot read rules file {}", f.display()))?;
            texts.push((f.display().to_string(), t));
        }
        if args.palisade_rules {
            texts.push(("<palisade_rules.yaml>".to_string(), PALISADE_RULES.to_string()));
        }
        let refs: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let rules = if refs.is_empty() {
            None
        } else {
            let rules = Ruleset::from_sources(&refs).map_err(|e| anyhow::anyhow!("{e}"))?;
            for w in &rules.warnings {
                eprintln!("palisade: warning: {w}");
            }
            Some(rules)
        };
        Ok(Some(Detection { rules, profiles, alerts: 0 }))
    }

    /// Evaluate one event against the rules and the profiles; each alert counted (by rule, in
    /// `/metrics`) and sent to every output.
    fn evaluate(
        &mut self,
        event: &Event,
        cx: &agent::Context,
        outputs: &mut Outputs,
        mut responder: Option<&mut Responder>,
    ) -> Result<(), String> {
        let mut alerts = self.rules.as_ref().map(|r| r.evaluate(event)).unwrap_or_default();
        if let Some(p) = self.profiles.as_mut() {
            alerts.extend(p.on_event(event));
            for note in p.notes.drain(..) {
                eprintln!("palisade: profiles: {note}");
            }
        }
        for alert in alerts {
            self.alerts += 1;
            emit(outputs, &alert, Some(cx), responder.as_deref_mut());
        }
        Ok(())
    }
}

#[derive(Args, Debug)]
pub struct RecordArgs {
    #[command(flatten)]
    pub sensor: SensorArgs,
    /// Where to write the events (`-`: standard output).
    #[arg(long, short, value_name = "FILE", default_value = "-")]
    pub output: PathBuf,
}

/// What the kernel side must send for this agent: everything when it records (`--record`) or has no
/// rules and no profiles; otherwise the process life cycle (the enricher's pid table), the kinds of events
/// a loaded rule can match, connects and accepts for `/graph` when it is served, the opens (read-only and
/// writing apart) whose path a rule can match, and every event of containers when profiles are loaded
/// (learning and profile checks need all their opens). DNS answers: where a rule reads DNS names (the
/// node, or containers only when every such rule is limited to containers), in containers for profiles
/// and `/graph`, nowhere else; never outside containers with `--containers-only` (unless recording).
fn kernel_interest(args: &AgentArgs, detection: Option<&Detection>) -> Interest {
    let Some(d) = detection else { return Interest::everything() };
    if args.record.is_some() {
        return Interest::everything();
    }
    let mut kinds: std::collections::BTreeSet<RecordKind> =
        [RecordKind::Exec, RecordKind::Fork, RecordKind::Exit, RecordKind::Dns].into();
    if args.metrics_addr.is_some() {
        kinds.extend([RecordKind::Connect, RecordKind::Accept]);
    }
    if let Some(rules) = &d.rules {
        kinds.extend(RecordKind::ALL.into_iter().filter(|k| rules.can_match_type(k.event_type())));
    }
    let paths = |class| match &d.rules {
        Some(rules) => rules.open_paths(class),
        None => Some(Default::default()),
    };
    let mut need = d.rules.as_ref().map_or(DnsNeed::None, Ruleset::dns_names_needed);
    if d.profiles.is_some() || args.metrics_addr.is_some() {
        need = need.max(DnsNeed::Containers);
    }
    if args.sensor.containers_only {
        need = need.min(DnsNeed::Containers);
    }
    Interest {
        kinds: Some(kinds),
        read_paths: paths(OpenClass::ReadOnly),
        write_paths: paths(OpenClass::Writing),
        containers_full: d.profiles.is_some(),
        dns: match need {
            DnsNeed::None => DnsScope::Off,
            DnsNeed::Containers => DnsScope::Containers,
            DnsNeed::Node => DnsScope::Node,
        },
    }
}

fn agent_config(s: &SensorArgs, metrics_addr: Option<SocketAddr>, interest: Interest) -> AgentConfig {
    AgentConfig {
        sensor: SensorConfig {
            source: match s.source {
                SourceArg::Auto => SourceChoice::Auto,
                SourceArg::Ebpf => SourceChoice::Ebpf,
                SourceArg::ProcConnector => SourceChoice::ProcConnector,
            },
            queue_capacity: s.queue_capacity,
            runtime_roots: s.runtime_roots.clone(),
            interest,
        },
        metrics_addr,
        containers_only: s.containers_only,
        duration: s.duration,
    }
}

/// JSON lines to a file or stdout, flushed at least every 200 ms so a reader sees events promptly.
struct Recorder {
    out: Box<dyn Write>,
    path: String,
    last_flush: Instant,
}

impl Recorder {
    fn create(path: &Path) -> Result<Recorder> {
        let out: Box<dyn Write> = if path == Path::new("-") {
            Box::new(BufWriter::new(std::io::stdout()))
        } else {
            Box::new(BufWriter::new(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            ))
        };
        Ok(Recorder { out, path: path.display().to_string(), last_flush: Instant::now() })
    }

    fn write(&mut self, event: &Event) -> Result<(), String> {
        let line = serde_json::to_string(event).map_err(|e| format!("{}: {e}", self.path))?;
        writeln!(self.out, "{line}").map_err(|e| format!("writing {}: {e}", self.path))?;
        if self.last_flush.elapsed() > Duration::from_millis(200) {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        self.last_flush = Instant::now();
        self.out.flush().map_err(|e| format!("writing {}: {e}", self.path))
    }
}

fn started(s: &agent::Started) {
    if let Some(addr) = s.metrics_addr {
        eprintln!("palisade: metrics on http://{addr}/metrics");
    }
    eprintln!("palisade: runtime sensor started: source {}", s.sensor.source.name());
    // loading the programs parsed the kernel's BTF: its freed pages go back before the long run
    crate::memory::release_freed();
}

fn finished(summary: &Summary) {
    eprintln!(
        "palisade: runtime sensor stopped after {:.1}s: {} events, dropped {} in the kernel, {} in the queue, {} filtered in the kernel (no rule reads them){}",
        summary.elapsed.as_secs_f64(),
        summary.events,
        summary.kernel_drops,
        summary.queue_drops,
        summary.kernel_filtered,
        if summary.source_drops > 0 {
            format!(", {} netlink overruns", summary.source_drops)
        } else {
            String::new()
        }
    );
}

pub fn run_agent(args: AgentArgs) -> Result<ExitCode> {
    let shutdown = signals::shutdown_flag().context("blocking SIGTERM/SIGINT")?;
    let mut detection = Detection::load(&args)?;
    let interest = kernel_interest(&args, detection.as_ref());
    let config = agent_config(&args.sensor, args.metrics_addr, interest.clone());
    // the rules that switch the kernel's path filters off, named at start
    let widening = |paths: &Option<_>, class| -> Vec<String> {
        match (paths, detection.as_ref().and_then(|d| d.rules.as_ref())) {
            (None, Some(rules)) => {
                rules.rules_opening_any_path(class).into_iter().map(String::from).collect()
            }
            _ => Vec::new(),
        }
    };
    let widening_read = widening(&interest.read_paths, OpenClass::ReadOnly);
    let widening_write = widening(&interest.write_paths, OpenClass::Writing);
    let mut decider = args.enforce.decider()?;
    let mut profile_decider = detection.as_ref().and_then(|d| d.profiles.as_ref()).map(|p| {
        let d: Arc<dyn palisade_runtime::verdict::Decider> = p.decider();
        d
    });
    let mut responder = args.response.responder()?;
    let response_stats = responder.as_ref().map(|r| r.stats.clone());
    let mut outputs = match detection.is_some() || decider.is_some() || responder.is_some() {
        true => Some(alert_outputs(&args.outputs)?),
        false => None,
    };
    let enforcement: RefCell<Option<Enforcement>> = RefCell::new(None);
    let mut enforcement_alerts = 0u64;
    let recorder: RefCell<Option<Recorder>> = RefCell::new(None);
    let record_path = args.record.clone();
    let summary = agent::run(
        &config,
        shutdown,
        &mut |s| {
            started(s);
            if let (Some(stats), Ok(mut m)) = (response_stats.as_ref(), s.metrics.lock()) {
                stats.register(m.registry_mut());
            }
            if s.sensor.source == palisade_runtime::sensor::Source::Ebpf {
                eprintln!("palisade: kernel sends: {}", interest.describe());
                if !widening_read.is_empty() {
                    eprintln!(
                        "palisade: every read-only open is sent because of: {}",
                        widening_read.join("; ")
                    );
                }
                if !widening_write.is_empty() {
                    eprintln!(
                        "palisade: every writing open is sent because of: {}",
                        widening_write.join("; ")
                    );
                }
            }
            if let Some(d) = decider.take() {
                // with --profiles, the profiles decide too (and judge opens: files are in profiles)
                let open = d.has_open_rules() || profile_decider.is_some();
                let d: Arc<dyn palisade_runtime::verdict::Decider> = match profile_decider.take() {
                    Some(p) => Arc::new(palisade_runtime::profile::decider::FirstOf(vec![Arc::new(d), p])),
                    None => Arc::new(d),
                };
                let e = Enforcement::start(&args.enforce, d, open, &args.sensor.runtime_roots, s.metrics)
                    .map_err(|e| format!("{e:#}"))?;
                *enforcement.borrow_mut() = Some(e);
            }
            if let Some(p) = &record_path {
                *recorder.borrow_mut() = Some(Recorder::create(p).map_err(|e| format!("{e:#}"))?);
            }
            Ok(())
        },
        &mut |event, cx| {
            if let Some(r) = recorder.borrow_mut().as_mut() {
                r.write(event)?;
            }
            if let Some(r) = responder.as_mut() {
                r.note(event);
            }
            if let (Some(e), Some(out)) = (enforcement.borrow_mut().as_mut(), outputs.as_mut()) {
                for alert in e.observe(event) {
                    enforcement_alerts += 1;
                    emit(out, &alert, Some(cx), responder.as_mut());
                }
            }
            match (detection.as_mut(), outputs.as_mut()) {
                (Some(d), Some(out)) => d.evaluate(event, cx, out, responder.as_mut()),
                _ => Ok(()),
            }
        },
    )?;
    if let (Some(e), Some(out)) = (enforcement.borrow_mut().as_mut(), outputs.as_mut()) {
        for alert in e.stop() {
            enforcement_alerts += 1;
            emit(out, &alert, None, responder.as_mut());
        }
    }
    if let Some(r) = responder.as_mut() {
        for line in r.stop() {
            eprintln!("palisade: {line}");
        }
    }
    if let Some(r) = recorder.borrow_mut().as_mut() {
        r.flush().map_err(anyhow::Error::msg)?;
    }
    finished(&summary);
    if let Some(out) = outputs.as_mut() {
        out.close();
    }
    if let Some(d) = detection.as_mut() {
        if let Some(p) = d.profiles.as_mut() {
            p.finish();
            for note in p.notes.drain(..) {
                eprintln!("palisade: profiles: {note}");
            }
        }
        eprintln!("palisade: {} alerts", d.alerts);
    }
    if enforcement.borrow().is_some() {
        eprintln!("palisade: {enforcement_alerts} enforcement alerts");
    }
    Ok(ExitCode::from(EXIT_OK))
}

pub fn run_record(args: RecordArgs) -> Result<ExitCode> {
    let shutdown = signals::shutdown_flag().context("blocking SIGTERM/SIGINT")?;
    let config = agent_config(&args.sensor, None, Interest::everything());
    let recorder: RefCell<Option<Recorder>> = RefCell::new(None);
    let summary = agent::run(
        &config,
        shutdown,
        &mut |s| {
            started(s);
            *recorder.borrow_mut() = Some(Recorder::create(&args.output).map_err(|e| format!("{e:#}"))?);
            Ok(())
        },
        &mut |event, _cx| recorder.borrow_mut().as_mut().map_or(Ok(()), |r| r.write(event)),
    )?;
    if let Some(r) = recorder.borrow_mut().as_mut() {
        r.flush().map_err(anyhow::Error::msg)?;
    }
    finished(&summary);
    Ok(ExitCode::from(EXIT_OK))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_targets_parse_and_bad_ones_say_what_is_expected() {
        assert!(matches!(parse_output("stdout"), Ok(AlertTarget::Stdout)));
        assert!(
            matches!(parse_output("slack:https://hooks.example/x"), Ok(AlertTarget::Slack(u)) if u == "https://hooks.example/x")
        );
        assert!(matches!(parse_output("syslog"), Ok(AlertTarget::Syslog(p)) if p == Path::new("/dev/log")));
        assert!(
            matches!(parse_output("syslog:/run/log.sock"), Ok(AlertTarget::Syslog(p)) if p == Path::new("/run/log.sock"))
        );
        let e = parse_output("slack:ftp://x").unwrap_err();
        assert!(e.contains("slack:URL") && e.contains("syslog[:SOCKET]"), "{e}");
    }
}
