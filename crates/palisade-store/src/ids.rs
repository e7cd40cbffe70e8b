//! Row keys computed from content (no autoincrement, so both backends and every replica agree).

use sha2::{Digest, Sha256};

/// A 63-bit key from the SHA-256 of the parts (each length-prefixed).
pub(crate) fn key(parts: &[&str]) -> i64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (u64::from_le_bytes(b) >> 1) as i64
}

/// The key of an image: its manifest digest (a platform's manifest, never an index: the digest names one
/// image for one platform).
pub fn image_id(digest: &str) -> i64 {
    key(&["image", digest])
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_stable_and_distinct() {
        assert_eq!(super::image_id("sha256:a"), super::image_id("sha256:a"));
        assert_ne!(super::image_id("sha256:a"), super::image_id("sha256:b"));
        assert_ne!(super::key(&["ab", "c"]), super::key(&["a", "bc"]));
        assert!(super::key(&["x"]) >= 0);
    }
}
