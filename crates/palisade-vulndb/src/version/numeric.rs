//! Versions that are lists of non-negative integers, compared element by element, a longer list newer when
//! one is a prefix of the other:
//!
//! * CRAN (R `package_version`): numbers separated by `.` or `-` (`1.1-3` is `[1, 1, 3]`, equal to `1.1.3`).
//! * Hackage (the Haskell Package Versioning Policy): numbers separated by `.` only (`1.2` < `1.2.0`).
//!
//! Anything else (letters, empty parts) is an error naming the version: R and Cabal reject such versions too.

use super::VersionError;

/// A version as its numbers. Leading zeros do not count (`1.01` = `1.1`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NumericVersion {
    parts: Vec<u64>,
}

impl NumericVersion {
    /// Parse with `separators` between the numbers; `scheme` names the scheme in errors.
    pub fn parse(scheme: &'static str, s: &str, separators: &[char]) -> Result<Self, VersionError> {
        let mut parts = Vec::new();
        for p in s.trim().split(separators) {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(VersionError::new(scheme, s, format!("{p:?} is not a number")));
            }
            let n = p
                .trim_start_matches('0')
                .parse::<u64>()
                .or_else(|e| if p.bytes().all(|b| b == b'0') { Ok(0) } else { Err(e) })
                .map_err(|e| VersionError::new(scheme, s, format!("{p:?}: {e}")))?;
            parts.push(n);
        }
        Ok(NumericVersion { parts })
    }

    /// CRAN: `.` and `-` separate numbers.
    pub fn cran(s: &str) -> Result<Self, VersionError> {
        Self::parse("cran", s, &['.', '-'])
    }

    /// Hackage (PVP): `.` separates numbers.
    pub fn hackage(s: &str) -> Result<Self, VersionError> {
        Self::parse("hackage", s, &['.'])
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, assert_equal, assert_order};

    #[test]
    fn cran_order() {
        assert_order(Scheme::Cran, &["0.9", "0.9-1", "0.9.2", "1.0", "1.0-10", "1.1-3", "1.10", "2.5.1"]);
        assert_equal(Scheme::Cran, "1.1-3", "1.1.3");
        assert_equal(Scheme::Cran, "1.01", "1.1");
        assert!(Scheme::Cran.parse("1.0a").is_err());
        assert!(Scheme::Cran.parse("1..0").is_err());
    }

    #[test]
    fn hackage_order() {
        assert_order(Scheme::Hackage, &["0.1", "1", "1.0", "1.0.0", "1.0.0.1", "1.2", "1.10", "2.1.2.1"]);
        assert!(Scheme::Hackage.parse("1.0-1").is_err());
        assert!(Scheme::Hackage.parse("v1.0").is_err());
    }
}
