//! `palisade network …`: the node's network side (crate `palisade-network`): the container firewall
//! (nftables in the container's network namespace), quarantine, packet capture, and the connection graph
//! from recorded sensor events.

use crate::commands::EXIT_OK;
use crate::commands::common::{parse_duration, parse_size};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade_network::capture::{self, CaptureConfig};
use palisade_network::firewall::status::{FlowCounter, Status};
use palisade_network::firewall::{self, FirewallMode, PolicyFile};
use palisade_network::graph::Graph;
use palisade_network::netns::Netns;
use palisade_network::quarantine;
use palisade_network::rules::NetRule;
use palisade_runtime::agent::signals;
use palisade_runtime::{Event, netflow};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// The container firewall: L3/L4 allow rules enforced with nftables in a container's network
    /// namespace, in monitor or protect mode. Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for setns).
    Firewall {
        #[command(subcommand)]
        command: FirewallCommand,
    },
    /// Drop all traffic of one container (but its loopback) while its processes keep running.
    Quarantine(NsArgs),
    /// Lift a quarantine: the container's traffic flows again (under its firewall, if it has one).
    Release(NsArgs),
    /// Capture packets in a container's network namespace into pcap files, bounded by time and size and
    /// rotated. Stops at --duration, --max-size or SIGTERM/SIGINT.
    Capture(Box<CaptureArgs>),
    /// The connection graph (workload → workload or external peer, protocol, port, connections, first and
    /// last seen) from recorded events (`palisade runtime record`), as JSON or Graphviz DOT.
    Graph(GraphArgs),
    #[command(flatten)]
    L7(super::inspect::NetworkL7Command),
}

#[derive(Subcommand, Debug)]
pub enum FirewallCommand {
    /// Install (or replace, atomically) a container's firewall from a rules file.
    Apply(ApplyArgs),
    /// Remove a container's firewall.
    Remove(TargetArgs),
    /// What a container's firewall counted: per rule, outside the policy (the flows, recorded as
    /// violations), bytes and packets per flow.
    Status(StatusArgs),
    /// Which enforcement mechanisms the node offers a process (nftables, cgroup v2 for connect4/6 BPF).
    Probe(ProbeArgs),
}

/// The network namespace to act on.
#[derive(Args, Debug, Clone)]
pub struct NsArgs {
    /// The namespace of this process (host pid), e.g. a container's init.
    #[arg(long, value_name = "PID", required_unless_present = "netns", conflicts_with = "netns")]
    pub pid: Option<u32>,
    /// A namespace file: `/run/netns/NAME`, or a runtime's bind mount.
    #[arg(long, value_name = "PATH")]
    pub netns: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Mechanism {
    /// nftables in the container's network namespace: ingress and egress, per-flow bytes.
    Nftables,
    /// cgroup connect4/connect6 BPF on the container's cgroup v2 directory (needs --pid): egress connects
    /// only, refused with EPERM before any packet leaves.
    CgroupBpf,
}

/// A container's firewall: its namespace (or process) and the mechanism.
#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    #[command(flatten)]
    pub ns: NsArgs,
    /// How the rules are enforced.
    #[arg(long, value_enum, default_value = "nftables")]
    pub mechanism: Mechanism,
}

impl TargetArgs {
    /// The process's cgroup v2 directory, for the cgroup mechanism.
    fn cgroup(&self) -> Result<PathBuf> {
        let Some(pid) = self.ns.pid else {
            bail!(
                "--mechanism cgroup-bpf needs --pid (the container's cgroup is read from /proc/PID/cgroup)"
            );
        };
        let probe = firewall::probe::probe(pid);
        match probe.cgroup2_dir {
            Some(dir) => Ok(dir),
            None => bail!(
                "pid {pid} has no cgroup v2 directory of its own (cgroup v2 mount: {}): use --mechanism nftables",
                probe.cgroup2_mount.map_or("none".into(), |m| m.display().to_string())
            ),
        }
    }
}

impl NsArgs {
    fn netns(&self) -> Netns {
        match (&self.pid, &self.netns) {
            (Some(pid), _) => Netns::Pid(*pid),
            (None, Some(path)) => Netns::Path(path.clone()),
            // clap requires one of the two.
            (None, None) => Netns::Pid(std::process::id()),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    /// Flows outside the rules are counted and recorded, and let through.
    Monitor,
    /// Flows outside the rules are counted, recorded and refused.
    Protect,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Rules file (YAML or JSON): a list of rules, or `{mode: monitor|protect, rules: [...]}`. A rule is
    /// `{direction: egress|ingress, peer: any | {cidr: 10.0.0.0/8}, protocol: tcp|udp|any, ports: [{first,
    /// last}]}`; DNS and workload peers must be resolved first (they are skipped with a warning).
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// The mode [default: the file's `mode`, else monitor].
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Print the nftables ruleset instead of installing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Count bytes and packets per flow in the firewall's own set (kept an hour) instead of conntrack
    /// accounting (forgotten minutes after a connection ends): a set update on every packet, about 4% of a
    /// stream's throughput.
    #[arg(long)]
    pub flow_counters: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// `json` is what `network graph --counters` reads.
    #[arg(long, value_enum, default_value = "text")]
    pub format: TextOrJson,
}

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// The process (a container's) to probe for [default: this one].
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
}

#[derive(Args, Debug)]
pub struct CaptureArgs {
    #[command(flatten)]
    pub ns: NsArgs,
    /// Directory for the pcap files (`PREFIX-000.pcap`, `PREFIX-001.pcap`, …).
    #[arg(long, value_name = "DIR")]
    pub output: PathBuf,
    /// File name prefix.
    #[arg(long, default_value = "capture")]
    pub prefix: String,
    /// Only this interface of the namespace [default: every interface but `lo`].
    #[arg(long, value_name = "NAME")]
    pub interface: Option<String>,
    /// Stop after this long.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Stop when the files hold this much, all together.
    #[arg(long, value_name = "SIZE", default_value = "100MB", value_parser = parse_size)]
    pub max_size: u64,
    /// Start a new file when the current one would grow past this.
    #[arg(long, value_name = "SIZE", default_value = "10MB", value_parser = parse_size)]
    pub file_size: u64,
    /// Keep only the newest N files (older ones are deleted as new ones start).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_files: usize,
    /// Bytes kept of each packet.
    #[arg(long, value_name = "BYTES", default_value_t = 65535)]
    pub snaplen: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Json,
    Dot,
}

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// Recorded events, one JSON object per line (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub events: PathBuf,
    /// Firewall counters (`network firewall status --format json` output) for bytes and packets per edge.
    /// Repeatable: one per container.
    #[arg(long, value_name = "FILE")]
    pub counters: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "json")]
    pub format: GraphFormat,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(command: NetworkCommand) -> Result<ExitCode> {
    match command {
        NetworkCommand::L7(command) => super::inspect::run(command),
        NetworkCommand::Firewall { command } => match command {
            FirewallCommand::Apply(args) => apply(args),
            FirewallCommand::Remove(target) => {
                let removed = match target.mechanism {
                    Mechanism::Nftables => firewall::remove(&target.ns.netns())?,
                    Mechanism::CgroupBpf => firewall::cgroup_bpf::remove(&target.cgroup()?)?,
                };
                eprintln!(
                    "palisade: {}",
                    if removed { "firewall removed" } else { "no firewall was installed" }
                );
                Ok(ExitCode::from(EXIT_OK))
            }
            FirewallCommand::Status(args) => status(args),
            FirewallCommand::Probe(args) => {
                let probe = firewall::probe::probe(args.pid.unwrap_or_else(std::process::id));
                println!("{}", serde_json::to_string_pretty(&probe)?);
                Ok(ExitCode::from(EXIT_OK))
            }
        },
        NetworkCommand::Quarantine(ns) => {
            let netns = ns.netns();
            quarantine::quarantine(&netns)?;
            eprintln!("palisade: network namespace {netns} quarantined: all traffic but loopback dropped");
            Ok(ExitCode::from(EXIT_OK))
        }
        NetworkCommand::Release(ns) => {
            let netns = ns.netns();
            match quarantine::release(&netns)? {
                Some(d) => eprintln!(
                    "palisade: network namespace {netns} released ({} packets, {} bytes dropped while quarantined)",
                    d.packets, d.bytes
                ),
                None => eprintln!("palisade: network namespace {netns} was not quarantined"),
            }
            Ok(ExitCode::from(EXIT_OK))
        }
        NetworkCommand::Capture(args) => run_capture(*args),
        NetworkCommand::Graph(args) => graph(args),
    }
}

/// Read a rules file: a list of rules, or a policy document with `mode` and `rules`.
fn read_rules(path: &Path) -> Result<PolicyFile> {
    let name = path.display();
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read rules file {name}"))?;
    let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or("");
    if first.starts_with('-') || first.starts_with('[') {
        let rules: Vec<NetRule> = serde_saphyr::from_str(&text).map_err(|e| yaml_error(&name, &e))?;
        Ok(PolicyFile { mode: None, rules })
    } else {
        serde_saphyr::from_str(&text).map_err(|e| yaml_error(&name, &e))
    }
}

/// The parser's message (its first line: line, column and what is wrong) naming the file.
fn yaml_error(name: &std::path::Display<'_>, e: &serde_saphyr::Error) -> anyhow::Error {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    anyhow::anyhow!("rules file {name}: {}", first.strip_prefix("error: ").unwrap_or(first))
}

fn apply(args: ApplyArgs) -> Result<ExitCode> {
    let policy = read_rules(&args.rules)?;
    let mode = match args.mode {
        Some(ModeArg::Monitor) => FirewallMode::Monitor,
        Some(ModeArg::Protect) => FirewallMode::Protect,
        None => policy.mode.unwrap_or_default(),
    };
    let options = firewall::compile::Options { flow_counters: args.flow_counters };
    if args.dry_run {
        let compiled = firewall::compile::compile_with(&policy.rules, mode, options);
        for s in &compiled.skipped {
            eprintln!("palisade: warning: {}: {s}", args.rules.display());
        }
        print!("{}", compiled.script);
        return Ok(ExitCode::from(EXIT_OK));
    }
    let (applied, what) = match args.target.mechanism {
        Mechanism::Nftables => {
            let netns = args.target.ns.netns();
            (
                firewall::apply_with(&netns, &policy.rules, mode, options)?,
                format!("network namespace {netns}"),
            )
        }
        Mechanism::CgroupBpf => {
            let cgroup = args.target.cgroup()?;
            let applied = firewall::cgroup_bpf::apply(&cgroup, &policy.rules, mode)?;
            (applied, format!("cgroup {} (connect4/connect6 BPF)", cgroup.display()))
        }
    };
    for s in &applied.skipped {
        eprintln!("palisade: warning: {}: {s}", args.rules.display());
    }
    for n in &applied.notes {
        eprintln!("palisade: warning: {n}");
    }
    eprintln!(
        "palisade: firewall of {what}: {} rules installed, {} skipped, {} mode",
        applied.installed,
        applied.skipped.len(),
        mode.as_str()
    );
    Ok(ExitCode::from(EXIT_OK))
}

fn status(args: StatusArgs) -> Result<ExitCode> {
    let status = match args.target.mechanism {
        Mechanism::Nftables => {
            let netns = args.target.ns.netns();
            let Some(status) = firewall::status(&netns)? else {
                bail!("network namespace {netns} has no Palisade firewall");
            };
            for n in &status.notes {
                eprintln!("palisade: warning: {n}");
            }
            status
        }
        Mechanism::CgroupBpf => {
            let cgroup = args.target.cgroup()?;
            let Some(status) = firewall::cgroup_bpf::status(&cgroup)? else {
                bail!("cgroup {} has no Palisade connect firewall", cgroup.display());
            };
            status
        }
    };
    match args.format {
        TextOrJson::Json => println!("{}", serde_json::to_string_pretty(&status)?),
        TextOrJson::Text => print_status(&status),
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn print_status(status: &Status) {
    println!("mode: {}", status.mode.as_str());
    for r in status.rules.iter().chain(&status.outside) {
        println!("{:>10} packets {:>12} bytes  {}", r.packets, r.bytes, r.rule);
    }
    for v in &status.violations {
        let dir = match v.direction {
            palisade_network::rules::Direction::Egress => "egress to",
            palisade_network::rules::Direction::Ingress => "ingress from",
        };
        println!("violation: {dir} {} {}/{}", v.peer, v.protocol, v.port);
    }
    for f in &status.flows {
        println!(
            "flow: {} -> {} {}/{}: {} packets, {} bytes",
            f.source, f.destination, f.protocol, f.port, f.packets, f.bytes
        );
    }
}

fn run_capture(args: CaptureArgs) -> Result<ExitCode> {
    let shutdown = signals::shutdown_flag().context("blocking SIGTERM/SIGINT")?;
    let config = CaptureConfig {
        netns: args.ns.netns(),
        dir: args.output,
        prefix: args.prefix,
        interface: args.interface,
        duration: args.duration,
        max_bytes: args.max_size,
        file_bytes: args.file_size,
        max_files: args.max_files,
        snaplen: args.snaplen,
    };
    let summary = capture::capture(&config, &shutdown)?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    eprintln!(
        "palisade: {} packets, {} bytes in {} files ({} rotated out), stopped by {:?}",
        summary.packets,
        summary.bytes,
        summary.files.len(),
        summary.rotated_out,
        summary.stopped
    );
    Ok(ExitCode::from(EXIT_OK))
}

fn graph(args: GraphArgs) -> Result<ExitCode> {
    let name = args.events.display().to_string();
    let reader: Box<dyn BufRead> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f =
            std::fs::File::open(&args.events).with_context(|| format!("cannot open events file {name}"))?;
        Box::new(std::io::BufReader::new(f))
    };
    let mut observations = Vec::new();
    let (mut events, mut bad) = (0u64, 0u64);
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {name}"))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Event>(&line) {
            Ok(ev) => {
                events += 1;
                observations.extend(netflow::observation(&ev));
            }
            Err(e) => {
                bad += 1;
                eprintln!("palisade: warning: {name}:{}: not an event: {e}", i + 1);
            }
        }
    }
    let mut graph = Graph::build(&observations);
    let mut counters: Vec<FlowCounter> = Vec::new();
    for path in &args.counters {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read counters file {}", path.display()))?;
        match serde_json::from_str::<Status>(&text) {
            Ok(s) => counters.extend(s.flows),
            Err(e) => eprintln!(
                "palisade: warning: {}: not `network firewall status --format json` output: {e}",
                path.display()
            ),
        }
    }
    graph.add_counters(&counters);
    let text = match args.format {
        GraphFormat::Json => serde_json::to_string_pretty(&graph)? + "\n",
        GraphFormat::Dot => graph.to_dot(),
    };
    match &args.output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?,
        None => print!("{text}"),
    }
    eprintln!(
        "palisade: {events} events, {} connections observed, {} nodes, {} edges, {bad} unreadable lines",
        observations.len(),
        graph.nodes.len(),
        graph.edges.len()
    );
    Ok(ExitCode::from(EXIT_OK))
}
