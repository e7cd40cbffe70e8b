//! `var/lib/dpkg/status.d/<package>`: the dpkg database of distroless images.
//!
//! Distroless images ship no dpkg; instead each package's control stanza is a file of its own under
//! `status.d/`, named after the package (sometimes several stanzas per file). The format is the deb822 of
//! [`super::dpkg_status`]. A stanza without `Status:` counts as installed (the file's presence says so); a
//! `Status:` that is present is honoured. The `<package>.md5sums` files beside them are file hashes, not
//! packages, and are ignored.

use super::dpkg_status::{MAX_STATUS_SIZE, StatusRule, parse_stanzas};
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;

/// Reader of distroless `var/lib/dpkg/status.d/*` files.
pub struct DpkgStatusD;

impl Parser for DpkgStatusD {
    fn id(&self) -> &'static str {
        "dpkg-status-d"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        let Some(name) = meta.path.strip_prefix("var/lib/dpkg/status.d/") else { return false };
        !name.is_empty()
            && !name.contains('/')
            && !name.starts_with('.')
            && !name.ends_with(".md5sums")
            && meta.size < MAX_STATUS_SIZE
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        parse_stanzas(input, self.id(), StatusRule::Optional, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::SourcePackage;

    fn parse(path: &str, data: &[u8]) -> Result<Output, ParseError> {
        let mut out = Output::default();
        DpkgStatusD.parse(&Input { path, layer: Some(0), data }, &mut out)?;
        Ok(out)
    }

    #[test]
    fn wants_package_files_not_md5sums() {
        let meta = |path| FileMeta { path, size: 100, mode: 0o644, layer: None };
        assert!(DpkgStatusD.wants(&meta("var/lib/dpkg/status.d/libssl3")));
        assert!(DpkgStatusD.wants(&meta("var/lib/dpkg/status.d/base")));
        assert!(!DpkgStatusD.wants(&meta("var/lib/dpkg/status.d/libssl3.md5sums")));
        assert!(!DpkgStatusD.wants(&meta("var/lib/dpkg/status.d/sub/x")));
        assert!(!DpkgStatusD.wants(&meta("var/lib/dpkg/status.d/")));
        assert!(!DpkgStatusD.wants(&meta("var/lib/dpkg/status")));
    }

    #[test]
    fn distroless_fixtures() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dpkg/status.d");
        let libssl = std::fs::read(format!("{dir}/libssl3")).unwrap();
        let out = parse("var/lib/dpkg/status.d/libssl3", &libssl).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.packages.len(), 1);
        let p = &out.packages[0];
        assert_eq!((p.name.as_str(), p.version.as_str()), ("libssl3", "3.0.11-1~deb12u2"));
        assert_eq!(
            p.source,
            Some(SourcePackage { name: "openssl".into(), version: "3.0.11-1~deb12u2".into() })
        );
        assert_eq!(p.found_by, "dpkg-status-d");
        assert_eq!(p.arch.as_deref(), Some("amd64"));

        // Several stanzas in one file, the second with a Status that is not installed.
        let base = std::fs::read(format!("{dir}/base")).unwrap();
        let out = parse("var/lib/dpkg/status.d/base", &base).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["base-files", "netbase"]);
        assert_eq!(out.packages[1].metadata.get("epoch"), None);
    }

    #[test]
    fn malformed_is_warned_not_fatal() {
        let out = parse("var/lib/dpkg/status.d/x", b"Version: 1\n\nPackage: y\nVersion: 2\n").unwrap();
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.warnings.len(), 1);
        assert!(out.warnings[0].contains("no Package field"), "{:?}", out.warnings);
        assert!(parse("var/lib/dpkg/status.d/x", b"\0\x01\x02").is_err());
    }
}
