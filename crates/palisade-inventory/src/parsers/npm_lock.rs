//! npm `package-lock.json` and `npm-shrinkwrap.json`, lockfile versions 1, 2 and 3.
//!
//! * v2/v3 have a flat `packages` map keyed by install path (`node_modules/a/node_modules/b`). The root
//!   entry `""`, workspace directories (keys outside `node_modules/`) and `link: true` entries are skipped;
//!   the name comes from `name` (aliases) or else from the last `node_modules/` segment of the key.
//!   `dev` gives [`Scope::Dev`], `optional` and `devOptional` give [`Scope::Optional`]. A package is direct
//!   when it sits at the top of a `node_modules` tree and the root package or a workspace lists it.
//!   Dependencies are resolved the way Node does: the nearest `node_modules` going up from the dependant.
//! * v1 (used when `packages` is absent) has nested `dependencies` objects with `requires`; the same
//!   nearest-scope resolution applies. v1 does not say which packages are direct, so `direct` stays `None`.
//!
//! Local `file:` / `link:` versions are skipped; `npm:name@version` aliases resolve to the real package.
//! Git dependencies: v2/v3 entries carry the package's own `version` and the repository and commit in
//! `resolved`, which becomes the purl qualifier `vcs_url`; a v1 entry has only the git URL as its `version`,
//! which is not a version: the package is reported without one, with the URL and commit as `vcs_url`.
//!
//! Root projects: v2/v3 give the root entry `""` (name and version as `package.json` has them) and each
//! workspace directory as projects; their dependencies are the packages they list, resolved like the others,
//! and the root depends on its workspaces. v1 gives the lockfile's top-level `name` and `version`, without
//! dependencies (v1 does not say which are direct). A root without a name is named by the `package.json`
//! beside the lockfile.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser, Project, join_dir, parent_dir};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Parser for npm `package-lock.json` / `npm-shrinkwrap.json` (id `npm-package-lock`).
pub struct NpmPackageLock;

#[derive(Deserialize)]
struct Lockfile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default, rename = "lockfileVersion")]
    lockfile_version: Option<serde_json::Value>,
    #[serde(default)]
    packages: Option<BTreeMap<String, V2Package>>,
    #[serde(default)]
    dependencies: Option<BTreeMap<String, V1Dependency>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V2Package {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    link: bool,
    dev: bool,
    optional: bool,
    #[serde(rename = "devOptional")]
    dev_optional: bool,
    license: Option<serde_json::Value>,
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "peerDependencies")]
    peer_dependencies: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V1Dependency {
    version: Option<String>,
    dev: bool,
    optional: bool,
    requires: BTreeMap<String, serde_json::Value>,
    dependencies: BTreeMap<String, V1Dependency>,
}

impl Parser for NpmPackageLock {
    fn id(&self) -> &'static str {
        "npm-package-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["package-lock.json", "npm-shrinkwrap.json"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lockfile = serde_json::from_slice(input.data)?;
        let mut set = PackageSet::new();
        match (lock.packages, lock.dependencies) {
            (Some(packages), _) => {
                parse_v2(self.id(), input, &packages, &mut set, out);
                v2_projects(self.id(), input, &packages, (lock.name, lock.version), out);
            }
            (None, Some(deps)) => {
                parse_v1(self.id(), input, &deps, &mut set, out);
                let name = lock.name.unwrap_or_default();
                let version = lock.version.unwrap_or_default();
                let root = Package::new(Ecosystem::Npm, name, version, input.location(), self.id());
                out.projects.push(Project::new(root, parent_dir(input.path)));
            }
            (None, None) => {
                let v = lock.lockfile_version.map(|v| v.to_string()).unwrap_or_else(|| "none".into());
                return Err(ParseError::new(format!(
                    "neither `packages` nor `dependencies` present (lockfileVersion {v})"
                )));
            }
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

/// The package name from a v2 key: whatever follows the last `node_modules/`.
fn name_from_key(key: &str) -> Option<&str> {
    let idx = key.rfind("node_modules/")?;
    let name = &key[idx + "node_modules/".len()..];
    (!name.is_empty()).then_some(name)
}

/// Split `npm:real-name@1.2.3` into the real name and version.
fn split_alias(version: &str) -> Option<(&str, &str)> {
    let rest = version.strip_prefix("npm:")?;
    let at = rest.get(1..)?.rfind('@')? + 1;
    Some((&rest[..at], &rest[at + 1..]))
}

/// A git dependency's repository and commit as a purl `vcs_url` (`git+https://github.com/o/r.git#<sha>`), or
/// `None` for anything that is not git.
fn git_url(spec: &str) -> Option<String> {
    if let Some(rest) = spec.strip_prefix("github:") {
        let (repo, commit) = rest.split_once('#').unwrap_or((rest, ""));
        let url = format!("git+https://github.com/{repo}.git");
        return Some(if commit.is_empty() { url } else { format!("{url}#{commit}") });
    }
    let git = spec.starts_with("git+") || spec.starts_with("git://") || spec.starts_with("git@");
    git.then(|| if spec.starts_with("git+") { spec.to_string() } else { format!("git+{spec}") })
}

/// True for versions that are not registry packages (local folders and links).
fn is_local(version: &str) -> bool {
    version.starts_with("file:") || version.starts_with("link:")
}

/// Read a `license` value: an SPDX string or the legacy `{ "type": "MIT" }` object.
pub(crate) fn license_value(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Object(o) => o.get("type").and_then(|t| t.as_str()).map(|s| s.trim().to_string()),
        _ => None,
    }
}

fn parse_v2(
    id: &str,
    input: &Input,
    packages: &BTreeMap<String, V2Package>,
    set: &mut PackageSet,
    out: &mut Output,
) {
    // Names the project itself asks for: the root package and every workspace directory.
    let mut direct_names = BTreeSet::new();
    for (key, p) in packages {
        if key.is_empty() || !key.contains("node_modules/") {
            for deps in [&p.dependencies, &p.dev_dependencies, &p.optional_dependencies, &p.peer_dependencies]
            {
                direct_names.extend(deps.keys().cloned());
            }
        }
    }
    // Resolve each key to (name, version) once, for dependency lookups.
    let resolved = resolved_v2(packages);
    for (key, p) in packages {
        if key.is_empty() || p.link || !key.contains("node_modules/") {
            continue;
        }
        let Some((name, version)) = resolved.get(key.as_str()) else {
            out.warnings.push(format!("{key}: no usable version, skipped"));
            continue;
        };
        let mut pkg = Package::new(Ecosystem::Npm, name, version, input.location(), id);
        if let Some(url) = p.resolved.as_deref().and_then(git_url) {
            pkg.purl =
                palisade_core::package::build_purl(Ecosystem::Npm, name, version, &[("vcs_url", &url)]);
            pkg.metadata.insert("vcs_url".into(), url);
        }
        pkg.scope = if p.dev_optional || p.optional {
            Scope::Optional
        } else if p.dev {
            Scope::Dev
        } else {
            Scope::Required
        };
        let key_name = name_from_key(key).unwrap_or_default();
        let top_level = key.matches("node_modules/").count() == 1;
        pkg.direct = Some(top_level && direct_names.contains(key_name));
        pkg.licenses.extend(p.license.as_ref().and_then(license_value));
        for dep in
            p.dependencies.keys().chain(p.optional_dependencies.keys()).chain(p.peer_dependencies.keys())
        {
            if let Some((n, v)) = resolve_v2(key, dep, &resolved) {
                pkg.dependencies.push(purl(Ecosystem::Npm, n, v));
            }
        }
        set.add(pkg);
    }
}

/// The root entry and the workspace directories of a v2/v3 lockfile as projects. `top` is the lockfile's own
/// `name` and `version`, used when the root entry lacks them.
fn v2_projects(
    id: &str,
    input: &Input,
    packages: &BTreeMap<String, V2Package>,
    top: (Option<String>, Option<String>),
    out: &mut Output,
) {
    let resolved = resolved_v2(packages);
    let lock_dir = parent_dir(input.path);
    // Workspace directories and their purls, for the links that point at them.
    let workspace_purl = |key: &str| {
        let p = packages.get(key)?;
        let name = p.name.as_deref().filter(|n| !n.is_empty())?;
        Some(purl(Ecosystem::Npm, name, p.version.as_deref().unwrap_or_default()))
    };
    let workspaces: Vec<String> = packages
        .iter()
        .filter(|(k, p)| !k.is_empty() && !k.contains("node_modules/") && !p.link)
        .filter_map(|(k, _)| workspace_purl(k))
        .collect();
    for (key, p) in packages {
        if p.link || (!key.is_empty() && key.contains("node_modules/")) {
            continue;
        }
        let (name, version) = if key.is_empty() {
            (p.name.clone().or(top.0.clone()), p.version.clone().or(top.1.clone()))
        } else {
            (p.name.clone(), p.version.clone())
        };
        let mut project = Package::new(
            Ecosystem::Npm,
            name.unwrap_or_default(),
            version.unwrap_or_default(),
            input.location(),
            id,
        );
        for dep in p
            .dependencies
            .keys()
            .chain(p.dev_dependencies.keys())
            .chain(p.optional_dependencies.keys())
            .chain(p.peer_dependencies.keys())
        {
            if let Some((n, v)) = resolve_v2(key, dep, &resolved) {
                project.dependencies.push(purl(Ecosystem::Npm, n, v));
            } else if let Some(target) = packages
                .get(&format!("node_modules/{dep}"))
                .filter(|l| l.link)
                .and_then(|l| l.resolved.as_deref())
                .and_then(workspace_purl)
            {
                project.dependencies.push(target);
            }
        }
        if key.is_empty() {
            project.dependencies.extend(workspaces.iter().cloned());
        }
        project.dependencies.sort();
        project.dependencies.dedup();
        out.projects.push(Project::new(project, join_dir(lock_dir, key)));
    }
}

/// Each non-link key with a usable version, resolved to (name, version).
fn resolved_v2(packages: &BTreeMap<String, V2Package>) -> BTreeMap<&str, (String, String)> {
    let mut resolved: BTreeMap<&str, (String, String)> = BTreeMap::new();
    for (key, p) in packages {
        if p.link {
            continue;
        }
        let Some(key_name) = name_from_key(key) else { continue };
        let Some(version) = p.version.as_deref().filter(|v| !v.is_empty() && !is_local(v)) else {
            continue;
        };
        let (name, version) = match split_alias(version) {
            Some((n, v)) => (n.to_string(), v.to_string()),
            None => (p.name.clone().unwrap_or_else(|| key_name.to_string()), version.to_string()),
        };
        resolved.insert(key.as_str(), (name, version));
    }
    resolved
}

/// Node's lookup: `<key>/node_modules/<dep>`, then each ancestor `node_modules`, then the root.
fn resolve_v2<'a>(
    from: &str,
    dep: &str,
    resolved: &'a BTreeMap<&str, (String, String)>,
) -> Option<&'a (String, String)> {
    let mut base = from.to_string();
    loop {
        let candidate = if base.is_empty() {
            format!("node_modules/{dep}")
        } else {
            format!("{base}/node_modules/{dep}")
        };
        if let Some(r) = resolved.get(candidate.as_str()) {
            return Some(r);
        }
        if base.is_empty() {
            return None;
        }
        // Drop the last `node_modules/<name>` (scoped names have two segments).
        base = match base.rfind("node_modules/") {
            Some(i) => base[..i].trim_end_matches('/').to_string(),
            None => String::new(),
        };
    }
}

fn parse_v1(
    id: &str,
    input: &Input,
    deps: &BTreeMap<String, V1Dependency>,
    set: &mut PackageSet,
    out: &mut Output,
) {
    let mut scopes: Vec<&BTreeMap<String, V1Dependency>> = vec![deps];
    walk_v1(id, input, deps, &mut scopes, set, out, 0);
}

/// Nesting deeper than this is treated as hostile and not followed.
const MAX_V1_DEPTH: usize = 200;

fn v1_name_version<'a>(name: &'a str, d: &'a V1Dependency) -> Option<(&'a str, &'a str)> {
    let version = d.version.as_deref().filter(|v| !v.is_empty() && !is_local(v))?;
    if git_url(version).is_some() {
        return Some((name, ""));
    }
    Some(split_alias(version).unwrap_or((name, version)))
}

/// The purl of a v1 entry: a git entry has no version, its repository and commit as `vcs_url`.
fn v1_purl(name: &str, version: &str, d: &V1Dependency) -> String {
    match d.version.as_deref().and_then(git_url) {
        Some(url) => palisade_core::package::build_purl(Ecosystem::Npm, name, version, &[("vcs_url", &url)]),
        None => purl(Ecosystem::Npm, name, version),
    }
}

fn walk_v1<'a>(
    id: &str,
    input: &Input,
    deps: &'a BTreeMap<String, V1Dependency>,
    scopes: &mut Vec<&'a BTreeMap<String, V1Dependency>>,
    set: &mut PackageSet,
    out: &mut Output,
    depth: usize,
) {
    if depth > MAX_V1_DEPTH {
        out.warnings.push(format!("dependencies nested deeper than {MAX_V1_DEPTH} levels, rest skipped"));
        return;
    }
    for (name, d) in deps {
        let Some((real_name, version)) = v1_name_version(name, d) else {
            continue;
        };
        let mut pkg = Package::new(Ecosystem::Npm, real_name, version, input.location(), id);
        if let Some(url) = d.version.as_deref().and_then(git_url) {
            pkg.purl = v1_purl(real_name, version, d);
            pkg.metadata.insert("vcs_url".into(), url);
        }
        pkg.scope = if d.optional {
            Scope::Optional
        } else if d.dev {
            Scope::Dev
        } else {
            Scope::Required
        };
        for req in d.requires.keys() {
            // Nearest scope first: this package's own nested dependencies, then its ancestors'.
            let found = std::iter::once(&d.dependencies)
                .chain(scopes.iter().rev().copied())
                .find_map(|s| s.get(req).and_then(|r| Some((v1_name_version(req, r)?, r))));
            if let Some(((n, v), r)) = found {
                pkg.dependencies.push(v1_purl(n, v, r));
            }
        }
        set.add(pkg);
        if !d.dependencies.is_empty() {
            scopes.push(&d.dependencies);
            walk_v1(id, input, &d.dependencies, scopes, set, out, depth + 1);
            scopes.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const V3: &[u8] = include_bytes!("../../tests/fixtures/npm/package-lock-v3.json");
    const V1: &[u8] = include_bytes!("../../tests/fixtures/npm/package-lock-v1.json");
    const V2_WS: &[u8] = include_bytes!("../../tests/fixtures/npm/package-lock-v2-workspaces.json");
    const V1_GIT: &[u8] = include_bytes!("../../tests/fixtures/npm/package-lock-v1-git.json");

    /// Issue 13: a v1 git dependency's URL is not its version.
    #[test]
    fn v1_git_dependencies() {
        let out = run(&NpmPackageLock, "package-lock.json", V1_GIT).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(names, ["is-positive@", "left-pad@", "ms@2.1.3"]);
        let git = get(&out, "is-positive", "");
        assert_eq!(
            git.metadata["vcs_url"],
            "git+https://github.com/kevva/is-positive.git#97edff6f525f192a3f83cea1944765f769ae2678"
        );
        assert!(git.purl.starts_with("pkg:npm/is-positive?vcs_url=git%2Bhttps"), "{}", git.purl);
        assert_eq!(git.dependencies, ["pkg:npm/ms@2.1.3"]);
        assert_eq!(
            get(&out, "left-pad", "").metadata["vcs_url"],
            "git+https://github.com/left-pad/left-pad.git#5e5a8d8a2c4f4fbbfb6ab6b4e5bd6d4b8e0c1f2a"
        );
        assert!(!out.packages.iter().any(|p| p.version.contains("git")));
    }

    #[test]
    fn v3_generated_by_npm() {
        let out = run(&NpmPackageLock, "app/package-lock.json", V3).unwrap();
        assert_eq!(out.packages.len(), 5);
        let debug = get(&out, "debug", "2.6.9");
        assert_eq!(debug.scope, Scope::Required);
        assert_eq!(debug.direct, Some(true));
        assert_eq!(debug.licenses, ["MIT"]);
        // debug needs ms 2.0.0 (nested copy), not the hoisted dev ms 2.1.3.
        assert_eq!(debug.dependencies, ["pkg:npm/ms@2.0.0"]);
        let nested_ms = get(&out, "ms", "2.0.0");
        assert_eq!(nested_ms.direct, Some(false));
        assert_eq!(get(&out, "ms", "2.1.3").scope, Scope::Dev);
        assert_eq!(get(&out, "is-number", "7.0.0").scope, Scope::Optional);
        let babel = get(&out, "@babel/helper-plugin-utils", "7.24.0");
        assert_eq!(babel.purl, "pkg:npm/%40babel/helper-plugin-utils@7.24.0");
        assert_eq!(babel.found_by, "npm-package-lock");
        assert_eq!(babel.locations[0].path, "app/package-lock.json");
    }

    #[test]
    fn v1_nested_dependencies() {
        let out = run(&NpmPackageLock, "package-lock.json", V1).unwrap();
        assert_eq!(out.packages.len(), 5);
        assert_eq!(get(&out, "debug", "2.6.9").dependencies, ["pkg:npm/ms@2.0.0"]);
        assert_eq!(get(&out, "ms", "2.1.3").scope, Scope::Dev);
        assert_eq!(get(&out, "is-number", "7.0.0").scope, Scope::Optional);
        assert!(out.packages.iter().all(|p| p.direct.is_none()));
    }

    #[test]
    fn v2_workspaces_links_aliases() {
        let out = run(&NpmPackageLock, "package-lock.json", V2_WS).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "emoji-regex@8.0.0",
                "fsevents@2.3.3",
                "lodash@4.17.20",
                "loose-envify@1.4.0",
                "react@18.2.0",
                "string-width@4.2.3",
                "typescript@5.4.5"
            ]
        );
        // The alias resolves to the real package, and is direct through its alias name.
        let sw = get(&out, "string-width", "4.2.3");
        assert_eq!(sw.direct, Some(true));
        assert_eq!(sw.dependencies, ["pkg:npm/emoji-regex@8.0.0"]);
        assert_eq!(get(&out, "typescript", "5.4.5").scope, Scope::Dev);
        assert_eq!(get(&out, "typescript", "5.4.5").licenses, ["Apache-2.0"]);
        assert_eq!(get(&out, "fsevents", "2.3.3").scope, Scope::Optional);
        // react is nested under a workspace directory: listed by the workspace but not top-level.
        let react = get(&out, "react", "18.2.0");
        assert_eq!(react.dependencies, ["pkg:npm/loose-envify@1.4.0"]);
        assert_eq!(get(&out, "emoji-regex", "8.0.0").direct, Some(false));
    }

    #[test]
    fn root_projects() {
        let out = run(&NpmPackageLock, "app/package-lock.json", V3).unwrap();
        assert_eq!(out.projects.len(), 1);
        let root = &out.projects[0];
        assert_eq!(root.dir, "app");
        assert_eq!((root.package.name.as_str(), root.package.version.as_str()), ("fixture-app", "1.0.0"));
        assert_eq!(root.package.purl, "pkg:npm/fixture-app@1.0.0");
        // Every kind of direct dependency, resolved to the locked version; the root is not a package.
        assert_eq!(
            root.package.dependencies,
            [
                "pkg:npm/%40babel/helper-plugin-utils@7.24.0",
                "pkg:npm/debug@2.6.9",
                "pkg:npm/is-number@7.0.0",
                "pkg:npm/ms@2.1.3"
            ]
        );
        assert!(!out.packages.iter().any(|p| p.name == "fixture-app"));

        let out = run(&NpmPackageLock, "package-lock.json", V2_WS).unwrap();
        let names: Vec<_> = out.projects.iter().map(|p| (p.package.name.as_str(), p.dir.as_str())).collect();
        assert_eq!(names, [("monorepo", ""), ("@acme/web", "packages/web")]);
        let root = &out.projects[0].package;
        // The aliased dependency resolves to the real package; the workspace is a dependency of the root.
        assert_eq!(
            root.dependencies,
            [
                "pkg:npm/%40acme/web@1.2.0",
                "pkg:npm/lodash@4.17.20",
                "pkg:npm/string-width@4.2.3",
                "pkg:npm/typescript@5.4.5"
            ]
        );
        // The workspace's own dependencies resolve from its directory (its nested react).
        assert_eq!(out.projects[1].package.dependencies, ["pkg:npm/fsevents@2.3.3", "pkg:npm/react@18.2.0"]);

        let out = run(&NpmPackageLock, "web/package-lock.json", V1).unwrap();
        assert_eq!(out.projects.len(), 1);
        assert_eq!(out.projects[0].package.purl, "pkg:npm/fixture-app@1.0.0");
        assert_eq!(out.projects[0].dir, "web");
        assert!(out.projects[0].package.dependencies.is_empty(), "v1 does not say what is direct");

        // No name anywhere: an unnamed project, for the package.json beside it to name.
        let out = run(
            &NpmPackageLock,
            "srv/package-lock.json",
            br#"{"lockfileVersion": 3, "packages": {"": {"dependencies": {"x": "1"}},
                "node_modules/x": {"version": "1.0.0"}}}"#,
        )
        .unwrap();
        assert_eq!(out.projects[0].package.name, "");
        assert_eq!(out.projects[0].package.dependencies, ["pkg:npm/x@1.0.0"]);
        assert_eq!(out.projects[0].dir, "srv");
    }

    #[test]
    fn malformed() {
        let e = run(&NpmPackageLock, "package-lock.json", b"{\"lockfileVersion\": 3}").unwrap_err();
        assert!(e.0.contains("neither"), "{e}");
        assert!(run(&NpmPackageLock, "package-lock.json", b"{\"packages\": []}").is_err());
        assert!(run(&NpmPackageLock, "package-lock.json", b"[1,2").is_err());
        let out = run(
            &NpmPackageLock,
            "package-lock.json",
            br#"{"packages": {"node_modules/x": {"version": "file:../x"}, "node_modules/y": {}}}"#,
        )
        .unwrap();
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 2);
    }

    #[test]
    fn wants_names() {
        let meta = |path| FileMeta { path, size: 10, mode: 0o644, layer: None };
        assert!(NpmPackageLock.wants(&meta("app/package-lock.json")));
        assert!(NpmPackageLock.wants(&meta("app/node_modules/x/npm-shrinkwrap.json")));
        assert!(!NpmPackageLock.wants(&meta("app/package.json")));
        let big = FileMeta { path: "package-lock.json", size: 65 * 1024 * 1024, mode: 0, layer: None };
        assert!(!NpmPackageLock.wants(&big));
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&NpmPackageLock, "package-lock.json", V3);
        no_panic_on_truncation(&NpmPackageLock, "package-lock.json", V1);
        no_panic_on_truncation(&NpmPackageLock, "package-lock.json", V2_WS);
    }
}
