//! Retention: old scan results, images no longer seen, old fixed history, packages no image holds and the
//! exploit data of vulnerabilities no finding names.

use crate::StoreError;
use crate::store::Store;
use serde::Serialize;

/// What [`Store::apply_retention`] removed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Pruned {
    pub images: u64,
    pub scan_results: u64,
    pub history: u64,
    pub packages: u64,
}

fn days_ago(days: i64) -> String {
    crate::store::stamp(time::OffsetDateTime::now_utc() - time::Duration::days(days))
}

impl Store {
    /// Apply the retention settings ([`Store::retention`]) in one transaction.
    pub fn apply_retention(&self) -> Result<Pruned, StoreError> {
        let r = self.retention()?;
        self.rt
            .block_on(async {
                let mut tx = self.pool.begin().await?;
                let mut p = Pruned::default();
                if r.image_max_age_days > 0 {
                    let cutoff = days_ago(r.image_max_age_days);
                    // Children first: SQLite enforces the cascades only with foreign keys on.
                    for table in ["tags", "sboms", "image_packages", "scan_results", "finding_history"] {
                        let sql = format!(
                            "DELETE FROM {table} WHERE image_id IN (SELECT id FROM images WHERE last_seen < $1)"
                        );
                        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&cutoff).execute(&mut *tx).await?;
                    }
                    p.images = sqlx::query("DELETE FROM images WHERE last_seen < $1")
                        .bind(&cutoff)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                p.scan_results = sqlx::query(
                    "DELETE FROM scan_results WHERE (SELECT COUNT(*) FROM scan_results n \
                     WHERE n.image_id = scan_results.image_id AND (n.matched_at > scan_results.matched_at \
                     OR (n.matched_at = scan_results.matched_at AND n.db_version > scan_results.db_version))) >= $1",
                )
                .bind(r.scan_results_per_image)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if r.fixed_history_days > 0 {
                    p.history = sqlx::query("DELETE FROM finding_history WHERE state = 'fixed' AND fixed_at < $1")
                        .bind(days_ago(r.fixed_history_days))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                sqlx::query(
                    "DELETE FROM package_findings WHERE NOT EXISTS \
                     (SELECT 1 FROM image_packages ip WHERE ip.package_id = package_findings.package_id)",
                )
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM exploits WHERE NOT EXISTS \
         (SELECT 1 FROM package_findings pf WHERE pf.vuln_id = exploits.vuln_id)")
                    .execute(&mut *tx)
                    .await?;
                p.packages = sqlx::query(
                    "DELETE FROM packages WHERE NOT EXISTS \
                     (SELECT 1 FROM image_packages ip WHERE ip.package_id = packages.id)",
                )
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(p)
            })
            .map_err(self.sql_err("applying retention"))
    }
}
