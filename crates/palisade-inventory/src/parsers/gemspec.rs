//! Installed RubyGems specifications: `.../specifications/<name>-<version>.gemspec`.
//!
//! A gemspec is Ruby code (`Gem::Specification.new do |s| ... end`). It is never evaluated: the
//! assignments `X.name = "..."`, `X.version = "..."`, `X.license = "..."` and `X.licenses = [...]` are read
//! textually, taking the quoted string literals on the right-hand side (`.freeze` and
//! `Gem::Version.new(...)` wrappers are ignored). Platform suffixes are stripped from the version.

use super::gemfile_lock::strip_platform;
use super::lang_common::{MAX_FILE_SIZE, file_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};

/// Parser for installed `specifications/*.gemspec` (id `gemspec`).
pub struct Gemspec;

/// The string literals of a Ruby expression, in order (`"..."` or `'...'`, backslash escapes skipped).
fn string_literals(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        if c == '#' {
            break;
        }
        if c != '"' && c != '\'' {
            continue;
        }
        let mut lit = String::new();
        let mut closed = false;
        while let Some(d) = chars.next() {
            if d == '\\' {
                if let Some(e) = chars.next() {
                    lit.push(e);
                }
            } else if d == c {
                closed = true;
                break;
            } else {
                lit.push(d);
            }
        }
        if closed {
            out.push(lit);
        }
    }
    out
}

/// `X.attr = rhs` for a plain identifier `X`; returns (attr, rhs).
fn assignment(line: &str) -> Option<(&str, &str)> {
    let (lhs, rhs) = line.split_once('=')?;
    if rhs.starts_with(['=', '~']) || lhs.ends_with(['!', '<', '>', '=']) {
        return None;
    }
    let (recv, attr) = lhs.trim().split_once('.')?;
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (ident(recv) && ident(attr)).then_some((attr, rhs))
}

impl Parser for Gemspec {
    fn id(&self) -> &'static str {
        "gemspec"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        let mut parts = meta.path.rsplit('/');
        let name = parts.next().unwrap_or_default();
        meta.size <= MAX_FILE_SIZE
            && name.ends_with(".gemspec")
            && parts.next() == Some("specifications")
            && file_name(meta.path).len() > ".gemspec".len()
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let text = String::from_utf8_lossy(input.data);
        let (mut name, mut version, mut licenses) = (None, None, Vec::new());
        for line in text.lines() {
            let Some((attr, rhs)) = assignment(line.trim()) else { continue };
            match attr {
                "name" if name.is_none() => name = string_literals(rhs).into_iter().next(),
                "version" if version.is_none() => version = string_literals(rhs).into_iter().next(),
                "license" | "licenses" => {
                    licenses.extend(string_literals(rhs).into_iter().filter(|l| !l.is_empty()))
                }
                _ => {}
            }
        }
        let (Some(name), Some(version)) = (name.filter(|n| !n.is_empty()), version.filter(|v| !v.is_empty()))
        else {
            return Err(ParseError::new("no `.name = \"...\"` and `.version = \"...\"` assignments found"));
        };
        let mut pkg =
            Package::new(Ecosystem::Gem, name, strip_platform(&version), input.location(), self.id());
        pkg.licenses = licenses;
        out.packages.push(pkg);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{no_panic_on_truncation, run};

    const RAKE: &[u8] = include_bytes!("../../tests/fixtures/ruby/specifications/rake-13.0.6.gemspec");
    const NOKOGIRI: &[u8] =
        include_bytes!("../../tests/fixtures/ruby/specifications/nokogiri-1.16.5-x86_64-linux.gemspec");
    const LEGACY: &[u8] = include_bytes!("../../tests/fixtures/ruby/specifications/legacy-0.1.gemspec");

    fn one(data: &[u8]) -> Package {
        let mut out = run(&Gemspec, "usr/local/bundle/specifications/x.gemspec", data).unwrap();
        assert_eq!(out.packages.len(), 1);
        out.packages.remove(0)
    }

    #[test]
    fn wants_specifications_only() {
        let meta = |path| FileMeta { path, size: 100, mode: 0o644, layer: None };
        assert!(Gemspec.wants(&meta("usr/local/lib/ruby/gems/3.2.0/specifications/rake-13.0.6.gemspec")));
        assert!(!Gemspec.wants(&meta("app/rake.gemspec")));
        assert!(!Gemspec.wants(&meta("specifications/.gemspec")));
    }

    #[test]
    fn installed_specs() {
        let p = one(RAKE);
        assert_eq!(
            (p.name.as_str(), p.version.as_str(), p.purl.as_str()),
            ("rake", "13.0.6", "pkg:gem/rake@13.0.6")
        );
        assert_eq!(p.licenses, ["MIT"]);
        let p = one(NOKOGIRI);
        assert_eq!(p.version, "1.16.5");
        assert_eq!(p.licenses, ["MIT", "LGPL-2.1-or-later"]);
        let p = one(LEGACY);
        assert_eq!((p.name.as_str(), p.version.as_str()), ("legacy", "0.1"));
        assert_eq!(p.licenses, ["Ruby"]);
    }

    #[test]
    fn malformed() {
        assert!(run(&Gemspec, "specifications/x.gemspec", b"s.name = \"x\"\n").is_err());
        assert!(run(&Gemspec, "specifications/x.gemspec", b"s.name = x\ns.version = \"1\"\n").is_err());
        assert!(
            run(&Gemspec, "specifications/x.gemspec", b"if s.name == \"x\"\ns.version = \"1\"\n").is_err()
        );
        assert_eq!(string_literals(r#"["a".freeze, 'b', "c\"d"] # "e""#), ["a", "b", "c\"d"]);
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&Gemspec, "specifications/x.gemspec", RAKE);
    }
}
