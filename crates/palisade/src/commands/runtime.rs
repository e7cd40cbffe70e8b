//! `palisade runtime …`: the node agent's side (crate `palisade-runtime`).
//!
//! Rules part (this file's first half): `runtime rules check` loads Falco rules files and reports
//! errors, warnings and the rules; `runtime replay` evaluates recorded events (JSON lines of
//! `palisade_runtime::Event`) and prints alerts as Falco JSON. The agent's commands (`runtime agent`,
//! `runtime record`) live in `runtime_agent.rs`.

use crate::commands::EXIT_OK;
use crate::commands::runtime_agent::{AgentArgs, RecordArgs, run_agent, run_record};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade_runtime::Event;
use palisade_runtime::output::file::FileOutput;
use palisade_runtime::output::stdout::Stdout;
use palisade_runtime::output::syslog::Syslog;
use palisade_runtime::output::webhook::{Webhook, WebhookConfig};
use palisade_runtime::output::{Emitted, Metrics, Outputs};
use palisade_runtime::rules::{LoadErrors, MatchMode, PALISADE_RULES, Priority, Ruleset};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub enum RuntimeCommand {
    /// Falco-compatible detection rules.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Evaluate recorded events (JSON lines) against rules and print the alerts as Falco JSON.
    Replay(ReplayArgs),
    /// The node agent: watch every process, file and connection of the node (eBPF, else the proc
    /// connector), attribute them to containers and pods, evaluate them against rules; `/metrics` and
    /// `/healthz`. Needs root (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN for tracefs; see docs/runtime.md).
    /// Stops on SIGTERM or SIGINT.
    Agent(Box<AgentArgs>),
    /// Record events as JSON lines (the replay format) until SIGTERM/SIGINT or --duration.
    Record(RecordArgs),
}

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// Load rules files (in order, as Falco stacks them) and report errors, warnings and the rules.
    Check(CheckArgs),
}

/// Where the rules come from (shared by `rules check` and `replay`).
#[derive(Args, Debug)]
pub struct RulesSource {
    /// Also load Palisade's own runtime rules (service-account token reads, API server by address,
    /// unexpected outbound connections), after the given files.
    #[arg(long)]
    pub palisade_rules: bool,
    /// Also load the Falco rules files a policy bundle carries (its files that are Falco rules files, in
    /// path order), last, so they can override the lists and rules loaded before. `oci://REF@sha256:…`
    /// is pulled (see `policy push`).
    #[arg(long, value_name = "BUNDLE")]
    pub bundle: Option<PathBuf>,
    #[command(flatten)]
    pub bundle_source: crate::commands::policy::BundleSourceArgs,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Falco rules files (or directories of them, read in name order), loaded in this order: later files
    /// append to and override earlier ones.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub source: RulesSource,
    /// Fail (exit 1) on warnings too, as Falco's rules CI does.
    #[arg(long)]
    pub strict: bool,
    /// `text` (messages, then one line per rule) or `json` (Falco's describe output, plus errors and
    /// warnings).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RuleMatching {
    All,
    First,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Falco rules files, in load order.
    #[arg(long = "rules", value_name = "FILE", num_args = 1.., required_unless_present_any = ["palisade_rules", "bundle"])]
    pub rules: Vec<PathBuf>,
    #[command(flatten)]
    pub source: RulesSource,
    /// Recorded events, one JSON object per line (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub events: PathBuf,
    /// Exit with this code when at least one alert was raised.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub exit_code: u8,
    /// Print Falco's text lines instead of JSON on standard output.
    #[arg(long)]
    pub text: bool,
    /// Also append alerts (JSON lines) to this file.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Also send alerts to syslog (RFC 5424) over this Unix datagram socket.
    #[arg(long, value_name = "SOCKET", num_args = 0..=1, default_missing_value = palisade_runtime::output::syslog::DEFAULT_SOCKET)]
    pub syslog: Option<PathBuf>,
    /// Also POST alerts (JSON) to this URL; failed deliveries are retried.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Only alerts at least this severe (emergency, alert, critical, error, warning, notice, info, debug).
    #[arg(long, default_value = "debug", value_name = "PRIORITY")]
    pub min_priority: String,
    /// At most this many alerts per second per rule (token bucket; 0: no limit).
    #[arg(long, default_value_t = 0.0, value_name = "N")]
    pub rate_limit: f64,
    /// Burst size of the per-rule rate limit.
    #[arg(long, default_value_t = 10.0, value_name = "N")]
    pub rate_burst: f64,
    /// `all`: every matching rule alerts; `first`: only the first in load order (Falco's default).
    #[arg(long, value_enum, default_value = "all")]
    pub rule_matching: RuleMatching,
    /// Write the Prometheus counters (alerts by rule, events) to this file at the end.
    #[arg(long, value_name = "FILE")]
    pub metrics_file: Option<PathBuf>,
}

pub fn run(command: RuntimeCommand) -> Result<ExitCode> {
    match command {
        RuntimeCommand::Rules { command: RulesCommand::Check(args) } => rules_check(args),
        RuntimeCommand::Replay(args) => replay(args),
        RuntimeCommand::Agent(args) => run_agent(*args),
        RuntimeCommand::Record(args) => run_record(args),
    }
}

/// Read and load the rules files (plus Palisade's rules when asked).
fn load(files: &[PathBuf], source: &RulesSource) -> Result<Result<Ruleset, LoadErrors>> {
    let mut texts = Vec::with_capacity(files.len() + 1);
    let mut dir_errors = Vec::new();
    let files = palisade_runtime::rules::expand_dirs(files, &mut dir_errors);
    if let Some(e) = dir_errors.first() {
        bail!("{e}");
    }
    for f in &files {
        let t =
            std::fs::read_to_string(f).with_context(|| format!("cannot read rules file {}", f.display()))?;
        texts.push((f.display().to_string(), t));
    }
    if source.palisade_rules {
        texts.push(("<palisade_rules.yaml>".to_string(), PALISADE_RULES.to_string()));
    }
    if let Some(root) = &source.bundle {
        let bundle = palisade_policy::bundle::Bundle::read(&source.bundle_source.resolve(root)?)?;
        let mut files: Vec<_> =
            bundle.files.iter().filter(|f| palisade_runtime::rules::is_rules_file(&f.text)).collect();
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        for f in files {
            texts.push((f.path.display().to_string(), f.text.clone()));
        }
    }
    if texts.is_empty() {
        bail!("no rules: give rules files, --palisade-rules or a --bundle carrying rules files");
    }
    let refs: Vec<(&str, &str)> = texts.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    Ok(Ruleset::from_sources(&refs))
}

fn rules_check(args: CheckArgs) -> Result<ExitCode> {
    let loaded = load(&args.files, &args.source)?;
    let (errors, warnings) = match &loaded {
        Ok(rs) => (Vec::new(), rs.warnings.clone()),
        Err(e) => (e.errors.clone(), e.warnings.clone()),
    };
    if args.format == "json" {
        let mut doc = loaded.as_ref().map(|rs| rs.describe(None)).unwrap_or_else(|_| serde_json::json!({}));
        doc["errors"] = errors.iter().map(ToString::to_string).collect();
        doc["warnings"] = warnings.iter().map(ToString::to_string).collect();
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for e in &errors {
            println!("error: {e}");
        }
        for w in &warnings {
            println!("warning: {w}");
        }
        if let Ok(rs) = &loaded {
            for r in rs.rules() {
                let state = if r.enabled { "enabled" } else { "disabled" };
                let types = match &r.evt_types {
                    palisade_runtime::rules::compile::EvtTypes::Only(s) => {
                        s.iter().cloned().collect::<Vec<_>>().join(",")
                    }
                    palisade_runtime::rules::compile::EvtTypes::Except(_) => "<all>".into(),
                };
                println!("{:<13} {:<8} {}  [{}]", r.priority.as_str(), state, r.name, types);
            }
            println!(
                "{} rules ({} enabled), {} macros, {} lists, {} warnings",
                rs.rules().len(),
                rs.enabled_count(),
                rs.macros.len(),
                rs.lists.len(),
                warnings.len()
            );
        } else {
            println!("{} errors, {} warnings: the rules did not load", errors.len(), warnings.len());
        }
    }
    let failed = !errors.is_empty() || (args.strict && !warnings.is_empty());
    Ok(if failed { ExitCode::from(1) } else { ExitCode::from(EXIT_OK) })
}

fn replay(args: ReplayArgs) -> Result<ExitCode> {
    let mut rs = match load(&args.rules, &args.source)? {
        Ok(rs) => rs,
        Err(e) => bail!("{e}"),
    };
    for w in &rs.warnings {
        eprintln!("palisade: warning: {w}");
    }
    rs.match_mode = match args.rule_matching {
        RuleMatching::All => MatchMode::All,
        RuleMatching::First => MatchMode::First,
    };
    let Some(min) = Priority::parse(&args.min_priority) else {
        bail!("--min-priority: unknown priority '{}'", args.min_priority);
    };
    let metrics = Arc::new(Metrics::new());
    let mut outputs = Outputs::new(metrics.clone());
    outputs.set_min_priority(min);
    if args.rate_limit > 0.0 {
        outputs.set_rate_limit(args.rate_limit, args.rate_burst);
    }
    outputs.add(Box::new(Stdout { json: !args.text }));
    if let Some(p) = &args.output_file {
        outputs.add(Box::new(FileOutput::open(p, true)?));
    }
    if let Some(p) = &args.syslog {
        outputs.add(Box::new(Syslog::connect(p)?));
    }
    if let Some(url) = &args.webhook {
        outputs.add(Box::new(Webhook::start(WebhookConfig::new(url.clone()), metrics.clone())?));
    }

    let name = args.events.display().to_string();
    let reader: Box<dyn BufRead> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f =
            std::fs::File::open(&args.events).with_context(|| format!("cannot open events file {name}"))?;
        Box::new(std::io::BufReader::new(f))
    };
    let (mut events, mut bad, mut alerts) = (0u64, 0u64, 0u64);
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {name}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let ev: Event = match serde_json::from_str(&line) {
            Ok(e) => e,
            Err(e) => {
                bad += 1;
                eprintln!("palisade: warning: {name}:{}: not an event: {e}", i + 1);
                continue;
            }
        };
        events += 1;
        metrics.events.inc();
        for a in rs.evaluate(&ev) {
            match outputs.emit(&a) {
                Emitted::Sent => {}
                Emitted::Failed(errs) => {
                    for e in errs {
                        eprintln!("palisade: warning: {e}");
                    }
                }
                Emitted::BelowPriority | Emitted::RateLimited => continue,
            }
            alerts += 1;
            *by_rule.entry(a.rule).or_default() += 1;
        }
    }
    outputs.close();
    if let Some(p) = &args.metrics_file {
        std::fs::write(p, metrics.encode()).with_context(|| format!("cannot write {}", p.display()))?;
    }
    eprintln!("palisade: {events} events, {alerts} alerts, {bad} unreadable lines");
    for (rule, n) in &by_rule {
        eprintln!("  {n:>6}  {rule}");
    }
    Ok(if alerts > 0 && args.exit_code != 0 {
        ExitCode::from(args.exit_code)
    } else {
        ExitCode::from(EXIT_OK)
    })
}
