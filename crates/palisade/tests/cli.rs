//! CLI behaviour that needs no fixtures: help, exit codes, clear errors, stdout carrying only the report.

use assert_cmd::Command;
use predicates::prelude::*;

fn palisade() -> Command {
    Command::cargo_bin("palisade").unwrap()
}

#[test]
fn help_documents_exit_codes() {
    palisade()
        .args(["scan", "rootfs", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes"));
}

#[test]
fn missing_target_is_a_clear_error_with_exit_2() {
    palisade()
        .args(["scan", "rootfs", "/nonexistent/palisade-test"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/palisade-test"));
    palisade()
        .args(["scan", "image", "--input", "/nonexistent/image.tar"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/image.tar"));
}

#[test]
fn fs_scan_of_a_project_reports_its_lockfile_and_nothing_else_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.9\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n\
         [[package]]\nname = \"me\"\nversion = \"0.1.0\"\ndependencies = [\"itoa\"]\n",
    )
    .unwrap();
    let out =
        palisade().args(["scan", "fs", dir.path().to_str().unwrap(), "--format", "json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("only JSON on stdout");
    let pkgs = report["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), 1, "{pkgs:?}");
    assert_eq!(pkgs[0]["purl"], "pkg:cargo/itoa@1.0.9");
    assert_eq!(pkgs[0]["locations"][0]["path"], "Cargo.lock");
}

#[test]
fn corrupt_lockfile_warns_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package-lock.json"), "{ this is not json").unwrap();
    std::fs::write(
        dir.path().join("Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.9\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let out =
        palisade().args(["scan", "fs", dir.path().to_str().unwrap(), "--format", "json"]).output().unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["packages"].as_array().unwrap().len(), 1);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w["path"] == "package-lock.json"), "{warnings:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("package-lock.json"));
}

/// A synthetic AWS secret key (not a real credential) in a config file.
const FAKE_AWS_SECRET: &str = "AWS_SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ9xk3pLm2\n";

#[test]
fn exit_code_gate_fails_on_active_findings_and_ignore_file_suppresses_visibly() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("settings.env"), FAKE_AWS_SECRET).unwrap();
    let scan = |cwd: &std::path::Path| {
        palisade()
            .current_dir(cwd)
            .args(["scan", "fs", ".", "--scanners", "secret", "--exit-code", "3", "--format", "json", "-q"])
            .output()
            .unwrap()
    };
    let out = scan(dir.path());
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ9xk3pLm2"), "full secret in JSON output");

    std::fs::write(
        dir.path().join(".palisadeignore"),
        "ignore:\n  - id: aws-secret-access-key\n    reason: rotated\n",
    )
    .unwrap();
    let out = scan(dir.path());
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &report["secrets"][0];
    assert_eq!(s["rule_id"], "aws-secret-access-key");
    assert!(s["suppressed"].as_str().unwrap().contains("rotated"), "suppressed findings stay visible: {s}");
}

#[test]
fn severity_filter_drops_findings_below_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM ubuntu:latest\nRUN curl -k https://example.com/i.sh | sh\n",
    )
    .unwrap();
    let out = palisade()
        .args([
            "scan",
            "config",
            dir.path().to_str().unwrap(),
            "--severity",
            "high",
            "--format",
            "json",
            "-q",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = report["misconfigurations"].as_array().unwrap();
    assert!(!m.is_empty());
    assert!(m.iter().all(|f| f["severity"] == "high"), "{m:?}");
    assert!(m.iter().any(|f| f["check_id"] == "PAL-DF-027" && f["line"] == 2), "curl -k on line 2: {m:?}");
}

#[test]
fn scan_config_reads_stdin_and_reports_line_numbers() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25\n    securityContext:\n      privileged: true\n";
    let out = palisade()
        .args(["scan", "config", "-", "--checks", "pss:baseline", "--format", "json", "--exit-code", "4"])
        .write_stdin(pod)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &report["misconfigurations"][0];
    assert_eq!(f["line"], 10, "{f}");
    assert_eq!(f["resource"]["kind"], "Pod");
}

#[test]
fn missing_vulnerability_db_is_a_warning_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("settings.env"), FAKE_AWS_SECRET).unwrap();
    let out = palisade()
        .args(["scan", "fs", dir.path().to_str().unwrap(), "--scanners", "vuln,secret", "--format", "json"])
        .args(["--db", dir.path().join("absent.db").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["secrets"].as_array().unwrap().len(), 1, "other scanners still run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("palisade db update"), "says how to get a DB: {stderr}");
}

#[test]
fn repo_history_finds_a_secret_that_head_no_longer_has() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"])
            .args(args)
            .current_dir(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !git(&["init", "-q"]) {
        eprintln!("skipping: git is not installed");
        return;
    }
    std::fs::write(dir.path().join("settings.env"), FAKE_AWS_SECRET).unwrap();
    assert!(git(&["add", "."]) && git(&["commit", "-q", "-m", "add config"]));
    std::fs::write(dir.path().join("settings.env"), "AWS_SECRET=from-the-vault\n").unwrap();
    assert!(git(&["commit", "-q", "-am", "remove the key"]));

    let scan = |history: bool| -> serde_json::Value {
        let mut cmd = palisade();
        cmd.args([
            "scan",
            "repo",
            dir.path().to_str().unwrap(),
            "--scanners",
            "secret",
            "--format",
            "json",
            "-q",
        ]);
        if history {
            cmd.arg("--history");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert!(scan(false)["secrets"].as_array().is_none_or(|s| s.is_empty()), "HEAD no longer has the key");
    let report = scan(true);
    let found = &report["secrets"][0];
    assert_eq!(found["rule_id"], "aws-secret-access-key", "{report}");
    assert_eq!(found["path"], "settings.env");
    assert!(found["commit"]["id"].as_str().is_some_and(|id| id.len() == 40), "{found}");
}

#[test]
fn fs_gitignore_leaves_out_ignored_files_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("build")).unwrap();
    std::fs::write(dir.path().join(".gitignore"), "/build/\n").unwrap();
    std::fs::write(dir.path().join("build/settings.env"), FAKE_AWS_SECRET).unwrap();
    let paths = |gitignore: bool| -> Vec<String> {
        let mut cmd = palisade();
        cmd.args([
            "scan",
            "fs",
            dir.path().to_str().unwrap(),
            "--scanners",
            "secret",
            "--format",
            "json",
            "-q",
        ]);
        if gitignore {
            cmd.arg("--gitignore");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let secrets = report["secrets"].as_array().cloned().unwrap_or_default();
        secrets.iter().filter_map(|s| s["path"].as_str().map(str::to_string)).collect()
    };
    assert_eq!(paths(false), vec!["build/settings.env".to_string()]);
    assert!(paths(true).is_empty());
}
