//! `palisade convert REPORT.json --format F`: render a saved JSON report in any format without scanning
//! again; the policy options filter and gate it as they would a fresh scan.

use super::GlobalOpts;
use super::common::{PolicyOpts, ReportOpts};
use crate::render;
use anyhow::{Context, Result};
use clap::Args;
use palisade_report::Format;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// A report written by `palisade ... --format json`.
    pub report: PathBuf,
    #[command(flatten)]
    pub report_opts: ReportOpts,
    #[command(flatten)]
    pub policy: PolicyOpts,
    /// Do not fail the gate on incomplete vulnerability results recorded in the report.
    #[arg(long)]
    pub allow_missing_db: bool,
}

pub fn run(args: ConvertArgs, global: &GlobalOpts) -> Result<ExitCode> {
    let file = std::fs::File::open(&args.report).with_context(|| format!("{}", args.report.display()))?;
    let mut report = palisade_report::json::read(std::io::BufReader::new(file))
        .with_context(|| format!("{}", args.report.display()))?;
    let format = args.report_opts.format_or(Format::Table);
    render::check(args.report_opts.output.as_deref())?;
    let outcome = crate::gate::apply(&mut report, &args.policy, args.allow_missing_db)?;
    if !global.quiet {
        crate::ui::summarize(&report, &outcome);
    }
    render::emit(&report, format, render::open(args.report_opts.output.as_deref())?)?;
    Ok(ExitCode::from(outcome.verdict.code))
}
