//! Integration tests: the real `palisade` binary on the real inputs built by `.ci/fixtures.sh`
//! (debootstrap root filesystems packed as docker-archive, OCI layout and oci-archive; an app image with npm,
//! PyPI and Cargo dependencies and a layer that deletes a lockfile). Each test skips with a message when the
//! fixtures have not been built.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.fixtures"));
    if dir.join("app.docker.tar").exists() {
        Some(dir)
    } else {
        eprintln!("skipping: fixtures not built at {} (run .ci/fixtures.sh)", dir.display());
        None
    }
}

fn palisade(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().expect("run palisade");
    assert!(
        out.status.success(),
        "palisade {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report on stdout")
}

fn packages<'a>(report: &'a Value, ecosystem: &str) -> Vec<&'a Value> {
    report["packages"].as_array().unwrap().iter().filter(|p| p["ecosystem"] == ecosystem).collect()
}

fn name_versions(report: &Value, ecosystem: &str) -> BTreeSet<(String, String)> {
    packages(report, ecosystem)
        .iter()
        .map(|p| (p["name"].as_str().unwrap().to_string(), p["version"].as_str().unwrap().to_string()))
        .collect()
}

/// `dpkg-query -W` for an admin dir: the reference count of installed packages.
fn dpkg_query(admindir: &Path) -> Option<BTreeSet<(String, String)>> {
    let out = Command::new("dpkg-query")
        .arg(format!("--admindir={}", admindir.display()))
        .args(["-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\n"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("ii") || l.starts_with("hi"))
            .filter_map(|l| {
                let mut f = l.split('\t').skip(1);
                Some((f.next()?.to_string(), f.next()?.to_string()))
            })
            .collect(),
    )
}

#[test]
fn rootfs_deb_packages_equal_dpkg_query() {
    let Some(fix) = fixtures() else { return };
    for suite in ["bookworm", "bullseye"] {
        let root = fix.join(format!("rootfs-{suite}"));
        let expected = dpkg_query(&root.join("var/lib/dpkg")).expect("dpkg-query");
        let report = palisade(&["scan", "rootfs", root.to_str().unwrap(), "--format", "json", "--quiet"]);
        assert_eq!(name_versions(&report, "deb"), expected, "{suite}: deb packages differ from dpkg-query");
        assert_eq!(report["os"]["id"], "debian");
        // Source packages are recorded: libc6 comes from glibc.
        let libc = packages(&report, "deb").into_iter().find(|p| p["name"] == "libc6").expect("libc6");
        assert_eq!(libc["source"]["name"], "glibc");
        assert!(libc["purl"].as_str().unwrap().contains("distro=debian-"), "{}", libc["purl"]);
    }
}

#[test]
fn this_machine_deb_packages_equal_dpkg_query() {
    let Some(expected) = dpkg_query(Path::new("/var/lib/dpkg")) else {
        eprintln!("skipping: no dpkg on this machine");
        return;
    };
    let report = palisade(&["scan", "rootfs", "/", "--format", "json", "--quiet"]);
    assert_eq!(name_versions(&report, "deb"), expected);
}

#[test]
fn image_formats_agree_and_match_the_rootfs() {
    let Some(fix) = fixtures() else { return };
    let root = fix.join("rootfs-bookworm");
    let expected = dpkg_query(&root.join("var/lib/dpkg")).expect("dpkg-query");
    for input in ["bookworm.docker.tar", "bookworm.oci", "bookworm.oci.tar"] {
        let path = fix.join(input);
        let report =
            palisade(&["scan", "image", "--input", path.to_str().unwrap(), "--format", "json", "--quiet"]);
        assert_eq!(name_versions(&report, "deb"), expected, "{input}");
        assert_eq!(report["artifact"]["kind"], "image");
        assert_eq!(report["artifact"]["layers"].as_array().unwrap().len(), 1, "{input}");
        // Every package knows its layer.
        for p in packages(&report, "deb") {
            assert_eq!(p["locations"][0]["layer"], 0, "{input}: {p}");
        }
    }
}

fn lock_packages(lock: &Value) -> BTreeSet<(String, String)> {
    lock["packages"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| {
            let name = k.rsplit("node_modules/").next().unwrap().to_string();
            (name, v["version"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn app_image_language_packages_and_whiteout() {
    let Some(fix) = fixtures() else { return };
    let src = fix.join("app-src/l2");
    let lock: Value =
        serde_json::from_slice(&std::fs::read(src.join("app/web/package-lock.json")).unwrap()).unwrap();
    let expected_npm = lock_packages(&lock);
    let site = src.join("usr/local/lib/python3.11/site-packages");
    let expected_py: BTreeSet<String> = std::fs::read_dir(&site)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".dist-info"))
        .collect();
    let cargo_lock = std::fs::read_to_string(src.join("app/rust/Cargo.lock")).unwrap();
    let expected_cargo = cargo_lock.matches("[[package]]").count() - 1; // minus the root crate

    for input in ["app.docker.tar", "app.oci", "app.oci.tar"] {
        let path = fix.join(input);
        let report =
            palisade(&["scan", "image", "--input", path.to_str().unwrap(), "--format", "json", "--quiet"]);
        assert_eq!(report["artifact"]["layers"].as_array().unwrap().len(), 3, "{input}");
        assert_eq!(report["artifact"]["config"]["user"], "1000", "{input}");

        // npm: what the lockfile lists (the installed node_modules copies are the same name/versions).
        let npm = name_versions(&report, "npm");
        assert!(npm.contains(&("lodash".into(), "4.17.15".into())), "{input}");
        assert_eq!(npm, expected_npm, "{input}: npm packages");
        // The lockfile deleted by layer 3 contributes nothing.
        assert!(!npm.iter().any(|(n, _)| n == "left-pad"), "{input}: deleted lockfile was reported");

        let py = packages(&report, "pypi");
        let dist_info = py.iter().filter(|p| p["found_by"] == "python-dist-info").count();
        assert_eq!(dist_info, expected_py.len(), "{input}: one package per dist-info");
        assert!(
            py.iter()
                .any(|p| p["name"].as_str().unwrap().eq_ignore_ascii_case("django") && p["version"] == "2.2")
        );
        for p in &py {
            assert_eq!(p["locations"][0]["layer"], 1, "{input}: PyPI packages come from layer 1");
        }

        let cargo = name_versions(&report, "cargo");
        assert_eq!(cargo.len(), expected_cargo, "{input}: cargo packages");
        assert!(cargo.contains(&("time".into(), "0.1.43".into())));
    }
}

#[test]
fn app_image_root_projects_are_not_packages() {
    let Some(fix) = fixtures() else { return };
    let image = fix.join("app.oci");
    let report =
        palisade(&["scan", "image", "--input", image.to_str().unwrap(), "--format", "json", "--quiet"]);
    let projects: BTreeSet<(&str, Vec<&str>)> = report["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let paths =
                p["locations"].as_array().unwrap().iter().map(|l| l["path"].as_str().unwrap()).collect();
            (p["purl"].as_str().unwrap(), paths)
        })
        .collect();
    assert_eq!(
        projects,
        BTreeSet::from([
            ("pkg:cargo/fixture-app@0.1.0", vec!["app/rust/Cargo.lock"]),
            ("pkg:npm/web@1.0.0", vec!["app/web/package-lock.json", "app/web/package.json"]),
        ])
    );
    let purls: Vec<&str> =
        report["packages"].as_array().unwrap().iter().map(|p| p["purl"].as_str().unwrap()).collect();
    assert!(!purls.contains(&"pkg:npm/web@1.0.0") && !purls.contains(&"pkg:cargo/fixture-app@0.1.0"));
    // One package per package: no purl twice.
    assert_eq!(purls.iter().collect::<BTreeSet<_>>().len(), purls.len());
    // The image stays the CycloneDX subject; the projects are applications with their packages under them.
    let bom: Value = serde_json::from_slice(&run_raw(&[
        "scan",
        "image",
        "--input",
        image.to_str().unwrap(),
        "--format",
        "cyclonedx",
        "--quiet",
    ]))
    .unwrap();
    assert_eq!(bom["metadata"]["component"]["type"], "container");
    let web =
        bom["components"].as_array().unwrap().iter().find(|c| c["purl"] == "pkg:npm/web@1.0.0").unwrap();
    assert_eq!(web["type"], "application");
    let web_deps =
        bom["dependencies"].as_array().unwrap().iter().find(|d| d["ref"] == web["bom-ref"]).unwrap();
    assert!(
        web_deps["dependsOn"].as_array().unwrap().iter().any(|d| d == "pkg:npm/express@4.16.0"),
        "{web_deps}"
    );
}

#[test]
fn cyclonedx_of_a_project_directory_describes_its_root_project() {
    let Some(fix) = fixtures() else { return };
    for (dir, purl, dep) in [
        ("app-src/l2/app/web", "pkg:npm/web@1.0.0", "pkg:npm/lodash@4.17.15"),
        ("app-src/l2/app/rust", "pkg:cargo/fixture-app@0.1.0", "pkg:cargo/time@0.1.43"),
    ] {
        let path = fix.join(dir);
        for format in ["cyclonedx", "spdx-json"] {
            let doc: Value = serde_json::from_slice(&run_raw(&[
                "scan",
                "fs",
                path.to_str().unwrap(),
                "--format",
                format,
                "--quiet",
            ]))
            .unwrap();
            if format == "cyclonedx" {
                let subject = &doc["metadata"]["component"];
                assert_eq!(
                    (subject["type"].as_str(), subject["purl"].as_str()),
                    (Some("application"), Some(purl)),
                    "{dir}"
                );
                let root = &doc["dependencies"][0];
                assert_eq!(root["ref"], subject["bom-ref"]);
                assert!(root["dependsOn"].as_array().unwrap().iter().any(|d| d == dep), "{dir}: {root}");
                assert!(!doc["components"].as_array().unwrap().iter().any(|c| c["purl"] == purl));
            } else {
                let described = doc["relationships"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["relationshipType"] == "DESCRIBES")
                    .unwrap()["relatedSpdxElement"]
                    .clone();
                let pkg =
                    doc["packages"].as_array().unwrap().iter().find(|p| p["SPDXID"] == described).unwrap();
                assert_eq!(pkg["externalRefs"][0]["referenceLocator"], purl, "{dir}");
                assert_eq!(pkg["primaryPackagePurpose"], "APPLICATION");
            }
        }
    }
    // Two projects (web and fixture-app, and the deleted-in-the-image `old`): the directory is the subject.
    let l2 = fix.join("app-src/l2");
    let bom: Value = serde_json::from_slice(&run_raw(&[
        "scan",
        "fs",
        l2.to_str().unwrap(),
        "--format",
        "cyclonedx",
        "-q",
    ]))
    .unwrap();
    assert_eq!(bom["metadata"]["component"]["type"], "file");
    let apps = bom["components"].as_array().unwrap().iter().filter(|c| c["type"] == "application").count();
    assert_eq!(apps, 3);
}

#[test]
fn sbom_round_trip_through_the_cli() {
    let Some(fix) = fixtures() else { return };
    let image = fix.join("app.oci");
    let dir = tempfile::tempdir().unwrap();
    for (format, file) in [("cyclonedx", "bom.cdx.json"), ("spdx-json", "bom.spdx.json")] {
        let out = dir.path().join(file);
        let status = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args([
                "sbom",
                image.to_str().unwrap(),
                "--format",
                format,
                "--output",
                out.to_str().unwrap(),
                "--quiet",
            ])
            .status()
            .unwrap();
        assert!(status.success());
        let direct =
            palisade(&["scan", "image", "--input", image.to_str().unwrap(), "--format", "json", "--quiet"]);
        let back = palisade(&["scan", "sbom", out.to_str().unwrap(), "--format", "json", "--quiet"]);
        let purls = |r: &Value| -> BTreeSet<String> {
            r["packages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["purl"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(purls(&back), purls(&direct), "{format}: purls survive the round trip");
    }
}

fn run_raw(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().expect("run palisade");
    assert!(out.status.success(), "palisade {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[test]
fn secret_in_a_deleted_layer_file_is_reported_and_never_printed_whole() {
    let Some(fix) = fixtures() else { return };
    let key = std::fs::read_to_string(fix.join("app-src/l2/app/old/deploy_key")).unwrap();
    let body: Vec<&str> = key.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(!body.is_empty());
    let image = fix.join("app.docker.tar");
    let report = palisade(&[
        "scan",
        "image",
        "--input",
        image.to_str().unwrap(),
        "--scanners",
        "secret",
        "--format",
        "json",
        "-q",
    ]);
    let found = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == "app/old/deploy_key")
        .expect("the deleted key is still in layer 1 and must be reported");
    assert_eq!(found["layer"], 1);
    assert_eq!(found["deleted_in_layer"], 2);
    assert_eq!(found["severity"], "critical");
    for format in ["json", "table"] {
        let out = run_raw(&[
            "scan",
            "image",
            "--input",
            image.to_str().unwrap(),
            "--scanners",
            "secret",
            "--format",
            format,
            "-q",
        ]);
        let text = String::from_utf8_lossy(&out);
        for line in &body {
            assert!(!text.contains(line), "{format} output contains key material");
        }
    }
}

#[test]
fn vulnerabilities_in_the_app_image_from_the_shared_advisories() {
    let Some(fix) = fixtures() else { return };
    let adv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/advisories");
    if !adv.exists() {
        eprintln!("skipping: {} is absent", adv.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("palisade.db");
    let mut args =
        vec!["db".to_string(), "build".into(), "--db".into(), db.to_str().unwrap().into(), "--from".into()];
    for f in [
        "osv-pypa.tar.gz",
        "osv-rustsec.tar.gz",
        "osv-ghsa-subset.tar.gz",
        "debian/debian12-security-derived.tar.gz",
    ] {
        args.push(adv.join(f).to_str().unwrap().into());
    }
    let status = Command::new(env!("CARGO_BIN_EXE_palisade")).args(&args).arg("-q").status().unwrap();
    assert!(status.success());
    let image = fix.join("app.oci");
    let report = palisade(&[
        "scan",
        "image",
        "--input",
        image.to_str().unwrap(),
        "--scanners",
        "vuln",
        "--db",
        db.to_str().unwrap(),
        "--format",
        "json",
        "-q",
    ]);
    let vulns = report["vulnerabilities"].as_array().unwrap();
    let has = |pkg: &str, id_or_alias: &str| {
        vulns.iter().any(|v| {
            v["package_name"].as_str().unwrap().eq_ignore_ascii_case(pkg)
                && (v["id"] == id_or_alias
                    || v["aliases"].as_array().is_some_and(|a| a.iter().any(|x| x == id_or_alias)))
        })
    };
    assert!(has("time", "RUSTSEC-2020-0071"), "time 0.1.43");
    assert!(has("lodash", "CVE-2020-8203"), "lodash 4.17.15 prototype pollution");
    assert!(
        vulns.iter().any(|v| v["package_name"].as_str().unwrap().eq_ignore_ascii_case("django")),
        "django 2.2"
    );
    // Each finding explains itself: installed version, the matched rule, where the package came from.
    for v in vulns {
        assert!(!v["installed_version"].as_str().unwrap().is_empty());
        assert!(!v["matched_by"].as_array().unwrap().is_empty(), "{v}");
        assert!(v["locations"][0]["path"].is_string(), "{v}");
    }
    // Each vulnerability once per package, with every file the package was found in: lodash is installed
    // in node_modules and locked in package-lock.json, Django installed and pinned in requirements.txt.
    let mut seen = BTreeSet::new();
    for v in vulns {
        let key = (v["id"].as_str().unwrap(), v["purl"].as_str().unwrap());
        assert!(seen.insert(key), "{key:?} reported twice");
    }
    let locations = |pkg: &str, id: &str| -> Vec<(String, u64)> {
        let v = vulns
            .iter()
            .find(|v| v["package_name"].as_str().unwrap().eq_ignore_ascii_case(pkg) && v["id"] == id)
            .unwrap_or_else(|| panic!("{pkg} {id} missing"));
        v["locations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["path"].as_str().unwrap().to_string(), l["layer"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(
        locations("lodash", "CVE-2020-8203"),
        [("app/web/node_modules/lodash/package.json".into(), 1), ("app/web/package-lock.json".into(), 1)]
    );
    let django = vulns.iter().find(|v| v["package_name"] == "Django").unwrap()["id"].as_str().unwrap();
    assert_eq!(
        locations("Django", django),
        [
            ("usr/local/lib/python3.11/site-packages/Django-2.2.dist-info/METADATA".into(), 1),
            ("app/requirements.txt".into(), 1)
        ]
    );
    // The inventory is always in the JSON report (as with Trivy's --list-all-pkgs), and the DB covers every
    // ecosystem of the image: the results are complete.
    assert!(!report["packages"].as_array().unwrap().is_empty());
    assert!(report.get("gaps").is_none(), "{}", report["gaps"]);
}
