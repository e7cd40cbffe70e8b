//! Go version order. Modules use SemVer with a `v` prefix; pseudo-versions
//! (`v0.0.0-20191109021931-daa7c04131f5`) are SemVer pre-releases and order by their timestamp;
//! `+incompatible` is build metadata and is ignored. The toolchain (module `stdlib`/`toolchain`) spells its
//! versions `go1.21.3`, `go1.21`, `go1.22rc1`, which read as `1.21.3`, `1.21.0`, `1.22.0-rc.1`.

use super::VersionError;

/// Parse a Go module or toolchain version.
pub fn parse(s: &str) -> Result<semver::Version, VersionError> {
    let t = s.trim();
    let t = t.strip_suffix("+incompatible").unwrap_or(t);
    if let Some(rest) = t.strip_prefix("go") {
        return parse_toolchain(s, rest);
    }
    super::semver::parse_as("go", t)
}

fn parse_toolchain(orig: &str, rest: &str) -> Result<semver::Version, VersionError> {
    // go1.21.3, go1.21, go1.22rc1, go1.9beta2
    let split = rest.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(rest.len());
    let (nums, pre) = rest.split_at(split);
    let mut parts: Vec<&str> = nums.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(VersionError::new("go", orig, "not a Go toolchain version"));
    }
    while parts.len() < 3 {
        parts.push("0");
    }
    let mut text = parts.join(".");
    if !pre.is_empty() {
        let digits = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
        let (word, num) = pre.split_at(digits);
        text.push('-');
        text.push_str(word);
        if !num.is_empty() {
            text.push('.');
            text.push_str(num);
        }
    }
    semver::Version::parse(&text).map_err(|e| VersionError::new("go", orig, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, assert_equal, assert_order};

    #[test]
    fn tricky_order() {
        assert_order(
            Scheme::Go,
            &[
                "v0.0.0-20191109021931-daa7c04131f5",
                "v0.0.0-20200101000000-aaaaaaaaaaaa",
                "v0.1.0",
                "v0.1.1-0.20201010000000-bbbbbbbbbbbb",
                "v0.1.1",
                "v2.0.0+incompatible",
                "v2.1.0",
            ],
        );
        assert_order(
            Scheme::Go,
            &["go1.9beta2", "go1.9", "go1.20", "go1.21rc1", "go1.21.0", "go1.21.3", "1.22.0"],
        );
        assert_equal(Scheme::Go, "v1.2.3+incompatible", "1.2.3");
        assert_equal(Scheme::Go, "go1.21", "1.21.0");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Scheme::Go.parse("gox.y").is_err());
        assert!(Scheme::Go.parse("master").is_err());
    }
}
