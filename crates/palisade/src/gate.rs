//! Policy step of a scan: severity filter, ignore-unfixed, ignore files, VEX, then the gate's verdict.

use crate::commands::common::PolicyOpts;
use anyhow::{Context, Result};
use palisade_core::{ScanReport, Severity, Warning};
use palisade_policy::{GateOptions, PolicyOptions, Verdict};

/// What the policy step did and decided.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The exit code and why.
    pub verdict: Verdict,
    /// Findings newly suppressed by ignore files and VEX (kept in the report with their reason).
    pub suppressed: usize,
    /// Findings removed by `--severity` and `--ignore-unfixed`.
    pub filtered: usize,
}

/// Apply the policy to the report and return the gate's verdict (exit code and reasons). The policy's own
/// warnings (expired ignore entries, unusable VEX statements) join the report's warnings.
pub fn apply(report: &mut ScanReport, opts: &PolicyOpts, allow_missing_db: bool) -> Result<Outcome> {
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
    let gate = GateOptions {
        exit_code: opts.exit_code,
        threshold: None,
        allow_gaps: allow_missing_db,
        exit_on_eol: opts.exit_on_eol,
    };
    Ok(Outcome {
        verdict: palisade_policy::verdict(report, &gate),
        suppressed: summary.suppressed,
        filtered: summary.filtered,
    })
}
