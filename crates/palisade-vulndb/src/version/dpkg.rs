//! Debian/Ubuntu version order (`dpkg --compare-versions`), via the `debversion` crate: epochs, `~` sorting
//! before everything, `+debNuM` security revisions.

use super::VersionError;

/// Parse a dpkg version.
pub fn parse(s: &str) -> Result<debversion::Version, VersionError> {
    if let Some((epoch, _)) = s.split_once(':')
        && (epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(VersionError::new("dpkg", s, "epoch is not a number"));
    }
    s.parse::<debversion::Version>().map_err(|e| VersionError::new("dpkg", s, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, assert_equal, assert_order};

    #[test]
    fn tricky_order() {
        assert_order(
            Scheme::Dpkg,
            &[
                "1.0~rc1-1",
                "1.0-1",
                "1.0-1+deb11u1",
                "1.0-1+deb12u1",
                "1.0-1+deb12u2",
                "1.0-2~bpo12+1",
                "1.0-2",
                "1.0.1-1",
                "1.10-1",
                "1:0.5-1",
                "2:0.1",
            ],
        );
        assert_order(Scheme::Dpkg, &["3.0.11-1~deb12u1", "3.0.11-1~deb12u2", "3.0.11-1"]);
        assert_order(Scheme::Dpkg, &["2.36-9+deb12u3", "2.36-9+deb12u10"]);
        assert_equal(Scheme::Dpkg, "0:1.2-3", "1.2-3");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Scheme::Dpkg.parse("not a version!").is_err());
        assert!(Scheme::Dpkg.parse("a:1.0").is_err());
    }
}
