//! The final file tree: which version of each path survives once all layers are applied.
//!
//! Layer readers only list what each layer contains ([`LayerEntries`]); [`FileTree::apply_layer`] then
//! merges the lists in layer order with overlay semantics:
//! - an opaque marker (`dir/.wh..wh..opq`) hides everything lower layers put under `dir`;
//! - a whiteout (`dir/.wh.name`) deletes `dir/name` (and, if a directory, all under it) from lower layers;
//! - an entry replaces the same path from a lower layer; a non-directory replacing a directory hides what
//!   was under it; a directory (or anything) under a path a lower layer made a file replaces that file.
//!
//! Whiteouts and opaque markers of a layer apply to lower layers only, never to the layer's own entries.
//! Directory and git targets have no layers: their tree is "flat" (every streamed file is live) and keeps
//! only symlinks, so memory does not grow with the number of files.

use std::collections::{BTreeMap, HashMap};

/// What kind of entry a path is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EntryKind {
    /// A regular file (hard links are regular files too).
    File,
    Dir,
    /// A symbolic link and its (never followed) target.
    Symlink(String),
    /// Device, fifo or socket: present in the tree, never read.
    Special,
}

/// The entries of one layer, in archive order, as the layer reader met them.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct LayerEntries {
    pub entries: Vec<(String, EntryKind)>,
    /// Paths deleted by `.wh.<name>` markers.
    pub whiteouts: Vec<String>,
    /// Directories made opaque by `.wh..wh..opq` markers (`""` is the root).
    pub opaques: Vec<String>,
}

#[derive(Debug, Clone)]
struct Node {
    layer: Option<u32>,
    kind: EntryKind,
}

/// Which (path, layer) versions survive in the final filesystem. See the module docs.
#[derive(Debug, Default)]
pub struct FileTree {
    flat: bool,
    flat_files: usize,
    live: BTreeMap<String, Node>,
    removed: HashMap<(String, u32), u32>,
}

impl FileTree {
    /// A tree for a target without layers; `files` is the number of regular files streamed.
    pub(crate) fn flat(files: usize, symlinks: Vec<(String, String)>) -> Self {
        let live = symlinks
            .into_iter()
            .map(|(p, t)| (p, Node { layer: None, kind: EntryKind::Symlink(t) }))
            .collect();
        FileTree { flat: true, flat_files: files, live, removed: HashMap::new() }
    }

    /// An empty layered tree; call [`FileTree::apply_layer`] for each layer in order.
    pub(crate) fn layered() -> Self {
        FileTree::default()
    }

    /// True when this (path, layer) version is the one present in the final filesystem. For targets without
    /// layers every streamed file is live (`layer` is `None`).
    pub fn is_live(&self, path: &str, layer: Option<u32>) -> bool {
        if self.flat {
            return layer.is_none();
        }
        self.live.get(path).is_some_and(|n| n.layer == layer && n.kind == EntryKind::File)
    }

    /// Like [`FileTree::is_live`] for an entry of any kind (a directory, a symlink, a device): true when
    /// this (path, layer) version is the one in the final filesystem. A directory re-created by a later
    /// layer is live in that layer's version only (its mode and owner are the later ones).
    pub fn is_live_entry(&self, path: &str, layer: Option<u32>) -> bool {
        if self.flat {
            return layer.is_none();
        }
        self.live.get(path).is_some_and(|n| n.layer == layer)
    }

    /// The later layer that deleted or replaced this (path, layer) version, if any.
    pub fn removed_in(&self, path: &str, layer: Option<u32>) -> Option<u32> {
        let l = layer?;
        self.removed.get(&(path.to_string(), l)).copied()
    }

    /// Number of regular files in the final tree.
    pub fn len(&self) -> usize {
        if self.flat {
            self.flat_files
        } else {
            self.live.values().filter(|n| n.kind == EntryKind::File).count()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The target of a symlink in the final tree (links are recorded, never followed).
    pub fn symlink_target(&self, path: &str) -> Option<&str> {
        match self.live.get(path) {
            Some(Node { kind: EntryKind::Symlink(t), .. }) => Some(t),
            _ => None,
        }
    }

    /// The final version of each path with its kind and layer (empty for flat trees except symlinks).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &EntryKind, Option<u32>)> {
        self.live.iter().map(|(p, n)| (p.as_str(), &n.kind, n.layer))
    }

    /// Merge one layer on top of the ones applied so far.
    pub(crate) fn apply_layer(&mut self, layer: u32, e: &LayerEntries) {
        for dir in &e.opaques {
            self.remove_under(dir, layer);
        }
        for path in &e.whiteouts {
            self.remove_path(path, layer);
            self.remove_under(path, layer);
        }
        // The directory whose ancestors (itself included) were last found to hold no non-directory. A tar
        // keeps the entries of one directory together, so most paths skip the ancestor lookups; inserting a
        // non-directory at that directory or above it forgets it.
        let mut checked: Option<&str> = None;
        for (path, kind) in &e.entries {
            let dir = crate::paths::parent(path);
            if checked != Some(dir) {
                // A lower-layer non-directory at an ancestor path is replaced by the implied directory.
                for (i, _) in path.match_indices('/') {
                    let anc = &path[..i];
                    if self.live.get(anc).is_some_and(|n| n.kind != EntryKind::Dir) {
                        self.remove_path(anc, layer);
                    }
                }
                checked = Some(dir);
            }
            if *kind != EntryKind::Dir
                && checked.is_some_and(|c| {
                    c.strip_prefix(path.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                })
            {
                checked = None;
            }
            if let Some((old_kind, old_layer)) = self.live.get(path).map(|n| (n.kind.clone(), n.layer)) {
                // Dir over dir: same directory with new metadata, nothing under it changes.
                if !(old_kind == EntryKind::Dir && *kind == EntryKind::Dir) {
                    if old_kind == EntryKind::Dir {
                        self.remove_under(path, layer);
                    }
                    if old_layer != Some(layer) {
                        self.remove_path(path, layer);
                    }
                }
            }
            self.live.insert(path.clone(), Node { layer: Some(layer), kind: kind.clone() });
        }
    }

    fn remove_path(&mut self, path: &str, by: u32) {
        if let Some(n) = self.live.remove(path) {
            self.note_removed(path.to_string(), n, by);
        }
    }

    /// Remove everything strictly under `dir` (`""` = the whole tree).
    fn remove_under(&mut self, dir: &str, by: u32) {
        let victims: Vec<String> = if dir.is_empty() {
            self.live.keys().cloned().collect()
        } else {
            let prefix = format!("{dir}/");
            self.live
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, _)| k.clone())
                .collect()
        };
        for k in victims {
            if let Some(n) = self.live.remove(&k) {
                self.note_removed(k, n, by);
            }
        }
    }

    fn note_removed(&mut self, path: String, n: Node, by: u32) {
        if let (EntryKind::File, Some(l)) = (&n.kind, n.layer)
            && l != by
        {
            self.removed.insert((path, l), by);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(entries: &[(&str, EntryKind)], wh: &[&str], opq: &[&str]) -> LayerEntries {
        LayerEntries {
            entries: entries.iter().map(|(p, k)| (p.to_string(), k.clone())).collect(),
            whiteouts: wh.iter().map(|s| s.to_string()).collect(),
            opaques: opq.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn whiteout_deletes_lower_file_and_records_layer() {
        let mut t = FileTree::layered();
        t.apply_layer(0, &layer(&[("etc", EntryKind::Dir), ("etc/secret", EntryKind::File)], &[], &[]));
        t.apply_layer(1, &layer(&[], &["etc/secret"], &[]));
        assert!(!t.is_live("etc/secret", Some(0)));
        assert_eq!(t.removed_in("etc/secret", Some(0)), Some(1));
        assert_eq!(t.len(), 0);
    }

    #[test]
    fn replacement_keeps_newest_version_only() {
        let mut t = FileTree::layered();
        t.apply_layer(0, &layer(&[("a", EntryKind::File)], &[], &[]));
        t.apply_layer(1, &layer(&[("a", EntryKind::File)], &[], &[]));
        assert!(!t.is_live("a", Some(0)));
        assert!(t.is_live("a", Some(1)));
        assert_eq!(t.removed_in("a", Some(0)), Some(1));
        assert_eq!(t.removed_in("a", Some(1)), None);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn opaque_dir_hides_lower_contents_but_not_own() {
        let mut t = FileTree::layered();
        t.apply_layer(
            0,
            &layer(&[("d", EntryKind::Dir), ("d/old", EntryKind::File), ("keep", EntryKind::File)], &[], &[]),
        );
        t.apply_layer(1, &layer(&[("d", EntryKind::Dir), ("d/new", EntryKind::File)], &[], &["d"]));
        assert!(!t.is_live("d/old", Some(0)));
        assert!(t.is_live("d/new", Some(1)));
        assert!(t.is_live("keep", Some(0)));
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn whiteout_of_directory_removes_subtree() {
        let mut t = FileTree::layered();
        t.apply_layer(
            0,
            &layer(&[("d", EntryKind::Dir), ("d/x/y", EntryKind::File), ("dd", EntryKind::File)], &[], &[]),
        );
        t.apply_layer(1, &layer(&[], &["d"], &[]));
        assert!(!t.is_live("d/x/y", Some(0)));
        assert!(t.is_live("dd", Some(0)), "sibling with common prefix must survive");
    }

    #[test]
    fn file_replacing_dir_and_dir_replacing_file() {
        let mut t = FileTree::layered();
        t.apply_layer(
            0,
            &layer(&[("d", EntryKind::Dir), ("d/f", EntryKind::File), ("g", EntryKind::File)], &[], &[]),
        );
        t.apply_layer(1, &layer(&[("d", EntryKind::File), ("g/h", EntryKind::File)], &[], &[]));
        assert!(!t.is_live("d/f", Some(0)));
        assert!(t.is_live("d", Some(1)));
        assert_eq!(t.removed_in("g", Some(0)), Some(1));
        assert!(t.is_live("g/h", Some(1)));
    }

    #[test]
    fn ancestor_file_written_between_siblings_is_replaced() {
        // The ancestor lookups are skipped for siblings; a non-directory written at (or above) their
        // directory in between must still be replaced by the implied directory.
        let mut t = FileTree::layered();
        t.apply_layer(
            0,
            &layer(
                &[("a/b/x", EntryKind::File), ("a", EntryKind::File), ("a/b/y", EntryKind::File)],
                &[],
                &[],
            ),
        );
        assert!(!t.is_live_entry("a", Some(0)), "a/b/y implies the directory a");
        assert!(t.is_live("a/b/x", Some(0)) && t.is_live("a/b/y", Some(0)));
        let mut t = FileTree::layered();
        t.apply_layer(
            0,
            &layer(
                &[("c/d", EntryKind::File), ("c", EntryKind::Symlink("x".into())), ("c/e", EntryKind::File)],
                &[],
                &[],
            ),
        );
        assert!(!t.is_live_entry("c", Some(0)));
        let mut t = FileTree::layered();
        t.apply_layer(
            0,
            &layer(&[("p/q", EntryKind::File), ("pq", EntryKind::File), ("p/r", EntryKind::File)], &[], &[]),
        );
        assert!(t.is_live_entry("pq", Some(0)), "a name sharing the prefix is not an ancestor");
    }

    #[test]
    fn live_entries_of_every_kind() {
        let mut t = FileTree::layered();
        t.apply_layer(
            0,
            &layer(
                &[
                    ("tmp", EntryKind::Dir),
                    ("bin/sh", EntryKind::Symlink("dash".into())),
                    ("x", EntryKind::Dir),
                ],
                &[],
                &[],
            ),
        );
        t.apply_layer(1, &layer(&[("tmp", EntryKind::Dir)], &["x"], &[]));
        assert!(!t.is_live_entry("tmp", Some(0)), "the later layer's directory metadata wins");
        assert!(t.is_live_entry("tmp", Some(1)));
        assert!(t.is_live_entry("bin/sh", Some(0)));
        assert!(!t.is_live_entry("x", Some(0)), "whited out");
        let flat = FileTree::flat(0, vec![]);
        assert!(flat.is_live_entry("any/dir", None));
    }

    #[test]
    fn whiteout_does_not_hit_same_layer_entry() {
        let mut t = FileTree::layered();
        t.apply_layer(0, &layer(&[("a", EntryKind::File)], &[], &[]));
        t.apply_layer(1, &layer(&[("a", EntryKind::File)], &["a"], &[]));
        assert!(t.is_live("a", Some(1)));
    }

    #[test]
    fn flat_tree_and_symlinks() {
        let t = FileTree::flat(3, vec![("etc/os-release".into(), "../usr/lib/os-release".into())]);
        assert!(t.is_live("anything", None));
        assert!(!t.is_live("anything", Some(0)));
        assert_eq!(t.removed_in("anything", None), None);
        assert_eq!(t.len(), 3);
        assert_eq!(t.symlink_target("etc/os-release"), Some("../usr/lib/os-release"));
        assert_eq!(t.symlink_target("etc/passwd"), None);
    }
}
