//! A node's file tree under a root directory: file status and contents read without leaving the root
//! (symbolic links are followed inside it, absolute targets taken relative to the root), user and group names
//! from the tree's own `etc/passwd` and `etc/group`.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Largest file read (configuration files are small; anything bigger is reported, not read).
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// Status of a file of the tree.
#[derive(Debug, Clone)]
pub struct FileStat {
    /// The path as the node sees it (`/etc/kubernetes/admin.conf`).
    pub shown: String,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub is_dir: bool,
}

/// A node's root directory.
#[derive(Debug)]
pub struct NodeTree {
    root: PathBuf,
    users: Vec<(String, u32)>,
    groups: Vec<(String, u32)>,
}

fn id_table(text: &str) -> Vec<(String, u32)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let id = f.nth(1)?.parse().ok()?;
            Some((name.to_string(), id))
        })
        .collect()
}

impl NodeTree {
    pub fn new(root: &Path) -> NodeTree {
        let mut t = NodeTree { root: root.to_path_buf(), users: Vec::new(), groups: Vec::new() };
        t.users = t.read("/etc/passwd").ok().map(|s| id_table(&s)).unwrap_or_default();
        t.groups = t.read("/etc/group").ok().map(|s| id_table(&s)).unwrap_or_default();
        t
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host path of `path` (as the node sees it), following symbolic links inside the root; `None` when
    /// it does not exist or a link leads out of the root.
    pub fn resolve(&self, path: &str) -> Option<PathBuf> {
        let mut parts: Vec<String> = Vec::new();
        let mut todo: Vec<String> = path.split('/').rev().map(str::to_string).collect();
        let mut hops = 0;
        while let Some(p) = todo.pop() {
            match p.as_str() {
                "" | "." => continue,
                ".." => {
                    parts.pop();
                    continue;
                }
                _ => {}
            }
            parts.push(p);
            let host = parts.iter().fold(self.root.clone(), |acc, x| acc.join(x));
            let meta = std::fs::symlink_metadata(&host).ok()?;
            if meta.file_type().is_symlink() {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                let target = std::fs::read_link(&host).ok()?;
                parts.pop();
                if target.is_absolute() {
                    parts.clear();
                }
                let comps: Vec<String> = target
                    .components()
                    .filter_map(|c| match c {
                        Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                        Component::ParentDir => Some("..".into()),
                        _ => None,
                    })
                    .collect();
                todo.extend(comps.into_iter().rev());
            }
        }
        Some(parts.iter().fold(self.root.clone(), |acc, x| acc.join(x)))
    }

    pub fn stat(&self, path: &str) -> Option<FileStat> {
        let host = self.resolve(path)?;
        let m = std::fs::metadata(host).ok()?;
        Some(FileStat {
            shown: path.to_string(),
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
            is_dir: m.is_dir(),
        })
    }

    pub fn exists(&self, path: &str) -> bool {
        self.stat(path).is_some()
    }

    /// A file's text (lossy UTF-8); the error names the file.
    pub fn read(&self, path: &str) -> Result<String, String> {
        let host = self.resolve(path).ok_or_else(|| format!("{path}: not present"))?;
        let meta = std::fs::metadata(&host).map_err(|e| format!("{path}: {e}"))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(format!("{path}: larger than {MAX_FILE_BYTES} bytes; not read"));
        }
        std::fs::read(&host)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| format!("{path}: {e}"))
    }

    /// Entries of a directory (names, sorted); empty when it is not one.
    pub fn list(&self, dir: &str) -> Vec<String> {
        let Some(host) = self.resolve(dir) else { return Vec::new() };
        let mut v: Vec<String> = std::fs::read_dir(host)
            .map(|r| r.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Every path under `dir` (itself included), depth-first, at most `limit`.
    pub fn walk(&self, dir: &str, limit: usize) -> Vec<String> {
        let mut out = vec![dir.to_string()];
        let mut i = 0;
        while i < out.len() && out.len() < limit {
            let d = out[i].clone();
            if self.stat(&d).is_some_and(|s| s.is_dir) {
                for n in self.list(&d) {
                    out.push(format!("{}/{n}", d.trim_end_matches('/')));
                }
            }
            i += 1;
        }
        out.truncate(limit);
        out
    }

    pub fn user_name(&self, uid: u32) -> String {
        self.users
            .iter()
            .find(|(_, id)| *id == uid)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| if uid == 0 { "root".into() } else { uid.to_string() })
    }

    pub fn group_name(&self, gid: u32) -> String {
        self.groups
            .iter()
            .find(|(_, id)| *id == gid)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| if gid == 0 { "root".into() } else { gid.to_string() })
    }
}
