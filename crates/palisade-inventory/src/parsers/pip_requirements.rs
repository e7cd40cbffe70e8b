//! pip requirements files: `requirements.txt`, `requirements-dev.txt`, `requirements/...` named
//! `requirements*.txt`.
//!
//! Only exact pins are packages: `name==version` and `name===version` (no wildcard). Extras
//! (`name[extra]`) are stripped from the name, environment markers (`; python_version < "3.10"`) and
//! per-requirement options (`--hash=...`) are not part of the version, comments are dropped and `\`
//! continuations joined. Option lines (`-r`, `-c`, `-e`, `--index-url`, ...) and URL requirements
//! (`name @ https://...`) are ignored without error; range requirements (`>=`, `~=`) are not pins and are
//! skipped. The purl name is PEP 503 normalised; [`Package::name`] keeps the file's spelling.

use super::lang_common::{MAX_FILE_SIZE, PackageSet, file_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};

/// Parser for pinned `requirements*.txt` (id `pip-requirements`).
pub struct PipRequirements;

fn is_requirements_name(name: &str) -> bool {
    name.starts_with("requirements") && name.ends_with(".txt")
}

/// Strip a comment: `#` at the start or after whitespace (a `#` inside a URL fragment is not a comment).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace)) {
            return &line[..i];
        }
    }
    line
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// (name, version) of an exact pin, or None.
fn parse_pin(req: &str) -> Option<(&str, &str)> {
    // Markers and per-requirement options are not part of the version.
    let req = req.split(';').next().unwrap_or(req);
    let req = req.split(" --").next().unwrap_or(req).trim();
    let (name_part, version) = req.split_once("==")?;
    let version = version.strip_prefix('=').unwrap_or(version).trim();
    let name = name_part.split('[').next().unwrap_or(name_part).trim();
    let ok_version = !version.is_empty()
        && !version.contains(['*', ',', ' ', '<', '>', '!', '~', '='])
        && !name_part.contains(['<', '>', '!', '~', '@']);
    (valid_name(name) && ok_version).then_some((name, version))
}

impl Parser for PipRequirements {
    fn id(&self) -> &'static str {
        "pip-requirements"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.size <= MAX_FILE_SIZE && is_requirements_name(file_name(meta.path))
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let text = input.text()?;
        if text.contains('\0') {
            return Err(ParseError::new("contains NUL bytes: not a requirements file"));
        }
        // Join `\` continuations first.
        let mut logical: Vec<String> = Vec::new();
        let mut current = String::new();
        for raw in text.lines() {
            let line = strip_comment(raw);
            match line.trim_end().strip_suffix('\\') {
                Some(head) => {
                    current.push_str(head);
                    current.push(' ');
                }
                None => {
                    current.push_str(line);
                    logical.push(std::mem::take(&mut current));
                }
            }
        }
        if !current.is_empty() {
            logical.push(current);
        }
        let mut set = PackageSet::new();
        for line in &logical {
            let line = line.trim();
            if line.is_empty() || line.starts_with('-') {
                continue;
            }
            if let Some((name, version)) = parse_pin(line) {
                set.add(Package::new(Ecosystem::PyPI, name, version, input.location(), self.id()));
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

    const REQS: &[u8] = include_bytes!("../../tests/fixtures/python/requirements.txt");

    #[test]
    fn wants_requirements_files() {
        let meta = |path| FileMeta { path, size: 100, mode: 0o644, layer: None };
        assert!(PipRequirements.wants(&meta("app/requirements.txt")));
        assert!(PipRequirements.wants(&meta("requirements-dev.txt")));
        assert!(!PipRequirements.wants(&meta("app/requirements.in")));
        assert!(!PipRequirements.wants(&meta("app/constraints.txt")));
    }

    #[test]
    fn pins_only() {
        let out = run(&PipRequirements, "app/requirements.txt", REQS).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| format!("{}=={}", p.name, p.version)).collect();
        assert_eq!(
            names,
            [
                "Django==4.2.3",
                "Flask_SQLAlchemy==3.0.5",
                "certifi==2023.7.22",
                "numpy==1.26.4",
                "requests==2.31.0",
                "urllib3==1.26.18"
            ]
        );
        assert_eq!(get(&out, "Flask_SQLAlchemy", "3.0.5").purl, "pkg:pypi/flask-sqlalchemy@3.0.5");
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn pin_parsing() {
        assert_eq!(parse_pin("a==1.0"), Some(("a", "1.0")));
        assert_eq!(parse_pin("a [x] == 1.0 ; os_name == 'nt'"), Some(("a", "1.0")));
        assert_eq!(parse_pin("a>=1,==2"), None);
        assert_eq!(parse_pin("a==1.*"), None);
        assert_eq!(parse_pin("a @ https://x/a==1.tar.gz"), None);
        assert_eq!(parse_pin("=="), None);
        assert_eq!(parse_pin("a b==1"), None);
    }

    #[test]
    fn malformed() {
        assert!(run(&PipRequirements, "requirements.txt", b"\xff\xfe").is_err());
        assert!(run(&PipRequirements, "requirements.txt", b"a==1\0").is_err());
        let out = run(&PipRequirements, "requirements.txt", b"a==1 \\").unwrap();
        assert_eq!(out.packages.len(), 1);
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&PipRequirements, "requirements.txt", REQS);
    }
}
