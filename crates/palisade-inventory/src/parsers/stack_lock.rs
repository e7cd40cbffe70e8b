//! Haskell Stack `stack.yaml.lock`: the extra packages pinned by `stack.yaml` (`extra-deps`) as
//! `packages[].completed`, and the resolver snapshot.
//!
//! A Hackage pin is `hackage: name-1.2.3@sha256:<hash>,<size>`: the name and version are split at the last
//! `-` followed by a digit. Git pins (`completed.git`, `commit`, `name`, `version`) say where they come from
//! in the purl qualifier `vcs_url`. The snapshot's own packages (hundreds, named only by the snapshot) are not
//! listed: the file does not name them.

use super::lang_common::{PackageSet, wants_name, yaml_options};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, package::build_purl};
use serde::Deserialize;

/// Parser for `stack.yaml.lock` (id `stack-lock`).
pub struct StackLock;

#[derive(Deserialize)]
struct Lock {
    packages: Option<Vec<Pin>>,
    snapshots: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Pin {
    completed: Option<serde_json::Value>,
}

/// `aeson-2.1.2.1@sha256:...,1234` → (`aeson`, `2.1.2.1`).
fn split_hackage(s: &str) -> Option<(&str, &str)> {
    let s = s.split('@').next()?.trim();
    let bytes = s.as_bytes();
    let at = (1..s.len()).rev().find(|&i| bytes[i - 1] == b'-' && bytes[i].is_ascii_digit())?;
    Some((&s[..at - 1], &s[at..]))
}

impl Parser for StackLock {
    fn id(&self) -> &'static str {
        "stack-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["stack.yaml.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let lock: Lock = serde_saphyr::from_str_with_options(input.text()?, yaml_options())
            .map_err(|e| ParseError::new(format!("invalid stack.yaml.lock YAML: {e}")))?;
        if lock.packages.is_none() && lock.snapshots.is_none() {
            return Err(ParseError::new("no `packages` or `snapshots`: not a stack.yaml.lock"));
        }
        let mut set = PackageSet::new();
        for pin in lock.packages.unwrap_or_default() {
            let Some(c) = pin.completed.as_ref().and_then(|c| c.as_object()) else { continue };
            if let Some(h) = c.get("hackage").and_then(|h| h.as_str()) {
                match split_hackage(h) {
                    Some((name, version)) => {
                        set.add(Package::new(Ecosystem::Hackage, name, version, input.location(), self.id()))
                    }
                    None => out.warnings.push(format!("hackage pin {h:?} is not `name-version`; skipped")),
                }
            } else if let (Some(repo), Some(name)) =
                (c.get("git").and_then(|g| g.as_str()), c.get("name").and_then(|n| n.as_str()))
            {
                let version = c.get("version").and_then(|v| v.as_str()).unwrap_or("");
                let commit = c.get("commit").and_then(|v| v.as_str()).unwrap_or("");
                let repo = if repo.starts_with("git+") { repo.to_string() } else { format!("git+{repo}") };
                let vcs = if commit.is_empty() { repo } else { format!("{repo}#{commit}") };
                let mut pkg = Package::new(Ecosystem::Hackage, name, version, input.location(), self.id());
                pkg.purl = build_purl(Ecosystem::Hackage, name, version, &[("vcs_url", &vcs)]);
                pkg.metadata.insert("vcs_url".into(), vcs);
                set.add(pkg);
            }
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/haskell/stack.yaml.lock");

    #[test]
    fn hackage_and_git_pins() {
        let out = run(&StackLock, "stack.yaml.lock", LOCK).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(names, ["aeson@2.1.2.1", "http-client-tls@0.3.6.3", "my-lib@0.1.0.0"]);
        assert_eq!(get(&out, "http-client-tls", "0.3.6.3").purl, "pkg:hackage/http-client-tls@0.3.6.3");
        assert!(
            get(&out, "my-lib", "0.1.0.0").metadata["vcs_url"]
                .ends_with("#6f1d3a2b4c5e6f708192a3b4c5d6e7f8091a2b3c")
        );
        assert_eq!(
            split_hackage("base64-bytestring-1.2.1.0@sha256:x,1"),
            Some(("base64-bytestring", "1.2.1.0"))
        );
    }

    #[test]
    fn malformed() {
        assert!(run(&StackLock, "stack.yaml.lock", b"hello world\n").is_err());
        assert!(run(&StackLock, "stack.yaml.lock", b"packages: 3\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&StackLock, "stack.yaml.lock", LOCK);
    }
}
