//! `palisade convert REPORT.json --format F`: render a saved JSON report in any format without scanning
//! again; the policy options filter and gate it as they would a fresh scan.

use super::GlobalOpts;
use super::common::{PolicyOpts, ReportOpts};
use crate::render::{self, View};
use anyhow::{Context, Result};
use clap::Args;
use palisade_report::{Format, ScannersRan};
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
    /// List the packages in the table too.
    #[arg(long)]
    pub list_packages: bool,
}

pub fn run(args: ConvertArgs, global: &GlobalOpts) -> Result<ExitCode> {
    let file = std::fs::File::open(&args.report).with_context(|| format!("{}", args.report.display()))?;
    // TODO(merge): palisade_report::json::read (schema version checks) replaces this.
    let mut report: palisade_core::ScanReport = serde_json::from_reader(std::io::BufReader::new(file))
        .with_context(|| format!("{}: not a Palisade JSON report", args.report.display()))?;
    let format = args.report_opts.format_or(Format::Table);
    render::check(args.report_opts.output.as_deref())?;
    let outcome = crate::gate::apply(&mut report, &args.policy, args.allow_missing_db)?;
    if !global.quiet {
        crate::ui::summarize(&report, &outcome);
    }
    // The saved report does not say which scanners ran; a section with findings is always shown.
    let view = View { packages: args.list_packages, ran: ScannersRan::default() };
    render::emit(&report, format, render::open(args.report_opts.output.as_deref())?, view)?;
    Ok(ExitCode::from(outcome.verdict.code))
}
