//! Gating and suppression for CI, shared by the vulnerability, secret and misconfiguration scanners.
//!
//! [`apply`] runs after the matchers and before rendering, in this order:
//!
//! 1. `--severity`: findings whose severity is not listed are **removed** (counted in
//!    [`PolicySummary::filtered`]), as Trivy does.
//! 2. `--ignore-unfixed`: vulnerabilities without a fixed version (status `affected`, `will-not-fix`,
//!    `end-of-life`) are removed and counted in `filtered` too.
//! 3. Ignore files (`.palisadeignore`, `.trivyignore`, `.trivyignore.yaml`, see `docs/ignore-file.md`) and
//!    OpenVEX documents **suppress**: the finding stays in the report with `suppressed = Some(reason)` so the
//!    decision is visible, but it no longer fails a [`gate`]. Findings already suppressed upstream (inline
//!    annotations) keep their reason. Expired ignore entries do not suppress and are listed in
//!    [`PolicySummary::expired_entries`].
//!
//! [`gate`] then turns what is left into the process exit code.

pub mod bundle;
pub mod engine;
pub mod input;
mod palisade_ignore;
mod purl;
mod rule;
mod trivy;
mod vex;

use palisade_core::{ScanReport, Severity};
use rule::IgnoreRule;
use std::path::{Path, PathBuf};

/// What the CLI asks of the policy stage.
#[derive(Debug, Clone)]
pub struct PolicyOptions {
    /// `--severity LIST`: only these severities are reported (others are removed); empty = all.
    pub severities: Vec<Severity>,
    /// `--ignore-unfixed`: remove vulnerabilities with no fixed version.
    pub ignore_unfixed: bool,
    /// Ignore files to read: explicit `--ignorefile` paths plus those [`discover_ignore_files`] found.
    pub ignore_files: Vec<PathBuf>,
    /// `--vex FILE` (OpenVEX JSON), repeatable.
    pub vex: Vec<PathBuf>,
    /// The day expiry dates are compared with (injectable for tests).
    pub today: time::Date,
}

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicySummary {
    /// Findings newly marked suppressed (by an ignore entry or a VEX statement).
    pub suppressed: usize,
    /// Findings removed by `--severity` or `--ignore-unfixed`.
    pub filtered: usize,
    /// Ignore entries whose expiry date has passed, as `file:line: id (expired YYYY-MM-DD)`.
    pub expired_entries: Vec<String>,
    /// Non-fatal problems in the inputs (unknown tokens, unusable VEX statements, ...).
    pub warnings: Vec<String>,
}

/// Why the policy inputs could not be used. Every variant names the file; parse problems also the line.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML/JSON or does not have the expected shape.
    #[error("{}:{line}: {message}", path.display())]
    Syntax { path: PathBuf, line: usize, message: String },
    /// One entry is unusable (no reason, bad date, bad purl or glob, ...).
    #[error("{}:{line}: {message}", path.display())]
    Entry { path: PathBuf, line: usize, message: String },
}

/// Turn a YAML error into a [`PolicyError::Syntax`] with the line serde-saphyr reports.
pub(crate) fn yaml_error(path: &Path, e: &serde_saphyr::Error) -> PolicyError {
    let location = e.location();
    let line = location.map(|l| l.line() as usize).unwrap_or(0);
    // The Display of serde-saphyr errors can carry a source snippet over several lines and starts with
    // `error: line L column C: `; keep the first line without that prefix, which the error repeats itself.
    let text = e.to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let first = first.strip_prefix("error:").unwrap_or(first).trim_start();
    let first = match first.strip_prefix("line ").and_then(|rest| rest.split_once(": ")) {
        Some((_, msg)) => msg,
        None => first,
    };
    let message = match location.map(|l| l.column()) {
        Some(col) if col > 0 => format!("invalid YAML at column {col}: {first}"),
        _ => format!("invalid YAML: {first}"),
    };
    PolicyError::Syntax { path: path.to_path_buf(), line, message }
}

/// Ignore files present in `dir`, in the order they are read: `.palisadeignore`, `.trivyignore`,
/// `.trivyignore.yaml`.
pub fn discover_ignore_files(dir: &Path) -> Vec<PathBuf> {
    [".palisadeignore", ".trivyignore", ".trivyignore.yaml"]
        .iter()
        .map(|name| dir.join(name))
        .filter(|p| p.is_file())
        .collect()
}

/// The format of an ignore file, chosen by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IgnoreFormat {
    Palisade,
    TrivyPlain,
    TrivyYaml,
}

/// Names containing `palisade` are `.palisadeignore` YAML; other `.yaml`/`.yml` files are Trivy's YAML
/// format; anything else is Trivy's plain one-id-per-line format.
fn format_of(path: &Path) -> IgnoreFormat {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if name.contains("palisade") {
        IgnoreFormat::Palisade
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        IgnoreFormat::TrivyYaml
    } else {
        IgnoreFormat::TrivyPlain
    }
}

fn read(path: &Path) -> Result<String, PolicyError> {
    std::fs::read_to_string(path).map_err(|source| PolicyError::Io { path: path.to_path_buf(), source })
}

/// Read every ignore file into rules.
fn load_rules(files: &[PathBuf], warnings: &mut Vec<String>) -> Result<Vec<IgnoreRule>, PolicyError> {
    let mut rules = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for path in files {
        // The CLI may pass a discovered file again explicitly; read each once.
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let text = read(path)?;
        let mut parsed = match format_of(path) {
            IgnoreFormat::Palisade => palisade_ignore::parse(path, &text)?,
            IgnoreFormat::TrivyPlain => trivy::parse_plain(path, &text, warnings)?,
            IgnoreFormat::TrivyYaml => trivy::parse_yaml(path, &text, warnings)?,
        };
        rules.append(&mut parsed);
    }
    Ok(rules)
}

/// Apply the severity filter, `--ignore-unfixed`, ignore files and VEX documents to `report` (see the crate
/// docs for the order). On error the report is left unchanged.
pub fn apply(report: &mut ScanReport, opts: &PolicyOptions) -> Result<PolicySummary, PolicyError> {
    let mut summary = PolicySummary::default();
    let rules = load_rules(&opts.ignore_files, &mut summary.warnings)?;
    let mut vex = vex::VexSet::default();
    for path in &opts.vex {
        let text = read(path)?;
        vex.add_document(path, &text, &mut summary.warnings)?;
    }

    let (live, expired): (Vec<&IgnoreRule>, Vec<&IgnoreRule>) =
        rules.iter().partition(|r| !r.is_expired(opts.today));
    summary.expired_entries = expired.iter().map(|r| r.expired_description()).collect();

    // 1. Severity filter.
    if !opts.severities.is_empty() {
        let keep = |s: Severity| opts.severities.contains(&s);
        let before = report.vulnerabilities.len() + report.secrets.len() + report.misconfigurations.len();
        report.vulnerabilities.retain(|f| keep(f.severity));
        report.secrets.retain(|f| keep(f.severity));
        report.misconfigurations.retain(|f| keep(f.severity));
        let after = report.vulnerabilities.len() + report.secrets.len() + report.misconfigurations.len();
        summary.filtered += before - after;
    }

    // 2. Unfixed vulnerabilities.
    if opts.ignore_unfixed {
        let before = report.vulnerabilities.len();
        report.vulnerabilities.retain(|f| f.status == palisade_core::findings::vuln::VulnStatus::Fixed);
        summary.filtered += before - report.vulnerabilities.len();
    }

    // 3. Suppression: ignore entries first (in file order), then VEX.
    for f in report.vulnerabilities.iter_mut().filter(|f| f.is_active()) {
        let reason = live.iter().find(|r| r.matches_vuln(f)).map(|r| r.suppression_reason());
        let reason = reason.or_else(|| if vex.is_empty() { None } else { vex.suppression(f) });
        if let Some(reason) = reason {
            f.suppressed = Some(reason);
            summary.suppressed += 1;
        }
    }
    for f in report.secrets.iter_mut().filter(|f| f.is_active()) {
        if let Some(r) = live.iter().find(|r| r.matches_secret(f)) {
            f.suppressed = Some(r.suppression_reason());
            summary.suppressed += 1;
        }
    }
    for f in report.misconfigurations.iter_mut().filter(|f| f.is_active()) {
        if let Some(r) = live.iter().find(|r| r.matches_misconfig(f)) {
            f.suppressed = Some(r.suppression_reason());
            summary.suppressed += 1;
        }
    }
    // Licence waivers: only licences that fail the licence policy need one.
    for f in report.licenses.iter_mut().filter(|f| f.is_active()) {
        if let Some(r) = live.iter().find(|r| r.matches_license(f)) {
            f.suppressed = Some(r.suppression_reason());
            summary.suppressed += 1;
        }
    }
    Ok(summary)
}

/// What fails the CI gate, beyond the findings.
#[derive(Debug, Clone, Copy, Default)]
pub struct GateOptions<'a> {
    /// `--exit-code`: returned when active findings remain, or when results are incomplete.
    pub exit_code: u8,
    /// Only active findings of these severities count (see [`gate`]).
    pub threshold: Option<&'a [Severity]>,
    /// `--allow-missing-db`: incomplete vulnerability results ([`ScanReport::gaps`]) do not fail the gate.
    pub allow_gaps: bool,
    /// `--exit-on-eol`: returned when the OS release has reached its end of life.
    pub exit_on_eol: u8,
}

/// The gate's decision: the exit code and, for each thing that failed it, one line saying what.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    pub code: u8,
    pub reasons: Vec<String>,
}

/// The exit code for CI, checked in this order: an end-of-life OS (`exit_on_eol`), active findings
/// (`exit_code`, see [`gate`]), incomplete vulnerability results (`exit_code` unless `allow_gaps`). Each
/// failing check adds a reason, also when an earlier one already chose the code.
pub fn verdict(report: &ScanReport, opts: &GateOptions) -> Verdict {
    let mut v = Verdict::default();
    let fail = |code: u8, reason: String, v: &mut Verdict| {
        if code != 0 {
            if v.code == 0 {
                v.code = code;
            }
            v.reasons.push(reason);
        }
    };
    if let Some(os) = &report.os
        && let Some(e) = os.end_of_life.as_ref().filter(|e| e.ended)
    {
        fail(
            opts.exit_on_eol,
            format!("{} {} reached its end of life on {} (--exit-on-eol)", os.id, os.version_id, e.date),
            &mut v,
        );
    }
    if let Some(policy) = &report.policy {
        // A bundle fails the gate even without --exit-code: asking for a policy is asking for a gate.
        let code = if opts.exit_code == 0 { 1 } else { opts.exit_code };
        let denied = policy.failing().count();
        if denied > 0 {
            fail(
                code,
                format!("{denied} policy decisions deny (bundle {}, --policy)", policy.bundle),
                &mut v,
            );
        }
        if !policy.errors.is_empty() {
            fail(
                code,
                format!(
                    "{} policy files of bundle {} could not be loaded (--policy)",
                    policy.errors.len(),
                    policy.bundle
                ),
                &mut v,
            );
        }
    }
    let active = active_findings(report, opts.threshold);
    if active > 0 {
        fail(opts.exit_code, format!("{active} active findings remain (--exit-code)"), &mut v);
    }
    if !opts.allow_gaps && !report.gaps.is_empty() {
        let unchecked: usize = report.gaps.iter().map(|g| g.packages).sum();
        fail(
            opts.exit_code,
            format!(
                "vulnerability results are incomplete ({} gap{}, {unchecked} packages unchecked); \
                 --allow-missing-db accepts that",
                report.gaps.len(),
                if report.gaps.len() == 1 { "" } else { "s" }
            ),
            &mut v,
        );
    }
    v
}

/// The exit code for CI: `exit_code` when an active (not suppressed) finding of any kind remains, else 0.
/// With `threshold` (non-empty), only active findings whose severity is listed count, so a CI job can report
/// every severity but fail only on the worst ones; `None` or an empty list counts every active finding.
pub fn gate(report: &ScanReport, exit_code: u8, threshold: Option<&[Severity]>) -> u8 {
    if active_findings(report, threshold) > 0 { exit_code } else { 0 }
}

/// Active (not suppressed) findings of every kind, counting only the `threshold` severities when given.
fn active_findings(report: &ScanReport, threshold: Option<&[Severity]>) -> usize {
    let counts = |s: Severity| threshold.is_none_or(|t| t.is_empty() || t.contains(&s));
    report.vulnerabilities.iter().filter(|f| f.is_active() && counts(f.severity)).count()
        + report.secrets.iter().filter(|f| f.is_active() && counts(f.severity)).count()
        + report.misconfigurations.iter().filter(|f| f.is_active() && counts(f.severity)).count()
        + report.licenses.iter().filter(|f| f.is_active() && counts(f.severity)).count()
}

#[cfg(test)]
mod tests;
