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
//! Root projects: each importer (or the single project of 5.x/6.x) is a project depending on what it lists.
//! The lockfile does not name them: the `package.json` in the importer's directory does.

use super::lang_common::{PackageSet, purl, wants_name, yaml_options};
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
    importers: BTreeMap<String, Importer>,
    #[serde(flatten)]
    root: Importer,
    packages: BTreeMap<String, PackageEntry>,
    snapshots: BTreeMap<String, Snapshot>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Importer {
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PackageEntry {
    name: Option<String>,
    version: Option<serde_json::Value>,
    dev: Option<bool>,
    optional: bool,
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Snapshot {
    optional: bool,
    dependencies: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "optionalDependencies")]
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

/// (name, version) from a package key, peers stripped.
fn parse_key(key: &str, format: Format) -> Option<NameVersion> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let (name, version) = match format {
        Format::V5 => {
            let (name, version) = key.rsplit_once('/')?;
            (name, version.split('_').next().unwrap_or(version))
        }
        Format::V6 => {
            let key = key.split('(').next().unwrap_or(key);
            let at = key.get(1..)?.rfind('@')? + 1;
            (&key[..at], &key[at + 1..])
        }
    };
    (!name.is_empty() && !version.is_empty()).then(|| (name.to_string(), version.to_string()))
}

/// Resolve a dependency reference (the value in a `dependencies` map) to (name, version).
fn resolve_ref(dep_name: &str, reference: &str, format: Format) -> Option<NameVersion> {
    if reference.starts_with("link:") || reference.starts_with("file:") || reference.is_empty() {
        return None;
    }
    if reference.starts_with('/') {
        return parse_key(reference, format);
    }
    let starts_with_digit = reference.as_bytes().first().is_some_and(u8::is_ascii_digit);
    if !starts_with_digit && reference.contains('@') {
        // 9.x alias: `string-width@4.2.3`.
        return parse_key(reference, Format::V6);
    }
    let version = match format {
        Format::V5 => reference.split('_').next().unwrap_or(reference),
        Format::V6 => reference.split('(').next().unwrap_or(reference),
    };
    Some((dep_name.to_string(), version.to_string()))
}

impl Parser for PnpmLock {
    fn id(&self) -> &'static str {
        "pnpm-lock"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, &["pnpm-lock.yaml"])
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

        // Importers: the root project (5.x/6.x single project) and workspace projects.
        let mut importers: Vec<&Importer> = lock.importers.values().collect();
        importers.push(&lock.root);
        let mut prod_roots = Vec::new();
        let mut dev_roots = Vec::new();
        for imp in &importers {
            for (deps, is_dev) in [
                (&imp.dependencies, false),
                (&imp.optional_dependencies, false),
                (&imp.dev_dependencies, true),
            ] {
                for (n, v) in deps {
                    if let Some(nv) = scalar(v).and_then(|r| resolve_ref(n, &r, format)) {
                        if is_dev { dev_roots.push(nv) } else { prod_roots.push(nv) }
                    }
                }
            }
        }
        let direct: BTreeSet<NameVersion> = prod_roots.iter().chain(&dev_roots).cloned().collect();
        let single = [(".".to_string(), &lock.root)];
        let project_importers: Vec<(&String, &Importer)> = if lock.importers.is_empty() {
            single.iter().map(|(k, i)| (k, *i)).collect()
        } else {
            lock.importers.iter().collect()
        };
        for (dir, imp) in project_importers {
            let mut project = Package::new(Ecosystem::Npm, "", "", input.location(), self.id());
            for deps in [&imp.dependencies, &imp.optional_dependencies, &imp.dev_dependencies] {
                for (n, v) in deps {
                    if let Some((dn, dv)) = scalar(v).and_then(|r| resolve_ref(n, &r, format)) {
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
                    if let Some(nv) = scalar(v).and_then(|r| resolve_ref(n, &r, format)) {
                        edges.insert(nv);
                    }
                }
            }
        };
        for (key, s) in &lock.snapshots {
            if let Some(nv) = parse_key(key, format) {
                let opt = snapshot_optional.entry(nv.clone()).or_insert(true);
                *opt &= s.optional;
                add_edges(nv, &[&s.dependencies, &s.optional_dependencies], &mut graph);
            }
        }
        let mut entries: Vec<(NameVersion, &PackageEntry)> = Vec::new();
        for (key, p) in &lock.packages {
            let from_key = parse_key(key, format);
            let explicit_version = p.version.as_ref().and_then(scalar);
            let nv = match (p.name.clone(), explicit_version, from_key.clone()) {
                (Some(n), Some(v), _) => (n, v),
                (None, Some(v), Some((n, _))) => (n, v),
                (_, _, Some(nv)) => nv,
                _ => {
                    out.warnings.push(format!("package key {key:?}: no name and version, skipped"));
                    continue;
                }
            };
            if lock.snapshots.is_empty() {
                add_edges(nv.clone(), &[&p.dependencies, &p.optional_dependencies], &mut graph);
                // Keys in the graph are what other entries reference: the key form, not `name` fields.
                if let Some(k) = from_key.filter(|k| *k != nv) {
                    add_edges(k, &[&p.dependencies, &p.optional_dependencies], &mut graph);
                }
            }
            entries.push((nv, p));
        }

        let prod = reachable(&graph, &prod_roots);
        let dev = reachable(&graph, &dev_roots);
        let mut set = PackageSet::new();
        for ((name, version), p) in entries {
            let nv = (name, version);
            let mut pkg = Package::new(Ecosystem::Npm, &nv.0, &nv.1, input.location(), self.id());
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
