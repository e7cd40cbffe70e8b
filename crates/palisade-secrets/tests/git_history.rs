//! A secret added in one commit and removed in the next is still found in history, attributed to the
//! commit that introduced it; each blob is scanned once; findings serialise without the secret.
//! Builds the repository with the `git` CLI (skips with a message when `git` is not installed).

use palisade_core::Progress;
use palisade_secrets::{Config, HistoryOptions, Scanner, scan_git_history};
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada Author")
        .env("GIT_AUTHOR_EMAIL", "ada@example.invalid")
        .env("GIT_AUTHOR_DATE", "2024-03-01T12:00:00Z")
        .env("GIT_COMMITTER_NAME", "Ada Author")
        .env("GIT_COMMITTER_EMAIL", "ada@example.invalid")
        .env("GIT_COMMITTER_DATE", "2024-03-01T12:00:00Z")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .is_ok_and(|s| s.success())
}

// Synthetic token built at run time so this source file holds no complete secret.
fn stripe_key() -> String {
    format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc9Xq2".repeat(2))
}

#[test]
fn secret_added_then_removed_is_found_in_history() {
    if Command::new("git").arg("--version").output().is_err() {
        println!("SKIP: git CLI not installed");
        return;
    }
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let dir = tmp.path();
    assert!(git(dir, &["init", "-q", "-b", "main"]));
    std::fs::write(dir.join("README.md"), "hello\n").unwrap_or_else(|e| panic!("{e}"));
    assert!(git(dir, &["add", "."]));
    assert!(git(dir, &["commit", "-q", "-m", "initial"]));

    std::fs::create_dir_all(dir.join("config")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("config/payments.env"), format!("STRIPE_KEY={}\n", stripe_key()))
        .unwrap_or_else(|e| panic!("{e}"));
    // The same content at a second path is one blob: scanned (and reported) once.
    std::fs::write(dir.join("config/copy.env"), format!("STRIPE_KEY={}\n", stripe_key()))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(git(dir, &["add", "."]));
    assert!(git(dir, &["commit", "-q", "-m", "add payments config"]));
    let out = Command::new("git").args(["rev-parse", "HEAD"]).current_dir(dir).output();
    let added_in = out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();

    assert!(git(dir, &["rm", "-q", "config/payments.env", "config/copy.env"]));
    assert!(git(dir, &["commit", "-q", "-m", "remove secret"]));
    assert!(!dir.join("config/payments.env").exists());

    let scanner = match Scanner::new(&Config::default()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let progress = Progress::new();
    let findings = match scan_git_history(dir, &scanner, &progress, &HistoryOptions::default()) {
        Ok(h) => h.findings,
        Err(e) => panic!("{e}"),
    };
    let stripe: Vec<_> = findings.iter().filter(|f| f.rule_id == "stripe-secret-key").collect();
    assert_eq!(stripe.len(), 1, "{findings:#?}");
    let f = stripe[0];
    assert!(f.path == "config/copy.env" || f.path == "config/payments.env", "{}", f.path);
    assert_eq!((f.line, f.column), (1, 12));
    let commit = f.commit.as_ref().unwrap_or_else(|| panic!("no commit info"));
    assert_eq!(commit.id, added_in);
    assert_eq!(commit.author, "Ada Author <ada@example.invalid>");
    assert_eq!(commit.date, "2024-03-01T12:00:00Z");
    assert_eq!(f.redacted, "sk_l*****");

    // No output contains the full secret.
    let json = serde_json::to_string(&findings).unwrap_or_default();
    assert!(!json.contains(&stripe_key()), "{json}");
    assert!(!json.contains(&stripe_key()[8..]), "{json}");
    assert!(Progress::get(&progress.files_seen) >= 2);
}

#[test]
fn empty_repository_has_no_findings() {
    if Command::new("git").arg("--version").output().is_err() {
        println!("SKIP: git CLI not installed");
        return;
    }
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    assert!(git(tmp.path(), &["init", "-q"]));
    let scanner = match Scanner::new(&Config::default()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let r = scan_git_history(tmp.path(), &scanner, &Progress::new(), &HistoryOptions::default());
    assert!(matches!(r, Ok(ref h) if h.findings.is_empty() && h.warnings.is_empty()), "{r:?}");
}
