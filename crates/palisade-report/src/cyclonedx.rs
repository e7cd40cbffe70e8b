//! CycloneDX 1.6 JSON output.
//!
//! Layout (our own serde structs, validated against the official 1.6 schema in the tests):
//! - `metadata.component` is the scanned artifact: a `container` for images (version = digest, an `oci` purl
//!   when a repo digest is known), a `file` otherwise; its `bom-ref` is `palisade:artifact`. When a project
//!   tree (`fs`, `repo`) has exactly one root project ([`ScanReport::projects`]), that project is the subject
//!   instead: an `application` with its purl (as `cdxgen`, `cyclonedx-npm` and `cargo-cyclonedx` write it;
//!   Trivy and Syft keep the directory there), carrying the artifact's `palisade:artifact:*` properties.
//! - Other root projects are `application` components (`palisade:project` = `true`, `bom-ref` their purl, or
//!   `palisade:project:<purl>` when a package has the same purl), under the artifact.
//! - The OS, when known, is an `operating-system` component (`bom-ref` `palisade:os`), as Trivy emits it.
//! - One `library` component per package. `bom-ref` is the purl, or `purl#<hash of locations>` when several
//!   packages share a purl. Maven `group:artifact` and npm `@scope/name` are split into `group` and `name`.
//!   Licences are `{license:{id}}` for SPDX ids, one `{expression}` when an SPDX expression is involved and
//!   every licence is valid SPDX, `{license:{name}}` otherwise. Dev packages have scope `excluded`.
//! - Palisade facts are `palisade:*` properties (location, layer, found_by, source, arch, direct, metadata);
//!   `palisade-inventory`'s SBOM reader reads them back.
//! - `dependencies`: the artifact depends on the OS, the root projects and every non-OS package that nothing
//!   else depends on and no project claims; the OS on the OS packages; a project on its resolved
//!   [`Package::dependencies`] and on the packages of its own files (same location) that nothing depends on;
//!   each package on its resolved [`Package::dependencies`] (unresolved purls dropped). A project that is the
//!   subject depends on the OS and on every non-OS package nothing else depends on.
//! - Licences: an SPDX id the 1.6 schema lists is `license.id`; a newer SPDX id or an expression is one
//!   `expression` when every licence of the package is valid SPDX (joined with `AND`); otherwise each is a
//!   `license.name`. `NOASSERTION` / `NONE` are not licences and are left out.
//! - `vulnerabilities` (when the report has findings): one entry per (id, component), `affects` the component
//!   the finding is about (a finding whose package the report does not list gets a component of its own).
//!   `source` is the feed of the advisory that supplied the data with that advisory's page; `references` the
//!   other ids (aliases); `ratings` one per CVSS score plus the severity Palisade reports; `description` the
//!   title and `detail` the long description; `recommendation`; `advisories` the reference URLs; a
//!   suppressed finding has an `analysis` (VEX `not_affected` -> `not_affected` with the justification
//!   mapped, VEX `fixed` -> `resolved`, anything else, e.g. an ignore-file entry -> `exploitable`: accepting
//!   a risk says nothing about its impact), the reason as `detail`. See `docs/json-report.md`.

use crate::ReportError;
use crate::license::{self, License};
use crate::sbom_vuln::{self, CvssMethod, Suppression};
use crate::util;
use palisade_core::findings::vuln::VulnFinding;
use palisade_core::{ArtifactInfo, ArtifactKind, Ecosystem, OsInfo, Package, ScanReport, Scope};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use uuid::Uuid;

/// The spec version written.
pub const SPEC_VERSION: &str = "1.6";
const SCHEMA_URL: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";
/// `bom-ref` of the artifact (`metadata.component`).
pub const ARTIFACT_REF: &str = "palisade:artifact";
/// `bom-ref` of the operating-system component.
pub const OS_REF: &str = "palisade:os";

/// Property names Palisade writes (and `palisade-inventory` reads back).
pub mod props {
    pub const LOCATION: &str = "palisade:package:location";
    pub const LAYER: &str = "palisade:package:layer";
    pub const LAYER_DIFF_ID: &str = "palisade:package:layer_diff_id";
    pub const FOUND_BY: &str = "palisade:package:found_by";
    pub const SOURCE_NAME: &str = "palisade:package:source_name";
    pub const SOURCE_VERSION: &str = "palisade:package:source_version";
    pub const ARCH: &str = "palisade:package:arch";
    pub const DIRECT: &str = "palisade:package:direct";
    pub const SCOPE: &str = "palisade:package:scope";
    /// Prefix of [`palisade_core::Package::metadata`] entries.
    pub const METADATA_PREFIX: &str = "palisade:metadata:";
    pub const OS_CODENAME: &str = "palisade:os:codename";
    pub const OS_PRETTY_NAME: &str = "palisade:os:pretty_name";
    pub const OS_ID_LIKE: &str = "palisade:os:id_like";
    pub const OS_DISTROLESS: &str = "palisade:os:distroless";
    /// Last day of security support of the OS release (`YYYY-MM-DD`).
    pub const OS_END_OF_LIFE: &str = "palisade:os:end_of_life";
    /// `true` when that day has passed.
    pub const OS_END_OF_LIFE_ENDED: &str = "palisade:os:end_of_life_ended";
    /// BOM metadata: one per thing a scanner could not check (`<scanner>/<kind>: <message>`); the findings
    /// of that scanner are incomplete, not clean.
    pub const INCOMPLETE: &str = "palisade:incomplete";
    /// On a root project's component: `true`.
    pub const PROJECT: &str = "palisade:project";
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Components<'a>,
    dependencies: Vec<Dependency>,
    #[serde(skip_serializing_if = "Vulnerabilities::is_empty")]
    vulnerabilities: Vulnerabilities<'a>,
}

/// The components, built one at a time while they are written: a root filesystem has tens of thousands,
/// and holding them all as a second copy of the report doubled the peak memory.
struct Components<'a> {
    os: Option<&'a OsInfo>,
    /// Root projects that are not the subject, with their references.
    projects: Vec<(&'a Package, String)>,
    packages: &'a [&'a Package],
    refs: &'a [String],
    artifact: &'a ArtifactInfo,
}

impl Serialize for Components<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let n = self.packages.len() + self.projects.len() + usize::from(self.os.is_some());
        let mut seq = serializer.serialize_seq(Some(n))?;
        if let Some(os) = self.os {
            seq.serialize_element(&os_component(os))?;
        }
        for (p, r) in &self.projects {
            seq.serialize_element(&project_component(p, r, self.artifact))?;
        }
        for (p, r) in self.packages.iter().zip(self.refs) {
            seq.serialize_element(&package_component(p, r, self.artifact))?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: LicenseObj },
    Expression { expression: String },
}

#[derive(Serialize)]
struct LicenseObj {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
struct Property {
    name: String,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

fn prop(name: &str, value: impl Into<String>) -> Property {
    Property { name: name.to_string(), value: value.into() }
}

/// Write `report` as a CycloneDX 1.6 JSON document with a fresh random serial number.
pub fn render(report: &ScanReport, out: &mut dyn Write) -> Result<(), ReportError> {
    render_with_serial(report, Uuid::new_v4(), out)
}

/// Like [`render`] with a given serial number (for reproducible output).
pub fn render_with_serial(report: &ScanReport, serial: Uuid, out: &mut dyn Write) -> Result<(), ReportError> {
    let mut packages = util::sorted_packages(report);
    // A finding whose package the report does not list (`--scanners vuln` alone) gets a component of its own.
    let extra = sbom_vuln::missing_packages(&report.vulnerabilities, &packages);
    packages.extend(extra.iter());
    let refs = util::unique_refs(&packages, |p| p.purl.clone());
    let mut bom = build(report, &packages, &refs, serial);
    bom.vulnerabilities = Vulnerabilities::new(&report.vulnerabilities, &packages, &refs);
    serde_json::to_writer_pretty(&mut *out, &bom)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn build<'a>(
    report: &'a ScanReport,
    packages: &'a [&'a Package],
    refs: &'a [String],
    serial: Uuid,
) -> Bom<'a> {
    let by_purl = util::refs_by_purl(packages, refs);

    let mut dependencies = Vec::with_capacity(packages.len() + 2);
    let mut depended_on: HashSet<&str> = HashSet::new();
    let mut package_deps = Vec::with_capacity(packages.len());
    for (p, r) in packages.iter().zip(refs) {
        let mut on = BTreeSet::new();
        for d in &p.dependencies {
            if let Some(target) = by_purl.get(d.as_str())
                && *target != r.as_str()
            {
                on.insert(target.to_string());
                depended_on.insert(target);
            }
        }
        package_deps.push(Dependency { reference: r.clone(), depends_on: on.into_iter().collect() });
    }
    let mut root_on: Vec<String> = Vec::new();
    if report.os.is_some() {
        root_on.push(OS_REF.to_string());
        let os_on: Vec<String> =
            packages.iter().zip(refs).filter(|(p, _)| p.ecosystem.is_os()).map(|(_, r)| r.clone()).collect();
        dependencies.push(Dependency { reference: OS_REF.to_string(), depends_on: os_on });
    }
    // Root projects: the subject of a project tree, or applications under the artifact.
    let subject = subject_project(report);
    let project_list: Vec<&Package> = report.projects.iter().collect();
    let project_refs = project_refs(&project_list, &by_purl);
    let project_by_purl: HashMap<&str, &str> =
        project_list.iter().zip(&project_refs).map(|(p, r)| (p.purl.as_str(), r.as_str())).collect();
    // Packages nothing depends on: under a project that has them in its files, else under the root.
    let tops: Vec<(&Package, &String)> = packages
        .iter()
        .zip(refs)
        .filter(|(p, r)| {
            let under_os = report.os.is_some() && p.ecosystem.is_os();
            !under_os && !depended_on.contains(r.as_str())
        })
        .map(|(p, r)| (*p, r))
        .collect();
    // File -> the top packages found in it, so each project finds those of its own files at once.
    let mut tops_by_path: HashMap<&str, Vec<&str>> = HashMap::new();
    for (p, r) in &tops {
        for l in &p.locations {
            tops_by_path.entry(l.path.as_str()).or_default().push(r.as_str());
        }
    }
    let mut claimed: HashSet<&str> = HashSet::new();
    let mut project_deps = Vec::with_capacity(project_list.len());
    for (proj, pref) in project_list.iter().zip(&project_refs) {
        let mut on = BTreeSet::new();
        for d in &proj.dependencies {
            if let Some(t) = by_purl.get(d.as_str()).or_else(|| project_by_purl.get(d.as_str()))
                && *t != pref.as_str()
            {
                on.insert(t.to_string());
                claimed.insert(t);
            }
        }
        for r in proj.locations.iter().filter_map(|l| tops_by_path.get(l.path.as_str())).flatten() {
            on.insert(r.to_string());
            claimed.insert(r);
        }
        project_deps.push(Dependency { reference: pref.clone(), depends_on: on.into_iter().collect() });
    }
    let root_ref = match subject {
        Some(_) => project_refs.first().cloned().unwrap_or_default(),
        None => ARTIFACT_REF.to_string(),
    };
    match subject {
        // The subject is the one project: it depends on what it lists and on everything else at the top.
        Some(_) => {
            let mut on: BTreeSet<String> =
                project_deps.pop().map(|d| d.depends_on).unwrap_or_default().into_iter().collect();
            on.extend(tops.iter().map(|(_, r)| r.to_string()));
            root_on.extend(on);
        }
        None => {
            root_on.extend(project_refs.iter().cloned());
            root_on.extend(
                tops.iter().filter(|(_, r)| !claimed.contains(r.as_str())).map(|(_, r)| r.to_string()),
            );
        }
    }
    dependencies.insert(0, Dependency { reference: root_ref, depends_on: root_on });
    dependencies.extend(project_deps);
    dependencies.extend(package_deps);

    Bom {
        schema: SCHEMA_URL,
        bom_format: "CycloneDX",
        spec_version: SPEC_VERSION,
        serial_number: serial.urn().to_string(),
        version: 1,
        metadata: Metadata {
            timestamp: util::utc_timestamp(&report.created),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: report.tool.name.clone(),
                    version: Some(report.tool.version.clone()).filter(|v| !v.is_empty()),
                    ..Default::default()
                }],
            },
            component: match subject {
                Some(p) => {
                    subject_component(p, project_refs.first().map_or("", String::as_str), &report.artifact)
                }
                None => artifact_component(&report.artifact),
            },
            properties: report
                .gaps
                .iter()
                .map(|g| prop(props::INCOMPLETE, format!("{}/{}: {}", g.scanner, g.kind, g.message)))
                .collect(),
        },
        components: Components {
            os: report.os.as_ref(),
            projects: match subject {
                Some(_) => Vec::new(),
                None => project_list.iter().copied().zip(project_refs.iter().cloned()).collect(),
            },
            packages,
            refs,
            artifact: &report.artifact,
        },
        dependencies,
        vulnerabilities: Vulnerabilities::new(&[], &[], &[]),
    }
}

/// The root project that is the subject of the document: the only one of a project tree (`fs`, `repo`).
fn subject_project(report: &ScanReport) -> Option<&Package> {
    match (report.artifact.kind, report.projects.as_slice()) {
        (ArtifactKind::Fs | ArtifactKind::Repo, [only]) => Some(only),
        _ => None,
    }
}

/// One `bom-ref` per root project: its purl, or `palisade:project:<purl>` when a package has that purl.
fn project_refs(projects: &[&Package], package_refs: &HashMap<&str, &str>) -> Vec<String> {
    util::unique_refs(projects, |p| {
        if package_refs.contains_key(p.purl.as_str()) || p.purl.is_empty() {
            format!("palisade:project:{}", p.purl)
        } else {
            p.purl.clone()
        }
    })
}

/// A root project as an `application` component.
fn project_component(p: &Package, bom_ref: &str, artifact: &ArtifactInfo) -> Component {
    let mut c = package_component(p, bom_ref, artifact);
    c.kind = "application";
    c.scope = None;
    c.properties.insert(0, prop(props::PROJECT, "true"));
    c
}

/// The one root project of a project tree as `metadata.component`, with the artifact's properties.
fn subject_component(p: &Package, bom_ref: &str, artifact: &ArtifactInfo) -> Component {
    let mut c = project_component(p, bom_ref, artifact);
    let mut properties = artifact_component(artifact).properties;
    properties.push(prop("palisade:artifact:name", &artifact.name));
    properties.append(&mut c.properties);
    c.properties = properties;
    c
}

fn artifact_component(a: &ArtifactInfo) -> Component {
    let mut c = Component {
        kind: if a.kind == ArtifactKind::Image { "container" } else { "file" },
        bom_ref: Some(ARTIFACT_REF.to_string()),
        name: if a.name.is_empty() { "unnamed".to_string() } else { a.name.clone() },
        ..Default::default()
    };
    let mut properties = vec![prop("palisade:artifact:kind", a.kind.to_string())];
    if a.kind == ArtifactKind::Image {
        // `repo@sha256:...` -> (repo, digest).
        let repo_digest = a.repo_digests.iter().find_map(|d| d.split_once('@'));
        c.version = repo_digest.map(|(_, d)| d.to_string()).or_else(|| a.id.clone());
        if let Some((repo, digest)) = repo_digest {
            c.purl = oci_purl(repo, digest, a.platform.as_deref());
        }
    }
    if let Some(id) = &a.id {
        properties.push(prop("palisade:artifact:id", id));
    }
    for d in &a.repo_digests {
        properties.push(prop("palisade:artifact:repo_digest", d));
    }
    for t in &a.repo_tags {
        properties.push(prop("palisade:artifact:repo_tag", t));
    }
    if let Some(p) = &a.platform {
        properties.push(prop("palisade:artifact:platform", p));
    }
    c.properties = properties;
    c
}

/// `pkg:oci/alpine@sha256%3A...?repository_url=docker.io/library/alpine&arch=amd64`.
fn oci_purl(repo: &str, digest: &str, platform: Option<&str>) -> Option<String> {
    let name = repo.rsplit('/').next().filter(|n| !n.is_empty())?.to_ascii_lowercase();
    let mut p = packageurl::PackageUrl::new("oci", name).ok()?;
    p.with_version(digest).ok()?;
    p.add_qualifier("repository_url", repo.to_string()).ok()?;
    if let Some(arch) = platform.and_then(|pl| pl.split('/').nth(1)).filter(|a| !a.is_empty()) {
        p.add_qualifier("arch", arch.to_string()).ok()?;
    }
    Some(p.to_string())
}

fn os_component(os: &OsInfo) -> Component {
    let mut properties = Vec::new();
    if let Some(c) = &os.codename {
        properties.push(prop(props::OS_CODENAME, c));
    }
    if let Some(p) = &os.pretty_name {
        properties.push(prop(props::OS_PRETTY_NAME, p));
    }
    if !os.id_like.is_empty() {
        properties.push(prop(props::OS_ID_LIKE, os.id_like.join(" ")));
    }
    if os.distroless {
        properties.push(prop(props::OS_DISTROLESS, "true"));
    }
    if let Some(eol) = &os.end_of_life {
        properties.push(prop(props::OS_END_OF_LIFE, &eol.date));
        properties.push(prop(props::OS_END_OF_LIFE_ENDED, eol.ended.to_string()));
    }
    Component {
        kind: "operating-system",
        bom_ref: Some(OS_REF.to_string()),
        name: if os.id.is_empty() { "unknown".to_string() } else { os.id.clone() },
        version: Some(os.version_id.clone()).filter(|v| !v.is_empty()),
        description: os.pretty_name.clone(),
        properties,
        ..Default::default()
    }
}

/// CycloneDX `group` and `name` for a package name.
fn group_and_name(p: &Package) -> (Option<String>, String) {
    let split = match p.ecosystem {
        Ecosystem::Maven => p.name.split_once(':'),
        Ecosystem::Npm if p.name.starts_with('@') => p.name.split_once('/'),
        _ => None,
    };
    match split {
        Some((g, n)) if !g.is_empty() && !n.is_empty() => (Some(g.to_string()), n.to_string()),
        _ => (None, p.name.clone()),
    }
}

fn package_component(p: &Package, bom_ref: &str, artifact: &ArtifactInfo) -> Component {
    let (group, name) = group_and_name(p);
    let mut properties = Vec::new();
    for l in &p.locations {
        properties.push(prop(props::LOCATION, &l.path));
    }
    for l in &p.locations {
        if let Some(n) = l.layer {
            properties.push(prop(props::LAYER, n.to_string()));
        }
    }
    if let Some(diff_id) = p
        .location()
        .and_then(|l| l.layer)
        .and_then(|n| artifact.layers.iter().find(|layer| layer.index == n))
        .and_then(|layer| layer.diff_id.as_ref())
    {
        properties.push(prop(props::LAYER_DIFF_ID, diff_id));
    }
    if !p.found_by.is_empty() {
        properties.push(prop(props::FOUND_BY, &p.found_by));
    }
    if let Some(s) = &p.source {
        properties.push(prop(props::SOURCE_NAME, &s.name));
        properties.push(prop(props::SOURCE_VERSION, &s.version));
    }
    if let Some(a) = &p.arch {
        properties.push(prop(props::ARCH, a));
    }
    if let Some(d) = p.direct {
        properties.push(prop(props::DIRECT, d.to_string()));
    }
    if p.scope == Scope::Dev {
        properties.push(prop(props::SCOPE, "dev"));
    }
    for (k, v) in &p.metadata {
        properties.push(prop(&format!("{}{k}", props::METADATA_PREFIX), v));
    }
    Component {
        kind: "library",
        bom_ref: Some(bom_ref.to_string()),
        group,
        name: if name.is_empty() { "unnamed".to_string() } else { name },
        version: Some(p.version.clone()).filter(|v| !v.is_empty()),
        scope: Some(match p.scope {
            Scope::Required => "required",
            Scope::Optional => "optional",
            Scope::Dev => "excluded",
        }),
        licenses: licenses(&p.licenses),
        purl: Some(p.purl.clone()).filter(|s| !s.is_empty()),
        properties,
        ..Default::default()
    }
}

/// CycloneDX allows either a list of licences or exactly one expression. SPDX ids the 1.6 schema does not list
/// (newer than its licence list) are valid SPDX, so they go into the expression, or become a `name` in a list.
fn licenses(raw: &[String]) -> Vec<LicenseChoice> {
    let classified: Vec<License> = raw.iter().filter_map(|s| license::classify(s)).collect();
    let any_expression = classified.iter().any(|l| match l {
        License::Expression { .. } => true,
        License::Id(id) => !license::is_cyclonedx_id(id),
        License::Name(_) => false,
    });
    let all_valid = classified.iter().all(|l| !matches!(l, License::Name(_)));
    if any_expression && all_valid {
        let parts: Vec<String> = classified
            .iter()
            .map(|l| match l {
                License::Id(s) => s.clone(),
                License::Expression { text, .. } if classified.len() > 1 && license::is_compound(text) => {
                    format!("({text})")
                }
                License::Expression { text, .. } | License::Name(text) => text.clone(),
            })
            .collect();
        return vec![LicenseChoice::Expression { expression: parts.join(" AND ") }];
    }
    classified
        .into_iter()
        .map(|l| match l {
            License::Id(id) if license::is_cyclonedx_id(&id) => {
                LicenseChoice::License { license: LicenseObj { id: Some(id), name: None } }
            }
            License::Id(text) | License::Expression { text, .. } | License::Name(text) => {
                LicenseChoice::License { license: LicenseObj { id: None, name: Some(text) } }
            }
        })
        .collect()
}

/// Names of the `palisade:*` properties on vulnerabilities (facts CycloneDX has no field for).
pub mod vuln_props {
    /// The vendor status: `fixed`, `affected`, `will-not-fix`, `end-of-life`.
    pub const STATUS: &str = "palisade:vulnerability:status";
    /// The version compared with the advisories, when it is not the component's (a distro source package).
    pub const INSTALLED_VERSION: &str = "palisade:vulnerability:installed_version";
    /// Each fixed version the advisories name.
    pub const FIXED_VERSION: &str = "palisade:vulnerability:fixed_version";
    /// Each range or rule that matched.
    pub const MATCHED_BY: &str = "palisade:vulnerability:matched_by";
    /// Each merged advisory, as `<feed> <id>`.
    pub const ADVISORY: &str = "palisade:vulnerability:advisory";
    /// Where the severity came from.
    pub const SEVERITY_SOURCE: &str = "palisade:vulnerability:severity_source";
}

/// The vulnerabilities, built one at a time while they are written (like [`Components`]): one per
/// (id, component), linked to the component the finding is about.
struct Vulnerabilities<'a> {
    findings: &'a [VulnFinding],
    /// (finding index, package index), see [`sbom_vuln::linked_findings`].
    linked: Vec<(usize, usize)>,
    packages: &'a [&'a Package],
    refs: &'a [String],
}

impl<'a> Vulnerabilities<'a> {
    fn new(findings: &'a [VulnFinding], packages: &'a [&'a Package], refs: &'a [String]) -> Self {
        let linked = if findings.is_empty() {
            Vec::new()
        } else {
            sbom_vuln::linked_findings(findings, &sbom_vuln::PackageIndex::new(packages))
        };
        Vulnerabilities { findings, linked, packages, refs }
    }

    fn is_empty(&self) -> bool {
        self.linked.is_empty()
    }
}

impl Serialize for Vulnerabilities<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.linked.len()))?;
        for &(fi, pi) in &self.linked {
            if let (Some(v), Some(p), Some(r)) =
                (self.findings.get(fi), self.packages.get(pi), self.refs.get(pi))
            {
                seq.serialize_element(&vulnerability(v, p, r))?;
            }
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct Vulnerability<'a> {
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<VulnSource>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    references: Vec<VulnReference<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ratings: Vec<Rating<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    recommendation: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    advisories: Vec<VulnAdvisory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    published: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    analysis: Option<Analysis<'a>>,
    affects: Vec<Affects<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct VulnSource {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

impl VulnSource {
    fn new(name: Option<String>, url: Option<String>) -> Option<Self> {
        (name.is_some() || url.is_some()).then_some(VulnSource { name, url })
    }
}

#[derive(Serialize)]
struct VulnReference<'a> {
    id: &'a str,
    /// Required by the schema; `{}` when neither a feed nor an authority is known.
    source: VulnSource,
}

#[derive(Serialize)]
struct Rating<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<VulnSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vector: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
}

#[derive(Serialize)]
struct VulnAdvisory {
    url: String,
}

#[derive(Serialize)]
struct Analysis<'a> {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'static str>,
    detail: &'a str,
}

#[derive(Serialize)]
struct Affects<'a> {
    #[serde(rename = "ref")]
    reference: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    versions: Vec<AffectedVersion<'a>>,
}

#[derive(Serialize)]
struct AffectedVersion<'a> {
    version: &'a str,
    status: &'static str,
}

/// The schema's limit on `affects[].versions[].version`.
const MAX_VERSION_LEN: usize = 1024;

/// One vulnerability entry: finding `v` in the component `component` (whose `bom-ref` is `component_ref`).
fn vulnerability<'a>(
    v: &'a VulnFinding,
    component: &'a Package,
    component_ref: &'a str,
) -> Vulnerability<'a> {
    let (name, url) = sbom_vuln::primary_source(v);
    let source = VulnSource::new(name, url);

    let mut other_ids: Vec<&str> = Vec::new();
    for id in v.aliases.iter().chain(v.advisory_sources.iter().map(|a| &a.id)).map(|s| s.trim()) {
        if !id.is_empty() && id != v.id && !other_ids.contains(&id) {
            other_ids.push(id);
        }
    }
    let references = other_ids
        .into_iter()
        .map(|id| {
            let (name, url) = sbom_vuln::source_of(v, id);
            VulnReference { id, source: VulnSource { name, url } }
        })
        .collect();

    let mut ratings: Vec<Rating> = v
        .cvss
        .iter()
        .map(|c| {
            let method = CvssMethod::of(c);
            let source = c.source.as_deref().map(str::trim).filter(|s| !s.is_empty());
            Rating {
                source: source.and_then(|s| VulnSource::new(Some(s.to_string()), sbom_vuln::advisory_url(s))),
                score: Some(c.score).filter(|s| sbom_vuln::valid_score(*s)),
                severity: method.severity(c.score),
                method: Some(method.cyclonedx_name()),
                vector: Some(c.vector.trim()).filter(|s| !s.is_empty()),
                justification: None,
            }
        })
        .collect();
    // The severity Palisade reports (and gates on), with where it came from.
    ratings.push(Rating {
        source: VulnSource::new(
            Some(
                v.severity_source
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .unwrap_or("palisade")
                    .to_string(),
            ),
            None,
        ),
        score: None,
        severity: Some(v.severity.as_str()),
        method: None,
        vector: None,
        justification: Some("the severity Palisade reports for this finding and gates on"),
    });

    let title = v.title.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let long = v.description.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let (description, detail) = match (title, long) {
        (Some(t), d) => (Some(t), d),
        (None, d) => (d, None),
    };

    let mut advisories: Vec<VulnAdvisory> = Vec::new();
    for url in sbom_vuln::advisory_url(&v.id)
        .into_iter()
        .chain(sbom_vuln::clean_references(v).into_iter().map(str::to_string))
    {
        if !advisories.iter().any(|a| a.url == url) {
            advisories.push(VulnAdvisory { url });
        }
    }

    let suppression = v.suppressed.as_deref().map(|reason| (Suppression::of(reason), reason));
    let analysis = suppression.map(|(s, reason)| Analysis {
        state: s.cyclonedx_state(),
        justification: s.cyclonedx_justification(),
        detail: reason,
    });
    let status = match suppression {
        Some((s, _)) if s.clears_version() => "unaffected",
        _ => "affected",
    };
    let versions = Some(component.version.as_str())
        .filter(|ver| !ver.is_empty() && ver.len() <= MAX_VERSION_LEN)
        .map(|version| vec![AffectedVersion { version, status }])
        .unwrap_or_default();

    let mut properties = vec![prop(vuln_props::STATUS, v.status.to_string())];
    if v.installed_version != component.version && !v.installed_version.is_empty() {
        properties.push(prop(vuln_props::INSTALLED_VERSION, &v.installed_version));
    }
    for f in &v.fixed_versions {
        properties.push(prop(vuln_props::FIXED_VERSION, f));
    }
    if v.fixed_versions.is_empty()
        && let Some(f) = &v.fixed_version
    {
        properties.push(prop(vuln_props::FIXED_VERSION, f));
    }
    if let Some(s) = &v.severity_source {
        properties.push(prop(vuln_props::SEVERITY_SOURCE, s));
    }
    for m in &v.matched_by {
        properties.push(prop(vuln_props::MATCHED_BY, m));
    }
    for a in &v.advisory_sources {
        properties.push(prop(vuln_props::ADVISORY, format!("{} {}", a.feed, a.id)));
    }

    Vulnerability {
        bom_ref: format!("palisade:vuln:{}:{}", v.id, util::short_hash(&[&v.id, component_ref])),
        id: &v.id,
        source,
        references,
        ratings,
        description,
        detail,
        recommendation: sbom_vuln::recommendation(v),
        advisories,
        published: v.published.as_deref().and_then(sbom_vuln::rfc3339_utc),
        updated: v.modified.as_deref().and_then(sbom_vuln::rfc3339_utc),
        analysis,
        affects: vec![Affects { reference: component_ref, versions }],
        properties,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Location, SourcePackage};
    use serde_json::Value;

    fn report() -> ScanReport {
        let mut a = ArtifactInfo::new(ArtifactKind::Image, "docker.io/library/debian:12");
        a.repo_digests = vec!["docker.io/library/debian@sha256:abcd".into()];
        a.platform = Some("linux/amd64".into());
        let mut r = ScanReport::new(a, "2026-03-04T05:06:07+02:00");
        r.os = Some(OsInfo { id: "debian".into(), version_id: "12".into(), ..Default::default() });
        let mut ssl = Package::new(
            Ecosystem::Deb,
            "libssl3",
            "3.0.11-1",
            Location::new("var/lib/dpkg/status", Some(0)),
            "dpkg-status",
        );
        ssl.purl = "pkg:deb/debian/libssl3@3.0.11-1?distro=debian-12".into();
        ssl.source = Some(SourcePackage { name: "openssl".into(), version: "3.0.11-1".into() });
        ssl.dependencies =
            vec!["pkg:deb/debian/libc6@2.36?distro=debian-12".into(), "pkg:deb/debian/missing@1".into()];
        let mut libc = Package::new(
            Ecosystem::Deb,
            "libc6",
            "2.36",
            Location::new("var/lib/dpkg/status", Some(0)),
            "dpkg-status",
        );
        libc.purl = "pkg:deb/debian/libc6@2.36?distro=debian-12".into();
        let mut log4j = Package::new(
            Ecosystem::Maven,
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            Location::new("app/app.jar", Some(1)),
            "java-archive",
        );
        log4j.licenses = vec!["Apache-2.0".into()];
        let mut types = Package::new(
            Ecosystem::Npm,
            "@types/node",
            "20.0.0",
            Location::new("app/package-lock.json", Some(1)),
            "npm-package-lock",
        );
        types.scope = Scope::Dev;
        types.licenses = vec!["MIT OR Apache-2.0".into(), "BSD-3-Clause".into()];
        r.packages = vec![ssl, libc, log4j, types];
        r
    }

    fn bom(r: &ScanReport) -> Value {
        let mut buf = Vec::new();
        render_with_serial(r, Uuid::nil(), &mut buf).unwrap();
        serde_json::from_slice(&buf).unwrap()
    }

    fn component<'a>(b: &'a Value, name: &str) -> &'a Value {
        b["components"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()
    }

    #[test]
    fn document_header_and_artifact() {
        let b = bom(&report());
        assert_eq!(b["specVersion"], "1.6");
        assert_eq!(b["serialNumber"], "urn:uuid:00000000-0000-0000-0000-000000000000");
        assert_eq!(b["metadata"]["timestamp"], "2026-03-04T03:06:07Z");
        assert_eq!(b["metadata"]["tools"]["components"][0]["name"], "palisade");
        let c = &b["metadata"]["component"];
        assert_eq!(c["type"], "container");
        assert_eq!(c["version"], "sha256:abcd");
        assert_eq!(
            c["purl"],
            "pkg:oci/debian@sha256:abcd?arch=amd64&repository_url=docker.io%2Flibrary%2Fdebian"
        );
    }

    #[test]
    fn packages_and_os() {
        let b = bom(&report());
        let os = component(&b, "debian");
        assert_eq!((os["type"].as_str(), os["version"].as_str()), (Some("operating-system"), Some("12")));
        let log4j = component(&b, "log4j-core");
        assert_eq!(log4j["group"], "org.apache.logging.log4j");
        assert_eq!(log4j["licenses"][0]["license"]["id"], "Apache-2.0");
        assert_eq!(log4j["scope"], "required");
        let types = component(&b, "node");
        assert_eq!(types["group"], "@types");
        assert_eq!(types["scope"], "excluded");
        assert_eq!(
            types["licenses"],
            serde_json::json!([{"expression": "(MIT OR Apache-2.0) AND BSD-3-Clause"}])
        );
        let ssl = component(&b, "libssl3");
        let props: Vec<(&str, &str)> = ssl["properties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
            .collect();
        assert!(props.contains(&(props::SOURCE_NAME, "openssl")));
        assert!(props.contains(&(props::LOCATION, "var/lib/dpkg/status")));
        assert!(props.contains(&(props::LAYER, "0")));
        assert!(props.contains(&(props::FOUND_BY, "dpkg-status")));
    }

    #[test]
    fn dependency_graph_resolves_and_drops_unknown() {
        let b = bom(&report());
        let deps = b["dependencies"].as_array().unwrap();
        let of = |r: &str| deps.iter().find(|d| d["ref"] == r).unwrap()["dependsOn"].clone();
        assert_eq!(
            of("pkg:deb/debian/libssl3@3.0.11-1?distro=debian-12"),
            serde_json::json!(["pkg:deb/debian/libc6@2.36?distro=debian-12"])
        );
        assert_eq!(of(OS_REF).as_array().unwrap().len(), 2);
        let root = of(ARTIFACT_REF);
        assert!(root.as_array().unwrap().contains(&Value::from(OS_REF)));
        assert!(!root.as_array().unwrap().iter().any(|r| r.as_str().unwrap().starts_with("pkg:deb")));
    }

    #[test]
    fn licence_forms() {
        let v = |ls: &[&str]| {
            serde_json::to_value(licenses(&ls.iter().map(|s| s.to_string()).collect::<Vec<_>>())).unwrap()
        };
        assert_eq!(
            v(&["MIT", "Apache-2.0"]),
            serde_json::json!([{"license": {"id": "MIT"}}, {"license": {"id": "Apache-2.0"}}])
        );
        assert_eq!(
            v(&["GPL-2.0-only WITH Classpath-exception-2.0"]),
            serde_json::json!([{"expression": "GPL-2.0-only WITH Classpath-exception-2.0"}])
        );
        // One invalid licence: no expression possible, everything becomes a list.
        assert_eq!(
            v(&["MIT OR Apache-2.0", "Custom licence"]),
            serde_json::json!([{"license": {"name": "MIT OR Apache-2.0"}}, {"license": {"name": "Custom licence"}}])
        );
        assert_eq!(v(&[]), serde_json::json!([]));
    }

    fn project(eco: Ecosystem, name: &str, version: &str, path: &str, deps: &[&str]) -> Package {
        let mut p = Package::new(eco, name, version, Location::new(path, Some(1)), "t");
        p.dependencies = deps.iter().map(|d| d.to_string()).collect();
        p
    }

    fn depends_on(b: &Value, r: &str) -> Vec<String> {
        let deps = b["dependencies"].as_array().unwrap();
        let d = deps.iter().find(|d| d["ref"] == r).unwrap_or_else(|| panic!("no dependency entry {r}"));
        d["dependsOn"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    }

    #[test]
    fn the_one_project_of_a_project_tree_is_the_subject() {
        let mut r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "./web"), "2026-01-01T00:00:00Z");
        let lock = "package-lock.json";
        let mut express = Package::new(Ecosystem::Npm, "express", "4.16.0", Location::new(lock, None), "t");
        express.dependencies = vec!["pkg:npm/qs@6.5.1".into()];
        let qs = Package::new(Ecosystem::Npm, "qs", "6.5.1", Location::new(lock, None), "t");
        let stray =
            Package::new(Ecosystem::PyPI, "six", "1.16.0", Location::new("requirements.txt", None), "t");
        r.packages = vec![express, qs, stray];
        r.projects = vec![project(Ecosystem::Npm, "@acme/web", "1.0.0", lock, &["pkg:npm/express@4.16.0"])];
        let b = bom(&r);
        let c = &b["metadata"]["component"];
        assert_eq!(
            (c["type"].as_str(), c["group"].as_str(), c["name"].as_str()),
            (Some("application"), Some("@acme"), Some("web"))
        );
        assert_eq!(c["version"], "1.0.0");
        assert_eq!(c["purl"], "pkg:npm/%40acme/web@1.0.0");
        assert_eq!(c["bom-ref"], "pkg:npm/%40acme/web@1.0.0");
        let props: Vec<(&str, &str)> = c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
            .collect();
        assert!(props.contains(&("palisade:artifact:kind", "fs")), "{props:?}");
        assert!(props.contains(&("palisade:artifact:name", "./web")), "{props:?}");
        assert!(props.contains(&(props::PROJECT, "true")));
        // Not repeated among the components; the graph starts at it.
        assert_eq!(b["components"].as_array().unwrap().len(), 3);
        assert_eq!(b["dependencies"][0]["ref"], "pkg:npm/%40acme/web@1.0.0");
        assert_eq!(
            depends_on(&b, "pkg:npm/%40acme/web@1.0.0"),
            ["pkg:npm/express@4.16.0", "pkg:pypi/six@1.16.0"]
        );
        assert!(!b["dependencies"].as_array().unwrap().iter().any(|d| d["ref"] == ARTIFACT_REF));
        // Two projects: the directory stays the subject.
        r.projects.push(project(Ecosystem::PyPI, "api", "0.1.0", "requirements.txt", &[]));
        let b = bom(&r);
        assert_eq!(b["metadata"]["component"]["type"], "file");
        // So does an image with one project.
        r.projects.pop();
        r.artifact.kind = ArtifactKind::Image;
        assert_eq!(bom(&r)["metadata"]["component"]["type"], "container");
    }

    #[test]
    fn projects_of_an_image_are_applications_with_their_packages_under_them() {
        let mut r = report();
        let mut lodash = Package::new(
            Ecosystem::Npm,
            "lodash",
            "4.17.15",
            Location::new("app/node_modules/lodash/package.json", Some(1)),
            "npm-package-json",
        );
        lodash.locations.push(Location::new("app/package-lock.json", Some(1)));
        r.packages.push(lodash);
        let web = project(Ecosystem::Npm, "web", "1.0.0", "app/package-lock.json", &[]);
        // A binary's own module with the purl of a package: its reference must differ.
        let tool =
            project(Ecosystem::Maven, "org.apache.logging.log4j:log4j-core", "2.14.1", "app/app.jar", &[]);
        r.projects = vec![web, tool];
        let b = bom(&r);
        assert_eq!(b["metadata"]["component"]["type"], "container");
        let apps: Vec<&Value> =
            b["components"].as_array().unwrap().iter().filter(|c| c["type"] == "application").collect();
        assert_eq!(apps.len(), 2);
        let tool_ref = "palisade:project:pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
        assert!(apps.iter().any(|c| c["bom-ref"] == tool_ref), "{apps:?}");
        let root = depends_on(&b, ARTIFACT_REF);
        assert!(root.contains(&"pkg:npm/web@1.0.0".to_string()) && root.contains(&tool_ref.to_string()));
        // web's lockfile holds @types/node and lodash, which nothing depends on: they hang under web, not
        // under the image; the jar is the binary's own file, so log4j-core hangs under the tool.
        assert_eq!(
            depends_on(&b, "pkg:npm/web@1.0.0"),
            ["pkg:npm/%40types/node@20.0.0", "pkg:npm/lodash@4.17.15"]
        );
        assert_eq!(depends_on(&b, tool_ref), ["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"]);
        assert_eq!(root, ["palisade:os", "pkg:npm/web@1.0.0", tool_ref]);
    }

    #[test]
    fn fs_artifact_without_os() {
        let mut r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "."), "not a date");
        r.packages.push(Package::new(
            Ecosystem::Cargo,
            "serde",
            "1.0.0",
            Location::new("Cargo.lock", None),
            "cargo-lock",
        ));
        let b = bom(&r);
        assert_eq!(b["metadata"]["component"]["type"], "file");
        assert!(b["metadata"]["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(b["components"].as_array().unwrap().len(), 1);
        assert_eq!(b["dependencies"][0]["dependsOn"], serde_json::json!(["pkg:cargo/serde@1.0.0"]));
    }

    #[test]
    fn licence_ids_the_1_6_schema_does_not_list_and_non_licences() {
        let v = |ls: &[&str]| {
            serde_json::to_value(licenses(&ls.iter().map(|s| s.to_string()).collect::<Vec<_>>())).unwrap()
        };
        // A valid SPDX id newer than CycloneDX 1.6's list: an expression, which the schema does not restrict.
        assert_eq!(v(&["CC-PDM-1.0"]), serde_json::json!([{"expression": "CC-PDM-1.0"}]));
        assert_eq!(v(&["MIT", "CC-PDM-1.0"]), serde_json::json!([{"expression": "MIT AND CC-PDM-1.0"}]));
        // Next to free text no expression is possible: the id becomes a name.
        assert_eq!(
            v(&["CC-PDM-1.0", "Custom"]),
            serde_json::json!([{"license": {"name": "CC-PDM-1.0"}}, {"license": {"name": "Custom"}}])
        );
        assert_eq!(v(&["NOASSERTION", "NONE", " "]), serde_json::json!([]));
        assert_eq!(v(&["NOASSERTION", "MIT"]), serde_json::json!([{"license": {"id": "MIT"}}]));
    }

    use crate::test_fixtures::vuln;
    use palisade_core::Severity;
    use palisade_core::findings::vuln::{AdvisorySource, CvssScore};

    fn vulns(b: &Value) -> &Vec<Value> {
        b["vulnerabilities"].as_array().expect("vulnerabilities")
    }

    /// The report of [`report`] with lodash found twice and findings in log4j and the second lodash.
    fn report_with_findings() -> ScanReport {
        let mut r = report();
        for dir in ["a", "b"] {
            r.packages.push(Package::new(
                Ecosystem::Npm,
                "lodash",
                "4.17.15",
                Location::new(format!("{dir}/package-lock.json"), Some(1)),
                "npm-package-lock",
            ));
        }
        let mut log4j = vuln(
            "CVE-2021-44228",
            "org.apache.logging.log4j:log4j-core",
            Ecosystem::Maven,
            "app/app.jar",
            Severity::Critical,
            Some("2.15.0"),
        );
        log4j.purl = r.packages[2].purl.clone();
        log4j.package_version = "2.14.1".into();
        log4j.installed_version = "2.14.1".into();
        log4j.aliases = vec!["GHSA-jfh8-c2jp-5v3q".into()];
        log4j.advisory_sources =
            vec![AdvisorySource { feed: "osv-ghsa".into(), id: "GHSA-jfh8-c2jp-5v3q".into(), file: None }];
        log4j.cvss = vec![
            CvssScore {
                version: "3.1".into(),
                vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".into(),
                score: 10.0,
                source: Some("GHSA-jfh8-c2jp-5v3q".into()),
            },
            CvssScore {
                version: "2.0".into(),
                vector: "AV:N/AC:M/Au:N/C:C/I:C/A:C".into(),
                score: 9.3,
                source: None,
            },
            CvssScore { version: "3.1".into(), vector: String::new(), score: f64::NAN, source: None },
        ];
        log4j.severity_source = Some("CVSS:3.1 (GHSA-jfh8-c2jp-5v3q)".into());
        log4j.title = Some("Remote code injection in Log4j".into());
        log4j.description = Some("Apache Log4j2 JNDI features do not protect against ...".into());
        log4j.references = vec![
            "https://github.com/apache/logging-log4j2/pull/608".into(),
            "https://logging.apache.org/log4j/2.x/security.html".into(),
            "not a url".into(),
        ];
        log4j.published = Some("2021-12-10T00:00:00+01:00".into());
        log4j.modified = Some("yesterday".into());
        let mut lodash = vuln(
            "CVE-2020-8203",
            "lodash",
            Ecosystem::Npm,
            "b/package-lock.json",
            Severity::High,
            Some("4.17.19"),
        );
        lodash.purl = "pkg:npm/lodash@4.17.15".into();
        lodash.package_version = "4.17.15".into();
        lodash.installed_version = "4.17.15".into();
        r.vulnerabilities = vec![log4j, lodash];
        r
    }

    #[test]
    fn no_findings_no_vulnerabilities_section() {
        assert!(bom(&report()).get("vulnerabilities").is_none());
    }

    #[test]
    fn each_vulnerability_links_to_its_component() {
        let r = report_with_findings();
        let b = bom(&r);
        let lodash_b = b["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["name"] == "lodash"
                    && c["properties"].as_array().unwrap().iter().any(|p| p["value"] == "b/package-lock.json")
            })
            .unwrap();
        let vs = vulns(&b);
        assert_eq!(vs.len(), 2);
        let lodash = vs.iter().find(|v| v["id"] == "CVE-2020-8203").unwrap();
        assert_eq!(lodash["affects"][0]["ref"], lodash_b["bom-ref"], "the copy the finding is about");
        assert_eq!(
            lodash["affects"][0]["versions"],
            serde_json::json!([{"version": "4.17.15", "status": "affected"}])
        );
        assert_eq!(lodash["recommendation"], "Upgrade lodash to 4.17.19 or later.");

        let log4j = vs.iter().find(|v| v["id"] == "CVE-2021-44228").unwrap();
        assert_eq!(log4j["affects"][0]["ref"], component(&b, "log4j-core")["bom-ref"]);
        assert!(log4j["bom-ref"].as_str().unwrap().starts_with("palisade:vuln:CVE-2021-44228:"));
        // The data came from the GHSA advisory of the osv-ghsa feed.
        assert_eq!(
            log4j["source"],
            serde_json::json!({"name": "osv-ghsa", "url": "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q"})
        );
        assert_eq!(
            log4j["references"],
            serde_json::json!([{"id": "GHSA-jfh8-c2jp-5v3q",
                "source": {"name": "osv-ghsa", "url": "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q"}}])
        );
        let ratings = log4j["ratings"].as_array().unwrap();
        assert_eq!(
            ratings[0],
            serde_json::json!({"source": {"name": "GHSA-jfh8-c2jp-5v3q",
                "url": "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q"},
                "score": 10.0, "severity": "critical", "method": "CVSSv31",
                "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"})
        );
        // CVSS v2 has no `critical`.
        assert_eq!(
            (ratings[1]["method"].as_str(), ratings[1]["severity"].as_str()),
            (Some("CVSSv2"), Some("high"))
        );
        // A score that is not a number is left out, not written as null.
        assert_eq!(ratings[2], serde_json::json!({"method": "CVSSv31"}));
        assert_eq!(ratings[3]["source"]["name"], "CVSS:3.1 (GHSA-jfh8-c2jp-5v3q)");
        assert_eq!(ratings[3]["severity"], "critical");
        assert_eq!(log4j["description"], "Remote code injection in Log4j");
        assert!(log4j["detail"].as_str().unwrap().starts_with("Apache Log4j2 JNDI"));
        assert_eq!(
            log4j["recommendation"],
            "Upgrade org.apache.logging.log4j:log4j-core to 2.15.0 or later."
        );
        assert_eq!(
            log4j["advisories"],
            serde_json::json!([
                {"url": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"},
                {"url": "https://github.com/apache/logging-log4j2/pull/608"},
                {"url": "https://logging.apache.org/log4j/2.x/security.html"}
            ])
        );
        assert_eq!(log4j["published"], "2021-12-09T23:00:00Z");
        assert!(log4j.get("updated").is_none(), "not RFC 3339: left out");
        assert!(log4j.get("analysis").is_none(), "active findings carry no analysis");
        let props: Vec<(&str, &str)> = log4j["properties"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
            .collect();
        assert!(props.contains(&(vuln_props::STATUS, "fixed")));
        assert!(props.contains(&(vuln_props::FIXED_VERSION, "2.15.0")));
        assert!(props.contains(&(vuln_props::ADVISORY, "osv-ghsa GHSA-jfh8-c2jp-5v3q")));
    }

    #[test]
    fn suppressions_become_an_analysis() {
        let mut r = report_with_findings();
        let base = r.vulnerabilities[1].clone();
        let mut cases = Vec::new();
        for (id, reason) in [
            ("CVE-1", "VEX https://example.com/vex/1: not_affected (vulnerable_code_not_in_execute_path)"),
            ("CVE-2", "VEX https://example.com/vex/1: not_affected (the parser is never called)"),
            ("CVE-3", "VEX https://example.com/vex/1: fixed"),
            ("CVE-4", "ignored by .palisadeignore:4: accepted until the next release"),
        ] {
            let mut v = base.clone();
            v.id = id.into();
            v.suppressed = Some(reason.into());
            cases.push(v);
        }
        r.vulnerabilities.extend(cases);
        let b = bom(&r);
        let get = |id: &str| vulns(&b).iter().find(|v| v["id"] == id).unwrap().clone();
        let a = get("CVE-1");
        assert_eq!(
            a["analysis"],
            serde_json::json!({"state": "not_affected", "justification": "code_not_reachable",
                "detail": "VEX https://example.com/vex/1: not_affected (vulnerable_code_not_in_execute_path)"})
        );
        assert_eq!(a["affects"][0]["versions"][0]["status"], "unaffected");
        let a = get("CVE-2");
        assert_eq!(a["analysis"]["state"], "not_affected");
        assert!(a["analysis"].get("justification").is_none(), "an impact statement is no justification");
        let a = get("CVE-3");
        assert_eq!(a["analysis"]["state"], "resolved");
        assert_eq!(a["affects"][0]["versions"][0]["status"], "unaffected");
        let a = get("CVE-4");
        assert_eq!(
            a["analysis"],
            serde_json::json!({"state": "exploitable",
                "detail": "ignored by .palisadeignore:4: accepted until the next release"})
        );
        assert_eq!(a["affects"][0]["versions"][0]["status"], "affected");
    }

    #[test]
    fn a_vulnerability_only_report_gets_components_for_its_findings() {
        let mut r = report_with_findings();
        r.packages.clear();
        r.os = None;
        r.vulnerabilities.push(r.vulnerabilities[1].clone()); // a repeat: one entry
        let b = bom(&r);
        let components = b["components"].as_array().unwrap();
        assert_eq!(components.len(), 2, "{components:?}");
        assert_eq!(vulns(&b).len(), 2);
        for v in vulns(&b) {
            let target = &v["affects"][0]["ref"];
            assert!(components.iter().any(|c| &c["bom-ref"] == target), "{target} resolves");
            assert!(b["dependencies"][0]["dependsOn"].as_array().unwrap().contains(target));
        }
        let lodash = components.iter().find(|c| c["name"] == "lodash").unwrap();
        assert_eq!(lodash["purl"], "pkg:npm/lodash@4.17.15");
        assert_eq!(lodash["properties"][0]["value"], "b/package-lock.json");
    }
}
