//! pip requirements files: `requirements.txt`, `requirements-dev.txt`, `dev-requirements.txt`, any `.txt`
//! under a `requirements*/` or `reqs/` directory, the usual names of included files (`base.txt`, `dev.txt`,
//! ...) and constraints files (`constraints*.txt`). An `-r` target with another name is not seen: it is
//! reported as not found rather than silently skipped.
//!
//! Only exact pins are packages: `name==version` and `name===version` (no wildcard). Extras
//! (`name[extra]`) are stripped from the name, environment markers (`; python_version < "3.10"`) and
//! per-requirement options (`--hash=...`, `-C key=value`, `--config-settings ...`) are not part of the
//! version, comments are dropped and `\` continuations joined. A version that is an environment variable
//! (`name==${VERSION}`, expanded by pip at install time) is not a version: the package is reported without one
//! (metadata `unresolved_version`) and with a warning. Global options (`--index-url`, `-e`, ...) and URL
//! requirements (`name @ https://...`) are ignored without error; range requirements (`>=`, `~=`) are not
//! pins and are skipped. The purl name is PEP 503 normalised; [`Package::name`] keeps the file's spelling.
//!
//! `-r file` / `--requirement file` and `-c file` / `--constraint file` are followed inside the scanned tree
//! after the walk ([`follow`]), relative to the including file, cycles cut: an included file's pins are the
//! including project's packages; a constraints file pins the unpinned requirements (`requests` +
//! `requests==2.31.0` in the constraints file gives `requests` 2.31.0) and gives no package by itself. A
//! reference to a file absent from the tree is a warning naming both files. Files whose name does not start
//! with `requirements` (constraints files, `requirements/base.txt` is fine) give packages only when a
//! requirements file names them.

use super::lang_common::{MAX_FILE_SIZE, PackageSet, file_name};
use super::prefix::record_prefix;
use crate::{Input, Output, ParseError, Parser, parent_dir};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Location, Package, package::normalize_pypi};
use std::collections::{BTreeMap, BTreeSet};

/// Parser for pinned `requirements*.txt` (id `pip-requirements`).
pub struct PipRequirements;

/// What a requirements file refers to, kept for [`follow`] after the walk.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Refs {
    /// True for files named `requirements*`: their pins are packages by themselves. Other files (constraints,
    /// `base.txt`) count only through a file that names them.
    pub standalone: bool,
    /// `-r` targets, as paths relative to the artifact root.
    pub requirements: Vec<String>,
    /// `-c` targets, as paths relative to the artifact root.
    pub constraints: Vec<String>,
    /// Names required without a pin (PEP 503 normalised), for constraints to pin.
    pub unpinned: Vec<String>,
    /// The pins of a file that is not standalone.
    pub pins: Vec<Package>,
}

fn is_requirements_name(name: &str) -> bool {
    name.starts_with("requirements") && name.ends_with(".txt")
}

/// Names that `-r` targets commonly have (`-r base.txt`), outside a `requirements*` or `reqs` directory.
const INCLUDE_NAMES: &[&str] = &[
    "base.txt",
    "common.txt",
    "dev.txt",
    "develop.txt",
    "prod.txt",
    "production.txt",
    "test.txt",
    "tests.txt",
    "testing.txt",
    "local.txt",
    "docs.txt",
    "lint.txt",
    "ci.txt",
    "main.txt",
    "runtime.txt",
    "extras.txt",
];

/// Other file names pip users give requirements and constraints files. Not under `usr/share/` or installed
/// packages, where `.txt` files are documentation.
fn is_related_name(path: &str) -> bool {
    let name = file_name(path);
    let dir = parent_dir(path);
    let dir_name = dir.rsplit('/').next().unwrap_or(dir);
    name.ends_with(".txt")
        && !path.starts_with("usr/share/")
        && !path.contains("-packages/")
        && (name.contains("requirements")
            || name.starts_with("constraints")
            || dir_name.starts_with("requirements")
            || dir_name == "reqs"
            || INCLUDE_NAMES.contains(&name))
}

/// Strip a comment: `#` at the start or after whitespace (a `#` inside a URL fragment is not a comment).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace)) {
            return &line[..i];
        }
    }
    line
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The requirement without markers and per-requirement options (`--hash`, `-C`, `--config-settings`).
fn requirement_part(req: &str) -> &str {
    let req = req.split(';').next().unwrap_or(req);
    let bytes = req.as_bytes();
    let cut = (1..bytes.len())
        .find(|&i| {
            bytes[i] == b'-'
                && bytes[i - 1].is_ascii_whitespace()
                && bytes.get(i + 1).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'-')
        })
        .unwrap_or(req.len());
    req[..cut].trim()
}

/// (name, version) of an exact pin, or None.
fn parse_pin(req: &str) -> Option<(&str, &str)> {
    let req = requirement_part(req);
    let (name_part, version) = req.split_once("==")?;
    let version = version.strip_prefix('=').unwrap_or(version).trim();
    let name = name_part.split('[').next().unwrap_or(name_part).trim();
    let ok_version = !version.is_empty()
        && !version.contains(['*', ',', ' ', '<', '>', '!', '~', '='])
        && !name_part.contains(['<', '>', '!', '~', '@']);
    (valid_name(name) && ok_version).then_some((name, version))
}

/// The name of a requirement without a pin (`requests`, `requests[socks]>=2`), or None.
fn unpinned_name(req: &str) -> Option<&str> {
    let req = requirement_part(req);
    if req.contains('@') || req.contains("==") {
        return None;
    }
    let end =
        req.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(req.len());
    let name = &req[..end];
    valid_name(name).then_some(name)
}

/// True for a version pip takes from the environment (`${VAR}`).
fn is_env_var(version: &str) -> bool {
    version.contains("${")
}

/// `dir` joined with a relative path, `.` and `..` resolved; `None` when it climbs above the root or is a URL.
fn resolve_path(dir: &str, target: &str) -> Option<String> {
    if target.contains("://") {
        return None;
    }
    let mut parts: Vec<&str> =
        if target.starts_with('/') { Vec::new() } else { dir.split('/').filter(|p| !p.is_empty()).collect() };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The target of `-r x`, `-rx`, `--requirement x`, `--requirement=x` (and the `-c` forms).
fn option_target<'a>(line: &'a str, short: &str, long: &str) -> Option<&'a str> {
    let rest = if let Some(r) = line.strip_prefix(long) {
        r.strip_prefix('=').unwrap_or(r)
    } else {
        line.strip_prefix(short)?
    };
    let t = rest.trim();
    (!t.is_empty()).then_some(t)
}

impl Parser for PipRequirements {
    fn id(&self) -> &'static str {
        "pip-requirements"
    }

    /// Any size the artifact reads: over [`MAX_FILE_SIZE`] the lines of the first 64 MiB are kept.
    fn wants(&self, meta: &FileMeta) -> bool {
        is_requirements_name(file_name(meta.path)) || is_related_name(meta.path)
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let (data, cut) = record_prefix(input.data, input.data.len() as u64, MAX_FILE_SIZE, b"\n");
        out.warnings.extend(cut);
        let input = &Input { data, ..*input };
        let text = input.text()?;
        if text.contains('\0') {
            return Err(ParseError::new("contains NUL bytes: not a requirements file"));
        }
        // Join `\` continuations first.
        let mut logical: Vec<String> = Vec::new();
        let mut current = String::new();
        for raw in text.lines() {
            let line = strip_comment(raw);
            match line.trim_end().strip_suffix('\\') {
                Some(head) => {
                    current.push_str(head);
                    current.push(' ');
                }
                None => {
                    current.push_str(line);
                    logical.push(std::mem::take(&mut current));
                }
            }
        }
        if !current.is_empty() {
            logical.push(current);
        }
        let dir = parent_dir(input.path);
        let mut refs = Refs { standalone: is_requirements_name(file_name(input.path)), ..Refs::default() };
        let mut set = PackageSet::new();
        for line in &logical {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('-') {
                let targets = [
                    (option_target(line, "-r", "--requirement"), &mut refs.requirements),
                    (option_target(line, "-c", "--constraint"), &mut refs.constraints),
                ];
                for (target, list) in targets {
                    if let Some(t) = target {
                        match resolve_path(dir, t) {
                            Some(p) => list.push(p),
                            None => out
                                .warnings
                                .push(format!("{line:?}: not a file inside the scanned tree; not followed")),
                        }
                    }
                }
                continue;
            }
            if let Some((name, version)) = parse_pin(line) {
                let mut pkg = if is_env_var(version) {
                    out.warnings.push(format!(
                        "{name}: version {version:?} is an environment variable, resolved only at install time; reported without a version"
                    ));
                    let mut p = Package::new(Ecosystem::PyPI, name, "", input.location(), self.id());
                    p.metadata.insert("unresolved_version".into(), version.to_string());
                    p
                } else {
                    Package::new(Ecosystem::PyPI, name, version, input.location(), self.id())
                };
                pkg.direct = Some(true);
                set.add(pkg);
            } else if let Some(name) = unpinned_name(line) {
                refs.unpinned.push(normalize_pypi(name));
            }
        }
        if refs.standalone {
            out.packages.extend(set.into_packages());
        } else {
            refs.pins = set.into_packages();
        }
        if !refs.standalone || !refs.requirements.is_empty() || !refs.constraints.is_empty() {
            out.requirements = Some(refs);
        }
        Ok(())
    }
}

/// Follow `-r` and `-c` between the requirements files of the scan (`files`: path and what it refers to, live
/// files only). Returns the packages the references add and a warning per reference to a missing file.
pub fn follow(files: &BTreeMap<String, (Refs, Vec<Package>)>) -> (Vec<Package>, Vec<(String, String)>) {
    let mut added = Vec::new();
    let mut warnings = Vec::new();
    for (path, (refs, _)) in files.iter().filter(|(_, (r, _))| r.standalone) {
        // Every file reached through `-r` (cycles cut by `seen`), then the constraints they name.
        let mut seen: BTreeSet<&str> = BTreeSet::from([path.as_str()]);
        let mut stack: Vec<(&str, &str)> =
            refs.requirements.iter().map(|t| (path.as_str(), t.as_str())).collect();
        let mut constraints: Vec<(&str, &str)> =
            refs.constraints.iter().map(|t| (path.as_str(), t.as_str())).collect();
        let mut unpinned: BTreeSet<&str> = refs.unpinned.iter().map(String::as_str).collect();
        let mut pinned: BTreeSet<String> = BTreeSet::new();
        for p in &files[path].1 {
            pinned.insert(normalize_pypi(&p.name));
        }
        while let Some((from, target)) = stack.pop() {
            if !seen.insert(target) {
                continue;
            }
            let Some((r, _)) = files.get(target) else {
                warnings.push((
                    from.to_string(),
                    format!("-r {target}: not found in the scanned tree; not followed"),
                ));
                continue;
            };
            // A standalone file reports its own pins; the others count here.
            if !r.standalone {
                for p in &r.pins {
                    pinned.insert(normalize_pypi(&p.name));
                    added.push(p.clone());
                }
            }
            unpinned.extend(r.unpinned.iter().map(String::as_str));
            stack.extend(r.requirements.iter().map(|t| (target, t.as_str())));
            constraints.extend(r.constraints.iter().map(|t| (target, t.as_str())));
        }
        // Constraints pin what is required without a pin; a constraints file may itself name others.
        let mut pins: BTreeMap<String, &Package> = BTreeMap::new();
        let mut seen_c: BTreeSet<&str> = BTreeSet::new();
        while let Some((from, target)) = constraints.pop() {
            if !seen_c.insert(target) {
                continue;
            }
            let Some((r, standalone_pins)) = files.get(target) else {
                warnings.push((
                    from.to_string(),
                    format!("-c {target}: not found in the scanned tree; not followed"),
                ));
                continue;
            };
            for p in r.pins.iter().chain(standalone_pins) {
                pins.entry(normalize_pypi(&p.name)).or_insert(p);
            }
            constraints.extend(r.constraints.iter().chain(&r.requirements).map(|t| (target, t.as_str())));
        }
        for name in unpinned {
            if pinned.contains(name) {
                continue;
            }
            if let Some(p) = pins.get(name) {
                let mut p = (*p).clone();
                p.locations.insert(0, Location::new(path.clone(), p.locations.first().and_then(|l| l.layer)));
                p.direct = Some(true);
                added.push(p);
            }
        }
    }
    (added, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const REQS: &[u8] = include_bytes!("../../tests/fixtures/python/requirements.txt");

    #[test]
    fn wants_requirements_files() {
        let meta = |path| FileMeta { path, size: 100, mode: 0o644, layer: None };
        assert!(PipRequirements.wants(&meta("app/requirements.txt")));
        assert!(PipRequirements.wants(&meta("requirements-dev.txt")));
        assert!(!PipRequirements.wants(&meta("app/requirements.in")));
        assert!(PipRequirements.wants(&meta("app/constraints.txt")));
        assert!(PipRequirements.wants(&meta("app/requirements/base.txt")));
        assert!(PipRequirements.wants(&meta("app/dev-requirements.txt")));
        assert!(PipRequirements.wants(&meta("app/base.txt")));
        assert!(!PipRequirements.wants(&meta("app/notes.txt")));
        assert!(!PipRequirements.wants(&meta("usr/share/doc/x/base.txt")));
    }

    #[test]
    fn pins_only() {
        let out = run(&PipRequirements, "app/requirements.txt", REQS).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| format!("{}=={}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "Django==4.2.3",
                "Flask_SQLAlchemy==3.0.5",
                "certifi==2023.7.22",
                "numpy==1.26.4",
                "requests==2.31.0",
                "urllib3==1.26.18"
            ]
        );
        assert_eq!(get(&out, "Flask_SQLAlchemy", "3.0.5").purl, "pkg:pypi/flask-sqlalchemy@3.0.5");
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn pin_parsing() {
        assert_eq!(parse_pin("a==1.0"), Some(("a", "1.0")));
        assert_eq!(parse_pin("a [x] == 1.0 ; os_name == 'nt'"), Some(("a", "1.0")));
        assert_eq!(parse_pin("a>=1,==2"), None);
        assert_eq!(parse_pin("a==1.*"), None);
        assert_eq!(parse_pin("a @ https://x/a==1.tar.gz"), None);
        assert_eq!(parse_pin("=="), None);
        assert_eq!(parse_pin("a b==1"), None);
        // Issue 13: per-requirement build options do not drop the line.
        assert_eq!(parse_pin("a==1.0 -C key=value"), Some(("a", "1.0")));
        assert_eq!(parse_pin("a==1.0 --config-settings=key=value"), Some(("a", "1.0")));
        assert_eq!(parse_pin("a==1.0\t--config-settings key=value"), Some(("a", "1.0")));
        assert_eq!(unpinned_name("requests[socks]>=2 ; python_version > '3'"), Some("requests"));
        assert_eq!(resolve_path("app/reqs", "../base.txt").as_deref(), Some("app/base.txt"));
        assert_eq!(resolve_path("", "../x.txt"), None);
    }

    /// Issue 13: `qwert==${MY_VARIABLE_1}` is not the version `${MY_VARIABLE_1}`.
    #[test]
    fn environment_variable_versions_are_unresolved() {
        let out =
            run(&PipRequirements, "requirements.txt", b"qwert==${MY_VARIABLE_1}\nflask==3.0.0\n").unwrap();
        let q = get(&out, "qwert", "");
        assert_eq!(q.purl, "pkg:pypi/qwert");
        assert_eq!(q.metadata["unresolved_version"], "${MY_VARIABLE_1}");
        assert_eq!(out.warnings.len(), 1);
        assert!(out.warnings[0].contains("environment variable"));
    }

    /// Issue 13: `-r` and `-c` are followed inside the tree, cycles cut, missing targets warned about.
    #[test]
    fn includes_and_constraints_are_followed() {
        let parse = |path: &str, text: &str| {
            let out = run(&PipRequirements, path, text.as_bytes()).unwrap();
            let refs = out.requirements.clone().unwrap_or_default();
            (path.to_string(), (refs, out.packages))
        };
        let files: BTreeMap<_, _> = [
            parse(
                "app/requirements.txt",
                "-r reqs/base.txt\n-c constraints.txt\nrequests\nflask==3.0.0\n-r gone.txt\n",
            ),
            parse("app/reqs/base.txt", "-r ../requirements.txt\nclick==8.1.7\nurllib3\n"),
            parse("app/constraints.txt", "requests==2.31.0\nurllib3==2.2.1\nunused==1.0\n"),
        ]
        .into_iter()
        .collect();
        assert!(files["app/constraints.txt"].1.is_empty(), "a constraints file gives no package by itself");
        let (added, warnings) = follow(&files);
        let mut names: Vec<String> =
            added.iter().map(|p| format!("{}=={} at {}", p.name, p.version, p.locations[0].path)).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "click==8.1.7 at app/reqs/base.txt",
                "requests==2.31.0 at app/requirements.txt",
                "urllib3==2.2.1 at app/requirements.txt"
            ]
        );
        assert_eq!(
            warnings,
            [(
                "app/requirements.txt".to_string(),
                "-r app/gone.txt: not found in the scanned tree; not followed".to_string()
            )]
        );
    }

    #[test]
    fn malformed() {
        assert!(run(&PipRequirements, "requirements.txt", b"\xff\xfe").is_err());
        assert!(run(&PipRequirements, "requirements.txt", b"a==1\0").is_err());
        let out = run(&PipRequirements, "requirements.txt", b"a==1 \\").unwrap();
        assert_eq!(out.packages.len(), 1);
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&PipRequirements, "requirements.txt", REQS);
    }
}
