//! Artifact readers: every target kind becomes a stream of files with layer provenance.
//!
//! A consumer (the inventory, the secret scanner, the config checks) implements [`FileSink`]. The reader
//! calls [`FileSink::wants`] with each file's metadata and only reads, decompresses into memory, and passes
//! the content of wanted files to [`FileSink::accept`]. Nothing else is kept, so memory does not grow with
//! the size of the artifact. After the walk, [`FileTree`] says which (path, layer) versions survive in the
//! final filesystem, so consumers can drop results for files a later layer deleted or replaced — or report
//! them, as the secret scanner does.
//!
//! Entry point: [`scan`] with a [`Target`]:
//! - [`Target::Dir`]: a directory or root filesystem (module `dir`: no symlink following, pseudo
//!   filesystems skipped, other mounts walked).
//! - [`Target::Repo`]: the committed tree of a git repository's HEAD (module `repo`, gix).
//! - [`Target::ImageArchive`]: a docker-archive tar, an OCI layout directory or an oci-archive tar
//!   (module `image`, format found by [`detect`]); layers are streamed by module `layer`.
//! - [`Target::Registry`]: an image pulled over the OCI distribution API (module `registry`).
//! - [`Target::Image`]: an image by name, looked up in local engines (Docker, podman, containerd) and then
//!   the registry, as [`Options::image_sources`] says (module `engines`).
//!
//! Hostile input never aborts a scan: a bad entry, a corrupt layer or a decompression bomb becomes a
//! [`Warning`] and the rest is scanned. Only a target that cannot be opened at all is an [`ArtifactError`].

mod cache;
mod dir;
mod distribution;
mod engines;
mod error;
mod image;
mod layer;
mod paths;
pub mod ratelimit;
mod registry;
mod repo;
mod skip;
mod tree;

pub use cache::LayerCache;
pub use distribution::{RegistryLister, ResolvedImage};
pub use engines::{Engines, ImageSource, PodmanCli, STREAM_IDLE};
pub use error::ArtifactError;
pub use image::{ImageFormat, detect};
pub use ratelimit::{RetryPolicy, Waited};
/// Registry credentials for a host, as pulls use them (also used by `palisade-signing` to push signatures).
pub use registry::credentials as registry_credentials;
pub use registry::resolve_digest;
pub use skip::{SkipError, SkipFilter};
pub use tree::{EntryKind, FileTree};

/// Read one layer blob (tar, gzip or zstd) from memory into `sink`, as layer 0, twice: streamed, as a
/// registry download is, and as a seekable local blob (an uncompressed one is then walked by seeking and its
/// large wanted files probed by position). For fuzzing and tests: the same readers images use, without an
/// image around them.
#[doc(hidden)]
pub fn read_layer_blob(blob: &[u8], opts: &Options, sink: &dyn FileSink, warnings: &Warnings) {
    let spec = layer::LayerSpec::default();
    let _ = layer::read_layer(blob, &spec, opts, sink, warnings);
    let seekable = layer::Blob::Seekable(Box::new(std::io::Cursor::new(blob.to_vec())));
    let _ = layer::read_blob(seekable, &spec, opts, sink, warnings);
}

use palisade_core::{ArtifactInfo, ArtifactKind, Progress, Warning, Warnings};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// Metadata of one regular file as the reader meets it.
#[derive(Debug, Clone, Copy)]
pub struct FileMeta<'a> {
    /// Path relative to the artifact root: `/`-separated, no leading `/`, no `.` or `..` components.
    pub path: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// Unix permission bits (`0o755`); 0 when unknown.
    pub mode: u32,
    /// Index of the image layer this version of the file comes from; `None` outside images.
    pub layer: Option<u32>,
}

impl FileMeta<'_> {
    /// Any execute bit set.
    pub fn is_executable(&self) -> bool {
        self.mode & 0o111 != 0
    }

    /// The last path component.
    pub fn file_name(&self) -> &str {
        file_name(self.path)
    }
}

/// The last `/`-separated component of a path. Called for every file by every parser's `wants`, so it scans
/// bytes back from the end (a name is short) rather than going through the generic `rsplit` searcher.
pub fn file_name(path: &str) -> &str {
    match path.as_bytes().iter().rposition(|&b| b == b'/') {
        // The byte after an ASCII `/` is a char boundary.
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// What kind of filesystem entry an [`EntryMeta`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A regular file (a hard link is one too).
    File,
    Dir,
    /// A symbolic link; [`EntryMeta::link_target`] holds its (never followed) target.
    Symlink,
    /// Device, fifo or socket.
    Special,
}

/// Metadata of every entry of the walk (files, directories, links, devices), for sinks that judge the
/// filesystem itself (setuid bits, world-writable paths, owners, which tools an image ships) rather than
/// file contents. See [`FileSink::entry`].
#[derive(Debug, Clone, Copy)]
pub struct EntryMeta<'a> {
    /// Path relative to the artifact root, as in [`FileMeta::path`].
    pub path: &'a str,
    pub kind: NodeKind,
    /// Unix mode bits including setuid (`0o4000`), setgid (`0o2000`) and sticky (`0o1000`); 0 when unknown.
    pub mode: u32,
    /// Owner and group ids; `None` when the source does not record them (git trees).
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// Image layer that added this version of the entry; `None` outside images. Whether it survives in the
    /// final filesystem is answered after the walk by [`FileTree::is_live_entry`].
    pub layer: Option<u32>,
    /// Target of a symlink.
    pub link_target: Option<&'a str>,
    /// Size in bytes of a regular file (0 otherwise).
    pub size: u64,
}

impl EntryMeta<'_> {
    /// The last path component.
    pub fn file_name(&self) -> &str {
        file_name(self.path)
    }
}

/// A consumer of the file stream. Implementations must be cheap in [`FileSink::wants`]: it is called for
/// every file of every layer.
pub trait FileSink: Sync {
    /// Decide from metadata alone whether the content is needed.
    fn wants(&self, meta: &FileMeta) -> bool;
    /// Receive the whole content of a wanted file. Called from several threads at once.
    fn accept(&self, meta: &FileMeta, data: &[u8], warnings: &Warnings);
    /// A second, still cheap look at a file [`FileSink::wants`] accepted, before its whole content is read:
    /// a few positioned reads (an ELF header and section table, say) to decide whether the file is worth
    /// reading. Only seekable sources call it (directories); compressed layers are streamed and read anyway.
    /// The default keeps the file.
    fn wants_after_probe(&self, _meta: &FileMeta, _probe: &dyn Probe) -> bool {
        true
    }
    /// Receive a wanted file as lazily read [`Content`]: a sink that needs only a few parts of a large file
    /// (the build-info section of a Go executable) reads them with [`Probe::read_at`], and the file is read
    /// whole only if some sink calls [`Content::whole`]. The default reads it whole and calls
    /// [`FileSink::accept`].
    fn accept_content(&self, meta: &FileMeta, content: &Content, warnings: &Warnings) {
        if let Some(data) = content.whole() {
            self.accept(meta, data, warnings);
        }
    }
    /// For the layer cache ([`Options::layer_cache`]): a string that changes whenever what this sink wants
    /// or makes of a file changes (its configuration: rules, parsers, limits). `None`, the default, means the
    /// sink's results cannot be cached, and image layers are then always read. A sink that uses
    /// [`FileSink::entry`] must export what it keeps of the entries too, or stay uncacheable.
    fn cache_key(&self) -> Option<String> {
        None
    }
    /// For the layer cache: everything this sink holds about the files of image layer `layer`, without the
    /// layer index (the same layer sits at other indexes in other images). Called after the layer was read.
    fn export_layer(&self, _layer: u32) -> Option<serde_json::Value> {
        None
    }
    /// For the layer cache: take back what [`FileSink::export_layer`] gave for a layer with the same content,
    /// now at index `layer`, as if its files had been read.
    fn import_layer(&self, _layer: u32, _value: serde_json::Value) -> Result<(), String> {
        Err("this sink keeps nothing in the layer cache".into())
    }
    /// Called once for every entry of every layer or directory walk (regular files, hard links,
    /// directories, symlinks, devices), in walk order and on the walking thread, before the content of a
    /// wanted file is handed over. It must be cheap: a sink keeps only the few entries it cares about. Git
    /// trees do not call it (they record no owners, no modes beyond the executable bit, no directories). The
    /// default ignores it.
    fn entry(&self, _meta: &EntryMeta) {}
}

/// Positioned reads of a file before it is read whole; see [`FileSink::wants_after_probe`].
pub trait Probe {
    /// Up to `len` bytes at `offset` (fewer at the end of the file); `None` when the read fails.
    fn read_at(&self, offset: u64, len: usize) -> Option<Vec<u8>>;
}

/// [`std::io::Read`] + [`std::io::Seek`] over a [`Probe`], for parsers built on seekable readers (zip
/// archives keep their directory at the end). Wrap it in a `BufReader`: each read is one positioned read.
pub struct ProbeReader<'a> {
    probe: &'a dyn Probe,
    len: u64,
    pos: u64,
}

impl<'a> ProbeReader<'a> {
    /// A reader over the first `len` bytes of `probe` (the file size).
    pub fn new(probe: &'a dyn Probe, len: u64) -> Self {
        ProbeReader { probe, len, pos: 0 }
    }
}

impl std::io::Read for ProbeReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = usize::try_from(self.len.saturating_sub(self.pos)).unwrap_or(usize::MAX).min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let got = self.probe.read_at(self.pos, want).ok_or_else(|| std::io::Error::other("read failed"))?;
        let n = got.len().min(want);
        buf[..n].copy_from_slice(&got[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for ProbeReader<'_> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            std::io::SeekFrom::Start(n) => Some(n),
            std::io::SeekFrom::End(d) => self.len.checked_add_signed(d),
            std::io::SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}

/// The content of one wanted file: positioned reads, and the whole content read at most once, on demand.
pub struct Content<'a> {
    source: ContentSource<'a>,
    whole: std::sync::OnceLock<Option<Vec<u8>>>,
}

enum ContentSource<'a> {
    /// Already in memory (a streamed tar entry, a git blob).
    Bytes(&'a [u8]),
    /// An open file and a function that reads it whole (with limits and warnings), called at most once.
    Lazy { probe: &'a dyn Probe, read: &'a (dyn Fn() -> Option<Vec<u8>> + Sync) },
}

impl<'a> Content<'a> {
    /// Content already in memory.
    pub fn bytes(data: &'a [u8]) -> Self {
        Content { source: ContentSource::Bytes(data), whole: std::sync::OnceLock::new() }
    }

    /// Content of a file that can be probed and read on demand; `read` reports its own failures.
    pub fn lazy(probe: &'a dyn Probe, read: &'a (dyn Fn() -> Option<Vec<u8>> + Sync)) -> Self {
        Content { source: ContentSource::Lazy { probe, read }, whole: std::sync::OnceLock::new() }
    }

    /// The whole content; `None` when it could not be read (a warning says why).
    pub fn whole(&self) -> Option<&[u8]> {
        match &self.source {
            ContentSource::Bytes(d) => Some(d),
            ContentSource::Lazy { read, .. } => self.whole.get_or_init(read).as_deref(),
        }
    }
}

impl Probe for Content<'_> {
    fn read_at(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        match &self.source {
            ContentSource::Bytes(d) => {
                let start = usize::try_from(offset).ok()?.min(d.len());
                Some(d[start..start.saturating_add(len).min(d.len())].to_vec())
            }
            ContentSource::Lazy { probe, .. } => match self.whole.get() {
                Some(Some(d)) => Content::bytes(d).read_at(offset, len),
                _ => probe.read_at(offset, len),
            },
        }
    }
}

/// Several sinks as one: a file is wanted when any sink wants it, and its content goes to each sink that
/// wants it.
pub struct Fanout<'a>(pub Vec<&'a dyn FileSink>);

impl FileSink for Fanout<'_> {
    fn wants(&self, meta: &FileMeta) -> bool {
        self.0.iter().any(|s| s.wants(meta))
    }

    fn accept(&self, meta: &FileMeta, data: &[u8], warnings: &Warnings) {
        for s in &self.0 {
            if s.wants(meta) {
                s.accept(meta, data, warnings);
            }
        }
    }

    fn wants_after_probe(&self, meta: &FileMeta, probe: &dyn Probe) -> bool {
        self.0.iter().any(|s| s.wants(meta) && s.wants_after_probe(meta, probe))
    }

    fn accept_content(&self, meta: &FileMeta, content: &Content, warnings: &Warnings) {
        for s in &self.0 {
            if s.wants(meta) {
                s.accept_content(meta, content, warnings);
            }
        }
    }

    /// Cacheable only when every sink is; the keys in order.
    fn cache_key(&self) -> Option<String> {
        let keys = self.0.iter().map(|s| s.cache_key()).collect::<Option<Vec<_>>>()?;
        Some(keys.join("\n--\n"))
    }

    fn export_layer(&self, layer: u32) -> Option<serde_json::Value> {
        self.0.iter().map(|s| s.export_layer(layer)).collect::<Option<Vec<_>>>().map(serde_json::Value::Array)
    }

    fn import_layer(&self, layer: u32, value: serde_json::Value) -> Result<(), String> {
        let serde_json::Value::Array(parts) = value else { return Err("not one part per sink".into()) };
        if parts.len() != self.0.len() {
            return Err(format!("{} parts for {} sinks", parts.len(), self.0.len()));
        }
        for (s, v) in self.0.iter().zip(parts) {
            s.import_layer(layer, v)?;
        }
        Ok(())
    }

    fn entry(&self, meta: &EntryMeta) {
        for s in &self.0 {
            s.entry(meta);
        }
    }
}

/// What to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A directory; `kind` is [`ArtifactKind::Rootfs`] or [`ArtifactKind::Fs`].
    Dir { path: PathBuf, kind: ArtifactKind },
    /// A local git repository: the committed tree of HEAD.
    Repo { path: PathBuf },
    /// A docker-archive tar, an OCI layout directory or an oci-archive tar (auto-detected).
    ImageArchive { path: PathBuf },
    /// An image reference pulled from a registry, e.g. `docker.io/library/alpine:3.19`, whatever
    /// [`Options::image_sources`] says.
    Registry { reference: String },
    /// An image by name, from the first of [`Options::image_sources`] that has it: local engines, then the
    /// registry (`palisade scan image NAME`).
    Image { reference: String },
}

impl Target {
    /// What the user named, for messages and [`ArtifactInfo::name`].
    pub fn name(&self) -> String {
        match self {
            Target::Dir { path, .. } | Target::Repo { path } | Target::ImageArchive { path } => {
                path.display().to_string()
            }
            Target::Registry { reference } | Target::Image { reference } => reference.clone(),
        }
    }
}

/// Resource limits that protect the scanner from hostile or accidental huge input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Files larger than this are not read (a warning is recorded when a sink wanted one).
    pub max_file_size: u64,
    /// Uncompressed bytes per layer; past it the layer is abandoned with a warning.
    pub max_layer_bytes: u64,
    /// Tar entries per layer; past it the layer is abandoned with a warning.
    pub max_entries: u64,
    /// Work bound per layer: at most `ratio_floor + max_ratio ×` (compressed bytes read) uncompressed
    /// bytes; past it the layer is abandoned with a warning (a decompression bomb).
    pub max_ratio: u64,
    /// See `max_ratio`: uncompressed bytes always allowed per layer, so that long runs of zeros in real
    /// files (a sparse `/var/log/lastlog` of hundreds of MB) are not mistaken for bombs.
    pub ratio_floor: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 256 << 20,
            max_layer_bytes: 32 << 30,
            max_entries: 5_000_000,
            max_ratio: 1000,
            ratio_floor: 4 << 30,
        }
    }
}

/// How to scan. The default is `linux/amd64`, TLS only, default [`Limits`], no progress, images by name
/// looked up in every source in [`ImageSource::DEFAULT_ORDER`] with engines found from the environment.
#[derive(Debug, Clone)]
pub struct Options {
    /// Image platform `os/arch[/variant]`; `None` means `linux/amd64` (or the only one an image has).
    pub platform: Option<String>,
    /// Allow plain HTTP to the registry (for `localhost` registries).
    pub insecure: bool,
    pub limits: Limits,
    /// Directory targets: leave out what `.gitignore` files (and `.git/info/exclude`) ignore, and `.git`.
    pub gitignore: bool,
    /// `--skip-dirs` / `--skip-files`: paths no sink sees (directories are not even entered).
    pub skip: Option<Arc<SkipFilter>>,
    /// Live counters for the CLI.
    pub progress: Option<Arc<Progress>>,
    /// [`Target::Image`]: where to look for the image, in order (`--image-src`); empty means
    /// [`ImageSource::DEFAULT_ORDER`].
    pub image_sources: Vec<ImageSource>,
    /// [`Target::Image`]: where the local engines are (unset fields come from the environment).
    pub engines: Engines,
    /// Images: keep what the sinks made of each layer, and reuse it for layers seen before (module `cache`).
    pub layer_cache: Option<LayerCache>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            platform: None,
            insecure: false,
            limits: Limits::default(),
            gitignore: false,
            skip: None,
            progress: None,
            image_sources: ImageSource::DEFAULT_ORDER.to_vec(),
            engines: Engines::default(),
            layer_cache: None,
        }
    }
}

impl Options {
    pub(crate) fn bump(&self, which: fn(&Progress) -> &AtomicU64, n: u64) {
        if let Some(p) = &self.progress {
            Progress::add(which(p), n);
        }
    }

    pub(crate) fn stage(&self, s: impl Into<String>) {
        if let Some(p) = &self.progress {
            p.set_stage(s);
        }
    }
}

/// The result of a scan besides what the sinks received.
#[derive(Debug)]
pub struct Scanned {
    pub info: ArtifactInfo,
    pub tree: FileTree,
    pub warnings: Vec<Warning>,
}

/// Stream every file of `target` to `sink`. Fails only when the target cannot be opened at all; problems
/// with parts of it are returned as [`Scanned::warnings`].
pub fn scan(target: &Target, opts: &Options, sink: &dyn FileSink) -> Result<Scanned, ArtifactError> {
    let warnings = Warnings::new();
    let skipping;
    let sink: &dyn FileSink = match &opts.skip {
        Some(filter) => {
            skipping = skip::Skipping { filter, inner: sink };
            &skipping
        }
        None => sink,
    };
    let (info, tree) = match target {
        Target::Dir { path, kind } => dir::scan_dir(path, *kind, opts, sink, &warnings)?,
        Target::Repo { path } => repo::scan_repo(path, opts, sink, &warnings)?,
        Target::ImageArchive { path } => image::scan_archive(path, opts, sink, &warnings)?,
        Target::Registry { reference } => registry::scan_registry(reference, opts, sink, &warnings)?,
        Target::Image { reference } => engines::scan_image(reference, opts, sink, &warnings)?,
    };
    Ok(Scanned { info, tree, warnings: warnings.into_vec() })
}

/// Source tag used on every warning this crate produces.
pub(crate) const SOURCE: &str = "artifact";

pub(crate) fn warn(warnings: &Warnings, path: Option<&str>, layer: Option<u32>, msg: impl Into<String>) {
    let mut w = Warning::new(SOURCE, msg);
    if let Some(p) = path {
        w = w.at(p, layer);
    } else {
        w.layer = layer;
    }
    tracing::debug!("{w}");
    warnings.push(w);
}

#[cfg(test)]
pub(crate) mod testutil {
    //! A recording sink shared by the unit tests.
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    /// Wants files whose name matches one of `names` (or all files when empty) and records their content.
    type Got = BTreeMap<(String, Option<u32>), Vec<u8>>;

    /// An entry as [`FileSink::entry`] saw it: path, kind, mode, uid, gid, layer.
    pub type Node = (String, NodeKind, u32, Option<u32>, Option<u32>, Option<u32>);

    #[derive(Default)]
    pub struct Recorder {
        pub names: Vec<&'static str>,
        pub got: Mutex<Got>,
        pub nodes: Mutex<Vec<Node>>,
    }

    impl Recorder {
        pub fn all() -> Self {
            Recorder::default()
        }
        pub fn content(&self, path: &str, layer: Option<u32>) -> Option<Vec<u8>> {
            self.got.lock().ok()?.get(&(path.to_string(), layer)).cloned()
        }
        pub fn paths(&self) -> Vec<String> {
            self.got.lock().map(|g| g.keys().map(|(p, _)| p.clone()).collect()).unwrap_or_default()
        }
    }

    impl FileSink for Recorder {
        fn wants(&self, meta: &FileMeta) -> bool {
            self.names.is_empty() || self.names.contains(&meta.file_name())
        }
        fn accept(&self, meta: &FileMeta, data: &[u8], _w: &Warnings) {
            if let Ok(mut g) = self.got.lock() {
                g.insert((meta.path.to_string(), meta.layer), data.to_vec());
            }
        }
        fn entry(&self, m: &EntryMeta) {
            if let Ok(mut n) = self.nodes.lock() {
                n.push((m.path.to_string(), m.kind, m.mode, m.uid, m.gid, m.layer));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testutil::Recorder;

    #[test]
    fn fanout_routes_to_wanting_sinks_only() {
        let a = Recorder { names: vec!["a.txt"], ..Default::default() };
        let b = Recorder { names: vec!["b.txt"], ..Default::default() };
        let f = Fanout(vec![&a, &b]);
        let w = Warnings::new();
        let meta = FileMeta { path: "x/a.txt", size: 1, mode: 0o644, layer: None };
        assert!(f.wants(&meta));
        f.accept(&meta, b"A", &w);
        assert_eq!(a.content("x/a.txt", None), Some(b"A".to_vec()));
        assert_eq!(b.content("x/a.txt", None), None);
        let other = FileMeta { path: "c.txt", ..meta };
        assert!(!f.wants(&other));
    }

    #[test]
    fn limits_defaults() {
        let l = Limits::default();
        assert_eq!(l.max_file_size, 256 * 1024 * 1024);
        assert_eq!(l.max_layer_bytes, 32 * 1024 * 1024 * 1024);
        assert_eq!(l.max_entries, 5_000_000);
        assert_eq!(l.max_ratio, 1000);
    }
}
