//! `palisade runtime agent --enforce`: the enforcement options of the agent and their glue (crate
//! `palisade-runtime`, module `enforce`). The decider is the deny-rule decider
//! (`palisade_runtime::enforce::rules`) built from `--deny-exec`/`--deny-open`/`--deny-write` and
//! `--enforce-rules` files; profiles plug in through the same `Decider` seam.

use crate::commands::common::parse_duration;
use anyhow::{Context as _, Result, bail};
use clap::{Args, ValueEnum};
use palisade_network::inspect::Limits;
use palisade_network::inspect::policy::Policy;
use palisade_runtime::Event;
use palisade_runtime::agent::metrics::Metrics;
use palisade_runtime::enforce::l7::L7Config;
use palisade_runtime::enforce::rules::{Action, Rule, RuleDecider, parse_file};
use palisade_runtime::enforce::{EnforceConfig, Enforcer, ExecEnforcer};
use palisade_runtime::output::Alert;
use palisade_runtime::verdict::{Decider, Mode};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EnforceModeArg {
    /// Refuse what a rule denies, and alert.
    Protect,
    /// Alert on what a rule denies, refuse nothing.
    Monitor,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExecEnforcerArg {
    /// fanotify permission events when the start-up probe proves them, else kill after the exec.
    Auto,
    /// fanotify permission events, or refuse to start.
    Fanotify,
    /// No pre-exec block: a denied exec is killed (from user space at once; later execs of the same file
    /// in that container in the kernel, with bpf_send_signal).
    Kill,
}

/// Enforcement options of `runtime agent`.
#[derive(Args, Debug)]
#[command(next_help_heading = "Enforcement")]
pub struct EnforceArgs {
    /// Enforce: block denied execs before they run and denied opens before they happen (fanotify
    /// permission events on the containers' mounts), kill on violation. Needs CAP_SYS_ADMIN. Host
    /// processes, the agent and the node's critical processes are never acted on.
    #[arg(long)]
    pub enforce: bool,
    /// `protect` refuses what the rules deny; `monitor` only alerts.
    #[arg(long, value_enum, default_value = "protect", requires = "enforce")]
    pub enforce_mode: EnforceModeArg,
    /// Deny running programs whose path (inside the container, symlinks resolved) matches the glob,
    /// optionally only in containers whose id, short id or name matches CONTAINER_GLOB. Repeatable.
    #[arg(long, value_name = "GLOB[@CONTAINER_GLOB]", requires = "enforce")]
    pub deny_exec: Vec<String>,
    /// Deny opening matching files in any mode. Repeatable.
    #[arg(long, value_name = "GLOB[@CONTAINER_GLOB]", requires = "enforce")]
    pub deny_open: Vec<String>,
    /// Deny opening matching files for writing (or truncating them). Repeatable.
    #[arg(long, value_name = "GLOB[@CONTAINER_GLOB]", requires = "enforce")]
    pub deny_write: Vec<String>,
    /// Files of deny rules, one `deny-exec|deny-open|deny-write GLOB[@CONTAINER_GLOB]` per line (`#`
    /// comments). Bad lines are reported with file and line, the others loaded. Repeatable.
    #[arg(long, value_name = "FILE", requires = "enforce")]
    pub enforce_rules: Vec<PathBuf>,
    /// Every permission event is answered within this; when no decision came in time the act is allowed,
    /// with an alert and a metric.
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_duration, requires = "enforce")]
    pub decision_deadline: Duration,
    /// Threads asking the decider.
    #[arg(long, value_name = "N", default_value_t = 2, requires = "enforce")]
    pub decider_threads: usize,
    /// Permission events waiting for a decider; past it they are allowed at once and counted.
    #[arg(long, value_name = "N", default_value_t = 1024, requires = "enforce")]
    pub decision_queue: usize,
    /// How execs are enforced.
    #[arg(long, value_enum, default_value = "auto", requires = "enforce")]
    pub exec_enforcer: ExecEnforcerArg,
    /// Also enforce connections: each container's network policy from its profile (monitor or protect
    /// mode; discover installs nothing) becomes an nftables firewall in its network namespace, kept
    /// current as the profile, its mode or resolved DNS names change, and removed when the agent stops.
    /// Needs CAP_NET_ADMIN and CAP_SYS_ADMIN.
    #[arg(long, requires = "enforce")]
    pub enforce_network: bool,
    /// Override the L7 rules of profiles: the containers whose workload this L7 policy names (the
    /// `network inspect` policy file; `name` is a glob on the workload key, `addresses` may be left out)
    /// are inspected with its rules and mode instead of their profile's `spec.l7`. Without it, the
    /// profiles' L7 rules alone decide which containers are inspected. Needs iptables.
    #[arg(long, value_name = "FILE", requires = "enforce_network")]
    pub l7_policy: Option<PathBuf>,
    /// The NFQUEUE queue number bound in each inspected container's namespace.
    #[arg(long, value_name = "N", default_value_t = 7, requires = "enforce_network")]
    pub l7_queue: u16,
    /// Fail closed: without an inspector bound (agent stopped uncleanly) or with the queue full, the
    /// container's packets are dropped instead of passing.
    #[arg(long, requires = "enforce_network")]
    pub l7_fail_closed: bool,
}

impl EnforceArgs {
    /// The deny-rule decider of the flags and files; `None` without `--enforce`.
    pub fn decider(&self) -> Result<Option<RuleDecider>> {
        if !self.enforce {
            return Ok(None);
        }
        let mut rules = Vec::new();
        for (action, specs, flag) in [
            (Action::DenyExec, &self.deny_exec, "--deny-exec"),
            (Action::DenyOpen, &self.deny_open, "--deny-open"),
            (Action::DenyWrite, &self.deny_write, "--deny-write"),
        ] {
            for spec in specs {
                rules.push(Rule::parse(action, spec, flag.to_string()).map_err(anyhow::Error::msg)?);
            }
        }
        for f in &self.enforce_rules {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("cannot read rules file {}", f.display()))?;
            let (mut good, errors) = parse_file(&f.display().to_string(), &text);
            for e in &errors {
                eprintln!("palisade: error: {e}");
            }
            rules.append(&mut good);
        }
        let mode = match self.enforce_mode {
            EnforceModeArg::Protect => Mode::Protect,
            EnforceModeArg::Monitor => Mode::Monitor,
        };
        if rules.is_empty() {
            eprintln!("palisade: warning: --enforce without rules: everything is allowed");
        }
        Ok(Some(RuleDecider { rules, mode }))
    }
}

/// The running enforcement of an agent.
pub struct Enforcement {
    enforcer: Enforcer,
}

impl Enforcement {
    /// Probe and start with `decider` (any [`Decider`]: the deny-rule decider here, profiles later);
    /// `open`: the decider judges opens, so the open mechanism is needed. Prints the probe's findings and
    /// the mechanisms picked.
    pub fn start(
        args: &EnforceArgs,
        decider: Arc<dyn Decider>,
        open: bool,
        runtime_roots: &[PathBuf],
        metrics: &Arc<Mutex<Metrics>>,
    ) -> Result<Enforcement> {
        let config = EnforceConfig {
            deadline: args.decision_deadline,
            workers: args.decider_threads,
            queue: args.decision_queue,
            exec: match args.exec_enforcer {
                ExecEnforcerArg::Auto => ExecEnforcer::Auto,
                ExecEnforcerArg::Fanotify => ExecEnforcer::Fanotify,
                ExecEnforcerArg::Kill => ExecEnforcer::Kill,
            },
            open,
            network: args.enforce_network,
            runtime_roots: runtime_roots.to_vec(),
            // L7 inspectors for the profiles' L7 rules, and for the workloads --l7-policy names
            l7: match (&args.l7_policy, args.enforce_network) {
                (None, false) => None,
                (path, _) => Some(L7Config {
                    policy: match path {
                        Some(path) => Policy::load_for_agent(path).map_err(anyhow::Error::msg)?,
                        None => Policy::default(),
                    },
                    queue: args.l7_queue,
                    fail_closed: args.l7_fail_closed,
                    limits: Limits::default(),
                }),
            },
        };
        if args.decision_deadline.is_zero() {
            bail!("--decision-deadline must be more than 0");
        }
        let enforcer = Enforcer::start(&config, decider).map_err(anyhow::Error::msg)?;
        if let Ok(mut m) = metrics.lock() {
            enforcer.register(m.registry_mut());
        }
        for note in enforcer.notes() {
            eprintln!("palisade: {note}");
        }
        let mut e = Enforcement { enforcer };
        e.report_watched();
        Ok(e)
    }

    /// One sensor event; the enforcement alerts raised since the last call.
    pub fn observe(&mut self, event: &Event) -> Vec<Alert> {
        self.enforcer.observe(event);
        self.report_watched();
        self.enforcer.take_alerts()
    }

    fn report_watched(&mut self) {
        for (id, pid) in self.enforcer.take_watched() {
            eprintln!("palisade: enforcement: watching container {id} (pid {pid})");
        }
    }

    /// Stop (everything held is allowed, the marks go with the groups); the last alerts.
    pub fn stop(&mut self) -> Vec<Alert> {
        self.enforcer.stop();
        self.enforcer.take_alerts()
    }
}
