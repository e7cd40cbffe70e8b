//! Helpers shared by the renderers of findings (SARIF, JUnit, table): severity ranks and scores, the file a
//! finding points at, one-line summaries and text cleaning.
//!
//! Severities are handled through their lower-case names (`as_str()`), so the helpers work for every finding
//! type whatever severity enum it carries.

use palisade_core::findings::license::LicenseFinding;
use palisade_core::findings::misconfig::Misconfiguration;
use palisade_core::findings::secret::SecretFinding;
use palisade_core::findings::vuln::VulnFinding;
use palisade_core::{ScanReport, Severity};

/// The kind of scanner a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Vulnerability,
    Secret,
    Misconfiguration,
    /// A decision of the policy bundle (`--policy`).
    Policy,
    License,
}

impl Kind {
    /// Singular tag (`vulnerability`, `secret`, `misconfiguration`).
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Kind::Vulnerability => "vulnerability",
            Kind::Secret => "secret",
            Kind::Misconfiguration => "misconfiguration",
            Kind::Policy => "policy",
            Kind::License => "license",
        }
    }

    /// Plural, as the report section is named.
    pub(crate) fn section(self) -> &'static str {
        match self {
            Kind::Vulnerability => "vulnerabilities",
            Kind::Secret => "secrets",
            Kind::Misconfiguration => "misconfigurations",
            Kind::Policy => "policy",
            Kind::License => "licenses",
        }
    }
}

/// One line about a licence finding: what, which licence, its category, the rule it fails and where it
/// was read.
pub(crate) fn license_message(l: &LicenseFinding) -> String {
    let mut m = format!("{}: {} ({})", l.subject(), l.license(), l.category);
    if l.expression.is_some() && l.raw != l.license() {
        m.push_str(&format!(", declared as {:?}", l.raw));
    }
    if let Some(r) = &l.failed_rule {
        m.push_str(&format!("; fails {r}"));
    }
    if let Some(c) = l.confidence {
        m.push_str(&format!("; text match {:.0}%", c * 100.0));
    }
    if let Some(n) = &l.note {
        m.push_str(&format!("; {n}"));
    }
    m.push_str(&format!("; from {}", l.path));
    m
}

/// The SARIF rule / JUnit name of a licence finding: the licence's category (`license-restricted`).
pub(crate) fn license_rule(l: &LicenseFinding) -> String {
    format!("license-{}", l.category)
}

/// Rank of a severity name: unknown 0, info 1, low 2, medium 3, high 4, critical 5 (unrecognised names are 0).
pub(crate) fn rank(severity: &str) -> u8 {
    match Severity::parse(severity) {
        Some(Severity::Critical) => 5,
        Some(Severity::High) => 4,
        Some(Severity::Medium) => 3,
        Some(Severity::Low) => 2,
        Some(Severity::Info) => 1,
        Some(Severity::Unknown) | None => 0,
    }
}

/// Severity names from most to least severe, upper case, as summary lines print them.
pub(crate) const SEVERITY_NAMES: [&str; 6] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO", "UNKNOWN"];

/// The SARIF level of a severity: critical/high `error`, medium `warning`, everything else `note`.
pub(crate) fn sarif_level(severity: &str) -> &'static str {
    match rank(severity) {
        4 | 5 => "error",
        3 => "warning",
        _ => "note",
    }
}

/// The fixed score standing for a severity where no CVSS score applies (critical 9.5, high 8.0, medium 5.5,
/// low 2.0, info/unknown 0.0).
pub(crate) fn mapped_score(severity: &str) -> f64 {
    match rank(severity) {
        5 => 9.5,
        4 => 8.0,
        3 => 5.5,
        2 => 2.0,
        _ => 0.0,
    }
}

/// The score of a vulnerability: its highest CVSS base score when that score falls in the finding's own
/// severity band (so the score never contradicts the severity Palisade reports, e.g. a Debian `low` with a
/// NVD 9.8), otherwise [`mapped_score`].
pub(crate) fn vuln_score(v: &VulnFinding) -> f64 {
    let best = v
        .cvss
        .iter()
        .map(|c| c.score)
        .filter(|s| s.is_finite() && (0.0..=10.0).contains(s))
        .fold(None, |acc: Option<f64>, s| Some(acc.map_or(s, |a| a.max(s))));
    match best {
        Some(s) if Severity::from_cvss_score(s) == v.severity && v.severity != Severity::Unknown => s,
        _ => mapped_score(v.severity.as_str()),
    }
}

/// The file a vulnerability is reported against: the package's primary location, else the artifact name.
pub(crate) fn vuln_target<'a>(v: &'a VulnFinding, report: &'a ScanReport) -> &'a str {
    v.locations.first().map(|l| l.path.as_str()).filter(|p| !p.is_empty()).unwrap_or(&report.artifact.name)
}

/// The file a misconfiguration is reported against: its file, else the artifact name (image config checks).
pub(crate) fn misconfig_target<'a>(m: &'a Misconfiguration, report: &'a ScanReport) -> &'a str {
    if m.file.is_empty() { &report.artifact.name } else { &m.file }
}

/// `kind namespace/name` of a misconfiguration's resource, with the container when there is one.
pub(crate) fn resource_text(m: &Misconfiguration) -> String {
    let mut s = match &m.resource {
        Some(r) => {
            let name = match &r.namespace {
                Some(ns) if !ns.is_empty() => format!("{ns}/{}", r.name),
                _ => r.name.clone(),
            };
            if name.is_empty() { r.kind.clone() } else { format!("{} {name}", r.kind) }
        }
        None => String::new(),
    };
    if let Some(c) = &m.container {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&format!("container {c}"));
    }
    s
}

/// What the fix of a vulnerability is: `fixed in X`, or why there is none.
pub(crate) fn vuln_fix_text(v: &VulnFinding) -> String {
    match &v.fixed_version {
        Some(f) => format!("fixed in {f}"),
        None => format!("no fixed version ({})", v.status),
    }
}

/// One paragraph explaining a vulnerability finding: package, installed and fixed version, how it matched.
pub(crate) fn vuln_message(v: &VulnFinding) -> String {
    let mut s = format!("{} {} {}: {}", v.ecosystem, v.package_name, v.package_version, v.id);
    if let Some(t) = v.title.as_deref().filter(|t| !t.is_empty()) {
        s.push_str(&format!(" ({t})"));
    }
    s.push_str(&format!(". Severity {}", v.severity));
    if let Some(src) = &v.severity_source {
        s.push_str(&format!(" ({src})"));
    }
    s.push_str(&format!(". Installed version {}", v.installed_version));
    if v.installed_version != v.package_version {
        s.push_str(" (source package)");
    }
    s.push_str(&format!(", {}.", vuln_fix_text(v)));
    if !v.matched_by.is_empty() {
        s.push_str(&format!(" Matched by: {}.", v.matched_by.join("; ")));
    }
    if !v.aliases.is_empty() {
        s.push_str(&format!(" Aliases: {}.", v.aliases.join(", ")));
    }
    s
}

/// Where a secret sits in an image: `layer N`, `layer N, deleted in layer M`, or nothing.
pub(crate) fn secret_layer_text(s: &SecretFinding) -> String {
    match (s.layer, s.deleted_in_layer) {
        (Some(l), Some(d)) => format!("layer {l}, deleted in layer {d}"),
        (Some(l), None) => format!("layer {l}"),
        (None, Some(d)) => format!("deleted in layer {d}"),
        (None, None) => String::new(),
    }
}

/// One paragraph explaining a secret finding. Only the redacted preview is used: the type never holds the
/// secret.
pub(crate) fn secret_message(s: &SecretFinding) -> String {
    let mut m = format!("{} ({}) at {}:{}: {}", s.title, s.rule_id, s.path, s.line, s.redacted);
    let layer = secret_layer_text(s);
    if !layer.is_empty() {
        m.push_str(&format!(". In {layer}"));
        if s.deleted_in_layer.is_some() {
            m.push_str(" (still extractable from the image)");
        }
    }
    if let Some(c) = &s.commit {
        m.push_str(&format!(". Introduced in commit {} by {} on {}", c.id, c.author, c.date));
    }
    m.push('.');
    m
}

/// One paragraph explaining a misconfiguration: what is wrong and how to fix it.
pub(crate) fn misconfig_message(m: &Misconfiguration) -> String {
    let mut s = m.message.trim_end_matches('.').to_string();
    let res = resource_text(m);
    if !res.is_empty() {
        s.push_str(&format!(" ({res})"));
    }
    s.push('.');
    if !m.remediation.is_empty() {
        s.push_str(&format!(" Fix: {}", m.remediation));
    }
    s
}

/// Text safe to print on a terminal: control characters (ANSI escapes, carriage returns, newlines, ...) are
/// shown as `\u{..}` escapes instead of being interpreted.
pub fn clean(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// `s` cut to at most `max` characters, ending in `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The severity a policy decision is shown with: errors and `deny` as high, `warn` medium, `audit` low.
pub(crate) fn decision_severity(d: &palisade_core::findings::policy::Decision) -> &'static str {
    use palisade_core::findings::policy::{Action, Outcome};
    match (d.outcome, d.action) {
        (Outcome::Error, _) | (_, Action::Deny) => "high",
        (_, Action::Warn) => "medium",
        (_, Action::Audit) => "low",
    }
}

/// The rule id a policy decision is reported under: `policy/<policy>/<rule>`.
pub(crate) fn decision_rule_id(d: &palisade_core::findings::policy::Decision) -> String {
    format!("policy/{}/{}", d.policy, d.rule)
}

/// `[deny] gate/rule on Object: message`.
pub(crate) fn decision_message(d: &palisade_core::findings::policy::Decision) -> String {
    let what = match d.outcome {
        palisade_core::findings::policy::Outcome::Error => "error".to_string(),
        _ => format!("{:?}", d.action).to_ascii_lowercase(),
    };
    format!("[{what}] {}/{} on {}: {}", d.policy, d.rule, d.object, d.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_and_levels() {
        assert_eq!(rank("critical"), 5);
        assert_eq!(rank("HIGH"), 4);
        assert_eq!(rank("nonsense"), 0);
        assert_eq!(sarif_level("critical"), "error");
        assert_eq!(sarif_level("high"), "error");
        assert_eq!(sarif_level("medium"), "warning");
        assert_eq!(sarif_level("low"), "note");
        assert_eq!(sarif_level("info"), "note");
        assert_eq!(sarif_level("unknown"), "note");
        assert_eq!(mapped_score("critical"), 9.5);
        assert_eq!(mapped_score("low"), 2.0);
    }

    #[test]
    fn clean_escapes_terminal_control() {
        assert_eq!(clean("plain"), "plain");
        assert_eq!(clean("a\x1b[31mb\nc"), "a\\u{1b}[31mb\\u{a}c");
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("äbcdef", 4), "äbc…");
    }
}
