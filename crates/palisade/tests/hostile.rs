//! Hostile input (issue 11): each reproduction of the issue as a test, generated here rather than committed.
//! Every run of the binary is under a timeout: a hang is a failure, not a stuck CI job.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Run the binary; kill it and fail when it takes longer than `limit`.
fn run(args: &[&str], cwd: &Path, limit: Duration) -> Output {
    run_with_stdin(args, cwd, limit, Stdio::null())
}

/// [`run`] with `stdin` as the child's standard input.
fn run_with_stdin(args: &[&str], cwd: &Path, limit: Duration, stdin: Stdio) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(cwd)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("palisade {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const LIMIT: Duration = Duration::from_secs(60);
const RECURSIVE: &str = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)";

fn feed() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-vulndb/tests/fixtures/feed/osv")
}

/// A rootfs whose rpmdb.sqlite `Packages` is a recursive view: the scan ends at once with a warning naming
/// the file, and the other packages of the rootfs are still reported.
#[test]
fn recursive_view_in_a_scanned_rpmdb_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let rpm = root.join("var/lib/rpm");
    std::fs::create_dir_all(&rpm).unwrap();
    let c = rusqlite::Connection::open(rpm.join("rpmdb.sqlite")).unwrap();
    c.execute_batch(
        "CREATE VIEW Packages AS WITH RECURSIVE r(hnum, blob) AS \
         (SELECT 1, x'00' UNION ALL SELECT hnum + 1, blob FROM r) SELECT * FROM r;",
    )
    .unwrap();
    drop(c);
    std::fs::write(
        root.join("Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.9\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    for cmd in [["scan", "rootfs"], ["scan", "fs"]] {
        let out = run(
            &[cmd[0], cmd[1], root.to_str().unwrap(), "--scanners", "package", "--format", "json", "-q"],
            dir.path(),
            LIMIT,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let warnings = report["warnings"].to_string();
        assert!(warnings.contains("rpmdb.sqlite") && warnings.contains("is a view"), "{warnings}");
        assert!(report.to_string().contains("\"itoa\""), "the rest of the rootfs is still scanned");
    }
}

/// A vulnerability DB whose `affected` or `meta` table is a recursive view: `db info` and a scan fail fast
/// with an error naming the file.
#[test]
fn recursive_view_in_the_vulnerability_db_does_not_hang() {
    for (table, view) in [
        (
            "affected",
            format!(
                "affected(ecosystem, name, advisory, json) AS {RECURSIVE} SELECT 'npm', 'demo-lib', n, '{{}}' FROM r"
            ),
        ),
        ("meta", format!("meta(key, value) AS {RECURSIVE} SELECT 'schema_version', '1' FROM r")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("vuln.db");
        let dbs = db.to_str().unwrap();
        let out = run(&["db", "build", "--db", dbs, "--from", feed().to_str().unwrap()], dir.path(), LIMIT);
        assert!(out.status.success(), "{}", stderr(&out));
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(&format!("DROP TABLE {table}; CREATE VIEW {view};")).unwrap();
        drop(c);
        let out = run(&["db", "info", "--db", dbs], dir.path(), LIMIT);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("vuln.db") && stderr(&out).contains("is a view"), "{}", stderr(&out));
        let project = dir.path().join("project");
        std::fs::create_dir(&project).unwrap();
        std::fs::write(
            project.join("package-lock.json"),
            r#"{"name":"p","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"p","version":"1.0.0"},
                "node_modules/demo-lib":{"version":"2.1.0"}}}"#,
        )
        .unwrap();
        let out = run(
            &["scan", "fs", project.to_str().unwrap(), "--db", dbs, "--scanners", "vuln", "--format", "json"],
            dir.path(),
            LIMIT,
        );
        // The scan goes on without vulnerabilities and says why (a coverage gap in the report).
        let all = format!("{}{}", stderr(&out), String::from_utf8_lossy(&out.stdout));
        assert!(all.contains("is a view"), "{table}: {all}");
    }
}

fn scan_json(args: &[&str], cwd: &Path) -> serde_json::Value {
    let out = run(args, cwd, LIMIT);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A file just over the secret scanner's 10 MiB limit, a key on line 1: scanned in windows, found.
#[test]
fn a_secret_in_a_file_over_the_scanner_limit_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = b"aws_access_key_id = AKIAZ7Y6X5W4V3U2T3S4\n".to_vec();
    text.resize(10 * 1024 * 1024 + 1, b'x');
    std::fs::write(dir.path().join("big.txt"), &text).unwrap();
    let d = dir.path().to_str().unwrap();
    let report = scan_json(&["scan", "fs", d, "--scanners", "secret", "--format", "json", "-q"], dir.path());
    let secrets = report["secrets"].as_array().unwrap();
    assert!(secrets.iter().any(|s| s["path"] == "big.txt" && s["line"] == 1), "{secrets:?}");
}

/// A file over `--max-file-size` is a warning naming it, in the report.
#[test]
fn a_file_over_max_file_size_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = b"token = AKIAZ7Y6X5W4V3U2T3S4\n".to_vec();
    text.resize(2 * 1024 * 1024, b'x');
    std::fs::write(dir.path().join("big.txt"), &text).unwrap();
    let d = dir.path().to_str().unwrap();
    let report = scan_json(
        &["scan", "fs", d, "--scanners", "secret", "--max-file-size", "1MiB", "--format", "json", "-q"],
        dir.path(),
    );
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("big.txt") && warnings.contains("max_file_size"), "{warnings}");
    let bad = run(&["scan", "fs", d, "--max-file-size", "lots"], dir.path(), LIMIT);
    assert_eq!(bad.status.code(), Some(2));
}

/// A valid lockfile padded past the parser's limit is a warning naming it, not a silent empty inventory.
#[test]
fn a_padded_lockfile_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut lock =
        br#"{"name":"p","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"p","version":"1.0.0"},
        "node_modules/demo-lib":{"version":"2.1.0"}}}"#
            .to_vec();
    lock.resize(70 * 1024 * 1024, b' ');
    std::fs::write(dir.path().join("package-lock.json"), &lock).unwrap();
    let d = dir.path().to_str().unwrap();
    let report = scan_json(&["scan", "fs", d, "--scanners", "package", "--format", "json", "-q"], dir.path());
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("package-lock.json") && warnings.contains("size limit"), "{warnings}");
}

/// `db build`: a source with an unreadable document fails (exit 2) and leaves the DB alone unless
/// `--allow-errors`; a much emptier rebuild needs `--force`.
#[test]
fn db_build_errors_fail_and_an_emptier_db_needs_force() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vuln.db");
    let dbs = db.to_str().unwrap();
    let out = run(&["db", "build", "--db", dbs, "--from", feed().to_str().unwrap()], dir.path(), LIMIT);
    assert!(out.status.success(), "{}", stderr(&out));
    let mixed = dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::write(mixed.join("broken.json"), b"{\"id\": \"X\", \"affected\": [{\"package\": 5}]}").unwrap();
    std::fs::copy(feed().join("EXAMPLE-2099-1.json"), mixed.join("ok.json")).unwrap();
    let m = mixed.to_str().unwrap();
    let before = std::fs::read(&db).unwrap();
    let out = run(&["db", "build", "--db", dbs, "--from", m], dir.path(), LIMIT);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("broken.json") && stderr(&out).contains("--allow-errors"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "the DB was left unchanged");
    let out = run(&["db", "build", "--db", dbs, "--from", m, "--allow-errors"], dir.path(), LIMIT);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    let out = run(&["db", "build", "--db", dbs, "--from", m, "--allow-errors", "--force"], dir.path(), LIMIT);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("broken.json"), "{}", stderr(&out));
}

/// A duplicate key does not hide a privileged Pod: the duplicate is reported and the Pod is checked with
/// the last value, as the API server reads it. A non-UTF-8 byte after the document drops nothing either.
#[test]
fn a_duplicate_key_or_a_bad_byte_does_not_hide_a_privileged_pod() {
    let dir = tempfile::tempdir().unwrap();
    let mut pod = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n    securityContext:\n      privileged: false\n      privileged: true\n".to_vec();
    std::fs::write(dir.path().join("pod.yaml"), &pod).unwrap();
    pod.splice(0..0, b"# \xff\n".iter().copied());
    std::fs::write(dir.path().join("pod2.yaml"), &pod).unwrap();
    for f in ["pod.yaml", "pod2.yaml"] {
        let p = dir.path().join(f);
        let out = run(&["scan", "config", p.to_str().unwrap(), "--format", "json", "-q"], dir.path(), LIMIT);
        let report: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        let all = report.to_string();
        assert!(all.contains("duplicate key"), "{f}: {all}");
        let privileged = report["misconfigurations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.to_string().to_lowercase().contains("privileged"));
        assert!(privileged, "{f}: {all}");
        if f == "pod2.yaml" {
            assert!(all.contains("not UTF-8"), "{all}");
        }
    }
}

/// Peak RSS in MiB of the largest child this test process has waited for (`getrusage(RUSAGE_CHILDREN)`;
/// nextest runs each test in its own process, so that is the largest run of this test).
fn peak_child_rss_mib() -> u64 {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    u64::try_from(usage.max_rss()).unwrap_or(0) / 1024
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "a")
        .env("GIT_AUTHOR_EMAIL", "a@example.invalid")
        .env("GIT_COMMITTER_NAME", "a")
        .env("GIT_COMMITTER_EMAIL", "a@example.invalid")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A git object declaring 4 GiB in history: that blob is not read (a warning names it), the rest of the
/// `--history` scan reports the secrets before and after it, and memory stays small.
#[test]
fn a_git_object_declaring_4_gib_fails_that_blob_only() {
    if Command::new("git").arg("--version").output().is_err() {
        println!("SKIP: git CLI not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("creds.txt"), "aws_access_key_id = AKIAZ7Y6X5W4V3U2T3S4\n").unwrap();
    git(&repo, &["add", "creds.txt"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    // A loose object whose header declares 4 GiB, with 1 MiB of data. Its name need not be its hash: the
    // header is all that is read.
    let oid = "4".repeat(40);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut z, b"blob 4294967296\0").unwrap();
    std::io::Write::write_all(&mut z, &vec![0u8; 1 << 20]).unwrap();
    let objects = repo.join(".git/objects").join(&oid[..2]);
    std::fs::create_dir_all(&objects).unwrap();
    std::fs::write(objects.join(&oid[2..]), z.finish().unwrap()).unwrap();
    git(&repo, &["update-index", "--add", "--cacheinfo", &format!("100644,{oid},huge.bin")]);
    std::fs::write(repo.join("later.txt"), "# later\naws_access_key_id = AKIAZ7Y6X5W4V3U2T3S4\n").unwrap();
    git(&repo, &["add", "later.txt"]);
    git(&repo, &["commit", "-q", "-m", "huge and later"]);
    let r = repo.to_str().unwrap();
    let out = run(
        &["scan", "repo", r, "--history", "--scanners", "secret", "--format", "json", "-q"],
        dir.path(),
        LIMIT,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<_> = report["secrets"].as_array().unwrap().iter().map(|s| s["path"].to_string()).collect();
    assert!(
        paths.contains(&"\"creds.txt\"".to_string()) && paths.contains(&"\"later.txt\"".to_string()),
        "{paths:?}"
    );
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("huge.bin") && warnings.contains("4294967296 bytes"), "{warnings}");
    let rss = peak_child_rss_mib();
    assert!(rss < 400, "peak RSS {rss} MiB");
}

/// A 300 MB dpkg `status` whose valid stanzas come first keeps those packages and warns; so do a `yarn.lock`
/// and a `requirements.txt` padded past their 64 MiB limit. Memory stays bounded by the limit, not the file.
#[test]
fn what_was_read_before_a_limit_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    let mut status = String::new();
    for i in 0..1000 {
        status.push_str(&format!(
            "Package: p{i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.{i}-1\n\n"
        ));
    }
    let mut data = status.into_bytes();
    data.resize(300_000_000, b' ');
    std::fs::write(root.join("var/lib/dpkg/status"), &data).unwrap();
    drop(data);
    let r = root.to_str().unwrap();
    let report =
        scan_json(&["scan", "rootfs", r, "--scanners", "package", "--format", "json", "-q"], dir.path());
    let names: Vec<_> =
        report["packages"].as_array().unwrap().iter().map(|p| p["name"].to_string()).collect();
    assert!(
        names.contains(&"\"p0\"".to_string()) && names.contains(&"\"p999\"".to_string()),
        "{}",
        names.len()
    );
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("var/lib/dpkg/status") && warnings.contains("the rest was not"), "{warnings}");
    let rss = peak_child_rss_mib();
    assert!(rss < 1200, "peak RSS {rss} MiB");

    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    let mut yarn = b"# yarn lockfile v1\n\n\nleft-pad@^1.3.0:\n  version \"1.3.0\"\n  resolved \"https://registry.yarnpkg.com/left-pad/-/left-pad-1.3.0.tgz\"\n".to_vec();
    yarn.resize(70 << 20, b' ');
    std::fs::write(project.join("yarn.lock"), &yarn).unwrap();
    let mut req = b"requests==2.31.0\n".to_vec();
    req.resize(70 << 20, b' ');
    std::fs::write(project.join("requirements.txt"), &req).unwrap();
    let p = project.to_str().unwrap();
    let report = scan_json(&["scan", "fs", p, "--scanners", "package", "--format", "json", "-q"], dir.path());
    let all = report["packages"].to_string();
    assert!(all.contains("left-pad") && all.contains("requests"), "{all}");
    let warnings = report["warnings"].to_string();
    for f in ["yarn.lock", "requirements.txt"] {
        assert!(warnings.contains(f) && warnings.contains("the rest was not"), "{f}: {warnings}");
    }
}

/// `scan config -` fed from `/dev/zero`: refused at once with a warning naming stdin, not read to 1 GiB.
#[test]
fn stdin_from_dev_zero_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let zero = std::fs::File::open("/dev/zero").unwrap();
    let out =
        run_with_stdin(&["scan", "config", "-", "--format", "json", "-q"], dir.path(), LIMIT, zero.into());
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("stdin") && warnings.contains("binary data"), "{warnings}");
    let rss = peak_child_rss_mib();
    assert!(rss < 200, "peak RSS {rss} MiB");
}

/// `--memory-limit`: one huge unit (a 40 MB dpkg status) and several small ones (lockfiles). Under a small
/// limit the small ones are reported, the huge one is a warning naming it, the report has a `memory-limit`
/// gap, and nothing aborts, also under an address-space limit (`prlimit --as`) when `prlimit` is there.
#[test]
fn a_memory_limit_skips_the_huge_unit_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    let mut status = String::new();
    for i in 0..400_000 {
        status.push_str(&format!(
            "Package: p{i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.{i}-1\n\n"
        ));
    }
    std::fs::write(root.join("var/lib/dpkg/status"), status).unwrap();
    std::fs::write(root.join("requirements.txt"), "requests==2.31.0\n").unwrap();
    std::fs::create_dir(root.join("app")).unwrap();
    std::fs::write(
        root.join("app/Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.9\"\n\
         source = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    let r = root.to_str().unwrap();
    let args =
        ["--memory-limit", "16MiB", "scan", "rootfs", r, "--scanners", "package", "--format", "json", "-q"];
    let check = |out: &Output| {
        assert!(out.status.success(), "{}", stderr(out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let all = report["packages"].to_string();
        assert!(all.contains("\"requests\"") && all.contains("\"itoa\"") && !all.contains("\"p0\""), "{all}");
        let warnings = report["warnings"].to_string();
        assert!(
            warnings.contains("var/lib/dpkg/status") && warnings.contains("--memory-limit"),
            "{warnings}"
        );
        assert!(report["gaps"].to_string().contains("memory-limit"), "{}", report["gaps"]);
    };
    check(&run(&args, dir.path(), LIMIT));
    // Without the limit the huge unit is read.
    let out = run(&args[2..], dir.path(), LIMIT);
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"p399999\""));
    if Command::new("prlimit").arg("--version").output().is_ok() {
        let mut with_as = vec!["--as=4294967296", env!("CARGO_BIN_EXE_palisade")];
        with_as.extend(args);
        let out = Command::new("prlimit").args(&with_as).current_dir(dir.path()).output().unwrap();
        check(&out);
    } else {
        println!("SKIP (prlimit part): prlimit not installed");
    }
}

/// A 20 MB one-line YAML (4M scalars in one flow sequence): the document is an error naming its line once
/// it passes 1M nodes, the next document is still checked, and memory stays far below the gigabytes a DOM of
/// 4M nodes would take.
#[test]
fn a_one_line_yaml_of_millions_of_nodes_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("items: [");
    text.push_str(&"abc, ".repeat(4_000_000));
    text.push_str("x]\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n    securityContext:\n      privileged: true\n");
    let f = dir.path().join("oneline.yaml");
    std::fs::write(&f, text).unwrap();
    let report = scan_json(&["scan", "config", f.to_str().unwrap(), "--format", "json", "-q"], dir.path());
    let all = report.to_string();
    assert!(all.contains("more than 1000000 nodes"), "{}", &all[..all.len().min(2000)]);
    assert!(report["misconfigurations"].to_string().contains("privileged"), "the Pod after it is checked");
    let rss = peak_child_rss_mib();
    assert!(rss < 600, "peak RSS {rss} MiB");
}
