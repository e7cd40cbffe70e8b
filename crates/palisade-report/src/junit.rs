//! JUnit XML output (`--format junit`), for CI systems that show test reports.
//!
//! `<testsuites name="palisade">` holds four `<testsuite>`s, always in this order and present even when
//! empty: `vulnerabilities`, `secrets`, `misconfigurations`, `licenses` (a licence is a passing test case
//! unless it fails the licence policy). Each finding is one `<testcase>` whose
//! `classname` is the file it points at and whose `name` identifies it (`CVE-... pkg@version`,
//! `rule path:line`, `check file:line`). With `--policy`, a fourth suite `policy` holds the bundle's decisions. Active findings carry `<failure message=... type=severity>` with
//! the explanation as text; suppressed ones carry `<skipped message=reason/>`.
//!
//! Text is escaped by hand: `& < > " '` become entities, characters XML 1.0 forbids (most C0 controls,
//! U+FFFE, U+FFFF) become U+FFFD, and newlines/tabs in attributes become character references so parsers keep
//! them.

use crate::ReportError;
use crate::findings::{
    Kind, misconfig_message, misconfig_target, resource_text, secret_message, vuln_message, vuln_target,
};
use palisade_core::ScanReport;
use std::io::Write;

/// One test case before writing.
struct Case {
    /// The case could not be checked (an `<error>`, not a `<failure>`).
    error: bool,
    classname: String,
    name: String,
    severity: String,
    summary: String,
    details: String,
    suppressed: Option<String>,
    /// The case passed (a licence the policy allows): no failure element.
    passed: bool,
}

/// Write `report` as JUnit XML.
pub fn render(report: &ScanReport, out: &mut dyn Write) -> Result<(), ReportError> {
    let mut vulns = gap_cases(report);
    vulns.extend(vuln_cases(report));
    let mut suites = vec![
        (Kind::Vulnerability, vulns),
        (Kind::Secret, secret_cases(report)),
        (Kind::Misconfiguration, misconfig_cases(report)),
        (Kind::License, license_cases(report)),
    ];
    if report.policy.is_some() {
        suites.push((Kind::Policy, policy_cases(report)));
    }
    let total: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let errors: usize = suites.iter().map(|(_, c)| c.iter().filter(|c| c.error).count()).sum();
    let failures: usize = suites
        .iter()
        .map(|(_, c)| c.iter().filter(|c| c.suppressed.is_none() && !c.error && !c.passed).count())
        .sum();

    let mut s = String::new();
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(&format!(
        "<testsuites name=\"palisade\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\">\n"
    ));
    for (kind, cases) in &suites {
        let errs = cases.iter().filter(|c| c.error).count();
        let fails = cases.iter().filter(|c| c.suppressed.is_none() && !c.error && !c.passed).count();
        let skipped = cases.iter().filter(|c| c.suppressed.is_some()).count();
        s.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" errors=\"{errs}\" skipped=\"{skipped}\">\n",
            kind.section(),
            cases.len()
        ));
        s.push_str("    <properties>\n");
        for (name, value) in [
            ("artifact", report.artifact.name.as_str()),
            ("artifact.kind", &report.artifact.kind.to_string()),
            ("created", report.created.as_str()),
        ] {
            s.push_str(&format!(
                "      <property name=\"{}\" value=\"{}\"/>\n",
                escape_attr(name),
                escape_attr(value)
            ));
        }
        s.push_str("    </properties>\n");
        for c in cases {
            s.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n",
                escape_attr(&c.classname),
                escape_attr(&c.name)
            ));
            match &c.suppressed {
                None if c.passed => {}
                None if c.error => {
                    s.push_str(&format!(
                        "      <error message=\"{}\" type=\"{}\">{}</error>\n",
                        escape_attr(&c.summary),
                        escape_attr(&c.severity),
                        escape_text(&c.details)
                    ));
                }
                Some(reason) => {
                    s.push_str(&format!("      <skipped message=\"{}\"/>\n", escape_attr(reason)));
                }
                None => {
                    s.push_str(&format!(
                        "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                        escape_attr(&c.summary),
                        escape_attr(&c.severity),
                        escape_text(&c.details)
                    ));
                }
            }
            s.push_str("    </testcase>\n");
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    out.write_all(s.as_bytes())?;
    Ok(())
}

/// What the vulnerability scanner could not check, one `<error>` case each: a build must not read an
/// incomplete scan as a clean one.
fn gap_cases(report: &ScanReport) -> Vec<Case> {
    report
        .gaps
        .iter()
        .map(|g| Case {
            error: true,
            classname: "palisade".into(),
            name: format!("{} coverage: {}", g.scanner, g.ecosystem.as_deref().unwrap_or(&g.kind)),
            severity: g.kind.clone(),
            summary: g.message.clone(),
            details: g.to_string(),
            suppressed: None,
            passed: false,
        })
        .collect()
}

fn vuln_cases(report: &ScanReport) -> Vec<Case> {
    report
        .vulnerabilities
        .iter()
        .map(|v| Case {
            error: false,
            classname: vuln_target(v, report).to_string(),
            name: format!("{} {}@{}", v.id, v.package_name, v.package_version),
            severity: v.severity.as_str().to_string(),
            summary: format!(
                "[{}] {} in {} {}",
                v.severity.as_str().to_ascii_uppercase(),
                v.id,
                v.package_name,
                v.installed_version
            ),
            details: vuln_message(v),
            suppressed: v.suppressed.clone(),
            passed: false,
        })
        .collect()
}

fn secret_cases(report: &ScanReport) -> Vec<Case> {
    report
        .secrets
        .iter()
        .map(|s| Case {
            error: false,
            classname: s.path.clone(),
            name: format!("{} {}:{}", s.rule_id, s.path, s.line),
            severity: s.severity.as_str().to_string(),
            summary: format!("[{}] {}: {}", s.severity.as_str().to_ascii_uppercase(), s.title, s.redacted),
            details: secret_message(s),
            suppressed: s.suppressed.clone(),
            passed: false,
        })
        .collect()
}

/// Policy decisions (`--policy`): `deny` violations fail, errors and unloadable policy files are errors,
/// `warn` and `audit` decisions are skipped cases carrying their message.
fn policy_cases(report: &ScanReport) -> Vec<Case> {
    use palisade_core::findings::policy::{Action, Outcome};
    let Some(policy) = &report.policy else { return Vec::new() };
    let mut cases: Vec<Case> = policy
        .errors
        .iter()
        .map(|e| Case {
            error: true,
            classname: policy.bundle.clone(),
            name: format!("load {e}"),
            severity: "high".into(),
            summary: format!("policy file not loaded: {e}"),
            details: e.clone(),
            suppressed: None,
            passed: false,
        })
        .collect();
    for d in &policy.decisions {
        let message = crate::findings::decision_message(d);
        cases.push(Case {
            error: d.outcome == Outcome::Error,
            classname: d.object.to_string(),
            name: format!("{}/{} {}", d.policy, d.rule, d.object),
            severity: crate::findings::decision_severity(d).into(),
            summary: message.clone(),
            details: d
                .source
                .as_ref()
                .map(|s| format!("{message}\npolicy at {s}"))
                .unwrap_or(message.clone()),
            suppressed: (d.outcome != Outcome::Error && d.action != Action::Deny).then_some(message),
            passed: false,
        });
    }
    cases
}

fn misconfig_cases(report: &ScanReport) -> Vec<Case> {
    report
        .misconfigurations
        .iter()
        .map(|m| {
            let target = misconfig_target(m, report);
            let res = resource_text(m);
            let mut name = format!("{} {target}:{}", m.check_id, m.line);
            if !res.is_empty() {
                name.push_str(&format!(" {res}"));
            }
            Case {
                error: false,
                classname: target.to_string(),
                name,
                severity: m.severity.as_str().to_string(),
                summary: format!("[{}] {}", m.severity.as_str().to_ascii_uppercase(), m.title),
                details: misconfig_message(m),
                suppressed: m.suppressed.clone(),
                passed: false,
            }
        })
        .collect()
}

/// Licences: only those that fail the licence policy are failures (the others pass as plain test cases).
fn license_cases(report: &ScanReport) -> Vec<Case> {
    report
        .licenses
        .iter()
        .map(|l| Case {
            error: false,
            classname: l.path.clone(),
            name: format!("{} {}: {}", crate::findings::license_rule(l), l.subject(), l.license()),
            severity: l.severity.as_str().to_string(),
            summary: format!(
                "[{}] {} under {} ({})",
                l.severity.as_str().to_ascii_uppercase(),
                l.subject(),
                l.license(),
                l.failed_rule.as_deref().unwrap_or("passes")
            ),
            details: crate::findings::license_message(l),
            suppressed: l.suppressed.clone(),
            passed: l.failed_rule.is_none(),
        })
        .collect()
}

/// True for characters XML 1.0 allows in a document.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escape element text.
pub(crate) fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A bare CR would be normalised to LF by parsers; keep it as a reference.
            '\r' => out.push_str("&#13;"),
            c if xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Escape an attribute value (double-quoted).
pub(crate) fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_forbidden_characters() {
        assert_eq!(escape_attr("a\"b'c<d>&e\nf"), "a&quot;b&apos;c&lt;d&gt;&amp;e&#10;f");
        assert_eq!(escape_text("]]></failure><x>&"), "]]&gt;&lt;/failure&gt;&lt;x&gt;&amp;");
        assert_eq!(escape_text("nul\0bell\u{7}"), "nul\u{FFFD}bell\u{FFFD}");
        assert_eq!(escape_text("\u{FFFE}ok\u{1F600}"), "\u{FFFD}ok\u{1F600}");
        assert_eq!(escape_text("plain text"), "plain text");
    }
}
