//! The licence scanner's part of the one artifact walk, and the findings it makes after the walk.
//!
//! While files stream past, [`LicenseSink`] keeps what it needs of three kinds of file, each read and
//! matched on the worker thread that delivers it:
//!
//! - Debian `usr/share/doc/<package>/copyright` files (see [`crate::debian`]);
//! - licence files: `LICENSE*`, `LICENCE*`, `COPYING*`, `NOTICE*`, `UNLICENSE`, `COPYRIGHT` anywhere but
//!   under `usr/share/doc` (there the copyright file speaks for the package) and `usr/share/common-licenses`
//!   (reference copies of licence texts, not licences of anything shipped);
//! - with `--license-full`, source files, for their header;
//! - the manifests of package sources whose lockfiles carry no licence: the `Cargo.toml` of crate sources
//!   (see [`crate::cargo`]) and the `.nuspec` of NuGet packages (see [`crate::nuget`]).
//!
//! [`LicenseSink::finish`] then gives Debian packages the licences of their copyright file, Cargo and NuGet
//! packages the licence of their crate's or package's manifest, gives packages that declare none the
//! licence file in their own directory (a Go module's `LICENSE` in the module cache or
//! `vendor/`, an npm package's, a Python distribution's), and turns every package licence and licence file
//! into a [`LicenseFinding`] judged by the [`Policy`].

use crate::category::{self, Category};
use crate::detect::{self, Detected};
use crate::policy::{Decision, Policy};
use crate::{cargo, debian, normalize, nuget};
use palisade_artifact::{FileMeta, FileSink};
use palisade_core::findings::license::{LicenseFinding, LicenseSource};
use palisade_core::{Ecosystem, Package, Severity, Warning, Warnings};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

/// Largest copyright or licence file read.
pub const MAX_FILE: u64 = 1 << 20;

/// Source file extensions whose headers `--license-full` reads.
const SOURCE_EXTENSIONS: &[&str] = &[
    "c", "h", "cc", "cpp", "cxx", "hpp", "go", "rs", "py", "js", "mjs", "cjs", "ts", "java", "kt", "scala",
    "rb", "php", "cs", "sh", "pl", "pm", "swift", "m", "lua",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CopyrightFile {
    package: String,
    path: String,
    layer: Option<u32>,
    licenses: Vec<String>,
    machine_readable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LicenseText {
    path: String,
    layer: Option<u32>,
    source: LicenseSource,
    detected: Detected,
}

/// A licence declared by a package-source manifest (`Cargo.toml` of a crate source, `.nuspec`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Declared {
    ecosystem: Ecosystem,
    name: String,
    version: String,
    license: Option<String>,
    /// A licence file of the package, relative to the manifest's directory.
    license_file: Option<String>,
    path: String,
    layer: Option<u32>,
}

#[derive(Debug, Default)]
struct Found {
    copyrights: Vec<CopyrightFile>,
    files: Vec<LicenseText>,
    declared: Vec<Declared>,
}

/// What the sink makes of a file it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Copyright,
    File,
    Header,
    CrateManifest,
    Nuspec,
}

/// Collects copyright files, licence files and (with `full`) source headers during the walk.
#[derive(Debug, Default)]
pub struct LicenseSink {
    full: bool,
    found: Mutex<Found>,
}

/// Is `name` (the last path component) a licence file?
pub fn is_license_file(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["LICENSE", "LICENCE", "COPYING", "NOTICE", "UNLICENSE"].iter().any(|p| upper.starts_with(p))
        || upper == "COPYRIGHT"
        || upper == "COPYRIGHT.TXT"
        || upper == "COPYRIGHT.MD"
}

fn is_source(name: &str) -> bool {
    name.rsplit_once('.').is_some_and(|(_, ext)| SOURCE_EXTENSIONS.contains(&ext))
}

impl LicenseSink {
    /// A sink; `full` also reads source-file headers (`--license-full`).
    pub fn new(full: bool) -> Self {
        LicenseSink { full, found: Mutex::new(Found::default()) }
    }

    /// The one place the sink's sources are registered.
    fn kind(&self, meta: &FileMeta) -> Option<Kind> {
        if meta.size > MAX_FILE {
            return None;
        }
        let path = meta.path;
        if debian::package_of(path).is_some() {
            return Some(Kind::Copyright);
        }
        if path.starts_with("usr/share/doc/") || path.starts_with("usr/share/common-licenses/") {
            return None;
        }
        let name = meta.file_name();
        if is_license_file(name) {
            return Some(Kind::File);
        }
        if name == "Cargo.toml" && cargo::is_crate_manifest(path) {
            return Some(Kind::CrateManifest);
        }
        if nuget::is_nuspec(path) {
            return Some(Kind::Nuspec);
        }
        (self.full && is_source(name)).then_some(Kind::Header)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Found> {
        self.found.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl FileSink for LicenseSink {
    fn wants(&self, meta: &FileMeta) -> bool {
        self.kind(meta).is_some()
    }

    /// What the sink keeps of a file depends on its options, the copyright reader and the text matcher;
    /// bump the `v` number when either changes what it makes of a file.
    fn cache_key(&self) -> Option<String> {
        Some(format!(
            "license v2 full={} threshold={} spdx={}",
            self.full,
            detect::THRESHOLD,
            spdx::license_version()
        ))
    }

    fn export_layer(&self, layer: u32) -> Option<serde_json::Value> {
        let found = self.lock();
        let copyrights: Vec<&CopyrightFile> =
            found.copyrights.iter().filter(|c| c.layer == Some(layer)).collect();
        let files: Vec<&LicenseText> = found.files.iter().filter(|f| f.layer == Some(layer)).collect();
        let declared: Vec<&Declared> = found.declared.iter().filter(|d| d.layer == Some(layer)).collect();
        serde_json::to_value((copyrights, files, declared)).ok()
    }

    fn import_layer(&self, layer: u32, value: serde_json::Value) -> Result<(), String> {
        let (mut copyrights, mut files, mut declared): (Vec<CopyrightFile>, Vec<LicenseText>, Vec<Declared>) =
            serde_json::from_value(value).map_err(|e| format!("licence cache entry: {e}"))?;
        for d in &mut declared {
            d.layer = Some(layer);
        }
        for c in &mut copyrights {
            c.layer = Some(layer);
        }
        for f in &mut files {
            f.layer = Some(layer);
        }
        let mut found = self.lock();
        found.copyrights.append(&mut copyrights);
        found.files.append(&mut files);
        found.declared.append(&mut declared);
        Ok(())
    }

    fn accept(&self, meta: &FileMeta, data: &[u8], warnings: &Warnings) {
        let Some(kind) = self.kind(meta) else { return };
        let text = String::from_utf8_lossy(data);
        match kind {
            Kind::CrateManifest | Kind::Nuspec => {
                let declared = if kind == Kind::CrateManifest {
                    cargo::parse(&text)
                        .map(|c| c.map(|c| (Ecosystem::Cargo, c.name, c.version, c.license, c.license_file)))
                } else {
                    nuget::parse(&text)
                        .map(|n| n.map(|n| (Ecosystem::Nuget, n.id, n.version, n.license, n.license_file)))
                };
                match declared {
                    Ok(Some((ecosystem, name, version, license, license_file))) => {
                        self.lock().declared.push(Declared {
                            ecosystem,
                            name,
                            version,
                            license,
                            license_file,
                            path: meta.path.to_string(),
                            layer: meta.layer,
                        })
                    }
                    Ok(None) => {}
                    Err(e) => warnings.push(Warning::new("license", e).at(meta.path, meta.layer)),
                }
            }
            Kind::Copyright => {
                let Some(package) = debian::package_of(meta.path) else { return };
                let mut c = debian::parse(&text);
                if c.licenses.is_empty()
                    && !c.machine_readable
                    && let Some(d) = detect::license_file(&text)
                {
                    c.licenses = d.licenses;
                }
                self.lock().copyrights.push(CopyrightFile {
                    package: package.to_string(),
                    path: meta.path.to_string(),
                    layer: meta.layer,
                    licenses: c.licenses,
                    machine_readable: c.machine_readable,
                });
            }
            Kind::File | Kind::Header => {
                let (detected, source) = if kind == Kind::File {
                    (detect::license_file(&text), LicenseSource::File)
                } else {
                    (detect::source_header(&text), LicenseSource::Header)
                };
                if let Some(detected) = detected {
                    self.lock().files.push(LicenseText {
                        path: meta.path.to_string(),
                        layer: meta.layer,
                        source,
                        detected,
                    });
                }
            }
        }
    }
}

/// Debian packages with a copyright file: how many are machine-readable, and how many of those have every
/// licence normalised to SPDX licence-list ids (see `docs/accuracy.md`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DebianCoverage {
    pub packages: usize,
    pub machine_readable: usize,
    pub all_listed_ids: usize,
    /// Machine-readable packages whose licences all normalise to valid SPDX expressions, counting the
    /// `LicenseRef-`s of the alias table (public domain has no SPDX id).
    pub all_valid: usize,
    /// Machine-readable packages with a licence that is not a list id: `package: raw → expression or ?`.
    pub rest: Vec<String>,
}

/// What [`LicenseSink::finish`] made.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<LicenseFinding>,
    pub warnings: Vec<Warning>,
    pub debian: DebianCoverage,
}

/// Severity of a category, as Trivy grades licence findings.
pub fn severity_of(c: Category) -> Severity {
    match c {
        Category::Forbidden => Severity::Critical,
        Category::Restricted => Severity::High,
        Category::Reciprocal => Severity::Medium,
        Category::Notice | Category::Permissive | Category::Unencumbered => Severity::Low,
        Category::Unknown => Severity::Unknown,
    }
}

/// True when every licence-list id... of an expression: no `LicenseRef-`.
fn only_listed_ids(expr: &str) -> bool {
    !expr.contains("LicenseRef-")
}

impl LicenseSink {
    /// Attach what was found to `packages` and make the findings. `is_live` says which (path, layer) versions
    /// survive in the final filesystem (files deleted by a later layer are not reported).
    pub fn finish(
        self,
        packages: &mut [Package],
        policy: &Policy,
        is_live: impl Fn(&str, Option<u32>) -> bool,
    ) -> Outcome {
        let found = self.found.into_inner().unwrap_or_else(|e| e.into_inner());
        let copyrights: Vec<CopyrightFile> =
            found.copyrights.into_iter().filter(|c| is_live(&c.path, c.layer)).collect();
        let mut files: Vec<LicenseText> =
            found.files.into_iter().filter(|f| is_live(&f.path, f.layer)).collect();
        let declared: Vec<Declared> =
            found.declared.into_iter().filter(|d| is_live(&d.path, d.layer)).collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut out = Outcome::default();

        // Debian packages: licences from their copyright file.
        let by_name: HashMap<&str, &CopyrightFile> =
            copyrights.iter().map(|c| (c.package.as_str(), c)).collect();
        let mut origin: HashMap<usize, (String, Option<u32>)> = HashMap::new();
        let mut dep5: Vec<bool> = vec![false; packages.len()];
        for (i, p) in packages.iter_mut().enumerate() {
            if p.ecosystem != Ecosystem::Deb {
                continue;
            }
            let name = p.name.split(':').next().unwrap_or(&p.name);
            if let Some(c) = by_name.get(name) {
                for l in &c.licenses {
                    if !p.licenses.contains(l) {
                        p.licenses.push(l.clone());
                    }
                }
                origin.insert(i, (c.path.clone(), c.layer));
                dep5[i] = c.machine_readable;
            }
        }
        out.debian = coverage(&copyrights);

        // Cargo and NuGet packages: the licence of their crate's or package's manifest in the tree. Its
        // directory is the package's own, for the licence files below.
        let mut used = vec![false; files.len()];
        let mut own_dir: HashMap<usize, String> = HashMap::new();
        for (i, p) in packages.iter_mut().enumerate() {
            let Some(d) = declared.iter().find(|d| declares(d, p)) else { continue };
            let dir = d.path.rsplit_once('/').map_or("", |(dir, _)| dir).to_string();
            if p.licenses.is_empty() {
                if let Some(l) = &d.license {
                    p.licenses.push(l.clone());
                } else if let Some(lf) = &d.license_file {
                    let want = format!("{dir}/{}", lf.trim_start_matches("./"));
                    if let Some(fi) = files.iter().position(|f| f.path == want)
                        && !files[fi].detected.licenses.is_empty()
                    {
                        used[fi] = true;
                        p.licenses.push(files[fi].detected.licenses.join(" AND "));
                    }
                }
                if !p.licenses.is_empty() {
                    origin.insert(i, (d.path.clone(), d.layer));
                }
            }
            own_dir.insert(i, dir);
        }
        let belongs = |path: &str, i: usize, p: &Package| {
            belongs_to(path, p)
                || own_dir.get(&i).is_some_and(|d| path.rsplit_once('/').is_some_and(|(fd, _)| fd == d))
        };

        // Packages that declare nothing: the licence file in their own directory.
        for (i, p) in packages.iter_mut().enumerate() {
            if !p.licenses.is_empty() || p.ecosystem.is_os() {
                continue;
            }
            if let Some(fi) =
                files.iter().position(|f| f.source == LicenseSource::File && belongs(&f.path, i, p))
            {
                let f = &files[fi];
                used[fi] = true;
                if f.detected.licenses.is_empty() {
                    continue;
                }
                p.licenses.push(f.detected.licenses.join(" AND "));
                origin.insert(i, (f.path.clone(), f.layer));
            }
        }

        // A licence file in the directory of a package that declares the same licence says nothing new.
        for (fi, f) in files.iter().enumerate() {
            if used[fi] || f.source != LicenseSource::File || f.detected.licenses.is_empty() {
                continue;
            }
            used[fi] = packages.iter().enumerate().any(|(i, p)| {
                !p.licenses.is_empty()
                    && belongs(&f.path, i, p)
                    && f.detected.licenses.iter().all(|id| {
                        p.licenses.iter().any(|l| {
                            normalize(l)
                                .and_then(|n| n.expression)
                                .is_some_and(|e| e.split([' ', '(', ')']).any(|t| t == id))
                        })
                    })
            });
        }

        for (i, p) in packages.iter().enumerate() {
            let (path, layer) = origin
                .get(&i)
                .cloned()
                .unwrap_or_else(|| p.location().map(|l| (l.path.clone(), l.layer)).unwrap_or_default());
            let mut seen: Vec<String> = Vec::new();
            for raw in &p.licenses {
                let n = if dep5[i] { crate::normalize_dep5(raw) } else { normalize(raw) };
                let Some(n) = n else { continue };
                let key = n.expression.clone().unwrap_or_else(|| n.raw.clone());
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                if n.expression.is_none() {
                    out.warnings.push(
                        Warning::new(
                            "license",
                            format!(
                                "package {} {}: licence {:?} is not an SPDX expression",
                                p.name, p.version, raw
                            ),
                        )
                        .at(path.clone(), layer),
                    );
                }
                let mut f = finding(LicenseSource::Package, &n.raw, n.expression, None, &path, layer, policy);
                f.package = Some(p.name.clone());
                f.version = Some(p.version.clone());
                f.purl = Some(p.purl.clone()).filter(|s| !s.is_empty());
                f.note = n.note.or(f.note);
                out.findings.push(f);
            }
        }

        for (fi, f) in files.iter().enumerate() {
            if used[fi] && !f.detected.licenses.is_empty() {
                continue; // reported as its package's licence
            }
            if f.detected.licenses.is_empty() {
                let mut lf =
                    finding(f.source, "unknown", None, Some(f.detected.confidence), &f.path, f.layer, policy);
                lf.note = Some(format!(
                    "no SPDX licence text matched (best score {:.2}, threshold {:.2})",
                    f.detected.confidence,
                    detect::THRESHOLD
                ));
                out.findings.push(lf);
                continue;
            }
            for id in &f.detected.licenses {
                out.findings.push(finding(
                    f.source,
                    id,
                    Some(id.clone()),
                    Some(f.detected.confidence),
                    &f.path,
                    f.layer,
                    policy,
                ));
            }
        }
        out.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.subject().cmp(&b.subject()))
                .then_with(|| a.raw.cmp(&b.raw))
        });
        out
    }
}

fn finding(
    source: LicenseSource,
    raw: &str,
    expression: Option<String>,
    confidence: Option<f32>,
    path: &str,
    layer: Option<u32>,
    policy: &Policy,
) -> LicenseFinding {
    let cat = expression.as_deref().and_then(category::of_expression).unwrap_or(Category::Unknown);
    let (failed_rule, note) = match policy.decide(expression.as_deref()) {
        Decision::Pass => (None, None),
        Decision::Warn(w) => (None, Some(w)),
        Decision::Fail(f) => (Some(f.rule), None),
    };
    LicenseFinding {
        source,
        package: None,
        version: None,
        purl: None,
        raw: raw.to_string(),
        expression,
        category: cat.name().to_string(),
        severity: severity_of(cat),
        confidence,
        path: path.to_string(),
        layer,
        failed_rule,
        note,
        suppressed: None,
    }
}

/// Does a manifest's declaration name package `p` (Cargo: same name; NuGet: same id in any case; same
/// version)?
fn declares(d: &Declared, p: &Package) -> bool {
    d.ecosystem == p.ecosystem
        && match p.ecosystem {
            Ecosystem::Nuget => {
                d.name.eq_ignore_ascii_case(&p.name) && d.version.eq_ignore_ascii_case(&p.version)
            }
            _ => d.name == p.name && d.version == p.version,
        }
}

/// Does the licence file at `path` belong to package `p`? The Go module cache
/// (`…/pkg/mod/<module>@<version>/LICENSE`, capital letters escaped as `!x`) and `vendor/<module>/LICENSE`
/// for Go modules; otherwise the directory of the package's own metadata (`node_modules/x/package.json`,
/// `x.dist-info/METADATA`, a gemspec's gem directory).
fn belongs_to(path: &str, p: &Package) -> bool {
    let Some((dir, _)) = path.rsplit_once('/') else { return false };
    if p.ecosystem == Ecosystem::Golang {
        if let Some(at) =
            dir.find("/pkg/mod/").map(|i| i + 9).or_else(|| dir.strip_prefix("pkg/mod/").map(|_| 8))
        {
            let modver = unescape_go(&dir[at..]);
            return modver == format!("{}@{}", p.name, p.version);
        }
        if let Some(at) = dir.find("vendor/").filter(|&i| i == 0 || dir.as_bytes()[i - 1] == b'/') {
            return dir[at + 7..] == p.name;
        }
        return false;
    }
    p.locations.iter().any(|l| l.path.rsplit_once('/').is_some_and(|(d, _)| d == dir))
}

/// The Go module cache writes capital letters as `!` + lower case.
fn unescape_go(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut bang = false;
    for c in s.chars() {
        if c == '!' {
            bang = true;
        } else if bang {
            out.push(c.to_ascii_uppercase());
            bang = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn coverage(copyrights: &[CopyrightFile]) -> DebianCoverage {
    let mut c = DebianCoverage { packages: copyrights.len(), ..Default::default() };
    let mut sorted: Vec<&CopyrightFile> = copyrights.iter().collect();
    sorted.sort_by(|a, b| a.package.cmp(&b.package));
    sorted.dedup_by(|a, b| a.package == b.package);
    c.packages = sorted.len();
    for f in sorted.iter().filter(|f| f.machine_readable) {
        c.machine_readable += 1;
        let mut bad = Vec::new();
        let mut invalid = false;
        for l in f.licenses.iter().filter(|l| !crate::normalize::is_no_assertion(l)) {
            match normalize(l).and_then(|n| n.expression) {
                Some(e) if only_listed_ids(&e) => {}
                Some(e) => bad.push(format!("{l} → {e}")),
                None => {
                    invalid = true;
                    bad.push(format!("{l} → ?"));
                }
            }
        }
        if !invalid && !f.licenses.is_empty() {
            c.all_valid += 1;
        }
        if bad.is_empty() && !f.licenses.is_empty() {
            c.all_listed_ids += 1;
        } else if f.licenses.is_empty() {
            c.rest.push(format!("{}: no License field", f.package));
        } else {
            c.rest.push(format!("{}: {}", f.package, bad.join(", ")));
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::Location;

    fn meta(path: &str) -> FileMeta<'_> {
        FileMeta { path, size: 100, mode: 0o644, layer: None }
    }

    #[test]
    fn wants_copyright_and_licence_files() {
        let s = LicenseSink::new(false);
        assert!(s.wants(&meta("usr/share/doc/bash/copyright")));
        assert!(s.wants(&meta("app/node_modules/x/LICENSE")));
        assert!(s.wants(&meta("src/COPYING.LIB")));
        assert!(!s.wants(&meta("usr/share/common-licenses/GPL-3")));
        assert!(!s.wants(&meta("usr/share/doc/bash/LICENSE")));
        assert!(!s.wants(&meta("src/main.c")));
        assert!(LicenseSink::new(true).wants(&meta("src/main.c")));
    }

    #[test]
    fn layer_cache_round_trip() {
        let s = LicenseSink::new(false);
        let w = Warnings::new();
        let m = FileMeta { path: "usr/share/doc/libfoo1/copyright", size: 100, mode: 0o644, layer: Some(2) };
        s.accept(&m, include_bytes!("../tests/fixtures/copyright-dep5"), &w);
        let v = s.export_layer(2).unwrap();
        let t = LicenseSink::new(false);
        t.import_layer(5, v).unwrap();
        let found = t.lock();
        assert_eq!(found.copyrights.len(), 1);
        assert_eq!(found.copyrights[0].layer, Some(5));
        assert_eq!(found.copyrights[0].licenses.len(), 4);
        drop(found);
        assert!(t.import_layer(1, serde_json::json!("garbage")).is_err());
        assert_ne!(LicenseSink::new(true).cache_key(), s.cache_key());
    }

    #[test]
    fn packages_get_their_copyright_and_licence_files() {
        let s = LicenseSink::new(false);
        let w = Warnings::new();
        s.accept(
            &meta("usr/share/doc/libfoo1/copyright"),
            include_bytes!("../tests/fixtures/copyright-dep5"),
            &w,
        );
        s.accept(
            &meta("root/go/pkg/mod/github.com/!burnt!sushi/toml@v1.3.2/LICENSE"),
            include_bytes!("../tests/fixtures/LICENSE-MIT"),
            &w,
        );
        s.accept(&meta("opt/LICENSE.txt"), b"Use it if you send me a postcard.", &w);
        let mut pkgs = vec![
            Package::new(
                Ecosystem::Deb,
                "libfoo1",
                "1.0-1",
                Location::new("var/lib/dpkg/status", None),
                "dpkg",
            ),
            Package::new(
                Ecosystem::Golang,
                "github.com/BurntSushi/toml",
                "v1.3.2",
                Location::new("app", None),
                "go",
            ),
        ];
        let policy = Policy::new(&[], &[], &[Category::Restricted], Default::default()).unwrap();
        let out = s.finish(&mut pkgs, &policy, |_, _| true);
        assert_eq!(pkgs[0].licenses, ["GPL-2+", "BSD-3-clause", "GPL-2+ or Artistic", "public-domain"]);
        assert_eq!(pkgs[1].licenses, ["MIT"]);
        let gpl = out
            .findings
            .iter()
            .find(|f| f.expression.as_deref() == Some("GPL-2.0-or-later"))
            .unwrap_or_else(|| panic!("{:#?}", out.findings));
        assert_eq!(gpl.failed_rule.as_deref(), Some("--license-fail-on restricted"));
        assert_eq!(gpl.path, "usr/share/doc/libfoo1/copyright");
        assert_eq!(gpl.package.as_deref(), Some("libfoo1"));
        // The OR with Artistic passes the restricted gate.
        let or = out.findings.iter().find(|f| f.raw == "GPL-2+ or Artistic").unwrap();
        assert_eq!(or.failed_rule, None);
        let unknown = out.findings.iter().find(|f| f.path == "opt/LICENSE.txt").unwrap();
        assert_eq!(unknown.category, "unknown");
        assert!(unknown.confidence.unwrap() < detect::THRESHOLD);
        assert_eq!(out.debian.machine_readable, 1);
        assert_eq!(out.debian.all_listed_ids, 0);
        assert_eq!(out.debian.rest, ["libfoo1: public-domain → LicenseRef-Public-Domain"]);
    }
}
