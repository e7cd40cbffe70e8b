//! Dart and Flutter `pubspec.lock`: `packages.<name>` with `dependency` (`direct main`, `direct dev`,
//! `direct overridden`, `transitive`), `source` (`hosted`, `git`, `path`, `sdk`) and `version`.
//!
//! `direct dev` is [`Scope::Dev`]; `direct ...` are direct. SDK packages (`flutter`, `flutter_test`, shipped
//! with the SDK) and `path` packages (the project's own) are not registry packages and are skipped. A `git`
//! package keeps its `version` and says where it comes from in the purl qualifier `vcs_url` (repository and
//! resolved commit). The lockfile does not record the graph.

use super::lang_common::{PackageSet, nullable, wants_name, yaml_options};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, Scope, package::build_purl};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Parser for `pubspec.lock` (id `pubspec-lock`).
pub struct PubspecLock;

#[derive(Deserialize)]
struct Lock {
    #[serde(default, deserialize_with = "nullable")]
    packages: BTreeMap<String, Option<Entry>>,
    sdks: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Entry {
    dependency: String,
    source: String,
    version: Option<serde_json::Value>,
    description: Option<serde_json::Value>,
}

impl Parser for PubspecLock {
    fn id(&self) -> &'static str {
        "pubspec-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["pubspec.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = serde_saphyr::from_str_with_options(input.text()?, yaml_options())
            .map_err(|e| ParseError::new(format!("invalid pubspec.lock YAML: {e}")))?;
        if lock.packages.is_empty() && lock.sdks.is_none() {
            return Err(ParseError::new("no `packages` or `sdks`: not a pubspec.lock"));
        }
        let mut set = PackageSet::new();
        for (name, entry) in &lock.packages {
            let Some(e) = entry else { continue };
            if e.source == "sdk" || e.source == "path" {
                continue;
            }
            let version = match &e.version {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => {
                    out.warnings.push(format!("package {name}: no version; skipped"));
                    continue;
                }
            };
            let mut pkg = Package::new(Ecosystem::Pub, name, &version, input.location(), self.id());
            pkg.direct = Some(e.dependency.starts_with("direct"));
            if e.dependency == "direct dev" {
                pkg.scope = Scope::Dev;
            }
            if e.source == "git"
                && let Some(d) = e.description.as_ref().and_then(|d| d.as_object())
                && let Some(url) = d.get("url").and_then(|u| u.as_str())
            {
                let commit = d.get("resolved-ref").and_then(|r| r.as_str()).unwrap_or("");
                let url = if url.starts_with("git+") { url.to_string() } else { format!("git+{url}") };
                let vcs = if commit.is_empty() { url } else { format!("{url}#{commit}") };
                pkg.purl = build_purl(Ecosystem::Pub, name, &version, &[("vcs_url", &vcs)]);
                pkg.metadata.insert("vcs_url".into(), vcs);
            }
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

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/dart/pubspec.lock");

    #[test]
    fn hosted_git_dev_and_sdk_packages() {
        let out = run(&PubspecLock, "app/pubspec.lock", LOCK).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(names, ["collection@1.18.0", "http@1.1.0", "lints@3.0.0", "my_fork@0.2.0", "path@1.9.0"]);
        assert_eq!(get(&out, "http", "1.1.0").purl, "pkg:pub/http@1.1.0");
        assert_eq!(get(&out, "http", "1.1.0").direct, Some(true));
        assert_eq!(get(&out, "collection", "1.18.0").direct, Some(false));
        assert_eq!(get(&out, "lints", "3.0.0").scope, Scope::Dev);
        assert!(
            get(&out, "my_fork", "0.2.0").metadata["vcs_url"]
                .ends_with("#4f7a5c1e9b2d3a6f8c0e1d2b3a4c5d6e7f8091a2")
        );
    }

    #[test]
    fn malformed() {
        assert!(run(&PubspecLock, "pubspec.lock", b"hello world\n").is_err());
        assert!(run(&PubspecLock, "pubspec.lock", b"packages: [1]\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&PubspecLock, "pubspec.lock", LOCK);
    }
}
