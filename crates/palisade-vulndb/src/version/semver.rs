//! Semantic Versioning 2.0 order (npm, crates.io, Hex, Pub), via the `semver` crate. Build metadata is ignored
//! (SemVer precedence). Lenient like npm: a leading `v` or `=` is dropped and a missing minor or patch number
//! counts as 0 (`1.2` reads as `1.2.0`).

use super::VersionError;

/// Parse a SemVer version.
pub fn parse(s: &str) -> Result<semver::Version, VersionError> {
    parse_as("semver", s)
}

pub(crate) fn parse_as(scheme: &'static str, s: &str) -> Result<semver::Version, VersionError> {
    let t = s.trim().trim_start_matches('=').trim_start_matches(['v', 'V']);
    if let Ok(v) = semver::Version::parse(t) {
        return Ok(v);
    }
    // Pad `1` / `1.2` (optionally followed by `-pre` or `+build`) to three numbers.
    let split = t.find(['-', '+']).unwrap_or(t.len());
    let (core, rest) = t.split_at(split);
    let parts: Vec<&str> = core.split('.').collect();
    if (1..3).contains(&parts.len())
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        let mut padded = core.to_string();
        for _ in parts.len()..3 {
            padded.push_str(".0");
        }
        padded.push_str(rest);
        if let Ok(v) = semver::Version::parse(&padded) {
            return Ok(v);
        }
    }
    semver::Version::parse(t).map_err(|e| VersionError::new(scheme, s, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, assert_equal, assert_order};

    #[test]
    fn tricky_order() {
        assert_order(
            Scheme::Semver,
            &[
                "0.0.0-0",
                "1.0.0-alpha",
                "1.0.0-alpha.1",
                "1.0.0-alpha.beta",
                "1.0.0-beta",
                "1.0.0-beta.2",
                "1.0.0-beta.11",
                "1.0.0-rc.1",
                "1.0.0",
                "1.0.1",
                "1.10.0",
            ],
        );
        assert_order(Scheme::Semver, &["4.17.15", "4.17.19", "4.17.21"]);
        assert_equal(Scheme::Semver, "1.0.0+build.1", "1.0.0+build.2");
        assert_equal(Scheme::Semver, "v1.2", "1.2.0");
        assert_equal(Scheme::Semver, "=1.2.3", "1.2.3");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Scheme::Semver.parse("1.2.3.4.5").is_err());
        assert!(Scheme::Semver.parse("latest").is_err());
    }
}
