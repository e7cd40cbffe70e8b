//! `pnpm-lock.yaml`, lockfile versions 5.x, 6.x and 9.x.
//!
//! * 5.x keys packages as `/name/1.2.3` (`/@scope/name/1.2.3`), peer sets appended with `_`
//!   (`/react-dom/17.0.2_react@17.0.2`); packages from other registries or tarballs carry `name` and
//!   `version` fields, which win over the key.
//! * 6.x keys them as `/name@1.2.3` with peers in parentheses (`/react-dom@18.2.0(react@18.2.0)`).
//! * 9.x drops the leading `/`, keeps metadata in `packages` and the dependency graph in `snapshots`.
//!
//! The project's own dependencies are the root `dependencies` / `devDependencies` / `optionalDependencies`
//! (single-project 5.x/6.x) or the `importers` (workspaces, and always in 9.x); they make packages direct.
//! Scope comes from the `dev` / `optional` flags of 5.x/6.x entries; where a flag is missing (always in 9.x)
//! it is computed from the graph: reachable from a production dependency is required, reachable only from
//! development dependencies is dev. Peer suffixes are stripped from versions, `link:` / `file:` references
//! (workspace packages) are skipped, and aliases (`npm:real@^1`) resolve to the real package.
//!
//! Keys and references that are not registry packages are read as pnpm does: a leading registry host
//! (`registry.npmjs.org/foo/1.1.0`) is dropped; a git or tarball path (`github.com/kevva/is-positive/<commit>`)
//! is no name and version, so the entry's own `name` and `version` give them, or else the name the importer
//! or dependant uses for it; the entry's `resolution` becomes a purl qualifier (`vcs_url` for git,
//! `download_url` for a tarball). References name the package through its key, so they resolve through the
//! keys. Local `file:` / `link:` entries (a directory of the project) are skipped. Entries and sections with an
//! empty value (`packages:` with nothing under it, `/foo/1.0.0:` with no fields) are empty, not errors.
//!
//! Root projects: each importer (or the single project of 5.x/6.x) is a project depending on what it lists.
//! The lockfile does not name them: the `package.json` in the importer's directory does.

use super::lang_common::{PackageSet, nullable, purl, wants_name, yaml_options};
use crate::{Input, Output, ParseError, Parser, Project, join_dir, parent_dir};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Parser for `pnpm-lock.yaml` 5.x/6.x/9.x (id `pnpm-lock`).
pub struct PnpmLock;

type NameVersion = (String, String);

#[derive(Deserialize, Default)]
#[serde(default)]
struct Lock {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<serde_json::Value>,
    #[serde(deserialize_with = "nullable")]
    importers: BTreeMap<String, Option<Importer>>,
    #[serde(flatten)]
    root: Importer,
    #[serde(deserialize_with = "nullable")]
    packages: BTreeMap<String, Option<PackageEntry>>,
    #[serde(deserialize_with = "nullable")]
    snapshots: BTreeMap<String, Option<Snapshot>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Importer {
    #[serde(deserialize_with = "nullable")]
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "devDependencies", deserialize_with = "nullable")]
    dev_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "optionalDependencies", deserialize_with = "nullable")]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PackageEntry {
    name: Option<String>,
    version: Option<serde_json::Value>,
    dev: Option<bool>,
    #[serde(deserialize_with = "nullable")]
    optional: bool,
    resolution: Option<Resolution>,
    #[serde(deserialize_with = "nullable")]
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "optionalDependencies", deserialize_with = "nullable")]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
}

/// Where an entry comes from when it is not the registry: a git repository and commit, a tarball URL or a
/// local directory.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Resolution {
    #[serde(rename = "type")]
    kind: Option<String>,
    repo: Option<String>,
    commit: Option<String>,
    tarball: Option<String>,
    directory: Option<String>,
}

impl Resolution {
    /// The purl qualifier saying where a non-registry package comes from.
    fn qualifier(&self) -> Option<(&'static str, String)> {
        if let (Some(repo), Some(commit)) = (&self.repo, &self.commit) {
            let repo = if repo.starts_with("git+") { repo.clone() } else { format!("git+{repo}") };
            return Some(("vcs_url", format!("{repo}#{commit}")));
        }
        let tarball = self.tarball.as_deref()?;
        // Registry tarballs (`https://registry.npmjs.org/foo/-/foo-1.0.0.tgz`) are the normal case.
        if tarball.contains("/-/") || self.kind.as_deref() == Some("directory") {
            return None;
        }
        match tarball.strip_prefix("https://codeload.github.com/") {
            Some(rest) => {
                // `owner/repo/tar.gz/<commit>`: a GitHub repository at a commit.
                let parts: Vec<&str> = rest.split('/').collect();
                match parts.as_slice() {
                    [owner, repo, "tar.gz", commit] => {
                        Some(("vcs_url", format!("git+https://github.com/{owner}/{repo}.git#{commit}")))
                    }
                    _ => Some(("download_url", tarball.to_string())),
                }
            }
            None => Some(("download_url", tarball.to_string())),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Snapshot {
    #[serde(deserialize_with = "nullable")]
    optional: bool,
    #[serde(deserialize_with = "nullable")]
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "optionalDependencies", deserialize_with = "nullable")]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
}

/// A YAML scalar as text (`4.0.0`, `5.4`, `'6.0'`); importer entries in 6.x+ are `{specifier, version}`.
fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Object(o) => o.get("version").and_then(scalar),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    /// `/name/1.2.3_peer@1`
    V5,
    /// `/name@1.2.3(peer@1)` and `name@1.2.3(peer@1)`
    V6,
}

/// True when `name` can be an npm package name: `name` or `@scope/name`, no host or path.
fn valid_name(name: &str) -> bool {
    match name.strip_prefix('@') {
        Some(scoped) => scoped.split('/').count() == 2 && scoped.split('/').all(|p| !p.is_empty()),
        None => !name.is_empty() && !name.contains('/') && !name.contains(':'),
    }
}

/// True when `version` can be a registry version (`1.2.3`, `0.0.0-rc.1`), not a commit or a path.
fn valid_version(version: &str) -> bool {
    let mut parts = version.splitn(3, '.');
    let numeric = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric(parts.next()) && numeric(parts.next()) && parts.next().is_some_and(|p| !p.is_empty())
}

/// True for keys and references naming a local directory of the project.
fn is_local(key: &str) -> bool {
    let key = key.strip_prefix('/').unwrap_or(key);
    key.starts_with("file:") || key.starts_with("link:")
}

/// (name, version) from a package key, peers stripped; `None` for keys that name no registry package (git
/// and tarball paths, local directories). A leading registry host (`registry.npmjs.org/foo/1.1.0`, 5.x keys
/// of packages from another registry) is dropped.
fn parse_key(key: &str, format: Format) -> Option<NameVersion> {
    if is_local(key) {
        return None;
    }
    let absolute = !key.starts_with('/');
    let key = key.strip_prefix('/').unwrap_or(key);
    let (name, version) = match format {
        Format::V5 => {
            let (name, version) = key.rsplit_once('/')?;
            let version = version.split('_').next().unwrap_or(version);
            // `host/name/version` and `host/@scope/name/version`: the first segment is a host when it has a
            // dot and is not a scope.
            let name = match name.split_once('/') {
                Some((host, rest)) if absolute && host.contains('.') && !host.starts_with('@') => rest,
                _ => name,
            };
            (name, version)
        }
        Format::V6 => {
            let key = key.split('(').next().unwrap_or(key);
            let at = key.get(1..)?.find('@')? + 1;
            let name = &key[..at];
            let name = match name.split_once('/') {
                Some((host, rest)) if host.contains('.') && !host.starts_with('@') => rest,
                _ => name,
            };
            (name, &key[at + 1..])
        }
    };
    (valid_name(name) && valid_version(version)).then(|| (name.to_string(), version.to_string()))
}

/// Resolve a dependency reference (the value in a `dependencies` map) to (name, version). `by_key` maps the
/// lockfile's package keys to what they resolved to, for references that name a key (git, tarball, another
/// registry, aliases).
fn resolve_ref(
    dep_name: &str,
    reference: &str,
    format: Format,
    by_key: &BTreeMap<String, NameVersion>,
) -> Option<NameVersion> {
    if reference.is_empty() || is_local(reference) {
        return None;
    }
    let bare = reference.split('(').next().unwrap_or(reference);
    for candidate in [bare, reference] {
        for k in [candidate.to_string(), format!("/{candidate}"), format!("{dep_name}@{candidate}")] {
            if let Some(nv) = by_key.get(&k) {
                return Some(nv.clone());
            }
        }
    }
    if reference.starts_with('/') || (format == Format::V5 && reference.contains('/')) {
        return parse_key(reference, format);
    }
    let starts_with_digit = reference.as_bytes().first().is_some_and(u8::is_ascii_digit);
    if !starts_with_digit && reference.contains('@') {
        // 9.x alias: `string-width@4.2.3`.
        return parse_key(reference, Format::V6);
    }
    let version = match format {
        Format::V5 => reference.split('_').next().unwrap_or(reference),
        Format::V6 => bare,
    };
    valid_version(version).then(|| (dep_name.to_string(), version.to_string()))
}

impl Parser for PnpmLock {
    fn id(&self) -> &'static str {
        "pnpm-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["pnpm-lock.yaml"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let text = input.text()?;
        let lock: Lock = serde_saphyr::from_str_with_options(text, yaml_options())
            .map_err(|e| ParseError::new(format!("invalid pnpm-lock YAML: {e}")))?;
        let version = lock
            .lockfile_version
            .as_ref()
            .and_then(scalar)
            .ok_or_else(|| ParseError::new("no lockfileVersion: not a pnpm lockfile"))?;
        let major: u32 = version
            .split('.')
            .next()
            .and_then(|m| m.trim().parse().ok())
            .ok_or_else(|| ParseError::new(format!("unreadable lockfileVersion {version:?}")))?;
        let format = match major {
            0..=5 => Format::V5,
            6..=9 => Format::V6,
            _ => return Err(ParseError::new(format!("unsupported lockfileVersion {version}"))),
        };

        // Every package key resolved once: from the key, else from the entry's `name` / `version`, else from
        // the name an importer or dependant gives the key (git and tarball entries of 5.x have no name).
        let empty_entry = PackageEntry::default();
        let entries_raw: Vec<(&String, &PackageEntry)> =
            lock.packages.iter().map(|(k, p)| (k, p.as_ref().unwrap_or(&empty_entry))).collect();
        let importers_all: Vec<&Importer> =
            lock.importers.values().flatten().chain(std::iter::once(&lock.root)).collect();
        let mut name_by_reference: BTreeMap<String, String> = BTreeMap::new();
        {
            let mut note = |deps: &BTreeMap<String, serde_json::Value>| {
                for (n, v) in deps {
                    if let Some(r) = scalar(v) {
                        let r = r.split('(').next().unwrap_or(&r).to_string();
                        name_by_reference.entry(r.trim_start_matches('/').to_string()).or_insert(n.clone());
                    }
                }
            };
            for imp in &importers_all {
                note(&imp.dependencies);
                note(&imp.dev_dependencies);
                note(&imp.optional_dependencies);
            }
            for (_, p) in &entries_raw {
                note(&p.dependencies);
                note(&p.optional_dependencies);
            }
        }
        let mut by_key: BTreeMap<String, NameVersion> = BTreeMap::new();
        let mut entries: Vec<(NameVersion, &PackageEntry)> = Vec::new();
        for (key, p) in &entries_raw {
            let key = key.as_str();
            if is_local(key) || p.resolution.as_ref().is_some_and(|r| r.directory.is_some()) {
                continue;
            }
            let from_key = parse_key(key, format);
            let explicit_version = p.version.as_ref().and_then(scalar).filter(|v| valid_version(v));
            let bare_key = key.trim_start_matches('/');
            let key_name = || {
                // 6.x+ `name@<url>`; else the name a reference gives this key.
                let v6 = (format == Format::V6)
                    .then(|| bare_key.get(1..)?.find('@').map(|at| &bare_key[..at + 1]))
                    .flatten()
                    .filter(|n| valid_name(n))
                    .map(str::to_string);
                v6.or_else(|| name_by_reference.get(bare_key.split('(').next().unwrap_or(bare_key)).cloned())
            };
            let nv = match (p.name.clone().filter(|n| valid_name(n)), explicit_version, from_key.clone()) {
                (Some(n), Some(v), _) => (n, v),
                (None, Some(v), Some((n, _))) => (n, v),
                (_, _, Some(nv)) => nv,
                (name, Some(v), None) => match name.or_else(key_name) {
                    Some(n) => (n, v),
                    None => {
                        out.warnings.push(format!("package key {key:?}: no package name, skipped"));
                        continue;
                    }
                },
                _ => {
                    out.warnings.push(format!("package key {key:?}: no name and version, skipped"));
                    continue;
                }
            };
            by_key.insert(key.to_string(), nv.clone());
            entries.push((nv, p));
        }

        // Importers: the root project (5.x/6.x single project) and workspace projects.
        let mut prod_roots = Vec::new();
        let mut dev_roots = Vec::new();
        for imp in &importers_all {
            for (deps, is_dev) in [
                (&imp.dependencies, false),
                (&imp.optional_dependencies, false),
                (&imp.dev_dependencies, true),
            ] {
                for (n, v) in deps {
                    if let Some(nv) = scalar(v).and_then(|r| resolve_ref(n, &r, format, &by_key)) {
                        if is_dev { dev_roots.push(nv) } else { prod_roots.push(nv) }
                    }
                }
            }
        }
        let direct: BTreeSet<NameVersion> = prod_roots.iter().chain(&dev_roots).cloned().collect();
        let empty_importer = Importer::default();
        let project_importers: Vec<(&str, &Importer)> = if lock.importers.is_empty() {
            vec![(".", &lock.root)]
        } else {
            lock.importers.iter().map(|(k, i)| (k.as_str(), i.as_ref().unwrap_or(&empty_importer))).collect()
        };
        for (dir, imp) in project_importers {
            let mut project = Package::new(Ecosystem::Npm, "", "", input.location(), self.id());
            for deps in [&imp.dependencies, &imp.optional_dependencies, &imp.dev_dependencies] {
                for (n, v) in deps {
                    if let Some((dn, dv)) = scalar(v).and_then(|r| resolve_ref(n, &r, format, &by_key)) {
                        project.dependencies.push(purl(Ecosystem::Npm, &dn, &dv));
                    }
                }
            }
            project.dependencies.sort();
            project.dependencies.dedup();
            out.projects.push(Project::new(project, join_dir(parent_dir(input.path), dir)));
        }

        // The graph: snapshots in 9.x, packages before.
        let mut graph: BTreeMap<NameVersion, BTreeSet<NameVersion>> = BTreeMap::new();
        let mut snapshot_optional: BTreeMap<NameVersion, bool> = BTreeMap::new();
        let add_edges = |from: NameVersion,
                         deps: &[&BTreeMap<String, serde_json::Value>],
                         graph: &mut BTreeMap<NameVersion, BTreeSet<NameVersion>>| {
            let edges = graph.entry(from).or_default();
            for map in deps {
                for (n, v) in *map {
                    if let Some(nv) = scalar(v).and_then(|r| resolve_ref(n, &r, format, &by_key)) {
                        edges.insert(nv);
                    }
                }
            }
        };
        let empty_snapshot = Snapshot::default();
        for (key, s) in &lock.snapshots {
            let s = s.as_ref().unwrap_or(&empty_snapshot);
            let bare = key.split('(').next().unwrap_or(key);
            if let Some(nv) = by_key.get(bare).cloned().or_else(|| parse_key(key, format)) {
                let opt = snapshot_optional.entry(nv.clone()).or_insert(true);
                *opt &= s.optional;
                add_edges(nv, &[&s.dependencies, &s.optional_dependencies], &mut graph);
            }
        }
        if lock.snapshots.is_empty() {
            for (nv, p) in &entries {
                add_edges(nv.clone(), &[&p.dependencies, &p.optional_dependencies], &mut graph);
            }
        }

        let prod = reachable(&graph, &prod_roots);
        let dev = reachable(&graph, &dev_roots);
        let mut set = PackageSet::new();
        for (nv, p) in entries {
            let qualifier = p.resolution.as_ref().and_then(Resolution::qualifier);
            let mut pkg = Package::new(Ecosystem::Npm, &nv.0, &nv.1, input.location(), self.id());
            if let Some((k, v)) = &qualifier {
                pkg.purl = palisade_core::package::build_purl(Ecosystem::Npm, &nv.0, &nv.1, &[(k, v)]);
                pkg.metadata.insert((*k).into(), v.clone());
            }
            let optional = p.optional || snapshot_optional.get(&nv).copied().unwrap_or(false);
            let is_dev = match p.dev {
                Some(d) => d,
                None => !prod.contains(&nv) && dev.contains(&nv),
            };
            pkg.scope = if is_dev {
                Scope::Dev
            } else if optional {
                Scope::Optional
            } else {
                Scope::Required
            };
            pkg.direct = Some(direct.contains(&nv));
            if let Some(edges) = graph.get(&nv) {
                pkg.dependencies = edges.iter().map(|(n, v)| purl(Ecosystem::Npm, n, v)).collect();
            }
            set.add(pkg);
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

/// Every node reachable from `roots` (iterative, so deep graphs cannot overflow the stack).
fn reachable(
    graph: &BTreeMap<NameVersion, BTreeSet<NameVersion>>,
    roots: &[NameVersion],
) -> BTreeSet<NameVersion> {
    let mut seen: BTreeSet<NameVersion> = BTreeSet::new();
    let mut stack: Vec<&NameVersion> = roots.iter().collect();
    while let Some(nv) = stack.pop() {
        if !seen.insert(nv.clone()) {
            continue;
        }
        if let Some(edges) = graph.get(nv) {
            stack.extend(edges.iter().filter(|e| !seen.contains(*e)));
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const P7: &[u8] = include_bytes!("../../tests/fixtures/pnpm/pnpm-lock-pnpm7.yaml");
    const P8: &[u8] = include_bytes!("../../tests/fixtures/pnpm/pnpm-lock-pnpm8.yaml");
    const P9: &[u8] = include_bytes!("../../tests/fixtures/pnpm/pnpm-lock-pnpm9.yaml");
    const V5_PEERS: &[u8] = include_bytes!("../../tests/fixtures/pnpm/pnpm-lock-v5-peers.yaml");
    const V6_PEERS: &[u8] = include_bytes!("../../tests/fixtures/pnpm/pnpm-lock-v6-peers.yaml");
    const V9_WS: &[u8] = include_bytes!("../../tests/fixtures/pnpm/pnpm-lock-v9-workspace.yaml");
    const V5_AWKWARD: &[u8] = include_bytes!("../../tests/fixtures/pnpm/pnpm-lock-v5-awkward.yaml");
    const V5_EMPTY: &[u8] = include_bytes!("../../tests/fixtures/pnpm/pnpm-lock-v5-empty-packages.yaml");

    fn names(out: &Output) -> Vec<String> {
        out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect()
    }

    #[test]
    fn generated_by_pnpm_7_8_9() {
        for (fixture, label) in [(P7, "5.4"), (P8, "6.0"), (P9, "9.0")] {
            let out = run(&PnpmLock, "pnpm-lock.yaml", fixture).unwrap();
            assert_eq!(
                names(&out),
                [
                    "@babel/helper-plugin-utils@7.24.0",
                    "debug@2.6.9",
                    "is-number@7.0.0",
                    "ms@2.0.0",
                    "ms@2.1.3"
                ],
                "{label}"
            );
            let debug = get(&out, "debug", "2.6.9");
            assert_eq!(debug.direct, Some(true), "{label}");
            assert_eq!(debug.dependencies, ["pkg:npm/ms@2.0.0"], "{label}");
            assert_eq!(get(&out, "ms", "2.0.0").direct, Some(false), "{label}");
            assert_eq!(get(&out, "ms", "2.0.0").scope, Scope::Required, "{label}");
            assert_eq!(get(&out, "ms", "2.1.3").scope, Scope::Dev, "{label}");
            assert_eq!(get(&out, "is-number", "7.0.0").scope, Scope::Optional, "{label}");
            assert_eq!(
                get(&out, "@babel/helper-plugin-utils", "7.24.0").purl,
                "pkg:npm/%40babel/helper-plugin-utils@7.24.0"
            );
        }
    }

    #[test]
    fn v5_peer_suffixes_aliases_and_tarballs() {
        let out = run(&PnpmLock, "pnpm-lock.yaml", V5_PEERS).unwrap();
        assert_eq!(
            names(&out),
            [
                "js-tokens@4.0.0",
                "loose-envify@1.4.0",
                "object-assign@4.1.1",
                "private-pkg@1.0.0",
                "react@17.0.2",
                "react-dom@17.0.2",
                "string-width@4.2.3"
            ]
        );
        let rd = get(&out, "react-dom", "17.0.2");
        assert_eq!(rd.direct, Some(true));
        assert_eq!(
            rd.dependencies,
            ["pkg:npm/loose-envify@1.4.0", "pkg:npm/object-assign@4.1.1", "pkg:npm/react@17.0.2"]
        );
        assert_eq!(get(&out, "string-width", "4.2.3").direct, Some(true));
    }

    #[test]
    fn v6_importers_and_peers() {
        let out = run(&PnpmLock, "pnpm-lock.yaml", V6_PEERS).unwrap();
        assert_eq!(out.packages.len(), 6);
        assert_eq!(get(&out, "react-dom", "18.2.0").direct, Some(true));
        assert_eq!(get(&out, "typescript", "5.4.5").scope, Scope::Dev);
        assert_eq!(get(&out, "scheduler", "0.23.0").direct, Some(false));
        assert!(
            get(&out, "react-dom", "18.2.0").dependencies.contains(&"pkg:npm/scheduler@0.23.0".to_string())
        );
    }

    #[test]
    fn v9_dev_scope_from_graph() {
        let out = run(&PnpmLock, "pnpm-lock.yaml", V9_WS).unwrap();
        assert_eq!(out.packages.len(), 7);
        assert_eq!(get(&out, "typescript", "5.4.5").scope, Scope::Dev);
        // react is a dev dependency of the workspace, but react-dom needs it at run time.
        assert_eq!(get(&out, "react", "18.2.0").scope, Scope::Required);
        assert_eq!(get(&out, "react", "18.2.0").direct, Some(true));
        assert_eq!(get(&out, "js-tokens", "4.0.0").scope, Scope::Required);
        assert_eq!(get(&out, "string-width", "4.2.3").direct, Some(true));
        assert_eq!(get(&out, "loose-envify", "1.4.0").dependencies, ["pkg:npm/js-tokens@4.0.0"]);
    }

    #[test]
    fn importers_are_unnamed_projects() {
        let out = run(&PnpmLock, "web/pnpm-lock.yaml", P7).unwrap();
        assert_eq!(out.projects.len(), 1);
        let root = &out.projects[0];
        assert_eq!((root.package.name.as_str(), root.dir.as_str()), ("", "web"));
        assert_eq!(
            root.package.dependencies,
            [
                "pkg:npm/%40babel/helper-plugin-utils@7.24.0",
                "pkg:npm/debug@2.6.9",
                "pkg:npm/is-number@7.0.0",
                "pkg:npm/ms@2.1.3"
            ]
        );
        let out = run(&PnpmLock, "mono/pnpm-lock.yaml", V9_WS).unwrap();
        let dirs: Vec<&str> = out.projects.iter().map(|p| p.dir.as_str()).collect();
        assert!(dirs.contains(&"mono") && dirs.contains(&"mono/packages/ui"), "{dirs:?}");
        let ui = out.projects.iter().find(|p| p.dir == "mono/packages/ui").unwrap();
        // Peer suffixes stripped, aliases resolved, the `link:` to a sibling workspace left out.
        assert_eq!(
            ui.package.dependencies,
            ["pkg:npm/react-dom@18.2.0", "pkg:npm/react@18.2.0", "pkg:npm/string-width@4.2.3"]
        );
    }

    /// Issue 13: hosts and git paths in 5.x keys, an entry with an empty value, a nameless `file:` entry.
    #[test]
    fn v5_hosts_git_paths_empty_values_and_local_entries() {
        let out = run(&PnpmLock, "pnpm-lock.yaml", V5_AWKWARD).unwrap();
        assert_eq!(
            names(&out),
            ["@foo/bar@1.1.0", "foo@1.1.0", "is-positive@3.1.0", "ms@2.1.3", "tar-dep@2.0.0"]
        );
        let git = get(&out, "is-positive", "3.1.0");
        assert_eq!(
            git.purl,
            "pkg:npm/is-positive@3.1.0?vcs_url=git%2Bhttps:%2F%2Fgithub.com%2Fkevva%2Fis-positive.git%2397edff6f525f192a3f83cea1944765f769ae2678"
        );
        assert_eq!(git.direct, Some(true));
        assert_eq!(
            get(&out, "tar-dep", "2.0.0").metadata["download_url"],
            "https://example.com/tar-dep-2.0.0.tgz"
        );
        assert_eq!(get(&out, "foo", "1.1.0").purl, "pkg:npm/foo@1.1.0");
        assert_eq!(get(&out, "foo", "1.1.0").dependencies, ["pkg:npm/ms@2.1.3"]);
        assert_eq!(get(&out, "@foo/bar", "1.1.0").direct, Some(true));
        assert_eq!(get(&out, "ms", "2.1.3").direct, Some(false));
        // `/foo/bar` has neither a name nor a version: one warning naming the key.
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(out.warnings[0].contains("/foo/bar"));
        let root = &out.projects[0].package;
        assert_eq!(root.dependencies.len(), 4, "{:?}", root.dependencies);
    }

    #[test]
    fn empty_packages_section_is_an_empty_lockfile() {
        let out = run(&PnpmLock, "pnpm-lock.yaml", V5_EMPTY).unwrap();
        assert!(out.packages.is_empty() && out.warnings.is_empty());
        let out = run(
            &PnpmLock,
            "pnpm-lock.yaml",
            b"lockfileVersion: '9.0'\nimporters:\n  .: {}\npackages:\nsnapshots:\n",
        )
        .unwrap();
        assert!(out.packages.is_empty());
    }

    #[test]
    fn malformed() {
        assert!(
            run(&PnpmLock, "pnpm-lock.yaml", b"packages: {}\n").unwrap_err().0.contains("lockfileVersion")
        );
        assert!(run(&PnpmLock, "pnpm-lock.yaml", b"lockfileVersion: '42.0'\n").is_err());
        assert!(run(&PnpmLock, "pnpm-lock.yaml", b"lockfileVersion: 9\npackages: [1, 2]\n").is_err());
        assert!(run(&PnpmLock, "pnpm-lock.yaml", b"lockfileVersion: 9\npackages: {\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&PnpmLock, "pnpm-lock.yaml", V5_PEERS);
        no_panic_on_truncation(&PnpmLock, "pnpm-lock.yaml", V6_PEERS);
        no_panic_on_truncation(&PnpmLock, "pnpm-lock.yaml", V9_WS);
    }
}
