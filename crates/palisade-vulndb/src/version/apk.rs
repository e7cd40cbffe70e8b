//! Alpine version order, written after apk-tools' rules: `1.2.3`, an optional letter (`1.2.3a`), suffixes
//! `_alpha` < `_beta` < `_pre` < `_rc` < (none) < `_cvs` < `_svn` < `_git` < `_hg` < `_p`, each with an optional
//! number, an optional `~hash`, then `-rN`. Components after the first that start with `0` compare as decimal
//! fractions (`1.01` < `1.1`), like apk.

use super::VersionError;
use std::cmp::Ordering;

const PRE: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// One token; the discriminant order is apk's token order, used when two versions differ in shape.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A number component; `fraction` when it is not the first and starts with `0`.
    Digit {
        text: String,
        fraction: bool,
    },
    Letter(char),
    /// Suffix rank: negative for pre-release suffixes, positive for post-release ones.
    Suffix(i8),
    SuffixNo(u64),
    Hash(String),
    Revision(u64),
    End,
}

impl Token {
    fn kind(&self) -> u8 {
        match self {
            Token::Digit { .. } => 1,
            Token::Letter(_) => 2,
            Token::Suffix(_) => 3,
            Token::SuffixNo(_) => 4,
            Token::Hash(_) => 5,
            Token::Revision(_) => 6,
            Token::End => 7,
        }
    }
}

/// A parsed apk version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkVersion {
    tokens: Vec<Token>,
}

impl ApkVersion {
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        let err = |why: &str| VersionError::new("apk", s, why);
        let b = s.as_bytes();
        let mut i = 0;
        let mut tokens = Vec::new();
        // Numbers separated by dots.
        loop {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return Err(err("expected a number"));
            }
            let text = &s[start..i];
            let fraction = !tokens.is_empty() && text.starts_with('0');
            tokens.push(Token::Digit { text: text.to_string(), fraction });
            if i < b.len() && b[i] == b'.' {
                i += 1;
                continue;
            }
            break;
        }
        if i < b.len() && b[i].is_ascii_lowercase() {
            tokens.push(Token::Letter(b[i] as char));
            i += 1;
        }
        while i < b.len() && b[i] == b'_' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_lowercase() {
                i += 1;
            }
            let word = &s[start..i];
            let rank = if let Some(p) = PRE.iter().position(|w| *w == word) {
                p as i8 - PRE.len() as i8
            } else if let Some(p) = POST.iter().position(|w| *w == word) {
                p as i8 + 1
            } else {
                return Err(err("unknown suffix"));
            };
            tokens.push(Token::Suffix(rank));
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i > start {
                tokens
                    .push(Token::SuffixNo(s[start..i].parse().map_err(|_| err("suffix number too large"))?));
            }
        }
        if i < b.len() && b[i] == b'~' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_hexdigit() {
                i += 1;
            }
            if i == start {
                return Err(err("empty ~hash"));
            }
            tokens.push(Token::Hash(s[start..i].to_ascii_lowercase()));
        }
        if i < b.len() && b[i] == b'-' {
            if b.get(i + 1) != Some(&b'r') {
                return Err(err("expected -rN"));
            }
            i += 2;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return Err(err("expected a number after -r"));
            }
            tokens.push(Token::Revision(s[start..i].parse().map_err(|_| err("revision too large"))?));
        }
        if i != b.len() {
            return Err(err("unexpected characters"));
        }
        tokens.push(Token::End);
        Ok(ApkVersion { tokens })
    }
}

fn cmp_digits(a: &str, af: bool, b: &str, bf: bool) -> Ordering {
    if af || bf {
        // Decimal fraction: compare as strings (trailing zeros are not significant).
        return a.trim_end_matches('0').cmp(b.trim_end_matches('0'));
    }
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.tokens.iter().zip(other.tokens.iter()) {
            let ord = match (a, b) {
                (Token::Digit { text: x, fraction: xf }, Token::Digit { text: y, fraction: yf }) => {
                    cmp_digits(x, *xf, y, *yf)
                }
                (Token::Letter(x), Token::Letter(y)) => x.cmp(y),
                (Token::Suffix(x), Token::Suffix(y)) => x.cmp(y),
                (Token::SuffixNo(x), Token::SuffixNo(y)) => x.cmp(y),
                (Token::Hash(x), Token::Hash(y)) => x.cmp(y),
                (Token::Revision(x), Token::Revision(y)) => x.cmp(y),
                (Token::End, Token::End) => Ordering::Equal,
                _ => {
                    // Different shapes: a pre-release suffix is older than anything; otherwise the version
                    // that goes on with an earlier kind of token is newer (1.2.1 > 1.2_p1 > 1.2-r1 > 1.2).
                    if let Token::Suffix(r) = a
                        && *r < 0
                    {
                        return Ordering::Less;
                    }
                    if let Token::Suffix(r) = b
                        && *r < 0
                    {
                        return Ordering::Greater;
                    }
                    return b.kind().cmp(&a.kind());
                }
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, assert_equal, assert_order};

    #[test]
    fn tricky_order() {
        assert_order(
            Scheme::Apk,
            &[
                "1.2_alpha",
                "1.2_alpha1",
                "1.2_beta2",
                "1.2_pre1",
                "1.2_rc1",
                "1.2_rc2-r3",
                "1.2",
                "1.2-r0",
                "1.2-r1",
                "1.2-r10",
                "1.2_cvs1",
                "1.2_git20200101",
                "1.2_p1",
                "1.2_p1-r1",
                "1.2_p2",
                "1.2a",
                "1.2b-r0",
                "1.2.1",
                "1.10",
            ],
        );
        assert_order(Scheme::Apk, &["1.01", "1.1"]);
        assert_order(Scheme::Apk, &["1.1.1k-r0", "1.1.1l-r0", "3.0.12-r1", "3.0.12-r4"]);
        assert_order(Scheme::Apk, &["2.4.41-r0", "2.4.41-r1", "2.4.46-r0"]);
        assert_equal(Scheme::Apk, "1.2.3-r0", "1.2.3-r00");
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "r1", "1.2_foo", "1.2-1", "1.2-r", "1..2", "1.2 "] {
            assert!(super::ApkVersion::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
