//! `etc/os-release` and `usr/lib/os-release` (systemd os-release(5)): the distribution and release.
//!
//! Lines are `KEY=value` with optional shell-style single or double quotes; comments and blank lines are
//! ignored. Alpine's and distroless images' files have the same format.

use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::OsInfo;

pub struct OsRelease;

impl Parser for OsRelease {
    fn id(&self) -> &'static str {
        "os-release"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        matches!(meta.path, "etc/os-release" | "usr/lib/os-release") && meta.size < 64 * 1024
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let mut os = OsInfo::default();
        for line in input.text()?.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else { continue };
            let v = unquote(v.trim());
            match k.trim() {
                "ID" => os.id = v.to_ascii_lowercase(),
                "VERSION_ID" => os.version_id = v,
                "VERSION_CODENAME" if !v.is_empty() => os.codename = Some(v),
                "PRETTY_NAME" => os.pretty_name = Some(v),
                "ID_LIKE" => os.id_like = v.split_whitespace().map(str::to_string).collect(),
                _ => {}
            }
        }
        if os.id.is_empty() {
            return Err(ParseError::new("no ID= line"));
        }
        out.os = Some(os);
        Ok(())
    }
}

fn unquote(v: &str) -> String {
    let b = v.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        v[1..v.len() - 1].replace("\\\"", "\"")
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Output, ParseError> {
        let mut out = Output::default();
        OsRelease.parse(&Input { path: "etc/os-release", layer: None, data: text.as_bytes() }, &mut out)?;
        Ok(out)
    }

    #[test]
    fn debian() {
        let os = parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n\
             VERSION_CODENAME=bookworm\nID=debian\n",
        )
        .unwrap()
        .os
        .unwrap();
        assert_eq!((os.id.as_str(), os.version_id.as_str()), ("debian", "12"));
        assert_eq!(os.codename.as_deref(), Some("bookworm"));
        assert_eq!(os.distro_qualifier(), "debian-12");
    }

    #[test]
    fn alpine_and_rhel_like() {
        let os = parse("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n").unwrap().os.unwrap();
        assert_eq!(os.distro_qualifier(), "alpine-3.19.1");
        let os =
            parse("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n").unwrap().os.unwrap();
        assert_eq!(os.id_like, ["rhel", "centos", "fedora"]);
    }

    #[test]
    fn missing_id_is_an_error() {
        assert!(parse("NAME=foo\n").is_err());
        assert!(
            OsRelease
                .parse(
                    &Input { path: "etc/os-release", layer: None, data: b"\xff\xfe" },
                    &mut Output::default()
                )
                .is_err()
        );
    }
}
