//! `var/lib/rpm/rpmdb.sqlite` and `usr/lib/sysimage/rpm/rpmdb.sqlite`: the rpm database of RHEL 9,
//! Rocky/Alma 9, Fedora 33+, Amazon Linux 2023 and other rpm 4.16+ systems.
//!
//! The file is an SQLite database; table `Packages(hnum INTEGER, blob BLOB)` holds one RPM header blob per
//! installed package (decoded by [`super::rpm_header`]). The bytes are loaded into a private read-only
//! in-memory database (`sqlite3_deserialize`), so nothing is written to disk and no journal or lock file is
//! touched. rpm keeps the database in WAL mode; a copy in memory cannot use a WAL, so the header's journal
//! mode bytes are switched back to rollback mode in our copy (committed data lives in the main file; an
//! un-checkpointed `-wal` file beside it is not read).
//!
//! The file comes from scanned content, so no SQL it contains may run: the connection is hardened
//! ([`palisade_core::sqlite::harden`]: views and triggers off, untrusted schema, no extensions, a step budget
//! proportional to the file size, one value at most [`MAX_VALUE`] bytes) and `Packages` must be a real table
//! with plain `hnum` and `blob` columns before it is read. A `Packages` view (a recursive one would never end)
//! is an error naming the file.

use super::rpm_header::Collector;
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::FileMeta;
use rusqlite::{Connection, OpenFlags};

/// Reader of sqlite rpm databases.
pub struct RpmSqlite;

/// Largest database we read.
const MAX_SIZE: u64 = 1024 * 1024 * 1024;
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// Largest header blob read (real headers are tens of KiB; rpm itself refuses headers over 256 MiB).
const MAX_VALUE: usize = 64 * 1024 * 1024;
/// Virtual-machine steps allowed: a fixed base plus a generous cost per byte of the file (reading one row
/// takes a handful of steps; a row is at least tens of bytes).
fn step_budget(len: usize) -> i64 {
    10_000_000i64.saturating_add(i64::try_from(len).unwrap_or(i64::MAX).saturating_mul(16))
}

impl Parser for RpmSqlite {
    fn id(&self) -> &'static str {
        "rpm-sqlite"
    }

    fn wants(&self, meta: &FileMeta) -> bool {
        matches!(meta.path, "var/lib/rpm/rpmdb.sqlite" | "usr/lib/sysimage/rpm/rpmdb.sqlite")
            && meta.size < MAX_SIZE
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        if !input.data.starts_with(SQLITE_MAGIC) {
            return Err(ParseError::new("not an SQLite database (bad magic)"));
        }
        let mut data = input.data.to_vec();
        // Journal mode bytes 18 (write version) and 19 (read version): 2 = WAL, 1 = rollback journal.
        if let Some(v) = data.get_mut(18..20)
            && v == [2, 2]
        {
            v.copy_from_slice(&[1, 1]);
        }
        let sqlerr = |e: rusqlite::Error| ParseError::new(format!("SQLite: {e}"));
        let mut conn = Connection::open_with_flags(
            ":memory:",
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlerr)?;
        let budget =
            palisade_core::sqlite::harden(&conn, step_budget(data.len()), MAX_VALUE).map_err(sqlerr)?;
        conn.deserialize_read_exact(rusqlite::MAIN_DB, data.as_slice(), data.len(), true).map_err(sqlerr)?;
        palisade_core::sqlite::check_table(&conn, "Packages", &["hnum", "blob"])
            .map_err(|e| ParseError::new(format!("no readable Packages table: {e}")))?;
        let mut stmt = conn
            .prepare("SELECT hnum, blob FROM Packages")
            .map_err(|e| ParseError::new(format!("no readable Packages table: {e}")))?;
        let mut rows = stmt.query([]).map_err(sqlerr)?;
        let mut collector = Collector::new(input, self.id());
        loop {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => {
                    // A corrupt page or a spent step budget ends the scan; keep what was read so far.
                    let why = if budget.spent() {
                        format!("more than {} SQLite steps", budget.steps())
                    } else {
                        format!("SQLite: {e}")
                    };
                    collector.warn(format!("{why}; the rest of the database was not read"));
                    break;
                }
            };
            let hnum: i64 = row.get(0).unwrap_or(-1);
            match row
                .get_ref(1)
                .map_err(|e| e.to_string())
                .and_then(|v| v.as_blob().map_err(|e| e.to_string()))
            {
                Ok(blob) => collector.blob(&format!("header {hnum}"), blob),
                Err(e) => collector.warn(format!("header {hnum}: blob column: {e}; skipped")),
            }
        }
        collector.finish(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::SourcePackage;

    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/rpm/rpmdb.sqlite");

    fn parse(data: &[u8]) -> Result<Output, ParseError> {
        let mut out = Output::default();
        RpmSqlite.parse(&Input { path: "var/lib/rpm/rpmdb.sqlite", layer: Some(2), data }, &mut out)?;
        Ok(out)
    }

    #[test]
    fn wants() {
        let meta = |path| FileMeta { path, size: 10, mode: 0o644, layer: None };
        assert!(RpmSqlite.wants(&meta("var/lib/rpm/rpmdb.sqlite")));
        assert!(RpmSqlite.wants(&meta("usr/lib/sysimage/rpm/rpmdb.sqlite")));
        assert!(!RpmSqlite.wants(&meta("var/lib/rpm/rpmdb.sqlite-shm")));
    }

    /// The fixture was made by rpm 4.18 (`make.sh`): three noarch packages.
    #[test]
    fn rpm_made_fixture() {
        // rpm leaves its database in WAL mode; the reader must cope with that.
        assert_eq!(FIXTURE.get(18..20), Some([2u8, 2].as_slice()));
        let out = parse(FIXTURE).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let mut got: Vec<_> = out
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.metadata.get("epoch").map(String::as_str)))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("fixture-lib", "2.0-1.el9", Some("3")),
                ("fixture-tool", "1.2.3-4.el9", None),
                ("openssl-libs", "3.0.7-27.el9", Some("1")),
            ]
        );
        let lib = out.packages.iter().find(|p| p.name == "fixture-lib").unwrap();
        assert_eq!(lib.licenses, ["GPL-2.0-or-later AND LGPL-2.1-only"]);
        assert_eq!(lib.arch.as_deref(), Some("noarch"));
        assert_eq!(
            lib.source,
            Some(SourcePackage { name: "fixture-lib".into(), version: "2.0-1.el9".into() })
        );
        assert_eq!(lib.metadata["vendor"], "Palisade Test");
        assert_eq!(lib.found_by, "rpm-sqlite");
        assert_eq!(lib.locations[0].layer, Some(2));
    }

    #[test]
    fn not_sqlite_or_wrong_schema() {
        assert!(parse(b"hello").unwrap_err().0.contains("bad magic"));
        // A valid SQLite file without a Packages table.
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE Other(x); INSERT INTO Other VALUES (1);").unwrap();
        let bytes = conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec();
        let err = parse(&bytes).unwrap_err();
        assert!(err.0.contains("no readable Packages table"), "{err}");
        // Truncated database: an error or warnings, never a panic.
        let _ = parse(&FIXTURE[..FIXTURE.len() / 2]);
    }

    /// A `Packages` view that recurses forever is refused at once, as are a virtual table and a generated
    /// blob column.
    #[test]
    fn sql_in_the_file_never_runs() {
        for schema in [
            "CREATE VIEW Packages AS WITH RECURSIVE r(hnum, blob) AS \
             (SELECT 1, x'00' UNION ALL SELECT hnum + 1, blob FROM r) SELECT * FROM r;",
            "CREATE TABLE Packages(hnum INTEGER, blob BLOB AS (zeroblob(hnum)));",
        ] {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch(schema).unwrap();
            let bytes = conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec();
            let start = std::time::Instant::now();
            let err = parse(&bytes).unwrap_err();
            assert!(start.elapsed() < std::time::Duration::from_secs(5));
            assert!(err.0.contains("no readable Packages table"), "{err}");
            assert!(err.0.contains("view") || err.0.contains("generated"), "{err}");
        }
    }

    #[test]
    fn bad_blob_is_a_warning() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL);
             INSERT INTO Packages VALUES (1, x'0000000100000010');
             INSERT INTO Packages VALUES (2, 'text');",
        )
        .unwrap();
        let bytes = conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec();
        let out = parse(&bytes).unwrap();
        assert!(out.packages.is_empty());
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
        assert!(out.warnings[0].starts_with("header 1: "), "{}", out.warnings[0]);
        assert!(out.warnings[1].starts_with("header 2: blob column"), "{}", out.warnings[1]);
    }
}
