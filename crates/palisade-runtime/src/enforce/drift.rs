//! Zero drift before exec: is the executable a held exec event is about to run one of the image's?
//!
//! A container's image is the lower layers of its root overlayfs mount. Whatever was written in the
//! container after it started (copied in, downloaded, `chmod +x`'d, an image file overwritten) is in the
//! upper layer, and any other mount (a tmpfs such as `/dev/shm`, a volume) is not the image at all. The
//! exec group's reader records, for each exec it holds, the event descriptor's mount id and `fstat`
//! ([`FileFacts`]); a decider thread then asks [`Layers::origin`], which looks for positive proof that
//! the file is the image's:
//!
//! 1. the descriptor is on the container's root mount (`/` in `/proc/TID/mountinfo`), and that mount is
//!    overlayfs whose layer directories the agent can reach; otherwise the answer is [`Origin::Unknown`]
//!    and drift is not judged before the exec (a root that is a plain directory, an agent that cannot
//!    see the runtime's snapshot directories: never a reason to refuse everything);
//! 2. the upper directory has no entry at the file's path (one there: written or modified in the
//!    container);
//! 3. the topmost lower layer with an entry at that path has a regular file whose mode, size, mtime and
//!    ctime (to the nanosecond) are the descriptor's (and its inode, when overlayfs reports the real
//!    device).
//!
//! Why this holds without races: the descriptor is the very file the kernel will execute, whatever
//! happened to its path since; overlayfs reports the attributes of the real inode (the upper one once a
//! file is copied up, even when it keeps the lower inode number), and a ctime cannot be set from user
//! space: a file written, copied up or renamed into place in the container has the ctime of that moment,
//! never an image file's. A rename racing the check makes the path name another file or none, and then
//! step 3 fails: the exec is judged as drift (fail closed for that one file). A write-tracking set fed
//! by the sensor's events would lag behind the workload (a program copied and run at once could be run
//! before its write event is read) and would miss what the sensor does not trace (`chmod`); the sensor's
//! own upper-layer bit is computed at `sched_process_exec`, after the point of no return.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What the exec group's reader knows of the file being executed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFacts {
    /// Mount id of the descriptor (`mnt_id` of `/proc/self/fdinfo/FD`): the ids of `mountinfo`.
    pub mnt_id: u64,
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub size: i64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl FileFacts {
    /// The facts of an open descriptor (`None` when `fstat` or `fdinfo` cannot be read).
    pub fn of(fd: BorrowedFd<'_>) -> Option<FileFacts> {
        let st = nix::sys::stat::fstat(fd).ok()?;
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", fd.as_raw_fd())).ok()?;
        let mnt_id =
            info.lines().find_map(|l| l.strip_prefix("mnt_id:")).and_then(|v| v.trim().parse().ok())?;
        Some(FileFacts {
            mnt_id,
            dev: st.st_dev,
            ino: st.st_ino,
            mode: st.st_mode,
            size: st.st_size,
            mtime: (st.st_mtime, st.st_mtime_nsec),
            ctime: (st.st_ctime, st.st_ctime_nsec),
        })
    }

    /// Whether `m` (a file in a lower layer, as the host sees it) is this file.
    fn same_as(&self, m: &std::fs::Metadata) -> bool {
        m.is_file()
            && m.mode() == self.mode
            && m.size() as i64 == self.size
            && (m.mtime(), m.mtime_nsec()) == self.mtime
            && (m.ctime(), m.ctime_nsec()) == self.ctime
            && (m.dev() != self.dev || m.ino() == self.ino)
    }
}

/// Where an executable comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file of the image (in lower layer `layer`, 0 the topmost).
    Image { layer: usize },
    /// Not from the image's layers, and why.
    Drift(String),
    /// Cannot be told (not an overlay root, layers out of reach, facts missing): not judged.
    Unknown(String),
}

/// A container's root mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootMount {
    pub mount_id: u64,
    pub fstype: String,
    /// Overlayfs lower directories, topmost first (data-only layers left out: they hold no paths).
    pub lower: Vec<PathBuf>,
    pub upper: Option<PathBuf>,
}

/// A mount of `mountinfo`: id, mount point, file-system type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountLine {
    pub id: u64,
    pub point: String,
    pub fstype: String,
    pub options: String,
}

/// Parse one `mountinfo` line (`None` when it is not of the kernel's shape).
pub fn parse_mountinfo_line(line: &str) -> Option<MountLine> {
    let (left, right) = line.split_once(" - ")?;
    let mut l = left.split_whitespace();
    let id = l.next()?.parse().ok()?;
    let point = unmangle(l.nth(3)?);
    let mut r = right.split_whitespace();
    let fstype = r.next()?.to_string();
    let options = r.nth(1).unwrap_or("").to_string();
    Some(MountLine { id, point, fstype, options })
}

/// `mountinfo` writes blanks, tabs, newlines and backslashes as `\ooo`.
fn unmangle(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && let Some(v) = s.get(i + 1..i + 4).and_then(|o| u8::from_str_radix(o, 8).ok())
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Split overlayfs super options (`lowerdir=/a:/b,upperdir=/u,…`) into the lower and upper directories.
/// The kernel writes a `,`, blank or backslash inside a value as `\ooo`; inside a `lowerdir`, `\`
/// escapes `:` and itself, and `::` starts the data-only layers (which hold no paths).
pub fn overlay_dirs(options: &str) -> (Vec<PathBuf>, Option<PathBuf>) {
    let (mut lower, mut upper) = (Vec::new(), None);
    for o in options.split(',').map(unmangle) {
        if let Some(v) = o.strip_prefix("lowerdir=") {
            let mut part = String::new();
            let mut chars = v.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => part.extend(chars.next()),
                    ':' => {
                        lower.push(PathBuf::from(std::mem::take(&mut part)));
                        if chars.peek() == Some(&':') {
                            break;
                        }
                    }
                    c => part.push(c),
                }
            }
            if !part.is_empty() {
                lower.push(PathBuf::from(part));
            }
        } else if let Some(v) = o.strip_prefix("lowerdir+=") {
            lower.push(PathBuf::from(unescape_opt(v)));
        } else if let Some(v) = o.strip_prefix("upperdir=") {
            upper = Some(PathBuf::from(unescape_opt(v)));
        }
    }
    (lower, upper)
}

fn unescape_opt(v: &str) -> String {
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// The root mount of process `tid`'s mount namespace.
pub fn root_mount(tid: u32) -> Result<RootMount, String> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/mountinfo"))
        .map_err(|e| format!("/proc/{tid}/mountinfo: {e}"))?;
    // the last mount on `/` is the one visible
    let root = text
        .lines()
        .rev()
        .filter_map(parse_mountinfo_line)
        .find(|m| m.point == "/")
        .ok_or_else(|| format!("/proc/{tid}/mountinfo: no root mount"))?;
    let (lower, upper) =
        if root.fstype == "overlay" { overlay_dirs(&root.options) } else { (Vec::new(), None) };
    Ok(RootMount { mount_id: root.id, fstype: root.fstype, lower, upper })
}

/// Most containers whose root mount is cached.
const CACHE_MAX: usize = 4096;

/// The containers' root mounts, cached by container id (one per decider thread).
#[derive(Debug, Default)]
pub struct Layers {
    roots: HashMap<String, RootMount>,
}

impl Layers {
    /// Where the file of `facts`, at `path` inside the container, that thread `tid` of container
    /// `container_id` is about to execute comes from (see the module documentation).
    pub fn origin(&mut self, container_id: &str, tid: u32, path: &str, facts: Option<&FileFacts>) -> Origin {
        let Some(facts) = facts else {
            return Origin::Unknown("the executable's descriptor could not be read".into());
        };
        let cached = self.roots.get(container_id).filter(|r| r.mount_id == facts.mnt_id).cloned();
        let root = match cached {
            Some(r) => r,
            None => {
                // first exec of the container, or one from another mount: read the mounts afresh
                let r = match root_mount(tid) {
                    Ok(r) => r,
                    Err(e) => return Origin::Unknown(e),
                };
                if self.roots.len() >= CACHE_MAX {
                    self.roots.clear();
                }
                self.roots.insert(container_id.to_string(), r.clone());
                r
            }
        };
        judge(&root, path, facts)
    }
}

/// The origin of the file `facts` at `path` in a container whose root mount is `root`.
pub fn judge(root: &RootMount, path: &str, facts: &FileFacts) -> Origin {
    if root.fstype != "overlay" {
        return Origin::Unknown(format!("the container's root is {}, not overlayfs", root.fstype));
    }
    let Some(upper) = &root.upper else {
        return Origin::Unknown("the container's root overlay has no upper layer".into());
    };
    let unreachable = root.lower.iter().chain([upper]).find(|d| !d.is_dir());
    if root.lower.is_empty() || unreachable.is_some() {
        return Origin::Unknown(format!(
            "the overlay's layer directory {} is out of the agent's reach",
            unreachable.map(|d| d.display().to_string()).unwrap_or_default()
        ));
    }
    if facts.mnt_id != root.mount_id {
        return Origin::Drift(format!("{path} is not on the image's root filesystem (another mount)"));
    }
    let Some(rel) = relative(path) else {
        return Origin::Drift(format!("{path} has no path in the image"));
    };
    if let Ok(m) = std::fs::symlink_metadata(upper.join(rel))
        && !is_whiteout(&m)
    {
        return Origin::Drift(format!(
            "{path} was written or modified in the container (overlay upper layer)"
        ));
    }
    for (layer, dir) in root.lower.iter().enumerate() {
        match std::fs::symlink_metadata(dir.join(rel)) {
            Ok(m) if is_whiteout(&m) => break,
            Ok(m) if facts.same_as(&m) => return Origin::Image { layer },
            Ok(_) => return Origin::Drift(format!("{path} differs from the image's file at that path")),
            Err(_) => {}
        }
    }
    Origin::Drift(format!("{path} is not in the image's layers"))
}

/// `path` (absolute, inside the container) as a relative path, `None` for anything that is not a plain
/// absolute path (`… (deleted)` of an unlinked file, `..`).
fn relative(path: &str) -> Option<&Path> {
    let rel = path.strip_prefix('/')?;
    let p = Path::new(rel);
    let plain = !rel.is_empty()
        && !path.ends_with(" (deleted)")
        && p.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    plain.then_some(p)
}

/// An overlayfs whiteout: a character device 0/0.
fn is_whiteout(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    m.file_type().is_char_device() && m.rdev() == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn mountinfo_and_overlay_options() {
        let l = "65 27 0:43 / /tmp/a\\040b rw,relatime - overlay overlay rw,lowerdir=/l/1:/l/2,upperdir=/u,workdir=/w,uuid=on";
        let m = parse_mountinfo_line(l).unwrap();
        assert_eq!((m.id, m.point.as_str(), m.fstype.as_str()), (65, "/tmp/a b", "overlay"));
        let (lower, upper) = overlay_dirs(&m.options);
        assert_eq!(lower, vec![PathBuf::from("/l/1"), PathBuf::from("/l/2")]);
        assert_eq!(upper, Some(PathBuf::from("/u")));
        let (lower, upper) = overlay_dirs(r"lowerdir=/a\:b:/c::/data,upperdir=/u\054v");
        assert_eq!(lower, vec![PathBuf::from("/a:b"), PathBuf::from("/c")], "data-only layers left out");
        assert_eq!(upper, Some(PathBuf::from("/u,v")));
        let (lower, upper) = overlay_dirs("rw,lowerdir+=/x,lowerdir+=/y,upperdir=/u,v");
        assert_eq!(lower, vec![PathBuf::from("/x"), PathBuf::from("/y")]);
        assert_eq!(upper, Some(PathBuf::from("/u")));
        assert!(parse_mountinfo_line("garbage").is_none());
        assert_eq!(relative("/bin/sh"), Some(Path::new("bin/sh")));
        assert_eq!(relative("/tmp/x (deleted)"), None);
        assert_eq!(relative("/a/../b"), None);
        assert_eq!(relative("relative"), None);
    }

    /// On a real overlay mount (root only; skipped otherwise): an image file is the image's, a copy, a
    /// chmod'ed image file, an overwritten one and a file on another mount are drift; a plain directory
    /// root cannot be told.
    #[test]
    fn judges_files_of_a_real_overlay() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: not root");
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let d = |n: &str| tmp.path().join(n);
        for n in ["l1", "l2/bin", "u", "w", "m"] {
            std::fs::create_dir_all(d(n)).unwrap();
        }
        std::fs::write(d("l2/bin/tool"), "#!/bin/sh\n").unwrap();
        std::fs::write(d("l2/bin/plain"), "data").unwrap();
        std::fs::write(d("l2/bin/over"), "image").unwrap();
        std::fs::write(d("l1/top"), "top layer").unwrap();
        let opts = format!(
            "lowerdir={}:{},upperdir={},workdir={}",
            d("l1").display(),
            d("l2").display(),
            d("u").display(),
            d("w").display()
        );
        let ok = Command::new("mount").args(["-t", "overlay", "overlay", "-o", &opts]).arg(d("m")).status();
        if !ok.is_ok_and(|s| s.success()) {
            eprintln!("skipped: cannot mount overlayfs here");
            return;
        }
        struct Umount(PathBuf);
        impl Drop for Umount {
            fn drop(&mut self) {
                let _ = Command::new("umount").arg("-l").arg(&self.0).status();
            }
        }
        let _umount = Umount(d("m"));
        let m = d("m");
        std::fs::copy(m.join("bin/tool"), m.join("copy")).unwrap();
        let mut perm = std::fs::metadata(m.join("bin/plain")).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(m.join("bin/plain"), perm).unwrap();
        std::fs::write(m.join("bin/over"), "image").unwrap();

        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let target = m.display().to_string();
        let line = info.lines().filter_map(parse_mountinfo_line).find(|l| l.point == target).unwrap();
        let (lower, upper) = overlay_dirs(&line.options);
        let root = RootMount { mount_id: line.id, fstype: line.fstype.clone(), lower, upper };
        let facts = |p: &str| {
            let f = std::fs::File::open(m.join(p)).unwrap();
            FileFacts::of(std::os::fd::AsFd::as_fd(&f)).unwrap()
        };
        assert_eq!(facts("bin/tool").mnt_id, line.id);
        assert_eq!(judge(&root, "/bin/tool", &facts("bin/tool")), Origin::Image { layer: 1 });
        assert_eq!(judge(&root, "/top", &facts("top")), Origin::Image { layer: 0 });
        for (p, why) in [("copy", "upper layer"), ("bin/plain", "upper layer"), ("bin/over", "upper layer")] {
            let o = judge(&root, &format!("/{p}"), &facts(p));
            assert!(matches!(&o, Origin::Drift(r) if r.contains(why)), "{p}: {o:?}");
        }
        // the copy judged under an image file's path (a rename racing the check): its ctime gives it away
        let o = judge(&root, "/bin/tool", &facts("copy"));
        assert!(matches!(&o, Origin::Drift(r) if r.contains("differs")), "{o:?}");
        // another mount
        let other = FileFacts { mnt_id: line.id + 100_000, ..facts("bin/tool") };
        assert!(matches!(judge(&root, "/bin/tool", &other), Origin::Drift(r) if r.contains("another mount")));
        // not overlayfs, or layers out of reach: not judged
        let plain = RootMount { fstype: "ext4".into(), ..root.clone() };
        assert!(matches!(judge(&plain, "/bin/tool", &facts("bin/tool")), Origin::Unknown(_)));
        let gone = RootMount { lower: vec![d("nowhere")], ..root.clone() };
        assert!(matches!(judge(&gone, "/bin/tool", &facts("bin/tool")), Origin::Unknown(_)));
        let mut layers = Layers::default();
        assert!(matches!(layers.origin("c", std::process::id(), "/x", None), Origin::Unknown(_)));
    }
}
