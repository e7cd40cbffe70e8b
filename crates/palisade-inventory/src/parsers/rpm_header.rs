//! RPM header blobs, as stored in every rpmdb backend (sqlite, Berkeley DB, ndb). Not a parser itself: the
//! `rpm_*` parsers extract blobs from their database format and hand them here.
//!
//! A stored header is the RPM "header image" without the 8-byte magic: big-endian `il` (number of index
//! entries) and `dl` (size of the data store), then `il` entries of 16 bytes (`tag`, `type`, `offset`,
//! `count`), then the data store. Strings are NUL-terminated inside the store; INT32 values are big-endian.
//! Every offset and length is bounds-checked; a bad header is an error for that header only.

use crate::{Input, Output};
use palisade_core::{Ecosystem, Package, SourcePackage};

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_VENDOR: u32 = 1011;
const TAG_LICENSE: u32 = 1014;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;
const TAG_MODULARITYLABEL: u32 = 5096;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm refuses headers with more index entries than this (`hdrchkTags`).
const MAX_INDEX_ENTRIES: u32 = 0x00ff_ffff;
/// rpm refuses data stores larger than this (`hdrchkData`).
const MAX_DATA_LEN: u32 = 256 * 1024 * 1024;
/// At most this many warnings per database file.
const MAX_WARNINGS: usize = 20;

#[derive(Debug, Clone, Copy)]
struct Entry {
    tag: u32,
    ty: u32,
    offset: u32,
    count: u32,
}

/// A parsed header: the index and the data store it points into.
#[derive(Debug)]
pub struct Header<'a> {
    entries: Vec<Entry>,
    store: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Header<'a> {
    /// Parse the index of a header blob. Errors say what is out of bounds.
    pub fn parse(blob: &'a [u8]) -> Result<Self, String> {
        let il = be32(blob, 0).ok_or_else(|| format!("header of {} bytes is too short", blob.len()))?;
        let dl = be32(blob, 4).ok_or_else(|| format!("header of {} bytes is too short", blob.len()))?;
        if il == 0 || il > MAX_INDEX_ENTRIES {
            return Err(format!("header index count {il} is out of range"));
        }
        if dl > MAX_DATA_LEN {
            return Err(format!("header data length {dl} is out of range"));
        }
        let index_end = 8 + il as usize * 16;
        let store_end = index_end + dl as usize;
        let store = blob.get(index_end..store_end).ok_or_else(|| {
            format!("header claims {il} entries and {dl} data bytes but the blob has {} bytes", blob.len())
        })?;
        let mut entries = Vec::with_capacity(il as usize);
        for i in 0..il as usize {
            let at = 8 + i * 16;
            let (Some(tag), Some(ty), Some(offset), Some(count)) =
                (be32(blob, at), be32(blob, at + 4), be32(blob, at + 8), be32(blob, at + 12))
            else {
                return Err(format!("header index entry {i} is truncated"));
            };
            entries.push(Entry { tag, ty, offset, count });
        }
        Ok(Header { entries, store })
    }

    /// The last entry with this tag (later entries override earlier ones).
    fn entry(&self, tag: u32) -> Option<Entry> {
        self.entries.iter().rev().find(|e| e.tag == tag).copied()
    }

    /// A string tag (STRING, or the first element of STRING_ARRAY / I18NSTRING).
    pub fn string(&self, tag: u32) -> Result<Option<String>, String> {
        let Some(e) = self.entry(tag) else { return Ok(None) };
        if !matches!(e.ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return Err(format!("tag {tag} has type {} where a string was expected", e.ty));
        }
        if e.count == 0 {
            return Ok(None);
        }
        let rest = self
            .store
            .get(e.offset as usize..)
            .ok_or_else(|| format!("tag {tag} offset {} is past the data store", e.offset))?;
        let end =
            rest.iter().position(|&b| b == 0).ok_or_else(|| format!("tag {tag} string is not terminated"))?;
        Ok(Some(String::from_utf8_lossy(&rest[..end]).into_owned()))
    }

    /// The first value of an INT32 tag.
    pub fn int32(&self, tag: u32) -> Result<Option<u32>, String> {
        let Some(e) = self.entry(tag) else { return Ok(None) };
        if e.ty != TYPE_INT32 {
            return Err(format!("tag {tag} has type {} where INT32 was expected", e.ty));
        }
        if e.count == 0 {
            return Ok(None);
        }
        be32(self.store, e.offset as usize)
            .map(Some)
            .ok_or_else(|| format!("tag {tag} offset {} is past the data store", e.offset))
    }
}

/// `openssl-3.0.7-27.el9.src.rpm` -> (`openssl`, `3.0.7-27.el9`).
pub fn parse_source_rpm(s: &str) -> Option<SourcePackage> {
    let base = s.strip_suffix(".src.rpm").or_else(|| s.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some(SourcePackage { name: name.to_string(), version: format!("{version}-{release}") })
}

/// Turn one header blob into a package. `Ok(None)` for the `gpg-pubkey` pseudo-packages rpm uses to store
/// imported signing keys.
pub fn header_to_package(blob: &[u8], input: &Input, found_by: &str) -> Result<Option<Package>, String> {
    let h = Header::parse(blob)?;
    let name = h.string(TAG_NAME)?.filter(|n| !n.is_empty()).ok_or("no NAME tag")?;
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version =
        h.string(TAG_VERSION)?.filter(|v| !v.is_empty()).ok_or_else(|| format!("{name}: no VERSION tag"))?;
    let full = match h.string(TAG_RELEASE)?.filter(|r| !r.is_empty()) {
        Some(release) => format!("{version}-{release}"),
        None => version,
    };
    let mut p = Package::new(Ecosystem::Rpm, name, full, input.location(), found_by);
    if let Some(epoch) = h.int32(TAG_EPOCH)? {
        p.metadata.insert("epoch".into(), epoch.to_string());
    }
    p.arch = h.string(TAG_ARCH)?.filter(|a| !a.is_empty());
    if let Some(l) = h.string(TAG_LICENSE)?.filter(|l| !l.is_empty()) {
        p.licenses.push(l);
    }
    if let Some(v) = h.string(TAG_VENDOR)?.filter(|v| !v.is_empty()) {
        p.metadata.insert("vendor".into(), v);
    }
    if let Some(m) = h.string(TAG_MODULARITYLABEL)?.filter(|m| !m.is_empty()) {
        p.metadata.insert("modularitylabel".into(), m);
    }
    if let Some(srpm) = h.string(TAG_SOURCERPM)?.filter(|s| !s.is_empty() && s != "(none)") {
        p.source = parse_source_rpm(&srpm);
        p.metadata.insert("sourcerpm".into(), srpm);
    }
    Ok(Some(p))
}

/// Collects the packages of one database, with per-header problems as (capped) warnings.
pub struct Collector<'i, 'a> {
    input: &'i Input<'a>,
    found_by: &'static str,
    warnings: Vec<String>,
    dropped: usize,
    pub packages: Vec<Package>,
}

impl<'i, 'a> Collector<'i, 'a> {
    pub fn new(input: &'i Input<'a>, found_by: &'static str) -> Self {
        Collector { input, found_by, warnings: Vec::new(), dropped: 0, packages: Vec::new() }
    }

    /// Add one header blob found under `what` (e.g. `header 12`).
    pub fn blob(&mut self, what: &str, blob: &[u8]) {
        match header_to_package(blob, self.input, self.found_by) {
            Ok(Some(p)) => self.packages.push(p),
            Ok(None) => {}
            Err(e) => self.warn(format!("{what}: {e}; skipped")),
        }
    }

    pub fn warn(&mut self, w: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(w);
        } else {
            self.dropped += 1;
        }
    }

    pub fn finish(mut self, out: &mut Output) {
        if self.dropped > 0 {
            self.warnings.push(format!("{} more problems not shown", self.dropped));
        }
        out.packages.extend(self.packages);
        out.warnings.extend(self.warnings);
    }
}

/// Test helper: build a header blob from (tag, type, value) triples.
#[cfg(test)]
pub(crate) fn build_header(entries: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut store = Vec::new();
    for (tag, ty, value) in entries {
        if *ty == TYPE_INT32 {
            while store.len() % 4 != 0 {
                store.push(0);
            }
        }
        let count = if *ty == TYPE_INT32 { value.len() / 4 } else { 1 };
        index.extend_from_slice(&tag.to_be_bytes());
        index.extend_from_slice(&ty.to_be_bytes());
        index.extend_from_slice(&(store.len() as u32).to_be_bytes());
        index.extend_from_slice(&(count as u32).to_be_bytes());
        store.extend_from_slice(value);
    }
    let mut blob = Vec::new();
    blob.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    blob.extend_from_slice(&(store.len() as u32).to_be_bytes());
    blob.extend_from_slice(&index);
    blob.extend_from_slice(&store);
    blob
}

#[cfg(test)]
pub(crate) fn s(v: &str) -> Vec<u8> {
    let mut b = v.as_bytes().to_vec();
    b.push(0);
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(data: &[u8]) -> Input<'_> {
        Input { path: "var/lib/rpm/rpmdb.sqlite", layer: None, data }
    }

    #[test]
    fn full_header() {
        let blob = build_header(&[
            (TAG_NAME, TYPE_STRING, s("openssl-libs")),
            (TAG_VERSION, TYPE_STRING, s("3.0.7")),
            (TAG_RELEASE, TYPE_STRING, s("27.el9")),
            (TAG_EPOCH, TYPE_INT32, 1u32.to_be_bytes().to_vec()),
            (TAG_ARCH, TYPE_STRING, s("x86_64")),
            (TAG_LICENSE, TYPE_STRING, s("Apache-2.0")),
            (TAG_VENDOR, TYPE_STRING, s("Red Hat, Inc.")),
            (TAG_SOURCERPM, TYPE_STRING, s("openssl-3.0.7-27.el9.src.rpm")),
        ]);
        let p = header_to_package(&blob, &input(&[]), "rpm-sqlite").unwrap().unwrap();
        assert_eq!((p.name.as_str(), p.version.as_str()), ("openssl-libs", "3.0.7-27.el9"));
        assert_eq!(p.metadata["epoch"], "1");
        assert_eq!(p.metadata["vendor"], "Red Hat, Inc.");
        assert_eq!(p.arch.as_deref(), Some("x86_64"));
        assert_eq!(p.licenses, ["Apache-2.0"]);
        assert_eq!(p.source, Some(SourcePackage { name: "openssl".into(), version: "3.0.7-27.el9".into() }));
    }

    #[test]
    fn gpg_pubkey_is_skipped() {
        let blob = build_header(&[
            (TAG_NAME, TYPE_STRING, s("gpg-pubkey")),
            (TAG_VERSION, TYPE_STRING, s("fd431d51")),
        ]);
        assert_eq!(header_to_package(&blob, &input(&[]), "x").unwrap(), None);
    }

    #[test]
    fn bad_headers() {
        let run = |b: &[u8]| header_to_package(b, &input(&[]), "x").unwrap_err();
        assert!(run(&[0, 0, 0]).contains("too short"));
        assert!(run(&[0, 0, 0, 0, 0, 0, 0, 0]).contains("index count 0"));
        assert!(run(&[0, 0, 0, 1, 0, 0, 0, 100]).contains("but the blob has 8 bytes"));
        // Offset past the store.
        let mut blob = build_header(&[(TAG_NAME, TYPE_STRING, s("x"))]);
        blob[8 + 8..8 + 12].copy_from_slice(&1000u32.to_be_bytes());
        assert!(run(&blob).contains("past the data store"));
        // Unterminated string.
        let mut blob = build_header(&[(TAG_NAME, TYPE_STRING, b"abc".to_vec())]);
        blob.truncate(blob.len());
        assert!(run(&blob).contains("not terminated"));
        // Wrong type for NAME.
        let blob = build_header(&[(TAG_NAME, TYPE_INT32, 5u32.to_be_bytes().to_vec())]);
        assert!(run(&blob).contains("where a string was expected"));
        let blob = build_header(&[(TAG_NAME, TYPE_STRING, s("x"))]);
        assert!(run(&blob).contains("x: no VERSION tag"));
    }

    #[test]
    fn source_rpm_names() {
        let sp = parse_source_rpm("glibc-2.34-60.el9.src.rpm").unwrap();
        assert_eq!((sp.name.as_str(), sp.version.as_str()), ("glibc", "2.34-60.el9"));
        let sp = parse_source_rpm("python3-pip-21.2.3-7.el9.nosrc.rpm").unwrap();
        assert_eq!(sp.name, "python3-pip");
        assert_eq!(parse_source_rpm("foo.src.rpm"), None);
        assert_eq!(parse_source_rpm("foo-1.src.rpm"), None);
        assert_eq!(parse_source_rpm("foo-1-2.rpm"), None);
    }
}
