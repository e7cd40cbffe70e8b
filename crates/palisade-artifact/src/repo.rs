//! Git repositories: the committed tree of HEAD, read from the object database with gix.
//!
//! Only committed content is scanned (not the work tree, not other branches or history). Each blob becomes
//! a file with its tree-entry mode (`0o644` or `0o755`); symlinks are recorded with their target, never
//! followed; submodules are skipped. Blob sizes come from object headers, so only wanted blobs are
//! decompressed, in parallel. [`ArtifactInfo::id`] is the HEAD commit id. A repository without commits is
//! scanned as a directory (without `.git`) after a warning.

use crate::tree::FileTree;
use crate::{ArtifactError, FileMeta, FileSink, Options, dir, warn};
use palisade_core::{ArtifactInfo, ArtifactKind, Warnings};
use rayon::prelude::*;
use std::path::Path;

/// Scan a git repository target.
pub(crate) fn scan_repo(
    path: &Path,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> Result<(ArtifactInfo, FileTree), ArtifactError> {
    let target = path.display().to_string();
    std::fs::metadata(path).map_err(|e| ArtifactError::io(&target, &e))?;
    let err = |reason: String| ArtifactError::Repo { target: target.clone(), reason };
    let repo = gix::open(path).map_err(|e| err(e.to_string()))?;
    let mut info = ArtifactInfo::new(ArtifactKind::Repo, target.clone());
    let unborn = repo.head().map_err(|e| err(format!("cannot read HEAD: {e}")))?.is_unborn();
    if unborn {
        warn(
            warnings,
            None,
            None,
            format!("{target}: repository has no commits; scanning its work tree instead (without .git)"),
        );
        let root = repo.workdir().unwrap_or(path).to_path_buf();
        let tree = dir::walk(&root, opts, sink, warnings, true)?;
        return Ok((info, tree));
    }
    let (commit_id, records) = {
        let commit = repo.head_commit().map_err(|e| err(format!("cannot resolve HEAD to a commit: {e}")))?;
        let tree = commit.tree().map_err(|e| err(format!("cannot read the tree of HEAD: {e}")))?;
        let mut rec = gix::traverse::tree::Recorder::default();
        tree.traverse()
            .breadthfirst(&mut rec)
            .map_err(|e| err(format!("cannot walk the tree of HEAD: {e}")))?;
        (commit.id, rec.records)
    };
    info.id = Some(commit_id.to_string());
    opts.stage(format!("reading {target} at {commit_id}"));

    let mut symlinks = Vec::new();
    let mut blobs = Vec::new();
    for e in records {
        let p = e.filepath.to_string();
        if e.mode.is_link() {
            let t = repo
                .find_object(e.oid)
                .map(|o| String::from_utf8_lossy(&o.data).into_owned())
                .unwrap_or_default();
            symlinks.push((p, t));
        } else if e.mode.is_blob() {
            let mode =
                if e.mode.kind() == gix::objs::tree::EntryKind::BlobExecutable { 0o755 } else { 0o644 };
            blobs.push((p, e.oid, mode));
        }
    }
    let files = blobs.len();
    let sync = repo.into_sync();
    blobs.par_iter().for_each_init(
        || sync.to_thread_local(),
        |repo, (path, oid, mode)| {
            opts.bump(|p| &p.files_seen, 1);
            let size = match repo.find_header(*oid) {
                Ok(h) => h.size(),
                Err(e) => {
                    warn(warnings, Some(path), None, format!("cannot read blob {oid}: {e}"));
                    return;
                }
            };
            let meta = FileMeta { path, size, mode: *mode, layer: None };
            if !sink.wants(&meta) {
                return;
            }
            if size > opts.limits.max_file_size {
                warn(
                    warnings,
                    Some(path),
                    None,
                    format!(
                        "file is {size} bytes, over the {} byte limit (max_file_size); not read",
                        opts.limits.max_file_size
                    ),
                );
                return;
            }
            match repo.find_object(*oid) {
                Ok(obj) => {
                    opts.bump(|p| &p.bytes_read, obj.data.len() as u64);
                    sink.accept(&meta, &obj.data, warnings);
                }
                Err(e) => warn(warnings, Some(path), None, format!("cannot read blob {oid}: {e}")),
            }
        },
    );
    Ok((info, FileTree::flat(files, symlinks)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Recorder;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> bool {
        Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir)
            .status()
            .is_ok_and(|s| s.success())
    }

    #[test]
    fn reads_committed_tree_not_worktree() {
        let d = tempfile::tempdir().expect("tempdir");
        let r = d.path();
        if !git(r, &["init", "-q"]) {
            eprintln!("git not available; skipping");
            return;
        }
        std::fs::create_dir(r.join("src")).expect("mkdir");
        std::fs::write(r.join("src/main.rs"), "fn main() {}\n").expect("write");
        std::fs::write(r.join("run.sh"), "#!/bin/sh\n").expect("write");
        std::os::unix::fs::symlink("/etc/passwd", r.join("link")).expect("symlink");
        assert!(git(r, &["add", "-A"]));
        assert!(git(r, &["update-index", "--chmod=+x", "run.sh"]));
        assert!(git(r, &["commit", "-q", "-m", "init"]));
        std::fs::write(r.join("src/main.rs"), "changed but not committed").expect("write");
        std::fs::write(r.join("untracked"), "x").expect("write");
        let sink = Recorder::all();
        let w = Warnings::new();
        let (info, tree) = scan_repo(r, &Options::default(), &sink, &w).expect("scan");
        assert!(w.is_empty(), "{:?}", w.into_vec());
        assert_eq!(info.kind, ArtifactKind::Repo);
        assert_eq!(info.id.as_deref().map(str::len), Some(40));
        assert_eq!(sink.paths(), vec!["run.sh".to_string(), "src/main.rs".to_string()]);
        assert_eq!(sink.content("src/main.rs", None).as_deref(), Some(&b"fn main() {}\n"[..]));
        assert_eq!(tree.len(), 2);
        assert_eq!(tree.symlink_target("link"), Some("/etc/passwd"));
    }

    #[test]
    fn unborn_repo_falls_back_to_dir_walk() {
        let d = tempfile::tempdir().expect("tempdir");
        if !git(d.path(), &["init", "-q"]) {
            eprintln!("git not available; skipping");
            return;
        }
        std::fs::write(d.path().join("a.txt"), "a").expect("write");
        let sink = Recorder::all();
        let w = Warnings::new();
        let (info, _) = scan_repo(d.path(), &Options::default(), &sink, &w).expect("scan");
        assert!(info.id.is_none());
        assert_eq!(sink.paths(), vec!["a.txt".to_string()]);
        assert!(w.into_vec().iter().any(|w| w.message.contains("no commits")));
    }

    #[test]
    fn not_a_repo_is_an_error() {
        let d = tempfile::tempdir().expect("tempdir");
        let e = scan_repo(d.path(), &Options::default(), &Recorder::all(), &Warnings::new());
        assert!(matches!(e, Err(ArtifactError::Repo { .. })), "{e:?}");
    }
}
