//! Severity: CVSS base scores computed from vectors (v2, v3.0, v3.1, v4.0, via the RustSec `cvss` crate,
//! which implements the FIRST specifications), and the choice between vendor and CVSS severity.
//!
//! Distro advisories: the vendor's rating (Debian urgency, Ubuntu priority) comes first, as Trivy does; the
//! CVSS score only when the vendor gave none. Language advisories: the highest CVSS v3.x score, else v4.0,
//! else v2, else the vendor's qualitative rating (GHSA `database_specific.severity`).

use palisade_core::findings::vuln::{CvssScore, Severity};
use std::str::FromStr;

/// Parse a CVSS vector and compute its base score. `None` for a vector the specification does not allow.
pub fn score_vector(vector: &str, source: Option<&str>) -> Option<CvssScore> {
    let v = vector.trim();
    let parsed = cvss::Cvss::from_str(v).ok()?;
    let version = match &parsed {
        cvss::Cvss::CvssV20(_) => "2.0",
        cvss::Cvss::CvssV30(_) => "3.0",
        cvss::Cvss::CvssV31(_) => "3.1",
        cvss::Cvss::CvssV40(_) => "4.0",
        _ => return None,
    };
    let score = parsed.score();
    if !score.is_finite() {
        return None;
    }
    Some(CvssScore { version: version.into(), vector: v.into(), score, source: source.map(str::to_string) })
}

/// A vendor's rating in words (`HIGH`, `moderate`, `unimportant`, ...), if it is one Palisade knows.
pub fn vendor_severity(s: &str) -> Option<Severity> {
    Severity::from_str(s).ok().filter(|s| *s != Severity::Unknown)
}

/// Choose the severity of a finding and say where it came from.
pub fn choose(distro: bool, vendor: Option<(&str, &str)>, cvss: &[CvssScore]) -> (Severity, Option<String>) {
    let from_vendor = vendor.and_then(|(sev, src)| vendor_severity(sev).map(|s| (s, Some(src.to_string()))));
    if distro && let Some(v) = from_vendor.clone() {
        return v;
    }
    let best = |prefix: &str| {
        cvss.iter()
            .filter(|c| c.version.starts_with(prefix))
            .max_by(|a, b| a.score.partial_cmp(&b.score).unwrap_or(std::cmp::Ordering::Equal))
    };
    if let Some(c) = best("3").or_else(|| best("4")).or_else(|| best("2")) {
        let src = match &c.source {
            Some(s) => format!("CVSS:{} {} ({s})", c.version, c.score),
            None => format!("CVSS:{} {}", c.version, c.score),
        };
        return (Severity::from_cvss_score(c.score), Some(src));
    }
    from_vendor.unwrap_or((Severity::Unknown, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_per_spec() {
        let log4shell = score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", None).unwrap();
        assert_eq!((log4shell.version.as_str(), log4shell.score), ("3.1", 10.0));
        let time = score_vector("CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", None).unwrap();
        assert_eq!(time.score, 6.2);
        let v30 = score_vector("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", None).unwrap();
        assert_eq!(v30.score, 9.8);
        let v4 =
            score_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", None).unwrap();
        assert_eq!((v4.version.as_str(), v4.score), ("4.0", 9.3));
        let v2 = score_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P", None).unwrap();
        assert_eq!((v2.version.as_str(), v2.score), ("2.0", 7.5));
        assert!(score_vector("CVSS:3.1/AV:X", None).is_none());
        assert!(score_vector("garbage", None).is_none());
    }

    #[test]
    fn vendor_first_for_distros() {
        let c = vec![score_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", None).unwrap()];
        assert_eq!(choose(true, Some(("low", "debian urgency")), &c).0, Severity::Low);
        assert_eq!(choose(false, Some(("low", "ghsa")), &c).0, Severity::Critical);
        assert_eq!(choose(false, Some(("MODERATE", "ghsa")), &[]), (Severity::Medium, Some("ghsa".into())));
        assert_eq!(choose(true, Some(("not yet assigned", "debian")), &[]).0, Severity::Unknown);
        assert_eq!(choose(false, None, &[]), (Severity::Unknown, None));
    }
}
