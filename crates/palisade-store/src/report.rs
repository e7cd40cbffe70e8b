//! Reading the store for `palisade registry report`: images by risk (scored by module `risk`), an image's open findings with the
//! decisions that cover them, and decisions.

use crate::StoreError;
use crate::ids::{image_id, key};
use crate::model::{Decision, FindingRow, ImageRisk};
use crate::risk::{self, RiskFactors};
use crate::store::{Store, now};
use palisade_core::findings::vuln::ExploitClass;
use sqlx::Row;
use std::collections::HashMap;

const DECISIONS: [&str; 3] = ["waive", "accept", "not-affected"];

impl Store {
    /// Every image with its current counts, riskiest first.
    pub fn images_by_risk(&self) -> Result<Vec<ImageRisk>, StoreError> {
        let e = || self.sql_err("listing images");
        let rows = self.fetch_all(
            "listing images",
            "SELECT id, digest, platform, repository, created, base_image, os, package_count, db_version, critical, \
             high, medium, low, unknown, fixable, scanned_at FROM images"
                .into(),
            |q| q,
        )?;
        let tags = self.current_tags()?;
        let mut factors = self.risk_factors()?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get(0).map_err(e())?;
            let os: Option<String> = r.try_get(6).map_err(e())?;
            let os = os
                .and_then(|j| serde_json::from_str::<palisade_core::OsInfo>(&j).ok())
                .map(|o| format!("{} {}", o.id, o.version_id).trim().to_string());
            let risk_factors =
                factors.remove(&id).unwrap_or(RiskFactors { exposure: 1, ..RiskFactors::default() });
            out.push(ImageRisk {
                digest: r.try_get(1).map_err(e())?,
                platform: r.try_get(2).map_err(e())?,
                repository: r.try_get(3).map_err(e())?,
                tags: tags.get(&id).cloned().unwrap_or_default(),
                created: r.try_get(4).map_err(e())?,
                base_image: r.try_get(5).map_err(e())?,
                os,
                packages: r.try_get(7).map_err(e())?,
                db_version: r.try_get(8).map_err(e())?,
                critical: r.try_get(9).map_err(e())?,
                high: r.try_get(10).map_err(e())?,
                medium: r.try_get(11).map_err(e())?,
                low: r.try_get(12).map_err(e())?,
                unknown: r.try_get(13).map_err(e())?,
                fixable: r.try_get(14).map_err(e())?,
                risk: risk_factors.findings,
                top_reason: risk_factors.top_reason(),
                risk_factors,
                scanned_at: r.try_get(15).map_err(e())?,
                running_pods: None,
            });
        }
        risk::order(&mut out);
        Ok(out)
    }

    /// Tags per image: for each (repository, tag), the image it pointed at when last seen.
    fn current_tags(&self) -> Result<HashMap<i64, Vec<String>>, StoreError> {
        let e = || self.sql_err("listing tags");
        let rows = self.fetch_all(
            "listing tags",
            "SELECT repository, tag, image_id, seen_at FROM tags".into(),
            |q| q,
        )?;
        let mut latest: HashMap<(String, String), (String, i64)> = HashMap::new();
        for r in rows {
            let repo: String = r.try_get(0).map_err(e())?;
            let tag: String = r.try_get(1).map_err(e())?;
            let id: i64 = r.try_get(2).map_err(e())?;
            let seen: String = r.try_get(3).map_err(e())?;
            let slot = latest.entry((repo, tag)).or_insert((String::new(), id));
            if seen >= slot.0 {
                *slot = (seen, id);
            }
        }
        let mut out: HashMap<i64, Vec<String>> = HashMap::new();
        for ((_, tag), (_, id)) in latest {
            out.entry(id).or_default().push(tag);
        }
        for v in out.values_mut() {
            v.sort();
        }
        Ok(out)
    }

    /// The open findings of one image, worst first, each with the decision that covers it.
    pub fn findings(&self, digest: &str) -> Result<Vec<FindingRow>, StoreError> {
        let id = image_id(digest);
        let e = || self.sql_err("reading findings");
        let rows = self.fetch_all(
            "reading findings",
            "SELECT h.vuln_id, h.purl, pf.severity, pf.status, pf.fixed_version, pf.title, h.first_seen, \
             h.reappeared_at, x.kev_added, x.kev_due, x.ransomware, x.epss_ppm, x.epss_percentile_ppm \
             FROM finding_history h \
             JOIN image_packages ip ON ip.image_id = h.image_id \
             JOIN packages p ON p.id = ip.package_id AND p.purl = h.purl \
             JOIN package_findings pf ON pf.package_id = p.id AND pf.vuln_id = h.vuln_id \
             LEFT JOIN exploits x ON x.vuln_id = h.vuln_id \
             WHERE h.image_id = $1 AND h.state = 'open'"
                .into(),
            |q| q.bind(id),
        )?;
        let decisions = self.decisions()?;
        let today = now();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let vuln_id: String = r.try_get(0).map_err(e())?;
            let purl: String = r.try_get(1).map_err(e())?;
            let decision = decisions
                .iter()
                .find(|d| {
                    (d.scope == "*" || d.scope == digest)
                        && d.vuln_id == vuln_id
                        && d.purl.as_ref().is_none_or(|p| *p == purl)
                        && d.expires_at.as_ref().is_none_or(|x| *x > today)
                })
                .map(|d| d.decision.clone());
            let severity: String = r.try_get(2).map_err(e())?;
            let status: String = r.try_get(3).map_err(e())?;
            let exploit = risk::exploit_of(
                r.try_get(8).map_err(e())?,
                r.try_get(9).map_err(e())?,
                r.try_get(10).map_err(e())?,
                r.try_get(11).map_err(e())?,
                r.try_get(12).map_err(e())?,
            );
            let points =
                risk::finding_points(&severity, ExploitClass::of(exploit.as_ref()), status == "fixed");
            out.push(FindingRow {
                vuln_id,
                purl,
                severity,
                status,
                fixed_version: r.try_get(4).map_err(e())?,
                title: r.try_get(5).map_err(e())?,
                first_seen: r.try_get(6).map_err(e())?,
                reappeared_at: r.try_get(7).map_err(e())?,
                decision,
                exploit,
                risk: points,
            });
        }
        let rank = |s: &str| match s {
            "critical" => 0,
            "high" => 1,
            "medium" => 2,
            "low" => 3,
            _ => 4,
        };
        out.sort_by(|a, b| {
            b.risk.cmp(&a.risk).then_with(|| {
                (rank(&a.severity), &a.vuln_id, &a.purl).cmp(&(rank(&b.severity), &b.vuln_id, &b.purl))
            })
        });
        out.dedup_by(|a, b| a.vuln_id == b.vuln_id && a.purl == b.purl);
        Ok(out)
    }

    /// Record a decision (replacing one with the same scope, vulnerability and package).
    pub fn decide(&self, d: &Decision) -> Result<(), StoreError> {
        if !DECISIONS.contains(&d.decision.as_str()) {
            return Err(StoreError::Usage(format!(
                "decision {:?}: expected one of {}",
                d.decision,
                DECISIONS.join(", ")
            )));
        }
        if d.vuln_id.trim().is_empty() || d.scope.trim().is_empty() {
            return Err(StoreError::Usage("a decision needs a vulnerability id and a scope".into()));
        }
        let id = key(&["decision", &d.scope, &d.vuln_id, d.purl.as_deref().unwrap_or("")]).to_string();
        let t = now();
        self.rt
            .block_on(
                sqlx::query(
                    "INSERT INTO decisions (id, scope, vuln_id, purl, decision, reason, author, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET \
                     decision = excluded.decision, reason = excluded.reason, author = excluded.author, \
                     created_at = excluded.created_at, expires_at = excluded.expires_at",
                )
                .bind(id)
                .bind(&d.scope)
                .bind(&d.vuln_id)
                .bind(d.purl.as_deref())
                .bind(&d.decision)
                .bind(&d.reason)
                .bind(&d.author)
                .bind(t)
                .bind(d.expires_at.as_deref())
                .execute(&self.pool),
            )
            .map_err(self.sql_err("saving a decision"))?;
        Ok(())
    }

    /// Every decision, oldest first.
    pub fn decisions(&self) -> Result<Vec<Decision>, StoreError> {
        let e = || self.sql_err("reading decisions");
        let rows = self.fetch_all(
            "reading decisions",
            "SELECT scope, vuln_id, purl, decision, reason, author, expires_at FROM decisions ORDER BY created_at, id"
                .into(),
            |q| q,
        )?;
        rows.iter()
            .map(|r| {
                Ok(Decision {
                    scope: r.try_get(0).map_err(e())?,
                    vuln_id: r.try_get(1).map_err(e())?,
                    purl: r.try_get(2).map_err(e())?,
                    decision: r.try_get(3).map_err(e())?,
                    reason: r.try_get(4).map_err(e())?,
                    author: r.try_get(5).map_err(e())?,
                    expires_at: r.try_get(6).map_err(e())?,
                })
            })
            .collect()
    }
}
