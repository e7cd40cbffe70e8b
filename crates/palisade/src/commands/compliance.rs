//! `palisade compliance`: framework mappings judged against saved results (crate `palisade-posture`,
//! module `compliance`).

use crate::commands::EXIT_OK;
use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use palisade_posture::compliance::{self, Verdict, framework};
use palisade_posture::node::NodeReport;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum ComplianceCommand {
    /// The frameworks and how many of their controls Palisade judges (automated), leaves to a person
    /// (manual) or does not apply.
    List,
    /// Judge a framework's controls against JSON results: scan reports (`scan image|config|cluster -f
    /// json`; RBAC findings come with `scan cluster`) and node reports (`scan node -f json`).
    Report(ReportArgs),
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Framework id (see `palisade compliance list`): cis-kubernetes, nsa-cisa, nist-800-190, pci-dss-4,
    /// hipaa.
    #[arg(long)]
    pub framework: String,
    /// JSON reports: scan reports and node reports, in any order.
    #[arg(value_name = "REPORT", required = true)]
    pub inputs: Vec<PathBuf>,
    /// `table`, `json` or `html` (one self-contained page).
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json", "html"])]
    pub format: String,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with this code when a control fails.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub exit_code: u8,
}

/// Largest report read.
const MAX_INPUT: u64 = 1 << 30;

pub fn run(command: ComplianceCommand) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        ComplianceCommand::List => {
            writeln!(
                out,
                "{:<16} {:>8} {:>9} {:>6} {:>4}  TITLE",
                "FRAMEWORK", "CONTROLS", "AUTOMATED", "MANUAL", "N/A"
            )?;
            for fw in framework::all().map_err(|e| anyhow!(e))? {
                let c = fw.coverage();
                writeln!(
                    out,
                    "{:<16} {:>8} {:>9} {:>6} {:>4}  {} {}",
                    fw.id, c.controls, c.automated, c.manual, c.not_applicable, fw.title, fw.version
                )?;
            }
            Ok(ExitCode::from(EXIT_OK))
        }
        ComplianceCommand::Report(a) => report(a),
    }
}

fn report(a: ReportArgs) -> Result<ExitCode> {
    let fw = framework::load(&a.framework).map_err(|e| anyhow!(e))?;
    let mut reports = Vec::new();
    let mut nodes = Vec::new();
    for p in &a.inputs {
        let mut bytes = Vec::new();
        std::fs::File::open(p)
            .and_then(|f| f.take(MAX_INPUT).read_to_end(&mut bytes))
            .with_context(|| format!("{}: cannot read", p.display()))?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).with_context(|| format!("{}: not a JSON report", p.display()))?;
        if value.get("benchmark").is_some() && value.get("results").is_some() {
            let n: NodeReport = serde_json::from_value(value)
                .with_context(|| format!("{}: not a node report", p.display()))?;
            nodes.push(n);
        } else {
            let r = palisade_report::json::read(bytes.as_slice())
                .with_context(|| format!("{}: not a Palisade scan report", p.display()))?;
            reports.push(r);
        }
    }
    let r = compliance::assess(&fw, &reports, &nodes);
    let mut buf = Vec::new();
    match a.format.as_str() {
        "json" => {
            serde_json::to_writer_pretty(&mut buf, &r)?;
            writeln!(buf)?;
        }
        "html" => buf.extend(compliance::html::render(&r).into_bytes()),
        _ => {
            writeln!(buf, "{} {}", r.title, r.version)?;
            for c in &r.controls {
                writeln!(buf, "[{}] {} {}", c.verdict.label(), c.id, c.title)?;
                if matches!(c.verdict, Verdict::Fail | Verdict::NotAssessed) {
                    for e in &c.evidence {
                        writeln!(buf, "        {e}")?;
                    }
                }
                if c.verdict == Verdict::Manual
                    && let Some(m) = &c.manual
                {
                    writeln!(buf, "        manual: {m}")?;
                }
            }
            let s: Vec<String> = r.summary.iter().map(|(k, v)| format!("{v} {}", k.to_lowercase())).collect();
            writeln!(buf, "== {} controls: {} ==", r.controls.len(), s.join(", "))?;
        }
    }
    match &a.output {
        Some(p) => std::fs::write(p, &buf).with_context(|| format!("{}: cannot write", p.display()))?,
        None => std::io::stdout().lock().write_all(&buf)?,
    }
    let failed = r.controls.iter().any(|c| c.verdict == Verdict::Fail);
    Ok(ExitCode::from(if failed { a.exit_code } else { EXIT_OK }))
}
