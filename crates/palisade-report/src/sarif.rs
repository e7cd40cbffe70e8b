//! SARIF 2.1.0 output (`--format sarif`), for code-scanning dashboards.
//!
//! One run whose driver is Palisade. Every distinct rule id (vulnerability id, secret rule id, check id)
//! becomes one `rules[]` entry with descriptions, a help URI (the first `http(s)` reference), help text (fixed
//! versions or remediation) and the `security-severity` / `precision` / `tags` properties code-scanning UIs
//! read; when a rule has findings of several severities the highest wins. Every finding becomes one result:
//!
//! - level: critical/high `error`, medium `warning`, low/info/unknown `note`;
//! - locations: the package's location files for vulnerabilities (line 1), the file and line/column of
//!   secrets and misconfigurations; URIs are relative, percent-encoded paths (inside the image for images);
//! - `partialFingerprints["palisade/v1"]`: a hash of what identifies the finding (never its line, so the
//!   fingerprint survives edits above it), numbered when two results would share one;
//! - suppressed findings carry `suppressions: [{kind: "external", justification: reason}]`.
//!
//! Secrets only ever appear as their redacted preview; the finding type holds nothing else.

use crate::ReportError;
use crate::findings::{
    self, Kind, mapped_score, misconfig_message, misconfig_target, rank, sarif_level, secret_message,
    vuln_message, vuln_score, vuln_target,
};
use crate::util::short_hash;
use palisade_core::ScanReport;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::io::Write;

/// The schema URI written into `$schema`.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// `tool.driver.informationUri`: the workspace's `repository` (left out when that is not an http(s) URL).
const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

/// Key of Palisade's entry in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "palisade/v1";

/// One rule, built up while results are added.
struct Rule {
    id: String,
    kind: Kind,
    short: String,
    full: String,
    help_uri: Option<String>,
    help: Vec<String>,
    tags: Vec<String>,
    severity: String,
    score: f64,
}

impl Rule {
    fn to_json(&self) -> Value {
        let mut tags = vec![self.kind.tag().to_string(), "security".to_string()];
        for t in &self.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
        let precision = match self.kind {
            Kind::Vulnerability | Kind::Misconfiguration | Kind::Policy => "very-high",
            Kind::Secret | Kind::License => "high",
        };
        let mut r = json!({
            "id": self.id,
            "shortDescription": { "text": nonempty(&self.short, &self.id) },
            "fullDescription": { "text": nonempty(&self.full, &self.short) },
            "help": { "text": self.help.join("\n") },
            "defaultConfiguration": { "level": sarif_level(&self.severity) },
            "properties": {
                "tags": tags,
                "security-severity": format!("{:.1}", self.score),
                "precision": precision,
                "palisade-severity": self.severity,
            },
        });
        if let (Some(uri), Some(obj)) = (&self.help_uri, r.as_object_mut()) {
            obj.insert("helpUri".into(), Value::String(uri.clone()));
        }
        r
    }

    /// Keep the highest severity seen for this rule.
    fn raise(&mut self, severity: &str, score: f64) {
        if rank(severity) > rank(&self.severity)
            || (rank(severity) == rank(&self.severity) && score > self.score)
        {
            self.severity = severity.to_string();
            self.score = score;
        }
    }
}

fn nonempty<'a>(s: &'a str, fallback: &'a str) -> &'a str {
    if s.trim().is_empty() { fallback } else { s }
}

/// Collects rules (first-seen order) and results.
#[derive(Default)]
struct Builder {
    rules: Vec<Rule>,
    index: HashMap<String, usize>,
    results: Vec<Value>,
    fingerprints: HashMap<String, usize>,
}

impl Builder {
    /// The index of rule `id`, creating it with `make` when new.
    fn rule(&mut self, id: &str, make: impl FnOnce() -> Rule) -> usize {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.rules.len();
        self.rules.push(make());
        self.index.insert(id.to_string(), i);
        i
    }

    /// A fingerprint unique in this run: the hash of `parts`, with `:2`, `:3`, ... for repeats.
    fn fingerprint(&mut self, parts: &[&str]) -> String {
        let base = short_hash(parts);
        let n = self.fingerprints.entry(base.clone()).or_insert(0);
        *n += 1;
        if *n == 1 { base } else { format!("{base}:{n}") }
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        rule_index: usize,
        severity: &str,
        message: String,
        locations: Vec<Value>,
        fingerprint: String,
        suppressed: Option<&str>,
        properties: Map<String, Value>,
    ) {
        let rule_id = self.rules.get(rule_index).map(|r| r.id.clone()).unwrap_or_default();
        let mut r = json!({
            "ruleId": rule_id,
            "ruleIndex": rule_index,
            "level": sarif_level(severity),
            "message": { "text": message },
            "locations": locations,
            "partialFingerprints": { FINGERPRINT_KEY: fingerprint },
            "properties": Value::Object(properties),
        });
        if let (Some(reason), Some(obj)) = (suppressed, r.as_object_mut()) {
            obj.insert("suppressions".into(), json!([{ "kind": "external", "justification": reason }]));
        }
        self.results.push(r);
    }
}

/// Build the SARIF document.
pub fn to_value(report: &ScanReport) -> Value {
    let mut b = Builder::default();

    for v in &report.vulnerabilities {
        let score = vuln_score(v);
        let sev = v.severity.as_str();
        let idx = b.rule(&v.id, || Rule {
            id: v.id.clone(),
            kind: Kind::Vulnerability,
            short: match &v.title {
                Some(t) if !t.trim().is_empty() => format!("{}: {t}", v.id),
                _ => v.id.clone(),
            },
            full: v.description.clone().or_else(|| v.title.clone()).unwrap_or_else(|| v.id.clone()),
            help_uri: first_http(&v.references),
            help: Vec::new(),
            tags: Vec::new(),
            severity: sev.to_string(),
            score,
        });
        if let Some(rule) = b.rules.get_mut(idx) {
            rule.raise(sev, score);
            let eco = v.ecosystem.to_string();
            if !rule.tags.contains(&eco) {
                rule.tags.push(eco);
            }
            let line = format!(
                "{} {} {}: {}",
                v.ecosystem,
                v.package_name,
                v.installed_version,
                findings::vuln_fix_text(v)
            );
            if !rule.help.contains(&line) {
                rule.help.push(line);
            }
        }
        let mut locations: Vec<Value> =
            v.locations.iter().filter(|l| !l.path.is_empty()).map(|l| location(&l.path, 1, 0)).collect();
        if locations.is_empty() {
            locations.push(location(vuln_target(v, report), 1, 0));
        }
        let target = vuln_target(v, report).to_string();
        let fp = b.fingerprint(&["vuln", &v.id, &v.purl, &target]);
        let mut props = Map::new();
        props.insert("kind".into(), json!("vulnerability"));
        props.insert("severity".into(), json!(sev));
        props.insert("packageName".into(), json!(v.package_name));
        props.insert("packageVersion".into(), json!(v.package_version));
        props.insert("installedVersion".into(), json!(v.installed_version));
        props.insert("purl".into(), json!(v.purl));
        props.insert("status".into(), json!(v.status.to_string()));
        if let Some(f) = &v.fixed_version {
            props.insert("fixedVersion".into(), json!(f));
        }
        if let Some(layer) = v.locations.first().and_then(|l| l.layer) {
            props.insert("layer".into(), json!(layer));
        }
        b.push(idx, sev, vuln_message(v), locations, fp, v.suppressed.as_deref(), props);
    }

    for s in &report.secrets {
        let sev = s.severity.as_str();
        let idx = b.rule(&s.rule_id, || Rule {
            id: s.rule_id.clone(),
            kind: Kind::Secret,
            short: s.title.clone(),
            full: format!("{} found in a file (secret rule {}).", s.title, s.rule_id),
            help_uri: None,
            help: vec![
                "Revoke and rotate the credential, then remove it from the file, the image layers and the \
                 version history. Deleting the file in a later image layer does not remove it from the image."
                    .to_string(),
            ],
            tags: Vec::new(),
            severity: sev.to_string(),
            score: mapped_score(sev),
        });
        if let Some(rule) = b.rules.get_mut(idx) {
            rule.raise(sev, mapped_score(sev));
        }
        let fp = if s.fingerprint.is_empty() {
            b.fingerprint(&["secret", &s.rule_id, &s.path, &s.line.to_string()])
        } else {
            b.fingerprint(&["secret", &s.fingerprint])
        };
        let mut props = Map::new();
        props.insert("kind".into(), json!("secret"));
        props.insert("severity".into(), json!(sev));
        props.insert("redacted".into(), json!(s.redacted));
        props.insert("fingerprint".into(), json!(s.fingerprint));
        if let Some(l) = s.layer {
            props.insert("layer".into(), json!(l));
        }
        if let Some(d) = s.deleted_in_layer {
            props.insert("deletedInLayer".into(), json!(d));
        }
        if let Some(c) = &s.commit {
            props.insert("commit".into(), json!(c.id));
        }
        let loc = location(&s.path, s.line, s.column);
        b.push(idx, sev, secret_message(s), vec![loc], fp, s.suppressed.as_deref(), props);
    }

    for m in &report.misconfigurations {
        let sev = m.severity.as_str();
        let idx = b.rule(&m.check_id, || Rule {
            id: m.check_id.clone(),
            kind: Kind::Misconfiguration,
            short: m.title.clone(),
            full: m.title.clone(),
            help_uri: first_http(&m.references),
            help: Vec::new(),
            tags: Vec::new(),
            severity: sev.to_string(),
            score: mapped_score(sev),
        });
        if let Some(rule) = b.rules.get_mut(idx) {
            rule.raise(sev, mapped_score(sev));
            if !m.remediation.is_empty() && !rule.help.contains(&m.remediation) {
                rule.help.push(m.remediation.clone());
            }
            if let Some(res) = &m.resource {
                let t = res.kind.to_ascii_lowercase();
                if !t.is_empty() && !rule.tags.contains(&t) {
                    rule.tags.push(t);
                }
            }
        }
        let target = misconfig_target(m, report).to_string();
        let resource = findings::resource_text(m);
        let fp = b.fingerprint(&["misconfig", &m.check_id, &target, &resource, &m.message]);
        let mut props = Map::new();
        props.insert("kind".into(), json!("misconfiguration"));
        props.insert("severity".into(), json!(sev));
        if !resource.is_empty() {
            props.insert("resource".into(), json!(resource));
        }
        if let Some(l) = m.layer {
            props.insert("layer".into(), json!(l));
        }
        if !m.references.is_empty() {
            props.insert("references".into(), json!(m.references));
        }
        let loc = location(&target, m.line, m.column);
        b.push(idx, sev, misconfig_message(m), vec![loc], fp, m.suppressed.as_deref(), props);
    }

    for d in report.policy.iter().flat_map(|p| &p.decisions) {
        let sev = findings::decision_severity(d);
        let id = findings::decision_rule_id(d);
        let idx = b.rule(&id, || Rule {
            id: id.clone(),
            kind: Kind::Policy,
            short: format!("Policy {} rule {}", d.policy, d.rule),
            full: format!("Rule {} of the {:?} policy {}.", d.rule, d.language, d.policy),
            help_uri: None,
            help: d.source.iter().map(|s| format!("Defined at {s}")).collect(),
            tags: vec![format!("{:?}", d.language).to_ascii_lowercase()],
            severity: sev.to_string(),
            score: mapped_score(sev),
        });
        let target = d.object.origin.path.as_ref().map(|p| p.display().to_string());
        let target = target.unwrap_or_else(|| report.artifact.name.clone());
        let object = d.object.to_string();
        let fp = b.fingerprint(&["policy", &id, &object, &d.message]);
        let mut props = Map::new();
        props.insert("kind".into(), json!("policy"));
        props.insert("severity".into(), json!(sev));
        props.insert("action".into(), json!(d.action));
        props.insert("outcome".into(), json!(d.outcome));
        props.insert("object".into(), json!(object));
        b.push(idx, sev, findings::decision_message(d), vec![location(&target, 1, 0)], fp, None, props);
    }

    for l in &report.licenses {
        let sev = l.severity.as_str();
        let id = findings::license_rule(l);
        let idx = b.rule(&id, || Rule {
            id: id.clone(),
            kind: Kind::License,
            short: format!("Licence of category {}", l.category),
            full: format!(
                "A package or file under a licence of category {} (see docs/licenses.md for the categories)",
                l.category
            ),
            help_uri: None,
            help: vec![
                "Review the licence; gate with --license-deny, --license-allow or --license-fail-on.".into(),
            ],
            tags: vec![l.category.clone()],
            severity: sev.to_string(),
            score: mapped_score(sev),
        });
        let fp = b.fingerprint(&["license", &l.subject(), l.license(), &l.path]);
        let mut props = Map::new();
        props.insert("kind".into(), json!("license"));
        props.insert("severity".into(), json!(sev));
        props.insert("category".into(), json!(l.category));
        props.insert("license".into(), json!(l.license()));
        if let Some(r) = &l.failed_rule {
            props.insert("failedRule".into(), json!(r));
        }
        if let Some(p) = &l.purl {
            props.insert("purl".into(), json!(p));
        }
        if let Some(layer) = l.layer {
            props.insert("layer".into(), json!(layer));
        }
        let loc = location(&l.path, 0, 0);
        b.push(idx, sev, findings::license_message(l), vec![loc], fp, l.suppressed.as_deref(), props);
    }

    let tool_version = if report.tool.version.is_empty() { "0.0.0" } else { report.tool.version.as_str() };
    let mut driver = json!({
        "name": if report.tool.name.is_empty() { "palisade" } else { report.tool.name.as_str() },
        "version": tool_version,
        "rules": b.rules.iter().map(Rule::to_json).collect::<Vec<_>>(),
    });
    if let Some(obj) = driver.as_object_mut() {
        if let Some(uri) = first_http(&[INFORMATION_URI.to_string()]) {
            obj.insert("informationUri".into(), json!(uri));
        }
        if is_semver(tool_version) {
            obj.insert("semanticVersion".into(), json!(tool_version));
        }
    }
    let mut run_props = json!({
        "artifactName": report.artifact.name,
        "artifactKind": report.artifact.kind.to_string(),
        "created": report.created,
    });
    if let (Some(id), Some(obj)) = (&report.artifact.id, run_props.as_object_mut()) {
        obj.insert("artifactId".into(), json!(id));
    }
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "invocations": [invocation(report)],
            "results": b.results,
            "columnKind": "unicodeCodePoints",
            "properties": run_props,
        }],
    })
}

/// At most this many warnings become notifications (all are in the JSON report).
const MAX_WARNING_NOTIFICATIONS: usize = 1000;

/// The run's invocation: `executionSuccessful` is false when a scanner could not check what it was asked
/// to (the findings are then incomplete, not clean), and `toolExecutionNotifications` carries each such gap
/// (`error`), an end-of-life OS and the scan's warnings (`warning`).
fn invocation(report: &ScanReport) -> Value {
    let note = |level: &str, id: String, text: String| json!({ "level": level, "descriptor": { "id": id }, "message": { "text": text } });
    let mut notes: Vec<Value> = report
        .gaps
        .iter()
        .map(|g| note("error", format!("palisade/incomplete/{}", g.kind), g.to_string()))
        .collect();
    if let Some(os) = &report.os
        && let Some(eol) = os.end_of_life.as_ref().filter(|e| e.ended)
    {
        notes.push(note(
            "warning",
            "palisade/os-end-of-life".into(),
            format!(
                "{} {} reached its end of life on {}: no more security fixes",
                os.id, os.version_id, eol.date
            ),
        ));
    }
    notes.extend(
        report
            .warnings
            .iter()
            .take(MAX_WARNING_NOTIFICATIONS)
            .map(|w| note("warning", format!("palisade/warning/{}", w.source), w.to_string())),
    );
    if report.warnings.len() > MAX_WARNING_NOTIFICATIONS {
        notes.push(note(
            "note",
            "palisade/warning/more".into(),
            format!(
                "{} more warnings are in the JSON report",
                report.warnings.len() - MAX_WARNING_NOTIFICATIONS
            ),
        ));
    }
    json!({ "executionSuccessful": report.gaps.is_empty(), "toolExecutionNotifications": notes })
}

/// Write `report` as SARIF 2.1.0 JSON.
pub fn render(report: &ScanReport, out: &mut dyn Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *out, &to_value(report))?;
    out.write_all(b"\n")?;
    Ok(())
}

/// A SARIF location for `path` at `line`/`column` (1-based; 0 means unknown: line 1, no column; a column
/// without a line is dropped).
fn location(path: &str, line: u32, column: u32) -> Value {
    let mut region = Map::new();
    region.insert("startLine".into(), json!(line.max(1)));
    if column > 0 && line > 0 {
        region.insert("startColumn".into(), json!(column));
    }
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": path_uri(path) },
            "region": Value::Object(region),
        }
    })
}

/// A relative URI reference for a path: leading `/` removed, everything but unreserved characters and `/`
/// percent-encoded (so spaces, `#`, `?`, `%`, `\` and non-ASCII stay part of the path).
pub(crate) fn path_uri(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    let p = if trimmed.is_empty() { "." } else { trimmed };
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    // A first segment holding `:` would read as a scheme; it is encoded above, so nothing else to do.
    out
}

/// The first reference that is a plain `http(s)` URL safe to put in `helpUri`.
fn first_http(refs: &[String]) -> Option<String> {
    refs.iter()
        .map(|r| r.trim())
        .find(|r| {
            let lower = r.to_ascii_lowercase();
            (lower.starts_with("https://") || lower.starts_with("http://"))
                && r.len() > "https://".len()
                && r.bytes().all(|b| b.is_ascii_graphic() && !b"<>\"{}|\\^`".contains(&b))
        })
        .map(str::to_string)
}

/// `MAJOR.MINOR.PATCH` with optional pre-release/build (good enough for `semanticVersion`).
fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_uri_references() {
        assert_eq!(path_uri("/usr/lib/a b.txt"), "usr/lib/a%20b.txt");
        assert_eq!(path_uri("dir/#x?y%z"), "dir/%23x%3Fy%25z");
        assert_eq!(path_uri("c:\\evil"), "c%3A%5Cevil");
        assert_eq!(path_uri("é"), "%C3%A9");
        assert_eq!(path_uri(""), ".");
    }

    #[test]
    fn help_uri_takes_the_first_clean_http_reference() {
        let refs = vec![
            "checkov:CKV_K8S_16".to_string(),
            "https://bad example".to_string(),
            "https://kubernetes.io/docs/concepts/security/pod-security-standards/".to_string(),
        ];
        assert_eq!(
            first_http(&refs).as_deref(),
            Some("https://kubernetes.io/docs/concepts/security/pod-security-standards/")
        );
        assert_eq!(first_http(&["javascript:alert(1)".to_string()]), None);
    }

    #[test]
    fn semver_check() {
        assert!(is_semver("0.1.0"));
        assert!(is_semver("1.2.3-rc.1+g123"));
        assert!(!is_semver("1.2"));
        assert!(!is_semver("dev"));
    }

    #[test]
    fn rule_takes_the_highest_severity_of_its_findings() {
        let mut r = crate::test_fixtures::findings_report();
        // High first, critical second: the rule must still end up critical.
        r.vulnerabilities.swap(0, 1);
        let doc = to_value(&r);
        let rule = &doc["runs"][0]["tool"]["driver"]["rules"][0];
        assert_eq!(rule["id"], "CVE-2021-44228");
        assert_eq!(rule["defaultConfiguration"]["level"], "error");
        assert_eq!(rule["properties"]["palisade-severity"], "critical");
        assert_eq!(rule["properties"]["security-severity"], "10.0");
        // A rule seen only at medium stays a warning.
        assert_eq!(doc["runs"][0]["tool"]["driver"]["rules"][1]["defaultConfiguration"]["level"], "warning");
    }

    #[test]
    fn identical_findings_get_distinct_fingerprints() {
        let mut r = crate::test_fixtures::findings_report();
        let dup = r.misconfigurations[0].clone();
        r.misconfigurations.push(dup);
        let doc = to_value(&r);
        let fps: Vec<String> = doc["runs"][0]["results"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter(|x| x["ruleId"] == "PAL-K8S-014")
                    .filter_map(|x| x["partialFingerprints"][FINGERPRINT_KEY].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(fps.len(), 3);
        // The fixture's two PAL-K8S-014 findings differ only by line (which the fingerprint leaves out) and
        // the third is a copy: the base hash, then numbered repeats in report order.
        assert_eq!(fps[1], format!("{}:2", fps[0]));
        assert_eq!(fps[2], format!("{}:3", fps[0]));
    }

    #[test]
    fn only_suppressed_results_carry_suppressions() {
        let doc = to_value(&crate::test_fixtures::findings_report());
        let results = doc["runs"][0]["results"].as_array().cloned().unwrap_or_default();
        let suppressed = results.iter().filter(|x| x.get("suppressions").is_some()).count();
        assert_eq!(suppressed, 3);
        for x in &results {
            if let Some(s) = x.get("suppressions") {
                assert_eq!(s[0]["kind"], "external");
                assert!(s[0]["justification"].as_str().is_some_and(|j| !j.is_empty()));
            }
        }
    }
}
