//! The database file: one SQLite file, written once by [`build`] and then only read.
//!
//! Schema (version [`SCHEMA_VERSION`]):
//! * `meta(key, value)`: `schema_version`, `built_at` (RFC 3339), `builder` (Palisade version), `sources`
//!   (JSON list of the source paths), `feeds` (JSON per-feed counts), `counts` (JSON totals and per-ecosystem
//!   counts);
//! * `advisory(rowid, id, feed, modified, json)`: one row per advisory, the [`Advisory`] without `affected`;
//! * `affected(ecosystem, name, advisory, json)`: one row per affected package, indexed on
//!   `(ecosystem, name)` (keys from [`crate::ecosystem`]);
//! * `alias(alias, advisory)`: every id and alias → advisory, so aliases link advisories of different feeds.
//!
//! [`Db::open`] opens the file read-only with `immutable=1`: no lock, no journal, no copy, so any number of
//! scans can share one file. The file is verified before it is used: the connection is hardened
//! ([`palisade_core::sqlite::harden`]: views and triggers off, untrusted schema, no extensions), the four
//! tables must be real tables with the expected columns and the two indexes must exist, and every query runs
//! under a step budget ([`QUERY_STEPS`]), so a damaged or planted file (`affected` replaced by a recursive
//! view, a table without its index) is an error naming the file instead of a scan that never ends. [`build`]
//! runs `PRAGMA integrity_check` on what it wrote before it replaces the old database. `affected` rows are stored sorted by package, so one lookup reads adjacent
//! pages. The build runs no `ANALYZE`: every query is a single equality lookup on an index, and with
//! `sqlite_stat4` statistics SQLite re-prepares such statements each time a parameter changes. [`build`]
//! writes a temporary file (random name, `O_EXCL`) next to the output and renames it over the output, so
//! readers see either the old or the new database, never a partial one; sources that yield no advisories
//! are an error and leave the existing database alone, as are sources with unreadable documents (unless
//! [`BuildOptions::allow_errors`]) and a result with fewer than 90% of the existing database's advisories
//! (unless [`BuildOptions::force`]).

use crate::DbError;
use crate::import::{self, Collector, FeedStats, exploits::Exploit};
use crate::matcher::PreparedAffected;
use crate::model::{Advisory, Affected};
use palisade_core::Progress;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Version of the table layout; [`Db::open`] refuses other versions.
pub const SCHEMA_VERSION: u32 = 1;
/// Age after which [`DbInfo::stale_warning`] warns by default.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Files, directories or archives to import.
    pub sources: Vec<PathBuf>,
    /// The database file to write (replaced atomically).
    pub output: PathBuf,
    pub progress: Option<Arc<Progress>>,
    /// Build from what could be read even when some documents could not (each is a warning); without it a
    /// source with problems fails the build and leaves the existing database alone.
    pub allow_errors: bool,
    /// Replace the existing database even with one holding far fewer advisories (see [`build`]).
    pub force: bool,
}

/// What a build did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildStats {
    pub output: PathBuf,
    /// Advisories stored (after duplicates were resolved and withdrawn ones dropped).
    pub advisories: u64,
    /// Affected-package rows stored.
    pub affected: u64,
    /// Alias rows stored.
    pub aliases: u64,
    /// Per-feed counts.
    pub feeds: BTreeMap<String, FeedStats>,
    /// Distinct package names per ecosystem key.
    pub ecosystems: BTreeMap<String, u64>,
    /// The first problems met (each a document that could not be read).
    pub warnings: Vec<String>,
    /// All problems met, including those not kept in `warnings`.
    pub warning_count: u64,
    pub duration: Duration,
}

#[derive(Serialize, Deserialize)]
struct Counts {
    advisories: u64,
    /// CVEs with exploit data (KEV or EPSS); absent in databases built before it was stored.
    #[serde(default)]
    exploits: u64,
    affected: u64,
    aliases: u64,
    ecosystems: BTreeMap<String, u64>,
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// Import every source and write the database file atomically.
pub fn build(opts: &BuildOptions) -> Result<BuildStats, DbError> {
    let start = Instant::now();
    if opts.sources.is_empty() {
        return Err(DbError::Build("no advisory sources given".into()));
    }
    let mut c = Collector { progress: opts.progress.clone(), ..Default::default() };
    for s in &opts.sources {
        import::read_source(s, &mut c)?;
    }
    if let Some(p) = &opts.progress {
        p.set_stage(format!("writing {}", opts.output.display()));
    }
    let out = &opts.output;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| DbError::io(dir, e))?;
    }
    // A temporary file with a random name beside the output, renamed over it at the end; the output must be
    // absent or a regular file (never a device, FIFO or symlink).
    if c.warning_count > 0 && !opts.allow_errors {
        return Err(DbError::Build(format!(
            "{} problems met while importing{}; {} was left unchanged (--allow-errors builds from what was \
             read)",
            c.warning_count,
            c.warnings.first().map(|w| format!(", the first: {w}")).unwrap_or_default(),
            out.display()
        )));
    }
    let replacement =
        palisade_core::output::Replacement::new(out).map_err(|e| DbError::Build(e.to_string()))?;
    let (advisories, affected, aliases, ecosystems) = write_db(replacement.path(), opts, &c)?;
    if advisories == 0 {
        // Dropping the replacement removes the temporary file: the existing database stays as it was.
        return Err(DbError::Build(format!(
            "the sources yielded no advisories ({} problems met{}); {} was left unchanged",
            c.warning_count,
            c.warnings.first().map(|w| format!(", the first: {w}")).unwrap_or_default(),
            out.display()
        )));
    }
    // Never replace a database by a much emptier one (a truncated download, a wrong --from) unless forced:
    // fewer than 90% of its advisories. Withdrawn advisories make a rebuild legitimately a little smaller.
    if !opts.force
        && let Ok(old) = Db::open(out).and_then(|db| db.info())
        && advisories.saturating_mul(10) < old.advisories.saturating_mul(9)
    {
        return Err(DbError::Build(format!(
            "the new database would hold {advisories} advisories, the existing {} holds {}; it was left \
             unchanged (--force replaces it)",
            out.display(),
            old.advisories
        )));
    }
    replacement.commit().map_err(|e| DbError::Build(e.to_string()))?;
    Ok(BuildStats {
        output: out.clone(),
        advisories,
        affected,
        aliases,
        feeds: c.feeds,
        ecosystems,
        warnings: c.warnings,
        warning_count: c.warning_count,
        duration: start.elapsed(),
    })
}

type WriteCounts = (u64, u64, u64, BTreeMap<String, u64>);

fn write_db(tmp: &Path, opts: &BuildOptions, c: &Collector) -> Result<WriteCounts, DbError> {
    let sql = |e| DbError::sql(tmp, e);
    let mut conn = Connection::open(tmp).map_err(sql)?;
    conn.execute_batch(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=4096;
         CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
         CREATE TABLE advisory(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, feed TEXT NOT NULL,
                               modified TEXT, json TEXT NOT NULL);
         CREATE TABLE affected(ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory INTEGER NOT NULL,
                               json TEXT NOT NULL);
         CREATE TABLE alias(alias TEXT NOT NULL, advisory INTEGER NOT NULL);
         CREATE TABLE exploit(cve TEXT PRIMARY KEY, json TEXT NOT NULL);",
    )
    .map_err(sql)?;
    let mut ids: Vec<&String> = c.advisories.keys().collect();
    ids.sort();
    let (mut n_adv, mut n_aff, mut n_alias) = (0u64, 0u64, 0u64);
    let mut ecosystems: BTreeMap<String, u64> = BTreeMap::new();
    let mut packages = std::collections::HashSet::new();
    let mut affected_rows: Vec<(&str, String, i64, String)> = Vec::new();
    {
        let tx = conn.transaction().map_err(sql)?;
        {
            let mut ins_adv = tx
                .prepare("INSERT INTO advisory(rowid, id, feed, modified, json) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(sql)?;
            let mut ins_aff = tx
                .prepare("INSERT INTO affected(ecosystem, name, advisory, json) VALUES (?1, ?2, ?3, ?4)")
                .map_err(sql)?;
            let mut ins_alias =
                tx.prepare("INSERT INTO alias(alias, advisory) VALUES (?1, ?2)").map_err(sql)?;
            for id in ids {
                let Some(adv) = c.advisories.get(id) else { continue };
                if adv.affected.is_empty() {
                    continue;
                }
                n_adv += 1;
                let rowid = n_adv as i64;
                let head = Advisory { affected: Vec::new(), ..adv.clone() };
                let json = serde_json::to_string(&head).map_err(|e| DbError::Build(format!("{id}: {e}")))?;
                ins_adv.execute(params![rowid, adv.id, adv.feed, adv.modified, json]).map_err(sql)?;
                for a in &adv.affected {
                    let name = crate::ecosystem::name_key(&a.ecosystem, &a.name);
                    let json = serde_json::to_string(a).map_err(|e| DbError::Build(format!("{id}: {e}")))?;
                    if packages.insert((a.ecosystem.clone(), name.clone())) {
                        *ecosystems.entry(a.ecosystem.clone()).or_default() += 1;
                    }
                    affected_rows.push((a.ecosystem.as_str(), name, rowid, json));
                }
                let mut names: Vec<&String> =
                    std::iter::once(&adv.id).chain(&adv.aliases).chain(&adv.upstream).collect();
                names.sort();
                names.dedup();
                for n in names {
                    ins_alias.execute(params![n, rowid]).map_err(sql)?;
                    n_alias += 1;
                }
            }
            // One package's rows side by side in the table: a lookup reads a few adjacent pages.
            affected_rows.sort_unstable_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
            for (eco, name, rowid, json) in &affected_rows {
                ins_aff.execute(params![eco, name, rowid, json]).map_err(sql)?;
                n_aff += 1;
            }
            let mut ins_exploit =
                tx.prepare("INSERT INTO exploit(cve, json) VALUES (?1, ?2)").map_err(sql)?;
            for (cve, x) in &c.exploits {
                ins_exploit.execute(params![cve, json(x)]).map_err(sql)?;
            }
            let sources: Vec<String> = opts.sources.iter().map(|s| s.display().to_string()).collect();
            let counts = Counts {
                exploits: c.exploits.len() as u64,
                advisories: n_adv,
                affected: n_aff,
                aliases: n_alias,
                ecosystems: ecosystems.clone(),
            };
            let meta = [
                ("schema_version", SCHEMA_VERSION.to_string()),
                ("built_at", now_rfc3339()),
                ("builder", format!("palisade-vulndb {}", env!("CARGO_PKG_VERSION"))),
                ("sources", json(&sources)),
                ("feeds", json(&c.feeds)),
                ("counts", json(&counts)),
            ];
            let mut ins_meta = tx.prepare("INSERT INTO meta(key, value) VALUES (?1, ?2)").map_err(sql)?;
            for (k, v) in meta {
                ins_meta.execute(params![k, v]).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
    }
    conn.execute_batch(
        "CREATE INDEX affected_pkg ON affected(ecosystem, name);
         CREATE INDEX alias_id ON alias(alias);
         PRAGMA journal_mode=DELETE;",
    )
    .map_err(sql)?;
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(sql)?;
    if check != "ok" {
        return Err(DbError::Build(format!("{}: integrity check failed: {check}", tmp.display())));
    }
    conn.close().map_err(|(_, e)| sql(e))?;
    Ok((n_adv, n_aff, n_alias, ecosystems))
}

/// Serialise a meta value; serde_json cannot fail on these plain types.
fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// What is in a database and how old it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DbInfo {
    pub path: PathBuf,
    pub schema_version: u32,
    /// RFC 3339 build time.
    pub built_at: String,
    /// Time since the build (None when the build time cannot be read or lies in the future); whole seconds
    /// in JSON (`age_seconds`).
    #[serde(rename = "age_seconds", with = "seconds", default)]
    pub age: Option<Duration>,
    pub builder: String,
    pub sources: Vec<String>,
    pub feeds: BTreeMap<String, FeedStats>,
    pub advisories: u64,
    pub affected: u64,
    /// Packages (distinct names) per ecosystem key.
    pub ecosystems: BTreeMap<String, u64>,
    /// CVEs with exploit data (CISA KEV, EPSS).
    #[serde(default)]
    pub exploits: u64,
}

impl DbInfo {
    /// True when the database is older than `max_age` (or its age is unknown).
    pub fn is_stale(&self, max_age: Duration) -> bool {
        self.age.is_none_or(|a| a > max_age)
    }

    /// A warning for the user when the database is stale, e.g. `vulnerability database is 9 days old
    /// (built 2026-11-01T00:00:00Z); run palisade db update`.
    pub fn stale_warning(&self, max_age: Duration) -> Option<String> {
        if !self.is_stale(max_age) {
            return None;
        }
        Some(match self.age {
            Some(a) => format!(
                "vulnerability database is {} days old (built {}); run `palisade db update`",
                a.as_secs() / 86_400,
                self.built_at
            ),
            None => format!(
                "vulnerability database build time {:?} is unreadable; run `palisade db update`",
                self.built_at
            ),
        })
    }
}

/// `Option<Duration>` as whole seconds (`null` when unknown), not serde's `{"secs":..,"nanos":..}`.
mod seconds {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_secs))
    }
}

/// Parsed affected rows per (ecosystem key, name key).
pub(crate) type AffectedCache = HashMap<(String, String), Arc<Vec<PreparedAffected>>>;

/// An open database. Cheap to open; caches the advisories it has read.
pub struct Db {
    pub(crate) conn: Connection,
    /// Step budget of the connection, refilled before each query ([`Db::sql`]).
    budget: palisade_core::sqlite::Budget,
    pub(crate) path: PathBuf,
    pub(crate) affected_cache: Mutex<AffectedCache>,
    pub(crate) advisory_cache: Mutex<HashMap<i64, Arc<Advisory>>>,
    /// The database has the `exploit` table (built since KEV and EPSS are stored).
    has_exploits: bool,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

/// Percent-encode the characters that end or change the meaning of a path in an SQLite URI.
fn uri_path(path: &Path) -> String {
    let mut s = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => s.push_str("%25"),
            '?' => s.push_str("%3f"),
            '#' => s.push_str("%23"),
            _ => s.push(c),
        }
    }
    s
}

/// Bytes of the database file SQLite may memory-map (more than any database built from today's feeds).
const MMAP_SIZE: i64 = 1 << 30;

/// Virtual-machine steps one query may take (a lookup of the package with the most advisories takes a few
/// hundred thousand).
pub const QUERY_STEPS: i64 = 200_000_000;

/// Largest single value (advisory JSON) read from the database.
const MAX_VALUE: usize = 64 * 1024 * 1024;

/// The tables read and the columns each query names.
const TABLES: [(&str, &[&str]); 4] = [
    ("meta", &["key", "value"]),
    ("advisory", &["id", "feed", "modified", "json"]),
    ("affected", &["ecosystem", "name", "advisory", "json"]),
    ("alias", &["alias", "advisory"]),
];

/// Caches larger than this are cleared (long-running servers scanning many images).
const CACHE_LIMIT: usize = 200_000;

impl Db {
    /// Open a database read-only and without locking.
    pub fn open(path: &Path) -> Result<Db, DbError> {
        let meta = std::fs::metadata(path).map_err(|e| DbError::io(path, e))?;
        if !meta.is_file() {
            return Err(DbError::Schema { path: path.into(), message: "not a file".into() });
        }
        let abs = std::path::absolute(path).map_err(|e| DbError::io(path, e))?;
        let uri = format!("file:{}?immutable=1", uri_path(&abs));
        let flags =
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&uri, flags).map_err(|e| DbError::sql(path, e))?;
        let budget = palisade_core::sqlite::harden(&conn, QUERY_STEPS, MAX_VALUE)
            .map_err(|e| DbError::sql(path, e))?;
        let schema = |message: String| DbError::Schema {
            path: path.into(),
            message: format!("not a Palisade vulnerability database: {message}"),
        };
        // `meta` first: a database of another schema version is refused for its version.
        palisade_core::sqlite::check_table(&conn, TABLES[0].0, TABLES[0].1).map_err(schema)?;
        // Read pages through a shared memory map instead of read() into a per-connection cache: no copies,
        // and concurrent scans share one copy of the file in the page cache. Best effort: SQLite builds
        // without mmap support ignore it.
        let _ = conn.pragma_update(None, "mmap_size", MMAP_SIZE);
        let version: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
            .optional()
            .map_err(|e| DbError::Schema {
                path: path.into(),
                message: format!("not a Palisade vulnerability database ({e})"),
            })?;
        match version.as_deref().map(str::parse::<u32>) {
            Some(Ok(SCHEMA_VERSION)) => {}
            Some(Ok(v)) => {
                return Err(DbError::Schema {
                    path: path.into(),
                    message: format!(
                        "schema version {v}, this Palisade reads {SCHEMA_VERSION}; rebuild or update it"
                    ),
                });
            }
            _ => return Err(DbError::Schema { path: path.into(), message: "no schema version".into() }),
        }
        for (table, columns) in &TABLES[1..] {
            palisade_core::sqlite::check_table(&conn, table, columns).map_err(schema)?;
        }
        for (index, table) in [("affected_pkg", "affected"), ("alias_id", "alias")] {
            palisade_core::sqlite::check_index(&conn, index, table).map_err(schema)?;
        }
        // Optional: older databases have no exploit data.
        let has_exploits = match palisade_core::sqlite::check_table(&conn, "exploit", &["cve", "json"]) {
            Ok(()) => true,
            Err(m) if m == "no table exploit" => false,
            Err(m) => return Err(schema(m)),
        };
        Ok(Db {
            conn,
            budget,
            path: path.into(),
            affected_cache: Mutex::new(HashMap::new()),
            advisory_cache: Mutex::new(HashMap::new()),
            has_exploits,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Refill the step budget before a query.
    fn start(&self) {
        self.budget.reset();
    }

    /// The error of a failed query; a spent step budget says so.
    fn sql_err(&self, e: rusqlite::Error) -> DbError {
        if self.budget.spent() {
            DbError::Corrupt {
                path: self.path.clone(),
                message: format!("a query took more than {} SQLite steps; the file is damaged", QUERY_STEPS),
            }
        } else {
            DbError::sql(&self.path, e)
        }
    }

    fn meta(&self, key: &str) -> Result<Option<String>, DbError> {
        self.start();
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql_err(e))
    }

    fn meta_json<T: serde::de::DeserializeOwned + Default>(&self, key: &str) -> Result<T, DbError> {
        match self.meta(key)? {
            None => Ok(T::default()),
            Some(s) => serde_json::from_str(&s).map_err(|e| DbError::Corrupt {
                path: self.path.clone(),
                message: format!("meta {key}: {e}"),
            }),
        }
    }

    /// What is in the database and how old it is.
    pub fn info(&self) -> Result<DbInfo, DbError> {
        let built_at = self.meta("built_at")?.unwrap_or_default();
        let age = time::OffsetDateTime::parse(&built_at, &time::format_description::well_known::Rfc3339)
            .ok()
            .and_then(|t| {
                let secs = (time::OffsetDateTime::now_utc() - t).whole_seconds();
                u64::try_from(secs).ok().map(Duration::from_secs)
            });
        #[derive(Deserialize, Default)]
        struct C {
            advisories: u64,
            affected: u64,
            ecosystems: BTreeMap<String, u64>,
            #[serde(default)]
            exploits: u64,
        }
        let counts: C = self.meta_json("counts")?;
        Ok(DbInfo {
            path: self.path.clone(),
            schema_version: SCHEMA_VERSION,
            built_at,
            age,
            builder: self.meta("builder")?.unwrap_or_default(),
            sources: self.meta_json("sources")?,
            feeds: self.meta_json("feeds")?,
            advisories: counts.advisories,
            affected: counts.affected,
            ecosystems: counts.ecosystems,
            exploits: counts.exploits,
        })
    }

    /// What is known of the exploitation of `cve` (KEV listing, EPSS score), if anything.
    pub fn exploit(&self, cve: &str) -> Result<Option<Exploit>, DbError> {
        if !self.has_exploits || !cve.starts_with("CVE-") {
            return Ok(None);
        }
        self.start();
        let row: Option<String> = self
            .conn
            .prepare_cached("SELECT json FROM exploit WHERE cve = ?1")
            .and_then(|mut st| st.query_row([cve], |r| r.get(0)).optional())
            .map_err(|e| self.sql_err(e))?;
        row.map(|j| {
            serde_json::from_str(&j).map_err(|e| DbError::Corrupt {
                path: self.path.clone(),
                message: format!("exploit row {cve}: {e}"),
            })
        })
        .transpose()
    }

    /// The affected rows for one package (cached).
    pub(crate) fn affected_for(
        &self,
        ecosystem: &str,
        name: &str,
    ) -> Result<Arc<Vec<PreparedAffected>>, DbError> {
        let key = (ecosystem.to_string(), name.to_string());
        if let Some(v) = self.affected_cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(v.clone());
        }
        self.start();
        let sql = |e| self.sql_err(e);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT advisory, json FROM affected WHERE ecosystem = ?1 AND name = ?2")
            .map_err(sql)?;
        let rows = stmt
            .query_map(params![ecosystem, name], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(sql)?;
        let mut out = Vec::new();
        for row in rows {
            let (adv, json) = row.map_err(sql)?;
            let a: Affected = serde_json::from_str(&json).map_err(|e| DbError::Corrupt {
                path: self.path.clone(),
                message: format!("affected row: {e}"),
            })?;
            out.push(PreparedAffected::new(adv, a));
        }
        let v = Arc::new(out);
        let mut cache = self.affected_cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, v.clone());
        Ok(v)
    }

    /// One advisory by row id (cached).
    pub(crate) fn advisory(&self, rowid: i64) -> Result<Arc<Advisory>, DbError> {
        if let Some(v) = self.advisory_cache.lock().unwrap_or_else(|e| e.into_inner()).get(&rowid) {
            return Ok(v.clone());
        }
        self.start();
        let sql = |e| self.sql_err(e);
        let mut stmt = self.conn.prepare_cached("SELECT json FROM advisory WHERE rowid = ?1").map_err(sql)?;
        let json: String = stmt.query_row([rowid], |r| r.get(0)).map_err(sql)?;
        let adv: Advisory = serde_json::from_str(&json).map_err(|e| DbError::Corrupt {
            path: self.path.clone(),
            message: format!("advisory {rowid}: {e}"),
        })?;
        let adv = Arc::new(adv);
        let mut cache = self.advisory_cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(rowid, adv.clone());
        Ok(adv)
    }

    /// A fingerprint of everything the database says about one package (ecosystem key and name key, as
    /// [`crate::ecosystem::match_key`] makes them): its affected rows and the advisories they belong to.
    /// Equal fingerprints in two databases mean the package matches the same way in both, so a stored
    /// match result can be kept (`palisade rescan` re-matches only packages whose fingerprint changed).
    /// Hex SHA-256 over the advisories (without the feed and file they were read from) and affected rows; a package
    /// without advisories has the fingerprint of no rows.
    pub fn package_fingerprint(&self, ecosystem: &str, name: &str) -> Result<String, DbError> {
        use sha2::Digest;
        self.start();
        let sql = |e| self.sql_err(e);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.json, f.json FROM affected f JOIN advisory a ON a.rowid = f.advisory \
                 WHERE f.ecosystem = ?1 AND f.name = ?2",
            )
            .map_err(sql)?;
        let mut rows: Vec<(String, String)> = stmt
            .query_map(params![ecosystem, name], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(sql)?
            .collect::<Result<_, _>>()
            .map_err(sql)?;
        // Where an advisory was read from (its feed name and file) does not change how it matches: a feed
        // unpacked elsewhere gives the same fingerprint.
        for (adv, _) in &mut rows {
            if let Ok(serde_json::Value::Object(mut m)) = serde_json::from_str::<serde_json::Value>(adv) {
                m.remove("file");
                m.remove("feed");
                *adv = serde_json::Value::Object(m).to_string();
            }
        }
        // Row ids change from one build to the next; the content is what counts.
        rows.sort_unstable();
        let mut h = sha2::Sha256::new();
        for (adv, aff) in &rows {
            for part in [adv, aff] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part.as_bytes());
            }
        }
        Ok(hex::encode(h.finalize()))
    }

    /// Look an advisory up by its id or any alias (`CVE-2021-44228` finds the GHSA and the DSA that name it).
    pub fn advisories_by_id(&self, id: &str) -> Result<Vec<Advisory>, DbError> {
        self.start();
        let sql = |e| self.sql_err(e);
        let mut stmt =
            self.conn.prepare_cached("SELECT DISTINCT advisory FROM alias WHERE alias = ?1").map_err(sql)?;
        let rowids: Vec<i64> =
            stmt.query_map([id], |r| r.get(0)).map_err(sql)?.collect::<Result<_, _>>().map_err(sql)?;
        let mut out = Vec::new();
        for r in rowids {
            let mut adv = (*self.advisory(r)?).clone();
            self.start();
            let mut stmt =
                self.conn.prepare_cached("SELECT json FROM affected WHERE advisory = ?1").map_err(sql)?;
            let rows: Vec<String> =
                stmt.query_map([r], |r| r.get(0)).map_err(sql)?.collect::<Result<_, _>>().map_err(sql)?;
            for j in rows {
                adv.affected.push(serde_json::from_str(&j).map_err(|e| DbError::Corrupt {
                    path: self.path.clone(),
                    message: format!("affected row: {e}"),
                })?);
            }
            out.push(adv);
        }
        Ok(out)
    }
}

/// Where the database lives by default: `$PALISADE_CACHE_DIR/db/palisade.db`, else
/// `$XDG_CACHE_HOME/palisade/db/palisade.db`, else `~/.cache/palisade/db/palisade.db`.
pub fn default_db_path() -> PathBuf {
    palisade_core::default_cache_dir().join("db").join("palisade.db")
}
