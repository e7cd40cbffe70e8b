//! SPDX 2.3 JSON output.
//!
//! Layout (own serde structs, validated against the official SPDX 2.3 schema in the tests):
//! - The document `DESCRIBES` one root package for the artifact (`SPDXRef-Artifact-<hash>`, purpose
//!   `CONTAINER` for images with the digest as version and an `oci` purl, `SOURCE` for directories and repos,
//!   `OTHER` for root filesystems).
//!   Enum values follow the official 2.3 JSON schema, e.g. `OPERATING_SYSTEM` (Trivy writes the spec text's
//!   `OPERATING-SYSTEM`, which that schema rejects; the reader accepts both).
//! - When a project tree (`fs`, `repo`) has exactly one root project ([`ScanReport::projects`]), the document
//!   `DESCRIBES` that project instead (`SPDXRef-Project-<hash>`, purpose `APPLICATION`, its purl), and it
//!   takes the root's place below. Other root projects are packages with purpose `APPLICATION` and the
//!   annotation `palisade:project=true` that the root `CONTAINS`; each `DEPENDS_ON` its resolved
//!   dependencies and the packages of its own files that nothing depends on.
//! - The OS, when known, is a package with purpose `OPERATING_SYSTEM` that the root `CONTAINS`; it
//!   `CONTAINS` the OS packages (as Trivy lays it out). The root `CONTAINS` every other package.
//! - One package per [`Package`]: `SPDXRef-Package-<hash of purl and locations>`, `downloadLocation`,
//!   `supplier` and `licenseConcluded` `NOASSERTION`, `filesAnalyzed` false, the purl as a `PACKAGE-MANAGER`
//!   external ref, `licenseDeclared` as an SPDX expression (licences that are not valid SPDX become
//!   `LicenseRef-...` with their text in `hasExtractedLicensingInfos`), `sourceInfo` in Trivy's wording
//!   (`built package from: <src> <ver>` / `package found in: <path>`).
//! - Palisade facts are annotations whose comment is `<cyclonedx property name>=<value>` (the same
//!   `palisade:*` names as [`crate::cyclonedx::props`]); `palisade-inventory` reads them back.
//! - `DEPENDS_ON` relationships from [`Package::dependencies`] (unresolved purls dropped).
//! - Vulnerabilities, on the package each finding is about (a finding whose package the report does not list
//!   gets a package of its own): `SECURITY` external refs (`advisory` for the pages of the id and its aliases,
//!   `fix` for references to the fixing commit or pull request, `url` for the other references; the comment
//!   is the vulnerability id) and one `REVIEW` annotation per finding (id, severity, installed -> fixed
//!   version, the suppression reason). `licenseConcluded` stays `NOASSERTION`: Palisade reports what packages
//!   declare, it does not conclude.

use crate::ReportError;
use crate::cyclonedx::props;
use crate::license::{self, License};
use crate::sbom_vuln;
use crate::util;
use palisade_core::findings::vuln::VulnFinding;
use palisade_core::{ArtifactInfo, ArtifactKind, OsInfo, Package, ScanReport, Scope};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use uuid::Uuid;

const NOASSERTION: &str = "NOASSERTION";
const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<Relationship>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: &'static str,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    license_concluded: &'static str,
    license_declared: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    annotations: Vec<Annotation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: &'static str,
    annotator: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    related_spdx_element: String,
    relationship_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

fn rel(a: &str, ty: &'static str, b: &str) -> Relationship {
    Relationship {
        spdx_element_id: a.to_string(),
        related_spdx_element: b.to_string(),
        relationship_type: ty,
    }
}

/// Write `report` as an SPDX 2.3 JSON document with a fresh random namespace.
pub fn render(report: &ScanReport, out: &mut dyn Write) -> Result<(), ReportError> {
    render_with_namespace_id(report, Uuid::new_v4(), out)
}

/// Like [`render`] with a given UUID in the document namespace (for reproducible output).
pub fn render_with_namespace_id(
    report: &ScanReport,
    id: Uuid,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    let doc = build(report, id);
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The longest licence text kept whole in a `LicenseRef-` id.
const MAX_LICENSE_REF_TEXT: usize = 64;

/// Licences not expressible in SPDX, given `LicenseRef-` ids; one per distinct text.
#[derive(Default)]
struct LicenseRefs {
    by_id: BTreeMap<String, String>,
}

impl LicenseRefs {
    /// The `LicenseRef-` id for free text: the text with everything but `[A-Za-z0-9.-]` replaced by `-`, cut
    /// to [`MAX_LICENSE_REF_TEXT`] characters plus a hash when longer (a whole licence text in a metadata
    /// field must not become a kilobyte-long id).
    fn for_text(&mut self, text: &str) -> String {
        let clean = util::sanitize(text);
        let base = if clean.len() > MAX_LICENSE_REF_TEXT {
            format!("LicenseRef-{}-{}", &clean[..MAX_LICENSE_REF_TEXT], &util::short_hash(&[text])[..8])
        } else {
            format!("LicenseRef-{clean}")
        };
        let id = match self.by_id.get(&base) {
            Some(t) if t != text => format!("{base}-{}", &util::short_hash(&[text])[..8]),
            _ => base,
        };
        self.by_id.entry(id.clone()).or_insert_with(|| text.to_string());
        id
    }

    /// Make sure a `LicenseRef-` used inside a valid expression is defined.
    fn declare(&mut self, id: &str) {
        self.by_id.entry(id.to_string()).or_insert_with(|| id.to_string());
    }

    fn into_vec(self) -> Vec<ExtractedLicense> {
        self.by_id
            .into_iter()
            .map(|(id, text)| ExtractedLicense { name: text.clone(), license_id: id, extracted_text: text })
            .collect()
    }
}

fn license_declared(raw: &[String], refs: &mut LicenseRefs) -> String {
    let classified: Vec<License> = raw.iter().filter_map(|s| license::classify(s)).collect();
    if classified.is_empty() {
        return NOASSERTION.to_string();
    }
    let many = classified.len() > 1;
    let parts: Vec<String> = classified
        .into_iter()
        .map(|l| match l {
            License::Id(id) => id,
            License::Expression { text, refs: used } => {
                for r in &used {
                    refs.declare(r);
                }
                if many && license::is_compound(&text) { format!("({text})") } else { text }
            }
            License::Name(text) => refs.for_text(&text),
        })
        .collect();
    parts.join(" AND ")
}

fn build(report: &ScanReport, ns_id: Uuid) -> Document {
    let created = util::utc_timestamp(&report.created);
    let annotator = format!("Tool: {}-{}", report.tool.name, report.tool.version);
    let annotate = |comment: String| Annotation {
        annotation_date: created.clone(),
        annotation_type: "OTHER",
        annotator: annotator.clone(),
        comment,
    };

    let a = &report.artifact;
    let mut license_refs = LicenseRefs::default();
    // Root projects: the subject of a project tree, or applications the artifact contains.
    let project_ids: Vec<String> =
        report.projects.iter().map(|p| format!("SPDXRef-Project-{}", util::package_hash(p))).collect();
    let subject =
        matches!((a.kind, report.projects.as_slice()), (ArtifactKind::Fs | ArtifactKind::Repo, [_]));
    let project_packages: Vec<SpdxPackage> = report
        .projects
        .iter()
        .zip(&project_ids)
        .map(|(p, id)| {
            let mut pkg = package(p, id, &a.layers, &mut license_refs, &annotate);
            pkg.primary_package_purpose = Some("APPLICATION");
            pkg.annotations.insert(0, annotate(format!("{}=true", props::PROJECT)));
            pkg
        })
        .collect();
    let (root_id, mut packages) = if subject {
        (project_ids.first().cloned().unwrap_or_default(), project_packages)
    } else {
        let root_id = format!("SPDXRef-Artifact-{}", util::short_hash(&[&a.kind.to_string(), &a.name]));
        let mut packages = vec![root_package(a, &root_id)];
        packages.extend(project_packages);
        (root_id, packages)
    };
    // What a scanner could not check, on the document's subject: its findings are incomplete, not clean.
    if let Some(root) = packages.first_mut() {
        root.annotations.extend(
            report
                .gaps
                .iter()
                .map(|g| annotate(format!("{}={}/{}: {}", props::INCOMPLETE, g.scanner, g.kind, g.message))),
        );
    }
    let mut relationships = vec![rel(DOCUMENT_ID, "DESCRIBES", &root_id)];
    if !subject {
        for id in &project_ids {
            relationships.push(rel(&root_id, "CONTAINS", id));
        }
    }

    let os_id = report.os.as_ref().map(|os| {
        let id = format!("SPDXRef-OperatingSystem-{}", util::short_hash(&[&os.id, &os.version_id]));
        packages.push(os_package(os, &id, &annotate));
        relationships.push(rel(&root_id, "CONTAINS", &id));
        id
    });

    let mut sorted = util::sorted_packages(report);
    // A finding whose package the report does not list (`--scanners vuln` alone) gets a package of its own.
    let extra = sbom_vuln::missing_packages(&report.vulnerabilities, &sorted);
    sorted.extend(extra.iter());
    let mut findings_of: Vec<Vec<&VulnFinding>> = vec![Vec::new(); sorted.len()];
    if !report.vulnerabilities.is_empty() {
        let index = sbom_vuln::PackageIndex::new(&sorted);
        for (fi, pi) in sbom_vuln::linked_findings(&report.vulnerabilities, &index) {
            findings_of[pi].push(&report.vulnerabilities[fi]);
        }
    }
    let mut used: HashSet<String> = HashSet::new();
    let ids: Vec<String> = sorted
        .iter()
        .map(|p| {
            let base = format!("SPDXRef-Package-{}", util::package_hash(p));
            let mut id = base.clone();
            let mut n = 2;
            while used.contains(&id) {
                id = format!("{base}-{n}");
                n += 1;
            }
            used.insert(id.clone());
            id
        })
        .collect();
    let by_purl: HashMap<&str, &str> = {
        let mut m = HashMap::new();
        for (p, id) in sorted.iter().zip(&ids) {
            m.entry(p.purl.as_str()).or_insert(id.as_str());
        }
        m
    };

    let review = |comment: String| Annotation {
        annotation_date: created.clone(),
        annotation_type: "REVIEW",
        annotator: annotator.clone(),
        comment,
    };
    for ((p, id), findings) in sorted.iter().zip(&ids).zip(&findings_of) {
        let mut spdx_package = package(p, id, &a.layers, &mut license_refs, &annotate);
        for v in findings {
            add_vulnerability(&mut spdx_package, v, &review);
        }
        packages.push(spdx_package);
        let parent = match &os_id {
            Some(os) if p.ecosystem.is_os() => os.as_str(),
            _ => root_id.as_str(),
        };
        relationships.push(rel(parent, "CONTAINS", id));
    }
    let mut depended_on: HashSet<&str> = HashSet::new();
    for (p, id) in sorted.iter().zip(&ids) {
        let targets: BTreeSet<&str> = p
            .dependencies
            .iter()
            .filter_map(|d| by_purl.get(d.as_str()).copied())
            .filter(|t| *t != id.as_str())
            .collect();
        for t in targets {
            depended_on.insert(t);
            relationships.push(rel(id, "DEPENDS_ON", t));
        }
    }
    let project_by_purl: HashMap<&str, &str> =
        report.projects.iter().zip(&project_ids).map(|(p, id)| (p.purl.as_str(), id.as_str())).collect();
    // The packages nothing depends on, and per file those found in it.
    let tops: Vec<(&Package, &str)> = sorted
        .iter()
        .zip(&ids)
        .filter(|(p, id)| !p.ecosystem.is_os() && !depended_on.contains(id.as_str()))
        .map(|(p, id)| (*p, id.as_str()))
        .collect();
    let mut tops_by_path: HashMap<&str, Vec<&str>> = HashMap::new();
    for (p, id) in &tops {
        for l in &p.locations {
            tops_by_path.entry(l.path.as_str()).or_default().push(id);
        }
    }
    for (proj, pid) in report.projects.iter().zip(&project_ids) {
        let mut targets: BTreeSet<&str> = proj
            .dependencies
            .iter()
            .filter_map(|d| by_purl.get(d.as_str()).or_else(|| project_by_purl.get(d.as_str())).copied())
            .collect();
        // The packages of its own files that nothing else depends on (lockfiles that do not say what is
        // direct); for the subject, every such package.
        if subject {
            targets.extend(tops.iter().map(|(_, id)| *id));
        } else {
            targets.extend(proj.locations.iter().filter_map(|l| tops_by_path.get(l.path.as_str())).flatten());
        }
        targets.remove(pid.as_str());
        for t in targets {
            relationships.push(rel(pid, "DEPENDS_ON", t));
        }
    }

    Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: DOCUMENT_ID,
        name: if a.name.is_empty() { "unnamed".to_string() } else { a.name.clone() },
        document_namespace: format!(
            "https://palisade.invalid/spdx/{}/{}-{ns_id}",
            a.kind,
            util::sanitize(&a.name)
        ),
        creation_info: CreationInfo { created: created.clone(), creators: vec![annotator.clone()] },
        packages,
        relationships,
        has_extracted_licensing_infos: license_refs.into_vec(),
    }
}

fn bare_package(name: String, id: &str) -> SpdxPackage {
    SpdxPackage {
        name: if name.is_empty() { "unnamed".to_string() } else { name },
        spdx_id: id.to_string(),
        version_info: None,
        supplier: NOASSERTION,
        download_location: NOASSERTION,
        files_analyzed: false,
        source_info: None,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.to_string(),
        external_refs: Vec::new(),
        primary_package_purpose: None,
        annotations: Vec::new(),
    }
}

fn purl_ref(purl: String) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER",
        reference_type: "purl",
        reference_locator: purl,
        comment: None,
    }
}

fn root_package(a: &ArtifactInfo, id: &str) -> SpdxPackage {
    let mut p = bare_package(a.name.clone(), id);
    p.primary_package_purpose = Some(match a.kind {
        ArtifactKind::Image => "CONTAINER",
        ArtifactKind::Fs | ArtifactKind::Repo => "SOURCE",
        ArtifactKind::Rootfs | ArtifactKind::Sbom => "OTHER",
    });
    if a.kind == ArtifactKind::Image {
        let repo_digest = a.repo_digests.iter().find_map(|d| d.split_once('@'));
        p.version_info = repo_digest.map(|(_, d)| d.to_string()).or_else(|| a.id.clone());
        if let Some((repo, digest)) = repo_digest
            && let Some(purl) = oci_purl(repo, digest)
        {
            p.external_refs.push(purl_ref(purl));
        }
    }
    p
}

fn oci_purl(repo: &str, digest: &str) -> Option<String> {
    let name = repo.rsplit('/').next().filter(|n| !n.is_empty())?.to_ascii_lowercase();
    let mut p = packageurl::PackageUrl::new("oci", name).ok()?;
    p.with_version(digest).ok()?;
    p.add_qualifier("repository_url", repo.to_string()).ok()?;
    Some(p.to_string())
}

fn os_package(os: &OsInfo, id: &str, annotate: &impl Fn(String) -> Annotation) -> SpdxPackage {
    let mut p = bare_package(os.id.clone(), id);
    p.version_info = Some(os.version_id.clone()).filter(|v| !v.is_empty());
    p.primary_package_purpose = Some("OPERATING_SYSTEM");
    if let Some(c) = &os.codename {
        p.annotations.push(annotate(format!("{}={c}", props::OS_CODENAME)));
    }
    if let Some(n) = &os.pretty_name {
        p.annotations.push(annotate(format!("{}={n}", props::OS_PRETTY_NAME)));
    }
    if !os.id_like.is_empty() {
        p.annotations.push(annotate(format!("{}={}", props::OS_ID_LIKE, os.id_like.join(" "))));
    }
    if os.distroless {
        p.annotations.push(annotate(format!("{}=true", props::OS_DISTROLESS)));
    }
    if let Some(eol) = &os.end_of_life {
        p.annotations.push(annotate(format!("{}={}", props::OS_END_OF_LIFE, eol.date)));
        p.annotations.push(annotate(format!("{}={}", props::OS_END_OF_LIFE_ENDED, eol.ended)));
    }
    p
}

fn package(
    pkg: &Package,
    id: &str,
    layers: &[palisade_core::LayerInfo],
    refs: &mut LicenseRefs,
    annotate: &impl Fn(String) -> Annotation,
) -> SpdxPackage {
    let mut p = bare_package(pkg.name.clone(), id);
    p.version_info = Some(pkg.version.clone()).filter(|v| !v.is_empty());
    p.primary_package_purpose = Some("LIBRARY");
    p.license_declared = license_declared(&pkg.licenses, refs);
    if !pkg.purl.is_empty() {
        p.external_refs.push(purl_ref(pkg.purl.clone()));
    }
    let (path, layer) = util::primary_location(pkg);
    p.source_info = match (&pkg.source, path) {
        (Some(s), _) => Some(format!("built package from: {} {}", s.name, s.version)),
        (None, Some(path)) => Some(format!("package found in: {path}")),
        (None, None) => None,
    };
    let mut notes: Vec<String> = Vec::new();
    for l in &pkg.locations {
        notes.push(format!("{}={}", props::LOCATION, l.path));
    }
    for l in &pkg.locations {
        if let Some(n) = l.layer {
            notes.push(format!("{}={n}", props::LAYER));
        }
    }
    if let Some(diff_id) =
        layer.and_then(|n| layers.iter().find(|l| l.index == n)).and_then(|l| l.diff_id.as_ref())
    {
        notes.push(format!("{}={diff_id}", props::LAYER_DIFF_ID));
    }
    if !pkg.found_by.is_empty() {
        notes.push(format!("{}={}", props::FOUND_BY, pkg.found_by));
    }
    if let Some(s) = &pkg.source {
        notes.push(format!("{}={}", props::SOURCE_NAME, s.name));
        notes.push(format!("{}={}", props::SOURCE_VERSION, s.version));
    }
    if let Some(a) = &pkg.arch {
        notes.push(format!("{}={a}", props::ARCH));
    }
    if let Some(d) = pkg.direct {
        notes.push(format!("{}={d}", props::DIRECT));
    }
    match pkg.scope {
        Scope::Dev => notes.push(format!("{}=dev", props::SCOPE)),
        Scope::Optional => notes.push(format!("{}=optional", props::SCOPE)),
        Scope::Required => {}
    }
    for (k, v) in &pkg.metadata {
        notes.push(format!("{}{k}={v}", props::METADATA_PREFIX));
    }
    p.annotations = notes.into_iter().map(annotate).collect();
    p
}

/// A finding on its package: `SECURITY` external refs (`advisory`: the pages of its id and aliases, else its
/// first reference; `fix`: references to the fixing change; `url`: its other references), each with the
/// vulnerability id as comment, and one `REVIEW` annotation stating the finding.
fn add_vulnerability(p: &mut SpdxPackage, v: &VulnFinding, review: &impl Fn(String) -> Annotation) {
    let comment = Some(v.id.clone()).filter(|c| !c.is_empty());
    let mut seen: Vec<String> = Vec::new();
    let mut push = |p: &mut SpdxPackage, ty: &'static str, url: String| {
        if !seen.contains(&url) {
            seen.push(url.clone());
            p.external_refs.push(ExternalRef {
                reference_category: "SECURITY",
                reference_type: ty,
                reference_locator: url,
                comment: comment.clone(),
            });
        }
    };
    let mut ids: Vec<&str> = vec![v.id.as_str()];
    ids.extend(v.aliases.iter().map(String::as_str));
    let pages: Vec<String> = ids.iter().filter_map(|id| sbom_vuln::advisory_url(id)).collect();
    let references = sbom_vuln::clean_references(v);
    let (fixes, others): (Vec<&str>, Vec<&str>) =
        references.into_iter().partition(|u| sbom_vuln::is_fix_url(u));
    let mut others = others.into_iter();
    if pages.is_empty() {
        if let Some(first) = others.next() {
            push(p, "advisory", first.to_string());
        }
    } else {
        for page in pages {
            push(p, "advisory", page);
        }
    }
    for f in fixes {
        push(p, "fix", f.to_string());
    }
    for o in others {
        push(p, "url", o.to_string());
    }

    let mut text = format!("Vulnerability {}: severity {}", v.id, v.severity);
    if let Some(src) = v.severity_source.as_deref().filter(|s| !s.is_empty()) {
        text.push_str(&format!(" ({src})"));
    }
    text.push_str(&format!("; {}", sbom_vuln::version_change(v)));
    if !v.aliases.is_empty() {
        text.push_str(&format!("; aliases {}", v.aliases.join(", ")));
    }
    match &v.suppressed {
        Some(reason) => text.push_str(&format!("; suppressed: {reason}")),
        None => text.push_str("; active"),
    }
    p.annotations.push(review(text));
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Ecosystem, Location, SourcePackage};
    use serde_json::Value;

    fn doc(r: &ScanReport) -> Value {
        let mut buf = Vec::new();
        render_with_namespace_id(r, Uuid::nil(), &mut buf).unwrap();
        serde_json::from_slice(&buf).unwrap()
    }

    fn report() -> ScanReport {
        let mut r =
            ScanReport::new(ArtifactInfo::new(ArtifactKind::Rootfs, "/srv/root fs"), "2026-03-04T05:06:07Z");
        r.os = Some(OsInfo { id: "alpine".into(), version_id: "3.19.1".into(), ..Default::default() });
        let mut musl = Package::new(
            Ecosystem::Apk,
            "musl",
            "1.2.4-r2",
            Location::new("lib/apk/db/installed", None),
            "apk",
        );
        musl.purl = "pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.19.1".into();
        musl.source = Some(SourcePackage { name: "musl".into(), version: "1.2.4-r2".into() });
        musl.licenses = vec!["MIT".into()];
        let mut req = Package::new(
            Ecosystem::PyPI,
            "requests",
            "2.31.0",
            Location::new("app/requirements.txt", None),
            "pip",
        );
        req.licenses = vec!["Apache License 2.0".into(), "LicenseRef-acme".into()];
        req.dependencies = vec!["pkg:pypi/urllib3@2.0.0".into(), "pkg:pypi/nope@1".into()];
        let urllib = Package::new(
            Ecosystem::PyPI,
            "urllib3",
            "2.0.0",
            Location::new("app/requirements.txt", None),
            "pip",
        );
        r.packages = vec![musl, req, urllib];
        r
    }

    fn find<'a>(d: &'a Value, name: &str) -> &'a Value {
        d["packages"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()
    }

    fn rels<'a>(d: &'a Value, ty: &str) -> Vec<(&'a str, &'a str)> {
        d["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["relationshipType"] == ty)
            .map(|r| (r["spdxElementId"].as_str().unwrap(), r["relatedSpdxElement"].as_str().unwrap()))
            .collect()
    }

    #[test]
    fn the_one_project_of_a_project_tree_is_described() {
        let mut r = report();
        r.artifact = ArtifactInfo::new(ArtifactKind::Repo, "git/app");
        r.os = None;
        r.packages.retain(|p| !p.ecosystem.is_os());
        let mut app =
            Package::new(Ecosystem::PyPI, "app", "0.1.0", Location::new("app/pyproject.toml", None), "t");
        app.dependencies = vec!["pkg:pypi/requests@2.31.0".into()];
        r.projects = vec![app];
        let d = doc(&r);
        let described = rels(&d, "DESCRIBES");
        assert_eq!(described.len(), 1);
        let app = find(&d, "app");
        assert_eq!(described[0], ("SPDXRef-DOCUMENT", app["SPDXID"].as_str().unwrap()));
        assert!(app["SPDXID"].as_str().unwrap().starts_with("SPDXRef-Project-"));
        assert_eq!(app["primaryPackagePurpose"], "APPLICATION");
        assert_eq!(app["externalRefs"][0]["referenceLocator"], "pkg:pypi/app@0.1.0");
        // No artifact package: the project takes its place and contains the packages.
        assert!(
            !d["packages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["SPDXID"].as_str().unwrap().starts_with("SPDXRef-Artifact-"))
        );
        let app_id = app["SPDXID"].as_str().unwrap();
        let req = find(&d, "requests")["SPDXID"].as_str().unwrap();
        assert!(rels(&d, "CONTAINS").contains(&(app_id, req)));
        assert_eq!(
            rels(&d, "DEPENDS_ON").iter().filter(|(a, _)| *a == app_id).count(),
            1,
            "urllib3 hangs under requests"
        );
    }

    #[test]
    fn projects_of_other_scans_are_contained_applications() {
        let mut r = report();
        let app =
            Package::new(Ecosystem::PyPI, "app", "0.1.0", Location::new("app/requirements.txt", None), "t");
        let other =
            Package::new(Ecosystem::Npm, "web", "1.0.0", Location::new("web/package-lock.json", None), "t");
        r.projects = vec![app, other];
        let d = doc(&r);
        let root = rels(&d, "DESCRIBES")[0].1;
        assert!(root.starts_with("SPDXRef-Artifact-"));
        let app = find(&d, "app");
        let app_id = app["SPDXID"].as_str().unwrap();
        assert_eq!(app["primaryPackagePurpose"], "APPLICATION");
        assert!(
            app["annotations"].as_array().unwrap().iter().any(|a| a["comment"] == "palisade:project=true")
        );
        assert!(rels(&d, "CONTAINS").contains(&(root, app_id)));
        // It depends on the packages of its requirements file that nothing else depends on.
        let req = find(&d, "requests")["SPDXID"].as_str().unwrap();
        assert_eq!(
            rels(&d, "DEPENDS_ON").iter().filter(|(a, _)| *a == app_id).collect::<Vec<_>>(),
            [&(app_id, req)]
        );
    }

    #[test]
    fn header() {
        let d = doc(&report());
        assert_eq!(d["spdxVersion"], "SPDX-2.3");
        assert_eq!(d["dataLicense"], "CC0-1.0");
        assert_eq!(d["SPDXID"], "SPDXRef-DOCUMENT");
        assert_eq!(
            d["documentNamespace"],
            "https://palisade.invalid/spdx/rootfs/-srv-root-fs-00000000-0000-0000-0000-000000000000"
        );
        assert_eq!(d["creationInfo"]["created"], "2026-03-04T05:06:07Z");
        assert!(d["creationInfo"]["creators"][0].as_str().unwrap().starts_with("Tool: palisade-"));
    }

    #[test]
    fn packages_licences_and_relationships() {
        let d = doc(&report());
        let musl = find(&d, "musl");
        assert_eq!(musl["licenseDeclared"], "MIT");
        assert_eq!(musl["sourceInfo"], "built package from: musl 1.2.4-r2");
        assert_eq!(
            musl["externalRefs"][0]["referenceLocator"],
            "pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.19.1"
        );
        assert!(musl["SPDXID"].as_str().unwrap().starts_with("SPDXRef-Package-"));
        let req = find(&d, "requests");
        // A licence name is normalised to its SPDX id; only what is not SPDX becomes an extracted licence.
        assert_eq!(req["licenseDeclared"], "Apache-2.0 AND LicenseRef-acme");
        assert_eq!(req["sourceInfo"], "package found in: app/requirements.txt");
        let extracted = d["hasExtractedLicensingInfos"].as_array().unwrap();
        assert!(!extracted.iter().any(|e| e["licenseId"] == "LicenseRef-Apache-License-2.0"));
        assert!(extracted.iter().any(|e| e["licenseId"] == "LicenseRef-acme"));

        let rels: Vec<(String, String, String)> = d["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["spdxElementId"].as_str().unwrap().to_string(),
                    r["relationshipType"].as_str().unwrap().to_string(),
                    r["relatedSpdxElement"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let id = |n: &str| find(&d, n)["SPDXID"].as_str().unwrap().to_string();
        let root = d["packages"][0]["SPDXID"].as_str().unwrap().to_string();
        assert!(rels.contains(&("SPDXRef-DOCUMENT".into(), "DESCRIBES".into(), root.clone())));
        assert!(rels.contains(&(root.clone(), "CONTAINS".into(), id("alpine"))));
        assert!(rels.contains(&(id("alpine"), "CONTAINS".into(), id("musl"))));
        assert!(rels.contains(&(root, "CONTAINS".into(), id("requests"))));
        assert!(rels.contains(&(id("requests"), "DEPENDS_ON".into(), id("urllib3"))));
        assert_eq!(rels.iter().filter(|r| r.1 == "DEPENDS_ON").count(), 1, "unresolved dependency dropped");
    }

    #[test]
    fn identical_entries_get_distinct_ids() {
        let mut r = report();
        let dup = r.packages[2].clone();
        r.packages.push(dup);
        let d = doc(&r);
        let ids: HashSet<&str> =
            d["packages"].as_array().unwrap().iter().map(|p| p["SPDXID"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), d["packages"].as_array().unwrap().len());
    }

    #[test]
    fn no_licence_is_noassertion() {
        let mut refs = LicenseRefs::default();
        assert_eq!(license_declared(&[], &mut refs), "NOASSERTION");
        assert_eq!(
            license_declared(&["MIT OR Apache-2.0".into(), "ISC".into()], &mut refs),
            "(MIT OR Apache-2.0) AND ISC"
        );
        assert!(refs.into_vec().is_empty());
        let mut refs = LicenseRefs::default();
        assert_eq!(license_declared(&["NOASSERTION".into()], &mut refs), "NOASSERTION");
    }

    #[test]
    fn long_licence_texts_get_short_ids() {
        let text = "Permission is hereby granted, free of charge, to any person obtaining a copy of this \
                    software and associated documentation files, to deal in the Software without restriction";
        let mut refs = LicenseRefs::default();
        let id = license_declared(&[text.into()], &mut refs);
        assert!(id.starts_with("LicenseRef-Permission-is-hereby-granted"), "{id}");
        assert_eq!(id.len(), "LicenseRef-".len() + MAX_LICENSE_REF_TEXT + 9, "{id}");
        let extracted = refs.into_vec();
        assert_eq!(
            (extracted[0].license_id.as_str(), extracted[0].extracted_text.as_str()),
            (id.as_str(), text)
        );
    }

    use crate::test_fixtures::vuln;
    use palisade_core::Severity;

    fn security_refs(p: &Value) -> Vec<(String, String, String)> {
        p["externalRefs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["referenceCategory"] == "SECURITY")
            .map(|r| {
                (
                    r["referenceType"].as_str().unwrap().to_string(),
                    r["referenceLocator"].as_str().unwrap().to_string(),
                    r["comment"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn reviews(p: &Value) -> Vec<String> {
        p["annotations"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|a| a["annotationType"] == "REVIEW")
                    .map(|a| a["comment"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn vulnerabilities_become_security_refs_and_reviews_on_their_package() {
        let mut r = report();
        let mut v = vuln(
            "CVE-2023-1234",
            "requests",
            Ecosystem::PyPI,
            "app/requirements.txt",
            Severity::High,
            Some("2.32.0"),
        );
        v.purl = "pkg:pypi/requests@2.31.0".into();
        v.installed_version = "2.31.0".into();
        v.package_version = "2.31.0".into();
        v.aliases = vec!["GHSA-9wx4-h78v-vm56".into(), "PYSEC-2023-74".into()];
        v.severity_source = Some("ghsa".into());
        v.references = vec![
            "https://github.com/psf/requests/commit/74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5".into(),
            "https://github.com/psf/requests/security/advisories/GHSA-9wx4-h78v-vm56".into(),
            "https://nvd.nist.gov/vuln/detail/CVE-2023-1234".into(),
            "not a url".into(),
        ];
        let mut ignored =
            vuln("EXAMPLE-2099-7", "musl", Ecosystem::Apk, "lib/apk/db/installed", Severity::Low, None);
        ignored.purl = r.packages[0].purl.clone();
        ignored.package_version = "1.2.4-r2".into();
        ignored.suppressed = Some("ignored by .palisadeignore:2: not exposed".into());
        ignored.references = vec!["https://example.invalid/advisory/7".into()];
        r.vulnerabilities = vec![v, ignored];
        let d = doc(&r);

        let req = find(&d, "requests");
        assert_eq!(
            security_refs(req),
            [
                ("advisory", "https://nvd.nist.gov/vuln/detail/CVE-2023-1234"),
                ("advisory", "https://github.com/advisories/GHSA-9wx4-h78v-vm56"),
                ("advisory", "https://osv.dev/vulnerability/PYSEC-2023-74"),
                ("fix", "https://github.com/psf/requests/commit/74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5"),
                ("url", "https://github.com/psf/requests/security/advisories/GHSA-9wx4-h78v-vm56"),
            ]
            .map(|(t, l)| (t.to_string(), l.to_string(), "CVE-2023-1234".to_string()))
        );
        assert_eq!(req["licenseConcluded"], "NOASSERTION", "never a concluded licence");
        assert_eq!(
            reviews(req),
            ["Vulnerability CVE-2023-1234: severity high (ghsa); installed 2.31.0 -> fixed 2.32.0; \
              aliases GHSA-9wx4-h78v-vm56, PYSEC-2023-74; active"]
        );

        let musl = find(&d, "musl");
        // An id of unknown form: its first reference is the advisory.
        assert_eq!(
            security_refs(musl),
            [(
                "advisory".to_string(),
                "https://example.invalid/advisory/7".to_string(),
                "EXAMPLE-2099-7".to_string()
            )]
        );
        assert_eq!(
            reviews(musl),
            ["Vulnerability EXAMPLE-2099-7: severity low; installed 1.0.0 -> no fixed version (affected); \
              suppressed: ignored by .palisadeignore:2: not exposed"]
        );
        assert!(security_refs(find(&d, "urllib3")).is_empty());
        assert!(reviews(find(&d, "urllib3")).is_empty());
    }

    #[test]
    fn a_vulnerability_only_report_gets_packages_for_its_findings() {
        let mut r = report();
        let v = vuln("CVE-2023-1", "left-pad", Ecosystem::Npm, "package-lock.json", Severity::Medium, None);
        r.packages.clear();
        r.vulnerabilities = vec![v];
        let d = doc(&r);
        let p = find(&d, "left-pad");
        assert_eq!(p["externalRefs"][0]["referenceLocator"], "pkg:npm/left-pad@1.0.0");
        assert_eq!(reviews(p).len(), 1);
    }
}
