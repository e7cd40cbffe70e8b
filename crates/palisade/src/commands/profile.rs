//! `palisade profile …`: behavioural profiles as code (crate `palisade-runtime`, module `profile`).
//!
//! `learn` folds recorded events into one `PalisadeProfile` per workload; `diff` compares two sets for
//! review; `test` replays recorded events against profiles and fails on violations; `convert` writes
//! NeuVector `NvSecurityRule`s or Kubernetes `NetworkPolicy`s; `mode` edits the mode state file the
//! agent reads. The agent's options (`runtime agent --profiles DIR --mode …`) are [`AgentProfileArgs`].

use crate::commands::EXIT_OK;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade_policy::bundle::{Bundle, MANIFEST, Role};
use palisade_runtime::Event;
use palisade_runtime::profile::convert::{networkpolicy, neuvector};
use palisade_runtime::profile::global::{self, GlobalRules, GlobalRulesDoc, GlobalSpec};
use palisade_runtime::profile::live::{LiveConfig, LiveProfiles};
use palisade_runtime::profile::modes::{ModeState, Promotion, parse_duration};
use palisade_runtime::profile::replay::{Replay, alert};
use palisade_runtime::profile::{Learner, PalisadeProfile, ProfileDecider, diff, yaml};
use palisade_runtime::verdict::{Mode, Verdict};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// Learn one profile per workload from recorded events (`runtime record`) into DIR
    /// (`<name>.yaml`); profiles already in DIR are extended.
    Learn(LearnArgs),
    /// Compare two profile files or directories (or policy bundles) for review: what each workload may do
    /// that it could not before, and what it no longer may. Exit 1 when they differ.
    Diff(DiffArgs),
    /// Replay recorded events against profiles and the global rules; list each violation with its event
    /// and exit 1 when there is one.
    Test(TestArgs),
    /// Convert profiles to NeuVector `NvSecurityRule`s or Kubernetes `NetworkPolicy`s (YAML on stdout).
    Convert(ConvertArgs),
    /// Show or set modes in the mode state file the agent reads: the default, one workload's, promotion.
    Mode(ModeArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ModeArg {
    Discover,
    Monitor,
    Protect,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Discover => Mode::Discover,
            ModeArg::Monitor => Mode::Monitor,
            ModeArg::Protect => Mode::Protect,
        }
    }
}

/// Where the global rules come from (shared by `test` and the agent).
#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// Global rules (`PalisadeGlobalRules` YAML) instead of the defaults (no shell, no SSH, zero drift, no
    /// writes below /usr, no exceptions).
    #[arg(long, value_name = "FILE", conflicts_with = "no_global_rules")]
    pub global_rules: Option<PathBuf>,
    /// Judge by the profiles alone.
    #[arg(long)]
    pub no_global_rules: bool,
}

impl GlobalArgs {
    fn load(&self, from_bundle: Option<GlobalSpec>) -> Result<GlobalRules> {
        if self.no_global_rules {
            return Ok(GlobalRules::disabled());
        }
        let spec = match &self.global_rules {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
                GlobalRulesDoc::parse(&text, &p.display().to_string()).map_err(anyhow::Error::msg)?.spec
            }
            None => from_bundle.unwrap_or_default(),
        };
        GlobalRules::new(&spec).map_err(anyhow::Error::msg)
    }
}

#[derive(Args, Debug)]
pub struct LearnArgs {
    /// Recorded events (JSON lines, `runtime record`); repeatable, `-` for standard input.
    #[arg(long, value_name = "FILE", required = true)]
    pub events: Vec<PathBuf>,
    /// Directory the profiles are written to.
    #[arg(long, short, value_name = "DIR")]
    pub output: PathBuf,
    /// Ignore the profiles already in DIR instead of extending them.
    #[arg(long)]
    pub fresh: bool,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The profiles before: a file, a directory of them or a policy bundle.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The profiles after.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// `text` (`+` added, `-` removed, `~` changed, by workload) or `json`.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Exit 1 on any difference (`any`), only when a workload may do more than before (`widen`), or never.
    #[arg(long, default_value = "any", value_parser = ["any", "widen", "never"])]
    pub fail_on: String,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Profiles: a file, a directory of them or a policy bundle (its `PalisadeProfile` and
    /// `PalisadeGlobalRules` documents); repeatable.
    #[arg(long, value_name = "PATH", required = true)]
    pub profile: Vec<PathBuf>,
    /// Recorded events (JSON lines), `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub events: PathBuf,
    /// The mode every workload is judged in (`protect` reports refusals).
    #[arg(long, value_enum, default_value = "monitor")]
    pub mode: ModeArg,
    #[command(flatten)]
    pub global: GlobalArgs,
    /// `text` (one line per violation) or `json` (the violations with their alerts).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
    /// Exit code when there are violations.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub exit_code: u8,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Target {
    Neuvector,
    Networkpolicy,
}

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Profiles: files, directories or policy bundles.
    #[arg(value_name = "PROFILE", required = true)]
    pub profiles: Vec<PathBuf>,
    /// The format to write.
    #[arg(long, value_enum)]
    pub to: Target,
    /// NeuVector's policy mode for the converted rules.
    #[arg(long, value_enum, default_value = "monitor")]
    pub mode: ModeArg,
    /// Write to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ModeArgs {
    /// The mode state file (the agent's `--mode-state`, default `DIR/modes.yaml` of `--profiles DIR`).
    #[arg(long, value_name = "FILE")]
    pub state: PathBuf,
    /// The workload (`namespace/Kind/name`, `Image/<repository>`, as profiles' comments name them) whose
    /// mode is set; without it, the default mode is set.
    #[arg(long, value_name = "KEY")]
    pub workload: Option<String>,
    /// The mode to set; without it, the state is only shown.
    #[arg(value_enum, value_name = "MODE")]
    pub mode: Option<ModeArg>,
    /// Remove the workload's own mode (it follows the default again).
    #[arg(long, requires = "workload", conflicts_with = "mode")]
    pub unset: bool,
    /// Promote workloads out of discover mode after they learned nothing new for this long (`30m`, `1h`,
    /// `2d`); `0` turns promotion off.
    #[arg(long, value_name = "DURATION")]
    pub promote_after: Option<String>,
    /// The mode promotion moves workloads to.
    #[arg(long, value_enum, default_value = "monitor")]
    pub promote_to: ModeArg,
    /// Then promote workloads from monitor to protect after they raised no violation for this long
    /// (with `--promote-after`; `0` turns this step off).
    #[arg(long, value_name = "DURATION", requires = "promote_after")]
    pub protect_after: Option<String>,
}

/// The agent's default mode (protect needs an enforcer).
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum AgentMode {
    Discover,
    Monitor,
}

impl From<AgentMode> for Mode {
    fn from(m: AgentMode) -> Mode {
        match m {
            AgentMode::Discover => Mode::Discover,
            AgentMode::Monitor => Mode::Monitor,
        }
    }
}

/// `runtime agent` options for profiles.
#[derive(Args, Debug, Clone)]
pub struct AgentProfileArgs {
    /// Learn (discover mode) and judge (monitor mode) behavioural profiles; they are read from and written
    /// to DIR, one `<name>.yaml` per workload.
    #[arg(long, value_name = "DIR")]
    pub profiles: Option<PathBuf>,
    /// The mode of workloads that the mode state file and their pod's `palisade.io/mode` annotation say
    /// nothing about. Protect is set per workload (`profile mode`, the annotation) and refuses only with
    /// `--enforce`, whose decisions then include the profiles'.
    #[arg(long, value_enum, default_value = "discover", requires = "profiles")]
    pub mode: AgentMode,
    /// The mode state file (`palisade profile mode`) [default: DIR/modes.yaml].
    #[arg(long, value_name = "FILE", requires = "profiles")]
    pub mode_state: Option<PathBuf>,
    #[command(flatten)]
    pub global: GlobalArgs,
}

impl AgentProfileArgs {
    /// The live profiles, when `--profiles` was given.
    pub fn start(&self) -> Result<Option<LiveProfiles>> {
        let Some(dir) = &self.profiles else { return Ok(None) };
        let live = LiveProfiles::start(LiveConfig {
            dir: dir.clone(),
            mode: self.mode.into(),
            state: self.mode_state.clone().unwrap_or_else(|| dir.join("modes.yaml")),
            global: self.global.load(None)?,
            hostname: palisade_runtime::rules::local_hostname(),
        })
        .map_err(anyhow::Error::msg)?;
        eprintln!(
            "palisade: profiles: {} loaded from {}, default mode {:?}",
            live.profile_count(),
            dir.display(),
            Mode::from(self.mode)
        );
        Ok(Some(live))
    }
}

pub fn run(command: ProfileCommand) -> Result<ExitCode> {
    match command {
        ProfileCommand::Learn(a) => learn(a),
        ProfileCommand::Diff(a) => diff_cmd(a),
        ProfileCommand::Test(a) => test(a),
        ProfileCommand::Convert(a) => convert(a),
        ProfileCommand::Mode(a) => mode(a),
    }
}

/// Profiles (and global rules) of a file, a directory or a policy bundle (a directory with a manifest).
fn load(path: &Path) -> Result<(Vec<PalisadeProfile>, Option<GlobalSpec>)> {
    if path.join(MANIFEST).is_file() {
        let bundle = Bundle::read(path)?;
        let (mut out, mut errors, mut global) = (Vec::new(), Vec::new(), None);
        for e in &bundle.errors {
            errors.push(e.to_string());
        }
        for (file, doc) in bundle.documents(Role::Profile) {
            let at = format!("{}:{}", file.path.display(), doc.line);
            if doc.kind() == global::KIND {
                match GlobalRulesDoc::from_value(&doc.value, &at) {
                    Ok(g) => global = Some(g.spec),
                    Err(e) => errors.push(e),
                }
            } else {
                match yaml::from_value(&doc.value, &at) {
                    Ok(p) => out.push(p),
                    Err(e) => errors.push(e),
                }
            }
        }
        if !errors.is_empty() {
            bail!("{}", errors.join("\n"));
        }
        return Ok((out, global));
    }
    if !path.exists() {
        bail!("{}: no such file or directory", path.display());
    }
    let (loaded, errors) = yaml::load(path);
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    Ok((loaded.into_iter().map(|(_, p)| p).collect(), None))
}

fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let f =
        std::fs::File::open(path).with_context(|| format!("cannot open events file {}", path.display()))?;
    Ok(Box::new(std::io::BufReader::new(f)))
}

fn learn(args: LearnArgs) -> Result<ExitCode> {
    let mut learner = Learner::new();
    if !args.fresh && args.output.is_dir() {
        let (existing, _) = load(&args.output)?;
        for p in &existing {
            learner.add_profile(p);
        }
    }
    let (mut events, mut bad) = (0u64, 0u64);
    for path in &args.events {
        let name = path.display().to_string();
        for (i, line) in open(path)?.lines().enumerate() {
            let line = line.with_context(|| format!("reading {name}"))?;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Event>(&line) {
                Ok(e) => {
                    events += 1;
                    learner.learn(&e);
                }
                Err(e) => {
                    bad += 1;
                    eprintln!("palisade: warning: {name}:{}: not an event: {e}", i + 1);
                }
            }
        }
    }
    let profiles = learner.profiles();
    let written = yaml::write_dir(&args.output, &profiles)
        .with_context(|| format!("cannot write profiles to {}", args.output.display()))?;
    for (p, path) in profiles.iter().zip(&written) {
        let s = &p.spec;
        println!(
            "{}: {} ({} processes, {} file rules, {} egress and {} ingress rules)",
            path.display(),
            s.workload.key(),
            s.processes.len(),
            s.files.len(),
            s.network.egress.len(),
            s.network.ingress.len()
        );
    }
    eprintln!("palisade: {events} events, {} profiles, {bad} unreadable lines", profiles.len());
    Ok(ExitCode::from(EXIT_OK))
}

fn diff_cmd(args: DiffArgs) -> Result<ExitCode> {
    let (old, _) = load(&args.old)?;
    let (new, _) = load(&args.new)?;
    let d = diff::diff(&old, &new);
    if args.format == "json" {
        let mut v = serde_json::to_value(&d)?;
        v["widens"] = d.widens().into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if d.is_empty() {
        println!("no differences");
    } else {
        print!("{}", d.text());
    }
    let fail = match args.fail_on.as_str() {
        "any" => !d.is_empty(),
        "widen" => d.widens(),
        _ => false,
    };
    Ok(ExitCode::from(if fail { 1 } else { EXIT_OK }))
}

fn test(args: TestArgs) -> Result<ExitCode> {
    let (mut profiles, mut global_spec) = (Vec::new(), None);
    for p in &args.profile {
        let (ps, g) = load(p)?;
        profiles.extend(ps);
        global_spec = global_spec.or(g);
    }
    let global = args.global.load(global_spec)?;
    let decider = ProfileDecider::new(&profiles, global, ModeState::default(), args.mode.into())
        .map_err(anyhow::Error::msg)?;
    let name = args.events.display().to_string();
    let replay = Replay::run(&decider, open(&args.events)?, &name).map_err(anyhow::Error::msg)?;
    for u in &replay.unreadable {
        eprintln!("palisade: warning: {u}");
    }
    let hostname = palisade_runtime::rules::local_hostname();
    if args.format == "json" {
        let violations: Vec<serde_json::Value> = replay
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "line": f.line,
                    "rule": f.judgement.violation.rule,
                    "reason": f.judgement.violation.reason,
                    "workload": f.judgement.workload,
                    "global": f.judgement.global,
                    "verdict": if f.judgement.verdict.is_deny() { "deny" } else { "alert" },
                    "alert": alert(&f.event, &f.judgement, &hostname),
                })
            })
            .collect();
        let doc = serde_json::json!({
            "events": replay.events,
            "violations": violations,
            "unprofiled": replay.unprofiled,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        for f in &replay.findings {
            let j = &f.judgement;
            let what = if matches!(j.verdict, Verdict::Deny { .. }) { "refused" } else { "alert" };
            let cmd = f.event.process.args.join(" ");
            println!(
                "{name}:{}: {}: {} [{what}; workload {}; pid {}; {}]",
                f.line, j.violation.rule, j.violation.reason, j.workload, f.event.process.pid, cmd
            );
        }
    }
    eprintln!(
        "palisade: {} events, {} violations, {} profiles, {} unreadable lines",
        replay.events,
        replay.findings.len(),
        profiles.len(),
        replay.unreadable.len()
    );
    for (w, n) in &replay.unprofiled {
        eprintln!("palisade: {n} events of {w}, which has no profile (global rules only)");
    }
    Ok(ExitCode::from(if replay.findings.is_empty() { EXIT_OK } else { args.exit_code }))
}

fn convert(args: ConvertArgs) -> Result<ExitCode> {
    let mut docs = Vec::new();
    for p in &args.profiles {
        for profile in load(p)?.0 {
            let doc = match args.to {
                Target::Neuvector => neuvector::convert(&profile, args.mode.into()),
                Target::Networkpolicy => networkpolicy::convert(&profile),
            }
            .map_err(|e| anyhow::anyhow!("{}: {e}", profile.metadata.name))?;
            docs.push(doc);
        }
    }
    if docs.is_empty() {
        bail!(
            "no profiles found in {}",
            args.profiles.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let text = docs.join("---\n");
    match &args.output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn mode(args: ModeArgs) -> Result<ExitCode> {
    let mut state = ModeState::load(&args.state).map_err(anyhow::Error::msg)?;
    let mut changed = false;
    match (&args.workload, args.mode, args.unset) {
        (Some(w), _, true) => changed |= state.workloads.remove(w).is_some(),
        (Some(w), Some(m), _) => {
            state.workloads.insert(w.clone(), m.into());
            changed = true;
        }
        (None, Some(m), _) => {
            state.default = Some(m.into());
            changed = true;
        }
        _ => {}
    }
    if let Some(after) = &args.promote_after {
        let d = parse_duration(after).map_err(|e| anyhow::anyhow!("--promote-after: {e}"))?;
        let protect_after = match &args.protect_after {
            Some(a) => {
                let p = parse_duration(a).map_err(|e| anyhow::anyhow!("--protect-after: {e}"))?;
                (!p.is_zero()).then(|| a.clone())
            }
            None => None,
        };
        state.promotion = (!d.is_zero()).then(|| Promotion {
            after: after.clone(),
            to: args.promote_to.into(),
            protect_after,
        });
        changed = true;
    }
    if changed {
        state.save(&args.state).map_err(anyhow::Error::msg)?;
    }
    let name = |m: Mode| format!("{m:?}").to_lowercase();
    println!("default: {}", state.default.map_or("(the agent's --mode)".to_string(), name));
    for (k, m) in &state.workloads {
        println!("{k}: {}", name(*m));
    }
    if let Some(p) = &state.promotion {
        println!("promotion: after {} quiet, to {}", p.after, name(p.to));
        if let Some(a) = &p.protect_after {
            println!("promotion: after {a} in monitor mode with no violation, to protect");
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}
