//! SBOM input: CycloneDX and SPDX JSON documents read back into packages.
//!
//! - CycloneDX JSON 1.2-1.7: every component, nested `components` included. A component becomes a
//!   [`Package`] when it has a purl whose type Palisade knows ([`Ecosystem::from_purl_type`]); the name is the
//!   component's (`group` joined as `group:name` for Maven, `group/name` otherwise) or else the purl's, the
//!   version the component's or else the purl's. The `operating-system` component becomes the [`OsInfo`].
//!   The `dependencies` graph becomes [`Package::dependencies`] (as purls).
//! - SPDX 2.2/2.3 JSON: every package with a `PACKAGE-MANAGER` purl external ref; the package with
//!   `primaryPackagePurpose` `OPERATING-SYSTEM` (or `OPERATING_SYSTEM`) becomes the [`OsInfo`];
//!   `DEPENDS_ON` / `DEPENDENCY_OF` relationships the dependencies; `licenseDeclared` (else
//!   `licenseConcluded`) the licences, split at top-level `AND`, with `LicenseRef-` ids replaced by their
//!   extracted text.
//!
//! Root projects (`SbomInput::projects`): a CycloneDX `metadata.component` or SPDX described package with a
//! purl of a known type (the project a `cdxgen`, `cargo-cyclonedx` or Palisade SBOM of a project tree is
//! about), and components or packages marked `palisade:project` = `true`.
//!
//! Palisade's own facts round-trip: the `palisade:*` CycloneDX properties and SPDX annotations written by
//! `palisade-report` (location, layer, found_by, source, arch, direct, scope, metadata). Trivy's facts are
//! understood too: `aquasecurity:trivy:SrcName`/`SrcVersion`/`SrcRelease`/`SrcEpoch` and `FilePath`
//! properties, SPDX `sourceInfo` (`built package from: ...`, `package found in: ...`), and Trivy's
//! per-file application components, which give their packages a location. Structural elements (the
//! described artifact, the OS, Trivy's application components) are skipped silently; other components
//! without a usable purl are skipped and counted in a warning.

use crate::ParseError;
use palisade_core::{Ecosystem, Location, OsInfo, Package, Scope, SourcePackage};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::str::FromStr;

/// Which SBOM format a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SbomFormat {
    CycloneDx,
    Spdx,
}

/// What an SBOM document holds, in Palisade's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct SbomInput {
    pub format: SbomFormat,
    pub os: Option<OsInfo>,
    /// One entry per package (see [`crate::merge`]), sorted by (ecosystem, name, version, locations).
    pub packages: Vec<Package>,
    /// The root projects the document is about, merged and sorted the same way.
    pub projects: Vec<Package>,
    /// Non-fatal problems: skipped components, unexpected spec versions.
    pub warnings: Vec<String>,
}

/// How far into a document [`detect`] looks for the format's marker key.
const DETECT_WINDOW: usize = 64 * 1024;

/// Property / annotation names shared with `palisade-report` (its `cyclonedx::props`).
mod props {
    pub const LOCATION: &str = "palisade:package:location";
    pub const LAYER: &str = "palisade:package:layer";
    pub const FOUND_BY: &str = "palisade:package:found_by";
    pub const SOURCE_NAME: &str = "palisade:package:source_name";
    pub const SOURCE_VERSION: &str = "palisade:package:source_version";
    pub const ARCH: &str = "palisade:package:arch";
    pub const DIRECT: &str = "palisade:package:direct";
    pub const SCOPE: &str = "palisade:package:scope";
    pub const METADATA_PREFIX: &str = "palisade:metadata:";
    pub const OS_CODENAME: &str = "palisade:os:codename";
    pub const OS_PRETTY_NAME: &str = "palisade:os:pretty_name";
    pub const OS_ID_LIKE: &str = "palisade:os:id_like";
    pub const OS_DISTROLESS: &str = "palisade:os:distroless";
    pub const PROJECT: &str = "palisade:project";
    pub const TRIVY_PREFIX: &str = "aquasecurity:trivy:";
}

/// Guess the format from the first 64 KiB: a JSON object with a `bomFormat` key is CycloneDX, one with an
/// `spdxVersion` key is SPDX. Cheap; [`read`] does the real validation.
pub fn detect(data: &[u8]) -> Option<SbomFormat> {
    let head = data.get(..data.len().min(DETECT_WINDOW)).unwrap_or(data);
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let first = head.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first != b'{' {
        return None;
    }
    if contains(head, b"\"bomFormat\"") {
        Some(SbomFormat::CycloneDx)
    } else if contains(head, b"\"spdxVersion\"") {
        Some(SbomFormat::Spdx)
    } else {
        None
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Read an SBOM. `path` is where the document is; packages whose SBOM does not say where they were found
/// get it as their location.
pub fn read(data: &[u8], path: &str) -> Result<SbomInput, ParseError> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    match detect(data) {
        Some(SbomFormat::CycloneDx) => read_cyclonedx(data, path),
        Some(SbomFormat::Spdx) => read_spdx(data, path),
        None => Err(ParseError::new(
            "not a CycloneDX or SPDX JSON document (no \"bomFormat\" or \"spdxVersion\" key)",
        )),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Shared package building.

/// Everything a document says about one package, before it becomes a [`Package`].
#[derive(Default)]
struct Facts {
    name: Option<String>,
    group: Option<String>,
    version: Option<String>,
    purl: String,
    licenses: Vec<String>,
    scope: Option<Scope>,
    /// (name, value) pairs: CycloneDX properties or SPDX `name=value` annotations.
    props: Vec<(String, String)>,
    /// A location the document gives in a non-Palisade way (Trivy `FilePath`, SPDX `sourceInfo`).
    foreign_location: Option<String>,
    /// A source package given in a non-Palisade way (SPDX `sourceInfo`).
    foreign_source: Option<SourcePackage>,
}

/// Why a purl was not usable.
enum Skip {
    Invalid,
    UnknownType(String),
}

fn prop<'a>(props: &'a [(String, String)], name: &str) -> Option<&'a str> {
    props.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

fn props_all<'a>(props: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    props.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The package name from a parsed purl, spelled as Palisade spells it.
fn name_from_purl(eco: Ecosystem, purl: &packageurl::PackageUrl<'_>) -> String {
    match (eco, purl.namespace()) {
        (e, _) if e.is_os() => purl.name().to_string(),
        (Ecosystem::Maven, Some(ns)) => format!("{ns}:{}", purl.name()),
        (_, Some(ns)) if !ns.is_empty() => format!("{ns}/{}", purl.name()),
        _ => purl.name().to_string(),
    }
}

fn build_package(f: Facts, default_location: &str, found_by: &str) -> Result<Package, Skip> {
    let purl = packageurl::PackageUrl::from_str(f.purl.trim()).map_err(|_| Skip::Invalid)?;
    let eco = Ecosystem::from_purl_type(purl.ty()).ok_or_else(|| Skip::UnknownType(purl.ty().to_string()))?;
    let name = match f.name.filter(|n| !n.trim().is_empty()) {
        Some(n) => match f.group.filter(|g| !g.is_empty()) {
            Some(g) if eco == Ecosystem::Maven => format!("{g}:{n}"),
            Some(g) if !eco.is_os() && !n.starts_with(&format!("{g}/")) => format!("{g}/{n}"),
            _ => n,
        },
        None => name_from_purl(eco, &purl),
    };
    let version = f
        .version
        .filter(|v| !v.is_empty())
        .or_else(|| purl.version().map(str::to_string))
        .unwrap_or_default();
    let qualifier = |k: &str| purl.qualifiers().get(k).map(|v| v.to_string()).filter(|v| !v.is_empty());

    let p = &f.props;
    let paths: Vec<&str> = props_all(p, props::LOCATION).filter(|s| !s.is_empty()).collect();
    let layers: Vec<Option<u32>> = props_all(p, props::LAYER).map(|l| l.parse().ok()).collect();
    let locations: Vec<Location> = if paths.is_empty() {
        let path = f
            .foreign_location
            .clone()
            .or_else(|| prop(p, "aquasecurity:trivy:FilePath").map(str::to_string))
            .unwrap_or_else(|| default_location.to_string());
        vec![Location::new(path, None)]
    } else {
        paths
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let layer = if layers.len() == paths.len() || i == 0 {
                    layers.get(i).copied().flatten()
                } else {
                    None
                };
                Location::new(*path, layer)
            })
            .collect()
    };

    let source = match (prop(p, props::SOURCE_NAME), prop(p, props::SOURCE_VERSION)) {
        (Some(n), v) => {
            Some(SourcePackage { name: n.to_string(), version: v.unwrap_or(&version).to_string() })
        }
        _ => trivy_source(p, &version)
            .or(f.foreign_source)
            .or_else(|| qualifier("upstream").map(|u| SourcePackage { name: u, version: version.clone() })),
    };

    let scope = match prop(p, props::SCOPE) {
        Some("dev") => Scope::Dev,
        Some("optional") => Scope::Optional,
        _ => f.scope.unwrap_or_default(),
    };
    let metadata: BTreeMap<String, String> = p
        .iter()
        .filter_map(|(n, v)| n.strip_prefix(props::METADATA_PREFIX).map(|k| (k.to_string(), v.clone())))
        .filter(|(k, _)| !k.is_empty())
        .collect();

    Ok(Package {
        ecosystem: eco,
        name,
        version,
        purl: f.purl.trim().to_string(),
        source,
        arch: prop(p, props::ARCH).map(str::to_string).or_else(|| qualifier("arch")),
        licenses: f.licenses,
        scope,
        direct: prop(p, props::DIRECT).and_then(|d| d.parse().ok()),
        locations,
        dependencies: Vec::new(),
        found_by: prop(p, props::FOUND_BY).unwrap_or(found_by).to_string(),
        metadata,
    })
}

/// Trivy's `SrcName` + `[SrcEpoch:]SrcVersion[-SrcRelease]`.
fn trivy_source(p: &[(String, String)], version: &str) -> Option<SourcePackage> {
    let name = prop(p, "aquasecurity:trivy:SrcName")?;
    let v = match prop(p, "aquasecurity:trivy:SrcVersion") {
        Some(v) => {
            let mut s = String::new();
            if let Some(e) = prop(p, "aquasecurity:trivy:SrcEpoch").filter(|e| *e != "0") {
                s.push_str(e);
                s.push(':');
            }
            s.push_str(v);
            if let Some(r) = prop(p, "aquasecurity:trivy:SrcRelease") {
                s.push('-');
                s.push_str(r);
            }
            s
        }
        None => version.to_string(),
    };
    Some(SourcePackage { name: name.to_string(), version: v })
}

fn os_from_props(name: &str, version: Option<&str>, p: &[(String, String)]) -> OsInfo {
    OsInfo {
        id: name.trim().to_ascii_lowercase(),
        version_id: version.unwrap_or_default().to_string(),
        codename: prop(p, props::OS_CODENAME).map(str::to_string),
        pretty_name: prop(p, props::OS_PRETTY_NAME).map(str::to_string),
        id_like: prop(p, props::OS_ID_LIKE)
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default(),
        distroless: prop(p, props::OS_DISTROLESS) == Some("true"),
        end_of_life: None,
    }
}

/// With no OS element, the `distro` qualifier of an OS package purl (`debian-12.5`) names the OS.
fn os_from_purls(packages: &[Package]) -> Option<OsInfo> {
    packages.iter().filter(|p| p.ecosystem.is_os()).find_map(|p| {
        let purl = packageurl::PackageUrl::from_str(&p.purl).ok()?;
        let distro = purl.qualifiers().get("distro")?.to_string();
        let (id, version) = match distro.split_once('-') {
            Some((id, v)) if v.starts_with(|c: char| c.is_ascii_digit()) => (id.to_string(), v.to_string()),
            _ => (purl.namespace().unwrap_or(&distro).to_string(), String::new()),
        };
        Some(OsInfo { id: id.to_ascii_lowercase(), version_id: version, ..Default::default() })
    })
}

/// Counts of skipped elements, reported as warnings.
#[derive(Default)]
struct Skipped {
    no_purl: usize,
    invalid_purl: usize,
    unknown_types: BTreeMap<String, usize>,
}

impl Skipped {
    fn add(&mut self, s: Skip) {
        match s {
            Skip::Invalid => self.invalid_purl += 1,
            Skip::UnknownType(t) => *self.unknown_types.entry(t).or_default() += 1,
        }
    }

    fn warnings(&self, what: &str, out: &mut Vec<String>) {
        if self.no_purl > 0 {
            out.push(format!("skipped {} {what}s without a package URL", self.no_purl));
        }
        if self.invalid_purl > 0 {
            out.push(format!("skipped {} {what}s with an invalid package URL", self.invalid_purl));
        }
        if !self.unknown_types.is_empty() {
            let n: usize = self.unknown_types.values().sum();
            let types: Vec<String> = self.unknown_types.iter().map(|(t, n)| format!("{t} ({n})")).collect();
            out.push(format!("skipped {n} {what}s of unsupported package types: {}", types.join(", ")));
        }
    }
}

/// Breadth-first walk from each aggregator (a Trivy per-file application element) over `edges`, giving each
/// reached element without a location of its own the aggregator's name.
fn locations_from_aggregators(
    aggregators: &[(String, String)],
    edges: &HashMap<String, Vec<String>>,
) -> HashMap<String, String> {
    let mut found: HashMap<String, String> = HashMap::new();
    for (start, file) in aggregators {
        let mut queue: VecDeque<&str> = VecDeque::from([start.as_str()]);
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        while let Some(n) = queue.pop_front() {
            if !seen.insert(n) {
                continue;
            }
            for next in edges.get(n).into_iter().flatten() {
                found.entry(next.clone()).or_insert_with(|| file.clone());
                queue.push_back(next);
            }
        }
    }
    found
}

fn finish(
    format: SbomFormat,
    os: Option<OsInfo>,
    packages: Vec<Package>,
    projects: Vec<Package>,
    warnings: Vec<String>,
) -> SbomInput {
    let os = os.or_else(|| os_from_purls(&packages));
    SbomInput {
        format,
        os,
        packages: crate::merge::merge_packages(packages),
        projects: crate::merge::merge_packages(projects),
        warnings,
    }
}

/// True when a component or package carries `palisade:project` = `true`.
fn marked_project(props: &[(String, String)]) -> bool {
    prop(props, props::PROJECT) == Some("true")
}

// ---------------------------------------------------------------------------------------------------------
// CycloneDX.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CdxBom {
    #[serde(default)]
    bom_format: Option<String>,
    #[serde(default)]
    spec_version: Option<String>,
    #[serde(default)]
    metadata: Option<CdxMetadata>,
    #[serde(default)]
    components: Vec<CdxComponent>,
    #[serde(default)]
    dependencies: Vec<CdxDependency>,
}

#[derive(Deserialize)]
struct CdxMetadata {
    #[serde(default)]
    component: Option<CdxComponent>,
}

#[derive(Deserialize)]
struct CdxComponent {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(rename = "bom-ref", default)]
    bom_ref: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    licenses: Vec<CdxLicenseChoice>,
    #[serde(default)]
    properties: Vec<CdxProperty>,
    #[serde(default)]
    components: Vec<CdxComponent>,
}

#[derive(Deserialize)]
struct CdxLicenseChoice {
    #[serde(default)]
    license: Option<CdxLicense>,
    #[serde(default)]
    expression: Option<String>,
}

#[derive(Deserialize)]
struct CdxLicense {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct CdxProperty {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CdxDependency {
    #[serde(rename = "ref", default)]
    reference: Option<String>,
    #[serde(default)]
    depends_on: Vec<String>,
}

fn flatten<'a>(components: &'a [CdxComponent], out: &mut Vec<&'a CdxComponent>) {
    for c in components {
        out.push(c);
        flatten(&c.components, out);
    }
}

fn cdx_props(c: &CdxComponent) -> Vec<(String, String)> {
    c.properties.iter().filter_map(|p| Some((p.name.clone()?, p.value.clone().unwrap_or_default()))).collect()
}

fn read_cyclonedx(data: &[u8], path: &str) -> Result<SbomInput, ParseError> {
    // One wrongly typed field (a component's `"version": 5`) is dropped and reported, not the document.
    let (bom, fixed): (CdxBom, _) = palisade_core::lenient::from_slice(data)
        .map_err(|e| ParseError::new(format!("invalid CycloneDX JSON: {e}")))?;
    if bom.bom_format.as_deref() != Some("CycloneDX") {
        return Err(ParseError::new(format!(
            "bomFormat is {:?}, expected \"CycloneDX\"",
            bom.bom_format.as_deref().unwrap_or("")
        )));
    }
    let mut warnings = fixed;
    let spec = bom.spec_version.as_deref().unwrap_or("");
    if !matches!(spec, "1.2" | "1.3" | "1.4" | "1.5" | "1.6" | "1.7") {
        warnings.push(format!("CycloneDX specVersion {spec:?} is not one of 1.2-1.7; read as 1.6"));
    }

    let mut all: Vec<&CdxComponent> = Vec::new();
    let subject = bom.metadata.as_ref().and_then(|m| m.component.as_ref());
    if let Some(root) = subject {
        // The document's subject: a root project when it has a usable purl, else the scanned artifact.
        all.push(root);
        flatten(&root.components, &mut all);
    }
    flatten(&bom.components, &mut all);

    let edges: HashMap<String, Vec<String>> =
        bom.dependencies.iter().filter_map(|d| Some((d.reference.clone()?, d.depends_on.clone()))).collect();
    let aggregators: Vec<(String, String)> = all
        .iter()
        .filter(|c| c.purl.is_none())
        .filter(|c| cdx_props(c).iter().any(|(n, v)| n == "aquasecurity:trivy:Class" && v == "lang-pkgs"))
        .filter_map(|c| Some((c.bom_ref.clone()?, c.name.clone()?)))
        .collect();
    let inherited = locations_from_aggregators(&aggregators, &edges);

    let mut os = None;
    let mut skipped = Skipped::default();
    let mut packages = Vec::new();
    let mut purl_of_ref: HashMap<&str, String> = HashMap::new();
    let mut ref_of_package: Vec<(Option<&str>, bool)> = Vec::new();
    for c in all {
        let props = cdx_props(c);
        let is_subject = subject.is_some_and(|s| std::ptr::eq(s, c));
        if c.kind.as_deref() == Some("operating-system") {
            if os.is_none() {
                os = Some(os_from_props(c.name.as_deref().unwrap_or_default(), c.version.as_deref(), &props));
            }
            continue;
        }
        let Some(purl) = c.purl.as_deref().filter(|p| !p.trim().is_empty()) else {
            let structural = is_subject || props.iter().any(|(n, _)| n == "aquasecurity:trivy:Class");
            if !structural {
                skipped.no_purl += 1;
            }
            continue;
        };
        let is_project = is_subject || marked_project(&props);
        let facts = Facts {
            name: c.name.clone(),
            group: c.group.clone(),
            version: c.version.clone(),
            purl: purl.to_string(),
            licenses: c
                .licenses
                .iter()
                .filter_map(|l| {
                    l.expression
                        .clone()
                        .or_else(|| l.license.as_ref().and_then(|x| x.id.clone().or_else(|| x.name.clone())))
                })
                .filter(|s| !s.trim().is_empty())
                .collect(),
            scope: match c.scope.as_deref() {
                Some("excluded") => Some(Scope::Dev),
                Some("optional") => Some(Scope::Optional),
                _ => None,
            },
            foreign_location: c.bom_ref.as_deref().and_then(|r| inherited.get(r)).cloned(),
            props,
            foreign_source: None,
        };
        match build_package(facts, path, "sbom-cyclonedx") {
            Ok(p) => {
                if let Some(r) = c.bom_ref.as_deref() {
                    purl_of_ref.entry(r).or_insert_with(|| p.purl.clone());
                }
                ref_of_package.push((c.bom_ref.as_deref(), is_project));
                packages.push(p);
            }
            // The subject of an image or directory SBOM (an `oci` purl, say) is the artifact, not a project.
            Err(_) if is_subject => {}
            Err(s) => skipped.add(s),
        }
    }
    let mut projects = Vec::new();
    let mut kept = Vec::with_capacity(packages.len());
    for (mut p, (r, is_project)) in packages.into_iter().zip(ref_of_package) {
        if let Some(r) = r {
            let deps: BTreeSet<&String> = edges
                .get(r)
                .into_iter()
                .flatten()
                .filter_map(|d| purl_of_ref.get(d.as_str()))
                .filter(|d| **d != p.purl)
                .collect();
            p.dependencies = deps.into_iter().cloned().collect();
        }
        if is_project { projects.push(p) } else { kept.push(p) }
    }
    skipped.warnings("component", &mut warnings);
    Ok(finish(SbomFormat::CycloneDx, os, kept, projects, warnings))
}

// ---------------------------------------------------------------------------------------------------------
// SPDX.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxDoc {
    #[serde(default)]
    spdx_version: Option<String>,
    #[serde(default)]
    packages: Vec<SpdxPackage>,
    #[serde(default)]
    relationships: Vec<SpdxRelationship>,
    #[serde(default)]
    has_extracted_licensing_infos: Vec<SpdxExtracted>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID", default)]
    spdx_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version_info: Option<String>,
    #[serde(default)]
    license_declared: Option<String>,
    #[serde(default)]
    license_concluded: Option<String>,
    #[serde(default)]
    source_info: Option<String>,
    #[serde(default)]
    primary_package_purpose: Option<String>,
    #[serde(default)]
    external_refs: Vec<SpdxExternalRef>,
    #[serde(default)]
    annotations: Vec<SpdxAnnotation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxExternalRef {
    #[serde(default)]
    reference_category: Option<String>,
    #[serde(default)]
    reference_type: Option<String>,
    #[serde(default)]
    reference_locator: Option<String>,
}

#[derive(Deserialize)]
struct SpdxAnnotation {
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxRelationship {
    #[serde(default)]
    spdx_element_id: Option<String>,
    #[serde(default)]
    related_spdx_element: Option<String>,
    #[serde(default)]
    relationship_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxExtracted {
    #[serde(default)]
    license_id: Option<String>,
    #[serde(default)]
    extracted_text: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// Palisade annotations are `palisade:...=value`; Trivy's are `Key: value` (kept as `aquasecurity:trivy:Key`).
fn spdx_props(p: &SpdxPackage) -> Vec<(String, String)> {
    p.annotations
        .iter()
        .filter_map(|a| a.comment.as_deref())
        .filter_map(|c| {
            if c.starts_with("palisade:") {
                c.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()))
            } else {
                c.split_once(": ").map(|(k, v)| (format!("{}{k}", props::TRIVY_PREFIX), v.to_string()))
            }
        })
        .collect()
}

fn spdx_purl(p: &SpdxPackage) -> Option<&str> {
    p.external_refs
        .iter()
        .find(|r| {
            matches!(r.reference_category.as_deref(), Some("PACKAGE-MANAGER" | "PACKAGE_MANAGER"))
                && r.reference_type.as_deref() == Some("purl")
        })
        .and_then(|r| r.reference_locator.as_deref())
        .filter(|l| !l.trim().is_empty())
}

/// Split an SPDX expression at top-level `AND`, dropping one pair of enclosing parentheses per part.
fn split_and(expr: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut current = Vec::new();
    for token in expr.split_whitespace() {
        if depth == 0 && token == "AND" {
            parts.push(current.join(" "));
            current.clear();
            continue;
        }
        depth += token.matches('(').count() as i32 - token.matches(')').count() as i32;
        current.push(token);
    }
    parts.push(current.join(" "));
    parts
        .into_iter()
        .map(|p| {
            let inner = p.strip_prefix('(').and_then(|s| s.strip_suffix(')'));
            match inner {
                Some(i) if !i.contains('(') && !i.contains(')') => i.to_string(),
                _ => p,
            }
        })
        .filter(|p| !p.is_empty())
        .collect()
}

fn spdx_licenses(p: &SpdxPackage, extracted: &HashMap<&str, &str>) -> Vec<String> {
    let usable = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "NOASSERTION" && *s != "NONE")
            .map(str::to_string)
    };
    let Some(expr) = usable(&p.license_declared).or_else(|| usable(&p.license_concluded)) else {
        return Vec::new();
    };
    split_and(&expr)
        .into_iter()
        .map(|part| extracted.get(part.as_str()).map(|t| t.to_string()).unwrap_or(part))
        .collect()
}

fn read_spdx(data: &[u8], path: &str) -> Result<SbomInput, ParseError> {
    let (doc, fixed): (SpdxDoc, _) = palisade_core::lenient::from_slice(data)
        .map_err(|e| ParseError::new(format!("invalid SPDX JSON: {e}")))?;
    let mut warnings = fixed;
    let version = doc.spdx_version.as_deref().unwrap_or("");
    if !matches!(version, "SPDX-2.2" | "SPDX-2.3") {
        warnings.push(format!("spdxVersion {version:?} is not SPDX-2.2 or SPDX-2.3; read as 2.3"));
    }
    let extracted: HashMap<&str, &str> = doc
        .has_extracted_licensing_infos
        .iter()
        .filter_map(|e| {
            let text = e
                .extracted_text
                .as_deref()
                .filter(|t| !t.is_empty() && *t != "NOASSERTION")
                .or(e.name.as_deref())?;
            Some((e.license_id.as_deref()?, text))
        })
        .collect();

    let mut edges: HashMap<String, Vec<String>> = HashMap::new();
    let mut contains: HashMap<String, Vec<String>> = HashMap::new();
    let mut described: BTreeSet<&str> = BTreeSet::new();
    for r in &doc.relationships {
        let (Some(a), Some(b), Some(t)) =
            (r.spdx_element_id.as_deref(), r.related_spdx_element.as_deref(), r.relationship_type.as_deref())
        else {
            continue;
        };
        match t {
            "DEPENDS_ON" => edges.entry(a.to_string()).or_default().push(b.to_string()),
            "DEPENDENCY_OF" => edges.entry(b.to_string()).or_default().push(a.to_string()),
            "CONTAINS" => contains.entry(a.to_string()).or_default().push(b.to_string()),
            "DESCRIBES" => {
                described.insert(b);
            }
            "DESCRIBED_BY" => {
                described.insert(a);
            }
            _ => {}
        }
    }
    // Trivy's per-file application packages: purpose APPLICATION, no purl, a `Class:` annotation.
    let aggregators: Vec<(String, String)> = doc
        .packages
        .iter()
        .filter(|p| spdx_purl(p).is_none())
        .filter(|p| spdx_props(p).iter().any(|(n, _)| n == "aquasecurity:trivy:Class"))
        .filter_map(|p| Some((p.spdx_id.clone()?, p.name.clone()?)))
        .collect();
    let mut walk = contains.clone();
    for (k, v) in &edges {
        walk.entry(k.clone()).or_default().extend(v.iter().cloned());
    }
    let inherited = locations_from_aggregators(&aggregators, &walk);

    let mut os = None;
    let mut skipped = Skipped::default();
    let mut packages = Vec::new();
    let mut purl_of_id: HashMap<&str, String> = HashMap::new();
    let mut id_of_package: Vec<(Option<&str>, bool)> = Vec::new();
    for p in &doc.packages {
        let props = spdx_props(p);
        if matches!(p.primary_package_purpose.as_deref(), Some("OPERATING-SYSTEM" | "OPERATING_SYSTEM")) {
            if os.is_none() {
                os = Some(os_from_props(
                    p.name.as_deref().unwrap_or_default(),
                    p.version_info.as_deref(),
                    &props,
                ));
            }
            continue;
        }
        let is_described = p.spdx_id.as_deref().is_some_and(|id| described.contains(id));
        if is_described && spdx_purl(p).is_none() {
            // The scanned artifact itself (an image, a directory), not one of its packages.
            continue;
        }
        let Some(purl) = spdx_purl(p) else {
            let structural = props.iter().any(|(n, _)| n == "aquasecurity:trivy:Class");
            if !structural {
                skipped.no_purl += 1;
            }
            continue;
        };
        let info = p.source_info.as_deref().unwrap_or_default();
        let foreign_location = info
            .strip_prefix("package found in: ")
            .map(str::to_string)
            .or_else(|| p.spdx_id.as_deref().and_then(|id| inherited.get(id)).cloned());
        let foreign_source = info.strip_prefix("built package from: ").and_then(|s| {
            let (name, version) = s.trim().split_once(' ')?;
            Some(SourcePackage { name: name.to_string(), version: version.trim().to_string() })
        });
        let facts = Facts {
            name: p.name.clone(),
            group: None,
            version: p.version_info.clone(),
            purl: purl.to_string(),
            licenses: spdx_licenses(p, &extracted),
            scope: None,
            props,
            foreign_location,
            foreign_source,
        };
        let is_project = is_described || marked_project(&facts.props);
        match build_package(facts, path, "sbom-spdx") {
            Ok(pkg) => {
                if let Some(id) = p.spdx_id.as_deref() {
                    purl_of_id.entry(id).or_insert_with(|| pkg.purl.clone());
                }
                id_of_package.push((p.spdx_id.as_deref(), is_project));
                packages.push(pkg);
            }
            // A described artifact with a purl of another kind (an `oci` image) is not a project.
            Err(_) if is_described => {}
            Err(s) => skipped.add(s),
        }
    }
    let mut projects = Vec::new();
    let mut kept = Vec::with_capacity(packages.len());
    for (mut p, (id, is_project)) in packages.into_iter().zip(id_of_package) {
        if let Some(id) = id {
            let deps: BTreeSet<&String> = edges
                .get(id)
                .into_iter()
                .flatten()
                .filter_map(|d| purl_of_id.get(d.as_str()))
                .filter(|d| **d != p.purl)
                .collect();
            p.dependencies = deps.into_iter().cloned().collect();
        }
        if is_project { projects.push(p) } else { kept.push(p) }
    }
    skipped.warnings("package", &mut warnings);
    Ok(finish(SbomFormat::Spdx, os, kept, projects, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sbom").join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn find<'a>(s: &'a SbomInput, name: &str) -> &'a Package {
        s.packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no package {name}"))
    }

    #[test]
    fn detects_formats() {
        assert_eq!(detect(&fixture("trivy-rootfs.cdx.json")), Some(SbomFormat::CycloneDx));
        assert_eq!(detect(&fixture("trivy-rootfs.spdx.json")), Some(SbomFormat::Spdx));
        assert_eq!(detect(b"  {\"spdxVersion\": \"SPDX-2.2\"}"), Some(SbomFormat::Spdx));
        assert_eq!(detect(b"{\"name\": \"x\", \"lockfileVersion\": 3}"), None);
        assert_eq!(detect(b"[\"bomFormat\"]"), None);
        assert_eq!(detect(b""), None);
    }

    #[test]
    fn trivy_rootfs_cyclonedx() {
        let s = read(&fixture("trivy-rootfs.cdx.json"), "sbom.json").unwrap();
        assert_eq!(s.format, SbomFormat::CycloneDx);
        let os = s.os.as_ref().unwrap();
        assert_eq!((os.id.as_str(), os.version_id.as_str()), ("debian", "12.5"));
        assert_eq!(s.packages.len(), 4, "{:?}", s.packages);
        let zlib = find(&s, "zlib1g");
        assert_eq!(zlib.ecosystem, Ecosystem::Deb);
        assert_eq!(zlib.version, "1:1.2.13.dfsg-1");
        assert_eq!(zlib.purl, "pkg:deb/debian/zlib1g@1.2.13.dfsg-1?arch=amd64&distro=debian-12.5&epoch=1");
        assert_eq!(
            zlib.source,
            Some(SourcePackage { name: "zlib".into(), version: "1:1.2.13.dfsg-1".into() })
        );
        assert_eq!(zlib.arch.as_deref(), Some("amd64"));
        assert_eq!(zlib.found_by, "sbom-cyclonedx");
        let libc = "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.5";
        assert_eq!(zlib.dependencies, vec![libc.to_string()]);
        let ssl = find(&s, "libssl3");
        assert_eq!(ssl.source.as_ref().unwrap().version, "3.0.11-1~deb12u2");
        let app = find(&s, "demo-app");
        assert_eq!(app.ecosystem, Ecosystem::Npm);
        assert_eq!(app.locations, vec![Location::new("app/package.json", None)]);
        assert_eq!(find(&s, "libc6").locations, vec![Location::new("sbom.json", None)]);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn trivy_npm_cyclonedx() {
        let s = read(&fixture("trivy-fs-npm.cdx.json"), "bom.json").unwrap();
        assert!(s.os.is_none());
        let names: Vec<&str> = s.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["@types/node", "cookie", "express"]);
        let express = find(&s, "express");
        assert_eq!(express.licenses, ["MIT"]);
        assert_eq!(express.dependencies, ["pkg:npm/cookie@0.5.0"]);
        // Location comes from Trivy's per-file application component, transitively.
        assert_eq!(find(&s, "cookie").locations, vec![Location::new("package-lock.json", None)]);
        assert_eq!(find(&s, "@types/node").purl, "pkg:npm/%40types/node@20.11.0");
    }

    #[test]
    fn trivy_spdx() {
        let s = read(&fixture("trivy-rootfs.spdx.json"), "sbom.spdx.json").unwrap();
        assert_eq!(s.format, SbomFormat::Spdx);
        let os = s.os.as_ref().unwrap();
        assert_eq!((os.id.as_str(), os.version_id.as_str()), ("debian", "12.5"));
        assert_eq!(s.packages.len(), 4);
        let ssl = find(&s, "libssl3");
        assert_eq!(
            ssl.source,
            Some(SourcePackage { name: "openssl".into(), version: "3.0.11-1~deb12u2".into() })
        );
        assert_eq!(ssl.dependencies, ["pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12.5"]);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);

        let n = read(&fixture("trivy-fs-npm.spdx.json"), "x").unwrap();
        let names: Vec<&str> = n.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["@types/node", "cookie", "express"]);
        assert_eq!(find(&n, "cookie").locations, vec![Location::new("package-lock.json", None)]);
        assert_eq!(find(&n, "cookie").licenses, ["MIT"]);
        assert_eq!(find(&n, "express").dependencies, ["pkg:npm/cookie@0.5.0"]);
    }

    #[test]
    fn the_subject_with_a_package_purl_is_a_project() {
        // As cdxgen or cargo-cyclonedx write a project's SBOM: the project is metadata.component.
        let doc = br#"{
          "bomFormat": "CycloneDX", "specVersion": "1.5",
          "metadata": {"component": {"type": "application", "bom-ref": "app", "name": "app", "version": "0.2.0",
                                     "purl": "pkg:cargo/app@0.2.0"}},
          "components": [
            {"type": "library", "bom-ref": "s", "name": "serde", "version": "1.0.0", "purl": "pkg:cargo/serde@1.0.0"},
            {"type": "library", "bom-ref": "s2", "name": "serde", "version": "1.0.0", "purl": "pkg:cargo/serde@1.0.0",
             "properties": [{"name": "aquasecurity:trivy:FilePath", "value": "other/Cargo.lock"}]},
            {"type": "application", "bom-ref": "w", "name": "web", "version": "1.0.0", "purl": "pkg:npm/web@1.0.0",
             "properties": [{"name": "palisade:project", "value": "true"}]}
          ],
          "dependencies": [{"ref": "app", "dependsOn": ["s"]}]
        }"#;
        let s = read(doc, "bom.json").unwrap();
        let projects: Vec<&str> = s.projects.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(projects, ["pkg:cargo/app@0.2.0", "pkg:npm/web@1.0.0"]);
        assert_eq!(s.projects[0].dependencies, ["pkg:cargo/serde@1.0.0"]);
        // The same package twice in the document: one package, both locations.
        assert_eq!(s.packages.len(), 1);
        let paths: Vec<&str> = s.packages[0].locations.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(paths, ["bom.json", "other/Cargo.lock"]);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        // An image's subject (an oci purl) is the artifact: neither a project nor a skipped component.
        let image = br#"{"bomFormat": "CycloneDX", "specVersion": "1.6",
          "metadata": {"component": {"type": "container", "name": "img", "purl": "pkg:oci/img@sha256%3Aab"}},
          "components": [{"type": "library", "name": "a", "version": "1", "purl": "pkg:gem/a@1"}]}"#;
        let s = read(image, "bom.json").unwrap();
        assert!(s.projects.is_empty());
        assert_eq!(s.packages.len(), 1);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn nested_components_and_skips_are_counted() {
        let doc = br#"{
          "bomFormat": "CycloneDX", "specVersion": "1.4",
          "components": [
            {"type": "library", "name": "outer", "version": "1", "purl": "pkg:cargo/outer@1",
             "components": [
               {"type": "library", "name": "inner", "version": "2", "purl": "pkg:pypi/inner@2"},
               {"type": "library", "name": "nopurl", "version": "3"},
               {"type": "library", "name": "conda", "version": "4", "purl": "pkg:conda/numpy@4"},
               {"type": "library", "name": "bad", "version": "5", "purl": "not a purl"}
             ]},
            {"type": "operating-system", "name": "Alpine", "version": "3.19.1"}
          ]
        }"#;
        let s = read(doc, "bom.json").unwrap();
        let names: Vec<&str> = s.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["outer", "inner"]);
        assert_eq!(s.os.as_ref().unwrap().id, "alpine");
        assert_eq!(s.warnings.len(), 3, "{:?}", s.warnings);
        assert!(s.warnings.iter().any(|w| w.contains("1 components without a package URL")));
        assert!(s.warnings.iter().any(|w| w.contains("unsupported package types: conda (1)")));
        assert!(s.warnings.iter().any(|w| w.contains("invalid package URL")));
    }

    #[test]
    fn os_from_distro_qualifier_when_no_os_element() {
        let doc = br#"{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [
            {"type": "library", "name": "musl", "version": "1.2.4-r2", "purl": "pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.19.1"}]}"#;
        let s = read(doc, "bom.json").unwrap();
        let os = s.os.unwrap();
        assert_eq!((os.id.as_str(), os.version_id.as_str()), ("alpine", "3.19.1"));
    }

    #[test]
    fn spdx_licences_split_and_resolve_refs() {
        let doc = br#"{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
          "hasExtractedLicensingInfos": [{"licenseId": "LicenseRef-x", "extractedText": "Custom text"}],
          "packages": [{"SPDXID": "SPDXRef-a", "name": "a", "versionInfo": "1",
             "licenseDeclared": "(MIT OR Apache-2.0) AND LicenseRef-x AND ISC",
             "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl", "referenceLocator": "pkg:gem/a@1"}]},
             {"SPDXID": "SPDXRef-b", "name": "b", "versionInfo": "2"}]}"#;
        let s = read(doc, "x").unwrap();
        assert_eq!(s.packages.len(), 1);
        assert_eq!(s.packages[0].licenses, ["MIT OR Apache-2.0", "Custom text", "ISC"]);
        assert_eq!(s.warnings, ["skipped 1 packages without a package URL"]);
    }

    #[test]
    fn spdx_described_artifact_is_not_a_package() {
        let doc = br#"{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
          "packages": [{"SPDXID": "SPDXRef-root", "name": "app", "versionInfo": "sha256:ab",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:oci/app@sha256%3Aab"}]},
             {"SPDXID": "SPDXRef-a", "name": "a", "versionInfo": "1",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:gem/a@1"}]}],
          "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-root"},
             {"spdxElementId": "SPDXRef-root", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-a"}]}"#;
        let s = read(doc, "x").unwrap();
        assert_eq!(s.packages.len(), 1);
        assert_eq!(s.packages[0].name, "a");
        assert!(s.projects.is_empty(), "an oci image is not a project");
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        // A described package with a package purl is the project the document is about.
        let project = String::from_utf8_lossy(doc).replace("pkg:oci/app@sha256%3Aab", "pkg:npm/app@2.0.0");
        let s = read(project.as_bytes(), "x").unwrap();
        assert_eq!(s.projects.len(), 1);
        assert_eq!(s.projects[0].purl, "pkg:npm/app@2.0.0");
        assert_eq!(s.packages.len(), 1);
    }

    /// One wrongly typed field is dropped with a warning naming it; the rest of the document is read.
    #[test]
    fn a_wrongly_typed_field_is_a_warning() {
        let s = read(
            br#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
                {"type": "library", "name": "a", "version": 5, "purl": "pkg:npm/a@1.0.0"},
                {"type": "library", "name": "b", "version": "2.0.0", "purl": "pkg:npm/b@2.0.0"}]}"#,
            "x",
        )
        .unwrap();
        assert_eq!(s.packages.len(), 2);
        assert!(s.warnings.iter().any(|w| w.starts_with("components[0].version: ")), "{:?}", s.warnings);
        let s = read(b"{\"bomFormat\": \"CycloneDX\", \"specVersion\": \"1.6\", \"components\": 5}", "x")
            .unwrap();
        assert!(s.packages.is_empty());
        assert!(s.warnings.iter().any(|w| w.starts_with("components: ")), "{:?}", s.warnings);
    }

    #[test]
    fn broken_documents_are_errors() {
        let e = read(b"{\"bomFormat\": \"CycloneDX\", \"components\": [", "x").unwrap_err();
        assert!(e.0.contains("invalid CycloneDX JSON"), "{e}");
        let e = read(b"{\"bomFormat\": \"SWID\"}", "x").unwrap_err();
        assert!(e.0.contains("expected \"CycloneDX\""), "{e}");
        let e = read(b"{\"spdxVersion\": \"SPDX-2.3\", \"packages\": [", "x").unwrap_err();
        assert!(e.0.contains("invalid SPDX JSON"), "{e}");
        let e = read(b"hello", "x").unwrap_err();
        assert!(e.0.contains("not a CycloneDX or SPDX"), "{e}");
    }
}
