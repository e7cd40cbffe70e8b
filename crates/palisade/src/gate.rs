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
    apply_with_objects(report, opts, allow_missing_db, Vec::new())
}

/// [`apply`], with the Kubernetes objects the scan parsed: the bundle's policies (Rego, CEL, Kyverno)
/// evaluate each of them too, besides the report.
pub fn apply_with_objects(
    report: &mut ScanReport,
    opts: &PolicyOpts,
    allow_missing_db: bool,
    objects: Vec<palisade_checks::ParsedObject>,
) -> Result<Outcome> {
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
        report.policy = Some(evaluate_bundle(report, &dir, bundle, objects)?);
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

/// Evaluate the bundle's gates and report policies on the finished report, and its Kubernetes policies on
/// the objects the scan parsed (`objects`, from the misconfiguration scanner: one parse serves both). A
/// bundle that cannot be read at all stops the command; a policy file that does not load is listed and
/// fails the gate, and the rest runs.
fn evaluate_bundle(
    report: &ScanReport,
    path: &std::path::Path,
    given: &std::path::Path,
    objects: Vec<palisade_checks::ParsedObject>,
) -> Result<PolicyResult> {
    use palisade_policy::engine::{
        Budget, DEFAULT_NAMESPACE, Origin, Policy, Subject, SubjectKind, evaluate_default,
    };
    let bundle = palisade_policy::bundle::Bundle::read(path)?;
    let compiled = bundle.compile();
    let subject = Subject {
        memo: Default::default(),
        kind: SubjectKind::ScanReport,
        value: serde_json::to_value(report).context("serialising the report for the policy bundle")?,
        origin: Origin::default(),
        admission: Default::default(),
    };
    let mut decisions = evaluate_default(&compiled.policies, &subject, &Budget::default());
    drop(subject);
    let subjects: Vec<Subject> = objects
        .into_iter()
        .map(|o| {
            let origin = Origin { path: Some(o.file.into()), document: o.document, request_uid: None };
            Subject::object(o.object.root.to_json(), origin)
        })
        .collect();
    let policies: Vec<&dyn Policy> = compiled
        .policies
        .iter()
        .map(|p| p.as_ref())
        .filter(|p| p.namespace().is_none_or(|n| n == DEFAULT_NAMESPACE))
        .collect();
    decisions.extend(crate::commands::policy::evaluate(&policies, &subjects, OBJECT_TIME_LIMIT));
    let name = if compiled.name.is_empty() { given.display().to_string() } else { compiled.name };
    Ok(PolicyResult {
        bundle: name,
        version: compiled.version,
        decisions,
        errors: compiled.errors.iter().filter(|e| !e.unsupported).map(ToString::to_string).collect(),
        unsupported: compiled.errors.iter().filter(|e| e.unsupported).map(ToString::to_string).collect(),
    })
}

/// Time limit of one policy on one scanned object (as `policy eval`'s default `--timeout-ms`).
const OBJECT_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);
