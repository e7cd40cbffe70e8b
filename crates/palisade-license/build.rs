//! Compile-time form of the SPDX licence texts for the text matcher (see `src/texts.rs`).
//!
//! The `spdx` crate ships the SPDX licence list as a zstd-compressed store whose loading decodes about
//! 16 MB into hundreds of thousands of small strings and hash maps (about 60 MB and 0.1 s in a release
//! build). Here, once per build, that store is read and written out as one flat blob that the binary embeds
//! and reads in place: each licence text and standard header as its normalised lines, and an index from
//! word-bigram hashes to the texts containing them, so that at run time only the few texts close to a file
//! are turned into the matcher's form.
//!
//! Blob layout (little-endian): magic `PLTX0001`; u32 text count T; u32 key count K; T × (u32 offset of
//! the name, u32 offset of the text, u32 bigram count, u8 kind: 0 licence text, 1 header); K × u64 sorted
//! bigram hash; (K + 1) × u32 posting offsets; postings as u32 (text index << 16 | count, count ≤ 65535);
//! then the strings, each u32 length + UTF-8 bytes.

#[path = "src/bigrams.rs"]
mod bigrams;

use std::collections::BTreeMap;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/bigrams.rs");
    let store = spdx::detection::Store::load_inline().expect("the spdx crate's embedded licence store loads");
    // (name, kind, normalised text), in a stable order.
    let mut texts: Vec<(String, u8, String)> = Vec::new();
    let mut names: Vec<&String> = store.licenses().collect();
    names.sort();
    for name in names {
        let Some(entry) = store.iter().find(|(n, _)| *n == name).map(|(_, e)| e) else { continue };
        texts.push((name.clone(), 0, entry.original.lines().join("\n")));
        for h in &entry.headers {
            texts.push((name.clone(), 1, h.lines().join("\n")));
        }
    }
    let mut index: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    let mut sizes = Vec::with_capacity(texts.len());
    for (i, (_, _, text)) in texts.iter().enumerate() {
        let grams = bigrams::bigram_hashes(text);
        sizes.push(grams.len() as u32);
        let mut counts: BTreeMap<u64, u32> = BTreeMap::new();
        for g in grams {
            *counts.entry(g).or_default() += 1;
        }
        for (g, c) in counts {
            index.entry(g).or_default().push(((i as u32) << 16) | c.min(0xffff));
        }
    }
    assert!(texts.len() < 0x1_0000, "text index must fit 16 bits");

    let mut strings: Vec<u8> = Vec::new();
    let mut put = |s: &str| {
        let at = strings.len() as u32;
        strings.extend_from_slice(&(s.len() as u32).to_le_bytes());
        strings.extend_from_slice(s.as_bytes());
        at
    };
    let mut table = Vec::new();
    for (i, (name, kind, text)) in texts.iter().enumerate() {
        let n = put(name);
        let t = put(text);
        table.push((n, t, sizes[i], *kind));
    }

    let mut out: Vec<u8> = Vec::new();
    out.extend_from_slice(b"PLTX0001");
    out.extend_from_slice(&(texts.len() as u32).to_le_bytes());
    out.extend_from_slice(&(index.len() as u32).to_le_bytes());
    for (n, t, size, kind) in &table {
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&t.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.push(*kind);
    }
    for k in index.keys() {
        out.extend_from_slice(&k.to_le_bytes());
    }
    let mut at = 0u32;
    for v in index.values() {
        out.extend_from_slice(&at.to_le_bytes());
        at += v.len() as u32;
    }
    out.extend_from_slice(&at.to_le_bytes());
    for v in index.values() {
        for p in v {
            out.extend_from_slice(&p.to_le_bytes());
        }
    }
    out.extend_from_slice(&strings);
    let path = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("spdx-texts.bin");
    std::fs::write(&path, out).expect("write the licence text blob");
}
