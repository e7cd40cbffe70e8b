//! Package URL scoping: does a purl pattern from an ignore file or a VEX document cover a finding's purl?
//!
//! A pattern matches when its type, namespace and name equal the finding's (after the normalisation the
//! `packageurl` crate applies), and, when the pattern carries them, its version equals the finding's version
//! and each of its qualifiers is present in the finding with the same value. So `pkg:npm/lodash` covers every
//! version of lodash, `pkg:npm/lodash@4.17.20` exactly that version, and
//! `pkg:deb/debian/openssl@3.0.11-1?distro=debian-12` only the Debian 12 build.

use packageurl::PackageUrl;
use std::str::FromStr;

/// A parsed purl pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PurlPattern {
    ty: String,
    namespace: Option<String>,
    name: String,
    version: Option<String>,
    qualifiers: Vec<(String, String)>,
}

impl PurlPattern {
    /// Parse a purl; the error names what is wrong.
    pub(crate) fn parse(s: &str) -> Result<PurlPattern, String> {
        let p = PackageUrl::from_str(s.trim()).map_err(|e| format!("invalid purl {s:?}: {e}"))?;
        let mut qualifiers: Vec<(String, String)> =
            p.qualifiers().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        qualifiers.sort();
        Ok(PurlPattern {
            ty: p.ty().to_ascii_lowercase(),
            namespace: p.namespace().map(str::to_string),
            name: p.name().to_string(),
            version: p.version().map(str::to_string),
            qualifiers,
        })
    }

    /// True when this pattern covers `purl` (a finding's purl). An unparsable finding purl matches nothing.
    pub(crate) fn matches(&self, purl: &str) -> bool {
        let Ok(other) = PurlPattern::parse(purl) else {
            return false;
        };
        self.covers(&other)
    }

    /// True when this pattern covers the already parsed `other`.
    pub(crate) fn covers(&self, other: &PurlPattern) -> bool {
        if self.ty != other.ty || self.namespace != other.namespace || self.name != other.name {
            return false;
        }
        if let Some(v) = &self.version
            && other.version.as_deref() != Some(v.as_str())
        {
            return false;
        }
        self.qualifiers.iter().all(|q| other.qualifiers.contains(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(s: &str) -> PurlPattern {
        PurlPattern::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn versionless_pattern_covers_all_versions() {
        let p = pat("pkg:npm/lodash");
        assert!(p.matches("pkg:npm/lodash@4.17.20"));
        assert!(p.matches("pkg:npm/lodash@3.0.0"));
        assert!(!p.matches("pkg:npm/lodash-es@4.17.20"));
        assert!(!p.matches("pkg:pypi/lodash@4.17.20"));
    }

    #[test]
    fn exact_pattern_needs_same_version_and_qualifiers() {
        let p = pat("pkg:deb/debian/openssl@3.0.11-1?distro=debian-12");
        assert!(p.matches("pkg:deb/debian/openssl@3.0.11-1?arch=amd64&distro=debian-12"));
        assert!(!p.matches("pkg:deb/debian/openssl@3.0.11-1?distro=debian-11"));
        assert!(!p.matches("pkg:deb/debian/openssl@3.0.11-1"));
        assert!(!p.matches("pkg:deb/debian/openssl@3.0.13-1?distro=debian-12"));
        assert!(!p.matches("pkg:deb/ubuntu/openssl@3.0.11-1?distro=debian-12"));
    }

    #[test]
    fn versioned_pattern_ignores_extra_qualifiers() {
        let p = pat("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
        assert!(p.matches("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar"));
        assert!(!p.matches("pkg:maven/org.apache.logging.log4j/log4j-core@2.15.0"));
    }

    #[test]
    fn bad_purls_are_rejected_or_never_match() {
        assert!(PurlPattern::parse("lodash@1.0").is_err());
        assert!(!pat("pkg:npm/lodash").matches("not a purl"));
    }
}
