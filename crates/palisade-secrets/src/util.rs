//! Small helpers: Shannon entropy, the GitHub/npm CRC-32 base62 checksum, redaction and fingerprints.

use sha2::{Digest, Sha256};

/// Shannon entropy of `s` in bits per byte (0 for an empty input).
pub fn shannon_entropy(s: &[u8]) -> f32 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as used by zlib and GitHub's token checksums.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Decode a base62 number (digits, upper case, lower case). `None` on a foreign character or overflow.
pub fn base62_decode(s: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &c in s {
        let d = BASE62.iter().position(|&x| x == c)? as u64;
        v = v.checked_mul(62)?.checked_add(d)?;
    }
    Some(v)
}

/// Encode `v` in base62, left-padded with `0` to `width` characters.
pub fn base62_encode(mut v: u64, width: usize) -> String {
    let mut out = Vec::new();
    while v > 0 {
        out.push(BASE62[(v % 62) as usize]);
        v /= 62;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// Verify a `<prefix><30 random><6 checksum>` token: the last 6 characters are the base62 CRC-32 of the
/// characters between the prefix and the checksum.
pub fn verify_crc32_base62(token: &[u8], prefix_len: usize) -> bool {
    if token.len() < prefix_len + 7 {
        return false;
    }
    let (body, sum) = token.split_at(token.len() - 6);
    let Some(random) = body.get(prefix_len..) else { return false };
    base62_decode(sum) == Some(u64::from(crc32(random)))
}

/// The redacted preview of a secret: a few leading characters and `*****`. Short secrets show fewer
/// characters (none below 10 bytes) so the preview never reveals a meaningful part of them.
pub fn redact_prefix(secret: &[u8]) -> String {
    let shown = match secret.len() {
        n if n >= 20 => 4,
        n if n >= 10 => 2,
        _ => 0,
    };
    let head = String::from_utf8_lossy(secret.get(..shown).unwrap_or_default());
    format!("{head}*****")
}

/// The first line of a key block (its `-----BEGIN ...-----` header), at most 80 characters.
pub fn redact_header(secret: &[u8]) -> String {
    let end =
        secret.iter().position(|&b| b == b'\n' || b == b'\r' || b == b'\\').unwrap_or(secret.len()).min(80);
    let head = String::from_utf8_lossy(secret.get(..end).unwrap_or_default());
    // A header without the closing dashes would not be a header: never show more than the marker line.
    head.into_owned()
}

/// Stable fingerprint of a finding: hex SHA-256 of `rule id \0 path \0 secret`.
pub fn fingerprint(rule_id: &str, path: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0u8]);
    h.update(path.as_bytes());
    h.update([0u8]);
    h.update(secret);
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-6);
        assert_eq!(shannon_entropy(b""), 0.0);
    }

    #[test]
    fn crc32_matches_known_vector() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn base62_round_trip() {
        assert_eq!(base62_encode(0, 6), "000000");
        assert_eq!(base62_decode(base62_encode(0xCBF4_3926, 6).as_bytes()), Some(0xCBF4_3926));
        assert_eq!(base62_decode(b"!"), None);
    }

    #[test]
    fn github_style_checksum() {
        let random = "zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ";
        let good = format!("ghp_{random}{}", base62_encode(u64::from(crc32(random.as_bytes())), 6));
        assert!(verify_crc32_base62(good.as_bytes(), 4));
        let bad = format!("ghp_{random}000000");
        assert!(!verify_crc32_base62(bad.as_bytes(), 4));
        assert!(!verify_crc32_base62(b"ghp_", 4));
    }

    #[test]
    fn redaction_never_shows_whole_secret() {
        assert_eq!(redact_prefix(b"ghp_abcdefghijklmnopqrstuvwxyz"), "ghp_*****");
        assert_eq!(redact_prefix(b"hunter2"), "*****");
        assert_eq!(redact_prefix(b"0123456789ab"), "01*****");
        assert_eq!(
            redact_header(b"-----BEGIN RSA PRIVATE KEY-----\nMIIE"),
            "-----BEGIN RSA PRIVATE KEY-----"
        );
    }

    #[test]
    fn fingerprint_is_stable_and_distinct() {
        assert_eq!(fingerprint("a", "p", b"s"), fingerprint("a", "p", b"s"));
        assert_ne!(fingerprint("a", "p", b"s"), fingerprint("a", "q", b"s"));
        assert_eq!(fingerprint("a", "p", b"s").len(), 64);
    }
}
