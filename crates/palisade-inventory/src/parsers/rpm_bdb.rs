//! `var/lib/rpm/Packages`: the Berkeley DB rpm database of RHEL/CentOS 7 and 8, Amazon Linux 2, SLES 12 and
//! other rpm < 4.16 systems.
//!
//! The file is a Berkeley DB *hash* database: page 0 is the hash metadata page (magic `0x061561`, page size,
//! byte order given by how the magic reads), the other pages are hash buckets, overflow pages and free
//! pages. Every page starts with a 26-byte header (`pgno` at 8, `next_pgno` at 16, `entries` at 20,
//! `hf_offset` at 22, `type` at 25). A hash page (type 2 or 13) has `entries` 16-bit offsets after the header
//! pointing at items, alternating key and data; an item is `H_KEYDATA` (type 1, bytes inline) or
//! `H_OFFPAGE` (type 3: first overflow page at +4, total length at +8). Overflow pages (type 7) carry
//! `hf_offset` bytes of data after their header and chain through `next_pgno`. Keys are header numbers; the
//! data are RPM header blobs ([`super::rpm_header`]). Key 0, where rpm keeps its instance counter, is
//! skipped. Pages are scanned in file order, so a half-written bucket chain cannot make the reader loop.

use super::rpm_header::Collector;
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;

/// Reader of Berkeley DB rpm databases.
pub struct RpmBdb;

const MAX_SIZE: u64 = 1024 * 1024 * 1024;
const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

impl Parser for RpmBdb {
    fn id(&self) -> &'static str {
        "rpm-bdb"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        matches!(meta.path, "var/lib/rpm/Packages" | "usr/lib/sysimage/rpm/Packages") && meta.size < MAX_SIZE
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let db = Db::open(input.data).map_err(ParseError::new)?;
        let mut collector = Collector::new(input, self.id());
        for pgno in 1..db.npages {
            let Some(page) = db.page(pgno) else { break };
            let ty = page.get(25).copied().unwrap_or(0);
            if ty != P_HASH && ty != P_HASH_UNSORTED {
                continue;
            }
            let entries = db.u16(page, 20).unwrap_or(0) as usize;
            let mut offsets = Vec::with_capacity(entries);
            for i in 0..entries {
                match db.u16(page, PAGE_HEADER + 2 * i) {
                    Some(o) if (o as usize) < page.len() && (o as usize) >= PAGE_HEADER => {
                        offsets.push(o as usize)
                    }
                    _ => {
                        collector.warn(format!(
                            "page {pgno}: item {i} offset is out of bounds; rest of page skipped"
                        ));
                        break;
                    }
                }
            }
            // Item i ends where item i-1 starts (items grow down from the end of the page).
            let item = |i: usize| -> Option<&[u8]> {
                let start = *offsets.get(i)?;
                let end = if i == 0 { page.len() } else { *offsets.get(i - 1)? };
                page.get(start..end)
            };
            for k in (0..offsets.len().saturating_sub(1)).step_by(2) {
                let what = format!("page {pgno} item {k}");
                let (Some(key), Some(data)) = (item(k), item(k + 1)) else {
                    collector.warn(format!("{what}: items overlap; skipped"));
                    continue;
                };
                let key_num = match key {
                    [H_KEYDATA, rest @ ..] if rest.len() == 4 => db.u32(rest, 0),
                    _ => None,
                };
                if key_num == Some(0) {
                    continue;
                }
                let what = match key_num {
                    Some(n) => format!("header {n}"),
                    None => what,
                };
                match db.item_value(data) {
                    Ok(blob) => collector.blob(&what, &blob),
                    Err(e) => collector.warn(format!("{what}: {e}; skipped")),
                }
            }
        }
        collector.finish(out);
        Ok(())
    }
}

/// An opened Berkeley DB hash file.
struct Db<'a> {
    data: &'a [u8],
    page_size: usize,
    npages: usize,
    big_endian: bool,
}

impl<'a> Db<'a> {
    fn open(data: &'a [u8]) -> Result<Self, String> {
        let magic = data.get(12..16).ok_or("file too short for a Berkeley DB metadata page")?;
        let le = u32::from_le_bytes([magic[0], magic[1], magic[2], magic[3]]);
        let be = u32::from_be_bytes([magic[0], magic[1], magic[2], magic[3]]);
        let big_endian = match (le, be) {
            (HASH_MAGIC, _) => false,
            (_, HASH_MAGIC) => true,
            _ => {
                return Err(format!(
                    "not a Berkeley DB hash database (magic {le:#x}); btree and other access methods are not \
                     rpm Packages files"
                ));
            }
        };
        let mut db = Db { data, page_size: 0, npages: 0, big_endian };
        let page_size = db.u32(data, 20).ok_or("metadata page truncated")? as usize;
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(format!("invalid Berkeley DB page size {page_size}"));
        }
        if data.get(25) != Some(&P_HASHMETA) {
            return Err("page 0 is not a hash metadata page".into());
        }
        if data.get(24).copied().unwrap_or(0) != 0 {
            return Err("encrypted Berkeley DB databases are not supported".into());
        }
        if data.get(26).copied().unwrap_or(0) & 1 != 0 {
            return Err("Berkeley DB databases with page checksums are not supported".into());
        }
        db.page_size = page_size;
        db.npages = data.len() / page_size;
        Ok(db)
    }

    fn page(&self, pgno: usize) -> Option<&'a [u8]> {
        let start = pgno.checked_mul(self.page_size)?;
        self.data.get(start..start.checked_add(self.page_size)?)
    }

    fn u16(&self, b: &[u8], at: usize) -> Option<u16> {
        let s = b.get(at..at.checked_add(2)?)?;
        Some(if self.big_endian {
            u16::from_be_bytes([s[0], s[1]])
        } else {
            u16::from_le_bytes([s[0], s[1]])
        })
    }

    fn u32(&self, b: &[u8], at: usize) -> Option<u32> {
        let s = b.get(at..at.checked_add(4)?)?;
        let a = [s[0], s[1], s[2], s[3]];
        Some(if self.big_endian { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) })
    }

    /// The value of a data item: inline bytes or the concatenated overflow chain.
    fn item_value(&self, item: &[u8]) -> Result<Vec<u8>, String> {
        match item.first() {
            Some(&H_KEYDATA) => Ok(item.get(1..).unwrap_or_default().to_vec()),
            Some(&H_OFFPAGE) => {
                let first = self.u32(item, 4).ok_or("off-page item truncated")? as usize;
                let total = self.u32(item, 8).ok_or("off-page item truncated")? as usize;
                if total > self.data.len() {
                    return Err(format!("off-page length {total} is larger than the file"));
                }
                let mut value = Vec::with_capacity(total);
                let mut pgno = first;
                let mut hops = 0usize;
                while value.len() < total {
                    hops += 1;
                    if pgno == 0 || hops > self.npages {
                        return Err(format!("overflow chain ends after {} of {total} bytes", value.len()));
                    }
                    let page =
                        self.page(pgno).ok_or_else(|| format!("overflow page {pgno} is past the end"))?;
                    if page.get(25) != Some(&P_OVERFLOW) {
                        return Err(format!("page {pgno} in an overflow chain is not an overflow page"));
                    }
                    let len = self.u16(page, 22).unwrap_or(0) as usize;
                    let chunk = page
                        .get(PAGE_HEADER..PAGE_HEADER + len)
                        .ok_or_else(|| format!("overflow page {pgno} claims {len} bytes"))?;
                    value.extend_from_slice(chunk);
                    pgno = self.u32(page, 16).unwrap_or(0) as usize;
                }
                value.truncate(total);
                Ok(value)
            }
            Some(t) => Err(format!("unsupported hash item type {t}")),
            None => Err("empty hash item".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/rpm/Packages");

    fn parse(data: &[u8]) -> Result<Output, ParseError> {
        let mut out = Output::default();
        RpmBdb.parse(&Input { path: "var/lib/rpm/Packages", layer: None, data }, &mut out)?;
        Ok(out)
    }

    #[test]
    fn wants() {
        let meta = |path| FileMeta { path, size: 10, mode: 0o644, layer: None };
        assert!(RpmBdb.wants(&meta("var/lib/rpm/Packages")));
        assert!(!RpmBdb.wants(&meta("var/lib/rpm/Packages.db")));
        assert!(!RpmBdb.wants(&meta("var/lib/rpm/Name")));
    }

    /// Written by Berkeley DB 5.3's db_load and read back by rpm's bdb_ro backend (`make.sh`); the
    /// fixture-lib header (16 KB) spans several overflow pages.
    #[test]
    fn berkeley_db_fixture() {
        let out = parse(FIXTURE).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let mut got: Vec<_> = out.packages.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
        got.sort();
        assert_eq!(
            got,
            [("fixture-lib", "2.0-1.el9"), ("fixture-tool", "1.2.3-4.el9"), ("openssl-libs", "3.0.7-27.el9")]
        );
        let ssl = out.packages.iter().find(|p| p.name == "openssl-libs").unwrap();
        assert_eq!(ssl.metadata["epoch"], "1");
        assert_eq!(ssl.licenses, ["Apache-2.0"]);
        assert_eq!(ssl.found_by, "rpm-bdb");
    }

    #[test]
    fn not_a_hash_db() {
        assert!(parse(b"short").unwrap_err().0.contains("too short"));
        assert!(parse(&[0u8; 4096]).unwrap_err().0.contains("not a Berkeley DB hash database"));
        let mut bad = FIXTURE.to_vec();
        bad[20..24].copy_from_slice(&1000u32.to_le_bytes());
        assert!(parse(&bad).unwrap_err().0.contains("invalid Berkeley DB page size 1000"));
    }

    #[test]
    fn broken_overflow_chain_is_a_warning() {
        // Break every overflow page's type byte: each off-page header now fails, no panic, one warning each.
        let mut bad = FIXTURE.to_vec();
        let page_size = 4096;
        for p in 1..bad.len() / page_size {
            if bad[p * page_size + 25] == P_OVERFLOW {
                bad[p * page_size + 25] = 0;
            }
        }
        let out = parse(&bad).unwrap();
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 3, "{:?}", out.warnings);
        assert!(out.warnings[0].contains("is not an overflow page"), "{}", out.warnings[0]);
    }
}
