//! A Trivy user's habits work: top-level `image|fs|...`, the short flags, `--skip-dirs`/`--skip-files`,
//! `--pkg-types`, `--timeout`, every flag from `PALISADE_<FLAG>` and from `palisade.yaml`, with command line
//! over environment over config file; a local archive given as an image reference gets the exact `--input`
//! command; Trivy commands Palisade lacks get a tip.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_palisade"));
    c.args(args).current_dir(cwd);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn err(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const CARGO_LOCK: &str = "version = 3\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.9\"\n\
     source = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
const SECRET: &str = "AWS_SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ9xk3pLm2\n";

/// A project with a lockfile, a secret at the top and the same secret under `vendor/` and in a `.pem`.
fn project() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("Cargo.lock"), CARGO_LOCK).unwrap();
    std::fs::write(d.path().join("app.env"), SECRET).unwrap();
    std::fs::create_dir_all(d.path().join("vendor/lib")).unwrap();
    std::fs::write(d.path().join("vendor/lib/x.env"), SECRET).unwrap();
    std::fs::write(d.path().join("vendor/lib/Cargo.lock"), CARGO_LOCK.replace("itoa", "ryu")).unwrap();
    std::fs::create_dir_all(d.path().join("certs")).unwrap();
    std::fs::write(d.path().join("certs/key.env"), SECRET).unwrap();
    d
}

fn secret_paths(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn top_level_words_and_short_flags_work_as_in_trivy() {
    let p = project();
    let dir = p.path().to_str().unwrap();
    let out = run(&["fs", "-f", "json", "-s", "CRITICAL,HIGH", "--allow-missing-db", dir], p.path(), &[]);
    assert!(out.status.success(), "{}", err(&out));
    let report = json(&out);
    assert_eq!(report["artifact"]["kind"], "fs");
    assert_eq!(secret_paths(&report).len(), 3, "{report}");
    let out = run(&["filesystem", dir, "--format", "json", "--allow-missing-db", "-q"], p.path(), &[]);
    assert!(out.status.success(), "{}", err(&out));
    // -o writes a file.
    let file = p.path().join("out.json");
    let out = run(&["rootfs", dir, "-f", "json", "-o", file.to_str().unwrap(), "-q"], p.path(), &[]);
    assert!(out.status.success(), "{}", err(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(json(&Output { stdout: std::fs::read(&file).unwrap(), ..out })["artifact"]["kind"], "rootfs");
}

#[test]
fn skip_dirs_and_skip_files_leave_paths_out() {
    let p = project();
    let dir = p.path().to_str().unwrap();
    let out = run(
        &[
            "fs",
            dir,
            "-f",
            "json",
            "-q",
            "--allow-missing-db",
            "--skip-dirs",
            "vendor",
            "--skip-files",
            "**/key.env",
        ],
        p.path(),
        &[],
    );
    assert!(out.status.success(), "{}", err(&out));
    let report = json(&out);
    assert_eq!(secret_paths(&report), ["app.env"]);
    let pkgs: Vec<&str> =
        report["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(pkgs, ["itoa"], "the vendored lockfile is left out too");
    // A pattern that includes the target path as typed is stripped of it.
    let out = run(
        &["fs", dir, "-f", "json", "-q", "--allow-missing-db", "--skip-dirs", &format!("{dir}/vendor")],
        p.path(),
        &[],
    );
    assert!(!secret_paths(&json(&out)).contains(&"vendor/lib/x.env".to_string()));
    let out = run(&["fs", dir, "--skip-dirs", "a[", "-q"], p.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(err(&out).contains("--skip-dirs \"a[\""), "{}", err(&out));
}

#[test]
fn pkg_types_selects_os_or_library_packages() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("etc")).unwrap();
    std::fs::create_dir_all(d.path().join("var/lib/dpkg")).unwrap();
    std::fs::write(d.path().join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    std::fs::write(
        d.path().join("var/lib/dpkg/status"),
        "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\n\n",
    )
    .unwrap();
    std::fs::write(d.path().join("Cargo.lock"), CARGO_LOCK).unwrap();
    let dir = d.path().to_str().unwrap();
    let eco = |types: &str| -> Vec<String> {
        let out = run(
            &["rootfs", dir, "-f", "json", "-q", "--scanners", "package", "--pkg-types", types],
            d.path(),
            &[],
        );
        assert!(out.status.success(), "{}", err(&out));
        json(&out)["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["ecosystem"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(eco("os"), ["deb"]);
    assert_eq!(eco("library"), ["cargo"]);
    assert_eq!(eco("os,library").len(), 2);
}

#[test]
fn environment_and_config_file_set_flags_with_the_command_line_first() {
    let p = project();
    let dir = p.path().to_str().unwrap();
    // Config file in the current directory: Trivy's nested sections work too.
    std::fs::write(
        p.path().join("palisade.yaml"),
        "format: json\nscan:\n  skip-dirs:\n    - vendor\nvulnerability:\n  allow-missing-db: true\nquiet: true\n",
    )
    .unwrap();
    let out = run(&["fs", dir], p.path(), &[]);
    assert!(out.status.success(), "{}", err(&out));
    assert_eq!(secret_paths(&json(&out)), ["app.env", "certs/key.env"]);
    // The environment beats the file; the command line beats both.
    let out = run(&["fs", dir], p.path(), &[("PALISADE_SKIP_DIRS", "certs"), ("PALISADE_EXIT_CODE", "5")]);
    assert_eq!(out.status.code(), Some(5), "{}", err(&out));
    assert_eq!(secret_paths(&json(&out)), ["app.env", "vendor/lib/x.env"]);
    let out = run(
        &["fs", dir, "--skip-dirs", "vendor,certs", "-f", "table"],
        p.path(),
        &[("PALISADE_FORMAT", "sarif")],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("Artifact:"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A switch from the environment.
    let out = run(
        &["fs", dir, "--format", "json"],
        p.path(),
        &[("PALISADE_QUIET", "false"), ("PALISADE_NO_PROGRESS", "1")],
    );
    assert!(out.status.success());
    assert!(err(&out).contains("warning") || err(&out).contains("incomplete"), "not quiet: {}", err(&out));
    // --config names another file; an unknown key is a warning naming it; a missing --config is an error.
    let other = p.path().join("ci.yaml");
    std::fs::write(&other, "format: json\nsevrity: high\n").unwrap();
    let out =
        run(&["--config", other.to_str().unwrap(), "fs", dir], tempfile::tempdir().unwrap().path(), &[]);
    assert!(err(&out).contains("ci.yaml: `sevrity` is not a Palisade flag"), "{}", err(&out));
    json(&out);
    let out = run(&["--config", "/nonexistent.yaml", "fs", dir], p.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(err(&out).contains("/nonexistent.yaml"), "{}", err(&out));
    // A malformed file is an error naming it.
    std::fs::write(&other, "format: [json\n").unwrap();
    let out = run(&["--config", other.to_str().unwrap(), "fs", dir], p.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(err(&out).contains("ci.yaml"), "{}", err(&out));
}

#[test]
fn an_archive_given_as_a_reference_gets_the_exact_input_command() {
    let d = tempfile::tempdir().unwrap();
    // A minimal OCI layout is enough for detection.
    std::fs::write(d.path().join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(d.path().join("index.json"), r#"{"schemaVersion":2,"manifests":[]}"#).unwrap();
    let layout = d.path().to_str().unwrap();
    let out = run(&["image", layout, "--format", "json"], d.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let e = err(&out);
    assert!(e.contains(&format!("`palisade image --input {layout} --format json`")), "{e}");
}

#[test]
fn trivy_commands_palisade_lacks_get_a_tip_and_unknown_words_a_suggestion() {
    let d = tempfile::tempdir().unwrap();
    let out = run(&["k8s", "cluster"], d.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(err(&out).contains("palisade scan cluster --from"), "{}", err(&out));
    let out = run(&["scna", "fs", "."], d.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(err(&out).contains("scan"), "{}", err(&out));
}

#[test]
fn timeout_stops_a_scan_that_runs_too_long() {
    let d = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "rootfs",
            "/usr",
            "--timeout",
            "1ms",
            "--scanners",
            "secret",
            "-o",
            d.path().join("r.json").to_str().unwrap(),
        ],
        d.path(),
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", err(&out));
    assert!(err(&out).contains("--timeout"), "{}", err(&out));
    assert!(!d.path().join("r.json").exists(), "no partial report");
    let out = run(&["fs", ".", "--timeout", "soon"], d.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(err(&out).contains("not a duration"), "{}", err(&out));
}
