//! The gate fails closed: when the vulnerability scanner cannot check what is in the target (no DB, an
//! unreadable or empty DB, no advisories for an ecosystem of the target), every format says so and
//! `--exit-code` fails unless `--allow-missing-db`; an end-of-life OS is reported and gated by
//! `--exit-on-eol`; `db build` never replaces a DB with an empty one.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn palisade(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).current_dir(cwd).output().unwrap()
}

fn feed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-vulndb/tests/fixtures/feed/osv")
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A Debian 11 root filesystem with one package, and a DB from the vulndb test feed, whose OS
    /// advisories are for Debian 12 only (plus npm and PyPI).
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("rootfs");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
        std::fs::write(
            root.join("etc/os-release"),
            "ID=debian\nVERSION_ID=\"11\"\nVERSION_CODENAME=bullseye\n",
        )
        .unwrap();
        std::fs::write(
            root.join("var/lib/dpkg/status"),
            "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.11.dfsg-2\nArchitecture: amd64\n\
             Source: zlib\n\nPackage: libc6\nStatus: install ok installed\nVersion: 2.31-13\n\
             Architecture: amd64\nSource: glibc\n\n",
        )
        .unwrap();
        let out = palisade(
            &[
                "db",
                "build",
                "--db",
                dir.path().join("vuln.db").to_str().unwrap(),
                "--from",
                feed().to_str().unwrap(),
            ],
            dir.path(),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        Fixture { dir }
    }

    fn path(&self, rel: &str) -> String {
        self.dir.path().join(rel).to_str().unwrap().to_string()
    }

    fn scan(&self, db: &str, extra: &[&str]) -> Output {
        let root = self.path("rootfs");
        let mut args = vec!["scan", "rootfs", root.as_str(), "--db", db];
        args.extend_from_slice(extra);
        palisade(&args, self.dir.path())
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_ecosystem_the_db_does_not_cover_is_reported_in_every_format_and_fails_the_gate() {
    let fx = Fixture::new();
    let db = fx.path("vuln.db");
    let out = fx.scan(&db, &["--format", "json", "--exit-code", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let gaps = report["gaps"].as_array().expect("gaps");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["kind"], "ecosystem-not-covered");
    assert_eq!(gaps[0]["ecosystem"], "debian:11");
    assert_eq!(gaps[0]["packages"], 2);
    let err = stderr(&out);
    assert!(err.contains("incomplete: vuln: 2 debian:11 packages not checked"), "{err}");
    assert!(err.contains("gate: exit 1: vulnerability results are incomplete"), "{err}");

    // SARIF: the run did not succeed, and says why.
    let sarif = json(&fx.scan(&db, &["--format", "sarif"]));
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n["level"] == "error" && n["message"]["text"].as_str().unwrap().contains("debian:11"))
    );
    // JUnit: an error case, not a pass.
    let junit = String::from_utf8(fx.scan(&db, &["--format", "junit"]).stdout).unwrap();
    assert!(junit.contains("errors=\"1\"") && junit.contains("<error message="), "{junit}");
    // Table: a block before the findings.
    let table = String::from_utf8(fx.scan(&db, &["--format", "table"]).stdout).unwrap();
    assert!(table.contains("INCOMPLETE:") && table.contains("debian:11"), "{table}");
    // CycloneDX and SPDX carry it too.
    let cdx = json(&fx.scan(&db, &["--format", "cyclonedx"]));
    let props = cdx["metadata"]["properties"].as_array().unwrap();
    assert!(props.iter().any(|p| p["name"] == "palisade:incomplete"), "{props:?}");
    let spdx = String::from_utf8(fx.scan(&db, &["--format", "spdx-json"]).stdout).unwrap();
    assert!(spdx.contains("palisade:incomplete="), "{spdx}");

    // Accepted explicitly: reported, but the gate passes.
    let out = fx.scan(&db, &["--format", "json", "--exit-code", "1", "--allow-missing-db"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["gaps"].as_array().unwrap().len(), 1);
}

#[test]
fn a_missing_unreadable_or_empty_db_is_a_gap_not_a_pass() {
    let fx = Fixture::new();
    // Missing.
    let out = fx.scan(&fx.path("nope.db"), &["--format", "json", "--exit-code", "3"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(json(&out)["gaps"][0]["kind"], "db-missing");
    // Unreadable: not a database at all. The scan still reports its other results.
    std::fs::write(fx.dir.path().join("junk.db"), "this is not sqlite").unwrap();
    let out =
        fx.scan(&fx.path("junk.db"), &["--format", "json", "--exit-code", "3", "--scanners", "vuln,secret"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["gaps"][0]["kind"], "db-unreadable");
    assert!(report["packages"].as_array().unwrap().len() == 2);
    // Empty: a DB whose tables hold nothing (made with SQLite directly: `db build` refuses to write one).
    let empty = fx.path("empty.db");
    let made = Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);\
             c.executescript(\"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);\
             CREATE TABLE advisory(rowid INTEGER PRIMARY KEY, id TEXT, feed TEXT, modified TEXT, json TEXT);\
             CREATE TABLE affected(ecosystem TEXT, name TEXT, advisory INTEGER, json TEXT);\
             CREATE TABLE alias(alias TEXT, advisory INTEGER);\
             CREATE INDEX affected_pkg ON affected(ecosystem, name); CREATE INDEX alias_id ON alias(alias);\
             INSERT INTO meta VALUES('schema_version','1');\
             INSERT INTO meta VALUES('built_at','2099-01-01T00:00:00Z');\
             INSERT INTO meta VALUES('counts','{\\\"advisories\\\":0,\\\"affected\\\":0,\\\"aliases\\\":0,\\\"ecosystems\\\":{}}');\");\
             c.commit()",
        )
        .arg(&empty)
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipping the empty-DB case: python3 with sqlite3 is not available");
        return;
    }
    let out = fx.scan(&empty, &["--format", "json", "--exit-code", "3"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(json(&out)["gaps"][0]["kind"], "db-empty");
}

#[test]
fn db_build_from_sources_without_advisories_fails_and_keeps_the_db() {
    let fx = Fixture::new();
    let db = fx.path("vuln.db");
    let before = std::fs::read(&db).unwrap();
    let nothing = fx.dir.path().join("nothing");
    std::fs::create_dir(&nothing).unwrap();
    std::fs::write(nothing.join("notes.txt"), "no advisories here").unwrap();
    let out = palisade(&["db", "build", "--db", &db, "--from", nothing.to_str().unwrap()], fx.dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no advisories") && err.contains("left unchanged"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn an_end_of_life_os_is_reported_and_gated_by_exit_on_eol() {
    let fx = Fixture::new();
    let db = fx.path("vuln.db");
    let out = fx.scan(&db, &["--format", "json", "--allow-missing-db", "--scanners", "secret"]);
    assert_eq!(out.status.code(), Some(0), "an end of life alone does not fail without --exit-on-eol");
    let report = json(&out);
    assert_eq!(report["os"]["end_of_life"]["date"], "2026-08-31");
    assert_eq!(report["os"]["end_of_life"]["ended"], true, "this test assumes today is after 2026-08-31");
    assert!(stderr(&out).contains("debian 11 reached its end of life on 2026-08-31"), "{}", stderr(&out));
    let out = fx.scan(&db, &["--format", "json", "--scanners", "secret", "--exit-on-eol", "4"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("gate: exit 4"), "{}", stderr(&out));
    let table = String::from_utf8(fx.scan(&db, &["--scanners", "secret"]).stdout).unwrap();
    assert!(table.contains("END OF LIFE since 2026-08-31"), "{table}");
}

#[test]
fn default_scanners_are_vuln_and_secret_and_config_rejects_the_others() {
    let fx = Fixture::new();
    let project = fx.dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("settings.env"), "AWS_SECRET=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ9xk3pLm2\n")
        .unwrap();
    std::fs::write(
        project.join("package-lock.json"),
        r#"{"name":"p","version":"1.0.0","lockfileVersion":3,"packages":{"":{"name":"p","version":"1.0.0"},
            "node_modules/demo-lib":{"version":"2.1.0"}}}"#,
    )
    .unwrap();
    let out = palisade(
        &["scan", "fs", project.to_str().unwrap(), "--db", &fx.path("vuln.db"), "--format", "json"],
        fx.dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json(&out);
    assert_eq!(report["scanners"], serde_json::json!(["vuln", "secret"]));
    assert!(!report["secrets"].as_array().unwrap().is_empty(), "secret ran by default");
    assert!(
        report["vulnerabilities"].as_array().unwrap().iter().any(|v| v["package_name"] == "demo-lib"),
        "vuln ran by default"
    );
    assert_eq!(report["packages"].as_array().unwrap().len(), 1, "the inventory is always in JSON");

    let out = palisade(&["scan", "config", project.to_str().unwrap(), "--scanners", "vuln"], fx.dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`scan config` does not run the vuln scanner"), "{}", stderr(&out));
}
