//! Relative opens judged in the kernel by the directory they start from.
//!
//! The kernel filter ([`crate::sensor::interest`]) judges an open by its path's text, which for a relative
//! path (`name`, `dir/name`, `.`: what most programs open in their working directory) says nothing about
//! where it lands. Such an open is sent with its starting directory (the mount's unique id and the inode,
//! [`DirKey`]); the reader thread judges that directory once ([`QuietDirs::on_record`]): it pins it through
//! `/proc/TID/cwd` (or `/proc/TID/fd/N` for `openat(N, …)`), checks that it is the one the kernel named, and
//! reads its path, the same path the enricher resolves relative opens with. When no path below it can
//! start with one of a class's prefixes, and no suffix of that class can reach back into the directory's
//! own name ([`quiet_classes`]), the directory goes into the kernel's `quiet_dirs` map for that class, and
//! later relative opens from it are judged by their suffixes alone: a relative open is dropped exactly
//! when the absolute path it resolves to would be.
//!
//! A judgement holds for the generation of paths it was made in: the kernel bumps the generation on every
//! successful rename, mount, umount, move_mount and pivot_root (any of which may move a directory), and an
//! entry of an older generation counts for nothing until the directory is judged again.

use crate::sensor::interest::PathSet;
use crate::sensor::procfs::dir_link;
use crate::sensor::record::{DirKey, Record, RecordKind};
use std::collections::HashMap;

/// `quiet` bit of read-only opens in the kernel's `struct dir_verdict`.
pub const QUIET_READ: u32 = 1;
/// `quiet` bit of opens that may write.
pub const QUIET_WRITE: u32 = 2;
/// Directories remembered as judged before the memory is cleared.
const JUDGED_MAX: usize = 16_384;
/// statx's `STATX_MNT_ID_UNIQUE` (Linux 6.8), which rustix has no name for.
const STATX_MNT_ID_UNIQUE: u32 = 0x4000;

/// Which classes of relative opens from the directory `base` (a canonical absolute path, as
/// `/proc/PID/cwd` reads) the kernel may judge by suffix alone: [`QUIET_READ`], [`QUIET_WRITE`] or both.
/// `read` and `write` are the kernel's tables ([`PathSet::kernel_table`]); `None` is a class whose every
/// open is sent.
pub fn quiet_classes(base: &str, read: Option<&PathSet>, write: Option<&PathSet>) -> u32 {
    let mut bits = 0;
    if read.is_some_and(|t| quiet(base, t)) {
        bits |= QUIET_READ;
    }
    if write.is_some_and(|t| quiet(base, t)) {
        bits |= QUIET_WRITE;
    }
    bits
}

/// Whether no path `base/p` (`p` plain: no `.` or `..` component, no `//`) nor `base` itself (the open
/// of `.`) can be in `table` except through a suffix of `p` or of `/p`, which the kernel checks.
fn quiet(base: &str, table: &PathSet) -> bool {
    // what readlink gives for a directory that was removed, or one outside the agent's view
    if !base.starts_with('/') || base.ends_with(" (deleted)") || base.contains("//") {
        return false;
    }
    let dir = if base == "/" { "/".to_string() } else { format!("{base}/") };
    // a prefix matches some path below `dir` when one of them starts with the other
    if table.prefixes.iter().any(|p| dir.starts_with(p.as_str()) || p.starts_with(&dir)) {
        return false;
    }
    table.suffixes.iter().all(|s| {
        // the open of `.` is the directory itself
        if base.ends_with(s.as_str()) {
            return false;
        }
        // a suffix `A…B` with `A` ending the directory's `…/` and `B` starting the relative path: the
        // kernel sees only the path and the one `/` before it, so such a suffix makes the directory loud
        // (`A` = `/` alone is the kernel's own check)
        let b = s.as_bytes();
        !(2..b.len()).any(|k| b[k - 1] == b'/' && dir.as_bytes().ends_with(&b[..k]))
    })
}

/// The reader thread's side: judges each directory the kernel names and fills the `quiet_dirs` map.
pub struct QuietDirs<M> {
    map: M,
    read: Option<PathSet>,
    write: Option<PathSet>,
    /// Directories judged, with the generation they were judged in.
    judged: HashMap<(u64, u64), u64>,
    /// Directories found quiet for at least one class.
    pub quiet: u64,
}

/// Where judgements go: the kernel's map (`aya::maps::HashMap`), or a plain map in tests.
pub trait VerdictSink {
    fn put(&mut self, key: DirKey, quiet: u32) -> Result<(), String>;
}

impl<M: VerdictSink> QuietDirs<M> {
    /// `read` and `write`: the interest's path sets (their kernel tables are taken here).
    pub fn new(map: M, read: Option<&PathSet>, write: Option<&PathSet>) -> Self {
        QuietDirs {
            map,
            read: read.and_then(PathSet::kernel_table),
            write: write.and_then(PathSet::kernel_table),
            judged: HashMap::new(),
            quiet: 0,
        }
    }

    /// Judge the directory of a relative open, once per directory and generation. Costs nothing for
    /// other records.
    pub fn on_record(&mut self, r: &Record) {
        let (Some(key), Some(RecordKind::Open)) = (r.dir_key, r.kind) else { return };
        if self.judged.get(&(key.mnt, key.ino)) == Some(&key.generation) {
            return;
        }
        if self.judged.len() >= JUDGED_MAX {
            self.judged.clear();
        }
        self.judged.insert((key.mnt, key.ino), key.generation);
        let link = dir_link(std::path::Path::new("/proc"), r.tid, r.a2);
        // the process may have exited or moved on: then the next open from the directory tries again
        let Some(path) = pinned_path(&link, key) else {
            self.judged.remove(&(key.mnt, key.ino));
            return;
        };
        let bits = quiet_classes(&path, self.read.as_ref(), self.write.as_ref());
        if bits != 0 {
            match self.map.put(key, bits) {
                Ok(()) => self.quiet += 1,
                Err(e) => tracing::debug!("quiet_dirs: {e}"),
            }
        }
    }
}

/// The path of the directory behind the magic link `link`, when it is the directory `key` names: opened
/// (`O_PATH`) so that the identity checked and the path read are of the same directory.
fn pinned_path(link: &std::path::Path, key: DirKey) -> Option<String> {
    use rustix::fs::{AtFlags, Mode, OFlags, StatxFlags};
    let fd =
        rustix::fs::open(link, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let unique = StatxFlags::from_bits_retain(STATX_MNT_ID_UNIQUE);
    let st = rustix::fs::statx(&fd, "", AtFlags::EMPTY_PATH, StatxFlags::INO | unique).ok()?;
    if st.stx_mask & unique.bits() == 0 || st.stx_mnt_id != key.mnt || st.stx_ino != key.ino {
        return None;
    }
    use std::os::fd::AsRawFd;
    let path = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()?;
    path.to_str().map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(prefixes: &[&str], suffixes: &[&str]) -> PathSet {
        PathSet {
            prefixes: prefixes.iter().map(|s| s.to_string()).collect(),
            suffixes: suffixes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_directory_no_prefix_reaches_is_quiet() {
        let t = set(&["/etc/", "/root/.ssh/", "/var/run/secrets/"], &["/shadow", ".pem"]);
        assert_eq!(quiet_classes("/tmp/work", Some(&t), Some(&t)), QUIET_READ | QUIET_WRITE);
        // every prefix is below `/`
        assert_eq!(quiet_classes("/", Some(&t), None), 0);
        assert_eq!(quiet_classes("/", Some(&set(&[], &["/shadow"])), None), QUIET_READ);
        // below a prefix, or a prefix below it: every or some relative path lands in the set
        assert_eq!(quiet_classes("/etc", Some(&t), Some(&t)), 0);
        assert_eq!(quiet_classes("/etc/ssl", Some(&t), Some(&t)), 0);
        assert_eq!(quiet_classes("/root", Some(&t), Some(&t)), 0);
        assert_eq!(quiet_classes("/var/run", Some(&t), Some(&t)), 0);
        // `/etcetera` is not below `/etc/`
        assert_eq!(quiet_classes("/etcetera", Some(&t), Some(&t)), QUIET_READ | QUIET_WRITE);
        // a prefix without its slash covers both
        let bare = set(&["/etc"], &[]);
        assert_eq!(quiet_classes("/etcetera", Some(&bare), None), 0);
    }

    #[test]
    fn a_suffix_reaching_into_the_directory_makes_it_loud() {
        // `authorized_keys` opened from ~/.ssh ends with `/.ssh/authorized_keys`
        let t = set(&[], &["/.ssh/authorized_keys", "/id_rsa"]);
        assert_eq!(quiet_classes("/home/a/.ssh", Some(&t), None), 0);
        // `/id_rsa` needs only the separator, which the kernel puts before the path
        assert_eq!(quiet_classes("/home/a", Some(&t), None), QUIET_READ);
        // the open of `.` names the directory itself
        let d = set(&[], &["/cron.d"]);
        assert_eq!(quiet_classes("/var/spool/cron.d", None, Some(&d)), 0);
        assert_eq!(quiet_classes("/var/spool", None, Some(&d)), QUIET_WRITE);
    }

    #[test]
    fn unusual_directories_and_absent_classes_are_never_quiet() {
        let t = set(&["/etc/"], &[]);
        assert_eq!(quiet_classes("/tmp/gone (deleted)", Some(&t), Some(&t)), 0);
        assert_eq!(quiet_classes("relative", Some(&t), Some(&t)), 0);
        assert_eq!(quiet_classes("/tmp", None, None), 0);
    }

    struct Sink(Vec<(DirKey, u32)>);
    impl VerdictSink for Sink {
        fn put(&mut self, key: DirKey, quiet: u32) -> Result<(), String> {
            self.0.push((key, quiet));
            Ok(())
        }
    }

    fn open_from(dir: &std::path::Path, generation: u64) -> Record {
        use std::os::unix::fs::MetadataExt;
        let st = rustix::fs::statx(
            rustix::fs::CWD,
            dir,
            rustix::fs::AtFlags::empty(),
            rustix::fs::StatxFlags::INO | rustix::fs::StatxFlags::from_bits_retain(STATX_MNT_ID_UNIQUE),
        )
        .unwrap();
        assert_eq!(st.stx_ino, std::fs::metadata(dir).unwrap().ino());
        // the directory stays open for the test's life: the record names it as `openat(fd, …)`
        use std::os::fd::IntoRawFd;
        let fd = std::fs::File::open(dir).unwrap().into_raw_fd();
        let me = std::process::id();
        Record {
            kind: Some(RecordKind::Open),
            pid: me,
            tid: me,
            a2: fd as u64,
            dir_key: Some(DirKey { mnt: st.stx_mnt_id, ino: st.stx_ino, generation }),
            s1: "file".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_reader_judges_each_directory_once_per_generation() {
        let tmp = tempfile::tempdir().unwrap();
        let quiet_dir = tmp.path().join("work");
        std::fs::create_dir(&quiet_dir).unwrap();
        let t = set(&["/etc/"], &["/shadow"]);
        let mut q = QuietDirs::new(Sink(Vec::new()), Some(&t), Some(&t));
        let r = open_from(&quiet_dir, 3);
        q.on_record(&r);
        q.on_record(&r);
        assert_eq!(q.map.0.len(), 1, "judged once");
        assert_eq!(q.map.0[0].1, QUIET_READ | QUIET_WRITE);
        assert_eq!(q.map.0[0].0.generation, 3);
        // a new generation (a rename happened): judged again
        let r4 = Record { dir_key: r.dir_key.map(|k| DirKey { generation: 4, ..k }), ..r.clone() };
        q.on_record(&r4);
        assert_eq!(q.map.0.len(), 2);
        // a key that is not the directory behind the link: not judged
        let wrong = Record { dir_key: r.dir_key.map(|k| DirKey { ino: k.ino + 1, ..k }), ..r.clone() };
        q.on_record(&wrong);
        assert_eq!(q.map.0.len(), 2);
        assert_eq!(q.quiet, 2);
    }
}
