//! Version ordering, one file per ecosystem.
//!
//! Advisories give bounds as version strings in the ecosystem's own syntax. [`Scheme::parse`] turns a string
//! into a [`Version`] of that scheme; two versions of the same scheme compare with [`Version::compare`].
//! Parsing is lenient where the ecosystem tools are (a leading `v`, surrounding spaces) and returns a
//! [`VersionError`] naming the string otherwise: matching never guesses an order for a version it cannot read.

pub mod apk;
pub mod composer;
pub mod conan;
pub mod dpkg;
pub mod generic;
pub mod golang;
pub mod maven;
pub mod nuget;
pub mod numeric;
pub mod pep440;
pub mod rpm;
pub mod rubygems;
pub mod semver;

use std::cmp::Ordering;

/// A version that cannot be read in the given scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme} version {version:?}: {reason}")]
pub struct VersionError {
    pub scheme: &'static str,
    pub version: String,
    pub reason: String,
}

impl VersionError {
    pub(crate) fn new(scheme: &'static str, version: &str, reason: impl Into<String>) -> Self {
        VersionError { scheme, version: version.to_string(), reason: reason.into() }
    }
}

/// A version ordering rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Debian and Ubuntu (dpkg).
    Dpkg,
    /// Alpine, Wolfi, Chainguard (apk-tools).
    Apk,
    /// RHEL family, SUSE, Fedora, Amazon Linux (rpmvercmp).
    Rpm,
    /// Semantic Versioning 2.0 (npm, crates.io, Hex, Pub, SwiftURL, Julia).
    Semver,
    /// Go modules (SemVer with `v`, pseudo-versions, `+incompatible`) and the Go toolchain (`go1.21.3`).
    Go,
    /// PyPI (PEP 440).
    Pep440,
    /// Maven (`ComparableVersion`).
    Maven,
    /// RubyGems (`Gem::Version`).
    RubyGems,
    /// NuGet (SemVer 2 with a fourth number, case-insensitive labels).
    NuGet,
    /// Composer / Packagist.
    Composer,
    /// CRAN (R `package_version`: numbers separated by `.` or `-`).
    Cran,
    /// Hackage (Haskell PVP: numbers separated by `.`).
    Hackage,
    /// ConanCenter (Conan 2 version order).
    Conan,
    /// Anything else: dot-separated numbers and words.
    Generic,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Apk => "apk",
            Scheme::Rpm => "rpm",
            Scheme::Semver => "semver",
            Scheme::Go => "go",
            Scheme::Pep440 => "pep440",
            Scheme::Maven => "maven",
            Scheme::RubyGems => "rubygems",
            Scheme::NuGet => "nuget",
            Scheme::Composer => "composer",
            Scheme::Cran => "cran",
            Scheme::Hackage => "hackage",
            Scheme::Conan => "conan",
            Scheme::Generic => "generic",
        }
    }

    /// Parse `s` in this scheme.
    pub fn parse(self, s: &str) -> Result<Version, VersionError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(VersionError::new(self.name(), s, "empty version"));
        }
        Ok(match self {
            Scheme::Dpkg => Version::Dpkg(dpkg::parse(s)?),
            Scheme::Apk => Version::Apk(apk::ApkVersion::parse(s)?),
            Scheme::Rpm => Version::Rpm(rpm::RpmVersion::parse(s)?),
            Scheme::Semver => Version::Semver(semver::parse(s)?),
            Scheme::Go => Version::Semver(golang::parse(s)?),
            Scheme::Pep440 => Version::Pep440(pep440::parse(s)?),
            Scheme::Maven => Version::Maven(maven::MavenVersion::parse(s)?),
            Scheme::RubyGems => Version::RubyGems(rubygems::GemVersion::parse(s)?),
            Scheme::NuGet => Version::NuGet(nuget::NuGetVersion::parse(s)?),
            Scheme::Composer => Version::Composer(composer::ComposerVersion::parse(s)?),
            Scheme::Cran => Version::Numeric(numeric::NumericVersion::cran(s)?),
            Scheme::Hackage => Version::Numeric(numeric::NumericVersion::hackage(s)?),
            Scheme::Conan => Version::Conan(conan::ConanVersion::parse(s)?),
            Scheme::Generic => Version::Generic(generic::GenericVersion::parse(s)?),
        })
    }

    /// Compare two version strings; `None` when either does not parse.
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        self.parse(a).ok()?.compare(&self.parse(b).ok()?)
    }
}

/// A parsed version of one scheme.
#[derive(Debug, Clone)]
pub enum Version {
    Dpkg(debversion::Version),
    Apk(apk::ApkVersion),
    Rpm(rpm::RpmVersion),
    Semver(::semver::Version),
    Pep440(pep440_rs::Version),
    Maven(maven::MavenVersion),
    RubyGems(rubygems::GemVersion),
    NuGet(nuget::NuGetVersion),
    Composer(composer::ComposerVersion),
    Numeric(numeric::NumericVersion),
    Conan(conan::ConanVersion),
    Generic(generic::GenericVersion),
}

impl Version {
    /// Order two versions of the same scheme; `None` for versions of different schemes.
    pub fn compare(&self, other: &Version) -> Option<Ordering> {
        Some(match (self, other) {
            (Version::Dpkg(a), Version::Dpkg(b)) => a.cmp(b),
            (Version::Apk(a), Version::Apk(b)) => a.cmp(b),
            (Version::Rpm(a), Version::Rpm(b)) => a.cmp(b),
            (Version::Semver(a), Version::Semver(b)) => a.cmp_precedence(b),
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Maven(a), Version::Maven(b)) => a.cmp(b),
            (Version::RubyGems(a), Version::RubyGems(b)) => a.cmp(b),
            (Version::NuGet(a), Version::NuGet(b)) => a.cmp(b),
            (Version::Composer(a), Version::Composer(b)) => a.cmp(b),
            (Version::Numeric(a), Version::Numeric(b)) => a.cmp(b),
            (Version::Conan(a), Version::Conan(b)) => a.cmp(b),
            (Version::Generic(a), Version::Generic(b)) => a.cmp(b),
            _ => return None,
        })
    }
}

#[cfg(test)]
pub(crate) fn assert_order(scheme: Scheme, ordered: &[&str]) {
    for w in ordered.windows(2) {
        let (a, b) = (w[0], w[1]);
        assert_eq!(scheme.compare(a, b), Some(Ordering::Less), "{scheme:?}: expected {a} < {b}");
        assert_eq!(scheme.compare(b, a), Some(Ordering::Greater), "{scheme:?}: expected {b} > {a}");
    }
}

#[cfg(test)]
pub(crate) fn assert_equal(scheme: Scheme, a: &str, b: &str) {
    assert_eq!(scheme.compare(a, b), Some(Ordering::Equal), "{scheme:?}: expected {a} == {b}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_schemes_do_not_compare() {
        let a = Scheme::Dpkg.parse("1.0").unwrap();
        let b = Scheme::Pep440.parse("1.0").unwrap();
        assert_eq!(a.compare(&b), None);
        assert!(Scheme::Semver.parse("  ").is_err());
    }
}
