//! Cheap look inside an executable before it is read whole: which sections does its ELF section table name?
//!
//! A root filesystem holds gigabytes of executables (shared libraries, toolchains, build outputs); only those
//! with a `.go.buildinfo` section (Go) or a `.dep-v0` section (`cargo auditable`) carry package data. Reading
//! the 64-byte ELF header, the section header table and the section-name string table (a few KiB) answers
//! that without reading the file. PE and Mach-O files are kept (they are rare on Linux and their parsers
//! search the whole file); anything that is not an executable format is dropped.

use palisade_artifact::Probe;

/// Largest section header table and name table read (sane binaries are far below).
const MAX_TABLE: u64 = 1 << 20;

/// `Some(true)` when the ELF file names one of `sections`, `Some(false)` when it does not, `None` when the
/// file is not ELF or its tables cannot be read (callers decide: keep or drop).
pub(crate) fn elf_has_section(probe: &dyn Probe, sections: &[&str]) -> Option<bool> {
    elf_find_section(probe, sections).map(|found| found.is_some())
}

/// File offset and size of the first section of the ELF file named in `sections`: `Some(None)` when it has
/// none, `None` when the file is not ELF or its tables cannot be read.
pub(crate) fn elf_find_section(probe: &dyn Probe, sections: &[&str]) -> Option<Option<(u64, u64)>> {
    let h = probe.read_at(0, 64)?;
    if h.len() < 52 || &h[..4] != b"\x7fELF" {
        return None;
    }
    let is64 = match h[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let le = match h[5] {
        1 => true,
        2 => false,
        _ => return None,
    };
    let u16_at = |b: &[u8], o: usize| -> Option<u64> {
        let s: [u8; 2] = b.get(o..o + 2)?.try_into().ok()?;
        Some(u64::from(if le { u16::from_le_bytes(s) } else { u16::from_be_bytes(s) }))
    };
    let u32_at = |b: &[u8], o: usize| -> Option<u64> {
        let s: [u8; 4] = b.get(o..o + 4)?.try_into().ok()?;
        Some(u64::from(if le { u32::from_le_bytes(s) } else { u32::from_be_bytes(s) }))
    };
    let u64_at = |b: &[u8], o: usize| -> Option<u64> {
        let s: [u8; 8] = b.get(o..o + 8)?.try_into().ok()?;
        Some(if le { u64::from_le_bytes(s) } else { u64::from_be_bytes(s) })
    };
    let word = |b: &[u8], o32: usize, o64: usize| if is64 { u64_at(b, o64) } else { u32_at(b, o32) };
    let shoff = word(&h, 0x20, 0x28)?;
    let (shentsize, shnum, shstrndx) = if is64 {
        (u16_at(&h, 0x3a)?, u16_at(&h, 0x3c)?, u16_at(&h, 0x3e)?)
    } else {
        (u16_at(&h, 0x2e)?, u16_at(&h, 0x30)?, u16_at(&h, 0x32)?)
    };
    let min_ent = if is64 { 0x40 } else { 0x28 };
    if shoff == 0 || shnum == 0 || shentsize < min_ent || shstrndx >= shnum {
        return None;
    }
    let table_len = shentsize.checked_mul(shnum).filter(|n| *n <= MAX_TABLE)?;
    let table = probe.read_at(shoff, usize::try_from(table_len).ok()?)?;
    let entry = |i: u64| table.get(usize::try_from(i * shentsize).ok()?..);
    // sh_name (u32), then sh_offset and sh_size at class-specific offsets.
    let strtab_hdr = entry(shstrndx)?;
    let str_off = word(strtab_hdr, 0x10, 0x18)?;
    let str_size = word(strtab_hdr, 0x14, 0x20)?.min(MAX_TABLE);
    let names = probe.read_at(str_off, usize::try_from(str_size).ok()?)?;
    for i in 0..shnum {
        let Some(e) = entry(i) else { break };
        let Some(name_off) = u32_at(e, 0).and_then(|o| usize::try_from(o).ok()) else { continue };
        let Some(rest) = names.get(name_off..) else { continue };
        let name = rest.split(|b| *b == 0).next().unwrap_or_default();
        if sections.iter().any(|s| s.as_bytes() == name) {
            let offset = word(e, 0x10, 0x18)?;
            let size = word(e, 0x14, 0x20)?;
            return Some(Some((offset, size)));
        }
    }
    Some(None)
}

/// The decision binary parsers make: ELF only when it names one of `sections`; PE and Mach-O kept; other
/// formats (scripts, data with an execute bit) dropped; unreadable ELF tables kept (the parser decides).
pub(crate) fn keep_binary(probe: &dyn Probe, sections: &[&str]) -> bool {
    match elf_has_section(probe, sections) {
        Some(found) => found,
        None => match probe.read_at(0, 64) {
            Some(head) if head.starts_with(b"\x7fELF") => true,
            Some(head) => super::go_binary::is_executable_format(&head),
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bytes(Vec<u8>);

    impl Probe for Bytes {
        fn read_at(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
            let start = usize::try_from(offset).ok()?.min(self.0.len());
            let end = start.saturating_add(len).min(self.0.len());
            Some(self.0[start..end].to_vec())
        }
    }

    #[test]
    fn finds_sections_in_real_binaries() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut seen = 0;
        for entry in walk(&dir) {
            let Ok(data) = std::fs::read(&entry) else { continue };
            if !data.starts_with(b"\x7fELF") {
                continue;
            }
            seen += 1;
            let p = Bytes(data);
            let go = elf_has_section(&p, &[".go.buildinfo"]);
            let rust = elf_has_section(&p, &[".dep-v0"]);
            let name = entry.to_string_lossy();
            if name.contains("/go/") {
                assert_eq!(go, Some(true), "{name}");
            }
            if name.contains("rust-auditable") {
                assert_eq!(rust, Some(true), "{name}");
                assert_eq!(go, Some(false), "{name}");
            }
        }
        assert!(seen > 0, "no ELF fixtures found");
        // A C-built system binary has neither.
        if let Ok(ls) = std::fs::read("/bin/ls") {
            assert_eq!(elf_has_section(&Bytes(ls), &[".go.buildinfo", ".dep-v0"]), Some(false));
        }
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        let Ok(rd) = std::fs::read_dir(dir) else { return out };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn garbage_and_truncation_never_panic() {
        assert_eq!(elf_has_section(&Bytes(b"#!/bin/sh\necho hi\n".to_vec()), &[".dep-v0"]), None);
        assert!(!keep_binary(&Bytes(b"#!/bin/sh\necho hi\n".to_vec()), &[".dep-v0"]));
        let mut h = b"\x7fELF\x02\x01\x01".to_vec();
        h.resize(64, 0xff);
        for n in 0..64 {
            let _ = elf_has_section(&Bytes(h[..n].to_vec()), &[".dep-v0"]);
        }
        let _ = elf_has_section(&Bytes(h), &[".dep-v0"]);
    }
}

#[cfg(test)]
mod go_probe_tests {
    use crate::parsers::go_binary::GoBinary;
    use crate::{Input, Output, Parser};
    use palisade_artifact::{Content, FileMeta};

    /// Reading only `.go.buildinfo` gives exactly what reading the whole binary gives.
    #[test]
    fn probe_parse_equals_whole_parse_on_the_real_go_fixture() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go/hello-linux-amd64");
        let data = std::fs::read(&path).expect("Go fixture");
        let meta = FileMeta { path: "bin/hello", size: data.len() as u64, mode: 0o755, layer: Some(2) };
        let mut whole = Output::default();
        GoBinary.parse(&Input { path: "bin/hello", layer: Some(2), data: &data }, &mut whole).unwrap();
        let mut probed = Output::default();
        let content = Content::bytes(&data);
        GoBinary
            .parse_probe(&meta, &content, &mut probed)
            .expect("inline build info is read by probing")
            .unwrap();
        assert!(!whole.packages.is_empty());
        assert_eq!(probed.packages, whole.packages);
        // Not a Go binary: the probe declines, and the whole-file parser decides.
        let ls = Content::bytes(b"#!/bin/sh\n");
        assert!(GoBinary.parse_probe(&meta, &ls, &mut Output::default()).is_none());
    }
}
