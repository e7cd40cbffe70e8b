//! The SPDX licence texts the matcher compares files against, in the compact form `build.rs` made at
//! compile time, embedded in the binary and read in place: nothing is decoded at start, and a scan that
//! meets no licence text never touches it.
//!
//! For one file, [`candidates`] ranks the texts by the word bigrams they share with it (an index lookup per
//! bigram of the file) and keeps the few that could match; only those are turned into the matcher's form
//! ([`TextData`], normalised once per process and kept), and [`store_for`] puts them in a small
//! [`Store`] for the askalono matcher. The best whole-text match, and every licence text contained in a larger
//! file, share many bigrams with the file, so they are among the candidates: the result is the one the
//! full store gives (the `same_as_the_full_store` test checks this on the fixture texts).

use crate::bigrams::bigram_hashes;
use spdx::detection::{LicenseEntry, LicenseType, Store, TextData};
use std::collections::HashMap;
use std::sync::OnceLock;

static BLOB: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/spdx-texts.bin"));

const HEADER: usize = 16;
const ROW: usize = 13;

/// Candidates ranked by their approximate similarity to the file (Dice over the pre-filter bigrams).
const BY_SIMILARITY: usize = 12;
/// Candidates ranked by the share of their own bigrams found in the file (a licence inside a larger text).
const BY_CONTAINMENT: usize = 32;
/// A text is a containment candidate only when at least this share of its bigrams is in the file.
const MIN_CONTAINMENT: f32 = 0.3;

struct Index {
    texts: usize,
    keys: usize,
    table: usize,
    key_at: usize,
    offsets_at: usize,
    postings_at: usize,
    strings_at: usize,
    built: Vec<OnceLock<TextData>>,
}

fn u32_at(at: usize) -> u32 {
    BLOB.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes).unwrap_or(0)
}

fn u64_at(at: usize) -> u64 {
    BLOB.get(at..at + 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes).unwrap_or(0)
}

fn index() -> Option<&'static Index> {
    static INDEX: OnceLock<Option<Index>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            if BLOB.get(..8) != Some(b"PLTX0001".as_slice()) {
                return None;
            }
            let texts = u32_at(8) as usize;
            let keys = u32_at(12) as usize;
            let table = HEADER;
            let key_at = table + texts * ROW;
            let offsets_at = key_at + keys * 8;
            let postings_at = offsets_at + (keys + 1) * 4;
            let postings = u32_at(offsets_at + keys * 4) as usize;
            let strings_at = postings_at + postings * 4;
            (strings_at <= BLOB.len()).then(|| Index {
                texts,
                keys,
                table,
                key_at,
                offsets_at,
                postings_at,
                strings_at,
                built: (0..texts).map(|_| OnceLock::new()).collect(),
            })
        })
        .as_ref()
}

impl Index {
    fn string(&self, offset: u32) -> &'static str {
        let at = self.strings_at + offset as usize;
        let len = u32_at(at) as usize;
        BLOB.get(at + 4..at + 4 + len).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
    }

    fn row(&self, i: usize) -> (&'static str, u32, u32, LicenseType) {
        let at = self.table + i * ROW;
        let kind = if BLOB.get(at + 12) == Some(&1) { LicenseType::Header } else { LicenseType::Original };
        (self.string(u32_at(at)), u32_at(at + 4), u32_at(at + 8), kind)
    }

    /// The postings of one bigram hash: (text index, count in that text).
    fn postings(&self, hash: u64) -> impl Iterator<Item = (usize, u32)> + '_ {
        let (mut lo, mut hi) = (0usize, self.keys);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if u64_at(self.key_at + mid * 8) < hash { lo = mid + 1 } else { hi = mid }
        }
        let range = if lo < self.keys && u64_at(self.key_at + lo * 8) == hash {
            u32_at(self.offsets_at + lo * 4) as usize..u32_at(self.offsets_at + lo * 4 + 4) as usize
        } else {
            0..0
        };
        range.map(|p| {
            let v = u32_at(self.postings_at + p * 4);
            ((v >> 16) as usize, v & 0xffff)
        })
    }

    /// The matcher's form of text `i`, made on first use.
    fn text_data(&self, i: usize) -> &TextData {
        self.built[i].get_or_init(|| TextData::new(self.string(self.row(i).1)))
    }
}

/// Number of licence texts and headers embedded (0 if the blob is unreadable).
pub fn len() -> usize {
    index().map_or(0, |x| x.texts)
}

/// The indexes of the texts that could match `text`, most similar first.
pub fn candidates(text: &str) -> Vec<usize> {
    let Some(ix) = index() else { return Vec::new() };
    let grams = bigram_hashes(text);
    if grams.is_empty() {
        return Vec::new();
    }
    let mut counts: HashMap<u64, u32> = HashMap::new();
    for g in &grams {
        *counts.entry(*g).or_default() += 1;
    }
    let mut shared: HashMap<usize, u32> = HashMap::new();
    for (g, n) in &counts {
        for (t, c) in ix.postings(*g) {
            *shared.entry(t).or_default() += c.min(*n);
        }
    }
    let total = grams.len() as f32;
    let mut scored: Vec<(usize, f32, f32)> = shared
        .into_iter()
        .map(|(t, s)| {
            let size = ix.row(t).2.max(1) as f32;
            (t, 2.0 * s as f32 / (total + size), s as f32 / size)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out: Vec<usize> = scored.iter().take(BY_SIMILARITY).map(|s| s.0).collect();
    scored.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    for s in scored.iter().filter(|s| s.2 >= MIN_CONTAINMENT).take(BY_CONTAINMENT) {
        if !out.contains(&s.0) {
            out.push(s.0);
        }
    }
    out
}

/// A matcher store holding only the texts `which` (licence texts and headers under their SPDX names).
pub fn store_for(which: &[usize]) -> Store {
    let mut store = Store::new();
    let Some(ix) = index() else { return store };
    let mut entries: HashMap<&str, LicenseEntry> = HashMap::new();
    // Licence texts first, so a header joins the entry of its licence when both are candidates.
    let mut sorted: Vec<(usize, &str, LicenseType)> = which
        .iter()
        .filter(|&&i| i < ix.texts)
        .map(|&i| {
            let (name, _, _, kind) = ix.row(i);
            (i, name, kind)
        })
        .collect();
    sorted.sort_by_key(|(i, _, kind)| (*kind == LicenseType::Header, *i));
    for (i, name, kind) in sorted {
        let data = ix.text_data(i).clone();
        match entries.get_mut(name) {
            Some(e) if kind == LicenseType::Header => e.headers.push(data),
            Some(e) => e.alternates.push(data),
            None => {
                entries.insert(name, LicenseEntry::new(data));
            }
        }
    }
    for (name, e) in entries {
        store.insert_entry(name.to_string(), e);
    }
    store
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_texts_are_readable() {
        assert!(len() > 600, "{} texts", len());
        let ix = index().unwrap();
        let names: Vec<&str> = (0..ix.texts).map(|i| ix.row(i).0).collect();
        assert!(names.contains(&"MIT") && names.contains(&"GPL-3.0-or-later"));
    }

    #[test]
    fn candidates_find_the_licence() {
        let mit = include_str!("../tests/fixtures/LICENSE-MIT");
        let c = candidates(mit);
        let ix = index().unwrap();
        assert!(
            c.iter().any(|&i| ix.row(i).0 == "MIT"),
            "{:?}",
            c.iter().map(|&i| ix.row(i).0).collect::<Vec<_>>()
        );
        assert!(candidates("").is_empty());
        let store = store_for(&c);
        assert!(!store.is_empty() && store.len() <= c.len());
    }
}
