//! Micro-benchmark of the database read path: how long [`Db::open`] takes and how long matching 1,000 real
//! packages takes, each repeated N times, reporting the median.
//!
//! ```text
//! cargo run --release -p palisade-vulndb --example bench -- DB_FILE [REPEATS] [PACKAGES]
//! cargo run --release -p palisade-vulndb --example bench -- build DB_FILE SOURCE...
//! ```
//!
//! The `build` form imports SOURCE... into DB_FILE once with [`build`] and prints how long it took (the same
//! work as `palisade db build`, without the CLI).
//!
//! The packages are drawn from the database itself: every distinct (ecosystem, package) it holds, sorted, then
//! an evenly spaced sample of them so that the sample spans all ecosystems in proportion to their size. Each package gets a
//! version taken from one of its advisories (a non-zero `introduced` version, else a listed affected version,
//! else the `fixed` version), so the sample mixes affected and unaffected versions. OS packages are matched
//! with the OS release their ecosystem names (`debian:12` → Debian 12, `alpine:v3.11` → Alpine 3.11).
//!
//! Each repeat opens a fresh [`Db`] (so its per-package caches are empty: the "cold" match reads every row
//! from SQLite and parses it) and then matches the same sample once more on the same handle ("warm").
//! Output is `key=value` lines for scripts (times in milliseconds; medians, and the fastest run as `*_min_ms`),
//! and a human-readable summary on stderr.

use palisade_core::{Ecosystem, Location, OsInfo, Package};
use palisade_vulndb::model::{Affected, Event};
use palisade_vulndb::{BuildOptions, Db, build, match_packages};
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Packages of one OS release (or of no OS, for language packages), matched in one call.
struct Group {
    os: Option<OsInfo>,
    packages: Vec<Package>,
}

/// The package ecosystem and scanned OS an ecosystem key stands for; `None` for keys Palisade cannot scan.
fn target(eco_key: &str) -> Option<(Ecosystem, Option<OsInfo>)> {
    let lang = match eco_key {
        "crates.io" => Some(Ecosystem::Cargo),
        "npm" => Some(Ecosystem::Npm),
        "pypi" => Some(Ecosystem::PyPI),
        "go" => Some(Ecosystem::Golang),
        "maven" => Some(Ecosystem::Maven),
        "rubygems" => Some(Ecosystem::Gem),
        "packagist" => Some(Ecosystem::Composer),
        "nuget" => Some(Ecosystem::Nuget),
        _ => None,
    };
    if let Some(e) = lang {
        return Some((e, None));
    }
    let os = |id: &str, ver: &str| OsInfo { id: id.into(), version_id: ver.into(), ..Default::default() };
    if let Some(v) = eco_key.strip_prefix("debian:") {
        return Some((Ecosystem::Deb, Some(os("debian", v))));
    }
    if let Some(v) = eco_key.strip_prefix("alpine:v") {
        return Some((Ecosystem::Apk, Some(os("alpine", v))));
    }
    None
}

/// A version from an advisory: a non-zero `introduced`, else a listed version, else a `fixed` one.
fn pick_version(a: &Affected) -> Option<String> {
    let events = || a.ranges.iter().flat_map(|r| r.events.iter());
    events()
        .find_map(|e| match e {
            Event::Introduced(v) if v != "0" => Some(v.clone()),
            _ => None,
        })
        .or_else(|| a.versions.first().cloned())
        .or_else(|| {
            events().find_map(|e| match e {
                Event::Fixed(v) | Event::LastAffected(v) => Some(v.clone()),
                _ => None,
            })
        })
}

/// Draw `want` packages from the database, grouped by OS release.
fn sample(path: &std::path::Path, want: usize) -> Result<Vec<Group>, String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut stmt = conn
        .prepare("SELECT ecosystem, name, min(json) FROM affected GROUP BY ecosystem, name ORDER BY ecosystem, name")
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(2)?)))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut candidates: Vec<(String, Ecosystem, Option<OsInfo>, String, String)> = Vec::new();
    for row in rows {
        let (eco_key, json) = row.map_err(|e| format!("{}: {e}", path.display()))?;
        let Some((eco, os)) = target(&eco_key) else { continue };
        let a: Affected = serde_json::from_str(&json).map_err(|e| format!("affected row: {e}"))?;
        let Some(version) = pick_version(&a) else { continue };
        candidates.push((eco_key, eco, os, a.name, version));
    }
    if candidates.is_empty() {
        return Err("the database holds no package of a scannable ecosystem".into());
    }
    // Indices i * len / want for i in 0..want: evenly spread over the whole sorted list.
    let len = candidates.len();
    let want = want.min(len);
    let picked: std::collections::BTreeSet<usize> = (0..want).map(|i| i * len / want).collect();
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (i, (eco_key, eco, os, name, version)) in candidates.into_iter().enumerate() {
        if !picked.contains(&i) {
            continue;
        }
        let group_key = if os.is_some() { eco_key } else { String::new() };
        let g = groups.entry(group_key).or_insert_with(|| Group { os, packages: Vec::new() });
        g.packages.push(Package::new(eco, name, version, Location::new("bench", None), "bench"));
    }
    Ok(groups.into_values().collect())
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn match_all(db: &Db, groups: &[Group]) -> Result<usize, String> {
    let mut n = 0;
    for g in groups {
        n += match_packages(db, g.os.as_ref(), &g.packages).map_err(|e| e.to_string())?.len();
    }
    Ok(n)
}

/// `build DB_FILE SOURCE...`: one timed build.
fn run_build(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let output = PathBuf::from(args.next().ok_or("usage: bench build DB_FILE SOURCE...")?);
    let sources: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let stats = build(&BuildOptions { sources, output, progress: None, ..Default::default() })
        .map_err(|e| e.to_string())?;
    eprintln!("{} warnings; feeds: {:?}", stats.warning_count, stats.feeds.keys().collect::<Vec<_>>());
    println!("advisories={}", stats.advisories);
    println!("affected={}", stats.affected);
    println!("build_ms={}", ms(stats.duration));
    Ok(())
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("build") {
        args.next();
        return run_build(args);
    }
    let path = PathBuf::from(
        args.next().ok_or("usage: bench DB_FILE [REPEATS] [PACKAGES] | bench build DB_FILE SOURCE...")?,
    );
    let parse = |a: Option<String>, default: usize, what: &str| -> Result<usize, String> {
        a.map_or(Ok(default), |s| s.parse().map_err(|_| format!("{what} must be a number, got {s:?}")))
    };
    let repeats = parse(args.next(), 21, "REPEATS")?.max(1);
    let want = parse(args.next(), 1000, "PACKAGES")?.max(1);
    let groups = sample(&path, want)?;
    let total: usize = groups.iter().map(|g| g.packages.len()).sum();
    let mut per_eco: BTreeMap<String, usize> = BTreeMap::new();
    for g in &groups {
        for p in &g.packages {
            let k = match &g.os {
                Some(os) => format!("{}:{}", os.id, os.version_id),
                None => p.ecosystem.to_string(),
            };
            *per_eco.entry(k).or_default() += 1;
        }
    }
    let (mut open, mut cold, mut warm) = (Vec::new(), Vec::new(), Vec::new());
    let mut findings = 0;
    for _ in 0..repeats {
        let t = Instant::now();
        let db = Db::open(&path).map_err(|e| e.to_string())?;
        open.push(t.elapsed());
        let t = Instant::now();
        findings = match_all(&db, &groups)?;
        cold.push(t.elapsed());
        let t = Instant::now();
        let again = match_all(&db, &groups)?;
        warm.push(t.elapsed());
        if again != findings {
            return Err(format!("warm match found {again} findings, cold found {findings}"));
        }
    }
    let fastest = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
    let (open_min, cold_min, warm_min) = (fastest(&open), fastest(&cold), fastest(&warm));
    let (open, cold, warm) = (median(&mut open), median(&mut cold), median(&mut warm));
    eprintln!("{total} packages ({per_eco:?}), {repeats} repeats, {findings} findings");
    println!("packages={total}");
    println!("findings={findings}");
    println!("repeats={repeats}");
    println!("open_ms={}", ms(open));
    println!("match_cold_ms={}", ms(cold));
    println!("match_warm_ms={}", ms(warm));
    // The fastest run: what the code costs when no other process competes for the CPU.
    println!("open_min_ms={}", ms(open_min));
    println!("match_cold_min_ms={}", ms(cold_min));
    println!("match_warm_min_ms={}", ms(warm_min));
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
