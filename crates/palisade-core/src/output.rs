//! Writing a file the user named without damaging the machine.
//!
//! Palisade runs as root in CI containers, where an output path may be `/dev/null`, a FIFO another process
//! reads, a symlink someone planted in a shared directory, or a report another job reads at that moment.
//! What happens is decided by what is at the path when it is opened (`lstat`, no link following):
//!
//! | at the path | what happens |
//! |---|---|
//! | nothing, or a regular file | written to a new file with a random name, created with `O_EXCL` in the same directory, then renamed over the path once complete: readers see the old or the new file, never half of one. An existing file keeps its permission bits (and owner, where we may set it). |
//! | a character device (`/dev/null`, a terminal) or a FIFO | written in place; never replaced, never truncated |
//! | a symlink | followed only to a character device or FIFO (`/dev/stdout` → `/proc/self/fd/1` → a pipe); a symlink to anything else is refused, because writing through it or renaming over it is how a planted link turns a report into an overwrite of another file |
//! | a block device, directory or socket | refused |
//! | `-` | standard output |
//!
//! [`Replacement`] is the building block for files written by path (the SQLite vulnerability database): the
//! same checks, a temporary file to fill, then [`Replacement::commit`].

use std::fs::{File, Metadata, OpenOptions, Permissions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why an output path could not be written. Displays as `PATH: what is wrong`.
#[derive(Debug)]
pub struct OutputError {
    pub path: PathBuf,
    pub message: String,
}

impl OutputError {
    fn new(path: &Path, message: impl Into<String>) -> Self {
        OutputError { path: path.to_path_buf(), message: message.into() }
    }

    fn io(path: &Path, what: &str, e: &io::Error) -> Self {
        OutputError::new(path, format!("{what}: {e}"))
    }
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for OutputError {}

/// What is at an output path, by `lstat`.
enum Existing {
    Nothing,
    Regular(Metadata),
    /// A character device or FIFO, possibly behind symlinks: written in place.
    Stream,
}

fn kind_name(ft: &std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

fn is_stream(ft: &std::fs::FileType) -> bool {
    ft.is_char_device() || ft.is_fifo()
}

fn inspect(path: &Path) -> Result<Existing, OutputError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Existing::Nothing),
        Err(e) => return Err(OutputError::io(path, "cannot inspect", &e)),
    };
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok(Existing::Regular(meta));
    }
    if is_stream(&ft) {
        return Ok(Existing::Stream);
    }
    if ft.is_symlink() {
        return match std::fs::metadata(path) {
            Ok(target) if is_stream(&target.file_type()) => Ok(Existing::Stream),
            Ok(target) => Err(OutputError::new(
                path,
                format!(
                    "is a symbolic link to {}; refusing to write through or replace it (name the real path)",
                    kind_name(&target.file_type())
                ),
            )),
            Err(_) => Err(OutputError::new(
                path,
                "is a dangling symbolic link; refusing to write through or replace it (remove it or name another path)",
            )),
        };
    }
    Err(OutputError::new(path, format!("is {}; refusing to write a report onto it", kind_name(&ft))))
}

/// A new file beside `target` that replaces it on [`Replacement::commit`]. Dropped without a commit, the
/// temporary file is removed and the target left as it was.
pub struct Replacement {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl Replacement {
    /// Prepare to replace `target`, which must be absent or a regular file (not a symlink, device, FIFO or
    /// directory). The temporary file gets the target's permission bits and owner (where allowed), or
    /// `0666` less the umask for a new file.
    pub fn new(target: &Path) -> Result<Replacement, OutputError> {
        match inspect(target)? {
            Existing::Nothing => Replacement::create(target, None),
            Existing::Regular(meta) => Replacement::create(target, Some(meta)),
            Existing::Stream => Err(OutputError::new(
                target,
                "is a device or FIFO; a file is needed here, refusing to replace it",
            )),
        }
    }

    fn create(target: &Path, existing: Option<Metadata>) -> Result<Replacement, OutputError> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if target.file_name().is_none() {
            return Err(OutputError::new(target, "names no file"));
        }
        let mode = existing.as_ref().map(|m| m.mode() & 0o7777).unwrap_or(0o666);
        // Random name, O_CREAT|O_EXCL: a link planted at a predictable name cannot redirect the write.
        let tmp = tempfile::Builder::new()
            .prefix(".palisade-")
            .suffix(".tmp")
            .permissions(Permissions::from_mode(mode))
            .tempfile_in(dir)
            .map_err(|e| {
                OutputError::io(target, &format!("cannot create a temporary file in {}", dir.display()), &e)
            })?;
        if let Some(meta) = existing {
            // Owner first: chown may clear set-id bits, which the chmod then restores.
            // Only root may give a file away; for anyone else this is a no-op or fails harmlessly.
            let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
            tmp.as_file()
                .set_permissions(Permissions::from_mode(mode))
                .map_err(|e| OutputError::io(target, "cannot set permissions of the temporary file", &e))?;
        }
        Ok(Replacement { tmp, target: target.to_path_buf() })
    }

    /// Path of the temporary file, for writers that need a path (SQLite).
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// The temporary file, open for writing.
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Flush to disk and rename over the target.
    pub fn commit(self) -> Result<(), OutputError> {
        let target = self.target;
        self.tmp.as_file().sync_all().map_err(|e| OutputError::io(&target, "cannot sync", &e))?;
        // rename(2) replaces the directory entry itself: a symlink swapped in meanwhile is replaced, never
        // followed.
        self.tmp
            .persist(&target)
            .map_err(|e| OutputError::io(&target, "cannot rename into place", &e.error))?;
        Ok(())
    }
}

enum Sink {
    Stdout(io::StdoutLock<'static>),
    Direct(File),
    Replace(Replacement),
}

/// A report destination: standard output, a device or FIFO written in place, or a file replaced atomically
/// (see the module docs). Buffered; call [`OutputFile::finish`] to complete it — dropped without it, a
/// replaced file is left untouched.
pub struct OutputFile {
    w: BufWriter<SinkWriter>,
    path: PathBuf,
    terminal: bool,
}

struct SinkWriter(Sink);

impl Write for SinkWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Sink::Stdout(s) => s.write(buf),
            Sink::Direct(f) => f.write(buf),
            Sink::Replace(r) => r.file().write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Sink::Stdout(s) => s.flush(),
            Sink::Direct(f) => f.flush(),
            Sink::Replace(r) => r.file().flush(),
        }
    }
}

impl OutputFile {
    /// Standard output.
    pub fn stdout() -> OutputFile {
        let terminal = io::stdout().is_terminal();
        OutputFile::with(Sink::Stdout(io::stdout().lock()), PathBuf::from("-"), terminal)
    }

    /// Open `path` for a report (`-` is standard output); see the module docs for what each kind of file
    /// gets.
    pub fn create(path: &Path) -> Result<OutputFile, OutputError> {
        if path.as_os_str() == "-" {
            return Ok(OutputFile::stdout());
        }
        match inspect(path)? {
            Existing::Nothing => {
                Ok(OutputFile::with(Sink::Replace(Replacement::create(path, None)?), path.into(), false))
            }
            Existing::Regular(meta) => Ok(OutputFile::with(
                Sink::Replace(Replacement::create(path, Some(meta))?),
                path.into(),
                false,
            )),
            Existing::Stream => {
                // Opened without O_CREAT or O_TRUNC, so nothing is created or emptied; what was opened is
                // checked again through the descriptor, in case the path changed since it was inspected.
                let file = OpenOptions::new()
                    .write(true)
                    .custom_flags(libc::O_NOCTTY)
                    .open(path)
                    .map_err(|e| OutputError::io(path, "cannot open", &e))?;
                let ft =
                    file.metadata().map_err(|e| OutputError::io(path, "cannot inspect", &e))?.file_type();
                if !is_stream(&ft) {
                    return Err(OutputError::new(
                        path,
                        format!("changed to {} while being opened; refusing to write", kind_name(&ft)),
                    ));
                }
                let terminal = file.is_terminal();
                Ok(OutputFile::with(Sink::Direct(file), path.into(), terminal))
            }
        }
    }

    /// Check, without creating or opening anything, that [`OutputFile::create`] can be expected to succeed:
    /// what is at `path` is acceptable and its directory exists. For failing fast before a long scan.
    pub fn check(path: &Path) -> Result<(), OutputError> {
        if path.as_os_str() == "-" {
            return Ok(());
        }
        match inspect(path)? {
            Existing::Stream => Ok(()),
            Existing::Nothing | Existing::Regular(_) => {
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                match std::fs::metadata(dir) {
                    Ok(m) if m.is_dir() => Ok(()),
                    Ok(_) => Err(OutputError::new(path, format!("{} is not a directory", dir.display()))),
                    Err(e) => Err(OutputError::io(path, &format!("directory {}", dir.display()), &e)),
                }
            }
        }
    }

    fn with(sink: Sink, path: PathBuf, terminal: bool) -> OutputFile {
        OutputFile { w: BufWriter::with_capacity(64 * 1024, SinkWriter(sink)), path, terminal }
    }

    /// True when the destination is a terminal (colour and width make sense).
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// The path as the user gave it (`-` for standard output).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flush everything; a replaced file is synced and renamed into place.
    pub fn finish(self) -> Result<(), OutputError> {
        let path = self.path;
        let SinkWriter(sink) =
            self.w.into_inner().map_err(|e| OutputError::io(&path, "cannot write", e.error()))?;
        match sink {
            Sink::Stdout(mut s) => s.flush().map_err(|e| OutputError::io(&path, "cannot write", &e)),
            Sink::Direct(mut f) => f.flush().map_err(|e| OutputError::io(&path, "cannot write", &e)),
            Sink::Replace(r) => r.commit(),
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.w.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn write_all(path: &Path, text: &str) -> Result<(), OutputError> {
        let mut o = OutputFile::create(path)?;
        o.write_all(text.as_bytes()).unwrap();
        o.finish()
    }

    #[test]
    fn new_and_existing_regular_files_are_replaced_whole_keeping_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.json");
        write_all(&p, "one").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "one");
        std::fs::set_permissions(&p, Permissions::from_mode(0o640)).unwrap();
        write_all(&p, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o7777, 0o640);
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn unfinished_output_leaves_the_old_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.json");
        std::fs::write(&p, "old").unwrap();
        let mut o = OutputFile::create(&p).unwrap();
        o.write_all(b"half").unwrap();
        drop(o);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn symlink_to_a_regular_file_is_refused_and_the_file_untouched() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let link = d.path().join("out.json");
        symlink(&victim, &link).unwrap();
        let e = write_all(&link, "report").unwrap_err();
        assert!(e.to_string().contains("symbolic link to a regular file"), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        let dangling = d.path().join("dangling");
        symlink(d.path().join("nowhere"), &dangling).unwrap();
        assert!(write_all(&dangling, "x").unwrap_err().to_string().contains("dangling"));
        assert!(!d.path().join("nowhere").exists());
    }

    #[test]
    fn fifo_is_written_in_place() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe");
        let st = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(st.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        write_all(&fifo, "through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), "through the pipe");
        assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        // Through a symlink too (the /dev/stdout case).
        let link = d.path().join("link");
        symlink(&fifo, &link).unwrap();
        let reader = std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap());
        write_all(&link, "via link").unwrap();
        assert_eq!(reader.join().unwrap(), "via link");
    }

    #[test]
    fn dev_null_stays_a_character_device() {
        write_all(Path::new("/dev/null"), "discarded").unwrap();
        assert!(std::fs::symlink_metadata("/dev/null").unwrap().file_type().is_char_device());
    }

    #[test]
    fn check_fails_fast_without_creating_anything() {
        let d = tempfile::tempdir().unwrap();
        OutputFile::check(&d.path().join("new.json")).unwrap();
        OutputFile::check(Path::new("/dev/null")).unwrap();
        let e = OutputFile::check(&d.path().join("missing/new.json")).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn directories_and_replacements_of_streams_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let e = write_all(d.path(), "x").unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let e = Replacement::new(Path::new("/dev/null")).err().unwrap();
        assert!(e.to_string().contains("device or FIFO"), "{e}");
        assert!(std::fs::symlink_metadata("/dev/null").unwrap().file_type().is_char_device());
    }
}
