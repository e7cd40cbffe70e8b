//! Secrets in git history: every blob reachable from any commit reachable from `HEAD` is scanned once.
//!
//! Commits are visited oldest first (reverse of the walk from `HEAD`), and a tree or blob already seen is
//! skipped by object id, so each distinct content is scanned exactly once and attributed to the first
//! visited commit containing it (for linear history: the commit that introduced it) under the path it had
//! there. Secrets that a later commit deleted are therefore still reported.
//!
//! One bad object never ends the scan: a commit, tree or blob that cannot be read, and a blob whose header
//! declares more than [`HistoryOptions::max_blob_size`] bytes (checked before it is read: a crafted object
//! declaring 4 GiB costs nothing), becomes a warning naming it, and the rest of the history is scanned.

use crate::SecretsError;
use crate::scanner::Scanner;
use crate::sink::{skip_by_name, to_finding};
use palisade_core::findings::secret::{CommitInfo, SecretFinding};
use palisade_core::{Progress, Warning};
use std::collections::HashSet;
use std::path::Path;

fn git_err(what: &str, e: impl std::fmt::Display) -> SecretsError {
    SecretsError::Git(format!("{what}: {e}"))
}

/// Largest blob read whole by default (the `--max-file-size` default of the other targets).
pub const MAX_BLOB_SIZE: u64 = 256 << 20;

/// Limits of a history scan.
#[derive(Debug, Clone, Copy)]
pub struct HistoryOptions {
    /// Blobs larger than this (by the size their object header declares) are not read: a warning names them.
    pub max_blob_size: u64,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions { max_blob_size: MAX_BLOB_SIZE }
    }
}

/// What a history scan found, and the objects it could not read.
#[derive(Debug, Default)]
pub struct History {
    pub findings: Vec<SecretFinding>,
    pub warnings: Vec<Warning>,
}

fn warn(path: &str, message: String) -> Warning {
    Warning::new("git-history", message).at(path, None)
}

/// Scan the history of the repository at `repo` (a work tree or a bare repository). Fails only when the
/// repository cannot be opened or its `HEAD` resolved; every other problem is a warning in [`History`].
pub fn scan_git_history(
    repo: &Path,
    scanner: &Scanner,
    progress: &Progress,
    opts: &HistoryOptions,
) -> Result<History, SecretsError> {
    let repo =
        gix::open(repo).map_err(|e| git_err(&format!("cannot open repository {}", repo.display()), e))?;
    let mut out = History::default();
    let head = match repo.head_commit() {
        Ok(c) => c,
        // An unborn HEAD (no commits yet) has no history to scan.
        Err(_) if repo.head().is_ok_and(|h| h.is_unborn()) => return Ok(out),
        Err(e) => return Err(git_err("cannot resolve HEAD", e)),
    };
    progress.set_stage("git history: listing commits");
    let mut commits = Vec::new();
    let walk = repo.rev_walk([head.id]).all().map_err(|e| git_err("cannot walk history", e))?;
    for info in walk {
        match info {
            Ok(info) => commits.push(info.id),
            Err(e) => {
                out.warnings.push(warn(
                    "",
                    format!(
                        "history walk failed after {} commits: {e}; the older commits are not scanned",
                        commits.len()
                    ),
                ));
                break;
            }
        }
    }
    commits.reverse();

    let total = commits.len();
    let mut seen_trees: HashSet<gix::ObjectId> = HashSet::new();
    let mut seen_blobs: HashSet<gix::ObjectId> = HashSet::new();
    for (n, id) in commits.into_iter().enumerate() {
        progress.set_stage(format!("git history: commit {}/{total}", n + 1));
        let commit = match repo.find_commit(id) {
            Ok(c) => c,
            Err(e) => {
                out.warnings.push(warn("", format!("cannot read commit {id}: {e}; skipped")));
                continue;
            }
        };
        let info = commit_info(&commit);
        let tree_id = match commit.tree_id() {
            Ok(t) => t.detach(),
            Err(e) => {
                out.warnings.push(warn("", format!("commit {id} has no readable tree: {e}; skipped")));
                continue;
            }
        };
        let mut stack = vec![(tree_id, String::new())];
        while let Some((tid, prefix)) = stack.pop() {
            if !seen_trees.insert(tid) {
                continue;
            }
            let tree = match repo.find_tree(tid) {
                Ok(t) => t,
                Err(e) => {
                    out.warnings
                        .push(warn(&prefix, format!("cannot read tree {tid} (commit {id}): {e}; skipped")));
                    continue;
                }
            };
            let decoded = match tree.decode() {
                Ok(d) => d,
                Err(e) => {
                    out.warnings
                        .push(warn(&prefix, format!("cannot decode tree {tid} (commit {id}): {e}; skipped")));
                    continue;
                }
            };
            for entry in &decoded.entries {
                let name = String::from_utf8_lossy(entry.filename.as_ref());
                let path = if prefix.is_empty() { name.into_owned() } else { format!("{prefix}/{name}") };
                let oid = entry.oid.to_owned();
                if entry.mode.is_tree() {
                    stack.push((oid, path));
                    continue;
                }
                if !entry.mode.is_blob() || !seen_blobs.insert(oid) {
                    continue;
                }
                if scanner.path_allowed(&path) || (skip_by_name(&path) && !scanner.path_is_secret_file(&path))
                {
                    continue;
                }
                // The size the object header declares, before anything is read or allocated for it.
                match repo.find_header(oid) {
                    Ok(h) if h.size() > opts.max_blob_size => {
                        out.warnings.push(warn(
                            &path,
                            format!(
                                "blob {oid} (commit {id}) is {} bytes, over the {} byte limit (max_file_size); not read",
                                h.size(),
                                opts.max_blob_size
                            ),
                        ));
                        continue;
                    }
                    Ok(h) => {
                        if let Err(why) = palisade_core::memory::admit(h.size()) {
                            out.warnings.push(warn(&path, format!("blob {oid} (commit {id}): {why}")));
                            continue;
                        }
                    }
                    Err(e) => {
                        out.warnings
                            .push(warn(&path, format!("cannot read blob {oid} (commit {id}): {e}; skipped")));
                        continue;
                    }
                }
                let blob = match repo.find_blob(oid) {
                    Ok(b) => b,
                    Err(e) => {
                        out.warnings
                            .push(warn(&path, format!("cannot read blob {oid} (commit {id}): {e}; skipped")));
                        continue;
                    }
                };
                Progress::add(&progress.files_seen, 1);
                Progress::add(&progress.bytes_read, blob.data.len() as u64);
                for m in scanner.scan_bytes(&path, &blob.data) {
                    let mut f = to_finding(m, &path, None);
                    f.commit = Some(info.clone());
                    out.findings.push(f);
                }
            }
        }
    }
    out.findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
    });
    Ok(out)
}

fn commit_info(commit: &gix::Commit<'_>) -> CommitInfo {
    let (author, date) = match commit.author() {
        Ok(sig) => {
            let secs = sig.seconds();
            (format!("{} <{}>", sig.name, sig.email), rfc3339_utc(secs))
        }
        Err(_) => (String::new(), String::new()),
    };
    CommitInfo { id: commit.id.to_string(), author, date }
}

/// Format seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, (rem % 3600) / 60, rem % 60)
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn not_a_repository_is_an_error() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let scanner = match Scanner::new(&crate::Config::default()) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let e = scan_git_history(dir.path(), &scanner, &Progress::new(), &HistoryOptions::default())
            .err()
            .map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("cannot open repository"));
    }
}
