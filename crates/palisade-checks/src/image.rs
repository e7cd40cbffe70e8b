//! What the image checks (`PAL-IMG-nnn`) see: an image's config, the parts of its final filesystem that the
//! hardening checks judge, and what the scan knows of the artifact and its OS.
//!
//! [`FsSink`] collects the filesystem part during the one artifact walk: it takes no file contents, only
//! [`FileSink::entry`] calls, and keeps the few entries a hardening check can report (setuid and setgid
//! files, world-writable paths, entries in system paths owned by someone other than root, what lies in the
//! `PATH` directories, SSH keys). [`FsSink::finish`] keeps the versions that survive in the final filesystem,
//! so a tool a later layer deleted is not reported.

use palisade_artifact::{EntryMeta, FileMeta, FileSink, NodeKind};
use palisade_core::{ArtifactInfo, ImageConfig, OsInfo, Warnings};
use std::sync::Mutex;

/// Directories searched for executables (`PATH` of the usual base images), without the leading `/`.
pub const BIN_DIRS: &[&str] = &["bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin"];

/// Top-level directories whose contents must belong to root: whoever owns a file there can replace what
/// the system runs.
pub const SYSTEM_DIRS: &[&str] = &["bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "boot"];

/// One entry of the final filesystem kept for the hardening checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsEntry {
    /// Path relative to the root, without the leading `/`.
    pub path: String,
    pub kind: NodeKind,
    /// Mode bits including setuid, setgid and sticky.
    pub mode: u32,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// The image layer that added this version; `None` for root filesystems on disk.
    pub layer: Option<u32>,
    /// Target of a symlink.
    pub link_target: Option<String>,
}

impl FsEntry {
    /// The last path component.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// The directory part (`""` at the root).
    pub fn dir(&self) -> &str {
        self.path.rsplit_once('/').map_or("", |(d, _)| d)
    }

    /// True when the entry lies directly in one of [`BIN_DIRS`].
    pub fn in_bin_dir(&self) -> bool {
        BIN_DIRS.contains(&self.dir())
    }

    /// `/path`, as users write it.
    pub fn shown(&self) -> String {
        format!("/{}", self.path)
    }
}

/// The part of the final filesystem the hardening checks judge, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageFs {
    pub entries: Vec<FsEntry>,
}

impl ImageFs {
    /// Build from entries (any order); the last entry of a path wins.
    pub fn new(mut entries: Vec<FsEntry>) -> Self {
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries.dedup_by(|later, earlier| {
            if later.path == earlier.path {
                std::mem::swap(later, earlier);
                true
            } else {
                false
            }
        });
        ImageFs { entries }
    }

    /// The kept entry at `path` (no leading `/`).
    pub fn get(&self, path: &str) -> Option<&FsEntry> {
        self.entries.binary_search_by(|e| e.path.as_str().cmp(path)).ok().map(|i| &self.entries[i])
    }

    /// Follow symlinks from `path` through the kept entries (at most 16 hops). Returns the last entry
    /// reached, which is not a symlink unless the chain leaves the kept entries or loops.
    pub fn resolve<'a>(&'a self, entry: &'a FsEntry) -> &'a FsEntry {
        let mut cur = entry;
        for _ in 0..16 {
            let Some(target) = cur.link_target.as_deref() else { return cur };
            let joined =
                if target.starts_with('/') { target.to_string() } else { format!("{}/{target}", cur.dir()) };
            let Some(norm) = normalize(&joined) else { return cur };
            match self.get(&norm) {
                Some(next) => cur = next,
                None => return cur,
            }
        }
        cur
    }
}

/// `/a/./b/../c` -> `a/c`; `None` when it climbs above the root.
fn normalize(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// True for entries a hardening check may report; everything else is dropped as the walk goes.
fn kept(m: &EntryMeta) -> bool {
    let dir = m.path.rsplit_once('/').map_or("", |(d, _)| d);
    let name = m.file_name();
    let top = m.path.split('/').next().unwrap_or("");
    (m.kind == NodeKind::File && m.mode & 0o6000 != 0)
        || (m.kind != NodeKind::Symlink && m.kind != NodeKind::Special && m.mode & 0o002 != 0)
        || (m.uid.is_some_and(|u| u != 0) && SYSTEM_DIRS.contains(&top))
        || BIN_DIRS.contains(&dir)
        || dir == "etc/alternatives"
        || (dir == "etc/ssh" && name.starts_with("ssh_host_"))
        || (dir.ends_with(".ssh") && name.starts_with("authorized_keys"))
}

/// Collects the filesystem facts of one walk (see the module docs). Wants no file contents.
#[derive(Debug, Default)]
pub struct FsSink {
    entries: Mutex<Vec<FsEntry>>,
}

impl FsSink {
    pub fn new() -> Self {
        FsSink::default()
    }

    /// Keep the versions that survive in the final filesystem (`live(path, layer)`, from
    /// `FileTree::is_live_entry`).
    pub fn finish(self, live: impl Fn(&str, Option<u32>) -> bool) -> ImageFs {
        let mut entries = self.entries.into_inner().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| live(&e.path, e.layer));
        ImageFs::new(entries)
    }
}

impl FileSink for FsSink {
    fn wants(&self, _meta: &FileMeta) -> bool {
        false
    }

    fn accept(&self, _meta: &FileMeta, _data: &[u8], _warnings: &Warnings) {}

    fn entry(&self, m: &EntryMeta) {
        if !kept(m) {
            return;
        }
        let e = FsEntry {
            path: m.path.to_string(),
            kind: m.kind,
            mode: m.mode,
            uid: m.uid,
            gid: m.gid,
            layer: m.layer,
            link_target: m.link_target.map(str::to_string),
        };
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).push(e);
    }
}

/// Everything an image check can look at. Config checks return quietly when `config` is `None` (a root
/// filesystem on disk has none); filesystem checks when `fs` is `None`.
#[derive(Debug, Clone, Copy)]
pub struct ImageInput<'a> {
    pub config: Option<&'a ImageConfig>,
    pub fs: Option<&'a ImageFs>,
    /// What was scanned: the reference the image was named by, its digests and where it came from.
    pub artifact: Option<&'a ArtifactInfo>,
    /// The OS found in the image, with its end of life when Palisade knows it.
    pub os: Option<&'a OsInfo>,
    /// Today, for the age check.
    pub today: time::Date,
}

impl<'a> ImageInput<'a> {
    /// Only a config (the other parts empty), as for [`crate::Engine::check_image_config`].
    pub fn config(cfg: &'a ImageConfig) -> Self {
        ImageInput { config: Some(cfg), fs: None, artifact: None, os: None, today: today() }
    }

    /// Only a filesystem.
    pub fn fs(fs: &'a ImageFs) -> Self {
        ImageInput { config: None, fs: Some(fs), artifact: None, os: None, today: today() }
    }
}

/// The current UTC date.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

#[cfg(test)]
pub(crate) mod fixture {
    //! Small filesystems for the hardening checks' fixture tests.
    use super::*;

    /// An entry: `(path, kind, mode, uid, layer, link target)`; `'f'` file, `'d'` dir, `'l'` symlink.
    pub fn fs(entries: &[(&str, char, u32, u32, Option<&str>)]) -> ImageFs {
        ImageFs::new(
            entries
                .iter()
                .map(|(p, k, mode, uid, link)| FsEntry {
                    path: p.to_string(),
                    kind: match k {
                        'd' => NodeKind::Dir,
                        'l' => NodeKind::Symlink,
                        's' => NodeKind::Special,
                        _ => NodeKind::File,
                    },
                    mode: *mode,
                    uid: Some(*uid),
                    gid: Some(*uid),
                    layer: Some(1),
                    link_target: link.map(str::to_string),
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(path: &str, kind: NodeKind, mode: u32, uid: u32) -> EntryMeta<'_> {
        EntryMeta {
            path,
            kind,
            mode,
            uid: Some(uid),
            gid: Some(0),
            layer: Some(0),
            link_target: None,
            size: 0,
        }
    }

    #[test]
    fn keeps_only_what_a_check_can_report() {
        assert!(kept(&meta("usr/bin/passwd", NodeKind::File, 0o4755, 0)));
        assert!(kept(&meta("var/www", NodeKind::Dir, 0o777, 0)));
        assert!(kept(&meta("usr/lib/x.so", NodeKind::File, 0o644, 1000)));
        assert!(kept(&meta("usr/bin/curl", NodeKind::File, 0o755, 0)));
        assert!(kept(&meta("root/.ssh/authorized_keys", NodeKind::File, 0o600, 0)));
        assert!(kept(&meta("etc/ssh/ssh_host_ed25519_key", NodeKind::File, 0o600, 0)));
        assert!(!kept(&meta("usr/lib/x.so", NodeKind::File, 0o644, 0)));
        assert!(!kept(&meta("home/app/data", NodeKind::File, 0o644, 1000)), "outside system dirs");
        assert!(!kept(&meta("usr/share/a", NodeKind::Symlink, 0o777, 0)), "links are always 0777");
    }

    #[test]
    fn finish_drops_dead_versions_and_resolve_follows_links() {
        let sink = FsSink::new();
        for (p, kind, layer, link) in [
            ("usr/bin/curl", NodeKind::File, 0, None),
            ("usr/bin/sh", NodeKind::Symlink, 0, Some("dash")),
            ("usr/bin/dash", NodeKind::File, 0, None),
            ("usr/bin/nc", NodeKind::Symlink, 0, Some("/etc/alternatives/nc")),
            ("etc/alternatives/nc", NodeKind::Symlink, 0, Some("../../usr/bin/nc.openbsd")),
            ("usr/bin/nc.openbsd", NodeKind::File, 0, None),
        ] {
            sink.entry(&EntryMeta { link_target: link, layer: Some(layer), ..meta(p, kind, 0o755, 0) });
        }
        let fs = sink.finish(|p, _| p != "usr/bin/curl");
        assert!(fs.get("usr/bin/curl").is_none(), "deleted by a later layer");
        let sh = fs.get("usr/bin/sh").expect("sh");
        assert_eq!(fs.resolve(sh).path, "usr/bin/dash");
        let nc = fs.get("usr/bin/nc").expect("nc");
        assert_eq!(fs.resolve(nc).path, "usr/bin/nc.openbsd");
        assert_eq!(normalize("/a/../../b"), None);
    }
}
