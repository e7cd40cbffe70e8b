//! Policy step of a scan: severity filter, ignore-unfixed, ignore files, VEX, then the gate's verdict.

use crate::commands::common::PolicyOpts;
use anyhow::{Context, Result};
use palisade_core::findings::policy::PolicyResult;
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
    if let Some(bundle) = &opts.policy {
        let dir = opts.policy_source.resolve(bundle)?;
        report.policy = Some(evaluate_bundle(report, &dir, bundle)?);
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

/// Evaluate the bundle's gates and report policies on the finished report. A bundle that cannot be read at
/// all stops the command; a policy file that does not load is listed and fails the gate, and the rest runs.
fn evaluate_bundle(
    report: &ScanReport,
    path: &std::path::Path,
    given: &std::path::Path,
) -> Result<PolicyResult> {
    use palisade_policy::engine::{Budget, Origin, Subject, SubjectKind, evaluate_default};
    let bundle = palisade_policy::bundle::Bundle::read(path)?;
    let compiled = bundle.compile();
    let subject = Subject {
        kind: SubjectKind::ScanReport,
        value: serde_json::to_value(report).context("serialising the report for the policy bundle")?,
        origin: Origin::default(),
        admission: Default::default(),
    };
    let decisions = evaluate_default(&compiled.policies, &subject, &Budget::default());
    let name = if compiled.name.is_empty() { given.display().to_string() } else { compiled.name };
    Ok(PolicyResult {
        bundle: name,
        version: compiled.version,
        decisions,
        errors: compiled.errors.iter().filter(|e| !e.unsupported).map(ToString::to_string).collect(),
        unsupported: compiled.errors.iter().filter(|e| e.unsupported).map(ToString::to_string).collect(),
    })
}
