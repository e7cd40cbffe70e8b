//! Palisade's vulnerability database.
//!
//! * [`build`] imports advisories (OSV JSON/YAML in directories, `all.zip` and `.tar.gz` archives, Debian
//!   security-tracker JSON, Alpine secdb JSON/YAML) into one SQLite file, written atomically.
//! * [`Db::open`] opens that file read-only and without locking, so any number of scans can share it.
//! * [`match_packages`] matches inventoried packages against it and returns one
//!   [`palisade_core::findings::vuln::VulnFinding`] per package and vulnerability, with every location of
//!   the package; [`match_report`] matches a report's packages and the binaries' own modules.
//! * [`coverage_gaps`] says which scanned ecosystems the database cannot answer for; [`eol`] knows when
//!   OS releases stop getting security fixes.
//! * [`update`] fetches feeds over HTTP (conditional requests, checksums) and rebuilds the file.
//!
//! Version order per ecosystem lives in [`version`], one file per scheme.

pub mod coverage;
pub mod ecosystem;
pub mod eol;
mod error;
pub mod import;
pub mod model;
pub mod version;

pub use error::DbError;
pub mod db;
pub mod matcher;
pub mod severity;
pub mod update;

pub use coverage::coverage_gaps;
pub use db::{BuildOptions, BuildStats, DEFAULT_MAX_AGE, Db, DbInfo, SCHEMA_VERSION, build, default_db_path};
pub use import::FeedStats;
pub use matcher::{match_packages, match_report};
pub use update::{FeedConfig, UpdateConfig, UpdateStats, update};
