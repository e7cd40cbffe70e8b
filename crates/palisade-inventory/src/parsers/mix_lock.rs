//! Elixir `mix.lock`: an Elixir map from the dependency's name to a tuple,
//! `"plug": {:hex, :plug, "1.15.2", "<hash>", [:mix], [{:mime, "~> 1.0 or ~> 2.0", [hex: :mime, repo: "hexpm", optional: false]}, ...], "hexpm", "<hash>"}`.
//!
//! Hex entries give the package name (the second element: a dependency may be renamed in `mix.exs`), the
//! version and the dependencies, each named by `hex: :name` and resolved to the version locked for it. Git
//! entries (`{:git, "https://github.com/o/r.git", "<commit>", [...]}`) have no version: they are reported
//! without one, the repository and commit as the purl qualifier `vcs_url`. The file is read line by line, as
//! `mix` writes one entry per line; no Elixir code is evaluated. `mix.lock` does not say which are direct.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, package::build_purl};
use std::collections::BTreeMap;

/// Parser for `mix.lock` (id `mix-lock`).
pub struct MixLock;

/// The quoted strings and `:atoms` of a line, in order, up to the dependency list.
fn next_token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches([' ', ',', '{']);
    if let Some(rest) = s.strip_prefix('"') {
        let end = rest.find('"')?;
        return Some((&rest[..end], &rest[end + 1..]));
    }
    if let Some(rest) = s.strip_prefix(':') {
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        return Some((&rest[..end], &rest[end..]));
    }
    None
}

impl Parser for MixLock {
    fn id(&self) -> &'static str {
        "mix-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["mix.lock"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let text = input.text()?;
        let body = text.trim();
        if !(body.starts_with("%{") && body.ends_with('}')) {
            return Err(ParseError::new("not an Elixir map `%{...}`: not a mix.lock"));
        }
        // (name, version, deps, qualifier)
        let mut entries: Vec<(String, String, Vec<String>, Option<String>)> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line == "%{" || line == "}" {
                continue;
            }
            let Some((_key, rest)) = next_token(line) else {
                out.warnings.push(format!("line {}: not `\"name\": {{...}}`; skipped", n + 1));
                continue;
            };
            let Some(rest) = rest.trim_start().strip_prefix(':').map(|r| r.trim_start()) else {
                out.warnings.push(format!("line {}: no `:` after the name; skipped", n + 1));
                continue;
            };
            let Some((kind, rest)) = next_token(rest) else {
                out.warnings
                    .push(format!("line {}: no `{{:hex, ...}}` or `{{:git, ...}}` tuple; skipped", n + 1));
                continue;
            };
            match kind {
                "hex" => {
                    let Some((name, rest)) = next_token(rest) else { continue };
                    let Some((version, rest)) = next_token(rest) else {
                        out.warnings.push(format!("line {}: hex entry without a version; skipped", n + 1));
                        continue;
                    };
                    let deps = rest
                        .match_indices("hex: :")
                        .map(|(i, m)| {
                            let s = &rest[i + m.len()..];
                            let end =
                                s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
                            s[..end].to_string()
                        })
                        .collect();
                    entries.push((name.to_string(), version.to_string(), deps, None));
                }
                "git" => {
                    let Some((url, rest)) = next_token(rest) else { continue };
                    let commit = next_token(rest).map(|(c, _)| c).unwrap_or("");
                    let name = key_name(line);
                    let url = if url.starts_with("git+") { url.to_string() } else { format!("git+{url}") };
                    let vcs = if commit.is_empty() { url } else { format!("{url}#{commit}") };
                    entries.push((name, String::new(), Vec::new(), Some(vcs)));
                }
                // `:path` and other SCMs are local or unknown.
                _ => {}
            }
        }
        if entries.is_empty() && body.len() > 3 && !out.warnings.is_empty() {
            return Err(ParseError::new("no readable entry: not a mix.lock"));
        }
        let versions: BTreeMap<&str, &str> =
            entries.iter().map(|(n, v, _, _)| (n.as_str(), v.as_str())).collect();
        let mut set = PackageSet::new();
        for (name, version, deps, vcs) in &entries {
            let mut pkg = Package::new(Ecosystem::Hex, name, version, input.location(), self.id());
            if let Some(vcs) = vcs {
                pkg.purl = build_purl(Ecosystem::Hex, name, version, &[("vcs_url", vcs)]);
                pkg.metadata.insert("vcs_url".into(), vcs.clone());
            }
            pkg.dependencies = deps
                .iter()
                .filter_map(|d| versions.get(d.as_str()).map(|v| purl(Ecosystem::Hex, d, v)))
                .collect();
            set.add(pkg);
        }
        out.packages.extend(set.into_packages());
        Ok(())
    }
}

/// The map key of a line (`"name": ...`).
fn key_name(line: &str) -> String {
    next_token(line).map(|(k, _)| k.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{get, no_panic_on_truncation, run};

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/elixir/mix.lock");

    #[test]
    fn hex_and_git_entries() {
        let out = run(&MixLock, "mix.lock", LOCK).unwrap();
        let names: Vec<String> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            ["jason@1.4.1", "mime@2.0.5", "my_fork@", "plug@1.15.2", "plug_crypto@2.0.0", "telemetry@1.2.1"]
        );
        assert_eq!(
            get(&out, "plug", "1.15.2").dependencies,
            ["pkg:hex/mime@2.0.5", "pkg:hex/plug_crypto@2.0.0", "pkg:hex/telemetry@1.2.1"]
        );
        assert_eq!(get(&out, "jason", "1.4.1").purl, "pkg:hex/jason@1.4.1");
        assert!(
            get(&out, "my_fork", "").metadata["vcs_url"]
                .ends_with(".git#0a1b2c3d4e5f60718293a4b5c6d7e8f901234567")
        );
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }

    #[test]
    fn malformed() {
        assert!(run(&MixLock, "mix.lock", b"hello world\n").is_err());
        assert!(run(&MixLock, "mix.lock", b"%{\n  garbage garbage\n}\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&MixLock, "mix.lock", LOCK);
    }
}
