//! Helpers shared by the SBOM renderers: timestamps, stable short hashes, unique per-package references.

use palisade_core::{Package, ScanReport};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `created` as UTC `YYYY-MM-DDThh:mm:ssZ` (the form SPDX requires and CycloneDX accepts). A value that is not
/// RFC 3339 is replaced by the current time rather than written out invalid.
pub(crate) fn utc_timestamp(created: &str) -> String {
    let t = OffsetDateTime::parse(created.trim(), &Rfc3339).unwrap_or_else(|_| OffsetDateTime::now_utc());
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The first 16 hex digits of the SHA-256 of the parts (separated by NUL).
pub(crate) fn short_hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0u8]);
        }
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    hex::encode(digest).chars().take(16).collect()
}

/// A hash identifying one package entry: its purl and its locations.
pub(crate) fn package_hash(p: &Package) -> String {
    let mut parts: Vec<String> = vec![p.purl.clone(), p.found_by.clone()];
    for l in &p.locations {
        parts.push(l.path.clone());
        parts.push(l.layer.map(|n| n.to_string()).unwrap_or_default());
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    short_hash(&refs)
}

/// One reference per package, unique within the document, stable for the same report.
///
/// `base(p)` gives the preferred reference; when several packages share it they all get
/// `<base>#<package_hash>` instead, and `-2`, `-3`, ... is added if even that repeats (identical entries).
pub(crate) fn unique_refs(packages: &[&Package], base: impl Fn(&Package) -> String) -> Vec<String> {
    let bases: Vec<String> = packages.iter().map(|p| base(p)).collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for b in &bases {
        *counts.entry(b.as_str()).or_default() += 1;
    }
    let mut used: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(packages.len());
    for (p, b) in packages.iter().zip(&bases) {
        let mut r = if counts.get(b.as_str()).copied().unwrap_or(0) > 1 {
            format!("{b}#{}", package_hash(p))
        } else {
            b.clone()
        };
        if used.contains(&r) {
            let mut n = 2;
            while used.contains(&format!("{r}-{n}")) {
                n += 1;
            }
            r = format!("{r}-{n}");
        }
        used.insert(r.clone());
        out.push(r);
    }
    out
}

/// purl -> the reference of the first package with that purl.
pub(crate) fn refs_by_purl<'a>(packages: &[&'a Package], refs: &'a [String]) -> HashMap<&'a str, &'a str> {
    let mut m = HashMap::new();
    for (p, r) in packages.iter().zip(refs) {
        m.entry(p.purl.as_str()).or_insert(r.as_str());
    }
    m
}

/// The artifact's name with everything but `[A-Za-z0-9.-]` replaced by `-` (for SPDX ids and URIs).
pub(crate) fn sanitize(s: &str) -> String {
    let out: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' }).collect();
    if out.is_empty() { "unnamed".to_string() } else { out }
}

/// The primary location's path and layer, if any.
pub(crate) fn primary_location(p: &Package) -> (Option<&str>, Option<u32>) {
    match p.location() {
        Some(l) => (Some(l.path.as_str()).filter(|s| !s.is_empty()), l.layer),
        None => (None, None),
    }
}

/// The report's packages in a stable order (the report promises sorted packages; do not trust it).
/// References, not copies: a root filesystem has tens of thousands.
pub(crate) fn sorted_packages(report: &ScanReport) -> Vec<&Package> {
    let mut v: Vec<&Package> = report.packages.iter().collect();
    v.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.locations, &a.purl).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.locations,
            &b.purl,
        ))
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Ecosystem, Location};

    #[test]
    fn timestamps_are_normalised_to_utc_seconds() {
        assert_eq!(utc_timestamp("2026-01-02T03:04:05.678+01:00"), "2026-01-02T02:04:05Z");
        assert_eq!(utc_timestamp("2026-01-02T03:04:05Z"), "2026-01-02T03:04:05Z");
        let now = utc_timestamp("yesterday");
        assert_eq!(now.len(), 20);
        assert!(now.ends_with('Z'));
    }

    #[test]
    fn repeated_purls_get_distinct_refs() {
        let a = Package::new(
            Ecosystem::Npm,
            "lodash",
            "4.17.21",
            Location::new("a/package-lock.json", None),
            "x",
        );
        let b = Package::new(
            Ecosystem::Npm,
            "lodash",
            "4.17.21",
            Location::new("b/package-lock.json", None),
            "x",
        );
        let c = Package::new(
            Ecosystem::Npm,
            "left-pad",
            "1.0.0",
            Location::new("a/package-lock.json", None),
            "x",
        );
        let refs = unique_refs(&[&a, &b, &c, &a], |p| p.purl.clone());
        assert_eq!(refs[2], "pkg:npm/left-pad@1.0.0");
        assert!(refs[0].starts_with("pkg:npm/lodash@4.17.21#"));
        assert_ne!(refs[0], refs[1]);
        assert_eq!(refs[3], format!("{}-2", refs[0]));
    }

    #[test]
    fn sanitize_keeps_safe_characters() {
        assert_eq!(sanitize("docker.io/library/alpine:3.19"), "docker.io-library-alpine-3.19");
        assert_eq!(sanitize(""), "unnamed");
    }
}
