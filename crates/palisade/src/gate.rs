//! Policy step of a scan: severity filter, ignore-unfixed, ignore files, VEX, then the exit-code gate.

use crate::cli::PolicyOpts;
use anyhow::{Context, Result};
use palisade_core::{ScanReport, Severity, Warning};
use palisade_policy::PolicyOptions;

/// Apply the policy to the report and return the process exit code.
pub fn apply(report: &mut ScanReport, opts: &PolicyOpts, quiet: bool) -> Result<u8> {
    let severities = opts
        .severity
        .iter()
        .map(|s| s.parse::<Severity>())
        .collect::<Result<Vec<_>, _>>()
        .context("--severity")?;
    let mut ignore_files = opts.ignore_files.clone();
    if let Ok(cwd) = std::env::current_dir() {
        for f in palisade_policy::discover_ignore_files(&cwd) {
            if !ignore_files.contains(&f) {
                ignore_files.push(f);
            }
        }
    }
    let today = time::OffsetDateTime::now_utc().date();
    let policy = PolicyOptions {
        severities,
        ignore_unfixed: opts.ignore_unfixed,
        ignore_files,
        vex: opts.vex.clone(),
        today,
    };
    let summary = palisade_policy::apply(report, &policy)?;
    for w in summary.warnings {
        report.warnings.push(Warning::new("policy", w));
    }
    for e in &summary.expired_entries {
        report.warnings.push(Warning::new("policy", format!("expired ignore entry no longer applies: {e}")));
    }
    if !quiet && (summary.suppressed > 0 || summary.filtered > 0) {
        eprintln!(
            "policy: {} findings suppressed (kept in the report with their reason), {} filtered out",
            summary.suppressed, summary.filtered
        );
    }
    Ok(palisade_policy::gate(report, opts.exit_code, None))
}
