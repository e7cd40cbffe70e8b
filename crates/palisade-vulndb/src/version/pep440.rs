//! PyPI version order (PEP 440), via `pep440_rs`: epochs, pre (`a`/`b`/`rc`), post, dev and local versions.

use super::VersionError;
use std::str::FromStr;

/// Parse a PEP 440 version (normalising spellings such as `1.0-rc1` or `v2.0`).
pub fn parse(s: &str) -> Result<pep440_rs::Version, VersionError> {
    pep440_rs::Version::from_str(s).map_err(|e| VersionError::new("pep440", s, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, assert_equal, assert_order};

    #[test]
    fn tricky_order() {
        assert_order(
            Scheme::Pep440,
            &[
                "1.0.dev1",
                "1.0a1",
                "1.0a2.dev1",
                "1.0a2",
                "1.0b1",
                "1.0rc1",
                "1.0",
                "1.0+local.1",
                "1.0.post1.dev1",
                "1.0.post1",
                "1.1",
                "1!0.1",
            ],
        );
        assert_order(Scheme::Pep440, &["2.2.9", "2.2.10", "2.2.24", "3.0"]);
        assert_equal(Scheme::Pep440, "1.0", "1.0.0");
        assert_equal(Scheme::Pep440, "1.0-RC1", "1.0rc1");
        assert_equal(Scheme::Pep440, "v2.0", "2.0");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Scheme::Pep440.parse("not-a-version").is_err());
    }
}
