//! Opening SQLite files that may be hostile: the rpm database of a scanned image, or a vulnerability
//! database someone else wrote.
//!
//! An SQLite file carries SQL in its schema: a `VIEW` (even a recursive one that never ends), triggers,
//! generated columns, virtual tables. A file from scanned content must be read so that none of that runs:
//! [`harden`] turns views and triggers off, marks the schema untrusted (no functions called from it), sets
//! `DEFENSIVE`, forbids `ATTACH`, caps the size of one value and installs a [`Budget`] of virtual-machine
//! steps through the progress handler, so a query that runs away is interrupted with an error.
//! [`check_table`] verifies, before any query names a table, that it is a real table (not a view, not a
//! virtual table) with the expected plain columns (not generated ones). Extensions are never loaded (the
//! `load_extension` feature of rusqlite is off, so the SQL function does not exist).

use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::{Connection, OptionalExtension};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Virtual-machine instructions between two calls of the progress handler.
const STEP: i32 = 1000;

/// A budget of virtual-machine steps shared by the progress handler of one connection. When it is spent,
/// the running statement fails with "interrupted"; [`Budget::reset`] refills it (before each query of a
/// long-lived connection).
#[derive(Clone, Debug)]
pub struct Budget {
    left: Arc<AtomicI64>,
    full: i64,
}

impl Budget {
    /// Refill the budget.
    pub fn reset(&self) {
        self.left.store(self.full, Ordering::Relaxed);
    }

    /// Whether the budget was spent (the last statement was interrupted because of it).
    pub fn spent(&self) -> bool {
        self.left.load(Ordering::Relaxed) <= 0
    }

    /// The steps of a full budget.
    pub fn steps(&self) -> i64 {
        self.full
    }
}

/// Make a connection safe for an untrusted file and give it a budget of `steps` virtual-machine
/// instructions. `max_value` caps the bytes of one string or blob SQLite will produce.
pub fn harden(conn: &Connection, steps: i64, max_value: usize) -> rusqlite::Result<Budget> {
    for (flag, on) in [
        (DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false),
        (DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false),
        (DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_FKEY, false),
        (DbConfig::SQLITE_DBCONFIG_ENABLE_ATTACH_CREATE, false),
    ] {
        conn.set_db_config(flag, on)?;
    }
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, i32::try_from(max_value).unwrap_or(i32::MAX))?;
    conn.set_limit(Limit::SQLITE_LIMIT_EXPR_DEPTH, 100)?;
    conn.set_limit(Limit::SQLITE_LIMIT_COMPOUND_SELECT, 10)?;
    let budget = Budget { left: Arc::new(AtomicI64::new(steps)), full: steps.max(1) };
    let left = budget.left.clone();
    conn.progress_handler(
        STEP,
        Some(move || left.fetch_sub(i64::from(STEP), Ordering::Relaxed) <= i64::from(STEP)),
    )?;
    Ok(budget)
}

/// Check that `table` is a real table whose plain (stored, not generated) columns include `columns`.
/// The error says what is wrong, for a warning naming the file.
pub fn check_table(conn: &Connection, table: &str, columns: &[&str]) -> Result<(), String> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT type, coalesce(sql, '') FROM sqlite_schema WHERE name = ?1 COLLATE NOCASE \
             AND type IN ('table', 'view')",
            [table],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(|e| format!("cannot read the schema: {e}"))?;
    let Some((kind, sql)) = row else { return Err(format!("no table {table}")) };
    if kind != "table" {
        return Err(format!(
            "{table} is a {kind}, not a table; not read (SQL in a scanned file is never run)"
        ));
    }
    if sql.trim_start().get(..14).is_some_and(|s| s.eq_ignore_ascii_case("CREATE VIRTUAL")) {
        return Err(format!("{table} is a virtual table; not read"));
    }
    let mut stmt = conn
        .prepare("SELECT name, hidden FROM pragma_table_xinfo(?1)")
        .map_err(|e| format!("cannot read the columns of {table}: {e}"))?;
    let cols: Vec<(String, i64)> = stmt
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(|e| format!("cannot read the columns of {table}: {e}"))?;
    for want in columns {
        match cols.iter().find(|(n, _)| n.eq_ignore_ascii_case(want)) {
            None => return Err(format!("table {table} has no column {want}")),
            Some((_, 0)) => {}
            Some(_) => return Err(format!("column {table}.{want} is generated or hidden; not read")),
        }
    }
    Ok(())
}

/// Check that an index on `table` named `index` exists (a lookup without it would scan the table).
pub fn check_index(conn: &Connection, index: &str, table: &str) -> Result<(), String> {
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?1 AND tbl_name = ?2 \
             COLLATE NOCASE",
            [index, table],
            |r| r.get(0),
        )
        .map_err(|e| format!("cannot read the schema: {e}"))?;
    if n == 1 { Ok(()) } else { Err(format!("index {index} on {table} is missing")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hardened(sql: &str) -> (Connection, Budget) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(sql).unwrap();
        let b = harden(&conn, 1_000_000, 1 << 20).unwrap();
        (conn, b)
    }

    #[test]
    fn a_recursive_view_is_refused_and_never_runs() {
        let (conn, _) = hardened(
            "CREATE VIEW Packages AS WITH RECURSIVE r(hnum, blob) AS \
             (SELECT 1, x'00' UNION ALL SELECT hnum + 1, blob FROM r) SELECT * FROM r;",
        );
        let err = check_table(&conn, "Packages", &["hnum", "blob"]).unwrap_err();
        assert!(err.contains("is a view"), "{err}");
        // Even a query naming it does not run: views are off.
        let start = std::time::Instant::now();
        assert!(conn.prepare("SELECT count(*) FROM Packages").is_err());
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn the_budget_interrupts_a_runaway_query_and_reset_refills_it() {
        let (conn, budget) = hardened("CREATE TABLE t(x);");
        let r: rusqlite::Result<i64> = conn.query_row(
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
            [],
            |r| r.get(0),
        );
        let err = r.unwrap_err().to_string();
        assert!(err.contains("interrupt"), "{err}");
        assert!(budget.spent());
        budget.reset();
        assert!(!budget.spent());
        let n: i64 = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn tables_columns_and_indexes_are_checked() {
        let (conn, _) = hardened(
            "CREATE TABLE Packages(hnum INTEGER, blob BLOB);
             CREATE TABLE g(a INTEGER, b BLOB AS (zeroblob(100000000)));
             CREATE INDEX g_a ON g(a);",
        );
        check_table(&conn, "Packages", &["hnum", "blob"]).unwrap();
        check_table(&conn, "packages", &["HNUM"]).unwrap();
        assert!(check_table(&conn, "Packages", &["other"]).unwrap_err().contains("no column other"));
        assert!(check_table(&conn, "missing", &[]).unwrap_err().contains("no table"));
        assert!(check_table(&conn, "g", &["a", "b"]).unwrap_err().contains("generated"));
        check_index(&conn, "g_a", "g").unwrap();
        assert!(check_index(&conn, "nope", "g").is_err());
    }

    #[test]
    fn one_value_is_capped() {
        let (conn, _) = hardened("");
        let r: rusqlite::Result<Vec<u8>> = conn.query_row("SELECT zeroblob(2000000)", [], |r| r.get(0));
        assert!(r.is_err());
    }
}
