//! Directory and root filesystem walker.
//!
//! - Symlinks are never followed (the root itself may be a link the user named); each one is recorded in
//!   the [`FileTree`] with its target, so nothing outside the root is ever read.
//! - Devices, fifos and sockets are skipped.
//! - Unreadable directories and files become warnings; wanted files over `max_file_size` are not read whole
//!   (a warning says so), though a sink may still probe them with positioned reads.
//! - A file is opened, then its device and inode are compared with what the walk saw, so a file swapped for a
//!   link between the two steps (on a live system) is skipped rather than read through the link.
//! - Mounts of pseudo filesystems (`proc`, `sysfs`, `devtmpfs`, cgroups, ...) found under the root in
//!   `/proc/self/mountinfo` are skipped; when the root is `/`, `/proc`, `/sys` and `/dev` are always skipped.
//!   Other filesystems (separate `/home`, `/var`, network mounts) ARE walked, as Trivy does: a root filesystem
//!   is commonly split over several partitions and skipping them would hide packages. Use a narrower
//!   target to avoid a large mount.
//! - With [`Options::gitignore`], `.gitignore` files (each applying to its directory and below, later and
//!   deeper patterns winning, `!` re-including) and `.git/info/exclude` are honoured and `.git` is skipped:
//!   ignored directories are not entered. A `.gitignore` that is a symlink is not read.
//! - Wanted files are read with `std::fs` (no memory maps: a live file may shrink under a map, and reads are
//!   bounded by `max_file_size`), in parallel with rayon, in batches so memory stays bounded.

use crate::tree::FileTree;
use crate::{ArtifactError, Content, EntryMeta, FileMeta, FileSink, NodeKind, Options, warn};
use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use palisade_core::{ArtifactInfo, ArtifactKind, Warnings};
use rayon::prelude::*;
use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Filesystem types that hold no files of the scanned system.
const PSEUDO_FS: &[&str] = &[
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "configfs",
    "fusectl",
    "mqueue",
    "hugetlbfs",
    "pstore",
    "bpf",
    "binfmt_misc",
    "autofs",
    "rpc_pipefs",
    "nsfs",
    "efivarfs",
    "selinuxfs",
];

/// Files read per parallel batch.
const BATCH: usize = 256;
/// Batches queued on the pool before the walker reads one itself.
const IN_FLIGHT: usize = 8;

/// Scan a directory target.
pub(crate) fn scan_dir(
    root: &Path,
    kind: ArtifactKind,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> Result<(ArtifactInfo, FileTree), ArtifactError> {
    opts.stage(format!("reading {}", root.display()));
    let tree = walk(root, opts, sink, warnings, false)?;
    Ok((ArtifactInfo::new(kind, root.display().to_string()), tree))
}

struct Job {
    abs: PathBuf,
    rel: String,
    size: u64,
    mode: u32,
    dev: u64,
    ino: u64,
}

/// Walk `root`, streaming wanted files to `sink`. `skip_git` leaves out `.git` directories.
pub(crate) fn walk(
    root: &Path,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
    skip_git: bool,
) -> Result<FileTree, ArtifactError> {
    let target = root.display().to_string();
    let md = fs::metadata(root).map_err(|e| ArtifactError::io(&target, &e))?;
    if !md.is_dir() {
        return Err(ArtifactError::Unreadable { target, reason: "not a directory".into() });
    }
    let canon = fs::canonicalize(root).map_err(|e| ArtifactError::io(&target, &e))?;
    let skip = pseudo_mounts(&canon);
    let mut files = 0usize;
    let mut symlinks = Vec::new();
    let mut batch = Vec::new();
    let mut root_ignores = Vec::new();
    if opts.gitignore {
        root_ignores.extend(ignore_file(&root.join(".git/info/exclude"), root, "", warnings));
    }
    let mut stack: Vec<(PathBuf, String, Ignores)> =
        vec![(root.to_path_buf(), String::new(), Arc::new(root_ignores))];
    // Batches are read and handed to the sink on the thread pool while this thread goes on listing
    // directories; the scope ends when every batch is done. At most `IN_FLIGHT` batches wait: beyond that
    // the walker reads the batch itself, so a huge tree never queues all its paths.
    let in_flight = AtomicUsize::new(0);
    let in_flight = &in_flight;
    rayon::scope(|scope| {
        while let Some((abs, rel, mut ignores)) = stack.pop() {
            if opts.gitignore
                && let Some(gi) = ignore_file(&abs.join(".gitignore"), &abs, &rel, warnings)
            {
                let mut v = ignores.as_ref().clone();
                v.push(gi);
                ignores = Arc::new(v);
            }
            let children = list_dir(&abs, &rel, warnings);
            // Reverse so that the stack pops subdirectories in name order.
            for ent in children.into_iter().rev() {
                let name = ent.file_name();
                let name = name.to_string_lossy();
                let child_rel = if rel.is_empty() { name.to_string() } else { format!("{rel}/{name}") };
                let child_abs = ent.path();
                // `DirEntry::metadata` is `fstatat` relative to the open directory and does not follow
                // links: no path walk from the root for every entry (a third of the kernel time on `/`).
                let md = match ent.metadata() {
                    Ok(m) => m,
                    Err(e) => {
                        warn(warnings, Some(&child_rel), None, format!("cannot stat: {e}"));
                        continue;
                    }
                };
                let ft = md.file_type();
                if opts.gitignore && (name == ".git" || is_ignored(&ignores, &child_abs, ft.is_dir())) {
                    tracing::trace!("{child_rel}: ignored by .gitignore");
                    continue;
                }
                let node = EntryMeta {
                    path: &child_rel,
                    kind: NodeKind::File,
                    mode: md.mode() & 0o7777,
                    uid: Some(md.uid()),
                    gid: Some(md.gid()),
                    layer: None,
                    link_target: None,
                    size: 0,
                };
                if ft.is_symlink() {
                    let t = fs::read_link(&child_abs)
                        .map(|t| t.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    tracing::trace!("{child_rel}: symlink to {t}, not followed");
                    sink.entry(&EntryMeta { kind: NodeKind::Symlink, link_target: Some(&t), ..node });
                    symlinks.push((child_rel, t));
                } else if ft.is_dir() {
                    if skip_git && name == ".git" {
                        continue;
                    }
                    if skip.contains(&canon.join(&child_rel)) {
                        tracing::debug!("{child_rel}: pseudo filesystem mount, skipped");
                        continue;
                    }
                    if opts.skip.as_ref().is_some_and(|s| s.skips_dir(&child_rel)) {
                        tracing::debug!("{child_rel}: left out by --skip-dirs");
                        continue;
                    }
                    sink.entry(&EntryMeta { kind: NodeKind::Dir, ..node });
                    stack.push((child_abs, child_rel, ignores.clone()));
                } else if ft.is_file() {
                    files += 1;
                    opts.bump(|p| &p.files_seen, 1);
                    sink.entry(&EntryMeta { size: md.len(), ..node });
                    let mode = md.mode() & 0o7777;
                    let meta = FileMeta { path: &child_rel, size: md.len(), mode, layer: None };
                    if !sink.wants(&meta) {
                        continue;
                    }
                    // Over `max_file_size` is refused only if a sink asks for the whole content: a probe
                    // (an executable's build-info section, a jar's directory) needs a few KiB of it.
                    batch.push(Job {
                        abs: child_abs,
                        rel: child_rel,
                        size: md.len(),
                        mode,
                        dev: md.dev(),
                        ino: md.ino(),
                    });
                    if batch.len() >= BATCH {
                        dispatch(scope, in_flight, std::mem::take(&mut batch), opts, sink, warnings);
                    }
                } else {
                    sink.entry(&EntryMeta { kind: NodeKind::Special, ..node });
                    tracing::trace!("{child_rel}: special file skipped");
                }
            }
        }
        read_batch(std::mem::take(&mut batch), opts, sink, warnings);
    });
    Ok(FileTree::flat(files, symlinks))
}

/// The entries of a directory in name order; unreadable directories and entries become warnings.
fn list_dir(abs: &Path, rel: &str, warnings: &Warnings) -> Vec<fs::DirEntry> {
    let shown = if rel.is_empty() { "." } else { rel };
    let rd = match fs::read_dir(abs) {
        Ok(rd) => rd,
        Err(e) => {
            warn(warnings, Some(shown), None, format!("cannot list directory: {e}"));
            return Vec::new();
        }
    };
    let mut children = Vec::new();
    for ent in rd {
        match ent {
            Ok(e) => children.push(e),
            Err(e) => warn(warnings, Some(shown), None, format!("cannot list directory: {e}")),
        }
    }
    children.sort_by_key(|e| e.file_name());
    children
}

/// Hand a full batch to the pool, or read it on this thread when `IN_FLIGHT` batches already wait.
fn dispatch<'s>(
    scope: &rayon::Scope<'s>,
    in_flight: &'s AtomicUsize,
    batch: Vec<Job>,
    opts: &'s Options,
    sink: &'s dyn FileSink,
    warnings: &'s Warnings,
) {
    if in_flight.load(Ordering::Acquire) >= IN_FLIGHT {
        read_batch(batch, opts, sink, warnings);
        return;
    }
    in_flight.fetch_add(1, Ordering::AcqRel);
    scope.spawn(move |_| {
        read_batch(batch, opts, sink, warnings);
        in_flight.fetch_sub(1, Ordering::AcqRel);
    });
}

/// The ignore files in force for a directory, outermost first.
type Ignores = Arc<Vec<Arc<Gitignore>>>;

/// Parse the ignore file `path` (rooted at `dir`) when it is a regular file; problems become warnings.
fn ignore_file(path: &Path, dir: &Path, rel: &str, warnings: &Warnings) -> Option<Arc<Gitignore>> {
    let md = fs::symlink_metadata(path).ok()?;
    if !md.is_file() {
        return None;
    }
    let mut b = GitignoreBuilder::new(dir);
    let shown = path.strip_prefix(dir).map_or(path, |p| p);
    let shown =
        if rel.is_empty() { shown.display().to_string() } else { format!("{rel}/{}", shown.display()) };
    if let Some(e) = b.add(path) {
        warn(warnings, Some(&shown), None, format!("ignore file: {e}"));
    }
    match b.build() {
        Ok(gi) => Some(Arc::new(gi)),
        Err(e) => {
            warn(warnings, Some(&shown), None, format!("ignore file: {e}"));
            None
        }
    }
}

/// The innermost ignore file with a verdict on `path` decides (`!pattern` re-includes).
fn is_ignored(ignores: &[Arc<Gitignore>], path: &Path, is_dir: bool) -> bool {
    for gi in ignores.iter().rev() {
        match gi.matched(path, is_dir) {
            Match::Ignore(_) => return true,
            Match::Whitelist(_) => return false,
            Match::None => {}
        }
    }
    false
}

fn read_batch(batch: Vec<Job>, opts: &Options, sink: &dyn FileSink, warnings: &Warnings) {
    batch.par_iter().for_each(|job| read_one(job, opts, sink, warnings));
}

fn read_one(job: &Job, opts: &Options, sink: &dyn FileSink, warnings: &Warnings) {
    let f = match fs::File::open(&job.abs) {
        Ok(f) => f,
        Err(e) => {
            warn(warnings, Some(&job.rel), None, format!("cannot open: {e}"));
            return;
        }
    };
    match f.metadata() {
        Ok(m) if m.dev() == job.dev && m.ino() == job.ino && m.is_file() => {}
        Ok(_) => {
            warn(warnings, Some(&job.rel), None, "file was replaced while scanning; skipped");
            return;
        }
        Err(e) => {
            warn(warnings, Some(&job.rel), None, format!("cannot stat open file: {e}"));
            return;
        }
    }
    let meta = FileMeta { path: &job.rel, size: job.size, mode: job.mode, layer: None };
    let probe = FileProbe(&f);
    if !sink.wants_after_probe(&meta, &probe) {
        return;
    }
    let read_whole = || -> Option<Vec<u8>> {
        let max = opts.limits.max_file_size;
        if job.size > max {
            let msg =
                format!("file is {} bytes, over the {max} byte limit (max_file_size); not read", job.size);
            warn(warnings, Some(&job.rel), None, msg);
            return None;
        }
        if let Err(why) = palisade_core::memory::admit(job.size) {
            warn(warnings, Some(&job.rel), None, why);
            return None;
        }
        let mut data = Vec::with_capacity(usize::try_from(job.size.min(max)).unwrap_or(0));
        if let Err(e) = (&f).take(max.saturating_add(1)).read_to_end(&mut data) {
            warn(warnings, Some(&job.rel), None, format!("cannot read: {e}"));
            return None;
        }
        if data.len() as u64 > max {
            warn(
                warnings,
                Some(&job.rel),
                None,
                format!("file grew over the {max} byte limit while reading; not read"),
            );
            return None;
        }
        opts.bump(|p| &p.bytes_read, data.len() as u64);
        Some(data)
    };
    let content = Content::lazy(&probe, &read_whole);
    sink.accept_content(&meta, &content, warnings);
}

/// Positioned reads (`pread`) of an open file, for [`FileSink::wants_after_probe`].
struct FileProbe<'a>(&'a fs::File);

impl crate::Probe for FileProbe<'_> {
    fn read_at(&self, offset: u64, len: usize) -> Option<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0; len];
        let mut filled = 0;
        while filled < len {
            match self.0.read_at(&mut buf[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return None,
            }
        }
        buf.truncate(filled);
        Some(buf)
    }
}

/// Absolute mount points of pseudo filesystems strictly under `canon_root`.
fn pseudo_mounts(canon_root: &Path) -> HashSet<PathBuf> {
    let mut out = HashSet::new();
    if canon_root == Path::new("/") {
        for p in ["/proc", "/sys", "/dev"] {
            out.insert(PathBuf::from(p));
        }
    }
    if let Ok(text) = fs::read_to_string("/proc/self/mountinfo") {
        out.extend(
            parse_mountinfo(&text).into_iter().filter(|p| p != canon_root && p.starts_with(canon_root)),
        );
    }
    out
}

/// Mount points of pseudo filesystems listed in a `/proc/self/mountinfo` text.
fn parse_mountinfo(text: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for line in text.lines() {
        // Fields: id parent major:minor root mountpoint options [optional...] - fstype source superoptions
        let mut fields = line.split(' ');
        let Some(mount_point) = fields.nth(4) else { continue };
        let Some(fstype) = line.split(" - ").nth(1).and_then(|r| r.split(' ').next()) else { continue };
        if PSEUDO_FS.contains(&fstype) {
            out.push(PathBuf::from(unescape_octal(mount_point)));
        }
    }
    out
}

/// Undo mountinfo's `\NNN` octal escapes (space, tab, newline, backslash).
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let esc = b
            .get(i + 1..i + 4)
            .filter(|d| b.get(i) == Some(&b'\\') && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match esc {
            Some(d) => {
                out.push(d.iter().fold(0u8, |acc, c| acc.wrapping_mul(8).wrapping_add(c - b'0')));
                i += 4;
            }
            None => {
                out.extend(b.get(i));
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Recorder;

    #[test]
    fn walks_reads_wanted_and_records_symlinks() {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        fs::create_dir_all(r.join("etc/sub")).expect("mkdir");
        fs::write(r.join("etc/os-release"), "ID=debian\n").expect("write");
        fs::write(r.join("etc/sub/other"), "x").expect("write");
        let outside = tempfile::tempdir().expect("tempdir");
        fs::write(outside.path().join("secret"), "TOP SECRET").expect("write");
        std::os::unix::fs::symlink(outside.path().join("secret"), r.join("etc/link")).expect("symlink");
        std::os::unix::fs::symlink(outside.path(), r.join("linkdir")).expect("symlink");
        std::os::unix::fs::symlink("loop", r.join("loop")).expect("symlink");
        let sink = Recorder::all();
        let w = Warnings::new();
        let tree = walk(r, &Options::default(), &sink, &w, false).expect("walk");
        assert_eq!(sink.paths(), vec!["etc/os-release".to_string(), "etc/sub/other".to_string()]);
        assert_eq!(tree.len(), 2);
        assert!(tree.symlink_target("etc/link").is_some());
        assert_eq!(tree.symlink_target("loop"), Some("loop"));
        assert!(w.is_empty());
    }

    #[test]
    fn every_entry_reaches_the_sink_with_mode_and_owner() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        fs::create_dir_all(r.join("srv/open")).expect("mkdir");
        fs::write(r.join("srv/tool"), "x").expect("write");
        fs::set_permissions(r.join("srv/tool"), fs::Permissions::from_mode(0o2755)).expect("chmod");
        fs::set_permissions(r.join("srv/open"), fs::Permissions::from_mode(0o777)).expect("chmod");
        std::os::unix::fs::symlink("tool", r.join("srv/link")).expect("symlink");
        let sink = Recorder { names: vec!["nothing"], ..Default::default() };
        walk(r, &Options::default(), &sink, &Warnings::new(), false).expect("walk");
        let nodes = sink.nodes.lock().expect("lock").clone();
        let me = Some(fs::metadata(r).expect("stat").uid());
        let by_path = |p: &str| nodes.iter().find(|n| n.0 == p).cloned().expect(p);
        let open = by_path("srv/open");
        assert_eq!((open.1, open.2, open.3, open.5), (NodeKind::Dir, 0o777, me, None));
        let tool = by_path("srv/tool");
        assert_eq!((tool.1, tool.2 & 0o2000), (NodeKind::File, 0o2000), "setgid bit kept");
        assert_eq!(by_path("srv/link").1, NodeKind::Symlink);
        assert_eq!(by_path("srv").1, NodeKind::Dir);
    }

    #[test]
    fn gitignore_files_are_honoured_when_asked() {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        for dir in ["build/out", "src/gen", "src/keep", ".git/info", "vendor"] {
            fs::create_dir_all(r.join(dir)).expect("mkdir");
        }
        let files = [
            ".gitignore",
            "build/out/a.txt",
            "src/.gitignore",
            "src/main.rs",
            "src/gen/x.rs",
            "src/keep/y.log",
            "src/z.log",
            "notes.log",
            "important.log",
            "vendor/v.rs",
            ".git/config",
        ];
        for f in files {
            fs::write(r.join(f), "x").expect("write");
        }
        fs::write(r.join(".gitignore"), "/build/\n*.log\n!important.log\n").expect("write");
        fs::write(r.join("src/.gitignore"), "gen/\n!keep/*.log\n").expect("write");
        fs::write(r.join(".git/info/exclude"), "vendor\n").expect("write");
        let sink = Recorder::all();
        let w = Warnings::new();
        let opts = Options { gitignore: true, ..Options::default() };
        walk(r, &opts, &sink, &w, false).expect("walk");
        assert_eq!(
            sink.paths(),
            [".gitignore", "important.log", "src/.gitignore", "src/keep/y.log", "src/main.rs"]
                .map(String::from)
        );
        assert!(w.is_empty());
        // Without the option everything is walked.
        let sink = Recorder::all();
        walk(r, &Options::default(), &sink, &w, false).expect("walk");
        assert_eq!(sink.paths().len(), files.len() + 1, "with .git/info/exclude");
    }

    #[test]
    fn big_files_skipped_with_warning() {
        let d = tempfile::tempdir().expect("tempdir");
        fs::write(d.path().join("big"), vec![0u8; 5000]).expect("write");
        fs::write(d.path().join("small"), "s").expect("write");
        let sink = Recorder::all();
        let w = Warnings::new();
        let mut opts = Options::default();
        opts.limits.max_file_size = 1000;
        walk(d.path(), &opts, &sink, &w, false).expect("walk");
        let w = w.into_vec();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].path.as_deref(), Some("big"));
        assert_eq!(sink.paths(), vec!["small".to_string()]);
    }

    #[test]
    fn unreadable_dir_is_a_warning_when_not_root() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().expect("tempdir");
        let locked = d.path().join("locked");
        fs::create_dir(&locked).expect("mkdir");
        fs::write(locked.join("f"), "x").expect("write");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).expect("chmod");
        let sink = Recorder::all();
        let w = Warnings::new();
        let res = walk(d.path(), &Options::default(), &sink, &w, false);
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).expect("chmod");
        res.expect("walk");
        // root can read anything: then the file is simply scanned.
        let w = w.into_vec();
        assert!(
            w.iter().any(|w| w.path.as_deref() == Some("locked"))
                || sink.paths() == vec!["locked/f".to_string()]
        );
    }

    #[test]
    fn missing_root_is_fatal() {
        let sink = Recorder::all();
        let e = walk(Path::new("/definitely/not/here"), &Options::default(), &sink, &Warnings::new(), false);
        assert!(matches!(e, Err(ArtifactError::NotFound { .. })));
    }

    #[test]
    fn skips_git_when_asked() {
        let d = tempfile::tempdir().expect("tempdir");
        fs::create_dir(d.path().join(".git")).expect("mkdir");
        fs::write(d.path().join(".git/config"), "x").expect("write");
        fs::write(d.path().join("a"), "a").expect("write");
        let sink = Recorder::all();
        walk(d.path(), &Options::default(), &sink, &Warnings::new(), true).expect("walk");
        assert_eq!(sink.paths(), vec!["a".to_string()]);
    }

    #[test]
    fn mountinfo_parsing() {
        let text = "22 1 0:21 / /proc rw,nosuid - proc proc rw\n\
                    23 1 8:1 / /home rw - ext4 /dev/sda2 rw\n\
                    24 1 0:22 / /mnt/with\\040space rw - sysfs sysfs rw\n\
                    garbage\n";
        assert_eq!(parse_mountinfo(text), vec![PathBuf::from("/proc"), PathBuf::from("/mnt/with space")]);
        assert!(pseudo_mounts(Path::new("/")).contains(Path::new("/proc")));
    }

    /// Walks the real machine's `/` (slow: run with `--ignored`). Pseudo filesystems must be skipped.
    #[test]
    #[ignore = "walks the whole machine"]
    fn real_rootfs() {
        let sink = Recorder { names: vec!["os-release"], ..Default::default() };
        let w = Warnings::new();
        let tree = walk(Path::new("/"), &Options::default(), &sink, &w, false).expect("walk /");
        let paths = sink.paths();
        assert!(paths.iter().any(|p| p.ends_with("os-release")), "{paths:?}");
        assert!(paths.iter().all(|p| !p.starts_with("proc/") && !p.starts_with("sys/")), "{paths:?}");
        assert!(tree.len() > 1000);
        eprintln!("{} files, {} warnings", tree.len(), w.len());
    }
}
