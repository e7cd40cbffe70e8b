//! RubyGems version order, an own port of `Gem::Version#<=>`: the version is split into numbers and letter
//! runs (`1.0.0.pre1` → `1 0 0 pre 1`, `-` reads as `.pre.`); a letter segment marks a pre-release and sorts
//! before any number; trailing zeros before the first letter segment (and at the end) are not significant.

use super::VersionError;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Num(String),
    Str(String),
}

/// A parsed gem version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GemVersion {
    segs: Vec<Seg>,
}

impl GemVersion {
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        let t = s.trim();
        if t.is_empty()
            || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            || !t.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(VersionError::new("rubygems", s, "not a gem version"));
        }
        let t = t.replace('-', ".pre.");
        let mut segs = Vec::new();
        let mut cur = String::new();
        let mut cur_digit = false;
        let flush = |cur: &mut String, digit: bool, segs: &mut Vec<Seg>| {
            if !cur.is_empty() {
                if digit {
                    let n = cur.trim_start_matches('0');
                    segs.push(Seg::Num(n.to_string()));
                } else {
                    segs.push(Seg::Str(cur.clone()));
                }
                cur.clear();
            }
        };
        for c in t.chars() {
            if c == '.' {
                flush(&mut cur, cur_digit, &mut segs);
                continue;
            }
            let d = c.is_ascii_digit();
            if !cur.is_empty() && d != cur_digit {
                flush(&mut cur, cur_digit, &mut segs);
            }
            cur_digit = d;
            cur.push(c);
        }
        flush(&mut cur, cur_digit, &mut segs);
        // Canonical segments: drop zeros that end the release part and the whole version.
        let first_str = segs.iter().position(|s| matches!(s, Seg::Str(_))).unwrap_or(segs.len());
        let (release, pre) = segs.split_at(first_str);
        let mut release = release.to_vec();
        while matches!(release.last(), Some(Seg::Num(n)) if n.is_empty()) {
            release.pop();
        }
        let mut pre = pre.to_vec();
        while matches!(pre.last(), Some(Seg::Num(n)) if n.is_empty()) {
            pre.pop();
        }
        release.extend(pre);
        Ok(GemVersion { segs: release })
    }
}

fn cmp_num(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Seg::Num(String::new());
        let n = self.segs.len().max(other.segs.len());
        for i in 0..n {
            let a = self.segs.get(i).unwrap_or(&zero);
            let b = other.segs.get(i).unwrap_or(&zero);
            let ord = match (a, b) {
                (Seg::Num(x), Seg::Num(y)) => cmp_num(x, y),
                (Seg::Str(x), Seg::Str(y)) => x.cmp(y),
                (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
                (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
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
            Scheme::RubyGems,
            &["1.0.a", "1.0.a.2", "1.0.b1", "1.0.rc1", "1.0", "1.0.1", "1.9.3", "1.10"],
        );
        assert_order(Scheme::RubyGems, &["1.10.9", "1.11.0.rc4", "1.11.0", "1.13.10"]);
        assert_order(Scheme::RubyGems, &["6.0.3.6", "6.0.3.7", "6.1.0.rc1", "6.1.7.1"]);
        assert_equal(Scheme::RubyGems, "1.0", "1.0.0");
        assert_equal(Scheme::RubyGems, "1.0-1", "1.0.pre.1");
        assert_equal(Scheme::RubyGems, "1.0.a10", "1.0.a.10");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Scheme::RubyGems.parse("abc").is_err());
        assert!(Scheme::RubyGems.parse("1.0 2").is_err());
        assert!(Scheme::RubyGems.parse("1.0_beta").is_err());
    }
}
