//! Package inventory.
//!
//! Each parser is one file under [`parsers`] that understands one kind of file (a dpkg `status`, a
//! `package-lock.json`, a Go binary, ...). All parsers are registered in one place, [`registry::all`].
//! [`Inventory`] is the [`FileSink`] that feeds the artifact stream to them and, after the walk, keeps only
//! the packages whose file survives in the final filesystem, merges the entries that are the same package
//! ([`merge`]) and sets the root projects apart from the dependencies.

pub mod merge;
pub mod parsers;
pub mod registry;
pub mod sbom;

use palisade_artifact::{Content, FileMeta, FileSink, Probe};
use palisade_core::{Ecosystem, Location, OsInfo, Package, Progress, Warning, Warnings};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// A file handed to a parser.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Path relative to the artifact root (no leading `/`).
    pub path: &'a str,
    /// Image layer that added this version of the file.
    pub layer: Option<u32>,
    /// The whole file content.
    pub data: &'a [u8],
}

impl Input<'_> {
    /// The [`Location`] to attach to packages found in this file.
    pub fn location(&self) -> Location {
        Location::new(self.path, self.layer)
    }

    /// The content as UTF-8, or a [`ParseError`] saying it is not.
    pub fn text(&self) -> Result<&str, ParseError> {
        std::str::from_utf8(self.data).map_err(|e| ParseError::new(format!("not valid UTF-8: {e}")))
    }
}

/// What one parser found in one file.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Output {
    /// Dependencies and installed packages.
    pub packages: Vec<Package>,
    /// The root projects this file belongs to: a lockfile's root entry and workspace members, a binary's
    /// main module. Never also in `packages`.
    pub projects: Vec<Project>,
    /// Set only by the project-manifest parser: the project a `package.json` (outside `node_modules`) or
    /// `pyproject.toml` declares. A manifest names the projects of the lockfiles in its directory and is
    /// never reported by itself.
    pub manifest: Option<Package>,
    /// Set only by the os-release parser.
    pub os: Option<OsInfo>,
    /// Set only by the requirements parser: the `-r` / `-c` references and pins followed after the walk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements: Option<parsers::pip_requirements::Refs>,
    /// Set only by the POM parser: the POM as written, completed from its parents after the walk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pom: Option<parsers::maven_pom::Pom>,
    /// Set only by the project-manifest parser: the dependency names the manifest declares, for lockfiles
    /// beside it that do not say what is direct or dev.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared: Option<parsers::declared_roots::Declared>,
    /// Set only by the Maven repository parser: a dependency's POM, read to resolve the tree's `pom.xml`
    /// files' transitive dependencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_pom: Option<parsers::maven_pom::Pom>,
    /// Set only by the not-inventoried parser: a manifest format Palisade does not read, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_inventoried: Option<parsers::not_inventoried::Unread>,
    /// Non-fatal problems inside an otherwise readable file (e.g. one bad record in a dpkg status).
    pub warnings: Vec<String>,
}

/// A root project found in one file (see [`Output::projects`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Project {
    /// The project, its `dependencies` the purls of its direct dependencies. `name` (and `version`) may be
    /// empty when the file does not say (`yarn.lock`, `pnpm-lock.yaml`, `poetry.lock`): the manifest in
    /// `dir` then names it, and a project nothing names is dropped.
    pub package: Package,
    /// The project's directory relative to the artifact root (`""` for the root): where its manifest is.
    pub dir: String,
}

impl Project {
    pub fn new(package: Package, dir: impl Into<String>) -> Self {
        Project { package, dir: dir.into() }
    }
}

/// The directory part of a `/`-separated path (`""` for a file at the root).
pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `dir` joined with a relative `sub` path (`.` and empty mean `dir` itself; `./` prefixes and trailing `/`
/// are dropped).
pub fn join_dir(dir: &str, sub: &str) -> String {
    let sub = sub.trim_start_matches("./").trim_end_matches('/');
    match (dir.is_empty(), sub.is_empty() || sub == ".") {
        (_, true) => dir.to_string(),
        (true, false) => sub.to_string(),
        (false, false) => format!("{dir}/{sub}"),
    }
}

/// A file a parser wanted but could not read. The message says what is wrong; the caller adds file and layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(msg: impl Into<String>) -> Self {
        ParseError(msg.into())
    }
}

impl From<serde_json::Error> for ParseError {
    fn from(e: serde_json::Error) -> Self {
        ParseError(format!("invalid JSON: {e}"))
    }
}

/// One parser: one kind of file. See `parsers/` for the implementations.
pub trait Parser: Send + Sync {
    /// Stable id, recorded as [`Package::found_by`] (e.g. `dpkg-status`).
    fn id(&self) -> &'static str;
    /// The file names this parser reads, when it reads files by name only (`Cargo.lock`): the inventory then
    /// asks it about those files alone instead of about every file. Empty (the default): asked about every
    /// file through [`Parser::wants`].
    fn file_names(&self) -> &'static [&'static str] {
        &[]
    }
    /// Decide from the path (and size, execute bit) whether this parser wants the file. Must be cheap.
    fn wants(&self, meta: &FileMeta) -> bool;
    /// Parse the whole file.
    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError>;
    /// Optional second look before the whole file is read, with positioned reads (see
    /// [`FileSink::wants_after_probe`]). Binary parsers use it to skip executables without the section they
    /// read. Default: keep.
    fn wants_after_probe(&self, _meta: &FileMeta, _probe: &dyn Probe) -> bool {
        true
    }
    /// Optional: parse from positioned reads alone (the build-info section of a large executable) so the
    /// file need not be read whole. `None` means "give me the whole file" and [`Parser::parse`] runs.
    fn parse_probe(
        &self,
        _meta: &FileMeta,
        _probe: &dyn Probe,
        _out: &mut Output,
    ) -> Option<Result<(), ParseError>> {
        None
    }
}

/// Per-file result, kept until the walk ends so that files deleted by later layers can be dropped.
struct FileResult {
    path: String,
    layer: Option<u32>,
    output: Output,
}

/// Files up to this size are under every parser's size limit.
const TOO_LARGE_FLOOR: u64 = 1 << 20;

/// The inventory as a [`FileSink`].
pub struct Inventory<'p> {
    parsers: Vec<Box<dyn Parser>>,
    /// Parsers that read files by name only ([`Parser::file_names`]), by that name.
    by_name: HashMap<&'static str, Vec<usize>>,
    /// The other parsers, asked about every file.
    by_path: Vec<usize>,
    results: Mutex<Vec<FileResult>>,
    /// Files a parser recognised by name but refused for their size (see [`Inventory::finish`]).
    too_large: Mutex<Vec<Warning>>,
    progress: Option<&'p Progress>,
}

/// The final inventory of an artifact.
#[derive(Debug, Default)]
pub struct InventoryResult {
    pub os: Option<OsInfo>,
    /// One entry per package (see [`merge`]), sorted by (ecosystem, name, version, locations).
    pub packages: Vec<Package>,
    /// The root projects (see `palisade_core::ScanReport::projects`), merged and sorted the same way.
    pub projects: Vec<Package>,
    /// One warning per file a parser recognised but did not read because it is over the parser's size
    /// limit (docs/limits.md): a lockfile padded to 70 MB is not silently an empty one; also one per `-r` /
    /// `-c` reference of a requirements file to a file absent from the tree.
    pub warnings: Vec<Warning>,
    /// Manifests of formats Palisade does not read, with nothing read beside them (see
    /// [`parsers::not_inventoried`]): what the inventory may be missing, never silently.
    pub not_inventoried: Vec<palisade_core::NotInventoried>,
}

impl<'p> Inventory<'p> {
    /// An inventory running every registered parser.
    pub fn new(progress: Option<&'p Progress>) -> Self {
        Self::with_parsers(registry::all(), progress)
    }

    pub fn with_parsers(parsers: Vec<Box<dyn Parser>>, progress: Option<&'p Progress>) -> Self {
        let mut by_name: HashMap<&'static str, Vec<usize>> = HashMap::new();
        let mut by_path = Vec::new();
        for (i, p) in parsers.iter().enumerate() {
            if p.file_names().is_empty() {
                by_path.push(i);
            }
            for name in p.file_names() {
                by_name.entry(name).or_default().push(i);
            }
        }
        Inventory {
            parsers,
            by_name,
            by_path,
            results: Mutex::new(Vec::new()),
            too_large: Mutex::new(Vec::new()),
            progress,
        }
    }

    /// Finish: keep results whose file version is live according to `is_live(path, layer)`, pick the OS,
    /// give OS packages their distro purls, name the projects from their manifests, merge the entries that
    /// are the same package or project, sort.
    pub fn finish(self, is_live: impl Fn(&str, Option<u32>) -> bool) -> InventoryResult {
        let results = self.results.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut warnings = self.too_large.into_inner().unwrap_or_else(|e| e.into_inner());
        warnings.sort_by(|a, b| (&a.path, a.layer, &a.source).cmp(&(&b.path, b.layer, &b.source)));
        warnings.dedup();
        let mut results: Vec<FileResult> =
            results.into_iter().filter(|r| is_live(&r.path, r.layer)).collect();
        drop_shadowed_lockfiles(&mut results);
        reconcile_go_sums(&mut results);
        // POMs: completed from their parents and BOMs in the tree, then treated like any other file's output.
        let poms: Vec<(String, Option<u32>, parsers::maven_pom::Pom)> = results
            .iter_mut()
            .filter_map(|r| Some((r.path.clone(), r.layer, r.output.pom.take()?)))
            .collect();
        let repository: Vec<(String, parsers::maven_pom::Pom)> = results
            .iter_mut()
            .filter_map(|r| Some((r.path.clone(), r.output.repository_pom.take()?)))
            .collect();
        for (path, layer, mut output) in parsers::maven_pom::resolve(&poms, &repository) {
            for w in output.warnings.drain(..) {
                warnings.push(Warning::new("maven-pom", w).at(&path, layer));
            }
            results.push(FileResult { path, layer, output });
        }
        // Direct and dev dependencies of lockfiles that do not record them, from the manifest beside them.
        let mut declared: HashMap<String, Vec<parsers::declared_roots::Declared>> = HashMap::new();
        for r in &mut results {
            if let Some(d) = r.output.declared.take() {
                declared.entry(parent_dir(&r.path).to_string()).or_default().push(d);
            }
        }
        if !declared.is_empty() {
            for r in &mut results {
                parsers::declared_roots::apply(&declared, &r.path, &mut r.output);
            }
        }
        let not_inventoried =
            parsers::not_inventoried::resolve(results.iter().map(|r| (r.path.as_str(), r.layer, &r.output)));
        let mut requirement_files = BTreeMap::new();
        let mut layers = HashMap::new();
        for r in &mut results {
            if let Some(refs) = r.output.requirements.take() {
                layers.insert(r.path.clone(), r.layer);
                requirement_files.insert(r.path.clone(), (refs, r.output.packages.clone()));
            }
        }
        let (mut packages, followed) = parsers::pip_requirements::follow(&requirement_files);
        for (path, message) in followed {
            let layer = layers.get(&path).copied().flatten();
            warnings.push(Warning::new("pip-requirements", message).at(&path, layer));
        }
        let mut os = None;
        let mut projects = Vec::new();
        let mut manifests = Vec::new();
        for r in results {
            if let Some(o) = r.output.os {
                // /etc/os-release wins over /usr/lib/os-release (it is the admin's override).
                if os.is_none() || r.path.starts_with("etc/") {
                    os = Some(o);
                }
            }
            packages.extend(r.output.packages);
            projects.extend(r.output.projects);
            manifests.extend(r.output.manifest);
        }
        if let Some(os) = os.as_mut()
            && packages.iter().any(|p| p.found_by == "dpkg-status-d")
            && !packages.iter().any(|p| p.found_by == "dpkg-status")
        {
            os.distroless = true;
        }
        for p in packages.iter_mut().filter(|p| p.ecosystem.is_os()) {
            p.purl = os_purl(p, os.as_ref());
        }
        InventoryResult {
            os,
            packages: merge::merge_packages(packages),
            projects: merge::merge_packages(name_projects(projects, manifests)),
            warnings,
            not_inventoried,
        }
    }
}

/// A `go.sum` counts only where the `go.mod` beside it predates module graph pruning (see
/// [`parsers::go_sum::reconcile`]).
fn reconcile_go_sums(results: &mut [FileResult]) {
    let go_mods: HashMap<String, Output> = results
        .iter()
        .filter(|r| parsers::lang_common::file_name(&r.path) == "go.mod")
        .map(|r| {
            let o = &r.output;
            let copy =
                Output { packages: o.packages.clone(), projects: o.projects.clone(), ..Output::default() };
            (parent_dir(&r.path).to_string(), copy)
        })
        .collect();
    for r in results.iter_mut().filter(|r| parsers::lang_common::file_name(&r.path) == "go.sum") {
        parsers::go_sum::reconcile(&mut r.output, go_mods.get(parent_dir(&r.path)));
    }
}

/// npm reads `npm-shrinkwrap.json` and ignores `package-lock.json` when both are in a directory: so does the
/// inventory.
fn drop_shadowed_lockfiles(results: &mut Vec<FileResult>) {
    let shrinkwrap_dirs: std::collections::HashSet<(String, Option<u32>)> = results
        .iter()
        .filter(|r| parsers::lang_common::file_name(&r.path) == "npm-shrinkwrap.json")
        .map(|r| (parent_dir(&r.path).to_string(), r.layer))
        .collect();
    if shrinkwrap_dirs.is_empty() {
        return;
    }
    results.retain(|r| {
        parsers::lang_common::file_name(&r.path) != "package-lock.json"
            || !shrinkwrap_dirs.iter().any(|(d, _)| d == parent_dir(&r.path))
    });
}

/// Give each project the name and version of the manifest in its directory when its own file did not say,
/// and the manifest as a further location when it names the same project; drop projects nothing names.
fn name_projects(projects: Vec<Project>, manifests: Vec<Package>) -> Vec<Package> {
    let mut by_dir: HashMap<(Ecosystem, &str), &Package> = HashMap::new();
    for m in &manifests {
        if let Some(l) = m.location() {
            // One per directory and ecosystem (`package.json` for npm, `pyproject.toml` for PyPI) among the
            // live files.
            by_dir.entry((m.ecosystem, parent_dir(&l.path))).or_insert(m);
        }
    }
    let mut out = Vec::with_capacity(projects.len());
    // Purls that changed when a manifest gave the version, for the dependencies naming the old one (a yarn
    // berry root depends on its workspaces before their versions are known).
    let mut renamed_purls: HashMap<String, String> = HashMap::new();
    for Project { mut package, dir } in projects {
        if let Some(m) = by_dir.get(&(package.ecosystem, dir.as_str())) {
            let had_name = !package.name.is_empty();
            let mut renamed = !had_name;
            if renamed {
                package.name = m.name.clone();
            }
            let same_name = merge::same_name(package.ecosystem, &package.name, &m.name);
            if same_name && package.version.is_empty() && !m.version.is_empty() {
                package.version = m.version.clone();
                renamed = true;
            }
            if renamed {
                let purl = palisade_core::package::build_purl(
                    package.ecosystem,
                    &package.name,
                    &package.version,
                    &[],
                );
                let old = std::mem::replace(&mut package.purl, purl);
                if had_name && old != package.purl {
                    renamed_purls.insert(old, package.purl.clone());
                }
            }
            // A stale lockfile can name another project or version: then the manifest is not its location.
            if same_name && (m.version.is_empty() || merge::identity(&package) == merge::identity(m)) {
                for l in &m.locations {
                    if !package.locations.contains(l) {
                        package.locations.push(l.clone());
                    }
                }
                if package.licenses.is_empty() {
                    package.licenses = m.licenses.clone();
                }
            }
        }
        if !package.name.is_empty() {
            out.push(package);
        }
    }
    if !renamed_purls.is_empty() {
        for p in &mut out {
            for d in &mut p.dependencies {
                if let Some(new) = renamed_purls.get(d.as_str()) {
                    d.clone_from(new);
                }
            }
        }
    }
    out
}

/// `pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl`
fn os_purl(p: &Package, os: Option<&OsInfo>) -> String {
    let vendor = match (p.ecosystem, os) {
        (_, Some(os)) if !os.id.is_empty() => os.id.as_str(),
        (Ecosystem::Deb, _) => "debian",
        (Ecosystem::Apk, _) => "alpine",
        _ => "unknown",
    };
    let distro = os.map(OsInfo::distro_qualifier).unwrap_or_default();
    let upstream = p.source.as_ref().filter(|s| s.name != p.name).map(|s| s.name.as_str()).unwrap_or("");
    let arch = p.arch.as_deref().unwrap_or("");
    // The epoch is a qualifier only when the version string does not already carry it (dpkg versions do).
    let epoch = p
        .metadata
        .get("epoch")
        .map(String::as_str)
        .filter(|e| !p.version.starts_with(&format!("{e}:")))
        .unwrap_or("");
    palisade_core::package::build_os_purl(
        p.ecosystem,
        vendor,
        &p.name,
        &p.version,
        &[("arch", arch), ("distro", &distro), ("upstream", upstream), ("epoch", epoch)],
    )
}

impl Inventory<'_> {
    /// Keep one parser's result for one file (warnings go to the shared collector).
    fn record(
        &self,
        parser: &dyn Parser,
        meta: &FileMeta,
        result: Result<Output, ParseError>,
        warnings: &Warnings,
    ) {
        match result {
            Ok(mut output) => {
                for w in output.warnings.drain(..) {
                    warnings.push(Warning::new(parser.id(), w).at(meta.path, meta.layer));
                }
                if output.packages.is_empty()
                    && output.projects.is_empty()
                    && output.manifest.is_none()
                    && output.os.is_none()
                    && output.requirements.is_none()
                    && output.pom.is_none()
                    && output.repository_pom.is_none()
                    && output.declared.is_none()
                    && output.not_inventoried.is_none()
                {
                    return;
                }
                if let Some(p) = self.progress {
                    Progress::add(&p.packages_found, output.packages.len() as u64);
                }
                let r = FileResult { path: meta.path.to_string(), layer: meta.layer, output };
                self.results.lock().unwrap_or_else(|e| e.into_inner()).push(r);
            }
            Err(e) => warnings.push(Warning::new(parser.id(), e.0).at(meta.path, meta.layer)),
        }
    }
}

fn run_parser(parser: &dyn Parser, input: &Input) -> Result<Output, ParseError> {
    let mut output = Output::default();
    parser.parse(input, &mut output).map(|()| output)
}

impl Inventory<'_> {
    /// The parsers that may want `meta`: those registered for its file name, then those that look at every
    /// path, in registration order within each group. Called for every file of every layer.
    fn candidates<'s>(&'s self, meta: &FileMeta) -> impl Iterator<Item = &'s dyn Parser> + 's {
        let named = self.by_name.get(meta.file_name()).map(Vec::as_slice).unwrap_or_default();
        named.iter().chain(&self.by_path).map(|&i| self.parsers[i].as_ref())
    }
}

impl FileSink for Inventory<'_> {
    fn wants(&self, meta: &FileMeta) -> bool {
        if self.candidates(meta).any(|p| p.wants(meta)) {
            return true;
        }
        // Parsers check the size in `wants`; one that would take the file at size 0 refused it for its size.
        // Every parser limit is at least 1 MiB, so smaller files need no second look.
        if meta.size > TOO_LARGE_FLOOR {
            let small = FileMeta { size: 0, ..*meta };
            for p in self.candidates(meta).filter(|p| p.wants(&small)) {
                let w = Warning::new(
                    p.id(),
                    format!(
                        "file is {} bytes, over the size limit of this parser (docs/limits.md); not read",
                        meta.size
                    ),
                )
                .at(meta.path, meta.layer);
                self.too_large.lock().unwrap_or_else(|e| e.into_inner()).push(w);
            }
        }
        false
    }

    fn wants_after_probe(&self, meta: &FileMeta, probe: &dyn Probe) -> bool {
        self.candidates(meta).any(|p| p.wants(meta) && p.wants_after_probe(meta, probe))
    }

    fn accept(&self, meta: &FileMeta, data: &[u8], warnings: &Warnings) {
        let input = Input { path: meta.path, layer: meta.layer, data };
        for parser in self.candidates(meta).filter(|p| p.wants(meta)) {
            self.record(parser, meta, run_parser(parser, &input), warnings);
        }
    }

    /// The parsers by id, and this build (parsers only change with it).
    fn cache_key(&self) -> Option<String> {
        let ids: Vec<&str> = self.parsers.iter().map(|p| p.id()).collect();
        Some(format!("inventory {}", ids.join(",")))
    }

    fn export_layer(&self, layer: u32) -> Option<serde_json::Value> {
        let results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        let mine: Vec<(&str, &Output)> =
            results.iter().filter(|r| r.layer == Some(layer)).map(|r| (r.path.as_str(), &r.output)).collect();
        serde_json::to_value(mine).ok()
    }

    fn import_layer(&self, layer: u32, value: serde_json::Value) -> Result<(), String> {
        let found: Vec<(String, Output)> = serde_json::from_value(value).map_err(|e| e.to_string())?;
        let mut imported = Vec::with_capacity(found.len());
        let mut packages = 0u64;
        for (path, mut output) in found {
            let locations = output
                .packages
                .iter_mut()
                .chain(output.manifest.iter_mut())
                .chain(output.projects.iter_mut().map(|p| &mut p.package))
                .flat_map(|p| p.locations.iter_mut());
            for l in locations {
                l.layer = Some(layer);
            }
            packages += output.packages.len() as u64;
            imported.push(FileResult { path, layer: Some(layer), output });
        }
        if let Some(p) = self.progress {
            Progress::add(&p.packages_found, packages);
        }
        self.results.lock().unwrap_or_else(|e| e.into_inner()).extend(imported);
        Ok(())
    }

    fn accept_content(&self, meta: &FileMeta, content: &Content, warnings: &Warnings) {
        // Each parser's own second look decides, so one parser's interest does not make another read the
        // whole file (a Go binary is of no use to the `cargo auditable` parser).
        for parser in self.candidates(meta).filter(|p| p.wants(meta) && p.wants_after_probe(meta, content)) {
            let mut output = Output::default();
            let result = match parser.parse_probe(meta, content, &mut output) {
                Some(r) => r.map(|()| output),
                None => match content.whole() {
                    Some(data) => run_parser(parser, &Input { path: meta.path, layer: meta.layer, data }),
                    // The reader already warned why the file could not be read.
                    None => return,
                },
            };
            self.record(parser, meta, result, warnings);
        }
    }
}
