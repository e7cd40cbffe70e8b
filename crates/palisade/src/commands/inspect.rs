//! `palisade network inspect|detect|dlp|respond`: the L7 side of the network commands (crate
//! `palisade-network`: `inspect`, `protocol`, `dlp`, `response`).
//!
//! - `inspect`: the NFQUEUE inspector. L7 events become Falco-shaped alerts on the runtime outputs
//!   (stdout JSON, file, syslog, webhook, Slack-compatible webhook) and triggers of the response rules.
//! - `detect`: the protocol of captured flow bytes.
//! - `dlp`: the DLP/WAF sensors over files, with the scan rate.
//! - `respond`: replay alerts (Falco JSON lines: `runtime replay`/`agent` output, or `inspect`'s) through
//!   response rules and print what would be done.

use crate::commands::EXIT_OK;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use palisade_network::dlp::{Dlp, SensorId};
use palisade_network::inspect::policy::Policy;
use palisade_network::inspect::{Inspector, Limits, nfqueue};
use palisade_network::protocol::{self, FlowBytes, Transport};
use palisade_network::response::{self, Engine, RecordingExecutor, ResponseRules, Target, Trigger};
use palisade_runtime::output::file::FileOutput;
use palisade_runtime::output::stdout::Stdout;
use palisade_runtime::output::syslog::Syslog;
use palisade_runtime::output::webhook::{Webhook, WebhookConfig};
use palisade_runtime::output::{Alert, Metrics, Outputs};
use palisade_runtime::response::NodeExecutor;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Subcommand, Debug)]
pub enum NetworkL7Command {
    /// L7 inspector: judge the packets of an NFQUEUE queue against per-workload L7 rules (HTTP methods,
    /// hosts and paths, TLS SNI, DNS names, protocol per port) and DLP/WAF sensors; drop or accept each.
    /// Install the queue with `iptables ... -j NFQUEUE --queue-num N --queue-bypass` so that traffic
    /// passes when the inspector is not running. Needs CAP_NET_ADMIN in the queue's network namespace.
    /// Stops on SIGTERM/SIGINT.
    Inspect(Box<InspectArgs>),
    /// Detect the application protocol of captured flow bytes (client and/or server side) and print what
    /// was read (method, host, path, SNI, DNS names, ...) as JSON.
    Detect(DetectArgs),
    /// Run the DLP/WAF sensors over files; print findings (redacted) as JSON lines and the scan rate on
    /// stderr.
    Dlp(DlpArgs),
    /// Replay alerts (Falco JSON lines) through response rules and print the actions that would run.
    Respond(RespondArgs),
}

/// Where alerts go (the runtime agent's outputs).
#[derive(Args, Debug, Default)]
pub struct AlertOutputArgs {
    /// Also append alerts (JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Also send alerts to syslog (RFC 5424) over this Unix datagram socket.
    #[arg(long, value_name = "SOCKET", num_args = 0..=1, default_missing_value = palisade_runtime::output::syslog::DEFAULT_SOCKET)]
    pub syslog: Option<PathBuf>,
    /// Also POST alerts (Falco JSON) to this URL.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Also POST alerts to this Slack-compatible incoming-webhook URL (`text` + attachment).
    #[arg(long, value_name = "URL")]
    pub slack_webhook: Option<String>,
}

impl AlertOutputArgs {
    fn outputs(&self) -> Result<Outputs> {
        let metrics = Arc::new(Metrics::new());
        let mut outputs = Outputs::new(metrics.clone());
        outputs.add(Box::new(Stdout { json: true }));
        if let Some(p) = &self.output_file {
            outputs.add(Box::new(FileOutput::open(p, true)?));
        }
        if let Some(p) = &self.syslog {
            outputs.add(Box::new(Syslog::connect(p)?));
        }
        if let Some(url) = &self.webhook {
            outputs.add(Box::new(Webhook::start(WebhookConfig::new(url.clone()), metrics.clone())?));
        }
        if let Some(url) = &self.slack_webhook {
            let cfg = WebhookConfig { slack: true, ..WebhookConfig::new(url.clone()) };
            outputs.add(Box::new(Webhook::start(cfg, metrics.clone())?));
        }
        Ok(outputs)
    }
}

/// Where response rules come from.
#[derive(Args, Debug, Default)]
pub struct ResponseSourceArgs {
    /// Response rules file (YAML, `kind: ResponseRules`).
    #[arg(long = "response", value_name = "FILE")]
    pub response: Vec<PathBuf>,
    /// Also load the response rules a policy bundle carries (its files of kind ResponseRules).
    #[arg(long = "response-bundle", value_name = "BUNDLE")]
    pub bundle: Option<PathBuf>,
    #[command(flatten)]
    pub bundle_source: crate::commands::policy::BundleSourceArgs,
}

impl ResponseSourceArgs {
    pub(crate) fn load(&self) -> Result<Option<ResponseRules>> {
        let mut sets = Vec::new();
        for p in &self.response {
            sets.push(ResponseRules::load(p).map_err(anyhow::Error::msg)?);
        }
        if let Some(root) = &self.bundle {
            let bundle = palisade_policy::bundle::Bundle::read(&self.bundle_source.resolve(root)?)?;
            let mut files: Vec<_> =
                bundle.files.iter().filter(|f| response::rules::is_response_file(&f.text)).collect();
            files.sort_by(|a, b| a.rel.cmp(&b.rel));
            for f in files {
                sets.push(
                    ResponseRules::parse(&f.text)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", f.path.display()))?,
                );
            }
        }
        Ok(if sets.is_empty() { None } else { Some(ResponseRules::merge(sets)) })
    }
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// NFQUEUE queue number (as in `iptables ... -j NFQUEUE --queue-num N`).
    #[arg(long, value_name = "N")]
    pub queue: u16,
    /// L7 policy file (YAML: workloads with addresses, mode, ports, http, tls, dns, dlp).
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    #[command(flatten)]
    pub response: ResponseSourceArgs,
    /// Record response actions (printed as JSON lines on stderr) instead of carrying them out.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub outputs: AlertOutputArgs,
    /// Flows tracked at once (beyond it the least recently seen sixteenth is forgotten).
    #[arg(long, default_value_t = 65_536, value_name = "N")]
    pub max_flows: usize,
    /// Seconds after which an idle flow is forgotten.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub idle_timeout: u64,
    /// DLP bytes scanned per flow and direction.
    #[arg(long, default_value_t = 1024 * 1024, value_name = "BYTES")]
    pub dlp_bytes: usize,
    /// Inspection time per packet (microseconds) after which the packet passes and its flow is no longer
    /// inspected.
    #[arg(long, default_value_t = 5000, value_name = "MICROS")]
    pub budget_us: u64,
    /// Serve the inspector's counters as OpenMetrics on GET /metrics at this address (e.g.
    /// 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Where response rules' captures write their pcap files [default: <cache dir>/pcap].
    #[arg(long, value_name = "DIR")]
    pub capture_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DetectArgs {
    /// Bytes the client sent (raw file).
    #[arg(long, value_name = "FILE")]
    pub client: Option<PathBuf>,
    /// Bytes the server sent (raw file).
    #[arg(long, value_name = "FILE")]
    pub server: Option<PathBuf>,
    /// The flow is UDP (default TCP).
    #[arg(long)]
    pub udp: bool,
    /// The server's port.
    #[arg(long, default_value_t = 0, value_name = "PORT")]
    pub port: u16,
}

#[derive(Args, Debug)]
pub struct DlpArgs {
    /// Files to scan (each read whole).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Sensors to run (card, ssn, iban, email, secret, sqli, xss) [default: all].
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub sensors: Vec<String>,
    /// Scan each file this many times (for a stable scan rate).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub repeat: u32,
    /// Print only the summary, not the findings.
    #[arg(long)]
    pub summary: bool,
}

#[derive(Args, Debug)]
pub struct RespondArgs {
    #[command(flatten)]
    pub response: ResponseSourceArgs,
    /// Alerts, one Falco JSON object per line (`-` for standard input). The workload is read from the
    /// `workload` output field, else `k8s.ns.name`/`k8s.pod.name`, else `container.name`.
    #[arg(long, value_name = "FILE")]
    pub alerts: PathBuf,
}

pub fn run(command: NetworkL7Command) -> Result<ExitCode> {
    match command {
        NetworkL7Command::Inspect(args) => inspect(*args),
        NetworkL7Command::Detect(args) => detect(args),
        NetworkL7Command::Dlp(args) => dlp(args),
        NetworkL7Command::Respond(args) => respond(args),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// GET /metrics on `addr`, from a thread of its own.
fn serve_metrics(addr: std::net::SocketAddr, metrics: Arc<palisade_network::inspect::Metrics>) -> Result<()> {
    let listener = std::net::TcpListener::bind(addr).with_context(|| format!("--metrics-addr {addr}"))?;
    std::thread::Builder::new().name("l7-metrics".into()).spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut first = String::new();
            let _ = std::io::BufReader::new(&stream).read_line(&mut first);
            let (code, body) = if first.starts_with("GET /metrics") {
                ("200 OK", metrics.encode())
            } else {
                ("404 Not Found", "the inspector serves GET /metrics\n".to_string())
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {code}\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    })?;
    Ok(())
}

fn inspect(args: InspectArgs) -> Result<ExitCode> {
    // Before any thread starts (the webhook outputs start one), so that every thread has SIGTERM/SIGINT
    // blocked and the signal thread alone receives them.
    let flag = palisade_runtime::agent::signals::shutdown_flag()?;
    let policy = Policy::load(&args.rules).map_err(anyhow::Error::msg)?;
    if policy.workloads.is_empty() {
        bail!("{}: no workloads", args.rules.display());
    }
    let limits = Limits {
        max_flows: args.max_flows,
        idle: Duration::from_secs(args.idle_timeout),
        dlp_bytes: args.dlp_bytes,
        budget: Duration::from_micros(args.budget_us),
    };
    let mut inspector = Inspector::new(policy, limits).map_err(anyhow::Error::msg)?;
    let mut engine = args.response.load()?.map(Engine::new);
    let outputs = Arc::new(Mutex::new(args.outputs.outputs()?));
    // SIGTERM/SIGINT: flush the outputs and leave; the kernel then bypasses the queue.
    {
        let outputs = outputs.clone();
        std::thread::Builder::new().name("l7-shutdown".into()).spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
            }
            if let Ok(mut o) = outputs.lock() {
                o.close();
            }
            std::process::exit(0);
        })?;
    }
    if let Some(addr) = args.metrics_addr {
        serve_metrics(addr, inspector.metrics.clone())?;
    }
    let host = hostname();
    let mut recorder = RecordingExecutor::default();
    // actions on the workload's namespace: the process's when the trigger names one, else the
    // inspector's own (it runs in the pod's namespace)
    let mut executor = NodeExecutor::new(
        args.capture_dir.clone().unwrap_or_else(|| palisade_core::default_cache_dir().join("pcap")),
        true,
    );
    eprintln!(
        "palisade: inspecting NFQUEUE queue {} ({}; response rules: {})",
        args.queue,
        args.rules.display(),
        engine.as_ref().map_or(0, |e| e.rules().rules.len())
    );
    nfqueue::run(args.queue, &mut inspector, |events| {
        for e in events {
            if let Ok(mut o) = outputs.lock() {
                o.emit(&palisade_runtime::enforce::l7::event_alert(e, &host));
            }
            let Some(engine) = engine.as_mut() else { continue };
            let trigger = Trigger {
                rule: e.rule.clone(),
                priority: e.priority.to_string(),
                message: e.message.clone(),
                target: Target {
                    workload: e.workload.clone(),
                    address: Some(e.server.clone()),
                    ..Target::default()
                },
            };
            let done = if args.dry_run {
                engine.observe(&trigger, Instant::now(), &mut recorder)
            } else {
                engine.observe(&trigger, Instant::now(), &mut executor)
            };
            if let Ok(mut o) = outputs.lock() {
                for alert in executor.alerts.drain(..) {
                    if let palisade_runtime::output::Emitted::Failed(errs) = o.emit(&alert) {
                        for e in errs {
                            eprintln!("palisade: warning: {e}");
                        }
                    }
                }
            }
            for d in done {
                if args.dry_run || d.result != "ok" {
                    eprintln!("{}", serde_json::to_string(&d).unwrap_or_default());
                }
            }
        }
    })
    .map_err(anyhow::Error::msg)?;
    Ok(ExitCode::from(EXIT_OK))
}

fn read_opt(p: &Option<PathBuf>) -> Result<Vec<u8>> {
    match p {
        Some(p) => std::fs::read(p).with_context(|| format!("cannot read {}", p.display())),
        None => Ok(Vec::new()),
    }
}

fn detect(args: DetectArgs) -> Result<ExitCode> {
    if args.client.is_none() && args.server.is_none() {
        bail!("give --client FILE and/or --server FILE");
    }
    let (client, server) = (read_opt(&args.client)?, read_opt(&args.server)?);
    let transport = if args.udp { Transport::Udp } else { Transport::Tcp };
    let flow = FlowBytes { transport, port: args.port, client: &client, server: &server };
    let d = protocol::detect(&flow, true).unwrap_or_else(protocol::Detection::unknown);
    println!("{}", serde_json::to_string(&d)?);
    Ok(ExitCode::from(EXIT_OK))
}

fn dlp(args: DlpArgs) -> Result<ExitCode> {
    let sensors: Vec<SensorId> = if args.sensors.is_empty() {
        SensorId::ALL.to_vec()
    } else {
        args.sensors
            .iter()
            .map(|s| SensorId::parse(s).with_context(|| format!("--sensors: unknown sensor {s:?}")))
            .collect::<Result<_>>()?
    };
    let engine = Dlp::new(&sensors).map_err(anyhow::Error::msg)?;
    let (mut bytes, mut found, mut elapsed) = (0u64, 0u64, Duration::ZERO);
    let mut out = std::io::stdout().lock();
    for path in &args.files {
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("palisade: warning: {}: {e}", path.display());
                continue;
            }
        };
        for round in 0..args.repeat.max(1) {
            let t = Instant::now();
            let findings = engine.scan(&data);
            elapsed += t.elapsed();
            bytes += data.len() as u64;
            if round > 0 {
                continue;
            }
            found += findings.len() as u64;
            if !args.summary {
                for f in findings {
                    let line = serde_json::json!({"file": path.display().to_string(), "finding": f});
                    writeln!(out, "{line}")?;
                }
            }
        }
    }
    let secs = elapsed.as_secs_f64().max(1e-9);
    eprintln!(
        "palisade: dlp: {found} findings; scanned {:.1} MB in {:.3} s: {:.1} MB/s ({} sensors)",
        bytes as f64 / 1e6,
        secs,
        bytes as f64 / 1e6 / secs,
        sensors.len()
    );
    Ok(ExitCode::from(EXIT_OK))
}

/// The workload an alert is about.
fn alert_workload(a: &Alert) -> String {
    let field =
        |k: &str| a.output_fields.get(k).and_then(|v| v.as_str()).filter(|s| !s.is_empty() && *s != "<NA>");
    if let Some(w) = field("workload") {
        return w.to_string();
    }
    if let (Some(ns), Some(pod)) = (field("k8s.ns.name"), field("k8s.pod.name")) {
        return format!("{ns}/{pod}");
    }
    field("container.name").or(field("container.id")).unwrap_or("host").to_string()
}

fn respond(args: RespondArgs) -> Result<ExitCode> {
    let Some(rules) = args.response.load()? else {
        bail!("no response rules: give --response FILE or --response-bundle BUNDLE");
    };
    let mut engine = Engine::new(rules);
    let name = args.alerts.display().to_string();
    let reader: Box<dyn BufRead> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(&args.alerts).with_context(|| format!("cannot open alerts file {name}"))?,
        ))
    };
    let mut recorder = RecordingExecutor::default();
    let t0 = Instant::now();
    let mut first_ns: Option<u64> = None;
    let mut out = std::io::stdout().lock();
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {name}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let alert: Alert = match serde_json::from_str(&line) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("palisade: warning: {name}:{}: not an alert: {e}", i + 1);
                continue;
            }
        };
        // Replay on the alerts' own clock, so that counts and windows mean what they meant.
        let ns = alert_ns(&alert.time);
        let at = match (ns, first_ns) {
            (Some(ns), Some(first)) => t0 + Duration::from_nanos(ns.saturating_sub(first)),
            (Some(ns), None) => {
                first_ns = Some(ns);
                t0
            }
            (None, _) => t0,
        };
        let pid = alert
            .output_fields
            .get("proc.pid")
            .and_then(|v| v.as_str()?.parse().ok().or(v.as_u64().map(|n| n as u32)));
        let trigger = Trigger {
            rule: alert.rule.clone(),
            priority: alert.priority.clone(),
            message: alert.output.clone(),
            target: Target {
                workload: alert_workload(&alert),
                container_id: alert
                    .output_fields
                    .get("container.id")
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                pid,
                address: None,
            },
        };
        for d in engine.observe(&trigger, at, &mut recorder) {
            writeln!(out, "{}", serde_json::to_string(&d)?)?;
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// RFC 3339 → nanoseconds since the epoch.
fn alert_ns(time: &str) -> Option<u64> {
    let t: jiff::Timestamp = time.parse().ok()?;
    u64::try_from(t.as_nanosecond()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// The L7 commands flatten into another `network` command enum (the L3/L4 side's), side by side with
    /// its own subcommands.
    #[derive(Subcommand, Debug)]
    enum Combined {
        Firewall,
        #[command(flatten)]
        L7(NetworkL7Command),
    }

    #[derive(Parser, Debug)]
    struct Root {
        #[command(subcommand)]
        command: Combined,
    }

    #[test]
    fn l7_commands_flatten_into_a_network_command_enum() {
        let r = Root::try_parse_from(["network", "inspect", "--queue", "3", "--rules", "l7.yaml"]).unwrap();
        assert!(matches!(r.command, Combined::L7(NetworkL7Command::Inspect(a)) if a.queue == 3));
        let r = Root::try_parse_from(["network", "firewall"]).unwrap();
        assert!(matches!(r.command, Combined::Firewall));
        assert!(Root::try_parse_from(["network", "dlp"]).is_err(), "dlp needs files");
    }
}
