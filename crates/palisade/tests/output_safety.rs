//! `--output` never damages the machine: a character device (the `/dev/null` case, made with `mknod` in a
//! temp dir), a FIFO and a planted symlink are each handled without replacing or writing through what is
//! there; a regular file is replaced whole and keeps its permissions; the temporary file has no predictable
//! name that a planted link could pre-empt.

use std::os::unix::fs::{FileTypeExt, PermissionsExt, symlink};
use std::path::Path;
use std::process::{Command, Output};

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().unwrap()
}

/// A tiny project to scan: one Cargo.lock package, no DB needed (`--scanners package`).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.9\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    dir
}

fn scan_to(target: &Path, out: &Path) -> Output {
    palisade(&[
        "scan",
        "fs",
        target.to_str().unwrap(),
        "--scanners",
        "package",
        "--format",
        "json",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ])
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn a_character_device_is_written_in_place_and_stays_a_device() {
    if !is_root() {
        eprintln!("skipping: mknod needs root");
        return;
    }
    let p = project();
    let dir = tempfile::tempdir().unwrap();
    let null = dir.path().join("null");
    let st = Command::new("mknod").args(["-m", "666"]).arg(&null).args(["c", "1", "3"]).status().unwrap();
    assert!(st.success());
    let out = scan_to(p.path(), &null);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta = std::fs::symlink_metadata(&null).unwrap();
    assert!(meta.file_type().is_char_device(), "the device node was replaced");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left beside it");
    // And the real one.
    let out = scan_to(p.path(), Path::new("/dev/null"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::symlink_metadata("/dev/null").unwrap().file_type().is_char_device());
}

#[test]
fn a_fifo_receives_the_report_and_stays_a_fifo() {
    let p = project();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = scan_to(p.path(), &fifo);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&reader.join().unwrap()).unwrap();
    assert_eq!(report["packages"][0]["name"], "itoa");
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn a_planted_symlink_is_neither_followed_nor_replaced() {
    let p = project();
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let out_path = dir.path().join("report.json");
    symlink(&victim, &out_path).unwrap();
    let out = scan_to(p.path(), &out_path);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("symbolic link") && err.contains("report.json"), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&out_path).unwrap().file_type().is_symlink());
    // The refusal comes before the scan, and the old predictable temporary name is never used: a link
    // planted there stays untouched.
    let old_tmp = dir.path().join("report.palisade-tmp");
    symlink(&victim, &old_tmp).unwrap();
    std::fs::remove_file(&out_path).unwrap();
    let out = scan_to(p.path(), &out_path);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::symlink_metadata(&old_tmp).unwrap().file_type().is_symlink());
    assert!(std::fs::symlink_metadata(&out_path).unwrap().file_type().is_file());
}

#[test]
fn a_regular_file_is_replaced_whole_and_keeps_its_mode() {
    let p = project();
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("report.json");
    std::fs::write(&out_path, "old").unwrap();
    std::fs::set_permissions(&out_path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = scan_to(p.path(), &out_path);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out_path).unwrap()).unwrap();
    assert_eq!(report["packages"][0]["name"], "itoa");
    assert_eq!(std::fs::metadata(&out_path).unwrap().permissions().mode() & 0o7777, 0o640);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_bad_output_path_fails_before_the_scan() {
    let p = project();
    let out = scan_to(p.path(), Path::new("/nonexistent-dir/report.json"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent-dir"), "{err}");
    assert!(out.stdout.is_empty());
}
