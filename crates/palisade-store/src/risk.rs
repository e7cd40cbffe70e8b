//! The risk order of stored images (`palisade registry report`, [`Store::images_by_risk`]).
//!
//! Each open finding of an image scores **severity × exploitability × fixability**; an image's score is the
//! sum over its findings, times its **exposure**:
//!
//! * severity: critical 1000, high 100, medium 10, low 1 (unknown counts as medium);
//! * exploitability ([`ExploitClass`], from the DB's exploit data kept in the store): listed in CISA KEV with
//!   known ransomware use 200, listed in KEV 100, EPSS ≥ 0.1 10, nothing known 1;
//! * fixability: 2 when a fixed version exists (the risk can be removed now), else 1;
//! * exposure: running pods + 1 when a deployment dump was given (`--deployments`), else 1.
//!
//! So one high listed in KEV (100 × 100 = 10,000) outranks three criticals nobody is known to exploit, even
//! fixable ones (3 × 1000 × 2 = 6,000). Equal scores go to more fixable findings first, then more running
//! pods. The JSON of `registry report` carries the factors ([`RiskFactors`]), the table the top reason.

use crate::StoreError;
use crate::model::ImageRisk;
use crate::store::Store;
use palisade_core::findings::vuln::{Exploit, ExploitClass};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;

/// The severity factor of a finding's severity (as stored: `critical`, `high`, …).
pub fn severity_weight(severity: &str) -> i64 {
    match severity {
        "critical" => 1000,
        "high" => 100,
        "medium" | "unknown" => 10,
        _ => 1,
    }
}

/// The fixability factor.
pub fn fix_weight(fixable: bool) -> i64 {
    if fixable { 2 } else { 1 }
}

/// The score of one finding: severity × exploitability × fixability.
pub fn finding_points(severity: &str, exploit: ExploitClass, fixable: bool) -> i64 {
    severity_weight(severity) * exploit.weight() * fix_weight(fixable)
}

/// Findings of one image that score alike: same severity, exploit class and fixability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskGroup {
    pub severity: String,
    pub exploit: ExploitClass,
    pub fixable: bool,
    pub count: i64,
    /// count × severity × exploitability × fixability.
    pub points: i64,
    /// One of its vulnerabilities (the first by id).
    pub example: String,
}

/// Why an image ranks where it does: `risk = findings × exposure`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RiskFactors {
    /// Σ over open findings of severity × exploitability × fixability.
    pub findings: i64,
    /// Running pods + 1 when known, else 1.
    pub exposure: i64,
    /// Open findings listed in CISA KEV, those with known ransomware use, and those with EPSS ≥ 0.1.
    pub kev: i64,
    pub ransomware: i64,
    pub high_epss: i64,
    /// The highest EPSS score of its findings, when the DB has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_epss: Option<f64>,
    /// The findings by score group, highest first.
    pub groups: Vec<RiskGroup>,
}

impl RiskFactors {
    /// The top reason, in words: the highest-scoring group.
    pub fn top_reason(&self) -> Option<String> {
        let g = self.groups.first()?;
        let mut why = vec![g.severity.clone()];
        if g.exploit != ExploitClass::None {
            why.push(g.exploit.label().to_string());
        }
        if g.fixable {
            why.push("fix available".into());
        }
        let more = if g.count > 1 { format!(" and {} more like it", g.count - 1) } else { String::new() };
        Some(format!("{} ({}){more}", g.example, why.join(", ")))
    }
}

impl ImageRisk {
    /// Record the running pods using the image (exposure) and score it again.
    pub fn set_running_pods(&mut self, pods: usize) {
        self.running_pods = Some(pods);
        self.risk_factors.exposure = pods as i64 + 1;
        self.risk = self.risk_factors.findings.saturating_mul(self.risk_factors.exposure);
    }
}

/// Riskiest first; equal scores: more fixable findings, more running pods, then by name.
pub fn order(images: &mut [ImageRisk]) {
    images.sort_by(|a, b| {
        b.risk
            .cmp(&a.risk)
            .then(b.fixable.cmp(&a.fixable))
            .then(b.running_pods.cmp(&a.running_pods))
            .then_with(|| {
                (&a.repository, &a.digest, &a.platform).cmp(&(&b.repository, &b.digest, &b.platform))
            })
    });
}

/// An exploit row of the store as the shared type (EPSS kept in millionths).
pub(crate) fn exploit_of(
    kev_added: Option<String>,
    kev_due: Option<String>,
    ransomware: Option<i64>,
    epss_ppm: Option<i64>,
    percentile_ppm: Option<i64>,
) -> Option<Exploit> {
    if kev_added.is_none() && epss_ppm.is_none() && percentile_ppm.is_none() {
        return None;
    }
    Some(Exploit {
        kev_added,
        kev_due,
        ransomware: ransomware.unwrap_or(0) != 0,
        epss: epss_ppm.map(|p| p as f64 / 1e6),
        epss_percentile: percentile_ppm.map(|p| p as f64 / 1e6),
    })
}

/// A probability (0–1) in millionths.
pub(crate) fn ppm(p: Option<f64>) -> Option<i64> {
    p.map(|p| (p.clamp(0.0, 1.0) * 1e6).round() as i64)
}

impl Store {
    /// The risk factors of every image with findings, by image id (one grouped query over all findings).
    pub(crate) fn risk_factors(&self) -> Result<HashMap<i64, RiskFactors>, StoreError> {
        let e = || self.sql_err("scoring images");
        let high_epss = ppm(Some(ExploitClass::HIGH_EPSS)).unwrap_or(100_000);
        let sql = format!(
            "SELECT ip.image_id, pf.severity, \
             CAST(CASE WHEN pf.status = 'fixed' THEN 1 ELSE 0 END AS BIGINT), \
             CAST(CASE WHEN x.kev_added IS NOT NULL AND x.ransomware = 1 THEN 3 \
                       WHEN x.kev_added IS NOT NULL THEN 2 WHEN x.epss_ppm >= {high_epss} THEN 1 ELSE 0 END AS BIGINT), \
             COUNT(*), MIN(pf.vuln_id), MAX(x.epss_ppm) \
             FROM image_packages ip JOIN package_findings pf ON pf.package_id = ip.package_id \
             LEFT JOIN exploits x ON x.vuln_id = pf.vuln_id GROUP BY ip.image_id, pf.severity, 3, 4"
        );
        let rows = self.fetch_all("scoring images", sql, |q| q)?;
        let mut out: HashMap<i64, RiskFactors> = HashMap::new();
        for r in rows {
            let id: i64 = r.try_get(0).map_err(e())?;
            let severity: String = r.try_get(1).map_err(e())?;
            let fixable = r.try_get::<i64, _>(2).map_err(e())? != 0;
            let exploit = match r.try_get::<i64, _>(3).map_err(e())? {
                3 => ExploitClass::KevRansomware,
                2 => ExploitClass::Kev,
                1 => ExploitClass::HighEpss,
                _ => ExploitClass::None,
            };
            let count: i64 = r.try_get(4).map_err(e())?;
            let example: String = r.try_get(5).map_err(e())?;
            let max_epss: Option<i64> = r.try_get(6).map_err(e())?;
            let f = out.entry(id).or_insert_with(|| RiskFactors { exposure: 1, ..RiskFactors::default() });
            let points = count.saturating_mul(finding_points(&severity, exploit, fixable));
            f.findings = f.findings.saturating_add(points);
            match exploit {
                ExploitClass::KevRansomware => {
                    f.kev += count;
                    f.ransomware += count;
                }
                ExploitClass::Kev => f.kev += count,
                ExploitClass::HighEpss => f.high_epss += count,
                ExploitClass::None => {}
            }
            if let Some(m) = max_epss.map(|p| p as f64 / 1e6) {
                f.max_epss = Some(f.max_epss.map_or(m, |x| x.max(m)));
            }
            f.groups.push(RiskGroup { severity, exploit, fixable, count, points, example });
        }
        for f in out.values_mut() {
            f.groups.sort_by(|a, b| {
                b.points.cmp(&a.points).then(b.exploit.cmp(&a.exploit)).then(a.example.cmp(&b.example))
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_kev_high_outweighs_three_fixable_criticals() {
        let kev_high = finding_points("high", ExploitClass::Kev, false);
        let plain_critical = finding_points("critical", ExploitClass::None, true);
        assert!(kev_high > 3 * plain_critical, "{kev_high} vs {}", 3 * plain_critical);
        // KEV ≫ high EPSS ≫ nothing, at every severity.
        for s in ["critical", "high", "medium", "low", "unknown"] {
            let p = |c| finding_points(s, c, false);
            assert!(p(ExploitClass::KevRansomware) > p(ExploitClass::Kev));
            assert!(p(ExploitClass::Kev) >= 10 * p(ExploitClass::HighEpss));
            assert!(p(ExploitClass::HighEpss) >= 10 * p(ExploitClass::None));
        }
    }

    #[test]
    fn epss_round_trips_in_millionths() {
        let x = exploit_of(None, None, None, ppm(Some(0.94358)), ppm(Some(0.99957))).expect("some");
        assert_eq!((x.epss, x.epss_percentile), (Some(0.94358), Some(0.99957)));
        assert!(exploit_of(None, None, Some(0), None, None).is_none());
    }

    #[test]
    fn the_top_reason_names_the_highest_group() {
        let f = RiskFactors {
            groups: vec![RiskGroup {
                severity: "high".into(),
                exploit: ExploitClass::Kev,
                fixable: true,
                count: 2,
                points: 40_000,
                example: "CVE-2026-1".into(),
            }],
            ..RiskFactors::default()
        };
        assert_eq!(
            f.top_reason().as_deref(),
            Some("CVE-2026-1 (high, in CISA KEV, fix available) and 1 more like it")
        );
        assert_eq!(RiskFactors::default().top_reason(), None);
    }
}
