//! `yarn.lock`, both formats.
//!
//! * Classic (yarn 1, `# yarn lockfile v1`): an indentation-based text format. Each entry has a header of
//!   comma-separated specifiers (`"@babel/core@^7.0.0", "@babel/core@^7.1.0":`) and indented `version`,
//!   `dependencies` and `optionalDependencies`. Aliases (`alias@npm:real@^1`) resolve to the real package.
//!   Local `file:` / `link:` entries are skipped. A header without a range (`lodash:`) names the package
//!   alone. The classic format does not say what is direct.
//! * Berry (yarn 2+, recognised by a `__metadata:` key): YAML. Only entries whose `resolution` uses the
//!   `npm:` protocol are packages; `workspace:` entries are the project itself (their dependencies are the
//!   direct ones, and `dependenciesMeta.<name>.optional` marks optional ones), and `patch:` entries
//!   duplicate the npm entry they patch, so both are skipped, as are links, portals and files. Packages
//!   resolved from git (`name@https://github.com/o/r.git#commit=<sha>`) or a remote tarball take the entry's
//!   `version` and say where they come from in a purl qualifier (`vcs_url` / `download_url`).
//!
//! Root projects: classic lockfiles do not name the project; one unnamed project is recorded for the
//! `package.json` beside the lockfile to name (classic does not say what is direct either, so it has no
//! dependencies). In berry every `workspace:` entry is a project (name from the entry, directory from the
//! workspace path, version from `package.json`: berry writes `0.0.0-use.local`), depending on what it lists.
//!
//! Neither format records development dependencies (the `package.json` beside the lockfile tells, see
//! [`super::declared_roots`], as it tells what classic's direct dependencies are). Dependencies are resolved through the specifiers that
//! the entries list, so every dependency purl names the locked version.

use super::lang_common::{MAX_FILE_SIZE, PackageSet, file_name, purl, yaml_options};
use super::prefix::record_prefix;
use crate::{Input, Output, ParseError, Parser, Project, join_dir, parent_dir};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Parser for classic and berry `yarn.lock` (id `yarn-lock`).
pub struct YarnLock;

impl Parser for YarnLock {
    fn id(&self) -> &'static str {
        "yarn-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["yarn.lock"]
    }

    /// Any size the artifact reads: over [`MAX_FILE_SIZE`] the entries of the first 64 MiB are kept.
    fn wants(&self, meta: &FileMeta) -> bool {
        self.file_names().contains(&file_name(meta.path))
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        // Entries are line-structured: a cut at a line end keeps every entry before it (whitespace padding
        // after the last entry has no blank line to cut at).
        let (data, cut) = record_prefix(input.data, input.data.len() as u64, MAX_FILE_SIZE, b"\n");
        out.warnings.extend(cut);
        let input = &Input { data, ..*input };
        let text = input.text()?;
        let is_berry = text.lines().any(|l| l.starts_with("__metadata:"));
        if is_berry {
            let (packages, projects) = parse_berry(self.id(), input, text)?;
            out.packages.extend(packages);
            out.projects.extend(projects);
        } else {
            out.packages.extend(parse_classic(self.id(), input, text)?);
            let root = Package::new(Ecosystem::Npm, "", "", input.location(), self.id());
            out.projects.push(Project::new(root, parent_dir(input.path)));
        }
        Ok(())
    }
}

/// Split a specifier `name@range` (the name may be scoped: `@scope/name@range`).
fn split_spec(spec: &str) -> Option<(&str, &str)> {
    let at = spec.get(1..)?.find('@')? + 1;
    let name = &spec[..at];
    (!name.is_empty()).then(|| (name, &spec[at + 1..]))
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"').and_then(|r| r.strip_suffix('"')).unwrap_or(s)
}

/// A classic line `key value` or `"key" "value"`.
fn split_key_value(line: &str) -> (&str, &str) {
    let line = line.trim();
    let split =
        if let Some(rest) = line.strip_prefix('"') { rest.find('"').map(|i| i + 2) } else { line.find(' ') };
    match split {
        Some(i) if i <= line.len() => {
            let (k, v) = line.split_at(i);
            (unquote(k), unquote(v.trim_start_matches(':')))
        }
        _ => (unquote(line.trim_end_matches(':')), ""),
    }
}

#[derive(Default)]
struct ClassicEntry {
    specs: Vec<String>,
    version: Option<String>,
    deps: Vec<(String, String)>,
    line: usize,
}

fn is_local_range(range: &str) -> bool {
    ["file:", "link:", "portal:", "workspace:"].iter().any(|p| range.starts_with(p))
}

fn parse_classic(id: &str, input: &Input, text: &str) -> Result<Vec<Package>, ParseError> {
    let mut entries: Vec<ClassicEntry> = Vec::new();
    let mut in_deps = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 0 {
            let Some(header) = line.strip_suffix(':') else {
                return Err(ParseError::new(format!(
                    "line {}: expected an entry header ending in `:`",
                    n + 1
                )));
            };
            let specs = header.split(", ").map(|s| unquote(s).to_string()).collect();
            entries.push(ClassicEntry { specs, line: n + 1, ..Default::default() });
            in_deps = false;
            continue;
        }
        let Some(entry) = entries.last_mut() else {
            return Err(ParseError::new(format!("line {}: indented line before any entry", n + 1)));
        };
        let (key, value) = split_key_value(line);
        if indent <= 2 {
            in_deps = matches!(key, "dependencies" | "optionalDependencies") && value.is_empty();
            if key == "version" {
                entry.version = Some(value.to_string());
            }
        } else if in_deps && !key.is_empty() {
            entry.deps.push((key.to_string(), value.to_string()));
        }
    }
    if entries.is_empty() && !text.contains("yarn lockfile") {
        return Err(ParseError::new("no entries and no `# yarn lockfile v1` marker: not a yarn.lock"));
    }

    // Real (name, version) of each entry; None for local ones.
    let resolve_entry = |e: &ClassicEntry| -> Option<(String, String)> {
        let version = e.version.as_deref().filter(|v| !v.is_empty())?;
        let first = e.specs.first()?;
        let (name, range) = split_spec(first).unwrap_or((first.as_str(), ""));
        if name.is_empty() {
            return None;
        }
        if is_local_range(range) {
            return None;
        }
        let name = match range.strip_prefix("npm:").and_then(split_spec) {
            Some((real, _)) => real,
            None => name,
        };
        Some((name.to_string(), version.to_string()))
    };
    let mut by_spec: BTreeMap<&str, (String, String)> = BTreeMap::new();
    for e in &entries {
        if let Some(nv) = resolve_entry(e) {
            for s in &e.specs {
                by_spec.insert(s.as_str(), nv.clone());
            }
        }
    }
    // A header without a range (`asap:`) is found by name, when that name has one locked version.
    let mut by_name: BTreeMap<String, Option<(String, String)>> = BTreeMap::new();
    for e in &entries {
        if let Some(nv) = resolve_entry(e) {
            by_name
                .entry(nv.0.clone())
                .and_modify(|v| *v = v.take().filter(|old| *old == nv))
                .or_insert(Some(nv));
        }
    }
    let mut set = PackageSet::new();
    for e in &entries {
        let Some((name, version)) = resolve_entry(e) else {
            if e.version.is_none() {
                return Err(ParseError::new(format!("line {}: entry has no version", e.line)));
            }
            continue;
        };
        let mut pkg = Package::new(Ecosystem::Npm, name, version, input.location(), id);
        for (dn, dr) in &e.deps {
            let found =
                by_spec.get(format!("{dn}@{dr}").as_str()).or_else(|| by_name.get(dn.as_str())?.as_ref());
            if let Some((n, v)) = found {
                pkg.dependencies.push(purl(Ecosystem::Npm, n, v));
            }
        }
        set.add(pkg);
    }
    Ok(set.into_packages())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BerryEntry {
    version: Option<String>,
    resolution: Option<String>,
    dependencies: BTreeMap<String, String>,
    #[serde(rename = "dependenciesMeta")]
    dependencies_meta: BTreeMap<String, BerryDepMeta>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BerryDepMeta {
    optional: Option<bool>,
}

/// `name@npm:1.2.3` to (name, version); None for any other protocol.
fn npm_resolution(resolution: &str) -> Option<(&str, &str)> {
    let (name, rest) = split_spec(resolution)?;
    let version = rest.strip_prefix("npm:")?;
    (!version.is_empty()).then_some((name, version))
}

/// A package resolved from git or a remote tarball: (name, the entry's version, purl qualifier). Local
/// protocols (`workspace:`, `patch:`, `link:`, `portal:`, `file:`) and npm give `None`.
fn remote_resolution<'a>(
    resolution: &'a str,
    version: Option<&'a str>,
) -> Option<(&'a str, &'a str, (&'static str, String))> {
    let (name, rest) = split_spec(resolution)?;
    let version = version.filter(|v| !v.is_empty() && !v.starts_with("0.0.0-use.local"))?;
    let is_git = rest.contains(".git#") || rest.contains("#commit=") || rest.starts_with("git");
    let qualifier = if is_git {
        let (repo, fragment) = rest.split_once('#').unwrap_or((rest, ""));
        let commit = fragment.split('&').find_map(|kv| kv.strip_prefix("commit=")).unwrap_or(fragment);
        let repo = if repo.starts_with("git+") { repo.to_string() } else { format!("git+{repo}") };
        ("vcs_url", if commit.is_empty() { repo } else { format!("{repo}#{commit}") })
    } else if rest.starts_with("https://") || rest.starts_with("http://") {
        ("download_url", rest.to_string())
    } else {
        return None;
    };
    Some((name, version, qualifier))
}

fn parse_berry(id: &str, input: &Input, text: &str) -> Result<(Vec<Package>, Vec<Project>), ParseError> {
    let lock: BTreeMap<String, BerryEntry> = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|e| ParseError::new(format!("invalid yarn berry YAML: {e}")))?;
    // Descriptor → resolved package, and descriptor → its lockfile key, each built once (no search per
    // dependency: the graph is built in linear time).
    let mut by_descriptor: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    let mut key_of_descriptor: BTreeMap<&str, &str> = BTreeMap::new();
    for (key, e) in &lock {
        let nv = e.resolution.as_deref().and_then(|r| {
            npm_resolution(r).or_else(|| remote_resolution(r, e.version.as_deref()).map(|(n, v, _)| (n, v)))
        });
        for d in key.split(',') {
            key_of_descriptor.entry(d.trim()).or_insert(key.as_str());
            if let Some(nv) = nv {
                by_descriptor.insert(d.trim(), nv);
            }
        }
    }
    let resolve = |name: &str, range: &str| {
        by_descriptor
            .get(format!("{name}@{range}").as_str())
            .or_else(|| by_descriptor.get(format!("{name}@npm:{range}").as_str()))
            .copied()
    };
    // Direct dependencies: what the workspaces ask for. Each workspace is a project.
    let mut direct = BTreeSet::new();
    let mut optional = BTreeSet::new();
    let mut projects = Vec::new();
    let workspace_purl: BTreeMap<&str, String> = lock
        .iter()
        .filter_map(|(key, e)| {
            let (name, range) = split_spec(e.resolution.as_deref()?)?;
            range.starts_with("workspace:").then(|| (key.as_str(), purl(Ecosystem::Npm, name, "")))
        })
        .collect();
    for e in lock.values() {
        let Some(res) = e.resolution.as_deref() else { continue };
        let Some((name, path)) = split_spec(res).and_then(|(n, r)| Some((n, r.strip_prefix("workspace:")?)))
        else {
            continue;
        };
        let mut project = Package::new(Ecosystem::Npm, name, "", input.location(), id);
        for (n, r) in &e.dependencies {
            if let Some(nv) = resolve(n, r) {
                direct.insert(nv);
                if e.dependencies_meta.get(n).and_then(|m| m.optional) == Some(true) {
                    optional.insert(nv);
                }
                project.dependencies.push(purl(Ecosystem::Npm, nv.0, nv.1));
            } else if let Some(ws) =
                key_of_descriptor.get(format!("{n}@{r}").as_str()).and_then(|k| workspace_purl.get(k))
            {
                project.dependencies.push(ws.clone());
            }
        }
        project.dependencies.sort();
        project.dependencies.dedup();
        projects.push(Project::new(project, join_dir(parent_dir(input.path), path)));
    }
    let mut set = PackageSet::new();
    for (key, e) in &lock {
        if key == "__metadata" {
            continue;
        }
        let Some(res) = e.resolution.as_deref() else { continue };
        let (nv @ (name, version), qualifier) = match npm_resolution(res) {
            Some(nv) => (nv, None),
            None => match remote_resolution(res, e.version.as_deref()) {
                Some((n, v, q)) => ((n, v), Some(q)),
                None => continue,
            },
        };
        let mut pkg = Package::new(Ecosystem::Npm, name, version, input.location(), id);
        if let Some((k, v)) = qualifier {
            pkg.purl = palisade_core::package::build_purl(Ecosystem::Npm, name, version, &[(k, &v)]);
            pkg.metadata.insert(k.into(), v);
        }
        pkg.direct = Some(direct.contains(&nv));
        if optional.contains(&nv) {
            pkg.scope = Scope::Optional;
        }
        for (n, r) in &e.dependencies {
            if let Some((dn, dv)) = resolve(n, r) {
                pkg.dependencies.push(purl(Ecosystem::Npm, dn, dv));
            }
        }
        set.add(pkg);
    }
    Ok((set.into_packages(), projects))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const V1: &[u8] = include_bytes!("../../tests/fixtures/yarn/yarn-v1.lock");
    const V1_EDGE: &[u8] = include_bytes!("../../tests/fixtures/yarn/yarn-v1-edge.lock");
    const BERRY: &[u8] = include_bytes!("../../tests/fixtures/yarn/yarn-berry.lock");
    const BERRY_EDGE: &[u8] = include_bytes!("../../tests/fixtures/yarn/yarn-berry-edge.lock");
    const BERRY_GIT: &[u8] = include_bytes!("../../tests/fixtures/yarn/yarn-berry-git.lock");
    const V1_NO_RANGE: &[u8] = include_bytes!("../../tests/fixtures/yarn/yarn-v1-header-without-range.lock");

    /// Issue 13: git-resolved berry packages were dropped silently.
    #[test]
    fn berry_git_resolved_packages() {
        let out = run(&YarnLock, "yarn.lock", BERRY_GIT).unwrap();
        assert_eq!(names(&out), ["@typegoose/typegoose@7.4.8", "domino@2.1.6+git", "ms@2.1.3"]);
        let t = get(&out, "@typegoose/typegoose", "7.4.8");
        assert_eq!(
            t.metadata["vcs_url"],
            "git+https://github.com/typegoose/typegoose.git#0a5ba0b3d0ddef1d1ee3ec4ab0cc8b4d54b6ed8e"
        );
        assert!(t.purl.starts_with("pkg:npm/%40typegoose/typegoose@7.4.8?vcs_url="), "{}", t.purl);
        assert_eq!(t.direct, Some(true));
        assert_eq!(t.dependencies, ["pkg:npm/ms@2.1.3"]);
        assert_eq!(get(&out, "domino", "2.1.6+git").direct, Some(true));
    }

    /// Issue 13: a classic entry whose header has no range was dropped silently.
    #[test]
    fn classic_header_without_range() {
        let out = run(&YarnLock, "yarn.lock", V1_NO_RANGE).unwrap();
        assert_eq!(names(&out), ["asap@2.0.6", "promise@7.3.1"]);
        assert_eq!(get(&out, "promise", "7.3.1").dependencies, ["pkg:npm/asap@2.0.6"]);
    }

    fn names(out: &Output) -> Vec<String> {
        out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect()
    }

    #[test]
    fn classic_generated_by_yarn1() {
        let out = run(&YarnLock, "yarn.lock", V1).unwrap();
        assert_eq!(
            names(&out),
            ["@babel/helper-plugin-utils@7.24.0", "debug@2.6.9", "is-number@7.0.0", "ms@2.0.0", "ms@2.1.3"]
        );
        assert_eq!(get(&out, "debug", "2.6.9").dependencies, ["pkg:npm/ms@2.0.0"]);
        assert!(out.packages.iter().all(|p| p.direct.is_none() && p.found_by == "yarn-lock"));
    }

    #[test]
    fn classic_multi_specs_aliases_and_local() {
        let out = run(&YarnLock, "yarn.lock", V1_EDGE).unwrap();
        assert_eq!(
            names(&out),
            [
                "@babel/code-frame@7.22.13",
                "@babel/highlight@7.22.20",
                "chalk@2.4.2",
                "string-width@4.2.3",
                "supports-color@5.5.0"
            ]
        );
        assert_eq!(
            get(&out, "@babel/code-frame", "7.22.13").dependencies,
            ["pkg:npm/%40babel/highlight@7.22.20", "pkg:npm/chalk@2.4.2"]
        );
        assert_eq!(get(&out, "chalk", "2.4.2").dependencies, ["pkg:npm/supports-color@5.5.0"]);
    }

    #[test]
    fn berry_generated_by_yarn4() {
        let out = run(&YarnLock, "yarn.lock", BERRY).unwrap();
        assert_eq!(
            names(&out),
            ["@babel/helper-plugin-utils@7.24.0", "debug@2.6.9", "is-number@7.0.0", "ms@2.0.0", "ms@2.1.3"]
        );
        assert_eq!(get(&out, "debug", "2.6.9").direct, Some(true));
        assert_eq!(get(&out, "debug", "2.6.9").dependencies, ["pkg:npm/ms@2.0.0"]);
        assert_eq!(get(&out, "ms", "2.0.0").direct, Some(false));
        assert_eq!(get(&out, "is-number", "7.0.0").scope, Scope::Optional);
        assert_eq!(get(&out, "ms", "2.1.3").scope, Scope::Required);
    }

    #[test]
    fn berry_skips_workspaces_and_patches() {
        let out = run(&YarnLock, "yarn.lock", BERRY_EDGE).unwrap();
        assert_eq!(
            names(&out),
            ["fsevents@2.3.3", "js-tokens@4.0.0", "loose-envify@1.4.0", "react@18.2.0", "typescript@5.4.5"]
        );
        assert_eq!(get(&out, "fsevents", "2.3.3").scope, Scope::Optional);
        assert_eq!(get(&out, "react", "18.2.0").direct, Some(true));
        assert_eq!(get(&out, "loose-envify", "1.4.0").dependencies, ["pkg:npm/js-tokens@4.0.0"]);
    }

    #[test]
    fn root_projects() {
        // Classic: one unnamed project in the lockfile's directory, for its package.json to name.
        let out = run(&YarnLock, "srv/web/yarn.lock", V1).unwrap();
        assert_eq!(out.projects.len(), 1);
        assert_eq!((out.projects[0].package.name.as_str(), out.projects[0].dir.as_str()), ("", "srv/web"));
        // Berry: every workspace, with its directory and what it lists.
        let out = run(&YarnLock, "yarn.lock", BERRY).unwrap();
        assert_eq!(out.projects.len(), 1);
        let root = &out.projects[0];
        assert_eq!(
            (root.package.name.as_str(), root.package.version.as_str(), root.dir.as_str()),
            ("fixture-app", "", "")
        );
        assert_eq!(
            root.package.dependencies,
            [
                "pkg:npm/%40babel/helper-plugin-utils@7.24.0",
                "pkg:npm/debug@2.6.9",
                "pkg:npm/is-number@7.0.0",
                "pkg:npm/ms@2.1.3"
            ]
        );
        let out = run(&YarnLock, "mono/yarn.lock", BERRY_EDGE).unwrap();
        let projects: Vec<_> =
            out.projects.iter().map(|p| (p.package.name.as_str(), p.dir.as_str())).collect();
        assert_eq!(projects, [("@acme/root", "mono"), ("@acme/web", "mono/packages/web")]);
        // The root depends on the web workspace (no version until its package.json gives one).
        assert_eq!(out.projects[0].package.dependencies, ["pkg:npm/%40acme/web", "pkg:npm/typescript@5.4.5"]);
        assert!(!out.packages.iter().any(|p| p.name.starts_with("@acme/")), "workspaces are not packages");
    }

    #[test]
    fn malformed() {
        let e = run(&YarnLock, "yarn.lock", b"foo@^1:\n  resolved \"x\"\n").unwrap_err();
        assert!(e.0.contains("no version"), "{e}");
        assert!(run(&YarnLock, "yarn.lock", b"  version \"1\"\n").is_err());
        assert!(run(&YarnLock, "yarn.lock", b"not a lockfile").is_err());
        assert!(run(&YarnLock, "yarn.lock", b"__metadata:\n  version: 8\nfoo: [\n").is_err());
        assert!(run(&YarnLock, "yarn.lock", b"\xff\xfe").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&YarnLock, "yarn.lock", V1_EDGE);
        no_panic_on_truncation(&YarnLock, "yarn.lock", BERRY_EDGE);
    }
}
