//! One module per command family, each owning its options; `cli.rs` assembles them into the command tree.

pub mod admission;
pub mod catalog;
pub mod cluster;
pub mod cluster_images;
pub mod cluster_live;
pub mod common;
pub mod compliance;
pub mod convert;
pub mod db;
pub mod inspect;
pub mod network;
pub mod node;
pub mod notify;
pub mod policy;
pub mod profile;
pub mod rbac;
pub mod registry;
pub mod registry_deployments;
pub mod report;
pub mod runtime;
pub mod runtime_agent;
pub mod runtime_enforce;
pub mod runtime_response;
pub mod sbom;
pub mod scan;
pub mod signing;
pub mod watch;

use clap::Args;
use std::path::PathBuf;

/// Exit code for a scan that ran and found nothing that fails the gate.
pub const EXIT_OK: u8 = 0;
/// Exit code for a usage error or a target that could not be scanned at all.
pub const EXIT_ERROR: u8 = 2;

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  the scan ran and nothing fails the gate (warnings about individual files do not change this)
  N  --exit-on-eol N: the OS release gets no more security fixes; else --exit-code N: active findings remain
     after --severity, --ignore-unfixed, ignore files and VEX, or the vulnerability results are incomplete
     (no DB, an empty DB, no advisories for an ecosystem in the target) and --allow-missing-db was not given
  2  usage error, or the target could not be opened or scanned at all (use another --exit-code than 2
     to tell the two apart)";

/// Options of every command.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalOpts {
    /// Print nothing on stderr but errors (no progress, no warnings summary).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Verbose logging on stderr; every warning printed.
    #[arg(long, short = 'd', global = true)]
    pub debug: bool,
    /// No progress line on stderr (warnings are still printed).
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// Config file (YAML, keys named as the flags) [default: palisade.yaml in the current directory, if
    /// present].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Cache directory: the vulnerability DB is `<DIR>/db/palisade.db` [default: $XDG_CACHE_HOME/palisade,
    /// else ~/.cache/palisade].
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Soft limit on the heap (`2GiB`): a file, blob or input that would go over it is skipped with a
    /// warning naming it and the report gets a `memory-limit` gap [default: 3/4 of the cgroup's memory limit,
    /// if one is set]. See docs/limits.md.
    #[arg(long, global = true, value_name = "SIZE", value_parser = common::parse_size)]
    pub memory_limit: Option<u64>,
}

impl GlobalOpts {
    /// The vulnerability DB path: `--db`, else under `--cache-dir`, else the default location.
    pub fn db_path(&self, db: Option<&PathBuf>) -> PathBuf {
        match (db, &self.cache_dir) {
            (Some(p), _) => p.clone(),
            (None, Some(dir)) => dir.join("db").join("palisade.db"),
            (None, None) => palisade_vulndb::default_db_path(),
        }
    }

    /// Draw the progress line (when stderr is a terminal).
    pub fn progress(&self) -> bool {
        !self.quiet && !self.no_progress
    }
}
