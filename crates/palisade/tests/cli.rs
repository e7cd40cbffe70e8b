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
