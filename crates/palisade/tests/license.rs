//! The licence scanner on the real binary: declared licences from Debian copyright files and npm metadata,
//! licence files matched against the SPDX texts, the gate (`--license-deny`, `--license-allow`,
//! `--license-fail-on`, `--license-unknown`) with expression semantics, waivers in `.palisadeignore`, and
//! every output format.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn palisade(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).current_dir(cwd).output().unwrap()
}

const MIT_TEXT: &str = include_str!("../../palisade-license/tests/fixtures/LICENSE-MIT");

fn dep5(license: &str) -> String {
    format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\n\
         Copyright: 2020 Someone\nLicense: {license}\n"
    )
}

/// A Debian 12 root filesystem: `gplpkg` (GPL-3), `dualpkg` (MIT or GPL-3), `oddpkg` (a name its copyright
/// file defines itself), an npm package declaring MIT, and a stray MIT licence file.
fn rootfs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    let w = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n");
    let mut status = String::new();
    for p in ["gplpkg", "dualpkg", "oddpkg"] {
        status.push_str(&format!(
            "Package: {p}\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\n"
        ));
    }
    w("var/lib/dpkg/status", &status);
    w("usr/share/doc/gplpkg/copyright", &dep5("GPL-3"));
    w("usr/share/doc/dualpkg/copyright", &dep5("Expat or GPL-3"));
    w("usr/share/doc/oddpkg/copyright", &dep5("Acme-Special"));
    w(
        "usr/lib/node_modules/left-pad/package.json",
        r#"{"name":"left-pad","version":"1.3.0","license":"MIT"}"#,
    );
    w("opt/tool/LICENSE", MIT_TEXT);
    w("opt/tool/src/main.c", "// SPDX-License-Identifier: GPL-2.0-or-later\nint main(void) { return 0; }\n");
    dir
}

fn scan(dir: &Path, extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["scan", "rootfs", "rootfs", "--scanners", "license", "-f", "json", "-q"];
    args.extend_from_slice(extra);
    let out = palisade(&args, dir);
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out, v)
}

fn finding<'a>(v: &'a Value, package: &str) -> &'a Value {
    v["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["package"] == package)
        .unwrap_or_else(|| panic!("no licence finding for {package}: {v:#}"))
}

#[test]
fn declared_and_file_licences_are_found_and_classified() {
    let dir = rootfs();
    let (out, v) = scan(dir.path(), &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let gpl = finding(&v, "gplpkg");
    assert_eq!(gpl["raw"], "GPL-3");
    assert_eq!(gpl["expression"], "GPL-3.0-only");
    assert_eq!(gpl["category"], "restricted");
    assert_eq!(gpl["severity"], "high");
    assert_eq!(gpl["path"], "usr/share/doc/gplpkg/copyright");
    assert_eq!(finding(&v, "dualpkg")["expression"], "MIT OR GPL-3.0-only");
    assert_eq!(finding(&v, "dualpkg")["category"], "notice");
    assert_eq!(finding(&v, "oddpkg")["expression"], "LicenseRef-Acme-Special");
    assert_eq!(finding(&v, "oddpkg")["category"], "unknown");
    assert_eq!(finding(&v, "left-pad")["expression"], "MIT");
    let file = v["licenses"].as_array().unwrap().iter().find(|f| f["path"] == "opt/tool/LICENSE").unwrap();
    assert_eq!(file["source"], "file");
    assert_eq!(file["expression"], "MIT");
    assert!(file["confidence"].as_f64().unwrap() > 0.9);
    // Without --license-full, source headers are not read.
    assert!(!v["licenses"].as_array().unwrap().iter().any(|f| f["source"] == "header"));
    // The Debian packages carry their declared licences for the SBOMs.
    let pkg = v["packages"].as_array().unwrap().iter().find(|p| p["name"] == "gplpkg").unwrap();
    assert_eq!(pkg["licenses"][0], "GPL-3");
}

#[test]
fn gpl3_fails_the_gate_and_an_or_with_an_allowed_licence_passes() {
    let dir = rootfs();
    let (out, v) = scan(dir.path(), &["--license-fail-on", "forbidden,restricted", "--exit-code", "3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(finding(&v, "gplpkg")["failed_rule"], "--license-fail-on restricted");
    assert!(finding(&v, "dualpkg").get("failed_rule").is_none(), "MIT OR GPL-3.0-only passes");

    let (out, v) =
        scan(dir.path(), &["--license-allow", "MIT", "--license-unknown", "ignore", "--exit-code", "3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(finding(&v, "gplpkg")["failed_rule"], "not in --license-allow");
    assert!(finding(&v, "dualpkg").get("failed_rule").is_none());
    assert!(finding(&v, "left-pad").get("failed_rule").is_none());

    let (out, v) = scan(dir.path(), &["--license-deny", "GPL-3.0-or-later", "--exit-code", "3"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(finding(&v, "gplpkg")["failed_rule"], "--license-deny GPL-3.0-or-later");

    let (out, _) = scan(dir.path(), &["--license-deny", "AGPL-3.0-only", "--exit-code", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn unknown_licences_follow_the_configured_action() {
    let dir = rootfs();
    let (out, v) = scan(dir.path(), &["--license-unknown", "fail", "--exit-code", "4"]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(finding(&v, "oddpkg")["failed_rule"], "--license-unknown fail");
    assert!(finding(&v, "gplpkg").get("failed_rule").is_none());
    let (out, v) = scan(dir.path(), &["--license-unknown", "warn", "--exit-code", "4"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(finding(&v, "oddpkg")["note"].as_str().unwrap().contains("unknown licence"));
    let (out, _) = scan(dir.path(), &["--license-unknown", "ignore", "--exit-code", "4"]);
    assert_eq!(out.status.code(), Some(0));
    let out = palisade(
        &["scan", "rootfs", "rootfs", "--scanners", "license", "--license-unknown", "maybe"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--license-unknown"));
}

#[test]
fn waivers_need_a_reason_and_expire() {
    let dir = rootfs();
    let ignore = |expires: &str| {
        std::fs::write(
            dir.path().join(".palisadeignore"),
            format!(
                "ignore:\n  - id: GPL-3.0-only\n    purl: pkg:deb/debian/gplpkg\n    expires: {expires}\n    \
                 reason: internal tool, never distributed\n"
            ),
        )
        .unwrap();
    };
    ignore("2999-12-31");
    let (out, v) = scan(dir.path(), &["--license-fail-on", "restricted", "--exit-code", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(finding(&v, "gplpkg")["suppressed"].as_str().unwrap().contains("never distributed"));
    ignore("2000-01-01");
    let (out, v) = scan(dir.path(), &["--license-fail-on", "restricted", "--exit-code", "3"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(finding(&v, "gplpkg").get("suppressed").is_none());
    // Trivy's YAML ignore file: `licenses` entries waive by licence, `GPL-3.0` covering `GPL-3.0-only`.
    std::fs::remove_file(dir.path().join(".palisadeignore")).unwrap();
    std::fs::write(
        dir.path().join(".trivyignore.yaml"),
        "licenses:\n  - id: GPL-3.0\n    paths: [\"usr/share/doc/gplpkg/*\"]\n    statement: accepted\n",
    )
    .unwrap();
    let (out, v) = scan(dir.path(), &["--license-fail-on", "restricted", "--exit-code", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(finding(&v, "gplpkg")["suppressed"].as_str().unwrap().contains("accepted"));
}

#[test]
fn license_full_reads_source_headers() {
    let dir = rootfs();
    let (out, v) = scan(dir.path(), &["--license-full"]);
    assert!(out.status.success());
    let h = v["licenses"].as_array().unwrap().iter().find(|f| f["source"] == "header").unwrap();
    assert_eq!(h["path"], "opt/tool/src/main.c");
    assert_eq!(h["expression"], "GPL-2.0-or-later");
    // Licence flags without the licence scanner are a usage error, not silently ignored.
    let out = palisade(&["scan", "rootfs", "rootfs", "--license-full"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scanners license"));
}

#[test]
fn every_format_carries_the_licences() {
    let dir = rootfs();
    let run = |format: &str| {
        let out = palisade(
            &[
                "scan",
                "rootfs",
                "rootfs",
                "--scanners",
                "license",
                "--license-fail-on",
                "restricted",
                "-f",
                format,
                "-q",
            ],
            dir.path(),
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let table = run("table");
    assert!(table.contains("Licenses: Total:") || table.contains("Licenses:"), "{table}");
    assert!(table.contains("GPL-3.0-only") && table.contains("--license-fail-on restricted"), "{table}");
    let sarif: Value = serde_json::from_str(&run("sarif")).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let r = results.iter().find(|r| r["properties"]["license"] == "GPL-3.0-only").unwrap();
    assert_eq!(r["ruleId"], "license-restricted");
    assert_eq!(r["level"], "error");
    assert_eq!(r["properties"]["failedRule"], "--license-fail-on restricted");
    let junit = run("junit");
    assert!(junit.contains("<testsuite name=\"licenses\""), "{junit}");
    assert!(junit.contains("gplpkg 1.0-1: GPL-3.0-only") && junit.contains("<failure"), "{junit}");
    let cdx: Value = serde_json::from_str(&run("cyclonedx")).unwrap();
    let comp = cdx["components"].as_array().unwrap().iter().find(|c| c["name"] == "gplpkg").unwrap();
    assert_eq!(comp["licenses"][0]["license"]["id"], "GPL-3.0-only");
    let dual = cdx["components"].as_array().unwrap().iter().find(|c| c["name"] == "dualpkg").unwrap();
    assert_eq!(dual["licenses"][0]["expression"], "MIT OR GPL-3.0-only");
    let spdx: Value = serde_json::from_str(&run("spdx-json")).unwrap();
    let p = spdx["packages"].as_array().unwrap().iter().find(|p| p["name"] == "gplpkg").unwrap();
    assert_eq!(p["licenseDeclared"], "GPL-3.0-only");
    // A saved JSON report converts without a rescan, licences included.
    std::fs::write(dir.path().join("report.json"), run("json")).unwrap();
    let out = palisade(&["convert", "report.json", "-f", "junit"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let converted = String::from_utf8(out.stdout).unwrap();
    assert!(converted.contains("gplpkg 1.0-1: GPL-3.0-only"), "{converted}");
}

/// The debootstrap bookworm root filesystem (built by `.ci/fixtures.sh`): every package with a copyright
/// file gets a licence, and bash's is GPL-3.0-or-later.
#[test]
fn bookworm_rootfs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.fixtures/rootfs-bookworm");
    if !root.join("var/lib/dpkg/status").exists() {
        eprintln!("skipped: {} is absent (run .ci/fixtures.sh)", root.display());
        return;
    }
    let out = palisade(
        &["scan", "rootfs", root.to_str().unwrap(), "--scanners", "license", "-f", "json", "-q"],
        &root,
    );
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let bash: Vec<&Value> =
        v["licenses"].as_array().unwrap().iter().filter(|f| f["package"] == "bash").collect();
    assert!(bash.iter().any(|f| f["expression"] == "GPL-3.0-or-later"), "{bash:#?}");
    let unread = v["licenses"].as_array().unwrap().iter().filter(|f| f.get("expression").is_none()).count();
    let total = v["licenses"].as_array().unwrap().len();
    println!("bookworm: {total} licence findings, {unread} not normalised");
    assert!(unread * 20 < total, "fewer than 5% of the declared licences stay unread");
}

/// Cargo and NuGet: the `Cargo.lock` and `packages.lock.json` packages get the licence of their crate's
/// `Cargo.toml` in the registry or `vendor/` (`license`, or the file `license-file` names) and of their
/// `.nuspec` in the global packages folder (`<license type="expression">`, a well-known `<licenseUrl>`).
#[test]
fn cargo_and_nuget_licences_come_from_the_sources_in_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    let w = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    let lock = |name: &str, version: &str| {
        format!(
            "[[package]]\nname = \"{name}\"\nversion = \"{version}\"\n\
             source = \"registry+https://github.com/rust-lang/crates.io-index\"\n\
             checksum = \"0000000000000000000000000000000000000000000000000000000000000000\"\n\n"
        )
    };
    w(
        "app/Cargo.lock",
        &format!(
            "version = 3\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n{}{}{}",
            lock("serde", "1.0.228"),
            lock("quirky", "0.3.1"),
            lock("absent", "2.0.0")
        ),
    );
    w(
        "root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.228/Cargo.toml",
        include_str!("../../palisade-license/tests/fixtures/cargo/Cargo.toml"),
    );
    w(
        "app/vendor/quirky/Cargo.toml",
        "[package]\nname = \"quirky\"\nversion = \"0.3.1\"\nlicense-file = \"COPYING.txt\"\n",
    );
    w("app/vendor/quirky/COPYING.txt", MIT_TEXT);
    w("app/vendor/broken/Cargo.toml", "[package\nname = ");
    w(
        "src/api/packages.lock.json",
        r#"{"version": 1, "dependencies": {"net8.0": {
            "Newtonsoft.Json": {"type": "Direct", "requested": "[13.0.3, )", "resolved": "13.0.3", "contentHash": "x"},
            "System.Buffers": {"type": "Transitive", "resolved": "4.5.1", "contentHash": "y"}}}}"#,
    );
    w(
        "root/.nuget/packages/newtonsoft.json/13.0.3/newtonsoft.json.nuspec",
        include_str!("../../palisade-license/tests/fixtures/nuget/newtonsoft.json.nuspec"),
    );
    w(
        "root/.nuget/packages/system.buffers/4.5.1/system.buffers.nuspec",
        "<?xml version=\"1.0\"?><package xmlns=\"http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd\">\
         <metadata><id>System.Buffers</id><version>4.5.1</version>\
         <licenseUrl>https://github.com/dotnet/corefx/blob/master/LICENSE.TXT</licenseUrl></metadata></package>",
    );
    let (out, v) = scan(dir.path(), &["--license-deny", "GPL-3.0"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let serde = finding(&v, "serde");
    assert_eq!(serde["expression"], "MIT OR Apache-2.0", "{serde:#}");
    assert!(serde["path"].as_str().unwrap().ends_with("serde-1.0.228/Cargo.toml"), "{serde:#}");
    assert_eq!(finding(&v, "quirky")["expression"], "MIT");
    assert_eq!(finding(&v, "Newtonsoft.Json")["expression"], "MIT");
    assert_eq!(finding(&v, "System.Buffers")["expression"], "MIT");
    let all = v["licenses"].as_array().unwrap();
    assert!(!all.iter().any(|f| f["package"] == "absent"), "no source, no licence: {v:#}");
    // The licence file that `license-file` names is the package's licence, not a finding of its own.
    assert!(!all.iter().any(|f| f["path"].as_str().is_some_and(|p| p.ends_with("COPYING.txt"))), "{v:#}");
    // The broken manifest is a warning naming the file; the rest goes on.
    let stderr = palisade(
        &["scan", "rootfs", "rootfs", "--scanners", "license", "-f", "json", "--no-progress"],
        dir.path(),
    )
    .stderr;
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(stderr.contains("vendor/broken/Cargo.toml"), "{stderr}");
}
