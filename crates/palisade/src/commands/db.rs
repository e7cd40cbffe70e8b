//! `palisade db ...`: build, update and inspect the vulnerability DB.

use super::{EXIT_OK, GlobalOpts};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use palisade_vulndb::{BuildOptions, Db, FeedConfig, UpdateConfig};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Import advisories from local files: OSV JSON/YAML directories, OSV `all.zip`, `.tar.gz` archives,
    /// Debian security-tracker JSON, Alpine secdb JSON/YAML. Sources that yield no advisories are an error
    /// and leave the existing DB as it was.
    Build {
        /// Advisory sources (repeatable).
        #[arg(long = "from", required = true, num_args = 1..)]
        from: Vec<PathBuf>,
        /// DB file to write (replaced atomically) [default: <cache dir>/db/palisade.db].
        #[arg(long)]
        db: Option<PathBuf>,
        /// Build from what could be read when some documents could not (each is a warning); without it
        /// such a build fails (exit 2) and leaves the DB as it was.
        #[arg(long)]
        allow_errors: bool,
        /// Replace the DB even when the new one holds fewer than 90% of its advisories.
        #[arg(long)]
        force: bool,
    },
    /// Fetch the advisory feeds over HTTP and rebuild the DB when any changed (conditional requests,
    /// checksums, atomic replace). Point it at an internal mirror for air-gapped use.
    Update {
        #[arg(long)]
        db: Option<PathBuf>,
        /// Base URL of a mirror laid out like OSV's bucket: `<base>/<Ecosystem>/all.zip`.
        #[arg(long)]
        mirror: Option<String>,
        /// Fetch exactly these feeds instead of the defaults, as `NAME=URL` (repeatable).
        #[arg(long = "feed", value_name = "NAME=URL")]
        feeds: Vec<String>,
        /// Rebuild even when no feed changed, and replace the DB even when the new one holds fewer than 90%
        /// of its advisories.
        #[arg(long)]
        force: bool,
    },
    /// Print what is in the DB and how old it is.
    Info {
        #[arg(long)]
        db: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: DbCommand, global: &GlobalOpts) -> Result<ExitCode> {
    let quiet = global.quiet;
    match cmd {
        DbCommand::Build { from, db, allow_errors, force } => {
            let output = global.db_path(db.as_ref());
            ensure_parent(&output)?;
            let stats = palisade_vulndb::build(&BuildOptions {
                sources: from,
                output: output.clone(),
                progress: None,
                allow_errors,
                force,
            })
            .with_context(|| format!("building {}", output.display()))?;
            if !quiet {
                eprintln!(
                    "built {} in {:.2?}: {} advisories, {} affected packages, {} aliases",
                    output.display(),
                    stats.duration,
                    stats.advisories,
                    stats.affected,
                    stats.aliases
                );
                for (feed, s) in &stats.feeds {
                    eprintln!("  {feed}: {s}");
                }
                for w in &stats.warnings {
                    eprintln!("warning: {w}");
                }
                if stats.warning_count > stats.warnings.len() as u64 {
                    eprintln!("warning: ... {} warnings in all", stats.warning_count);
                }
            }
        }
        DbCommand::Update { db, mirror, feeds, force } => {
            let path = global.db_path(db.as_ref());
            ensure_parent(&path)?;
            let mut config = UpdateConfig { force, ..UpdateConfig::default() };
            if !feeds.is_empty() {
                config.feeds = feeds
                    .iter()
                    .map(|f| match f.split_once('=') {
                        Some((name, url)) if !name.is_empty() && !url.is_empty() => {
                            Ok(FeedConfig::new(name, url))
                        }
                        _ => bail!("--feed {f:?}: expected NAME=URL"),
                    })
                    .collect::<Result<_>>()?;
            }
            if let Some(base) = mirror {
                let base = base.trim_end_matches('/');
                for feed in &mut config.feeds {
                    feed.url = format!("{base}/{}/all.zip", feed.name);
                }
            }
            let stats = palisade_vulndb::update(&config, &path)
                .with_context(|| format!("updating {}", path.display()))?;
            if !quiet {
                eprintln!(
                    "{}: {} feeds downloaded ({} bytes), {} unchanged{}",
                    path.display(),
                    stats.downloaded.len(),
                    stats.bytes,
                    stats.not_modified.len(),
                    match &stats.build {
                        Some(b) => format!("; rebuilt with {} advisories", b.advisories),
                        None => "; DB unchanged".into(),
                    }
                );
            }
        }
        DbCommand::Info { db, json } => {
            let path = global.db_path(db.as_ref());
            if !path.exists() {
                bail!(
                    "no vulnerability DB at {}: create one with `palisade db update` or `palisade db build --from PATH`",
                    path.display()
                );
            }
            let info = Db::open(&path)
                .and_then(|db| db.info())
                .with_context(|| format!("reading {}", path.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&info)?);
            } else {
                println!("DB:         {}", info.path.display());
                println!("Schema:     {}", info.schema_version);
                println!("Built:      {} by {}", info.built_at, info.builder);
                if let Some(age) = info.age {
                    println!("Age:        {}", human_age(age));
                }
                println!("Advisories: {} ({} affected packages)", info.advisories, info.affected);
                println!("Exploit data: {} CVEs (CISA KEV, EPSS)", info.exploits);
                println!("Sources:");
                for s in &info.sources {
                    println!("  {s}");
                }
                println!("Ecosystems:");
                for (eco, n) in &info.ecosystems {
                    println!("  {eco:<24} {n}");
                }
            }
            if let Some(w) = info.stale_warning(palisade_vulndb::DEFAULT_MAX_AGE) {
                eprintln!("warning: {w}");
            }
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn ensure_parent(path: &std::path::Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

fn human_age(d: std::time::Duration) -> String {
    let h = d.as_secs() / 3600;
    if h >= 48 { format!("{} days", h / 24) } else { format!("{h} hours") }
}
