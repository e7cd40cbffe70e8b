//! Streaming reader for one layer tar (plain, gzip or zstd, sniffed by magic bytes).
//!
//! The layer is decompressed as a stream; each entry's metadata goes to the sink's `wants`, and only wanted
//! regular files are read into memory. An uncompressed layer in a local file is walked by seeking past
//! unwanted content instead, and its large wanted files are probed by position before they are read
//! ([`FileSink::wants_after_probe`], as for directories). What the layer contains (files, directories, links, whiteouts) is
//! listed in a [`LayerEntries`] for the tree merge. Hostile input is contained here:
//! - entry names are normalized; names escaping the root are skipped with a warning;
//! - symlinks are recorded, never followed; hard links may only point to earlier entries of the same layer
//!   and are resolved from a small per-layer cache of wanted content, else recorded with a warning;
//! - the work per layer is bounded: the uncompressed bytes may not exceed `max_layer_bytes`, nor
//!   `ratio_floor` plus `max_ratio` bytes per compressed byte read so far (a long run of zeros such as a
//!   sparse `/var/log/lastlog` is far below the floor), and the entry count is capped; past a bound the
//!   layer is abandoned with a warning naming it (what was read before stays);
//! - a truncated or corrupt stream ends the layer with a warning naming it;
//! - the SHA-256 of the stored (compressed) stream is computed while reading and compared with the expected
//!   digest; a mismatch is a warning.

use crate::tree::{EntryKind, LayerEntries};
use crate::{EntryMeta, FileMeta, FileSink, NodeKind, Options, paths, warn};
use palisade_core::{Progress, Warnings};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::rc::Rc;
use std::sync::Arc;

/// Bytes the tar reader may consume between two entries beyond the previous entry's data: headers, GNU long
/// names and PAX records. The tar crate reads those records into memory whole, so a hostile archive could
/// otherwise declare a multi-gigabyte "long name".
const META_SLACK: u64 = 4 << 20;
/// Wanted files up to this size are kept for hard links later in the same layer...
const LINK_CACHE_FILE_MAX: usize = 4 << 20;
/// ...up to this many bytes per layer.
const LINK_CACHE_BUDGET: usize = 32 << 20;

/// Identity of a layer for reading and for messages.
#[derive(Debug, Clone, Default)]
pub(crate) struct LayerSpec {
    pub index: u32,
    /// Digest of the blob as stored (`sha256:<hex>`), verified when present.
    pub digest: Option<String>,
    /// `rootfs.diff_ids` entry; verified instead when the blob is an uncompressed tar without a digest.
    pub diff_id: Option<String>,
}

impl LayerSpec {
    fn label(&self) -> String {
        match self.digest.as_deref().or(self.diff_id.as_deref()) {
            Some(d) => format!("layer {} ({})", self.index, short(d)),
            None => format!("layer {}", self.index),
        }
    }
}

fn short(d: &str) -> &str {
    let end = d.char_indices().nth(19).map_or(d.len(), |(i, _)| i);
    &d[..end]
}

/// Compression of a layer stream, by magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    Gzip,
    Zstd,
    Plain,
}

pub(crate) fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::Plain
    }
}

/// Hashes and counts everything read from the stored blob.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    count: Rc<RefCell<u64>>,
    progress: Option<Arc<Progress>>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let chunk = buf.get(..n).unwrap_or_default();
        self.hasher.update(chunk);
        *self.count.borrow_mut() += n as u64;
        if let Some(p) = &self.progress {
            Progress::add(&p.bytes_read, n as u64);
        }
        Ok(n)
    }
}

/// Enforces the per-layer work bound: uncompressed bytes at most `max_bytes` and at most
/// `ratio_floor + max_ratio × compressed`.
struct Capped<R> {
    inner: R,
    total: u64,
    compressed: Rc<RefCell<u64>>,
    max_bytes: u64,
    max_ratio: u64,
    ratio_floor: u64,
    tripped: Rc<RefCell<Option<String>>>,
    /// Bytes read since the last entry was handed out, and how many are allowed.
    since_entry: Rc<RefCell<(u64, u64)>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(why) = self.tripped.borrow().as_ref() {
            return Err(io::Error::other(why.clone()));
        }
        let n = self.inner.read(buf)?;
        self.total += n as u64;
        let (since, allowed) = {
            let mut s = self.since_entry.borrow_mut();
            s.0 += n as u64;
            *s
        };
        let why = if since > allowed {
            Some(format!("a tar metadata record (long name or PAX header) exceeds {META_SLACK} bytes"))
        } else if self.total > self.max_bytes {
            Some(format!("more than {} bytes uncompressed (limit max_layer_bytes)", self.max_bytes))
        } else {
            let c = *self.compressed.borrow();
            let budget = self.ratio_floor.saturating_add(c.saturating_mul(self.max_ratio));
            (self.total > budget).then(|| {
                format!(
                    "decompression bomb: more than {budget} bytes uncompressed from {c} compressed (work \
                     bound ratio_floor {} + max_ratio {} per compressed byte)",
                    self.ratio_floor, self.max_ratio
                )
            })
        };
        if let Some(why) = why {
            *self.tripped.borrow_mut() = Some(why.clone());
            return Err(io::Error::other(why));
        }
        Ok(n)
    }
}

impl<R: Seek> Seek for Capped<R> {
    /// Seeks skip content without reading it, so they count against neither cap.
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// What reading one layer produced besides what went to the sink.
#[derive(Debug, Default)]
pub(crate) struct LayerOutcome {
    pub entries: LayerEntries,
    /// Computed digest of the stored blob (only when the whole layer was read).
    pub digest: Option<String>,
    /// Bytes of the stored blob read.
    pub stored_size: u64,
    /// `digest` was computed from the whole blob and matches what the manifest said (or it said nothing).
    pub verified: bool,
    /// Bytes read from the blob when it was walked by seeking (headers and wanted files); 0 otherwise.
    pub bytes_read: u64,
}

/// `Read + Seek` as one object type.
pub(crate) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// A layer blob as its source opens it.
pub(crate) enum Blob {
    /// A stream (a registry download, containerd's content service): read through, its digest verified.
    Stream(Box<dyn Read + Send>),
    /// A region of a local file (a docker-archive member, an OCI layout blob). An uncompressed layer is
    /// walked by seeking past the content no sink wants, so its digest is not computed; a compressed one is
    /// streamed like [`Blob::Stream`].
    Seekable(Box<dyn ReadSeek + Send>),
}

/// Read one opened layer blob: [`read_layer`], or [`read_plain_seeking`] for an uncompressed seekable one.
pub(crate) fn read_blob(
    blob: Blob,
    spec: &LayerSpec,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> LayerOutcome {
    match blob {
        Blob::Stream(r) => read_layer(r, spec, opts, sink, warnings),
        Blob::Seekable(mut r) => {
            let mut head = [0u8; 8];
            let plain = match r.read(&mut head).and_then(|n| r.seek(SeekFrom::Start(0)).map(|_| n)) {
                Ok(n) => n > 0 && sniff(head.get(..n).unwrap_or_default()) == Compression::Plain,
                Err(_) => false,
            };
            if plain {
                read_plain_seeking(r, spec, opts, sink, warnings)
            } else {
                read_layer(r, spec, opts, sink, warnings)
            }
        }
    }
}

/// A read buffer that survives short forward seeks: the tar reader reads each 512-byte header and seeks past
/// the content it does not want, and most files of a root filesystem are small, so one read serves several
/// entries instead of one positioned read per header. The refill after a long seek reads one page (the header
/// it needs and often the next small entries); refills in a run without seeks grow to 64 KiB. Copying from the
/// page cache is most of the cost of a seek-read layer: a fixed 16 KiB refill copied 4x the bytes needed.
struct SeekBuf<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    filled: usize,
    /// Position of `inner` (the end of the buffered bytes).
    inner_pos: u64,
    /// Bytes the next refill asks for: [`SEEKBUF_MIN`] after a seek, doubling up to the buffer's size.
    next_fill: usize,
}

/// The first refill after a seek: one page.
const SEEKBUF_MIN: usize = 4 << 10;

impl<R: Read + Seek> SeekBuf<R> {
    fn new(inner: R) -> Self {
        SeekBuf {
            inner,
            buf: vec![0; 64 << 10].into_boxed_slice(),
            pos: 0,
            filled: 0,
            inner_pos: 0,
            next_fill: SEEKBUF_MIN,
        }
    }

    fn logical(&self) -> u64 {
        self.inner_pos - (self.filled - self.pos) as u64
    }
}

impl<R: Read + Seek> Read for SeekBuf<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.filled {
            // Large reads (wanted file contents) bypass the buffer.
            if out.len() >= self.next_fill {
                let n = self.inner.read(out)?;
                self.inner_pos += n as u64;
                return Ok(n);
            }
            let want = self.next_fill.min(self.buf.len());
            let n = self.inner.read(&mut self.buf[..want])?;
            self.inner_pos += n as u64;
            self.pos = 0;
            self.filled = n;
            self.next_fill = (want * 2).min(self.buf.len());
        }
        let n = out.len().min(self.filled - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for SeekBuf<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        if let SeekFrom::Current(d) = to
            && let Ok(d) = usize::try_from(d)
            && d <= self.filled - self.pos
        {
            self.pos += d;
            return Ok(self.logical());
        }
        let target = match to {
            SeekFrom::Current(d) => SeekFrom::Start(
                self.logical()
                    .checked_add_signed(d)
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?,
            ),
            other => other,
        };
        self.inner_pos = self.inner.seek(target)?;
        self.pos = 0;
        self.filled = 0;
        self.next_fill = SEEKBUF_MIN;
        Ok(self.inner_pos)
    }
}

/// Walk an uncompressed layer in a local file, reading tar headers and wanted files only and seeking past
/// everything else: the cost is the wanted bytes, not the layer size. The blob is not hashed (that would
/// mean reading it all); a local archive is the user's own file, and blobs from the network always go
/// through [`read_layer`].
fn read_plain_seeking(
    mut raw: Box<dyn ReadSeek + Send>,
    spec: &LayerSpec,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> LayerOutcome {
    let label = spec.label();
    let size = match raw.seek(SeekFrom::End(0)).and_then(|n| raw.seek(SeekFrom::Start(0)).map(|_| n)) {
        Ok(n) => n,
        Err(e) => {
            warn(
                warnings,
                None,
                Some(spec.index),
                format!("{label}: cannot read the layer blob: {e}; layer skipped"),
            );
            return LayerOutcome::default();
        }
    };
    let tripped = Rc::new(RefCell::new(None));
    let since_entry = Rc::new(RefCell::new((0u64, META_SLACK)));
    let capped = Capped {
        inner: SeekBuf::new(raw),
        total: 0,
        // Nothing is decompressed: the ratio check never fires.
        compressed: Rc::new(RefCell::new(u64::MAX)),
        max_bytes: opts.limits.max_layer_bytes,
        ratio_floor: opts.limits.ratio_floor,
        max_ratio: opts.limits.max_ratio,
        tripped: tripped.clone(),
        since_entry: since_entry.clone(),
    };
    let mut archive = tar::Archive::new(capped);
    let guard = Guard { tripped: &tripped, since_entry: &since_entry };
    let mut out = LayerOutcome::default();
    let mut later = Vec::new();
    let entries = archive.entries_with_seek();
    walk_tar(entries, spec, &label, opts, sink, warnings, &guard, &mut out.entries, Some(&mut later));
    let capped = archive.into_inner();
    out.bytes_read = capped.total;
    // Large wanted files and hard links: read after the walk by position, each probed first (see `Deferred`).
    // A hard link's content is read again from where its target's starts, instead of keeping every wanted
    // file in memory in case a link names it later.
    let reader = std::sync::Mutex::new(capped.inner);
    let read = std::sync::atomic::AtomicU64::new(0);
    for file in later {
        let meta = FileMeta { path: &file.path, size: file.size, mode: file.mode, layer: Some(spec.index) };
        let probe = BlobProbe { reader: &reader, read: &read, at: file.at, size: file.size };
        if !sink.wants_after_probe(&meta, &probe) {
            continue;
        }
        let whole = || -> Option<Vec<u8>> {
            if let Err(why) = palisade_core::memory::admit(file.size) {
                warn(warnings, Some(&file.path), Some(spec.index), why);
                return None;
            }
            match probe.read_range(0, file.size) {
                Ok(data) if data.len() as u64 == file.size => Some(data),
                Ok(_) => {
                    warn(warnings, Some(&file.path), Some(spec.index), "content is truncated; file skipped");
                    None
                }
                Err(e) => {
                    warn(
                        warnings,
                        Some(&file.path),
                        Some(spec.index),
                        format!("not read: {e}; file skipped"),
                    );
                    None
                }
            }
        };
        sink.accept_content(&meta, &crate::Content::lazy(&probe, &whole), warnings);
    }
    out.bytes_read += read.into_inner();
    if let Some(p) = &opts.progress {
        Progress::add(&p.bytes_read, size);
    }
    out.stored_size = size;
    // An uncompressed blob's digest is its diff_id by definition; it is taken as given, not recomputed.
    out.digest = spec.digest.clone().or_else(|| spec.diff_id.clone());
    out
}

/// Read one layer blob from `raw`, stream wanted files to `sink`, and list its entries.
pub(crate) fn read_layer(
    raw: impl Read,
    spec: &LayerSpec,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> LayerOutcome {
    let label = spec.label();
    let layer = Some(spec.index);
    let count = Rc::new(RefCell::new(0u64));
    let tripped = Rc::new(RefCell::new(None));
    let since_entry = Rc::new(RefCell::new((0u64, META_SLACK)));
    let mut buf = BufReader::with_capacity(
        64 << 10,
        Hashing { inner: raw, hasher: Sha256::new(), count: count.clone(), progress: opts.progress.clone() },
    );
    let compression = match buf.fill_buf() {
        Ok(head) => sniff(head),
        Err(e) => {
            warn(warnings, None, layer, format!("{label}: cannot read the layer blob: {e}; layer skipped"));
            return LayerOutcome::default();
        }
    };
    let mut out = LayerOutcome::default();
    let complete = {
        let decoder: Box<dyn Read + '_> = match compression {
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(&mut buf)),
            Compression::Zstd => match zstd::stream::read::Decoder::with_buffer(&mut buf) {
                Ok(d) => Box::new(d),
                Err(e) => {
                    warn(
                        warnings,
                        None,
                        layer,
                        format!("{label}: cannot start zstd decoding: {e}; layer skipped"),
                    );
                    return out;
                }
            },
            Compression::Plain => Box::new(&mut buf),
        };
        let capped = Capped {
            inner: decoder,
            total: 0,
            compressed: count.clone(),
            max_bytes: opts.limits.max_layer_bytes,
            max_ratio: opts.limits.max_ratio,
            ratio_floor: opts.limits.ratio_floor,
            tripped: tripped.clone(),
            since_entry: since_entry.clone(),
        };
        let mut archive = tar::Archive::new(capped);
        let guard = Guard { tripped: &tripped, since_entry: &since_entry };
        let ok =
            walk_tar(archive.entries(), spec, &label, opts, sink, warnings, &guard, &mut out.entries, None);
        // Drain the end-of-archive padding so that the digest covers the whole blob.
        *since_entry.borrow_mut() = (0, u64::MAX);
        ok && match io::copy(&mut archive.into_inner(), &mut io::sink()) {
            Ok(_) => true,
            Err(e) => {
                let why = tripped.borrow().clone().unwrap_or_else(|| e.to_string());
                warn(
                    warnings,
                    None,
                    layer,
                    format!("{label}: stream broken after the last tar entry: {why}"),
                );
                false
            }
        }
    };
    if !complete {
        out.stored_size = *count.borrow();
        return out;
    }
    if let Err(e) = io::copy(&mut buf, &mut io::sink()) {
        warn(warnings, None, layer, format!("{label}: cannot read the end of the layer blob: {e}"));
        return out;
    }
    let hashing = buf.into_inner();
    let computed = format!("sha256:{}", hex::encode(hashing.hasher.finalize()));
    out.stored_size = *count.borrow();
    let expected = match (&spec.digest, compression) {
        (Some(d), _) => Some(d),
        (None, Compression::Plain) => spec.diff_id.as_ref(),
        (None, _) => None,
    };
    out.verified = expected.is_none_or(|exp| exp.eq_ignore_ascii_case(&computed));
    if let Some(exp) = expected
        && exp.starts_with("sha256:")
    {
        check_layer_digest(spec, exp, &computed, warnings);
    }
    out.digest = Some(computed);
    out
}

/// Warn when a layer's content does not hash to the digest its image names it by.
pub(crate) fn check_layer_digest(spec: &LayerSpec, expected: &str, computed: &str, warnings: &Warnings) {
    if !expected.eq_ignore_ascii_case(computed) {
        warn(
            warnings,
            None,
            Some(spec.index),
            format!(
                "{}: digest mismatch: expected {expected}, content hashes to {computed}; the blob is corrupt or \
                 was tampered with (its files were still scanned)",
                spec.label()
            ),
        );
    }
}

/// A wanted file of a seekable layer read after the walk, from where its content (or, for a hard link, its
/// target's) starts: hard links, and regular files of [`DEFER_MIN`] bytes or more, which the sinks first
/// probe ([`FileSink::wants_after_probe`]) so that an executable with no build information in it costs a
/// few positioned reads instead of its whole size.
struct Deferred {
    path: String,
    at: u64,
    size: u64,
    mode: u32,
}

/// Wanted regular files of a seekable layer from this size on are probed after the walk; smaller ones are
/// read during it (their bytes are often already in the walk's buffer).
const DEFER_MIN: u64 = 64 << 10;

/// Positioned reads of one file in a seekable layer blob, for [`FileSink::wants_after_probe`] and
/// [`Content::lazy`]; the blob's reader is shared behind a lock (one layer is walked by one thread).
struct BlobProbe<'a, R> {
    reader: &'a std::sync::Mutex<SeekBuf<R>>,
    read: &'a std::sync::atomic::AtomicU64,
    at: u64,
    size: u64,
}

impl<R: Read + Seek> BlobProbe<'_, R> {
    /// Up to `len` bytes from `offset` of the file, within its size.
    fn read_range(&self, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let len = len.min(self.size.saturating_sub(offset));
        let mut data = Vec::with_capacity(usize::try_from(len.min(64 << 20)).unwrap_or(0));
        let mut reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        reader.seek(SeekFrom::Start(self.at.saturating_add(offset)))?;
        (&mut *reader).take(len).read_to_end(&mut data)?;
        self.read.fetch_add(data.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(data)
    }
}

impl<R: Read + Seek> crate::Probe for BlobProbe<'_, R> {
    fn read_at(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        self.read_range(offset, len as u64).ok()
    }
}

/// Shared state between [`Capped`] and the entry loop.
struct Guard<'a> {
    tripped: &'a Rc<RefCell<Option<String>>>,
    since_entry: &'a Rc<RefCell<(u64, u64)>>,
}

/// Iterate the tar entries. Returns false when the layer was abandoned.
#[allow(clippy::too_many_arguments)]
fn walk_tar<R: Read>(
    entries: io::Result<tar::Entries<'_, R>>,
    spec: &LayerSpec,
    label: &str,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
    guard: &Guard,
    out: &mut LayerEntries,
    mut deferred: Option<&mut Vec<Deferred>>,
) -> bool {
    let tripped = guard.tripped;
    let layer = Some(spec.index);
    let limits = &opts.limits;
    let fail = |what: &str, e: &io::Error| {
        let why = tripped.borrow().clone().unwrap_or_else(|| e.to_string());
        warn(warnings, None, layer, format!("{label}: {what}: {why}; rest of this layer skipped"));
        false
    };
    let entries = match entries {
        Ok(e) => e,
        Err(e) => return fail("not a readable tar", &e),
    };
    let mut count: u64 = 0;
    // Each file of the layer so far, for hard links to it: its size and, for seekable blobs, where its content
    // starts (hard links are read from there later).
    let mut files: HashMap<String, (u64, Option<u64>)> = HashMap::new();
    let mut cache: HashMap<String, Arc<Vec<u8>>> = HashMap::new();
    let mut cached_bytes = 0usize;
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            Err(e) => return fail(&format!("corrupt or truncated tar after {count} entries"), &e),
        };
        // Until the next entry the reader may consume this entry's data (padded) plus metadata records.
        let data = entry.size().max(entry.header().entry_size().unwrap_or(0));
        *guard.since_entry.borrow_mut() = (0, data.saturating_add(511) / 512 * 512 + META_SLACK);
        count += 1;
        if count > limits.max_entries {
            warn(
                warnings,
                None,
                layer,
                format!(
                    "{label}: more than {} entries (limit max_entries); rest of this layer skipped",
                    limits.max_entries
                ),
            );
            return false;
        }
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(path) = paths::normalize(&raw_name) else {
            warn(warnings, Some(&raw_name), layer, "tar entry escapes the image root; skipped");
            continue;
        };
        if path.is_empty() {
            continue;
        }
        let dir = paths::parent(&path);
        let name = path.rsplit('/').next().unwrap_or(&path);
        if let Some(victim) = name.strip_prefix(".wh.") {
            if victim == ".wh..opq" {
                out.opaques.push(dir.to_string());
            } else if victim.starts_with(".wh.") {
                // AUFS bookkeeping (`.wh..wh.plnk`, ...): not part of the filesystem.
            } else if victim.is_empty() || victim == "." || victim == ".." {
                warn(warnings, Some(&raw_name), layer, "malformed whiteout entry; ignored");
            } else {
                out.whiteouts.push(paths::join(dir, victim));
            }
            continue;
        }
        let header = entry.header();
        let mode = header.mode().unwrap_or(0) & 0o7777;
        let node = EntryMeta {
            path: &path,
            kind: NodeKind::File,
            mode,
            uid: header.uid().ok().and_then(|u| u32::try_from(u).ok()),
            gid: header.gid().ok().and_then(|g| u32::try_from(g).ok()),
            layer,
            link_target: None,
            size: 0,
        };
        match header.entry_type() {
            tar::EntryType::Directory => {
                sink.entry(&EntryMeta { kind: NodeKind::Dir, ..node });
                out.entries.push((path, EntryKind::Dir));
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                sink.entry(&EntryMeta { kind: NodeKind::Symlink, link_target: Some(&target), ..node });
                out.entries.push((path, EntryKind::Symlink(target)));
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                sink.entry(&EntryMeta { kind: NodeKind::Special, ..node });
                out.entries.push((path, EntryKind::Special));
            }
            tar::EntryType::Link => {
                let raw_target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let Some(target) = paths::normalize(&raw_target).filter(|t| !t.is_empty()) else {
                    warn(
                        warnings,
                        Some(&path),
                        layer,
                        format!("hard link to `{raw_target}` escapes the image root; skipped"),
                    );
                    continue;
                };
                let Some(&(size, at)) = files.get(&target) else {
                    warn(
                        warnings,
                        Some(&path),
                        layer,
                        format!(
                            "hard link to `{target}`, which is not an earlier file of this layer; skipped"
                        ),
                    );
                    continue;
                };
                opts.bump(|p| &p.files_seen, 1);
                sink.entry(&EntryMeta { size, ..node });
                let meta = FileMeta { path: &path, size, mode, layer };
                if let Some(d) = deferred.as_deref_mut() {
                    if sink.wants(&meta) && size <= limits.max_file_size {
                        match at {
                            Some(at) => d.push(Deferred { path: path.clone(), at, size, mode }),
                            None => warn(
                                warnings,
                                Some(&path),
                                layer,
                                format!(
                                    "hard link to `{target}` not read: its content was not found; file skipped"
                                ),
                            ),
                        }
                    }
                } else if sink.wants(&meta) && size <= limits.max_file_size {
                    match cache.get(&target) {
                        Some(data) => sink.accept(&meta, &data[..], warnings),
                        None => warn(
                            warnings,
                            Some(&path),
                            layer,
                            format!(
                                "hard link to `{target}` not read: its content was not kept; file skipped"
                            ),
                        ),
                    }
                }
                if let Some(data) = cache.get(&target).cloned() {
                    cache.insert(path.clone(), data);
                }
                files.insert(path.clone(), (size, at));
                out.entries.push((path, EntryKind::File));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let size = entry.size();
                // A sparse entry's data in the blob is packed, not the file's content: read it in the walk.
                let sparse = header.entry_type() == tar::EntryType::GNUSparse;
                let at = (deferred.is_some() && !sparse).then(|| entry.raw_file_position());
                opts.bump(|p| &p.files_seen, 1);
                sink.entry(&EntryMeta { size, ..node });
                let meta = FileMeta { path: &path, size, mode, layer };
                if sink.wants(&meta) {
                    if size > limits.max_file_size {
                        warn(
                            warnings,
                            Some(&path),
                            layer,
                            format!(
                                "file is {size} bytes, over the {} byte limit (max_file_size); not read",
                                limits.max_file_size
                            ),
                        );
                    } else if let (Some(d), Some(at)) = (deferred.as_deref_mut(), at)
                        && size >= DEFER_MIN
                    {
                        d.push(Deferred { path: path.clone(), at, size, mode });
                    } else if let Err(why) = palisade_core::memory::admit(size) {
                        warn(warnings, Some(&path), layer, why);
                    } else {
                        let cap = usize::try_from(size.min(64 << 20)).unwrap_or(0);
                        let mut data = Vec::with_capacity(cap);
                        if let Err(e) = (&mut entry).take(limits.max_file_size).read_to_end(&mut data) {
                            return fail(&format!("corrupt or truncated data in `{path}`"), &e);
                        }
                        sink.accept(&meta, &data, warnings);
                        if deferred.is_none()
                            && data.len() <= LINK_CACHE_FILE_MAX
                            && cached_bytes + data.len() <= LINK_CACHE_BUDGET
                        {
                            cached_bytes += data.len();
                            cache.insert(path.clone(), Arc::new(data));
                        }
                    }
                }
                files.insert(path.clone(), (size, at));
                out.entries.push((path, EntryKind::File));
            }
            // Metadata-only records (PAX, GNU long names) are consumed by the tar reader; anything else is not
            // part of the filesystem.
            _ => {}
        }
    }
    true
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testutil::Recorder;
    use std::io::Write;

    /// Build a tar in memory. Each entry: (name, type, content or link target).
    pub(crate) fn tar_of(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, ty, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*ty);
            h.set_mode(0o644);
            // Write names raw so hostile names (`..`, absolute) reach the archive unchanged.
            let gnu = h.as_gnu_mut().expect("gnu header");
            let n = name.as_bytes();
            gnu.name[..n.len()].copy_from_slice(n);
            match ty {
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let t = data;
                    gnu.linkname[..t.len()].copy_from_slice(t);
                    h.set_size(0);
                    h.set_cksum();
                    b.append(&h, io::empty()).expect("append");
                }
                _ => {
                    h.set_size(data.len() as u64);
                    h.set_cksum();
                    b.append(&h, *data).expect("append");
                }
            }
        }
        b.into_inner().expect("tar")
    }

    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).expect("gz");
        e.finish().expect("gz")
    }

    pub(crate) fn sha(data: &[u8]) -> String {
        format!("sha256:{}", hex::encode(Sha256::digest(data)))
    }

    use tar::EntryType as T;

    fn read(blob: &[u8], spec: &LayerSpec, opts: &Options, sink: &Recorder) -> (LayerOutcome, Vec<String>) {
        let w = Warnings::new();
        let out = read_layer(blob, spec, opts, sink, &w);
        (out, w.into_vec().into_iter().map(|w| w.to_string()).collect())
    }

    #[test]
    fn every_entry_reaches_the_sink_with_mode_owner_and_layer() {
        let mut b = tar::Builder::new(Vec::new());
        for (name, ty, mode, uid) in [
            ("usr/bin/", T::Directory, 0o755, 0),
            ("usr/bin/su", T::Regular, 0o4755, 0),
            ("usr/bin/sh", T::Symlink, 0o777, 0),
            ("var/www/", T::Directory, 0o777, 33),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(ty);
            h.set_mode(mode);
            h.set_uid(uid);
            h.set_gid(uid);
            h.set_size(0);
            if ty == T::Symlink {
                h.set_link_name("dash").expect("link");
            }
            h.set_path(name).expect("path");
            h.set_cksum();
            b.append(&h, io::empty()).expect("append");
        }
        let blob = b.into_inner().expect("tar");
        let sink = Recorder { names: vec!["nothing"], ..Default::default() };
        let spec = LayerSpec { index: 3, digest: None, diff_id: None };
        let (_, w) = read(&blob, &spec, &Options::default(), &sink);
        assert!(w.is_empty(), "{w:?}");
        let nodes = sink.nodes.lock().expect("lock").clone();
        assert_eq!(
            nodes,
            vec![
                ("usr/bin".into(), NodeKind::Dir, 0o755, Some(0), Some(0), Some(3)),
                ("usr/bin/su".into(), NodeKind::File, 0o4755, Some(0), Some(0), Some(3)),
                ("usr/bin/sh".into(), NodeKind::Symlink, 0o777, Some(0), Some(0), Some(3)),
                ("var/www".into(), NodeKind::Dir, 0o777, Some(33), Some(33), Some(3)),
            ]
        );
    }

    #[test]
    fn reads_plain_gzip_and_zstd_and_verifies_digest() {
        let t = tar_of(&[("etc/", T::Directory, b""), ("etc/os-release", T::Regular, b"ID=alpine\n")]);
        let z = zstd::encode_all(&t[..], 3).expect("zstd");
        for blob in [t.clone(), gzip(&t), z] {
            let sink = Recorder::all();
            let spec = LayerSpec { index: 2, digest: Some(sha(&blob)), diff_id: None };
            let (out, w) = read(&blob, &spec, &Options::default(), &sink);
            assert!(w.is_empty(), "{w:?}");
            assert_eq!(sink.content("etc/os-release", Some(2)).as_deref(), Some(&b"ID=alpine\n"[..]));
            assert_eq!(out.digest, Some(sha(&blob)));
            assert_eq!(out.entries.entries.len(), 2);
        }
    }

    #[test]
    fn digest_mismatch_warns_but_keeps_files() {
        let t = tar_of(&[("a", T::Regular, b"x")]);
        let sink = Recorder::all();
        let spec = LayerSpec { index: 0, digest: Some(sha(b"other")), diff_id: None };
        let (_, w) = read(&t, &spec, &Options::default(), &sink);
        assert!(w.iter().any(|m| m.contains("digest mismatch")), "{w:?}");
        assert!(sink.content("a", Some(0)).is_some());
    }

    #[test]
    fn escaping_names_are_skipped_with_warning() {
        let t = tar_of(&[
            ("../../etc/evil", T::Regular, b"bad"),
            ("/abs/ok", T::Regular, b"fine"),
            ("a/../../x", T::Regular, b"bad"),
            ("after", T::Regular, b"still scanned"),
        ]);
        let sink = Recorder::all();
        let (_, w) = read(&t, &LayerSpec::default(), &Options::default(), &sink);
        assert_eq!(w.iter().filter(|m| m.contains("escapes the image root")).count(), 2, "{w:?}");
        assert_eq!(sink.paths(), vec!["abs/ok".to_string(), "after".to_string()]);
    }

    #[test]
    fn whiteouts_and_opaques_are_listed_not_streamed() {
        let t = tar_of(&[
            ("d/.wh..wh..opq", T::Regular, b""),
            ("etc/.wh.shadow", T::Regular, b""),
            (".wh..wh.plnk", T::Regular, b""),
            ("x/.wh...", T::Regular, b""),
        ]);
        let sink = Recorder::all();
        let (out, w) = read(&t, &LayerSpec::default(), &Options::default(), &sink);
        assert_eq!(out.entries.opaques, vec!["d".to_string()]);
        assert_eq!(out.entries.whiteouts, vec!["etc/shadow".to_string()]);
        assert!(sink.paths().is_empty());
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn hardlinks_resolve_from_earlier_wanted_entries_only() {
        let t = tar_of(&[
            ("bin/busybox", T::Regular, b"BB"),
            ("bin/sh", T::Link, b"bin/busybox"),
            ("bin/out", T::Link, b"../../etc/shadow"),
            ("bin/fwd", T::Link, b"bin/later"),
            ("bin/self", T::Link, b"bin/self"),
        ]);
        let sink = Recorder::all();
        let (out, w) = read(&t, &LayerSpec::default(), &Options::default(), &sink);
        assert_eq!(sink.content("bin/sh", Some(0)).as_deref(), Some(&b"BB"[..]));
        assert!(w.iter().any(|m| m.contains("bin/out") && m.contains("escapes")), "{w:?}");
        assert!(w.iter().any(|m| m.contains("bin/fwd") && m.contains("not an earlier file")), "{w:?}");
        assert!(w.iter().any(|m| m.contains("bin/self") && m.contains("not an earlier file")), "{w:?}");
        assert_eq!(out.entries.entries.len(), 2);
    }

    #[test]
    fn symlinks_are_recorded_not_followed() {
        let t = tar_of(&[("etc/passwd", T::Symlink, b"/etc/shadow"), ("etc/loop", T::Symlink, b"loop")]);
        let sink = Recorder::all();
        let (out, w) = read(&t, &LayerSpec::default(), &Options::default(), &sink);
        assert!(w.is_empty());
        assert!(sink.paths().is_empty());
        assert_eq!(out.entries.entries[0].1, EntryKind::Symlink("/etc/shadow".into()));
    }

    #[test]
    fn truncated_gzip_warns_and_keeps_earlier_files() {
        let big: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let t = tar_of(&[("first", T::Regular, b"1"), ("big", T::Regular, &big), ("last", T::Regular, b"3")]);
        let gz = gzip(&t);
        let cut = &gz[..gz.len() / 2];
        let sink = Recorder { names: vec!["first", "last"], ..Default::default() };
        let (out, w) = read(cut, &LayerSpec { index: 4, ..Default::default() }, &Options::default(), &sink);
        assert!(w.iter().any(|m| m.contains("layer 4") && m.contains("rest of this layer skipped")), "{w:?}");
        assert!(sink.content("first", Some(4)).is_some());
        assert!(out.digest.is_none());
    }

    #[test]
    fn garbage_is_not_a_tar() {
        let sink = Recorder::all();
        let blob: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
        let (_, w) = read(&blob, &LayerSpec::default(), &Options::default(), &sink);
        assert!(!w.is_empty());
    }

    /// A `Cursor` that counts the bytes actually read (seeks are free).
    struct Counting {
        inner: io::Cursor<Vec<u8>>,
        read: Arc<std::sync::atomic::AtomicU64>,
    }
    impl Read for Counting {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
            Ok(n)
        }
    }
    impl Seek for Counting {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    #[test]
    fn seek_buffer_reads_and_seeks_like_the_file_under_it() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut plain = io::Cursor::new(data.clone());
        let mut buffered = SeekBuf::new(io::Cursor::new(data));
        // (read length, then a seek) steps covering in-buffer skips, skips past it, large reads, absolute seeks.
        let steps: &[(usize, SeekFrom)] = &[
            (512, SeekFrom::Current(1000)),
            (512, SeekFrom::Current(70_000)),
            (100_000, SeekFrom::Current(0)),
            (1, SeekFrom::Start(5)),
            (512, SeekFrom::Current(-300)),
            (4096, SeekFrom::End(-10)),
            (64, SeekFrom::Current(0)),
            // A run of small reads without seeks, across refills that grow from one page to the whole buffer.
            (1, SeekFrom::Start(150_000)),
            (3000, SeekFrom::Current(0)),
            (3000, SeekFrom::Current(0)),
            (7000, SeekFrom::Current(0)),
            (20_000, SeekFrom::Current(0)),
            (40_000, SeekFrom::Current(0)),
            (512, SeekFrom::Current(0)),
        ];
        for (len, to) in steps {
            let (mut a, mut b) = (vec![0u8; *len], vec![0u8; *len]);
            let na = plain.read(&mut a).expect("read");
            let mut nb = 0;
            while nb < na {
                let n = buffered.read(&mut b[nb..na]).expect("read");
                assert!(n > 0);
                nb += n;
            }
            assert_eq!(a[..na], b[..nb]);
            assert_eq!(plain.seek(*to).expect("seek"), buffered.seek(*to).expect("seek"), "{to:?}");
        }
    }

    #[test]
    fn uncompressed_seekable_layer_reads_only_headers_and_wanted_files() {
        let big = vec![b'x'; 4 << 20];
        let t = tar_of(&[
            ("usr/", T::Directory, b""),
            ("usr/big.bin", T::Regular, &big),
            ("etc/os-release", T::Regular, b"ID=debian\n"),
            ("usr/other.bin", T::Regular, &big),
            ("usr/link", T::Link, b"etc/os-release"),
        ]);
        let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let blob =
            Blob::Seekable(Box::new(Counting { inner: io::Cursor::new(t.clone()), read: read.clone() }));
        let sink = Recorder { names: vec!["os-release", "link"], ..Recorder::default() };
        let spec = LayerSpec { index: 1, digest: None, diff_id: Some(sha(&t)) };
        let w = Warnings::new();
        let out = read_blob(blob, &spec, &Options::default(), &sink, &w);
        assert!(w.is_empty(), "{:?}", w.into_vec());
        assert_eq!(sink.content("etc/os-release", Some(1)).as_deref(), Some(&b"ID=debian\n"[..]));
        assert_eq!(sink.content("usr/link", Some(1)).as_deref(), Some(&b"ID=debian\n"[..]));
        assert_eq!(out.entries.entries.len(), 5, "every entry is still listed for the tree");
        assert_eq!(out.stored_size, t.len() as u64);
        let n = read.load(std::sync::atomic::Ordering::Relaxed);
        assert!(n < 512 << 10, "read {n} bytes of a {} byte layer", t.len());
        // The same blob as a stream is read whole and its digest verified.
        let sink = Recorder { names: vec!["os-release"], ..Recorder::default() };
        let out = read_blob(
            Blob::Stream(Box::new(io::Cursor::new(t.clone()))),
            &spec,
            &Options::default(),
            &sink,
            &w,
        );
        assert_eq!(out.digest, Some(sha(&t)));
        // A compressed seekable blob is streamed (and verified) as before.
        let gz = gzip(&t);
        let spec = LayerSpec { index: 1, digest: Some(sha(&gz)), diff_id: None };
        let out = read_blob(
            Blob::Seekable(Box::new(io::Cursor::new(gz.clone()))),
            &spec,
            &Options::default(),
            &sink,
            &w,
        );
        assert_eq!(out.digest, Some(sha(&gz)));
        assert!(w.is_empty());
    }

    /// Large wanted files of a seekable layer are probed before they are read: one whose first bytes the
    /// sink refuses costs a few bytes, not its size; one it keeps (and a hard link to it) arrives whole.
    #[test]
    fn seekable_layer_probes_large_wanted_files_before_reading_them() {
        struct Probing(Recorder);
        impl FileSink for Probing {
            fn wants(&self, meta: &FileMeta) -> bool {
                self.0.wants(meta)
            }
            fn wants_after_probe(&self, _meta: &FileMeta, probe: &dyn crate::Probe) -> bool {
                probe.read_at(0, 4).as_deref() == Some(b"KEEP")
            }
            fn accept(&self, meta: &FileMeta, data: &[u8], w: &Warnings) {
                self.0.accept(meta, data, w)
            }
        }
        let mut keep = b"KEEP".to_vec();
        keep.resize(1 << 20, b'k');
        let skip = vec![b's'; 1 << 20];
        let t = tar_of(&[
            ("usr/bin/", T::Directory, b""),
            ("usr/bin/skip.bin", T::Regular, &skip),
            ("usr/bin/keep.bin", T::Regular, &keep),
            ("usr/bin/small.bin", T::Regular, b"tiny"),
            ("usr/bin/again.bin", T::Link, b"usr/bin/keep.bin"),
        ]);
        let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let blob =
            Blob::Seekable(Box::new(Counting { inner: io::Cursor::new(t.clone()), read: read.clone() }));
        let names = vec!["skip.bin", "keep.bin", "small.bin", "again.bin"];
        let sink = Probing(Recorder { names, ..Recorder::default() });
        let spec = LayerSpec { index: 0, digest: None, diff_id: None };
        let w = Warnings::new();
        let out = read_blob(blob, &spec, &Options::default(), &sink, &w);
        assert!(w.is_empty(), "{:?}", w.into_vec());
        assert_eq!(sink.0.content("usr/bin/keep.bin", Some(0)).as_deref(), Some(&keep[..]));
        assert_eq!(sink.0.content("usr/bin/again.bin", Some(0)).as_deref(), Some(&keep[..]));
        assert_eq!(sink.0.content("usr/bin/skip.bin", Some(0)), None, "refused after its probe");
        // small files are read in the walk, not probed
        assert_eq!(sink.0.content("usr/bin/small.bin", Some(0)).as_deref(), Some(&b"tiny"[..]));
        let n = read.load(std::sync::atomic::Ordering::Relaxed);
        // keep.bin twice (itself and the link), probes and headers; skip.bin's megabyte never
        assert!(n < (2 << 20) + (128 << 10), "read {n} bytes");
        assert!(out.bytes_read >= 2 << 20 && out.bytes_read <= n, "{} of {n}", out.bytes_read);
    }

    #[test]
    fn byte_cap_and_entry_cap_abandon_layer() {
        let t =
            tar_of(&[("a", T::Regular, &[0u8; 10_000]), ("b", T::Regular, b"b"), ("c", T::Regular, b"c")]);
        let sink = Recorder::all();
        let mut opts = Options::default();
        opts.limits.max_layer_bytes = 5_000;
        let (_, w) = read(&t, &LayerSpec::default(), &opts, &sink);
        assert!(w.iter().any(|m| m.contains("max_layer_bytes")), "{w:?}");
        let mut opts = Options::default();
        opts.limits.max_entries = 2;
        let (out, w) = read(&t, &LayerSpec::default(), &opts, &sink);
        assert!(w.iter().any(|m| m.contains("max_entries")), "{w:?}");
        assert_eq!(out.entries.entries.len(), 2);
    }

    #[test]
    fn work_bound_catches_zero_bomb() {
        // 80 MiB of zeros compresses to a few KiB with zstd: past a (lowered) floor the ratio bound trips.
        let zeros = vec![0u8; 80 << 20];
        let t = tar_of(&[("bomb", T::Regular, &zeros)]);
        let z = zstd::encode_all(&t[..], 19).expect("zstd");
        let sink = Recorder { names: vec!["bomb"], ..Default::default() };
        let mut opts = Options::default();
        opts.limits.ratio_floor = 64 << 20;
        let (_, w) = read(&z, &LayerSpec::default(), &opts, &sink);
        assert!(w.iter().any(|m| m.contains("decompression bomb")), "{w:?}");
        assert!(sink.paths().is_empty());
    }

    /// A 256 MB run of zeros (a sparse `/var/log/lastlog`) is a real file, not a bomb: the file after it
    /// is still read (the old 1000:1 ratio check from 64 MiB on skipped the rest of the layer).
    #[test]
    fn a_long_zero_run_is_not_a_bomb() {
        let zeros = vec![0u8; 256 << 20];
        let t = tar_of(&[("var/log/lastlog", T::Regular, &zeros), ("app/.env", T::Regular, b"KEY=1")]);
        drop(zeros);
        let gz = gzip(&t);
        drop(t);
        let sink = Recorder { names: vec![".env"], ..Default::default() };
        let (_, w) = read(&gz, &LayerSpec::default(), &Options::default(), &sink);
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(sink.content("app/.env", Some(0)).as_deref(), Some(&b"KEY=1"[..]));
    }

    #[test]
    fn huge_wanted_file_skipped_with_warning() {
        let t = tar_of(&[("big", T::Regular, &[1u8; 2000]), ("small", T::Regular, b"s")]);
        let sink = Recorder::all();
        let mut opts = Options::default();
        opts.limits.max_file_size = 1000;
        let (_, w) = read(&t, &LayerSpec::default(), &opts, &sink);
        assert!(w.iter().any(|m| m.contains("big") && m.contains("max_file_size")), "{w:?}");
        assert_eq!(sink.paths(), vec!["small".to_string()]);
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Compression::Zstd);
        assert_eq!(sniff(b"etc/"), Compression::Plain);
    }

    #[test]
    fn oversized_long_name_record_is_refused() {
        let mut t = Vec::new();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::GNULongName);
        h.set_size(8 << 20);
        h.set_cksum();
        t.extend_from_slice(h.as_bytes());
        t.extend(std::iter::repeat_n(b'a', 8 << 20));
        t.extend(tar_of(&[("x", T::Regular, b"x")]));
        let sink = Recorder::all();
        let (_, w) = read(&t, &LayerSpec::default(), &Options::default(), &sink);
        assert!(w.iter().any(|m| m.contains("metadata record")), "{w:?}");
        // A normal long name still works.
        let long = format!("{}/file", "d".repeat(300));
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        b.append_data(&mut h, &long, &b"ok"[..]).expect("append");
        let t = b.into_inner().expect("tar");
        let (_, w) = read(&t, &LayerSpec::default(), &Options::default(), &sink);
        assert!(w.is_empty(), "{w:?}");
        assert!(sink.content(&long, Some(0)).is_some());
    }
}
