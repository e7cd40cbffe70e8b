//! Fallback order for ecosystems without a dedicated scheme: runs of digits compare numerically, runs of
//! letters lexically (case-insensitive), a letter run sorts before a number at the same place, and when the
//! common part is equal the longer version is newer (`1.0` < `1.0.1`). Separators are ignored.

use super::VersionError;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Num(String),
    Word(String),
}

/// A version split into numbers and words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericVersion {
    parts: Vec<Part>,
}

impl GenericVersion {
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        let mut parts = Vec::new();
        let mut cur = String::new();
        let mut digit = false;
        let flush = |cur: &mut String, digit: bool, parts: &mut Vec<Part>| {
            if !cur.is_empty() {
                parts.push(if digit {
                    Part::Num(cur.trim_start_matches('0').to_string())
                } else {
                    Part::Word(cur.to_ascii_lowercase())
                });
                cur.clear();
            }
        };
        for c in s.chars() {
            if c.is_ascii_alphanumeric() {
                let d = c.is_ascii_digit();
                if !cur.is_empty() && d != digit {
                    flush(&mut cur, digit, &mut parts);
                }
                digit = d;
                cur.push(c);
            } else if matches!(c, '.' | '-' | '_' | '+' | '~' | ':') {
                flush(&mut cur, digit, &mut parts);
            } else {
                return Err(VersionError::new("generic", s, format!("unexpected character {c:?}")));
            }
        }
        flush(&mut cur, digit, &mut parts);
        if parts.is_empty() {
            return Err(VersionError::new("generic", s, "no numbers or words"));
        }
        Ok(GenericVersion { parts })
    }
}

impl Ord for GenericVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.parts.iter().zip(&other.parts) {
            let ord = match (a, b) {
                (Part::Num(x), Part::Num(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
                (Part::Word(x), Part::Word(y)) => x.cmp(y),
                (Part::Word(_), Part::Num(_)) => Ordering::Less,
                (Part::Num(_), Part::Word(_)) => Ordering::Greater,
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        self.parts.len().cmp(&other.parts.len())
    }
}

impl PartialOrd for GenericVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, assert_equal, assert_order};

    #[test]
    fn order() {
        assert_order(Scheme::Generic, &["0.9", "1.0", "1.0.1", "1.2", "1.10", "2"]);
        assert_equal(Scheme::Generic, "1.0-A", "1.0.a");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Scheme::Generic.parse("1.0 beta").is_err());
        assert!(Scheme::Generic.parse("..").is_err());
    }
}
