//! What the SBOM renderers (CycloneDX, SPDX) say about vulnerability findings, shared by both: which
//! package entry a finding is about, advisory and fix URLs, the CVSS rating scale, the reading of a
//! suppression reason (ignore file or VEX statement) and the recommendation text.
//!
//! Everything here degrades instead of failing: an id that is not safe in a URL gets no URL, a reference that
//! is not a clean `http(s)` URL is left out, a timestamp that is not RFC 3339 is dropped.

use palisade_core::findings::vuln::{CvssScore, VulnFinding, VulnStatus};
use palisade_core::package::build_purl;
use palisade_core::{Ecosystem, Package};
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Finds the package entry a finding is about, among the packages a document lists.
pub(crate) struct PackageIndex<'a> {
    packages: &'a [&'a Package],
    by_purl: HashMap<&'a str, Vec<usize>>,
    by_name: HashMap<(Ecosystem, &'a str, &'a str), Vec<usize>>,
}

impl<'a> PackageIndex<'a> {
    pub(crate) fn new(packages: &'a [&'a Package]) -> Self {
        let mut by_purl: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_name: HashMap<_, Vec<usize>> = HashMap::new();
        for (i, p) in packages.iter().enumerate() {
            if !p.purl.is_empty() {
                by_purl.entry(p.purl.as_str()).or_default().push(i);
            }
            by_name.entry((p.ecosystem, p.name.as_str(), p.version.as_str())).or_default().push(i);
        }
        PackageIndex { packages, by_purl, by_name }
    }

    /// The index of the package `v` is about: among the entries with the same purl (else, when none has it,
    /// the same ecosystem, name and version), the one with the same locations, else the first.
    pub(crate) fn find(&self, v: &VulnFinding) -> Option<usize> {
        let candidates = self.by_purl.get(v.purl.as_str()).or_else(|| {
            self.by_name.get(&(v.ecosystem, v.package_name.as_str(), v.package_version.as_str()))
        })?;
        candidates
            .iter()
            .copied()
            .find(|&i| self.packages[i].locations == v.locations)
            .or_else(|| candidates.first().copied())
    }
}

/// Package entries for findings whose package is not among `packages` (a `--scanners vuln` report lists no
/// inventory), one per distinct (purl, locations), so every vulnerability links to a component.
pub(crate) fn missing_packages(findings: &[VulnFinding], packages: &[&Package]) -> Vec<Package> {
    if findings.is_empty() {
        return Vec::new();
    }
    let index = PackageIndex::new(packages);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for v in findings {
        if index.find(v).is_some() || !seen.insert((v.purl.as_str(), &v.locations)) {
            continue;
        }
        // The finding's purl when it is one (it carries the distro qualifiers), else one built from the name.
        let purl =
            if v.purl.parse::<packageurl::PackageUrl>().is_ok() && !v.purl.contains(char::is_whitespace) {
                v.purl.clone()
            } else {
                build_purl(v.ecosystem, &v.package_name, &v.package_version, &[])
            };
        out.push(Package {
            ecosystem: v.ecosystem,
            name: v.package_name.clone(),
            version: v.package_version.clone(),
            purl,
            source: None,
            arch: None,
            licenses: Vec::new(),
            scope: Default::default(),
            direct: None,
            locations: v.locations.clone(),
            dependencies: Vec::new(),
            found_by: String::new(),
            metadata: Default::default(),
        });
    }
    out
}

/// The findings a document lists, each with the index of its package: one per (id, package), the first
/// active one where several findings share both (a duplicate never hides an active finding behind a
/// suppressed one). Findings whose package is not found are left out (see [`missing_packages`]).
pub(crate) fn linked_findings(findings: &[VulnFinding], index: &PackageIndex<'_>) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut slot: HashMap<(&str, usize), usize> = HashMap::new();
    for (fi, v) in findings.iter().enumerate() {
        let Some(pi) = index.find(v) else { continue };
        match slot.get(&(v.id.as_str(), pi)) {
            None => {
                slot.insert((v.id.as_str(), pi), out.len());
                out.push((fi, pi));
            }
            Some(&at) => {
                if !findings[out[at].0].is_active() && v.is_active() {
                    out[at].0 = fi;
                }
            }
        }
    }
    out
}

/// True for a plain, absolute `http(s)` URL without spaces, quotes or other characters that would make it an
/// invalid IRI reference or SPDX locator.
pub(crate) fn is_http_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && s.bytes().all(|b| b.is_ascii_graphic() && !b"<>\"{}|\\^`".contains(&b))
}

/// True for a URL that points at the change fixing something: a commit, a pull or merge request, a compare
/// view or a patch file.
pub(crate) fn is_fix_url(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url).to_ascii_lowercase();
    ["/commit/", "/commits/", "/pull/", "/merge_requests/", "/compare/"].iter().any(|m| path.contains(m))
        || path.ends_with(".patch")
        || path.ends_with(".diff")
}

/// An advisory id safe to put in a URL path as is.
fn url_safe_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// Id prefixes whose records osv.dev publishes under `https://osv.dev/vulnerability/<id>`.
const OSV_PREFIXES: [&str; 24] = [
    "PYSEC-",
    "OSV-",
    "MAL-",
    "DSA-",
    "DLA-",
    "DTSA-",
    "DEBIAN-",
    "ALPINE-",
    "UBUNTU-",
    "USN-",
    "RLSA-",
    "RXSA-",
    "ALSA-",
    "ALBA-",
    "ALEA-",
    "SUSE-",
    "OPENSUSE-",
    "GSD-",
    "HSEC-",
    "PSF-",
    "BIT-",
    "CGA-",
    "MGASA-",
    "CURL-",
];

/// Who assigns ids of this form, and the page documenting `id` there.
pub(crate) fn id_authority(id: &str) -> Option<(&'static str, String)> {
    let id = id.trim();
    if !url_safe_id(id) {
        return None;
    }
    let upper = id.to_ascii_uppercase();
    let has = |p: &str| upper.starts_with(p) && upper.len() > p.len();
    if has("CVE-") {
        Some(("NVD", format!("https://nvd.nist.gov/vuln/detail/{id}")))
    } else if has("GHSA-") {
        Some(("GitHub Advisory Database", format!("https://github.com/advisories/{id}")))
    } else if has("RUSTSEC-") {
        Some(("RustSec Advisory Database", format!("https://rustsec.org/advisories/{id}.html")))
    } else if has("GO-") {
        Some(("Go Vulnerability Database", format!("https://pkg.go.dev/vuln/{id}")))
    } else if OSV_PREFIXES.iter().any(|p| has(p)) {
        Some(("OSV", format!("https://osv.dev/vulnerability/{id}")))
    } else {
        None
    }
}

/// The page documenting advisory `id`, when its form is known (CVE, GHSA, RUSTSEC, GO, OSV ids).
pub(crate) fn advisory_url(id: &str) -> Option<String> {
    id_authority(id).map(|(_, url)| url)
}

/// The source of `id` for a document: the feed of the merged advisory with that id when there is one (the
/// data came from there), else the authority that assigns such ids. Either part may be missing.
pub(crate) fn source_of(v: &VulnFinding, id: &str) -> (Option<String>, Option<String>) {
    let feed = v
        .advisory_sources
        .iter()
        .find(|a| a.id.eq_ignore_ascii_case(id))
        .map(|a| a.feed.clone())
        .filter(|f| !f.is_empty());
    let authority = id_authority(id);
    let url = authority.as_ref().map(|(_, u)| u.clone());
    (feed.or_else(|| authority.map(|(n, _)| n.to_string())), url)
}

/// The advisory that gave the finding its data: the one with the finding's id, else the first merged one.
/// Returns (feed, that advisory's page).
pub(crate) fn primary_source(v: &VulnFinding) -> (Option<String>, Option<String>) {
    match v.advisory_sources.iter().find(|a| a.id == v.id).or_else(|| v.advisory_sources.first()) {
        Some(a) => (Some(a.feed.clone()).filter(|f| !f.is_empty()), advisory_url(&a.id)),
        None => source_of(v, &v.id),
    }
}

/// The finding's references that are clean `http(s)` URLs, trimmed, without repeats.
pub(crate) fn clean_references(v: &VulnFinding) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for r in v.references.iter().map(|r| r.trim()) {
        if is_http_url(r) && !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// `s` as a UTC `YYYY-MM-DDThh:mm:ssZ` timestamp, or `None` when it is not RFC 3339.
pub(crate) fn rfc3339_utc(s: &str) -> Option<String> {
    let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?.to_offset(time::UtcOffset::UTC);
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// A CVSS version as CycloneDX names its scoring method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CvssMethod {
    V2,
    V3,
    V31,
    V4,
    Other,
}

impl CvssMethod {
    /// From the version field, else the vector's prefix.
    pub(crate) fn of(c: &CvssScore) -> Self {
        let version = c.version.trim().trim_start_matches(['v', 'V']);
        let vector = c.vector.trim().to_ascii_uppercase();
        match version {
            "4" | "4.0" => return CvssMethod::V4,
            "3.1" => return CvssMethod::V31,
            "3" | "3.0" => return CvssMethod::V3,
            "2" | "2.0" => return CvssMethod::V2,
            _ => {}
        }
        if vector.starts_with("CVSS:4.0/") {
            CvssMethod::V4
        } else if vector.starts_with("CVSS:3.1/") {
            CvssMethod::V31
        } else if vector.starts_with("CVSS:3.0/") {
            CvssMethod::V3
        } else if vector.starts_with("AV:") && vector.contains("/AU:") {
            CvssMethod::V2
        } else {
            CvssMethod::Other
        }
    }

    /// The CycloneDX `scoreMethod` value.
    pub(crate) fn cyclonedx_name(self) -> &'static str {
        match self {
            CvssMethod::V2 => "CVSSv2",
            CvssMethod::V3 => "CVSSv3",
            CvssMethod::V31 => "CVSSv31",
            CvssMethod::V4 => "CVSSv4",
            CvssMethod::Other => "other",
        }
    }

    /// The qualitative rating of a base score on this version's scale (v2 has no critical; v3 and v4 call
    /// 0.0 none). `None` for a score outside 0..=10 or an unknown method.
    pub(crate) fn severity(self, score: f64) -> Option<&'static str> {
        if !valid_score(score) {
            return None;
        }
        match self {
            CvssMethod::V2 => Some(if score >= 7.0 {
                "high"
            } else if score >= 4.0 {
                "medium"
            } else {
                "low"
            }),
            CvssMethod::V3 | CvssMethod::V31 | CvssMethod::V4 => Some(if score >= 9.0 {
                "critical"
            } else if score >= 7.0 {
                "high"
            } else if score >= 4.0 {
                "medium"
            } else if score > 0.0 {
                "low"
            } else {
                "none"
            }),
            CvssMethod::Other => None,
        }
    }
}

/// A finite CVSS base score in 0..=10.
pub(crate) fn valid_score(score: f64) -> bool {
    score.is_finite() && (0.0..=10.0).contains(&score)
}

/// What a suppression reason says, as far as an SBOM can tell from its text (`palisade-policy` writes
/// `VEX <doc id>: not_affected (<justification or impact statement>)` and `VEX <doc id>: fixed` for OpenVEX
/// statements and `ignored by <file>:<line>[: <reason>]` for ignore-file entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Suppression<'a> {
    /// A VEX `not_affected` statement, with the text in parentheses (an OpenVEX justification or the impact
    /// statement).
    VexNotAffected { because: Option<&'a str> },
    /// A VEX `fixed` statement.
    VexFixed,
    /// Anything else: ignore-file entries, inline annotations, configured exceptions. They accept the finding
    /// without saying anything about its impact.
    Accepted,
}

impl<'a> Suppression<'a> {
    pub(crate) fn of(reason: &'a str) -> Self {
        let Some(rest) = reason.trim().strip_prefix("VEX ") else {
            return Suppression::Accepted;
        };
        if rest.ends_with(": fixed") {
            return Suppression::VexFixed;
        }
        if let Some(at) = rest.find(": not_affected") {
            let tail = rest[at + ": not_affected".len()..].trim();
            let because = tail
                .strip_prefix('(')
                .and_then(|t| t.strip_suffix(')'))
                .map(str::trim)
                .filter(|t| !t.is_empty());
            if tail.is_empty() || because.is_some() || tail == "()" {
                return Suppression::VexNotAffected { because };
            }
        }
        Suppression::Accepted
    }

    /// The CycloneDX `analysis.state`.
    pub(crate) fn cyclonedx_state(self) -> &'static str {
        match self {
            Suppression::VexNotAffected { .. } => "not_affected",
            Suppression::VexFixed => "resolved",
            Suppression::Accepted => "exploitable",
        }
    }

    /// The CycloneDX `analysis.justification`, when the VEX justification has an equivalent.
    pub(crate) fn cyclonedx_justification(self) -> Option<&'static str> {
        let Suppression::VexNotAffected { because: Some(j) } = self else {
            return None;
        };
        Some(match j {
            // OpenVEX justifications.
            "component_not_present" | "vulnerable_code_not_present" => "code_not_present",
            "vulnerable_code_not_in_execute_path" => "code_not_reachable",
            "inline_mitigations_already_exist" => "protected_by_mitigating_control",
            // Already CycloneDX (a VEX document written with CycloneDX terms).
            "code_not_present" => "code_not_present",
            "code_not_reachable" => "code_not_reachable",
            "requires_configuration" => "requires_configuration",
            "requires_dependency" => "requires_dependency",
            "requires_environment" => "requires_environment",
            "protected_by_compiler" => "protected_by_compiler",
            "protected_at_runtime" => "protected_at_runtime",
            "protected_at_perimeter" => "protected_at_perimeter",
            "protected_by_mitigating_control" => "protected_by_mitigating_control",
            // `vulnerable_code_cannot_be_controlled_by_adversary` and impact statements have no single
            // CycloneDX equivalent: the detail carries the text.
            _ => return None,
        })
    }

    /// True when the statement says the installed version is not affected (so `affects` says `unaffected`).
    pub(crate) fn clears_version(self) -> bool {
        !matches!(self, Suppression::Accepted)
    }
}

/// What to do about a finding: upgrade to the fixed version, or why there is nothing to upgrade to.
pub(crate) fn recommendation(v: &VulnFinding) -> String {
    let name = &v.package_name;
    match &v.fixed_version {
        Some(f) if v.installed_version != v.package_version => {
            format!("Upgrade {name} to a version built from source version {f} or later.")
        }
        Some(f) => format!("Upgrade {name} to {f} or later."),
        None => match v.status {
            VulnStatus::WillNotFix => format!("No fix: the vendor will not fix this in {name}."),
            VulnStatus::EndOfLife => {
                format!("No fix: this release of {name} is end of life; move to a supported release.")
            }
            VulnStatus::Affected | VulnStatus::Fixed => format!("No fixed version of {name} is known yet."),
        },
    }
}

/// `installed X -> fixed Y` or `installed X -> no fixed version (status)`.
pub(crate) fn version_change(v: &VulnFinding) -> String {
    match &v.fixed_version {
        Some(f) => format!("installed {} -> fixed {f}", v.installed_version),
        None => format!("installed {} -> no fixed version ({})", v.installed_version, v.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::Location;
    use palisade_core::findings::vuln::AdvisorySource;

    fn finding() -> VulnFinding {
        crate::test_fixtures::vuln(
            "CVE-2021-44228",
            "org.apache.logging.log4j:log4j-core",
            Ecosystem::Maven,
            "app/log4j.jar",
            palisade_core::Severity::Critical,
            Some("2.15.0"),
        )
    }

    #[test]
    fn advisory_urls_by_id_form() {
        assert_eq!(
            advisory_url("CVE-2021-44228").unwrap(),
            "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"
        );
        assert_eq!(
            advisory_url("GHSA-jfh8-c2jp-5v3q").unwrap(),
            "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q"
        );
        assert_eq!(
            advisory_url("RUSTSEC-2020-0071").unwrap(),
            "https://rustsec.org/advisories/RUSTSEC-2020-0071.html"
        );
        assert_eq!(advisory_url("GO-2023-1234").unwrap(), "https://pkg.go.dev/vuln/GO-2023-1234");
        assert_eq!(advisory_url("PYSEC-2021-9").unwrap(), "https://osv.dev/vulnerability/PYSEC-2021-9");
        assert_eq!(advisory_url("DSA-5380-1").unwrap(), "https://osv.dev/vulnerability/DSA-5380-1");
        for bad in ["EXAMPLE-2099-1", "CVE-", "", "CVE-1 2", "CVE-1/../x", "GHSA-<x>"] {
            assert_eq!(advisory_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn sources_prefer_the_feed_that_supplied_the_id() {
        let mut v = finding();
        v.aliases = vec!["GHSA-jfh8-c2jp-5v3q".into()];
        v.advisory_sources =
            vec![AdvisorySource { feed: "osv-ghsa".into(), id: "GHSA-jfh8-c2jp-5v3q".into(), file: None }];
        assert_eq!(
            source_of(&v, "GHSA-jfh8-c2jp-5v3q"),
            (Some("osv-ghsa".into()), Some("https://github.com/advisories/GHSA-jfh8-c2jp-5v3q".into()))
        );
        assert_eq!(
            source_of(&v, "CVE-2021-44228"),
            (Some("NVD".into()), Some("https://nvd.nist.gov/vuln/detail/CVE-2021-44228".into()))
        );
        // The data came from the GHSA advisory: that is the primary source.
        assert_eq!(
            primary_source(&v),
            (Some("osv-ghsa".into()), Some("https://github.com/advisories/GHSA-jfh8-c2jp-5v3q".into()))
        );
        v.advisory_sources.clear();
        assert_eq!(primary_source(&v).0.as_deref(), Some("NVD"));
    }

    #[test]
    fn urls_are_checked_and_fixes_recognised() {
        assert!(is_http_url("https://github.com/a/b/commit/abc"));
        assert!(is_http_url("http://example.com"));
        for bad in
            ["not a url", "https://", "https:///x", "ftp://x", "https://a b", "https://x/\"y", "javascript:x"]
        {
            assert!(!is_http_url(bad), "{bad}");
        }
        assert!(is_fix_url("https://github.com/a/b/commit/abc"));
        assert!(is_fix_url("https://github.com/a/b/pull/12"));
        assert!(is_fix_url("https://gitlab.com/a/b/-/merge_requests/3"));
        assert!(is_fix_url("https://x/fix.patch?raw=1"));
        assert!(!is_fix_url("https://nvd.nist.gov/vuln/detail/CVE-1"));
        let mut v = finding();
        v.references = vec![" https://a/x ".into(), "https://a/x".into(), "junk".into()];
        assert_eq!(clean_references(&v), ["https://a/x"]);
    }

    #[test]
    fn cvss_methods_and_scales() {
        let c = |version: &str, vector: &str| CvssScore {
            version: version.into(),
            vector: vector.into(),
            score: 0.0,
            source: None,
        };
        assert_eq!(CvssMethod::of(&c("3.1", "")), CvssMethod::V31);
        assert_eq!(CvssMethod::of(&c("", "CVSS:3.0/AV:N")), CvssMethod::V3);
        assert_eq!(CvssMethod::of(&c("4.0", "")), CvssMethod::V4);
        assert_eq!(CvssMethod::of(&c("", "AV:N/AC:L/Au:N/C:P/I:P/A:P")), CvssMethod::V2);
        assert_eq!(CvssMethod::of(&c("9", "x")), CvssMethod::Other);
        assert_eq!(CvssMethod::V2.severity(9.3), Some("high"));
        assert_eq!(CvssMethod::V31.severity(9.3), Some("critical"));
        assert_eq!(CvssMethod::V31.severity(0.0), Some("none"));
        assert_eq!(CvssMethod::V4.severity(3.9), Some("low"));
        assert_eq!(CvssMethod::V31.severity(f64::NAN), None);
        assert_eq!(CvssMethod::V31.severity(11.0), None);
        assert_eq!(CvssMethod::Other.severity(5.0), None);
    }

    #[test]
    fn suppression_reasons() {
        let s = Suppression::of(
            "VEX https://example.com/vex-1: not_affected (vulnerable_code_not_in_execute_path)",
        );
        assert_eq!(s, Suppression::VexNotAffected { because: Some("vulnerable_code_not_in_execute_path") });
        assert_eq!(
            (s.cyclonedx_state(), s.cyclonedx_justification()),
            ("not_affected", Some("code_not_reachable"))
        );
        let s = Suppression::of("VEX doc: not_affected (we checked: the parser is never called)");
        assert_eq!(s.cyclonedx_state(), "not_affected");
        assert_eq!(s.cyclonedx_justification(), None);
        let s = Suppression::of("VEX doc: fixed");
        assert_eq!((s, s.cyclonedx_state()), (Suppression::VexFixed, "resolved"));
        assert!(s.clears_version());
        for accepted in
            ["ignored by .palisadeignore:3: accepted risk", "ignored by .trivyignore:1", "", "VEX doc"]
        {
            let s = Suppression::of(accepted);
            assert_eq!(s, Suppression::Accepted, "{accepted}");
            assert_eq!(s.cyclonedx_state(), "exploitable");
            assert!(!s.clears_version());
        }
    }

    #[test]
    fn recommendations() {
        let mut v = finding();
        assert_eq!(recommendation(&v), "Upgrade org.apache.logging.log4j:log4j-core to 2.15.0 or later.");
        assert_eq!(version_change(&v), "installed 1.0.0 -> fixed 2.15.0");
        v.installed_version = "1.0.0-1".into();
        assert!(recommendation(&v).contains("built from source version 2.15.0"));
        v.fixed_version = None;
        v.status = VulnStatus::WillNotFix;
        assert!(recommendation(&v).contains("will not fix"));
        assert_eq!(version_change(&v), "installed 1.0.0-1 -> no fixed version (will-not-fix)");
    }

    #[test]
    fn findings_link_to_their_package_entry() {
        let a = Package::new(
            Ecosystem::Npm,
            "lodash",
            "4.17.15",
            Location::new("a/package-lock.json", None),
            "x",
        );
        let b = Package::new(
            Ecosystem::Npm,
            "lodash",
            "4.17.15",
            Location::new("b/package-lock.json", None),
            "x",
        );
        let pkgs = [&a, &b];
        let index = PackageIndex::new(&pkgs);
        let mut v = crate::test_fixtures::vuln(
            "CVE-2020-8203",
            "lodash",
            Ecosystem::Npm,
            "b/package-lock.json",
            palisade_core::Severity::High,
            None,
        );
        v.purl = a.purl.clone();
        v.package_version = "4.17.15".into();
        v.locations = b.locations.clone();
        assert_eq!(index.find(&v), Some(1), "same purl and locations");
        v.locations = vec![Location::new("elsewhere", None)];
        assert_eq!(index.find(&v), Some(0), "same purl");
        v.purl = String::new();
        assert_eq!(index.find(&v), Some(0), "same name and version");
        v.package_name = "underscore".into();
        assert_eq!(index.find(&v), None);

        // Two findings of one id in one package: one entry, the active one.
        let mut suppressed = v.clone();
        suppressed.package_name = "lodash".into();
        suppressed.suppressed = Some("ignored by x:1".into());
        let mut active = suppressed.clone();
        active.suppressed = None;
        let findings = vec![suppressed.clone(), active, v.clone()];
        assert_eq!(linked_findings(&findings, &index), vec![(1, 0)]);

        let extra = missing_packages(&findings, &pkgs);
        assert_eq!(extra.len(), 1, "underscore is synthesised once");
        assert_eq!(extra[0].name, "underscore");
        assert_eq!(extra[0].purl, "pkg:npm/underscore@4.17.15", "not a purl: built from the name");
        assert_eq!(extra[0].locations, v.locations);
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_utc("2099-01-01T12:00:00+01:00").as_deref(), Some("2099-01-01T11:00:00Z"));
        assert_eq!(rfc3339_utc("2099-01-01"), None);
        assert_eq!(rfc3339_utc("garbage"), None);
    }
}
