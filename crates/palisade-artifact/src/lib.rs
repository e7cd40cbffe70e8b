//! Artifact readers: every target kind becomes a stream of files with layer provenance.
//!
//! A consumer (the inventory, the secret scanner, the config checks) implements [`FileSink`]. The reader
//! calls [`FileSink::wants`] with each file's metadata and only reads, decompresses into memory, and passes
//! the content of wanted files to [`FileSink::accept`]. Nothing else is kept, so memory does not grow with
//! the size of the artifact. After the walk, [`FileTree`] says which (path, layer) versions survive in the
//! final filesystem, so consumers can drop results for files a later layer deleted or replaced — or report
//! them, as the secret scanner does.

use palisade_core::Warnings;

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
        self.path.rsplit('/').next().unwrap_or(self.path)
    }
}

/// A consumer of the file stream. Implementations must be cheap in [`FileSink::wants`]: it is called for
/// every file of every layer.
pub trait FileSink: Sync {
    /// Decide from metadata alone whether the content is needed.
    fn wants(&self, meta: &FileMeta) -> bool;
    /// Receive the whole content of a wanted file. Called from several threads at once.
    fn accept(&self, meta: &FileMeta, data: &[u8], warnings: &Warnings);
}
