//! The `Gate` document (`apiVersion: palisade.dev/v1`, `kind: Gate`) as written, and its compiled form.
//! Unknown keys are errors, so a misspelt condition cannot silently let everything pass.

use super::duration::parse_age;
use super::signatures::{RawSignatures, SignatureRule};
use crate::engine::Action;
use globset::{Glob, GlobSet, GlobSetBuilder};
use palisade_core::Severity;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGate {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub metadata: RawMeta,
    pub spec: RawSpec,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawMeta {
    pub name: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawSpec {
    #[serde(default)]
    pub action: Option<String>,
    /// Text put before every message of this gate (e.g. where to ask for help).
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub scope: RawScope,
    #[serde(default)]
    pub vulnerabilities: Option<RawVulns>,
    #[serde(default)]
    pub secrets: Option<RawSecrets>,
    #[serde(default)]
    pub misconfigurations: Option<RawMisconfigs>,
    #[serde(default)]
    pub image: Option<RawImage>,
    #[serde(default)]
    pub licenses: Option<RawLicenses>,
    /// Signatures and attestations the image must carry (see `signatures.rs`).
    #[serde(default)]
    pub signatures: Option<RawSignatures>,
    #[serde(default)]
    pub pod_security: Option<RawPodSecurity>,
    #[serde(default)]
    pub waivers: Vec<RawWaiver>,
}

/// Pod Security Standards on Kubernetes objects, as Pod Security Admission applies them.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPodSecurity {
    /// `baseline` (default), `restricted` or `privileged`: the level where the namespace has no label.
    #[serde(default)]
    pub level: Option<String>,
    /// Read the namespace's `pod-security.kubernetes.io/{enforce,warn,audit}` labels (default true).
    #[serde(default)]
    pub namespace_labels: Option<bool>,
}

/// The compiled `podSecurity` section.
#[derive(Debug)]
pub(super) struct PodSecurityRule {
    /// Check group of the default level; `None` for `privileged`.
    pub level: Option<&'static str>,
    pub namespace_labels: bool,
}

/// Licences (`--scanners license`), judged like `--license-deny`/`-allow`/`-fail-on`/`-unknown`: see
/// docs/licenses.md.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawLicenses {
    #[serde(default)]
    pub deny: Vec<String>,
    #[serde(default)]
    pub allow: Vec<String>,
    /// Categories: forbidden, restricted, reciprocal, notice, permissive, unencumbered, unknown.
    #[serde(default)]
    pub fail_on: Vec<String>,
    /// What an unknown licence does: warn (default), fail, ignore.
    #[serde(default)]
    pub unknown: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawScope {
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub namespaces: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawVulns {
    #[serde(default)]
    pub severities: Vec<String>,
    /// Only vulnerabilities with a fixed version.
    #[serde(default)]
    pub fixable: bool,
    /// Only vulnerabilities published at least this long ago (`30d`, `2w`, `P1M`).
    #[serde(default)]
    pub min_age: Option<String>,
    #[serde(default)]
    pub ecosystems: Vec<String>,
    /// Globs on the package name or purl.
    #[serde(default)]
    pub packages: Vec<String>,
    /// Only these ids (or aliases).
    #[serde(default)]
    pub ids: Vec<String>,
    /// Only vulnerabilities in CISA's Known Exploited Vulnerabilities catalog.
    #[serde(default)]
    pub kev: bool,
    /// Only vulnerabilities whose EPSS score (or percentile) is at least this.
    #[serde(default)]
    pub epss: Option<RawEpss>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawEpss {
    /// Probability of exploitation in the next 30 days, 0–1.
    #[serde(default)]
    pub min: Option<f64>,
    /// Percentile among all scored CVEs, 0–1.
    #[serde(default)]
    pub min_percentile: Option<f64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawSecrets {
    #[serde(default)]
    pub severities: Vec<String>,
    #[serde(default)]
    pub rules: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawMisconfigs {
    #[serde(default)]
    pub severities: Vec<String>,
    #[serde(default)]
    pub ids: Vec<String>,
    /// Check groups (`pss:restricted`, `dockerfile`, `rbac`, ...): see `palisade checks list`.
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawImage {
    /// Registries (and repository prefixes) images may come from.
    #[serde(default)]
    pub registries: Vec<String>,
    /// `false`: the image's configured user must not be root (empty, `0`, `root`).
    #[serde(default)]
    pub run_as_root: Option<bool>,
    /// Oldest allowed image (its config `created` time).
    #[serde(default)]
    pub max_age: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawWaiver {
    /// Vulnerability id or alias, secret rule id or check id; glob allowed.
    #[serde(default)]
    pub id: Option<String>,
    /// Package name or purl glob.
    #[serde(default)]
    pub package: Option<String>,
    /// Path glob (finding location).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD`: the waiver stops applying on that day.
    #[serde(default)]
    pub expires: Option<String>,
    #[serde(default)]
    pub scope: RawScope,
}

/// Globs for names: `*` within a segment, `**` across segments; case-sensitive.
pub(super) fn glob_set(patterns: &[String], what: &str) -> Result<Option<GlobSet>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|e| format!("{what}: invalid pattern {p:?}: {e}"))?);
    }
    b.build().map(Some).map_err(|e| format!("{what}: {e}"))
}

pub(super) fn severities(list: &[String], what: &str) -> Result<Vec<Severity>, String> {
    list.iter()
        .map(|s| s.parse::<Severity>().map_err(|_| format!("{what}: unknown severity {s:?}")))
        .collect()
}

pub(super) fn action(raw: Option<&str>) -> Result<Action, String> {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        None | Some("deny") | Some("enforce") => Ok(Action::Deny),
        Some("warn") => Ok(Action::Warn),
        Some("audit") => Ok(Action::Audit),
        Some(other) => Err(format!("spec.action: {other:?} is not one of deny, warn, audit")),
    }
}

/// Scope of a gate or a waiver: every non-empty list must match.
#[derive(Debug, Default)]
pub(super) struct Scope {
    pub images: Option<GlobSet>,
    pub paths: Option<GlobSet>,
    pub namespaces: Option<GlobSet>,
}

impl Scope {
    pub fn compile(raw: &RawScope, what: &str) -> Result<Scope, String> {
        Ok(Scope {
            images: glob_set(&raw.images, &format!("{what}.images"))?,
            paths: glob_set(&raw.paths, &format!("{what}.paths"))?,
            namespaces: glob_set(&raw.namespaces, &format!("{what}.namespaces"))?,
        })
    }
}

#[derive(Debug)]
pub(super) struct VulnRule {
    pub severities: Vec<Severity>,
    pub fixable: bool,
    pub min_age: Option<jiff::SignedDuration>,
    pub ecosystems: Vec<String>,
    pub packages: Option<GlobSet>,
    pub ids: Option<GlobSet>,
    pub kev: bool,
    pub epss_min: Option<f64>,
    pub epss_percentile_min: Option<f64>,
}

#[derive(Debug)]
pub(super) struct SecretRule {
    pub severities: Vec<Severity>,
    pub rules: Option<GlobSet>,
}

#[derive(Debug)]
pub(super) struct MisconfigRule {
    pub severities: Vec<Severity>,
    pub ids: Option<GlobSet>,
    pub groups: Vec<String>,
}

#[derive(Debug)]
pub(super) struct ImageRule {
    pub registries: Vec<String>,
    pub run_as_root: Option<bool>,
    pub max_age: Option<jiff::SignedDuration>,
}

#[derive(Debug)]
pub(super) struct Waiver {
    pub index: usize,
    pub id: Option<GlobSet>,
    pub id_text: String,
    pub package: Option<GlobSet>,
    pub path: Option<GlobSet>,
    pub owner: String,
    pub reason: String,
    pub expires: Option<jiff::civil::Date>,
    pub scope: Scope,
}

/// The compiled gate.
#[derive(Debug)]
pub(super) struct GateSpec {
    pub action: Action,
    pub message: Option<String>,
    pub scope: Scope,
    pub vulns: Option<VulnRule>,
    pub secrets: Option<SecretRule>,
    pub misconfigs: Option<MisconfigRule>,
    pub image: Option<ImageRule>,
    pub licenses: Option<palisade_license::Policy>,
    pub pod_security: Option<PodSecurityRule>,
    pub signatures: Option<SignatureRule>,
    pub waivers: Vec<Waiver>,
}

/// A probability or percentile bound: between 0 and 1.
fn probability(v: Option<f64>, at: &str) -> Result<Option<f64>, String> {
    match v {
        Some(p) if !(0.0..=1.0).contains(&p) => Err(format!("{at}: {p} is not between 0 and 1")),
        other => Ok(other),
    }
}

impl GateSpec {
    /// Compile; `base` is the gate file's directory (key files of `signatures` are relative to it).
    pub fn compile(raw: RawSpec, base: &std::path::Path) -> Result<GateSpec, String> {
        let one = |p: &Option<String>, what: &str| -> Result<Option<GlobSet>, String> {
            p.as_ref().map(|p| glob_set(std::slice::from_ref(p), what)).transpose().map(Option::flatten)
        };
        let vulns = raw
            .vulnerabilities
            .map(|v| -> Result<VulnRule, String> {
                Ok(VulnRule {
                    severities: severities(&v.severities, "spec.vulnerabilities.severities")?,
                    fixable: v.fixable,
                    min_age: v
                        .min_age
                        .as_deref()
                        .map(|a| parse_age(a, "spec.vulnerabilities.minAge"))
                        .transpose()?,
                    ecosystems: v.ecosystems.iter().map(|e| e.to_ascii_lowercase()).collect(),
                    packages: glob_set(&v.packages, "spec.vulnerabilities.packages")?,
                    ids: glob_set(&v.ids, "spec.vulnerabilities.ids")?,
                    kev: v.kev,
                    epss_min: probability(
                        v.epss.as_ref().and_then(|e| e.min),
                        "spec.vulnerabilities.epss.min",
                    )?,
                    epss_percentile_min: probability(
                        v.epss.as_ref().and_then(|e| e.min_percentile),
                        "spec.vulnerabilities.epss.minPercentile",
                    )?,
                })
            })
            .transpose()?;
        let secrets = raw
            .secrets
            .map(|s| -> Result<SecretRule, String> {
                Ok(SecretRule {
                    severities: severities(&s.severities, "spec.secrets.severities")?,
                    rules: glob_set(&s.rules, "spec.secrets.rules")?,
                })
            })
            .transpose()?;
        let misconfigs = raw
            .misconfigurations
            .map(|m| -> Result<MisconfigRule, String> {
                for g in &m.groups {
                    let known =
                        palisade_checks::registry().iter().any(|c| c.meta().groups.contains(&g.as_str()));
                    if !known {
                        return Err(format!("spec.misconfigurations.groups: no check is in the group {g:?}"));
                    }
                }
                Ok(MisconfigRule {
                    severities: severities(&m.severities, "spec.misconfigurations.severities")?,
                    ids: glob_set(&m.ids, "spec.misconfigurations.ids")?,
                    groups: m.groups,
                })
            })
            .transpose()?;
        let image = raw
            .image
            .map(|i| -> Result<ImageRule, String> {
                Ok(ImageRule {
                    registries: i.registries,
                    run_as_root: i.run_as_root,
                    max_age: i.max_age.as_deref().map(|a| parse_age(a, "spec.image.maxAge")).transpose()?,
                })
            })
            .transpose()?;
        let licenses = raw
            .licenses
            .map(|l| -> Result<palisade_license::Policy, String> {
                let fail_on = l
                    .fail_on
                    .iter()
                    .map(|c| c.parse::<palisade_license::Category>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("spec.licenses.failOn: {e}"))?;
                let unknown = l
                    .unknown
                    .as_deref()
                    .map(str::parse::<palisade_license::UnknownAction>)
                    .transpose()
                    .map_err(|e| format!("spec.licenses.unknown: {e}"))?
                    .unwrap_or_default();
                palisade_license::Policy::new(&l.allow, &l.deny, &fail_on, unknown)
                    .map_err(|e| format!("spec.licenses: {}", gate_words(&e)))
            })
            .transpose()?;
        let mut waivers = Vec::new();
        for (index, w) in raw.waivers.into_iter().enumerate() {
            let what = format!("spec.waivers[{index}]");
            if w.id.is_none() && w.package.is_none() && w.path.is_none() {
                return Err(format!("{what}: a waiver needs at least one of id, package, path"));
            }
            if w.reason.trim().is_empty() {
                return Err(format!("{what}.reason: a waiver needs a reason"));
            }
            let expires = w
                .expires
                .as_deref()
                .map(|d| d.parse::<jiff::civil::Date>().map_err(|e| format!("{what}.expires: {d:?}: {e}")))
                .transpose()?;
            waivers.push(Waiver {
                index,
                id: one(&w.id, &format!("{what}.id"))?,
                id_text: w.id.clone().or(w.package.clone()).or(w.path.clone()).unwrap_or_default(),
                package: one(&w.package, &format!("{what}.package"))?,
                path: one(&w.path, &format!("{what}.path"))?,
                owner: w.owner.unwrap_or_default(),
                reason: w.reason,
                expires,
                scope: Scope::compile(&w.scope, &format!("{what}.scope"))?,
            });
        }
        let pod_security = raw
            .pod_security
            .map(|p| -> Result<PodSecurityRule, String> {
                let level = match p.level.as_deref().unwrap_or("baseline") {
                    "privileged" => None,
                    l => Some(super::objects::level_group(l).ok_or_else(|| {
                        format!("spec.podSecurity.level: {l:?} is not privileged, baseline or restricted")
                    })?),
                };
                Ok(PodSecurityRule { level, namespace_labels: p.namespace_labels.unwrap_or(true) })
            })
            .transpose()?;
        let signatures = raw.signatures.map(|s| SignatureRule::compile(s, base)).transpose()?;
        if vulns.is_none()
            && secrets.is_none()
            && misconfigs.is_none()
            && image.is_none()
            && licenses.is_none()
            && pod_security.is_none()
            && signatures.is_none()
        {
            return Err(
                "spec: a gate needs at least one of vulnerabilities, secrets, misconfigurations, image, licenses, \
                 podSecurity, signatures"
                    .into(),
            );
        }
        Ok(GateSpec {
            action: action(raw.action.as_deref())?,
            message: raw.message,
            scope: Scope::compile(&raw.scope, "spec.scope")?,
            vulns,
            secrets,
            misconfigs,
            image,
            licenses,
            pod_security,
            signatures,
            waivers,
        })
    }
}

/// The licence policy names its rules by their CLI flags; in a gate they are the `spec.licenses` keys.
pub(super) fn gate_words(rule: &str) -> String {
    rule.replace("--license-fail-on", "failOn")
        .replace("--license-deny", "deny")
        .replace("not in --license-allow", "not in allow")
        .replace("--license-allow", "allow")
        .replace("--license-unknown", "unknown")
}
