//! Conan `conan.lock`, both formats.
//!
//! * Conan 2 (`"version": "0.5"`): `requires`, `build_requires` and `python_requires` are lists of
//!   references `name/version[@user/channel][#revision[%timestamp]]`.
//! * Conan 1 (`graph_lock.nodes`, lockfile versions 0.4 and before): a graph of nodes with `ref`, `requires`
//!   and `build_requires` (node ids); node `"0"` is the consumer (the project itself) and is skipped.
//!
//! Build and python requirements (tools used to build, not linked) are [`Scope::Dev`]. In Conan 1 the
//! consumer's requirements are direct and each node's requirements become its dependencies.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Parser for `conan.lock` (id `conan-lock`).
pub struct ConanLock;

#[derive(Deserialize)]
struct Lock {
    version: Option<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    build_requires: Vec<String>,
    #[serde(default)]
    python_requires: Vec<String>,
    graph_lock: Option<GraphLock>,
}

#[derive(Deserialize)]
struct GraphLock {
    #[serde(default)]
    nodes: BTreeMap<String, Node>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Node {
    #[serde(rename = "ref")]
    reference: Option<String>,
    requires: Vec<String>,
    build_requires: Vec<String>,
}

/// `zlib/1.2.13@user/channel#rev%ts` → (`zlib`, `1.2.13`).
fn split_ref(r: &str) -> Option<(&str, &str)> {
    let r = r.split(['#', '@']).next()?;
    let (name, version) = r.split_once('/')?;
    (!name.is_empty() && !version.is_empty()).then_some((name, version))
}

impl Parser for ConanLock {
    fn id(&self) -> &'static str {
        "conan-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["conan.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = serde_json::from_slice(input.data)?;
        let mut set = PackageSet::new();
        let mut add = |r: &str, scope: Scope, direct: Option<bool>, deps: Vec<String>, out: &mut Output| {
            let Some((name, version)) = split_ref(r) else {
                out.warnings.push(format!("reference {r:?} is not `name/version`; skipped"));
                return;
            };
            let mut pkg = Package::new(Ecosystem::Conan, name, version, input.location(), "conan-lock");
            pkg.scope = scope;
            pkg.direct = direct;
            pkg.dependencies = deps;
            set.add(pkg);
        };
        match (lock.graph_lock, lock.version) {
            (Some(graph), _) => {
                let nodes = &graph.nodes;
                let node_purl = |id: &String| {
                    let (n, v) = split_ref(nodes.get(id)?.reference.as_deref()?)?;
                    Some(purl(Ecosystem::Conan, n, v))
                };
                let root = nodes.get("0");
                for (id, node) in nodes {
                    let Some(r) = node.reference.as_deref().filter(|_| id != "0") else { continue };
                    let is_build = nodes.values().any(|n| n.build_requires.contains(id))
                        && !nodes.values().any(|n| n.requires.contains(id));
                    let direct = root.map(|r| r.requires.contains(id) || r.build_requires.contains(id));
                    let deps = node.requires.iter().filter_map(node_purl).collect();
                    add(r, if is_build { Scope::Dev } else { Scope::Required }, direct, deps, out);
                }
            }
            (None, Some(_)) => {
                for r in &lock.requires {
                    add(r, Scope::Required, None, Vec::new(), out);
                }
                for r in lock.build_requires.iter().chain(&lock.python_requires) {
                    add(r, Scope::Dev, None, Vec::new(), out);
                }
            }
            (None, None) => return Err(ParseError::new("no `version` or `graph_lock`: not a conan.lock")),
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const V2: &[u8] = include_bytes!("../../tests/fixtures/conan/conan.lock");
    const V1: &[u8] = include_bytes!("../../tests/fixtures/conan/conan-v1.lock");

    #[test]
    fn conan_2() {
        let out = run(&ConanLock, "conan.lock", V2).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(names, ["cmake@3.27.7", "openssl@3.2.0", "zlib@1.3"]);
        assert_eq!(get(&out, "openssl", "3.2.0").purl, "pkg:conan/openssl@3.2.0");
        assert_eq!(get(&out, "cmake", "3.27.7").scope, Scope::Dev);
    }

    #[test]
    fn conan_1_graph() {
        let out = run(&ConanLock, "conan.lock", V1).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(names, ["cmake@3.25.0", "openssl@1.1.1w", "zlib@1.2.13"]);
        let ssl = get(&out, "openssl", "1.1.1w");
        assert_eq!(
            (ssl.direct, ssl.dependencies.as_slice()),
            (Some(true), &["pkg:conan/zlib@1.2.13".to_string()][..])
        );
        assert_eq!(get(&out, "zlib", "1.2.13").direct, Some(false));
        assert_eq!(get(&out, "cmake", "3.25.0").scope, Scope::Dev);
    }

    #[test]
    fn malformed() {
        assert!(run(&ConanLock, "conan.lock", b"{}").is_err());
        assert!(run(&ConanLock, "conan.lock", b"hello").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&ConanLock, "conan.lock", V1);
    }
}
