//! Palisade's vulnerability database.
//!
//! * [`build`] imports advisories (OSV JSON/YAML in directories, `all.zip` and `.tar.gz` archives, Debian
//!   security-tracker JSON, Alpine secdb JSON/YAML) into one SQLite file, written atomically.
//! * [`Db::open`] opens that file read-only and without locking, so any number of scans can share it.
//! * [`match_packages`] matches inventoried packages against it and returns one
//!   [`palisade_core::findings::vuln::VulnFinding`] per package and vulnerability, with every location of
//!   the package; [`match_report`] matches a report's packages and the binaries' own modules.
//! * [`update`] fetches feeds over HTTP (conditional requests, checksums) and rebuilds the file.
//!
//! Version order per ecosystem lives in [`version`], one file per scheme.

pub mod ecosystem;
mod error;
pub mod import;
pub mod model;
pub mod version;

pub use error::DbError;
pub mod db;
pub mod matcher;
pub mod severity;
pub mod update;

pub use db::{BuildOptions, BuildStats, DEFAULT_MAX_AGE, Db, DbInfo, SCHEMA_VERSION, build, default_db_path};
pub use import::FeedStats;
pub use matcher::{match_packages, match_report};
pub use update::{FeedConfig, UpdateConfig, UpdateStats, update};
