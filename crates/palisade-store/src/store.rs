//! Opening the store: SQLite or PostgreSQL behind one sqlx `Any` pool, migrations, and the small SQL
//! helpers the other modules share. The API is synchronous (like the rest of Palisade); a current-thread
//! tokio runtime owned by the [`Store`] drives the pool.

use crate::StoreError;
use crate::model::Retention;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};
use std::path::{Path, PathBuf};
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Rows bound per multi-row statement: 8 columns × 500 stays under SQLite's 32,766 and PostgreSQL's 65,535
/// parameters.
pub(crate) const BATCH: usize = 500;

/// Which database the store is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An open store.
pub struct Store {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// The store as named to the user (password removed).
    pub(crate) name: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("name", &self.name).field("backend", &self.backend).finish()
    }
}

/// The default store: `<cache dir>/store/palisade-store.db`.
pub fn default_store_path() -> PathBuf {
    palisade_core::default_cache_dir().join("store").join("palisade-store.db")
}

/// A URL with its password replaced, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Store {
    /// Open (creating it when needed) the store named by `spec`: a `postgres://` or `postgresql://` URL, a
    /// `sqlite:` URL, or a file path (SQLite). Applies pending migrations.
    pub fn open(spec: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, backend, name) = if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            (spec.to_string(), Backend::Postgres, redact(spec))
        } else if spec.starts_with("sqlite:") {
            (spec.to_string(), Backend::Sqlite, spec.to_string())
        } else {
            let path = Path::new(spec);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Open { store: spec.into(), source: sqlx::Error::Io(e) })?;
            }
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            (format!("sqlite://{}?mode=rwc", abs.display()), Backend::Sqlite, spec.to_string())
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Open { store: name.clone(), source: sqlx::Error::Io(e) })?;
        // One direct connection first: a pool only says it timed out, this says why (refused, bad password).
        if backend == Backend::Postgres {
            use sqlx::Connection;
            let probe = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), sqlx::AnyConnection::connect(&url)).await
            });
            match probe {
                Ok(Ok(c)) => {
                    let _ = rt.block_on(c.close());
                }
                Ok(Err(e)) => return Err(StoreError::Open { store: name, source: e }),
                Err(_) => return Err(StoreError::Open { store: name, source: sqlx::Error::PoolTimedOut }),
            }
        }
        // SQLite: one connection (one writer; other processes read concurrently through WAL).
        let max = if backend == Backend::Sqlite { 1 } else { 4 };
        let pool = rt
            .block_on(
                AnyPoolOptions::new()
                    .max_connections(max)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            if backend == Backend::Sqlite {
                                conn.execute("PRAGMA journal_mode = WAL").await?;
                                conn.execute("PRAGMA synchronous = NORMAL").await?;
                                conn.execute("PRAGMA busy_timeout = 10000").await?;
                                conn.execute("PRAGMA foreign_keys = ON").await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(&url),
            )
            .map_err(|e| StoreError::Open { store: name.clone(), source: e })?;
        rt.block_on(MIGRATOR.run(&pool))
            .map_err(|e| StoreError::Migrate { store: name.clone(), source: e })?;
        Ok(Store { rt, pool, backend, name })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The store as named to the user (password removed).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn sql_err(&self, context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
        let context = context.into();
        move |source| StoreError::Sql { store: self.name.clone(), context, source }
    }

    pub(crate) fn data_err(&self, context: &str, message: impl std::fmt::Display) -> StoreError {
        StoreError::Data { store: self.name.clone(), context: context.into(), message: message.to_string() }
    }

    /// Rows of a read query with `$n` parameters already bound by `bind`.
    pub(crate) fn fetch_all(
        &self,
        context: &str,
        sql: String,
        bind: impl FnOnce(
            sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
        ) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let q = bind(sqlx::query(AssertSqlSafe(sql)));
        self.rt.block_on(q.fetch_all(&self.pool)).map_err(self.sql_err(context))
    }

    /// The retention settings (defaults for those never set).
    pub fn retention(&self) -> Result<Retention, StoreError> {
        let rows = self.fetch_all("reading settings", "SELECT key, value FROM settings".into(), |q| q)?;
        let mut r = Retention::default();
        for row in rows {
            let key: String = row.try_get(0).map_err(self.sql_err("reading settings"))?;
            let value: String = row.try_get(1).map_err(self.sql_err("reading settings"))?;
            let n = value
                .parse::<i64>()
                .map_err(|_| self.data_err("settings", format!("{key} = {value:?}: not a whole number")));
            match key.as_str() {
                "scan_results_per_image" => r.scan_results_per_image = n?,
                "image_max_age_days" => r.image_max_age_days = n?,
                "fixed_history_days" => r.fixed_history_days = n?,
                _ => {}
            }
        }
        Ok(r)
    }

    /// Save the retention settings.
    pub fn set_retention(&self, r: &Retention) -> Result<(), StoreError> {
        if r.scan_results_per_image < 1 || r.image_max_age_days < 0 || r.fixed_history_days < 0 {
            return Err(StoreError::Usage(
                "retention: scan results per image must be at least 1, ages 0 (never) or more days".into(),
            ));
        }
        self.rt
            .block_on(async {
                let mut tx = self.pool.begin().await?;
                for (k, v) in [
                    ("scan_results_per_image", r.scan_results_per_image),
                    ("image_max_age_days", r.image_max_age_days),
                    ("fixed_history_days", r.fixed_history_days),
                ] {
                    sqlx::query(
                        "INSERT INTO settings (key, value) VALUES ($1, $2) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    )
                    .bind(k)
                    .bind(v.to_string())
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await
            })
            .map_err(self.sql_err("saving retention settings"))
    }
}

/// `($1, $2, …)`-style placeholders for `rows` rows of `cols` columns, numbered from `$first`.
pub(crate) fn values(rows: usize, cols: usize, first: usize) -> String {
    let mut s = String::new();
    let mut n = first;
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&n.to_string());
            n += 1;
        }
        s.push(')');
    }
    s
}

/// `$first, …` placeholders for an `IN (…)` list.
pub(crate) fn list(n: usize, first: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Now, as stored: RFC 3339 UTC with nine fractional digits, so that text order is time order.
pub(crate) fn now() -> String {
    stamp(time::OffsetDateTime::now_utc())
}

/// A time as stored (see [`now`]).
pub(crate) fn stamp(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z"
    );
    t.to_offset(time::UtcOffset::UTC).format(&f).unwrap_or_else(|_| "1970-01-01T00:00:00.000000000Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert_eq!(values(2, 2, 3), "($3, $4), ($5, $6)");
        assert_eq!(list(3, 1), "$1, $2, $3");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }
}
