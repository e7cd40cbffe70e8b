//! Bundler `Gemfile.lock`.
//!
//! Top-level section headers (`GEM`, `GIT`, `PATH`, `PLATFORMS`, `DEPENDENCIES`, `BUNDLED WITH`, ...) start
//! in column 0. Under `specs:` of `GEM` and `GIT` sources, a 4-space line `name (version)` is a locked gem
//! and the 6-space lines below it are its dependencies, resolved here to the locked versions. Platform
//! suffixes (`1.16.5-x86_64-linux`) are stripped from versions, so per-platform copies merge into one
//! package. `PATH` sources are the project's own local gems and are skipped. Gems named under
//! `DEPENDENCIES` (with or without the `!` source marker) are direct. Bundler does not record dev groups
//! in the lockfile.

use super::lang_common::{PackageSet, purl, wants_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};
use std::collections::{BTreeMap, BTreeSet};

/// Parser for Bundler `Gemfile.lock` / `gems.locked` (id `gemfile-lock`).
pub struct GemfileLock;

/// Strip a platform suffix: RubyGems versions use `.` for pre-releases, so `-` starts the platform.
pub(crate) fn strip_platform(version: &str) -> &str {
    version.split('-').next().unwrap_or(version)
}

/// `name (version)` or `name` (dependency lines may have no constraint, DEPENDENCIES may end with `!`).
fn name_and_paren(line: &str) -> (&str, Option<&str>) {
    let line = line.trim();
    match line.split_once(" (") {
        Some((name, rest)) => (name.trim_end_matches('!'), rest.strip_suffix(')').or(Some(rest))),
        None => (line.trim_end_matches('!'), None),
    }
}

struct Spec {
    name: String,
    version: String,
    deps: Vec<String>,
}

impl Parser for GemfileLock {
    fn id(&self) -> &'static str {
        "gemfile-lock"
    }

    fn file_names(&self) -> &'static [&'static str] {
        &["Gemfile.lock", "gems.locked"]
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        wants_name(meta, self.file_names())
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let text = input.text()?;
        let mut section = "";
        let mut seen_section = false;
        let mut known_section = false;
        let mut in_specs = false;
        let mut specs: Vec<Spec> = Vec::new();
        let mut direct_names = BTreeSet::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim_end();
            if line.trim().is_empty() {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            if indent == 0 {
                section = line.trim();
                seen_section = true;
                known_section |= matches!(
                    section,
                    "GEM"
                        | "GIT"
                        | "PATH"
                        | "PLUGIN SOURCE"
                        | "PLATFORMS"
                        | "DEPENDENCIES"
                        | "BUNDLED WITH"
                        | "RUBY VERSION"
                        | "CHECKSUMS"
                );
                in_specs = false;
                continue;
            }
            if !seen_section {
                return Err(ParseError::new(format!("line {}: indented line before any section", n + 1)));
            }
            match section {
                "GEM" | "GIT" | "PATH" => {
                    if indent == 2 {
                        in_specs = line.trim() == "specs:";
                    } else if in_specs && indent == 4 {
                        let (name, version) = name_and_paren(line);
                        let Some(version) = version.filter(|v| !v.is_empty()) else {
                            return Err(ParseError::new(format!("line {}: spec without a version", n + 1)));
                        };
                        if section != "PATH" {
                            specs.push(Spec {
                                name: name.to_string(),
                                version: strip_platform(version).to_string(),
                                deps: Vec::new(),
                            });
                        }
                    } else if in_specs
                        && indent == 6
                        && section != "PATH"
                        && let Some(s) = specs.last_mut()
                    {
                        s.deps.push(name_and_paren(line).0.to_string());
                    }
                }
                "DEPENDENCIES" if indent == 2 => {
                    direct_names.insert(name_and_paren(line).0.to_string());
                }
                _ => {}
            }
        }
        if !known_section {
            return Err(ParseError::new("no Bundler section (GEM, DEPENDENCIES, ...): not a Gemfile.lock"));
        }
        let mut versions: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for s in &specs {
            versions.entry(s.name.as_str()).or_default().insert(s.version.as_str());
        }
        let mut set = PackageSet::new();
        for s in &specs {
            let mut pkg = Package::new(Ecosystem::Gem, &s.name, &s.version, input.location(), self.id());
            pkg.direct = Some(direct_names.contains(&s.name));
            for d in &s.deps {
                for v in versions.get(d.as_str()).into_iter().flatten() {
                    pkg.dependencies.push(purl(Ecosystem::Gem, d, v));
                }
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

    const LOCK: &[u8] = include_bytes!("../../tests/fixtures/ruby/Gemfile.lock");

    #[test]
    fn gem_and_git_specs() {
        let out = run(&GemfileLock, "Gemfile.lock", LOCK).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| format!("{}@{}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "concurrent-ruby@1.2.3",
                "mini_portile2@2.8.6",
                "nokogiri@1.16.5",
                "racc@1.7.3",
                "rack@3.0.11",
                "rspec@3.13.0",
                "rspec-core@3.13.0",
                "sprockets@4.2.1"
            ]
        );
        let nokogiri = get(&out, "nokogiri", "1.16.5");
        assert_eq!(nokogiri.direct, Some(true));
        assert_eq!(nokogiri.purl, "pkg:gem/nokogiri@1.16.5");
        assert_eq!(nokogiri.dependencies, ["pkg:gem/mini_portile2@2.8.6", "pkg:gem/racc@1.7.3"]);
        assert_eq!(get(&out, "sprockets", "4.2.1").direct, Some(true));
        assert_eq!(get(&out, "racc", "1.7.3").direct, Some(false));
        assert_eq!(
            get(&out, "sprockets", "4.2.1").dependencies,
            ["pkg:gem/concurrent-ruby@1.2.3", "pkg:gem/rack@3.0.11"]
        );
    }

    #[test]
    fn malformed() {
        assert!(run(&GemfileLock, "Gemfile.lock", b"    rack (3.0.0)\n").is_err());
        assert!(run(&GemfileLock, "Gemfile.lock", b"GEM\n  specs:\n    rack\n").is_err());
        assert!(run(&GemfileLock, "Gemfile.lock", b"").is_err());
        assert_eq!(strip_platform("1.16.5-x86_64-linux"), "1.16.5");
        assert_eq!(strip_platform("2.0.0.pre.1"), "2.0.0.pre.1");
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&GemfileLock, "Gemfile.lock", LOCK);
    }
}
