//! Bun `bun.lock` (text lockfile, Bun 1.2+): JSON with trailing commas.
//!
//! `workspaces` maps each workspace directory (`""` is the root) to its `name` and `dependencies`,
//! `devDependencies`, `optionalDependencies`; `packages` maps an install path (`ms`, `debug/ms` for a copy
//! nested under `debug`, `@scope/name`) to an array whose first element is the resolution `name@version`
//! and whose third holds the package's own `dependencies`. Dependencies resolve as Node does: the nearest
//! install path going up from the dependant. Workspace (`name@workspace:...`), `file:` and `link:`
//! resolutions are the project's own and are skipped; a `github:`/`git+` resolution keeps the name and says
//! where it comes from in the purl qualifier `vcs_url`, without a version. Packages not reachable from the
//! `dependencies` are [`Scope::Optional`] when reachable from `optionalDependencies`, else [`Scope::Dev`]
//! when reachable from `devDependencies`; what the workspaces list is direct. The binary `bun.lockb` is
//! not read (it is listed as not inventoried, see [`super::not_inventoried`]).

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope, package::build_purl};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Parser for `bun.lock` (id `bun-lock`).
pub struct BunLock;

#[derive(Deserialize)]
struct Lock {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<serde_json::Value>,
    #[serde(default)]
    workspaces: BTreeMap<String, Workspace>,
    #[serde(default)]
    packages: BTreeMap<String, Vec<serde_json::Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Workspace {
    dependencies: BTreeMap<String, String>,
    #[serde(rename = "devDependencies")]
    dev_dependencies: BTreeMap<String, String>,
    #[serde(rename = "optionalDependencies")]
    optional_dependencies: BTreeMap<String, String>,
}

/// JSON with trailing commas (and `//` comments) → JSON: comments, then trailing commas, removed outside
/// strings.
fn strip_jsonc(text: &str) -> String {
    let no_comments = rewrite_outside_strings(text, |rest| {
        rest.starts_with("//").then(|| rest.find('\n').unwrap_or(rest.len()))
    });
    rewrite_outside_strings(&no_comments, |rest| {
        let next = rest.strip_prefix(',')?.trim_start();
        (next.starts_with('}') || next.starts_with(']')).then_some(1)
    })
}

/// Copy `text`, letting `skip` drop a number of bytes at any position outside a JSON string.
fn rewrite_outside_strings(text: &str, skip: impl Fn(&str) -> Option<usize>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if !in_string && let Some(n) = skip(rest) {
            i += n.max(1);
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// (name, version, vcs qualifier) of a resolution `name@version`; `None` for the project's own packages.
fn resolution(res: &str) -> Option<(String, String, Option<String>)> {
    let at = res.get(1..)?.find('@')? + 1;
    let (name, spec) = (&res[..at], &res[at + 1..]);
    if ["workspace:", "file:", "link:", "portal:"].iter().any(|p| spec.starts_with(p)) {
        return None;
    }
    if let Some(rest) = spec.strip_prefix("github:") {
        let (repo, commit) = rest.split_once('#').unwrap_or((rest, ""));
        let url = format!("git+https://github.com/{repo}.git");
        let vcs = if commit.is_empty() { url } else { format!("{url}#{commit}") };
        return Some((name.to_string(), String::new(), Some(vcs)));
    }
    if spec.starts_with("git+") || spec.starts_with("git@") {
        return Some((name.to_string(), String::new(), Some(spec.to_string())));
    }
    let version = spec.strip_prefix("npm:").unwrap_or(spec);
    Some((name.to_string(), version.to_string(), None))
}

/// Node's lookup from an install path: `<from>/<dep>`, then each parent, then `<dep>`.
fn lookup<'k>(from: &str, dep: &str, keys: &BTreeSet<&'k str>) -> Option<&'k str> {
    let mut base = from.to_string();
    loop {
        let candidate = if base.is_empty() { dep.to_string() } else { format!("{base}/{dep}") };
        if let Some(k) = keys.get(candidate.as_str()) {
            return Some(*k);
        }
        if base.is_empty() {
            return None;
        }
        // Drop the last package name (two segments when scoped).
        let mut parts: Vec<&str> = base.split('/').collect();
        parts.pop();
        if parts.last().is_some_and(|p| p.starts_with('@')) {
            parts.pop();
        }
        base = parts.join("/");
    }
}

/// The install paths a package's dependencies resolve to.
fn deps_of<'k>(lock: &Lock, keys: &BTreeSet<&'k str>, key: &str) -> Vec<&'k str> {
    let Some(meta) = lock.packages.get(key).and_then(|v| v.get(2)).and_then(|m| m.as_object()) else {
        return Vec::new();
    };
    ["dependencies", "optionalDependencies", "peerDependencies"]
        .iter()
        .filter_map(|f| meta.get(*f).and_then(|d| d.as_object()))
        .flat_map(|d| d.keys())
        .filter_map(|d| lookup(key, d, keys))
        .collect()
}

/// Every install path reachable from `roots`.
fn reach<'k>(roots: &[&'k str], deps_of: &dyn Fn(&str) -> Vec<&'k str>) -> BTreeSet<&'k str> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut stack: Vec<&str> = roots.to_vec();
    while let Some(k) = stack.pop() {
        if seen.insert(k) {
            stack.extend(deps_of(k));
        }
    }
    seen
}

impl Parser for BunLock {
    fn id(&self) -> &'static str {
        "bun-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["bun.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = serde_json::from_str(&strip_jsonc(input.text()?))?;
        if lock.lockfile_version.is_none() {
            return Err(ParseError::new("no lockfileVersion: not a bun.lock"));
        }
        let keys: BTreeSet<&str> = lock.packages.keys().map(String::as_str).collect();
        let resolved: BTreeMap<&str, (String, String, Option<String>)> = lock
            .packages
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), resolution(v.first()?.as_str()?)?)))
            .collect();
        let deps_of = |key: &str| deps_of(&lock, &keys, key);
        let mut prod_roots = Vec::new();
        let mut optional_roots = Vec::new();
        let mut dev_roots = Vec::new();
        for ws in lock.workspaces.values() {
            for d in ws.dependencies.keys() {
                prod_roots.extend(keys.get(d.as_str()).copied());
            }
            for d in ws.optional_dependencies.keys() {
                optional_roots.extend(keys.get(d.as_str()).copied());
            }
            for d in ws.dev_dependencies.keys() {
                dev_roots.extend(keys.get(d.as_str()).copied());
            }
        }
        let prod = reach(&prod_roots, &deps_of);
        let optional = reach(&optional_roots, &deps_of);
        let dev = reach(&dev_roots, &deps_of);
        let direct: BTreeSet<&str> =
            prod_roots.iter().chain(&optional_roots).chain(&dev_roots).copied().collect();
        let key_purl = |k: &str| {
            let (n, v, q) = resolved.get(k)?;
            Some(match q {
                Some(q) => build_purl(Ecosystem::Npm, n, v, &[("vcs_url", q)]),
                None => purl(Ecosystem::Npm, n, v),
            })
        };
        let mut set = PackageSet::new();
        for (key, (name, version, vcs)) in &resolved {
            let mut pkg = Package::new(Ecosystem::Npm, name, version, input.location(), self.id());
            if let Some(q) = vcs {
                pkg.purl = build_purl(Ecosystem::Npm, name, version, &[("vcs_url", q)]);
                pkg.metadata.insert("vcs_url".into(), q.clone());
            }
            pkg.direct = Some(direct.contains(key));
            if !prod.contains(key) {
                if optional.contains(key) {
                    pkg.scope = Scope::Optional;
                } else if dev.contains(key) {
                    pkg.scope = Scope::Dev;
                }
            }
            pkg.dependencies = deps_of(key).into_iter().filter_map(key_purl).collect();
            set.add(pkg);
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/bun/bun.lock");

    #[test]
    fn workspaces_nested_copies_and_dev_scope() {
        let out = run(&BunLock, "bun.lock", LOCK).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "@types/node@20.11.5",
                "debug@2.6.9",
                "is-positive@",
                "ms@2.0.0",
                "ms@2.1.3",
                "undici-types@5.26.5"
            ]
        );
        let debug = get(&out, "debug", "2.6.9");
        assert_eq!(debug.direct, Some(true));
        assert_eq!(debug.dependencies, ["pkg:npm/ms@2.0.0"], "the nested copy, not the hoisted one");
        assert_eq!(get(&out, "@types/node", "20.11.5").scope, Scope::Dev);
        assert_eq!(get(&out, "undici-types", "5.26.5").scope, Scope::Dev);
        assert_eq!(get(&out, "ms", "2.1.3").scope, Scope::Required);
        assert!(
            get(&out, "is-positive", "").metadata["vcs_url"]
                .contains("github.com/kevva/is-positive.git#97edff6")
        );
    }

    #[test]
    fn malformed() {
        assert!(run(&BunLock, "bun.lock", b"hello").is_err());
        assert!(run(&BunLock, "bun.lock", b"{}").is_err());
        assert_eq!(
            strip_jsonc("{\"a\": [1, 2,], \"b,\": \"x\", // c\n}"),
            "{\"a\": [1, 2], \"b,\": \"x\" \n}"
        );
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&BunLock, "bun.lock", LOCK);
    }
}
