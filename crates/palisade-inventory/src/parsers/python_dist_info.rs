//! Installed Python packages: `*.dist-info/METADATA` (wheels, pip), `*.egg-info/PKG-INFO` and
//! `EGG-INFO/PKG-INFO` (setuptools, eggs) and `*.egg-info` written as a single file (distutils).
//!
//! All are the core-metadata format: RFC 822-style `Key: value` headers, continuation lines indented, a
//! blank line, then the description body (never read). `Name` and `Version` are required. The licence is,
//! in order of preference, `License-Expression` (an SPDX expression, metadata 2.4), a one-line `License`
//! that is not `UNKNOWN`, or the last segment of each `Classifier: License :: ...` line. Multi-line `License`
//! fields (a pasted licence text) are not licence names and fall through to the classifiers. The purl name
//! is PEP 503-normalised; [`Package::name`] keeps the spelling of the metadata.

use super::lang_common::{MAX_FILE_SIZE, file_name};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package};

/// Parser for installed Python core metadata (id `python-dist-info`).
pub struct PythonDistInfo;

fn is_metadata_path(path: &str) -> bool {
    path.ends_with(".dist-info/METADATA")
        || path.ends_with(".egg-info/PKG-INFO")
        || path.ends_with("/EGG-INFO/PKG-INFO")
        || path.starts_with("EGG-INFO/PKG-INFO")
        || (file_name(path).ends_with(".egg-info") && file_name(path).len() > ".egg-info".len())
}

/// The header block as (key, value, is_multiline) in file order.
fn headers(text: &str) -> Vec<(&str, String, bool)> {
    let mut out: Vec<(&str, String, bool)> = Vec::new();
    for line in text.lines() {
        // Only a truly empty line ends the headers: setuptools writes blank lines inside a multi-line
        // field as indentation only.
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push('\n');
                last.1.push_str(line.trim());
                last.2 = true;
            }
            continue;
        }
        let Some((k, v)) = line.split_once(':') else { continue };
        out.push((k.trim(), v.trim().to_string(), false));
    }
    out
}

impl Parser for PythonDistInfo {
    fn id(&self) -> &'static str {
        "python-dist-info"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.size <= MAX_FILE_SIZE && is_metadata_path(meta.path)
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        // Metadata is UTF-8 by specification; very old files may be Latin-1, so be lenient.
        let text = String::from_utf8_lossy(input.data);
        let headers = headers(&text);
        let get = |key: &str| {
            headers.iter().find(|(k, _, _)| k.eq_ignore_ascii_case(key)).map(|(_, v, m)| (v.as_str(), *m))
        };
        let name = get("Name").map(|(v, _)| v).filter(|v| !v.is_empty());
        let version = get("Version").map(|(v, _)| v).filter(|v| !v.is_empty());
        let (Some(name), Some(version)) = (name, version) else {
            return Err(ParseError::new("core metadata without Name and Version headers"));
        };
        let mut pkg = Package::new(Ecosystem::PyPI, name, version, input.location(), self.id());
        if let Some((expr, _)) = get("License-Expression").filter(|(v, _)| !v.is_empty()) {
            pkg.licenses.push(expr.to_string());
        } else if let Some((lic, false)) = get("License")
            .filter(|(v, _)| !v.is_empty() && !v.eq_ignore_ascii_case("UNKNOWN") && v.len() < 200)
        {
            pkg.licenses.push(lic.to_string());
        } else {
            for (k, v, _) in &headers {
                if k.eq_ignore_ascii_case("Classifier")
                    && let Some(rest) = v.strip_prefix("License ::")
                    && let Some(last) = rest.rsplit("::").next().map(str::trim)
                    && !last.is_empty()
                    && last != "OSI Approved"
                {
                    pkg.licenses.push(last.to_string());
                }
            }
        }
        out.packages.push(pkg);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::lang_common::testing::{no_panic_on_truncation, run};

    const ATTRS: &[u8] =
        include_bytes!("../../tests/fixtures/python/site-packages/attrs-26.1.0.dist-info/METADATA");
    const SIX: &[u8] =
        include_bytes!("../../tests/fixtures/python/site-packages/six-1.16.0.dist-info/METADATA");
    const LEGACY: &[u8] =
        include_bytes!("../../tests/fixtures/python/site-packages/legacy_thing.egg-info/PKG-INFO");
    const PYYAML: &[u8] =
        include_bytes!("../../tests/fixtures/python/site-packages/PyYAML-5.3.1-py3.8.egg-info");

    fn one(path: &str, data: &[u8]) -> Package {
        let mut out = run(&PythonDistInfo, path, data).unwrap();
        assert_eq!(out.packages.len(), 1);
        out.packages.remove(0)
    }

    #[test]
    fn wants_metadata_files() {
        let meta = |path| FileMeta { path, size: 100, mode: 0o644, layer: None };
        for p in [
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
            "venv/lib/python3.12/site-packages/legacy_thing.egg-info/PKG-INFO",
            "usr/lib/python3.8/site-packages/PyYAML-5.3.1-py3.8.egg-info",
            "site-packages/foo-1.0-py3.8.egg/EGG-INFO/PKG-INFO",
        ] {
            assert!(PythonDistInfo.wants(&meta(p)), "{p}");
        }
        for p in ["six-1.16.0.dist-info/RECORD", "src/PKG-INFO", "METADATA", "x/.egg-info"] {
            assert!(!PythonDistInfo.wants(&meta(p)), "{p}");
        }
    }

    #[test]
    fn licence_sources() {
        let p = one("site-packages/attrs-26.1.0.dist-info/METADATA", ATTRS);
        assert_eq!((p.name.as_str(), p.version.as_str()), ("attrs", "26.1.0"));
        assert_eq!(p.licenses, ["MIT"]);
        assert_eq!(p.purl, "pkg:pypi/attrs@26.1.0");

        let p = one("site-packages/six-1.16.0.dist-info/METADATA", SIX);
        assert_eq!(p.licenses, ["MIT"]);

        // Multi-line License text: use the classifier instead.
        let p = one("site-packages/legacy_thing.egg-info/PKG-INFO", LEGACY);
        assert_eq!(p.name, "Legacy_Thing");
        assert_eq!(p.purl, "pkg:pypi/legacy-thing@0.9.2.post1");
        assert_eq!(p.licenses, ["BSD License"]);

        // License: UNKNOWN falls back to the classifier.
        let p = one("site-packages/PyYAML-5.3.1-py3.8.egg-info", PYYAML);
        assert_eq!(p.purl, "pkg:pypi/pyyaml@5.3.1");
        assert_eq!(p.licenses, ["MIT License"]);
    }

    #[test]
    fn missing_name_or_version_is_an_error() {
        let e =
            run(&PythonDistInfo, "x.dist-info/METADATA", b"Metadata-Version: 2.1\nName: x\n").unwrap_err();
        assert!(e.0.contains("Name and Version"));
        assert!(run(&PythonDistInfo, "x.dist-info/METADATA", b"\nName: x\nVersion: 1\n").is_err());
    }

    #[test]
    fn truncated_input_does_not_panic() {
        no_panic_on_truncation(&PythonDistInfo, "x.dist-info/METADATA", LEGACY);
        no_panic_on_truncation(&PythonDistInfo, "x.dist-info/METADATA", ATTRS);
    }
}
