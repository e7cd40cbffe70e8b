//! `db update`: fetch advisory feeds over HTTP(S) and rebuild the database.
//!
//! Each feed is one URL (an OSV `all.zip`, a Debian tracker JSON, an Alpine secdb JSON, a `.tar.gz`). The
//! downloaded files are kept under `<db dir>/feeds/<feed name>/` with a small `.meta.json` (ETag,
//! Last-Modified, SHA-256), so the next update sends `If-None-Match`/`If-Modified-Since` and a `304 Not
//! Modified` costs no download. A body is written to a temporary file, checked against the configured SHA-256
//! (given inline or fetched from a checksum URL) and only then renamed into place. When nothing changed and
//! the database exists, nothing is rebuilt; otherwise the database is rebuilt from all feed files (atomically,
//! see [`crate::build`]).
//!
//! HTTPS uses ureq with rustls on the aws-lc-rs provider (the one oci-client's reqwest uses, so one crypto
//! provider in the binary) and the platform certificate verifier.

use crate::DbError;
use crate::db::{BuildOptions, BuildStats, build};
use palisade_core::Progress;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// One feed to fetch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedConfig {
    /// Name of the feed (folder name and `advisory_source` feed name), e.g. `PyPI`.
    pub name: String,
    pub url: String,
    /// Expected SHA-256 of the body (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// URL of a checksum file (`<hex>` or `<hex>  <file name>`) to check the body against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256_url: Option<String>,
}

impl FeedConfig {
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        FeedConfig { name: name.into(), url: url.into(), sha256: None, sha256_url: None }
    }
}

/// What `db update` fetches and how.
#[derive(Debug, Clone)]
pub struct UpdateConfig {
    pub feeds: Vec<FeedConfig>,
    /// Where downloaded feeds are kept; default `<db dir>/feeds`.
    pub feeds_dir: Option<PathBuf>,
    /// Timeout of each whole request.
    pub timeout: Duration,
    /// Largest body accepted per feed.
    pub max_bytes: u64,
    /// Rebuild even when no feed changed.
    pub force: bool,
    pub progress: Option<Arc<Progress>>,
}

/// OSV ecosystems fetched by [`UpdateConfig::default`] from the public OSV bucket.
pub const DEFAULT_OSV_ECOSYSTEMS: [&str; 18] = [
    "PyPI",
    "npm",
    "crates.io",
    "Go",
    "Maven",
    "RubyGems",
    "Packagist",
    "NuGet",
    "Pub",
    "Hex",
    "SwiftURL",
    "CRAN",
    "Hackage",
    "Julia",
    "ConanCenter",
    "Debian",
    "Alpine",
    "Ubuntu",
];

impl Default for UpdateConfig {
    /// The OSV `all.zip` of each ecosystem in [`DEFAULT_OSV_ECOSYSTEMS`].
    fn default() -> Self {
        let feeds = DEFAULT_OSV_ECOSYSTEMS
            .iter()
            .map(|e| {
                FeedConfig::new(*e, format!("https://osv-vulnerabilities.storage.googleapis.com/{e}/all.zip"))
            })
            .collect();
        UpdateConfig {
            feeds,
            feeds_dir: None,
            timeout: Duration::from_secs(600),
            max_bytes: 4 << 30,
            force: false,
            progress: None,
        }
    }
}

/// What an update did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UpdateStats {
    /// Feeds downloaded anew.
    pub downloaded: Vec<String>,
    /// Feeds the server reported unchanged (304).
    pub not_modified: Vec<String>,
    /// Bytes downloaded.
    pub bytes: u64,
    /// The rebuild, when one happened.
    pub build: Option<BuildStats>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FeedMeta {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    sha256: String,
}

fn file_name_of(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let last = path.rsplit('/').next().unwrap_or("");
    let clean: String =
        last.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    if clean.is_empty() || clean.starts_with('.') { "feed.json".to_string() } else { clean }
}

fn safe_dir_name(name: &str) -> Result<String, DbError> {
    let clean: String =
        name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
    if clean.is_empty() || clean.starts_with('.') {
        return Err(DbError::Build(format!("feed name {name:?} is not usable as a folder name")));
    }
    Ok(clean)
}

fn http_err(url: &str, e: impl std::fmt::Display) -> DbError {
    DbError::Http { url: url.to_string(), message: e.to_string() }
}

/// Fetch a small checksum file and return the first hex token.
fn fetch_checksum(agent: &ureq::Agent, url: &str) -> Result<String, DbError> {
    let resp = agent.get(url).call().map_err(|e| http_err(url, e))?;
    if resp.status() != 200 {
        return Err(http_err(url, format!("HTTP {}", resp.status())));
    }
    let mut text = String::new();
    resp.into_body().into_reader().take(64 * 1024).read_to_string(&mut text).map_err(|e| http_err(url, e))?;
    let token = text.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(http_err(url, "checksum file does not start with a SHA-256 hex digest"));
    }
    Ok(token)
}

/// Fetch one feed; `Ok(Some(bytes))` when a new body was stored, `Ok(None)` when unchanged.
fn fetch_feed(
    agent: &ureq::Agent,
    cfg: &UpdateConfig,
    feed: &FeedConfig,
    dir: &Path,
) -> Result<Option<u64>, DbError> {
    std::fs::create_dir_all(dir).map_err(|e| DbError::io(dir, e))?;
    let target = dir.join(file_name_of(&feed.url));
    let meta_path = dir.join(".meta.json");
    let old: FeedMeta = std::fs::read(&meta_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .filter(|m: &FeedMeta| m.url == feed.url && target.is_file())
        .unwrap_or_default();
    let mut req = agent.get(&feed.url);
    if !cfg.force {
        if let Some(etag) = &old.etag {
            req = req.header("If-None-Match", etag);
        }
        if let Some(lm) = &old.last_modified {
            req = req.header("If-Modified-Since", lm);
        }
    }
    let resp = req.call().map_err(|e| http_err(&feed.url, e))?;
    let status = resp.status().as_u16();
    if status == 304 {
        return Ok(None);
    }
    if status != 200 {
        return Err(http_err(&feed.url, format!("HTTP {status}")));
    }
    let header = |k: &str| resp.headers().get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (etag, last_modified) = (header("etag"), header("last-modified"));
    let tmp = dir.join(format!(".download.tmp-{}", std::process::id()));
    let result = (|| {
        let mut out = std::fs::File::create(&tmp).map_err(|e| DbError::io(&tmp, e))?;
        let mut reader = resp.into_body().into_reader().take(cfg.max_bytes + 1);
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = reader.read(&mut buf).map_err(|e| http_err(&feed.url, e))?;
            if n == 0 {
                break;
            }
            let chunk = buf.get(..n).unwrap_or_default();
            hasher.update(chunk);
            out.write_all(chunk).map_err(|e| DbError::io(&tmp, e))?;
            total += n as u64;
            if total > cfg.max_bytes {
                return Err(http_err(&feed.url, format!("body larger than {} bytes", cfg.max_bytes)));
            }
        }
        out.sync_all().map_err(|e| DbError::io(&tmp, e))?;
        let actual = hex::encode(hasher.finalize());
        let expected = match (&feed.sha256, &feed.sha256_url) {
            (Some(s), _) => Some(s.trim().to_ascii_lowercase()),
            (None, Some(u)) => Some(fetch_checksum(agent, u)?),
            (None, None) => None,
        };
        if let Some(expected) = expected
            && expected != actual
        {
            return Err(DbError::Checksum { url: feed.url.clone(), expected, actual });
        }
        Ok((total, actual))
    })();
    let (total, sha) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, &target).map_err(|e| DbError::io(&target, e))?;
    let meta = FeedMeta { url: feed.url.clone(), etag, last_modified, sha256: sha };
    let json = serde_json::to_vec_pretty(&meta).map_err(|e| DbError::Build(e.to_string()))?;
    std::fs::write(&meta_path, json).map_err(|e| DbError::io(&meta_path, e))?;
    Ok(Some(total))
}

/// Fetch the configured feeds and rebuild the database at `db_path` when any changed (or it is missing).
pub fn update(config: &UpdateConfig, db_path: &Path) -> Result<UpdateStats, DbError> {
    if config.feeds.is_empty() {
        return Err(DbError::Build("no feeds configured".into()));
    }
    let feeds_dir = match &config.feeds_dir {
        Some(d) => d.clone(),
        None => db_path.parent().map(|p| p.join("feeds")).unwrap_or_else(|| PathBuf::from("feeds")),
    };
    let agent = palisade_core::http::agent(config.timeout);
    let mut stats = UpdateStats { downloaded: Vec::new(), not_modified: Vec::new(), bytes: 0, build: None };
    let mut sources = Vec::new();
    for feed in &config.feeds {
        if let Some(p) = &config.progress {
            p.set_stage(format!("fetching {}", feed.url));
        }
        let dir = feeds_dir.join(safe_dir_name(&feed.name)?);
        match fetch_feed(&agent, config, feed, &dir)? {
            Some(n) => {
                stats.bytes += n;
                stats.downloaded.push(feed.name.clone());
            }
            None => stats.not_modified.push(feed.name.clone()),
        }
        sources.push(dir.join(file_name_of(&feed.url)));
    }
    if stats.downloaded.is_empty() && db_path.is_file() && !config.force {
        return Ok(stats);
    }
    // Each feed file is its own source; name the feed after the configured name via its folder.
    // Feeds are what their publishers made them: a document we cannot read is a warning, not a failed
    // update. A much emptier result (a truncated download) still needs --force.
    let opts = BuildOptions {
        sources,
        output: db_path.to_path_buf(),
        progress: config.progress.clone(),
        allow_errors: true,
        force: config.force,
    };
    stats.build = Some(build(&opts)?);
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(file_name_of("https://x/PyPI/all.zip?x=1"), "all.zip");
        assert_eq!(file_name_of("https://x/"), "feed.json");
        assert_eq!(file_name_of("https://x/..%2f..%2fetc"), "feed.json");
        assert!(safe_dir_name("../..").is_err());
        assert_eq!(safe_dir_name("crates.io").unwrap(), "crates.io");
    }
}
