//! The word bigrams the licence-text pre-filter compares (shared by `build.rs`, which indexes the SPDX
//! texts at compile time, and [`crate::texts`], which looks a file's bigrams up at run time).
//!
//! Deliberately simpler than the matcher's own normalisation: words are runs of letters and digits, lower
//! cased; a bigram is two consecutive words, hashed (FNV-1a, 64 bits). The pre-filter only has to rank the
//! licence texts roughly so that the exact matcher sees the right few; the score that names a licence is
//! always the matcher's.

/// Hashes of the consecutive word pairs of `text`, in text order (a pair may repeat).
pub fn bigram_hashes(text: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut prev: Option<u64> = None;
    let mut word = String::new();
    let flush = |word: &mut String, prev: &mut Option<u64>, out: &mut Vec<u64>| {
        if word.is_empty() {
            return;
        }
        let h = fnv(FNV_OFFSET, word.as_bytes());
        if let Some(p) = *prev {
            // The pair's hash: the first word's hash, a space, then the second word.
            out.push(fnv(fnv(p, b" "), word.as_bytes()));
        }
        *prev = Some(h);
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        } else {
            flush(&mut word, &mut prev, &mut out);
        }
    }
    flush(&mut word, &mut prev, &mut out);
    out
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
