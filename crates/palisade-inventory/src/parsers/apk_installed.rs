//! `lib/apk/db/installed`: the apk-tools database of installed Alpine (and Wolfi/Chainguard) packages.
//!
//! The file is a sequence of records separated by blank lines. Each line is a one-letter key, a colon and a
//! value (`P:musl`). The keys used here: `P` name, `V` version, `A` architecture, `o` origin (the source
//! package; its version is the package version), `L` licence (kept as one string, as apk states it), `m`
//! maintainer, `c` aports commit. File lists (`F`/`R`/`a`/`M`/`Z`) and the rest are skipped. A record without
//! `P` or `V`, or with a line that is not `X:value`, is reported in a warning and skipped.

use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use palisade_core::{Ecosystem, Package, SourcePackage};

/// Reader of `lib/apk/db/installed`.
pub struct ApkInstalled;

/// Largest database we read (a big Alpine image has a few MB).
const MAX_SIZE: u64 = 256 * 1024 * 1024;
/// At most this many warnings per file.
const MAX_WARNINGS: usize = 20;

impl Parser for ApkInstalled {
    fn id(&self) -> &'static str {
        "apk-installed"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        meta.path == "lib/apk/db/installed" && meta.size < MAX_SIZE
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        if let Some(pos) = input.data.iter().position(|&b| b == 0) {
            return Err(ParseError::new(format!(
                "binary data (NUL byte at offset {pos}), not an apk installed database"
            )));
        }
        let text = String::from_utf8_lossy(input.data);
        let mut warnings = Vec::new();
        let mut dropped = 0usize;
        for record in records(&text) {
            match record_to_package(&record, input, self.id()) {
                Ok(p) => out.packages.push(p),
                Err(why) => {
                    if warnings.len() < MAX_WARNINGS {
                        warnings.push(format!("record at line {}: {why}; record skipped", record.line));
                    } else {
                        dropped += 1;
                    }
                }
            }
        }
        if dropped > 0 {
            warnings.push(format!("{dropped} more problems not shown"));
        }
        out.warnings.extend(warnings);
        Ok(())
    }
}

/// One record: its starting line (1-based), `(key, value)` pairs, and the first malformed line if any.
struct Record<'a> {
    line: usize,
    fields: Vec<(char, &'a str)>,
    bad_line: Option<usize>,
}

impl Record<'_> {
    fn get(&self, key: char) -> Option<&str> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).filter(|v| !v.is_empty())
    }
}

fn records(text: &str) -> Vec<Record<'_>> {
    let mut out = Vec::new();
    let mut cur: Option<Record> = None;
    for (idx, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            if let Some(r) = cur.take() {
                out.push(r);
            }
            continue;
        }
        let rec = cur.get_or_insert_with(|| Record { line: idx + 1, fields: Vec::new(), bad_line: None });
        let mut chars = line.chars();
        match (chars.next(), chars.next()) {
            (Some(k), Some(':')) if k.is_ascii_alphanumeric() => {
                rec.fields.push((k, line.get(2..).unwrap_or("")))
            }
            _ => {
                rec.bad_line.get_or_insert(idx + 1);
            }
        }
    }
    if let Some(r) = cur.take() {
        out.push(r);
    }
    out
}

fn record_to_package(r: &Record, input: &Input, found_by: &str) -> Result<Package, String> {
    if let Some(l) = r.bad_line {
        return Err(format!("line {l} is not `X:value`"));
    }
    let name = r.get('P').ok_or("no P: (name) line")?;
    let version = r.get('V').ok_or_else(|| format!("package {name}: no V: (version) line"))?;
    if name.contains(char::is_whitespace) || version.contains(char::is_whitespace) {
        return Err(format!("package `{name}` version `{version}` contains whitespace"));
    }
    let mut p = Package::new(Ecosystem::Apk, name, version, input.location(), found_by);
    p.arch = r.get('A').map(str::to_string);
    let origin = r.get('o').unwrap_or(name);
    p.source = Some(SourcePackage { name: origin.to_string(), version: version.to_string() });
    if let Some(l) = r.get('L') {
        p.licenses.push(l.trim().to_string());
    }
    if let Some(m) = r.get('m') {
        p.metadata.insert("maintainer".into(), m.to_string());
    }
    if let Some(c) = r.get('c') {
        p.metadata.insert("commit".into(), c.to_string());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/apk/installed");

    fn parse(data: &[u8]) -> Result<Output, ParseError> {
        let mut out = Output::default();
        ApkInstalled.parse(&Input { path: "lib/apk/db/installed", layer: Some(0), data }, &mut out)?;
        Ok(out)
    }

    #[test]
    fn wants() {
        let meta = |path| FileMeta { path, size: 10, mode: 0o644, layer: None };
        assert!(ApkInstalled.wants(&meta("lib/apk/db/installed")));
        assert!(!ApkInstalled.wants(&meta("lib/apk/db/triggers")));
    }

    #[test]
    fn alpine_fixture() {
        let out = parse(FIXTURE).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let names: Vec<_> = out.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["musl", "busybox", "libcrypto3", "ca-certificates-bundle"]);
        let crypto = &out.packages[2];
        assert_eq!(crypto.version, "3.1.4-r5");
        assert_eq!(crypto.arch.as_deref(), Some("x86_64"));
        assert_eq!(crypto.source, Some(SourcePackage { name: "openssl".into(), version: "3.1.4-r5".into() }));
        assert_eq!(crypto.licenses, ["Apache-2.0"]);
        assert_eq!(crypto.found_by, "apk-installed");
        assert_eq!(
            crypto.metadata.get("commit").map(String::as_str),
            Some("5ebc2e9c8e3f7f0d2b8e1a7a3c5d2f1e0b9a8c7d")
        );
        let musl = &out.packages[0];
        assert_eq!(musl.source.as_ref().map(|s| s.name.as_str()), Some("musl"));
        assert_eq!(out.packages[1].licenses, ["GPL-2.0-only"]);
    }

    #[test]
    fn malformed_records_warn() {
        let text = "P:a\nV:1-r0\n\nV:2\n\nP:b\n\nP:c\nthis is junk\nV:1\n\r\nP:d\r\nV:4-r1\r\n";
        let out = parse(text.as_bytes()).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
        assert_eq!(names, [("a", "1-r0"), ("d", "4-r1")]);
        assert_eq!(out.warnings.len(), 3, "{:?}", out.warnings);
        assert!(out.warnings[0].starts_with("record at line 4: no P:"), "{}", out.warnings[0]);
        assert!(out.warnings[1].contains("package b: no V:"));
        assert!(out.warnings[2].contains("line 9 is not `X:value`"), "{}", out.warnings[2]);
        assert!(parse(b"P:x\0").is_err());
    }
}
