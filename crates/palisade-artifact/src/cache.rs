//! The layer cache: what the sinks made of an image layer, kept under its content digest, so a second scan of
//! an image whose layers were seen reads none of them.
//!
//! One entry per (layer content, sink configuration): the key is the SHA-256 of the layer's digest, the sinks'
//! [`FileSink::cache_key`](crate::FileSink::cache_key) (with the skip globs), the reader limits and this build
//! (the executable's identity), so a change to any of them is a miss, never a stale answer. An entry holds the
//! layer's entry list (for the whiteout merge), the warnings about the layer and each sink's export, as
//! zstd-compressed JSON.
//!
//! Trust: an entry is written only for a layer whose content was verified to hash to the digest it is stored
//! under (a streamed layer verified as it was read; a local uncompressed layer, read by seeking, hashed in a
//! second sequential pass). So no scanned archive can plant results under another layer's digest, and a
//! shared cache cannot be poisoned by one hostile image. A lookup trusts the digest the image names a layer
//! by, without re-hashing the blob (hashing would cost more than the cached scan itself): an archive whose
//! layer does not hash to its own `diff_id` is answered for the layer it claims to be. That is the content any
//! runtime would run: containerd and Docker verify `diff_id`s when they unpack or load an image and refuse
//! one that lies, and registries address blobs by digest.
//!
//! Concurrency: entries are written to a temporary file with a random name and renamed into place, so
//! concurrent scans never see half an entry and never wait on a lock; the last writer wins with an identical
//! entry. A corrupt or unreadable entry is a miss and is rewritten. Size: after each scan that wrote, the
//! oldest entries (by modification time; a hit refreshes it) are removed until the cache is under its bound.

use crate::tree::LayerEntries;
use palisade_core::Warning;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Bump when the entry layout or any sink's export format changes.
pub(crate) const FORMAT: u32 = 1;
/// An entry larger than this (compressed) is neither written nor read.
const MAX_ENTRY: u64 = 256 << 20;

/// A directory of layer results. Cheap to share; every method is safe to call from several processes.
#[derive(Debug, Clone)]
pub struct LayerCache {
    dir: PathBuf,
    max_bytes: u64,
}

/// What one layer produced, as stored.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CachedLayer<'a> {
    pub format: u32,
    /// Borrowed when written (the reader still needs the entries for the tree), owned when read.
    pub entries: Cow<'a, LayerEntries>,
    /// Warnings about the layer, their `layer` cleared (it is the index in the image being scanned).
    pub warnings: Vec<Warning>,
    /// Bytes of the stored blob.
    pub stored_size: u64,
    /// [`crate::FileSink::export_layer`] of the scan's sink.
    pub sinks: serde_json::Value,
}

impl LayerCache {
    /// Default bound on the cache's size on disk.
    pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

    /// A cache in `dir` (created on first write), bounded to `max_bytes` on disk.
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> Self {
        LayerCache { dir: dir.into(), max_bytes }
    }

    /// The directory the entries live in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The key of a layer's entry: see the module docs.
    pub(crate) fn key(layer_digest: &str, sink_key: &str) -> String {
        let mut h = Sha256::new();
        for part in [&FORMAT.to_string(), build_id(), layer_digest, sink_key] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(format!("{key}.json.zst"))
    }

    /// The entry under `key`, if there is a readable one (a hit refreshes its age).
    pub(crate) fn get(&self, key: &str) -> Option<CachedLayer<'static>> {
        let path = self.path(key);
        let file = std::fs::File::open(&path).ok()?;
        if file.metadata().ok()?.len() > MAX_ENTRY {
            return None;
        }
        let decoded = zstd::stream::read::Decoder::new(file).ok()?;
        let mut json = Vec::new();
        decoded.take(MAX_ENTRY * 8).read_to_end(&mut json).ok()?;
        let entry: CachedLayer<'static> = serde_json::from_slice(&json).ok()?;
        if entry.format != FORMAT {
            return None;
        }
        if let Ok(f) = std::fs::File::options().write(true).open(&path) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(entry)
    }

    /// Whether there is an entry under `key` (not read: [`LayerCache::get`] still decides whether it is usable).
    pub(crate) fn contains(&self, key: &str) -> bool {
        std::fs::metadata(self.path(key)).is_ok_and(|m| m.is_file() && m.len() > 0 && m.len() <= MAX_ENTRY)
    }

    /// Store `entry` under `key`. Failures are returned for the caller to report; the scan goes on.
    pub(crate) fn put(&self, key: &str, entry: &CachedLayer<'_>) -> io::Result<()> {
        let path = self.path(key);
        let parent = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(parent)?;
        let json = serde_json::to_vec(entry).map_err(io::Error::other)?;
        let packed = zstd::encode_all(&json[..], 3)?;
        if packed.len() as u64 > MAX_ENTRY {
            return Ok(());
        }
        let mut tmp = tempfile::NamedTempFile::new_in(parent)?;
        tmp.write_all(&packed)?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Remove the oldest entries until the cache is under its bound.
    pub fn trim(&self) -> io::Result<()> {
        let mut files: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        let Ok(shards) = std::fs::read_dir(&self.dir) else { return Ok(()) };
        for shard in shards.flatten() {
            let Ok(entries) = std::fs::read_dir(shard.path()) else { continue };
            for e in entries.flatten() {
                let Ok(md) = e.metadata() else { continue };
                if md.is_file() {
                    files.push((md.modified().unwrap_or(SystemTime::UNIX_EPOCH), md.len(), e.path()));
                }
            }
        }
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort();
        for (_, len, path) in files {
            if total <= self.max_bytes {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
            }
        }
        Ok(())
    }
}

/// This build: the running executable's path, size, modification time and inode, so that any rebuild — even
/// one that keeps the version number, as during development — is a cache miss. (Hashing the executable would
/// cost more than a cached scan.)
fn build_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        use std::os::unix::fs::MetadataExt;
        let exe = std::env::current_exe().and_then(|p| Ok((std::fs::metadata(&p)?, p)));
        match exe {
            Ok((md, p)) => {
                format!(
                    "{} {} {} {} {}.{}",
                    p.display(),
                    md.dev(),
                    md.ino(),
                    md.len(),
                    md.mtime(),
                    md.mtime_nsec()
                )
            }
            // Unknown executable: a key no other process shares, so nothing stale can be read.
            Err(_) => format!("{}-{}-{:?}", env!("CARGO_PKG_VERSION"), std::process::id(), SystemTime::now()),
        }
    })
}

/// `sha256:<hex>` of everything `r` yields.
pub(crate) fn hash_blob(mut r: impl Read) -> io::Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("sha256:{}", hex::encode(h.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u64) -> CachedLayer<'static> {
        CachedLayer {
            format: FORMAT,
            entries: Cow::Owned(LayerEntries::default()),
            warnings: vec![Warning::new("test", "w")],
            stored_size: n,
            sinks: serde_json::json!({"n": n}),
        }
    }

    #[test]
    fn put_get_corrupt_and_trim() {
        let d = tempfile::tempdir().expect("tempdir");
        let cache = LayerCache::new(d.path(), 1 << 20);
        let k1 = LayerCache::key("sha256:aa", "sinks");
        assert_ne!(k1, LayerCache::key("sha256:aa", "other sinks"));
        assert!(cache.get(&k1).is_none());
        cache.put(&k1, &entry(7)).expect("put");
        let got = cache.get(&k1).expect("hit");
        assert_eq!(got.stored_size, 7);
        assert_eq!(got.warnings.len(), 1);
        // A corrupt entry is a miss, and a put rewrites it.
        std::fs::write(cache.path(&k1), b"not zstd").expect("corrupt");
        assert!(cache.get(&k1).is_none());
        cache.put(&k1, &entry(8)).expect("rewrite");
        assert_eq!(cache.get(&k1).map(|e| e.stored_size), Some(8));
        // Trimming to a bound below one entry removes the oldest first.
        let k2 = LayerCache::key("sha256:bb", "sinks");
        cache.put(&k2, &entry(9)).expect("put");
        let old = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1);
        std::fs::File::options()
            .write(true)
            .open(cache.path(&k1))
            .expect("open")
            .set_modified(old)
            .expect("age");
        let size = std::fs::metadata(cache.path(&k2)).expect("md").len();
        LayerCache::new(d.path(), size).trim().expect("trim");
        assert!(cache.get(&k1).is_none(), "the oldest entry goes first");
        assert!(cache.get(&k2).is_some());
    }

    #[test]
    fn hashes_a_stream() {
        assert_eq!(
            hash_blob(&b"abc"[..]).expect("hash"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
