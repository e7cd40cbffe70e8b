//! RPM version order (`rpmvercmp`), via the `rpm-version` crate: `[epoch:]version[-release]`, `~` sorts before
//! and `^` after the bare version.

use super::VersionError;
use std::cmp::Ordering;

/// An RPM `[epoch:]version[-release]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmVersion(String);

impl RpmVersion {
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(VersionError::new("rpm", s, "contains whitespace"));
        }
        if let Some((epoch, rest)) = s.split_once(':') {
            if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
                return Err(VersionError::new("rpm", s, "epoch is not a number"));
            }
            if rest.is_empty() {
                return Err(VersionError::new("rpm", s, "no version after the epoch"));
            }
        }
        Ok(RpmVersion(s.to_string()))
    }
}

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        rpm_version::rpm_evr_compare(&self.0, &other.0)
    }
}

impl PartialOrd for RpmVersion {
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
            Scheme::Rpm,
            &[
                "1.0~rc1-1",
                "1.0-1",
                "1.0^git1-1",
                "1.0.1-1",
                "1.0.1-1.el9",
                "1.0.1-1.el9_2",
                "1.0.10-1",
                "1:0.1-1",
            ],
        );
        assert_order(Scheme::Rpm, &["2.28-225.el8", "2.28-225.el8_8.6", "2.28-236.el8"]);
        assert_equal(Scheme::Rpm, "0:1.2-3", "1.2-3");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Scheme::Rpm.parse("x:1.0").is_err());
        assert!(Scheme::Rpm.parse("1.0 2").is_err());
    }
}
