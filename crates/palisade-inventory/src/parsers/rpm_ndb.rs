//! `var/lib/rpm/Packages.db` and `usr/lib/sysimage/rpm/Packages.db`: rpm's native "ndb" database, used by
//! openSUSE and SLES 15.
//!
//! Layout (all integers little-endian): a 32-byte file header (`RpmP` magic, version 0, generation, number of
//! slot pages, next package index); then slot pages of 4096 bytes holding 16-byte slots (`Slot` magic,
//! package index, block offset, block count; offset 0 = free), the first page starting after the header.
//! Blocks are 16 bytes. A blob at `blkoff * 16` is a 16-byte head (`BlbS` magic, package index, timestamp,
//! length), the RPM header blob ([`super::rpm_header`]) and a 12-byte tail (Adler-32 of head and blob,
//! length, `BlbE` magic). A slot or blob that does not check out is reported and skipped.

use super::rpm_header::Collector;
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;

/// Reader of ndb rpm databases.
pub struct RpmNdb;

const MAX_SIZE: u64 = 1024 * 1024 * 1024;
const HEADER_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_HEAD_MAGIC: &[u8; 4] = b"BlbS";
const BLOB_TAIL_MAGIC: &[u8; 4] = b"BlbE";
const HEADER_SIZE: usize = 32;
const SLOT_SIZE: usize = 16;
const BLK_SIZE: usize = 16;
const PAGE_SIZE: usize = 4096;
const BLOB_HEAD: usize = 16;
const BLOB_TAIL: usize = 12;

impl Parser for RpmNdb {
    fn id(&self) -> &'static str {
        "rpm-ndb"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        matches!(meta.path, "var/lib/rpm/Packages.db" | "usr/lib/sysimage/rpm/Packages.db")
            && meta.size < MAX_SIZE
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let data = input.data;
        if data.len() < HEADER_SIZE || !data.starts_with(HEADER_MAGIC) {
            return Err(ParseError::new("not an rpm ndb database (no RpmP magic)"));
        }
        let version = le32(data, 4).unwrap_or(u32::MAX);
        if version != 0 {
            return Err(ParseError::new(format!("unsupported ndb version {version}")));
        }
        let slot_pages = le32(data, 12).unwrap_or(0) as usize;
        if slot_pages == 0 || slot_pages.saturating_mul(PAGE_SIZE) > data.len() {
            return Err(ParseError::new(format!(
                "ndb header claims {slot_pages} slot pages but the file has {} bytes",
                data.len()
            )));
        }
        let mut collector = Collector::new(input, self.id());
        let slots_end = slot_pages * PAGE_SIZE;
        for at in (HEADER_SIZE..slots_end).step_by(SLOT_SIZE) {
            let slot = at / SLOT_SIZE;
            if data.get(at..at + 4) != Some(SLOT_MAGIC.as_slice()) {
                collector.warn(format!("slot {slot}: bad magic; remaining slots not read"));
                break;
            }
            let (Some(pkgidx), Some(blkoff), Some(blkcnt)) =
                (le32(data, at + 4), le32(data, at + 8), le32(data, at + 12))
            else {
                break;
            };
            if blkoff == 0 {
                continue;
            }
            match read_blob(data, pkgidx, blkoff as usize, blkcnt as usize, slots_end) {
                Ok(blob) => collector.blob(&format!("package {pkgidx}"), blob),
                Err(e) => collector.warn(format!("package {pkgidx} (slot {slot}): {e}; skipped")),
            }
        }
        collector.finish(out);
        Ok(())
    }
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn read_blob(
    data: &[u8],
    pkgidx: u32,
    blkoff: usize,
    blkcnt: usize,
    slots_end: usize,
) -> Result<&[u8], String> {
    let start = blkoff.checked_mul(BLK_SIZE).ok_or("block offset overflows")?;
    let span = blkcnt.checked_mul(BLK_SIZE).ok_or("block count overflows")?;
    if start < slots_end {
        return Err(format!("block offset {blkoff} points into the slot pages"));
    }
    let area = data
        .get(start..start.checked_add(span).ok_or("block range overflows")?)
        .ok_or_else(|| format!("blocks {blkoff}+{blkcnt} are past the end of the file"))?;
    if area.get(0..4) != Some(BLOB_HEAD_MAGIC.as_slice()) {
        return Err("no BlbS magic at the blob start".into());
    }
    if le32(area, 4) != Some(pkgidx) {
        return Err("blob belongs to another package index".into());
    }
    let len = le32(area, 12).ok_or("blob head truncated")? as usize;
    let blob = area
        .get(BLOB_HEAD..BLOB_HEAD + len)
        .ok_or_else(|| format!("blob length {len} exceeds its blocks"))?;
    let tail = area.get(BLOB_HEAD + len..BLOB_HEAD + len + BLOB_TAIL).ok_or("blob tail truncated")?;
    if tail.get(8..12) != Some(BLOB_TAIL_MAGIC.as_slice()) || le32(tail, 4) != Some(len as u32) {
        return Err("bad blob tail".into());
    }
    let want = le32(tail, 0).unwrap_or(0);
    let got = adler32(area.get(..BLOB_HEAD + len).unwrap_or_default());
    if want != got {
        return Err(format!("checksum mismatch (stored {want:#010x}, computed {got:#010x})"));
    }
    Ok(blob)
}

/// Adler-32 (RFC 1950).
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsers::rpm_header::{build_header, s};

    /// Build an ndb file holding `blobs` the way rpm lays it out (one slot page).
    fn build_ndb(blobs: &[Vec<u8>]) -> Vec<u8> {
        let mut file = vec![0u8; PAGE_SIZE];
        file[0..4].copy_from_slice(HEADER_MAGIC);
        file[12..16].copy_from_slice(&1u32.to_le_bytes());
        file[16..20].copy_from_slice(&(blobs.len() as u32 + 1).to_le_bytes());
        for at in (HEADER_SIZE..PAGE_SIZE).step_by(SLOT_SIZE) {
            file[at..at + 4].copy_from_slice(SLOT_MAGIC);
        }
        for (i, blob) in blobs.iter().enumerate() {
            let pkgidx = i as u32 + 1;
            let blkoff = file.len() / BLK_SIZE;
            let mut rec = Vec::new();
            rec.extend_from_slice(BLOB_HEAD_MAGIC);
            rec.extend_from_slice(&pkgidx.to_le_bytes());
            rec.extend_from_slice(&1_700_000_000u32.to_le_bytes());
            rec.extend_from_slice(&(blob.len() as u32).to_le_bytes());
            rec.extend_from_slice(blob);
            let sum = adler32(&rec);
            rec.extend_from_slice(&sum.to_le_bytes());
            rec.extend_from_slice(&(blob.len() as u32).to_le_bytes());
            rec.extend_from_slice(BLOB_TAIL_MAGIC);
            while rec.len() % BLK_SIZE != 0 {
                rec.push(0);
            }
            let slot = HEADER_SIZE + i * SLOT_SIZE;
            file[slot + 4..slot + 8].copy_from_slice(&pkgidx.to_le_bytes());
            file[slot + 8..slot + 12].copy_from_slice(&(blkoff as u32).to_le_bytes());
            file[slot + 12..slot + 16].copy_from_slice(&((rec.len() / BLK_SIZE) as u32).to_le_bytes());
            file.extend_from_slice(&rec);
        }
        file
    }

    fn header(name: &str, version: &str, release: &str) -> Vec<u8> {
        build_header(&[
            (1000, 6, s(name)),
            (1001, 6, s(version)),
            (1002, 6, s(release)),
            (1022, 6, s("x86_64")),
        ])
    }

    fn parse(data: &[u8]) -> Result<Output, ParseError> {
        let mut out = Output::default();
        RpmNdb.parse(&Input { path: "usr/lib/sysimage/rpm/Packages.db", layer: None, data }, &mut out)?;
        Ok(out)
    }

    #[test]
    fn adler32_known_value() {
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(&[]), 1);
    }

    #[test]
    fn reads_slots_and_blobs() {
        let file = build_ndb(&[
            header("libzypp", "17.31.8", "150400.3.25.1"),
            header("bash", "4.4", "150400.27.3.2"),
        ]);
        let out = parse(&file).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let got: Vec<_> = out.packages.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
        assert_eq!(got, [("libzypp", "17.31.8-150400.3.25.1"), ("bash", "4.4-150400.27.3.2")]);
        assert_eq!(out.packages[0].found_by, "rpm-ndb");
    }

    #[test]
    fn damaged_blobs_are_warnings() {
        let mut file = build_ndb(&[header("a", "1", "1"), header("b", "2", "1")]);
        // Flip a byte inside the first blob: checksum mismatch.
        file[PAGE_SIZE + BLOB_HEAD + 20] ^= 0xff;
        let out = parse(&file).unwrap();
        assert_eq!(out.packages.len(), 1);
        assert!(out.warnings[0].contains("checksum mismatch"), "{:?}", out.warnings);
        // A slot pointing past the end.
        let mut file = build_ndb(&[header("a", "1", "1")]);
        file[HEADER_SIZE + 8..HEADER_SIZE + 12].copy_from_slice(&100_000u32.to_le_bytes());
        let out = parse(&file).unwrap();
        assert!(out.warnings[0].contains("past the end"), "{:?}", out.warnings);
    }

    #[test]
    fn not_ndb() {
        assert!(parse(b"RpmX and more bytes to reach thirty-two").unwrap_err().0.contains("no RpmP magic"));
        let mut file = build_ndb(&[]);
        file[12..16].copy_from_slice(&99u32.to_le_bytes());
        assert!(parse(&file).unwrap_err().0.contains("99 slot pages"));
    }
}
