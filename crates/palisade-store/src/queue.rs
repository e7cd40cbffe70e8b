//! The scan queue shared by `palisade watch` replicas, and leases.
//!
//! [`Store::enqueue`] adds images to scan (a digest already queued, scanned or being scanned is left as it
//! is; a failed one is queued again while it has attempts left). [`Store::claim`] hands pending rows to one
//! worker: on PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so concurrent replicas get
//! disjoint rows without waiting for each other; on SQLite the one writer makes the `UPDATE … RETURNING`
//! atomic. A claim older than `stale` (its replica died) is handed out again. [`Store::finish`] marks a row
//! done or failed; [`Store::release`] gives unstarted claims back at shutdown. [`Store::try_lease`] lets one
//! replica at a time run a named job (the DB update and re-match).

use crate::store::{Backend, now, stamp};
use crate::{Store, StoreError};
use sqlx::Row;
use std::time::Duration;

/// Attempts after which a failed image is no longer queued again.
pub const MAX_ATTEMPTS: i64 = 3;

/// One image to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedImage {
    pub digest: String,
    /// `host/repository`.
    pub repository: String,
    pub tags: Vec<String>,
    pub platform: Option<String>,
}

/// Rows of the queue per state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub pending: i64,
    pub claimed: i64,
    pub done: i64,
    pub failed: i64,
}

impl Store {
    /// Queue images; returns how many rows were added or queued again.
    pub fn enqueue(&self, images: &[QueuedImage]) -> Result<usize, StoreError> {
        let t = now();
        let err = self.sql_err("queueing images");
        self.rt
            .block_on(async {
                let mut tx = self.pool.begin().await?;
                let mut n = 0;
                for i in images {
                    let tags = serde_json::to_string(&i.tags).unwrap_or_else(|_| "[]".into());
                    let r = sqlx::query(
                        "INSERT INTO scan_queue (digest, repository, tags, platform, state, attempts, enqueued_at) \
                         VALUES ($1, $2, $3, $4, 'pending', 0, $5) \
                         ON CONFLICT (digest) DO UPDATE SET state = 'pending', enqueued_at = excluded.enqueued_at \
                         WHERE scan_queue.state = 'failed' AND scan_queue.attempts < $6",
                    )
                    .bind(&i.digest)
                    .bind(&i.repository)
                    .bind(tags)
                    .bind(i.platform.clone())
                    .bind(&t)
                    .bind(MAX_ATTEMPTS)
                    .execute(&mut *tx)
                    .await?;
                    n += r.rows_affected() as usize;
                }
                tx.commit().await?;
                Ok(n)
            })
            .map_err(err)
    }

    /// Claim up to `n` rows for `worker`: pending ones, and claims older than `stale`.
    pub fn claim(&self, worker: &str, n: usize, stale: Duration) -> Result<Vec<QueuedImage>, StoreError> {
        let t = now();
        let stale_before = stamp(time::OffsetDateTime::now_utc() - stale);
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE scan_queue SET state = 'claimed', claimed_by = $1, claimed_at = $2, attempts = attempts + 1 \
             WHERE digest IN (SELECT digest FROM scan_queue \
               WHERE state = 'pending' OR (state = 'claimed' AND claimed_at < $3) \
               ORDER BY enqueued_at, digest LIMIT $4{lock}) \
             RETURNING digest, repository, tags, platform"
        );
        let rows = self
            .rt
            .block_on(
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(worker)
                    .bind(&t)
                    .bind(&stale_before)
                    .bind(n as i64)
                    .fetch_all(&self.pool),
            )
            .map_err(self.sql_err("claiming queued images"))?;
        let mut out = Vec::new();
        for r in rows {
            let get = |i: usize| r.try_get::<String, _>(i).map_err(self.sql_err("reading the scan queue"));
            let tags_text = get(2)?;
            let tags = serde_json::from_str(&tags_text).map_err(|e| {
                self.data_err("scan_queue.tags", format!("{tags_text:?} is not a JSON list of strings: {e}"))
            })?;
            out.push(QueuedImage {
                digest: get(0)?,
                repository: get(1)?,
                tags,
                platform: r
                    .try_get::<Option<String>, _>(3)
                    .map_err(self.sql_err("reading the scan queue"))?,
            });
        }
        Ok(out)
    }

    /// Mark a claimed row done (`error` None) or failed.
    pub fn finish(&self, digest: &str, error: Option<&str>) -> Result<(), StoreError> {
        let state = if error.is_some() { "failed" } else { "done" };
        self.rt
            .block_on(
                sqlx::query("UPDATE scan_queue SET state = $1, error = $2 WHERE digest = $3")
                    .bind(state)
                    .bind(error.map(str::to_string))
                    .bind(digest)
                    .execute(&self.pool),
            )
            .map_err(self.sql_err("finishing a queued image"))?;
        Ok(())
    }

    /// Give claims of `worker` not started back to the queue.
    pub fn release(&self, worker: &str, digests: &[String]) -> Result<(), StoreError> {
        for d in digests {
            self.rt
                .block_on(
                    sqlx::query(
                        "UPDATE scan_queue SET state = 'pending', claimed_by = NULL, claimed_at = NULL, \
                         attempts = attempts - 1 WHERE digest = $1 AND claimed_by = $2 AND state = 'claimed'",
                    )
                    .bind(d)
                    .bind(worker)
                    .execute(&self.pool),
                )
                .map_err(self.sql_err("releasing queued images"))?;
        }
        Ok(())
    }

    /// Rows per state.
    pub fn queue_counts(&self) -> Result<QueueCounts, StoreError> {
        let rows = self.fetch_all(
            "counting the scan queue",
            "SELECT state, COUNT(*) FROM scan_queue GROUP BY state".into(),
            |q| q,
        )?;
        let mut c = QueueCounts::default();
        for r in rows {
            let state: String = r.try_get(0).map_err(self.sql_err("counting the scan queue"))?;
            let n: i64 = r.try_get(1).map_err(self.sql_err("counting the scan queue"))?;
            match state.as_str() {
                "pending" => c.pending = n,
                "claimed" => c.claimed = n,
                "done" => c.done = n,
                "failed" => c.failed = n,
                _ => {}
            }
        }
        Ok(c)
    }

    /// Take or renew the lease `name` for `holder` for `ttl`; false while another holder has it.
    pub fn try_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let t = now();
        let until = stamp(time::OffsetDateTime::now_utc() + ttl);
        let rows = self
            .rt
            .block_on(
                sqlx::query(
                    "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
                     WHERE leases.until < $4 OR leases.holder = excluded.holder \
                     RETURNING holder",
                )
                .bind(name)
                .bind(holder)
                .bind(&until)
                .bind(&t)
                .fetch_all(&self.pool),
            )
            .map_err(self.sql_err("taking a lease"))?;
        Ok(!rows.is_empty())
    }
}
