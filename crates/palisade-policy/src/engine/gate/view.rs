//! The parts of a scan report gates read, borrowed from the report's JSON without copying it, and the
//! condition of each section.

use super::spec::{ImageRule, MisconfigRule, SecretRule, VulnRule};
use crate::engine::ObjectRef;
use palisade_core::Severity;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub(super) struct ReportView<'a> {
    #[serde(borrow)]
    pub artifact: ArtifactView<'a>,
    #[serde(default, borrow)]
    pub vulnerabilities: Vec<VulnView<'a>>,
    #[serde(default, borrow)]
    pub secrets: Vec<SecretView<'a>>,
    #[serde(default, borrow)]
    pub misconfigurations: Vec<MisconfigView<'a>>,
    #[serde(default, borrow)]
    pub licenses: Vec<LicenseView<'a>>,
    /// The scanners the scan ran: a licence gate over a scan without the licence scanner says so.
    #[serde(default, borrow)]
    pub scanners: Vec<&'a str>,
    /// Not a scan: only the image's name and digest (admission, for an image without a report), judged
    /// on its signatures alone.
    #[serde(default)]
    pub digest_only: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct LicenseView<'a> {
    #[serde(default)]
    pub package: Option<&'a str>,
    #[serde(default)]
    pub version: Option<&'a str>,
    #[serde(default)]
    pub purl: Option<&'a str>,
    pub raw: &'a str,
    #[serde(default)]
    pub expression: Option<&'a str>,
    pub path: &'a str,
    #[serde(default)]
    pub suppressed: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ArtifactView<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    #[serde(default, borrow)]
    pub repo_tags: Vec<&'a str>,
    /// `registry/repository@sha256:…` of a registry pull: what signature gates verify.
    #[serde(default, borrow)]
    pub repo_digests: Vec<&'a str>,
    #[serde(default, borrow)]
    pub config: Option<ConfigView<'a>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ConfigView<'a> {
    #[serde(default)]
    pub user: Option<&'a str>,
    #[serde(default)]
    pub created: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LocationView<'a> {
    pub path: &'a str,
}

#[derive(Debug, Deserialize)]
pub(super) struct VulnView<'a> {
    pub id: &'a str,
    #[serde(default, borrow)]
    pub aliases: Vec<&'a str>,
    pub package_name: &'a str,
    #[serde(default)]
    pub installed_version: &'a str,
    pub ecosystem: &'a str,
    #[serde(default)]
    pub purl: &'a str,
    #[serde(default, borrow)]
    pub locations: Vec<LocationView<'a>>,
    #[serde(default)]
    pub fixed_version: Option<&'a str>,
    pub severity: Severity,
    #[serde(default)]
    pub published: Option<&'a str>,
    #[serde(default)]
    pub exploit: Option<ExploitView>,
    #[serde(default)]
    pub suppressed: Option<&'a str>,
}

/// The exploit data a finding carries (`palisade_core::findings::vuln::Exploit`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct ExploitView {
    #[serde(default)]
    pub kev_added: Option<String>,
    #[serde(default)]
    pub ransomware: bool,
    #[serde(default)]
    pub epss: Option<f64>,
    #[serde(default)]
    pub epss_percentile: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct SecretView<'a> {
    pub rule_id: &'a str,
    pub severity: Severity,
    pub path: &'a str,
    #[serde(default)]
    pub line: u32,
    #[serde(default)]
    pub suppressed: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub(super) struct MisconfigView<'a> {
    pub check_id: &'a str,
    pub severity: Severity,
    pub file: &'a str,
    #[serde(default)]
    pub line: u32,
    #[serde(default)]
    pub message: &'a str,
    #[serde(default)]
    pub suppressed: Option<&'a str>,
}

impl<'a> ReportView<'a> {
    pub fn read(value: &'a Value) -> Result<ReportView<'a>, String> {
        serde_path_to_error::deserialize(value).map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }

    /// The names an image scope is matched against: the scanned name and the image's tags.
    pub fn image_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.artifact.name).chain(self.artifact.repo_tags.iter().copied())
    }

    /// The object decisions are about: the artifact (kind `Image`, `Rootfs`, ...) by name.
    pub fn object_ref(&self, mut base: ObjectRef) -> ObjectRef {
        let mut kind = self.artifact.kind.to_string();
        if let Some(first) = kind.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        base.kind = Some(kind);
        base.name = Some(self.artifact.name.to_string());
        base
    }
}

/// What a waiver can match a finding by.
pub(super) trait Waivable {
    /// Ids: vulnerability id and aliases, secret rule, check id, image condition.
    fn ids(&self) -> Vec<&str>;
    /// Package name and purl.
    fn packages(&self) -> Vec<&str> {
        Vec::new()
    }
    /// The path the finding is at, when it has one.
    fn path(&self) -> Option<&str>;
}

impl Waivable for VulnView<'_> {
    fn ids(&self) -> Vec<&str> {
        std::iter::once(self.id).chain(self.aliases.iter().copied()).collect()
    }
    fn packages(&self) -> Vec<&str> {
        vec![self.package_name, self.purl]
    }
    fn path(&self) -> Option<&str> {
        self.locations.first().map(|l| l.path)
    }
}

impl Waivable for SecretView<'_> {
    fn ids(&self) -> Vec<&str> {
        vec![self.rule_id]
    }
    fn path(&self) -> Option<&str> {
        Some(self.path)
    }
}

impl Waivable for MisconfigView<'_> {
    fn ids(&self) -> Vec<&str> {
        vec![self.check_id]
    }
    fn path(&self) -> Option<&str> {
        Some(self.file)
    }
}

impl Waivable for LicenseView<'_> {
    /// The expression, the declared text and each licence id of the expression.
    fn ids(&self) -> Vec<&str> {
        let mut v = vec![self.raw];
        if let Some(e) = self.expression {
            v.push(e);
            v.extend(
                e.split([' ', '(', ')']).filter(|t| !t.is_empty() && !matches!(*t, "AND" | "OR" | "WITH")),
            );
        }
        v
    }
    fn packages(&self) -> Vec<&str> {
        self.package.into_iter().chain(self.purl).collect()
    }
    fn path(&self) -> Option<&str> {
        Some(self.path)
    }
}

/// A licence the gate's licence policy refuses: what, which licence, which rule.
pub(super) fn license_violation(policy: &palisade_license::Policy, l: &LicenseView) -> Option<String> {
    let palisade_license::Decision::Fail(f) = policy.decide(l.expression) else { return None };
    let subject = match (l.package, l.version) {
        (Some(p), Some(v)) if !v.is_empty() => format!("{p} {v}"),
        (Some(p), _) => p.to_string(),
        _ => l.path.to_string(),
    };
    Some(format!(
        "{subject}: licence {} fails {} (from {})",
        l.expression.unwrap_or(l.raw),
        super::spec::gate_words(&f.rule),
        l.path
    ))
}

/// An image condition (`image.registries`, `image.runAsRoot`, `image.maxAge`), waivable by that name.
pub(super) struct ImageFact(pub &'static str);

impl Waivable for ImageFact {
    fn ids(&self) -> Vec<&str> {
        vec![self.0]
    }
    fn path(&self) -> Option<&str> {
        None
    }
}

fn severity_ok(list: &[Severity], s: Severity) -> bool {
    list.is_empty() || list.contains(&s)
}

fn age_of(timestamp: &str, now: jiff::Timestamp) -> Option<jiff::SignedDuration> {
    let t: jiff::Timestamp = timestamp.parse().ok().or_else(|| {
        // Dates without a time (`2024-01-31`) are read as midnight UTC.
        let d: jiff::civil::Date = timestamp.get(..10)?.parse().ok()?;
        d.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
    })?;
    Some(now.duration_since(t))
}

fn days(d: jiff::SignedDuration) -> i64 {
    d.as_secs() / 86_400
}

pub(super) fn vuln_violation(rule: &VulnRule, v: &VulnView, now: jiff::Timestamp) -> Option<String> {
    if !severity_ok(&rule.severities, v.severity) {
        return None;
    }
    if rule.fixable && v.fixed_version.is_none() {
        return None;
    }
    if !rule.ecosystems.is_empty() && !rule.ecosystems.iter().any(|e| e.eq_ignore_ascii_case(v.ecosystem)) {
        return None;
    }
    if rule.packages.as_ref().is_some_and(|g| !g.is_match(v.package_name) && !g.is_match(v.purl)) {
        return None;
    }
    if rule.ids.as_ref().is_some_and(|g| !v.ids().iter().any(|i| g.is_match(i))) {
        return None;
    }
    let exploit = v.exploit.as_ref();
    let mut exploit_note = String::new();
    if rule.kev {
        // Only vulnerabilities CISA lists as exploited in the wild; without exploit data in the DB, none.
        let added = exploit.and_then(|x| x.kev_added.as_deref())?;
        let ransomware = if exploit.is_some_and(|x| x.ransomware) { ", used by ransomware" } else { "" };
        exploit_note = format!(", in CISA KEV since {added}{ransomware}");
    }
    if rule.epss_min.is_some() || rule.epss_percentile_min.is_some() {
        let score = exploit.and_then(|x| x.epss)?;
        let percentile = exploit.and_then(|x| x.epss_percentile);
        if rule.epss_min.is_some_and(|m| score < m)
            || rule.epss_percentile_min.is_some_and(|m| percentile.is_none_or(|p| p < m))
        {
            return None;
        }
        let pct = percentile.map(|p| format!(", percentile {:.0}", p * 100.0)).unwrap_or_default();
        exploit_note.push_str(&format!(", EPSS {score:.3}{pct}"));
    }
    let mut age_note = String::new();
    if let Some(min) = rule.min_age {
        // An advisory without a publication date cannot be shown to be old enough: it does not count.
        let age = v.published.and_then(|p| age_of(p, now))?;
        if age < min {
            return None;
        }
        age_note = format!(", published {} days ago", days(age));
    }
    let at = v.locations.first().map(|l| format!(" at {}", l.path)).unwrap_or_default();
    let fix = match v.fixed_version {
        Some(f) => format!("fixed in {f}"),
        None => "no fix yet".to_string(),
    };
    Some(format!(
        "{} ({}) in {} {}{at}: {fix}{age_note}{exploit_note}",
        v.id, v.severity, v.package_name, v.installed_version
    ))
}

pub(super) fn secret_violation(rule: &SecretRule, s: &SecretView) -> Option<String> {
    if !severity_ok(&rule.severities, s.severity)
        || rule.rules.as_ref().is_some_and(|g| !g.is_match(s.rule_id))
    {
        return None;
    }
    Some(format!("secret {} ({}) in {}:{}", s.rule_id, s.severity, s.path, s.line))
}

pub(super) fn misconfig_violation(rule: &MisconfigRule, m: &MisconfigView) -> Option<String> {
    if !severity_ok(&rule.severities, m.severity)
        || rule.ids.as_ref().is_some_and(|g| !g.is_match(m.check_id))
    {
        return None;
    }
    if !rule.groups.is_empty() {
        let groups = palisade_checks::find_check(m.check_id).map(|c| c.meta().groups).unwrap_or(&[]);
        if !rule.groups.iter().any(|g| groups.contains(&g.as_str())) {
            return None;
        }
    }
    Some(format!("{} ({}) in {}:{}: {}", m.check_id, m.severity, m.file, m.line, m.message))
}

/// The repository an image reference names, with Docker Hub's implicit parts made explicit:
/// `nginx:1.25` → `docker.io/library/nginx`, `ghcr.io/a/b@sha256:…` → `ghcr.io/a/b`.
pub(super) fn repository(reference: &str) -> String {
    let no_digest = reference.split('@').next().unwrap_or(reference);
    // A tag is after the last `:` that comes after the last `/` (a port is before a `/`).
    let last_slash = no_digest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let repo = match no_digest[last_slash..].rfind(':') {
        Some(i) => &no_digest[..last_slash + i],
        None => no_digest,
    };
    let first = repo.split('/').next().unwrap_or("");
    let has_host = repo.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    match (has_host, repo.contains('/')) {
        (true, _) => repo.to_string(),
        (false, true) => format!("docker.io/{repo}"),
        (false, false) => format!("docker.io/library/{repo}"),
    }
}

fn registry_allowed(allowed: &[String], repo: &str) -> bool {
    allowed.iter().any(|a| {
        let a = a.trim_end_matches('/');
        let a = if a == "docker.io" || a.starts_with("docker.io/") {
            a.to_string()
        } else {
            repository_prefix(a)
        };
        repo == a || repo.starts_with(&format!("{a}/"))
    })
}

/// An allow-list entry written as Docker users write names (`library/nginx`, `nginx`) normalised like
/// [`repository`]; entries with a host stay as they are.
fn repository_prefix(entry: &str) -> String {
    let first = entry.split('/').next().unwrap_or("");
    if first.contains('.') || first.contains(':') || first == "localhost" {
        entry.to_string()
    } else {
        repository(entry)
    }
}

pub(super) fn image_violations(
    rule: &ImageRule,
    r: &ReportView,
    now: jiff::Timestamp,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if r.artifact.kind != "image" {
        return out;
    }
    if !rule.registries.is_empty() {
        // Names of image files (`--input app.tar`) are not references; their tags are.
        let names: Vec<&str> = if r.artifact.repo_tags.is_empty() {
            vec![r.artifact.name]
        } else {
            r.artifact.repo_tags.clone()
        };
        for name in names {
            let repo = repository(name);
            if !registry_allowed(&rule.registries, &repo) {
                out.push((
                    "image.registries",
                    format!(
                        "image {name} comes from {repo}, which is not in the allowed registries [{}]",
                        rule.registries.join(", ")
                    ),
                ));
            }
        }
    }
    let config = r.artifact.config.as_ref();
    if rule.run_as_root == Some(false) {
        let user = config.and_then(|c| c.user).unwrap_or("");
        let name = user.split(':').next().unwrap_or("");
        if name.is_empty() || name == "0" || name == "root" {
            let shown = if user.is_empty() { "no USER (root)".to_string() } else { format!("USER {user}") };
            out.push((
                "image.runAsRoot",
                format!("image runs as root ({shown}): set a non-root USER in the image"),
            ));
        }
    }
    if let Some(max) = rule.max_age {
        match config.and_then(|c| c.created).and_then(|c| age_of(c, now).map(|a| (c, a))) {
            Some((created, age)) if age > max => out.push((
                "image.maxAge",
                format!(
                    "image is {} days old (created {created}), older than the {} days allowed: rebuild it",
                    days(age),
                    days(max)
                ),
            )),
            Some(_) => {}
            None => out.push((
                "image.maxAge",
                "image has no creation time, so its age cannot be checked".to_string(),
            )),
        }
    }
    out
}
