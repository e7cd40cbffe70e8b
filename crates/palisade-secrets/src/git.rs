//! Secrets in git history: every blob reachable from any commit reachable from `HEAD` is scanned once.
//!
//! Commits are visited oldest first (reverse of the walk from `HEAD`), and a tree or blob already seen is
//! skipped by object id, so each distinct content is scanned exactly once and attributed to the first
//! visited commit containing it (for linear history: the commit that introduced it) under the path it had
//! there. Secrets that a later commit deleted are therefore still reported.

use crate::SecretsError;
use crate::scanner::Scanner;
use crate::sink::{skip_by_name, to_finding};
use palisade_core::Progress;
use palisade_core::findings::secret::{CommitInfo, SecretFinding};
use std::collections::HashSet;
use std::path::Path;

fn git_err(what: &str, e: impl std::fmt::Display) -> SecretsError {
    SecretsError::Git(format!("{what}: {e}"))
}

/// Scan the history of the repository at `repo` (a work tree or a bare repository).
pub fn scan_git_history(
    repo: &Path,
    scanner: &Scanner,
    progress: &Progress,
) -> Result<Vec<SecretFinding>, SecretsError> {
    let repo =
        gix::open(repo).map_err(|e| git_err(&format!("cannot open repository {}", repo.display()), e))?;
    let head = match repo.head_commit() {
        Ok(c) => c,
        // An unborn HEAD (no commits yet) has no history to scan.
        Err(_) if repo.head().is_ok_and(|h| h.is_unborn()) => return Ok(Vec::new()),
        Err(e) => return Err(git_err("cannot resolve HEAD", e)),
    };
    progress.set_stage("git history: listing commits");
    let mut commits = Vec::new();
    let walk = repo.rev_walk([head.id]).all().map_err(|e| git_err("cannot walk history", e))?;
    for info in walk {
        let info = info.map_err(|e| git_err("history walk failed", e))?;
        commits.push(info.id);
    }
    commits.reverse();

    let total = commits.len();
    let mut seen_trees: HashSet<gix::ObjectId> = HashSet::new();
    let mut seen_blobs: HashSet<gix::ObjectId> = HashSet::new();
    let mut findings = Vec::new();
    for (n, id) in commits.into_iter().enumerate() {
        progress.set_stage(format!("git history: commit {}/{total}", n + 1));
        let commit = repo.find_commit(id).map_err(|e| git_err(&format!("cannot read commit {id}"), e))?;
        let info = commit_info(&commit);
        let tree_id = commit.tree_id().map_err(|e| git_err(&format!("commit {id} has no tree"), e))?.detach();
        let mut stack = vec![(tree_id, String::new())];
        while let Some((tid, prefix)) = stack.pop() {
            if !seen_trees.insert(tid) {
                continue;
            }
            let tree = repo.find_tree(tid).map_err(|e| git_err(&format!("cannot read tree {tid}"), e))?;
            let decoded = tree.decode().map_err(|e| git_err(&format!("cannot decode tree {tid}"), e))?;
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
                let blob = repo
                    .find_blob(oid)
                    .map_err(|e| git_err(&format!("cannot read blob {oid} ({path})"), e))?;
                Progress::add(&progress.files_seen, 1);
                Progress::add(&progress.bytes_read, blob.data.len() as u64);
                for m in scanner.scan_bytes(&path, &blob.data) {
                    let mut f = to_finding(m, &path, None);
                    f.commit = Some(info.clone());
                    findings.push(f);
                }
            }
        }
    }
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
    });
    Ok(findings)
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
        let e = scan_git_history(dir.path(), &scanner, &Progress::new()).err().map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("cannot open repository"));
    }
}
