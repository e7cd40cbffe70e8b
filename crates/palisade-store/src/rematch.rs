//! Re-matching stored packages against a vulnerability DB without pulling anything.
//!
//! Incremental at two levels:
//! 1. per (ecosystem, package): the DB's [`palisade_vulndb::Db::package_fingerprint`] is compared with the
//!    one recorded at the last match; only packages whose fingerprint changed (and packages never matched)
//!    are matched again;
//! 2. per distinct package: a package shared by a thousand images is matched once, and only the images
//!    holding a package whose findings changed are touched.
//!
//! Each touched image gets its findings history updated (new: first seen or reappeared; gone: fixed), its
//! counts recomputed and a scan result for the DB version; the scan results of untouched images are carried
//! over to the new DB version unchanged. The exploit data of every vulnerability the findings name (CISA KEV,
//! EPSS) is compared with the DB's and rewritten where it changed, so a new KEV listing raises an image's risk
//! with no advisory changed. Everything is written in one transaction.

use crate::StoreError;
use crate::model::{ImageChange, RematchSummary, StoredPackage};
use crate::store::{BATCH, Store, list, now, values};
use palisade_vulndb::Db;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Instant;

/// One finding of one package, as stored in `package_findings`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PkgFinding {
    vuln_id: String,
    severity: String,
    status: String,
    fixed_version: Option<String>,
    title: Option<String>,
}

/// A package matched in this run: its purl and its findings before and after.
struct Matched {
    purl: String,
    old: Vec<PkgFinding>,
    new: Vec<PkgFinding>,
}

/// (vulnerability, purl, severity)
type Change = (String, String, String);

fn get<T>(row: &AnyRow, i: usize) -> Result<T, sqlx::Error>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(i)
}

impl Store {
    /// Re-match every stored image against `db` (see the module documentation).
    pub fn rematch(&self, db: &Db) -> Result<RematchSummary, StoreError> {
        let start = Instant::now();
        let vdb = |source| StoreError::VulnDb { store: self.name.clone(), source };
        let info = db.info().map_err(vdb)?;
        if info.built_at.is_empty() {
            return Err(self.data_err("vulnerability DB", "it records no build time (its version)"));
        }
        let db_version = info.built_at.clone();
        let mut summary = RematchSummary { db_version: db_version.clone(), ..RematchSummary::default() };

        // 1. Which (ecosystem, name) keys did the DB change?
        let err = |c: &str| self.sql_err(c.to_string());
        let keys = self.fetch_all(
            "listing packages",
            "SELECT DISTINCT ecosystem, name FROM packages".into(),
            |q| q,
        )?;
        let stored = self.fetch_all(
            "reading fingerprints",
            "SELECT ecosystem, name, fingerprint FROM advisory_fingerprints".into(),
            |q| q,
        )?;
        let mut old_fp: HashMap<(String, String), String> = HashMap::with_capacity(stored.len());
        for r in &stored {
            old_fp.insert(
                (get(r, 0).map_err(err("fingerprints"))?, get(r, 1).map_err(err("fingerprints"))?),
                get(r, 2).map_err(err("fingerprints"))?,
            );
        }
        summary.package_keys = keys.len();
        let mut changed_keys: Vec<(String, String, String)> = Vec::new();
        for r in &keys {
            let eco: String = get(r, 0).map_err(err("packages"))?;
            let name: String = get(r, 1).map_err(err("packages"))?;
            let fp = db.package_fingerprint(&eco, &name).map_err(vdb)?;
            if old_fp.get(&(eco.clone(), name.clone())) != Some(&fp) {
                changed_keys.push((eco, name, fp));
            }
        }
        drop(old_fp);
        summary.changed_keys = changed_keys.len();

        // 2. The packages to match: never matched, or under a changed key.
        let mut to_match: BTreeMap<i64, String> = BTreeMap::new();
        for r in self.fetch_all(
            "listing new packages",
            "SELECT id, data FROM packages WHERE matched = 0".into(),
            |q| q,
        )? {
            to_match.insert(get(&r, 0).map_err(err("packages"))?, get(&r, 1).map_err(err("packages"))?);
        }
        for chunk in changed_keys.chunks(BATCH / 2) {
            let cond: Vec<String> = (0..chunk.len())
                .map(|i| format!("(ecosystem = ${} AND name = ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!("SELECT id, data FROM packages WHERE {}", cond.join(" OR "));
            let rows = self.fetch_all("listing changed packages", sql, |mut q| {
                for (e, n, _) in chunk {
                    q = q.bind(e.clone()).bind(n.clone());
                }
                q
            })?;
            for r in rows {
                to_match.insert(get(&r, 0).map_err(err("packages"))?, get(&r, 1).map_err(err("packages"))?);
            }
        }
        summary.packages_matched = to_match.len();

        // 3. Match them, and read what they had.
        let ids: Vec<i64> = to_match.keys().copied().collect();
        let mut old: HashMap<i64, Vec<PkgFinding>> = HashMap::new();
        for chunk in ids.chunks(BATCH) {
            let sql = format!(
                "SELECT package_id, vuln_id, severity, status, fixed_version, title FROM package_findings \
                 WHERE package_id IN ({})",
                list(chunk.len(), 1)
            );
            let rows = self.fetch_all("reading package findings", sql, |mut q| {
                for id in chunk {
                    q = q.bind(*id);
                }
                q
            })?;
            for r in rows {
                let e = err("package findings");
                old.entry(get(&r, 0).map_err(e)?).or_default().push(PkgFinding {
                    vuln_id: get(&r, 1).map_err(err("package findings"))?,
                    severity: get(&r, 2).map_err(err("package findings"))?,
                    status: get(&r, 3).map_err(err("package findings"))?,
                    fixed_version: get(&r, 4).map_err(err("package findings"))?,
                    title: get(&r, 5).map_err(err("package findings"))?,
                });
            }
        }
        let mut matched: HashMap<i64, Matched> = HashMap::new();
        let mut newly_matched: Vec<i64> = Vec::new();
        for (id, data) in to_match {
            let sp: StoredPackage = match serde_json::from_str(&data) {
                Ok(p) => p,
                Err(e) => {
                    summary
                        .warnings
                        .push(format!("{}: stored package {id} unreadable ({e}); not matched", self.name));
                    continue;
                }
            };
            let found = palisade_vulndb::match_packages(db, sp.os.as_ref(), [&sp.package]).map_err(vdb)?;
            let mut new: Vec<PkgFinding> = found
                .into_iter()
                .map(|f| PkgFinding {
                    vuln_id: f.id,
                    severity: f.severity.as_str().to_string(),
                    status: f.status.to_string(),
                    fixed_version: f.fixed_version,
                    title: f.title.map(|t| t.chars().take(300).collect()),
                })
                .collect();
            new.sort();
            new.dedup_by(|a, b| a.vuln_id == b.vuln_id);
            let mut before = old.remove(&id).unwrap_or_default();
            before.sort();
            newly_matched.push(id);
            if before != new {
                matched.insert(id, Matched { purl: sp.package.purl, old: before, new });
            }
        }

        // 4a. Exploit data (KEV, EPSS) of every vulnerability the findings name, as the DB has it now,
        // against what the store kept: a KEV listing changes the risk of images whose advisories did not.
        let exploit_changes = self.exploit_changes(db, &matched)?;

        // 4. Which images hold a package whose findings changed, and which were never matched.
        let changed_ids: Vec<i64> = matched.keys().copied().collect();
        let mut holders: Vec<(i64, i64)> = Vec::new();
        for chunk in changed_ids.chunks(BATCH) {
            let sql = format!(
                "SELECT image_id, package_id FROM image_packages WHERE package_id IN ({})",
                list(chunk.len(), 1)
            );
            let rows = self.fetch_all("finding the images of changed packages", sql, |mut q| {
                for id in chunk {
                    q = q.bind(*id);
                }
                q
            })?;
            for r in rows {
                holders.push((
                    get(&r, 0).map_err(err("image packages"))?,
                    get(&r, 1).map_err(err("image packages"))?,
                ));
            }
        }
        let first: HashSet<i64> = self
            .fetch_all(
                "listing unmatched images",
                "SELECT id FROM images WHERE db_version IS NULL".into(),
                |q| q,
            )?
            .iter()
            .map(|r| get::<i64>(r, 0))
            .collect::<Result<_, _>>()
            .map_err(err("images"))?;
        let mut delta: HashMap<i64, (Vec<Change>, Vec<Change>)> = HashMap::new();
        for (image, pkg) in holders {
            if first.contains(&image) {
                continue;
            }
            let Some(m) = matched.get(&pkg) else { continue };
            let d = delta.entry(image).or_default();
            let old_ids: HashSet<&str> = m.old.iter().map(|f| f.vuln_id.as_str()).collect();
            let new_ids: HashSet<&str> = m.new.iter().map(|f| f.vuln_id.as_str()).collect();
            d.0.extend(
                m.new
                    .iter()
                    .filter(|f| !old_ids.contains(f.vuln_id.as_str()))
                    .map(|f| (f.vuln_id.clone(), m.purl.clone(), f.severity.clone())),
            );
            d.1.extend(
                m.old
                    .iter()
                    .filter(|f| !new_ids.contains(f.vuln_id.as_str()))
                    .map(|f| (f.vuln_id.clone(), m.purl.clone(), f.severity.clone())),
            );
        }

        // 5. Write it all in one transaction.
        let t = now();
        let written = self
            .rt
            .block_on(write(
                self,
                &db_version,
                &t,
                &changed_keys,
                &newly_matched,
                &matched,
                &first,
                delta,
                &exploit_changes,
            ))
            .map_err(self.sql_err("writing the match results"))?;
        let (changes, exploits_changed, kev_added) = written;
        summary.exploits_changed = exploits_changed;
        summary.kev_added = kev_added;
        let total = self.fetch_all("counting images", "SELECT COUNT(*) FROM images".into(), |q| q)?;
        summary.images =
            total.first().map(|r| get::<i64>(r, 0)).transpose().map_err(err("images"))?.unwrap_or(0);
        summary.changed = changes;
        summary.unchanged_images = summary.images - summary.changed.len() as i64;
        summary.seconds = start.elapsed().as_secs_f64();
        Ok(summary)
    }
}

/// A vulnerability's exploit data as the `exploits` table keeps it: KEV added, KEV due, ransomware (0/1),
/// EPSS and its percentile in millionths.
type ExploitRow = (Option<String>, Option<String>, i64, Option<i64>, Option<i64>);

/// A vulnerability whose exploit data in the DB differs from the store's: (id, stored, now).
type ExploitChange = (String, Option<ExploitRow>, Option<ExploitRow>);

fn exploit_row(x: &palisade_core::findings::vuln::Exploit) -> ExploitRow {
    (
        x.kev_added.clone(),
        x.kev_due.clone(),
        i64::from(x.ransomware),
        crate::risk::ppm(x.epss),
        crate::risk::ppm(x.epss_percentile),
    )
}

impl Store {
    /// The vulnerabilities of the stored findings (and of the findings just matched) whose exploit data in
    /// `db` differs from what the store keeps.
    fn exploit_changes(
        &self,
        db: &Db,
        matched: &HashMap<i64, Matched>,
    ) -> Result<Vec<ExploitChange>, StoreError> {
        let err = || self.sql_err("reading exploit data");
        let mut vulns: BTreeSet<String> = BTreeSet::new();
        for r in self.fetch_all(
            "listing vulnerabilities",
            "SELECT DISTINCT vuln_id FROM package_findings".into(),
            |q| q,
        )? {
            vulns.insert(get(&r, 0).map_err(err())?);
        }
        vulns.extend(matched.values().flat_map(|m| m.new.iter().map(|f| f.vuln_id.clone())));
        let mut stored: HashMap<String, ExploitRow> = HashMap::new();
        for r in self.fetch_all(
            "reading exploit data",
            "SELECT vuln_id, kev_added, kev_due, ransomware, epss_ppm, epss_percentile_ppm FROM exploits"
                .into(),
            |q| q,
        )? {
            stored.insert(
                get(&r, 0).map_err(err())?,
                (
                    get(&r, 1).map_err(err())?,
                    get(&r, 2).map_err(err())?,
                    get(&r, 3).map_err(err())?,
                    get(&r, 4).map_err(err())?,
                    get(&r, 5).map_err(err())?,
                ),
            );
        }
        let mut out = Vec::new();
        for v in vulns {
            let now = db
                .exploit(&v)
                .map_err(|source| StoreError::VulnDb { store: self.name.clone(), source })?
                .map(|x| exploit_row(&x));
            let was = stored.remove(&v);
            if was != now {
                out.push((v, was, now));
            }
        }
        Ok(out)
    }
}

#[allow(clippy::too_many_arguments)]
async fn write(
    store: &Store,
    db_version: &str,
    t: &str,
    changed_keys: &[(String, String, String)],
    newly_matched: &[i64],
    matched: &HashMap<i64, Matched>,
    first: &HashSet<i64>,
    delta: HashMap<i64, (Vec<Change>, Vec<Change>)>,
    exploit_changes: &[ExploitChange],
) -> Result<(Vec<ImageChange>, usize, Vec<String>), sqlx::Error> {
    let mut tx = store.pool.begin().await?;
    // Package findings.
    let ids: Vec<i64> = matched.keys().copied().collect();
    for chunk in ids.chunks(BATCH) {
        let sql = format!("DELETE FROM package_findings WHERE package_id IN ({})", list(chunk.len(), 1));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *tx).await?;
    }
    let rows: Vec<(i64, &PkgFinding)> =
        matched.iter().flat_map(|(id, m)| m.new.iter().map(move |f| (*id, f))).collect();
    for chunk in rows.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO package_findings (package_id, vuln_id, severity, status, fixed_version, title) VALUES {}",
            values(chunk.len(), 6, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, f) in chunk {
            q = q
                .bind(*id)
                .bind(&f.vuln_id)
                .bind(&f.severity)
                .bind(&f.status)
                .bind(f.fixed_version.as_deref())
                .bind(f.title.as_deref());
        }
        q.execute(&mut *tx).await?;
    }
    for chunk in newly_matched.chunks(BATCH) {
        let sql =
            format!("UPDATE packages SET matched = 1 WHERE matched = 0 AND id IN ({})", list(chunk.len(), 1));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut *tx).await?;
    }
    for chunk in changed_keys.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO advisory_fingerprints (ecosystem, name, fingerprint, db_version) VALUES {} \
             ON CONFLICT (ecosystem, name) DO UPDATE SET fingerprint = excluded.fingerprint, \
             db_version = excluded.db_version",
            values(chunk.len(), 4, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (e, n, fp) in chunk {
            q = q.bind(e).bind(n).bind(fp).bind(db_version);
        }
        q.execute(&mut *tx).await?;
    }

    // Exploit data of the vulnerabilities the findings now name; rows no finding names any more go.
    let current: HashSet<String> = sqlx::query("SELECT DISTINCT vuln_id FROM package_findings")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| get::<String>(r, 0))
        .collect::<Result<_, _>>()?;
    let mut exploits_changed = 0usize;
    let mut kev_added = Vec::new();
    for (vuln, was, now) in exploit_changes.iter().filter(|(v, ..)| current.contains(v)) {
        exploits_changed += 1;
        if now.as_ref().is_some_and(|n| n.0.is_some()) && was.as_ref().is_none_or(|w| w.0.is_none()) {
            kev_added.push(vuln.clone());
        }
        match now {
            Some((added, due, ransomware, epss, percentile)) => {
                sqlx::query(
                    "INSERT INTO exploits (vuln_id, kev_added, kev_due, ransomware, epss_ppm, epss_percentile_ppm, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (vuln_id) DO UPDATE SET \
                     kev_added = excluded.kev_added, kev_due = excluded.kev_due, ransomware = excluded.ransomware, \
                     epss_ppm = excluded.epss_ppm, epss_percentile_ppm = excluded.epss_percentile_ppm, \
                     updated_at = excluded.updated_at",
                )
                .bind(vuln)
                .bind(added.as_deref())
                .bind(due.as_deref())
                .bind(*ransomware)
                .bind(*epss)
                .bind(*percentile)
                .bind(t)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM exploits WHERE vuln_id = $1").bind(vuln).execute(&mut *tx).await?;
            }
        }
    }
    sqlx::query(
        "DELETE FROM exploits WHERE NOT EXISTS \
         (SELECT 1 FROM package_findings pf WHERE pf.vuln_id = exploits.vuln_id)",
    )
    .execute(&mut *tx)
    .await?;

    // Images matched for the first time: everything they hold is new.
    let mut per_image: BTreeMap<i64, (bool, Vec<Change>, Vec<Change>)> = BTreeMap::new();
    let first_ids: Vec<i64> = first.iter().copied().collect();
    for chunk in first_ids.chunks(BATCH) {
        let sql = format!(
            "SELECT ip.image_id, pf.vuln_id, p.purl, pf.severity FROM image_packages ip \
             JOIN packages p ON p.id = ip.package_id JOIN package_findings pf ON pf.package_id = ip.package_id \
             WHERE ip.image_id IN ({})",
            list(chunk.len(), 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
            per_image.insert(*id, (true, Vec::new(), Vec::new()));
        }
        for r in q.fetch_all(&mut *tx).await? {
            let image: i64 = get(&r, 0)?;
            if let Some(e) = per_image.get_mut(&image) {
                e.1.push((get(&r, 1)?, get(&r, 2)?, get(&r, 3)?));
            }
        }
    }
    for (image, (new, gone)) in delta {
        per_image.insert(image, (false, new, gone));
    }

    // History: new findings open (or reopen), gone ones are fixed.
    let added: Vec<(i64, &Change)> =
        per_image.iter().flat_map(|(id, (_, new, _))| new.iter().map(move |c| (*id, c))).collect();
    for chunk in added.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO finding_history (image_id, vuln_id, purl, severity, state, first_seen, last_seen) VALUES {} \
             ON CONFLICT (image_id, vuln_id, purl) DO UPDATE SET state = 'open', severity = excluded.severity, \
             last_seen = excluded.last_seen, fixed_at = NULL, reappeared_at = CASE \
             WHEN finding_history.state = 'fixed' THEN excluded.last_seen ELSE finding_history.reappeared_at END",
            values(chunk.len(), 7, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, (v, p, s)) in chunk {
            q = q.bind(*id).bind(v).bind(p).bind(s).bind("open").bind(t).bind(t);
        }
        q.execute(&mut *tx).await?;
    }
    let gone: Vec<(i64, &Change)> =
        per_image.iter().flat_map(|(id, (_, _, gone))| gone.iter().map(move |c| (*id, c))).collect();
    for chunk in gone.chunks(100) {
        let cond: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!("(image_id = ${} AND vuln_id = ${} AND purl = ${})", 3 * i + 2, 3 * i + 3, 3 * i + 4)
            })
            .collect();
        let sql = format!(
            "UPDATE finding_history SET state = 'fixed', fixed_at = $1, last_seen = $1 WHERE state = 'open' AND ({})",
            cond.join(" OR ")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(t);
        for (id, (v, p, _)) in chunk {
            q = q.bind(*id).bind(v).bind(p);
        }
        q.execute(&mut *tx).await?;
    }

    // Counts of the touched images, from their current findings.
    let touched: Vec<i64> = per_image.keys().copied().collect();
    let mut counts: HashMap<i64, [i64; 6]> = touched.iter().map(|id| (*id, [0; 6])).collect();
    for chunk in touched.chunks(BATCH) {
        let sql = format!(
            "SELECT ip.image_id, pf.severity, pf.status, COUNT(*) FROM image_packages ip \
             JOIN package_findings pf ON pf.package_id = ip.package_id WHERE ip.image_id IN ({}) \
             GROUP BY ip.image_id, pf.severity, pf.status",
            list(chunk.len(), 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *tx).await? {
            let image: i64 = get(&r, 0)?;
            let sev: String = get(&r, 1)?;
            let status: String = get(&r, 2)?;
            let n: i64 = get(&r, 3)?;
            if let Some(c) = counts.get_mut(&image) {
                let slot = match sev.as_str() {
                    "critical" => 0,
                    "high" => 1,
                    "medium" => 2,
                    "low" => 3,
                    _ => 4,
                };
                c[slot] += n;
                if status == "fixed" {
                    c[5] += n;
                }
            }
        }
    }
    let mut scan_rows: Vec<(i64, [i64; 6], i64, i64)> = Vec::with_capacity(touched.len());
    for (id, (_, new, gone)) in &per_image {
        let c = counts.get(id).copied().unwrap_or_default();
        scan_rows.push((*id, c, new.len() as i64, gone.len() as i64));
    }
    for chunk in scan_rows.chunks(BATCH / 2) {
        let sql = format!(
            "INSERT INTO scan_results (image_id, db_version, matched_at, critical, high, medium, low, unknown, \
             fixable, new_findings, fixed_findings) VALUES {} ON CONFLICT (image_id, db_version) DO UPDATE SET \
             matched_at = excluded.matched_at, critical = excluded.critical, high = excluded.high, \
             medium = excluded.medium, low = excluded.low, unknown = excluded.unknown, fixable = excluded.fixable, \
             new_findings = scan_results.new_findings + excluded.new_findings, \
             fixed_findings = scan_results.fixed_findings + excluded.fixed_findings",
            values(chunk.len(), 11, 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (id, c, n, f) in chunk {
            q = q.bind(*id).bind(db_version).bind(t);
            for v in c {
                q = q.bind(*v);
            }
            q = q.bind(*n).bind(*f);
        }
        q.execute(&mut *tx).await?;
        for (id, c, ..) in chunk {
            sqlx::query(
                "UPDATE images SET db_version = $1, critical = $2, high = $3, medium = $4, low = $5, unknown = $6, \
                 fixable = $7 WHERE id = $8",
            )
            .bind(db_version)
            .bind(c[0])
            .bind(c[1])
            .bind(c[2])
            .bind(c[3])
            .bind(c[4])
            .bind(c[5])
            .bind(*id)
            .execute(&mut *tx)
            .await?;
        }
    }
    // Untouched images: the previous result holds for the new DB version.
    sqlx::query(
        "INSERT INTO scan_results (image_id, db_version, matched_at, critical, high, medium, low, unknown, fixable, \
         new_findings, fixed_findings) SELECT s.image_id, $1, $2, s.critical, s.high, s.medium, s.low, s.unknown, \
         s.fixable, 0, 0 FROM scan_results s JOIN images i ON i.id = s.image_id AND s.db_version = i.db_version \
         WHERE i.db_version <> $1 ON CONFLICT (image_id, db_version) DO NOTHING",
    )
    .bind(db_version)
    .bind(t)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE images SET db_version = $1 WHERE db_version <> $1")
        .bind(db_version)
        .execute(&mut *tx)
        .await?;

    // What changed, per image, for the caller.
    let mut out = Vec::new();
    let reported: Vec<i64> = per_image
        .iter()
        .filter(|(_, (first, new, gone))| *first || !new.is_empty() || !gone.is_empty())
        .map(|(id, _)| *id)
        .collect();
    let mut names: HashMap<i64, (String, String, String)> = HashMap::new();
    for chunk in reported.chunks(BATCH) {
        let sql = format!(
            "SELECT id, digest, platform, repository FROM images WHERE id IN ({})",
            list(chunk.len(), 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *tx).await? {
            names.insert(get(&r, 0)?, (get(&r, 1)?, get(&r, 2)?, get(&r, 3)?));
        }
    }
    tx.commit().await?;
    for id in reported {
        let Some((first_match, new, fixed)) = per_image.remove(&id) else { continue };
        let (digest, platform, repository) = names.remove(&id).unwrap_or_default();
        let total: i64 = counts.get(&id).map_or(0, |c| c[..5].iter().sum());
        let unchanged = (total - new.len() as i64).max(0);
        out.push(ImageChange { digest, platform, repository, first_match, new, fixed, unchanged });
    }
    out.sort_by(|a, b| (&a.repository, &a.digest, &a.platform).cmp(&(&b.repository, &b.digest, &b.platform)));
    Ok((out, exploits_changed, kev_added))
}
