//! The small defects a new user met, each as a test: policy warnings reach stderr; the stale-DB warning is
//! printed once; no Rust `Debug` output reaches users; errors do not repeat their cause; history tables name
//! the commit; the package count is shown beside vulnerabilities.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn palisade(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).current_dir(cwd).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn feed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-vulndb/tests/fixtures/feed/osv")
}

/// A project with one vulnerable npm package (from the vulndb test feed) and a DB built from that feed.
fn project_and_db() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join("package-lock.json"),
        r#"{"name":"p","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"p","version":"1.0.0"},
            "node_modules/demo-lib":{"version":"2.1.0"}}}"#,
    )
    .unwrap();
    let db = dir.path().join("vuln.db").to_str().unwrap().to_string();
    let out = palisade(&["db", "build", "--db", &db, "--from", feed().to_str().unwrap()], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let p = project.to_str().unwrap().to_string();
    (dir, p, db)
}

#[test]
fn policy_warnings_reach_stderr() {
    let (dir, project, db) = project_and_db();
    std::fs::write(
        dir.path().join(".palisadeignore"),
        "ignore:\n  - id: GHSA-demo-0001-0001\n    reason: old decision\n    expires: 2020-01-01\n",
    )
    .unwrap();
    let out = palisade(&["scan", "fs", &project, "--db", &db, "--format", "json"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("expired ignore entry"), "{}", stderr(&out));
}

#[test]
fn a_stale_db_is_warned_about_once() {
    let (dir, project, db) = project_and_db();
    let aged = Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);c.execute(\"UPDATE meta SET value='2020-01-01T00:00:00Z' WHERE key='built_at'\");c.commit()")
        .arg(&db)
        .status();
    if !aged.is_ok_and(|s| s.success()) {
        eprintln!("skipping: python3 with sqlite3 is not available");
        return;
    }
    let out = palisade(&["scan", "fs", &project, "--db", &db, "--format", "json"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out).matches("days old").count(), 1, "{}", stderr(&out));
}

#[test]
fn no_rust_debug_output_reaches_users() {
    let (dir, _, db) = project_and_db();
    let out = palisade(&["db", "build", "--db", &db, "--from", feed().to_str().unwrap()], dir.path());
    let e = stderr(&out);
    assert!(!e.contains("FeedStats") && !e.contains(" { "), "{e}");
    assert!(e.contains("documents") && e.contains("advisories"), "{e}");
    let out = palisade(&["db", "info", "--db", &db, "--json"], dir.path());
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(info["age_seconds"].is_u64(), "{info}");
    assert!(!stdout(&out).contains("\"secs\""), "{}", stdout(&out));
}

#[test]
fn errors_do_not_repeat_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["scan", "rootfs", "/nonexistent/palisade-test"],
        vec!["db", "info", "--db", "/nonexistent/palisade.db"],
        vec!["convert", "/nonexistent/report.json"],
    ] {
        let out = palisade(&args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let e = stderr(&out);
        assert!(e.matches("os error 2").count() <= 1, "{args:?}: {e}");
        assert!(e.matches("No such file or directory").count() <= 1, "{args:?}: {e}");
    }
}

#[test]
fn the_table_counts_packages_beside_vulnerabilities() {
    let (dir, project, db) = project_and_db();
    let out = palisade(&["scan", "fs", &project, "--db", &db, "--scanners", "vuln"], dir.path());
    let t = stdout(&out);
    assert!(t.contains("Packages: 1 (npm 1)"), "{t}");
    assert!(!t.contains("none found"), "{t}");
    assert!(t.contains("demo-lib"), "{t}");
}

#[test]
fn history_tables_name_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir.path())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !git(&["init", "-q"]) {
        eprintln!("skipping: git is not installed");
        return;
    }
    std::fs::write(dir.path().join("settings.env"), "AWS_SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ9xk3pLm2\n")
        .unwrap();
    assert!(git(&["add", "."]) && git(&["commit", "-q", "-m", "add config"]));
    let head = Command::new("git").args(["rev-parse", "HEAD"]).current_dir(dir.path()).output().unwrap();
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    let out = palisade(
        &["scan", "repo", dir.path().to_str().unwrap(), "--scanners", "secret", "--history", "-q"],
        dir.path(),
    );
    let t = stdout(&out);
    assert!(t.contains("Commit") && t.contains(&head[..12]), "{t}");
}
