//! `palisade registry scan`, `rescan` and `registry report` on the real binary, against a real registry
//! (Debian's `docker-registry`) holding a few hundred tags in several repositories: variants of the fixture
//! images (`.ci/fixtures.sh`) sharing their base layers, pushed with `skopeo`, more tags added over the
//! distribution API, and a multi-platform index. Faults: 401, a malformed config, a blob that fails its
//! digest, the registry going down mid-scan, a scan killed mid-way. Skips with a message when the registry,
//! skopeo, curl or the fixtures are missing.

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::text;

use support::Registry;
use support::images::{Layout, build_db, fixtures, put_blob, put_manifest, skopeo};

fn palisade(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run palisade")
}

fn count(store: &Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open store");
    c.query_row(sql, [], |r| r.get(0)).expect("count")
}

/// Images stored so far by a scan still running: 0 while the store is being created.
fn stored_so_far(store: &Path) -> i64 {
    rusqlite::Connection::open_with_flags(store, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row("SELECT COUNT(*) FROM images", [], |r| r.get(0)))
        .unwrap_or(0)
}

#[test]
fn registry_scan_rescan_report_and_faults() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".docker")).expect("mkdir");
    let env: &[(&str, &Path)] = &[
        ("HOME", &home),
        ("DOCKER_CONFIG", &home.join(".docker")),
        ("XDG_CACHE_HOME", &tmp.path().join("cache")),
    ];
    let regdir = tmp.path().join("registry");
    std::fs::create_dir_all(&regdir).expect("mkdir");
    let mut reg = Registry::start(&regdir, None);
    let host = reg.host();

    // Three repositories; 4 + 3 + 3 distinct images, two of them also in a two-platform index.
    let mut layout = Layout::new(&tmp.path().join("layout"));
    let mut pushed: Vec<(String, String, (Vec<u8>, String))> = Vec::new();
    for (repo, fixture, n) in [
        ("base/debian", "bookworm.oci", 4),
        ("base/debian-old", "bullseye.oci", 3),
        ("team/app", "app.oci", 3),
    ] {
        for i in 0..n {
            let tag = format!("{}-v{i}", repo.replace('/', "-"));
            let m = layout.variant(&fx.join(fixture), &tag, &format!("{repo}-{i}"));
            pushed.push((repo.to_string(), tag, m));
        }
    }
    let amd = pushed[0].2.clone();
    let arm = pushed[7].2.clone();
    layout.multi("multi", &amd, &arm);
    layout.write_index();
    for (repo, tag, _) in &pushed {
        skopeo(&layout.dir, tag, &format!("{host}/{repo}:{tag}"), false);
    }
    // The index goes to team/app, which holds both manifests' blobs after the base image is pushed there too.
    skopeo(&layout.dir, &pushed[0].1, &format!("{host}/team/app:base"), false);
    skopeo(&layout.dir, "multi", &format!("{host}/team/app:multi"), true);
    // Many more tags for the same images: 20 per image.
    let mut tags = pushed.len() + 2;
    for (repo, tag, (bytes, _)) in &pushed {
        for k in 0..20 {
            put_manifest(
                &host,
                repo,
                &format!("{tag}-r{k}"),
                bytes,
                "application/vnd.oci.image.manifest.v1+json",
            );
            tags += 1;
        }
    }
    assert!(tags >= 200, "{tags} tags");

    // No DB yet: everything stored unmatched.
    let store = tmp.path().join("store.db");
    let store_s = store.to_str().expect("utf-8");
    let t0 = Instant::now();
    let o = palisade(
        &[
            "registry",
            "scan",
            &host,
            "--insecure",
            "--store",
            store_s,
            "--concurrency",
            "2",
            "--platform",
            "all",
        ],
        env,
    );
    assert!(o.status.success(), "{}", text(&o));
    eprintln!("first scan: {tags} tags in {:.1} s\n{}", t0.elapsed().as_secs_f64(), text(&o));
    assert_eq!(count(&store, "SELECT COUNT(*) FROM images"), 10, "{}", text(&o));
    assert_eq!(count(&store, "SELECT COUNT(*) FROM sboms"), 10);
    assert!(count(&store, "SELECT COUNT(*) FROM tags") >= tags as i64 - 2, "{}", text(&o));
    assert_eq!(count(&store, "SELECT COUNT(*) FROM images WHERE db_version IS NULL"), 10);
    assert!(text(&o).contains("images stored unmatched"), "{}", text(&o));

    // Again: nothing pulled.
    let o =
        palisade(&["registry", "scan", &host, "--insecure", "--store", store_s, "--platform", "all"], env);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("0 images stored, 10 already stored, 0 failed"), "{}", text(&o));

    // A DB: rescan matches without pulling (the registry is down).
    reg.stop();
    let db1 = build_db(tmp.path(), "v1", &[("DEBIAN-CVE-2026-0001", "Debian:12", "glibc", "99.0")]);
    let o =
        palisade(&["rescan", "--store", store_s, "--db", db1.to_str().expect("utf-8"), "-f", "json"], env);
    assert!(o.status.success(), "{}", text(&o));
    let s: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(s["images"], 10);
    let with_new: Vec<&Value> = s["changed"]
        .as_array()
        .expect("changed")
        .iter()
        .filter(|c| !c["new"].as_array().expect("new").is_empty())
        .collect();
    // The bookworm variants and the app variants (built on bookworm) have glibc 2.36; bullseye is Debian 11.
    assert_eq!(with_new.len(), 7, "{s:#}");
    assert!(with_new.iter().all(|c| c["repository"] != format!("{host}/base/debian-old")));
    // DB 2: an advisory on an npm package of the app; only the three app images change.
    let db2 = build_db(
        tmp.path(),
        "v2",
        &[
            ("DEBIAN-CVE-2026-0001", "Debian:12", "glibc", "99.0"),
            ("GHSA-aaaa-bbbb-cccc", "npm", "lodash", "99.0"),
        ],
    );
    let o =
        palisade(&["rescan", "--store", store_s, "--db", db2.to_str().expect("utf-8"), "-f", "json"], env);
    assert!(o.status.success(), "{}", text(&o));
    let s: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(s["changed_keys"], 1, "{s:#}");
    let changed: Vec<String> = s["changed"]
        .as_array()
        .expect("changed")
        .iter()
        .map(|c| c["repository"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(changed.len() == 3 && changed.iter().all(|r| r.ends_with("/team/app")), "{s:#}");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM scan_results"), 20);
    // Report by risk: the app images first (libc6, libc-bin and lodash).
    for f in ["table", "json", "html"] {
        let o = palisade(&["registry", "report", "--store", store_s, "-f", f], env);
        assert!(o.status.success(), "{}", text(&o));
        if f == "json" {
            let r: Value = serde_json::from_slice(&o.stdout).expect("json");
            assert_eq!(r.as_array().map(Vec::len), Some(10));
            assert!(r[0]["repository"].as_str().is_some_and(|x| x.ends_with("team/app")), "{r:#}");
            assert_eq!(r[0]["high"], 3, "{r:#}");
        }
        if f == "html" {
            assert!(String::from_utf8_lossy(&o.stdout).starts_with("<!DOCTYPE html>"));
        }
    }

    // Faults, with the registry back on the same port and storage.
    assert!(reg.run(None), "registry restart");
    // A malformed config and a layer blob that fails its digest, beside a good new image.
    let cfg = put_blob(&host, "broken/config", b"this is not JSON");
    let layer_bytes = b"not really a layer".to_vec();
    let ld = put_blob(&host, "broken/config", &layer_bytes);
    let bad = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg, "size": 16},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": layer_bytes.len()}]});
    put_manifest(
        &host,
        "broken/config",
        "bad",
        &serde_json::to_vec(&bad).expect("json"),
        "application/vnd.oci.image.manifest.v1+json",
    );
    let mut corrupt = Layout::new(&tmp.path().join("layout2"));
    let tampered = corrupt.variant(&fx.join("bullseye.oci"), "tampered", "tampered");
    let good = corrupt.variant(&fx.join("bullseye.oci"), "good", "good");
    corrupt.write_index();
    skopeo(&corrupt.dir, "tampered", &format!("{host}/broken/blob:tampered"), false);
    skopeo(&corrupt.dir, "good", &format!("{host}/fine/new:good"), false);
    // Tamper with the stored config blob of the tampered image: the registry serves bytes that do not match.
    let m: Value = serde_json::from_slice(&tampered.0).expect("json");
    let cd = m["config"]["digest"].as_str().expect("digest");
    let blob =
        regdir.join("data/docker/registry/v2/blobs/sha256").join(&cd[7..9]).join(&cd[7..]).join("data");
    let mut bytes = std::fs::read(&blob).expect("read blob");
    // Still valid JSON, but no longer the content its digest names.
    let at = bytes.windows(8).position(|w| w == b"\"created").expect("a created field");
    bytes[at + 1] = b'C';
    std::fs::write(&blob, bytes).expect("tamper");
    let o = palisade(
        &["registry", "scan", &host, "--insecure", "--store", store_s, "--db", db2.to_str().expect("utf-8")],
        env,
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("broken/config@") && out.contains("error:"), "{out}");
    assert!(out.contains("broken/blob@") && out.contains("Invalid digest"), "{out}");
    assert!(out.contains("1 images stored") && out.contains("2 failed"), "{out}");
    assert!(out.contains("run the same command again"), "{out}");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM images"), 11);
    let _ = good;

    // 401: a registry wanting credentials, none configured.
    reg.stop();
    let pw = tmp.path().join("htpasswd");
    let o = Command::new("htpasswd").args(["-Bbn", "alice", "s3cret"]).output();
    if let Some(o) = o.ok().filter(|o| o.status.success()) {
        std::fs::write(&pw, &o.stdout).expect("write htpasswd");
        assert!(reg.run(Some(pw.to_str().expect("utf-8"))), "registry restart with auth");
        let o = palisade(
            &["registry", "scan", &format!("{host}/team/app"), "--insecure", "--store", store_s],
            env,
        );
        let out = text(&o);
        assert_eq!(o.status.code(), Some(2), "{out}");
        assert!(
            out.contains("authentication failed")
                || out.contains("401")
                || out.to_lowercase().contains("unauthorized"),
            "{out}"
        );
        assert_eq!(count(&store, "SELECT COUNT(*) FROM images"), 11, "nothing written");
        reg.stop();
    } else {
        eprintln!("SKIP (401 part): htpasswd (apache2-utils) not installed");
    }

    // Registry down mid-scan, then a killed scan, then resume: fresh store, registry without auth.
    assert!(reg.run(None), "registry restart");
    let store2 = tmp.path().join("store2.db");
    let store2_s = store2.to_str().expect("utf-8");
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "registry",
            "scan",
            &host,
            "--insecure",
            "--store",
            store2_s,
            "--concurrency",
            "1",
            "--no-cache",
        ])
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(300);
    while stored_so_far(&store2) < 2 {
        assert!(Instant::now() < deadline, "scan stored nothing");
        assert!(child.try_wait().expect("wait").is_none(), "scan ended too early");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill");
    let _ = child.wait();
    let done = count(&store2, "SELECT COUNT(*) FROM images");
    assert!(done >= 2);
    // Every stored image is whole: its SBOM and its packages are there.
    assert_eq!(
        count(
            &store2,
            "SELECT COUNT(*) FROM images i WHERE NOT EXISTS (SELECT 1 FROM sboms s WHERE s.image_id = i.id)"
        ),
        0
    );
    assert_eq!(
        count(
            &store2,
            "SELECT COUNT(*) FROM images i WHERE package_count <> (SELECT COUNT(*) FROM image_packages p WHERE p.image_id = i.id)"
        ),
        0
    );
    // Resume: the finished images are not scanned again.
    let o =
        palisade(&["registry", "scan", &host, "--insecure", "--store", store2_s, "--concurrency", "1"], env);
    let out = text(&o);
    assert!(out.contains(&format!("{done} already stored")), "{out}");
    assert_eq!(count(&store2, "SELECT COUNT(*) FROM images") as usize, 11, "{out}");
    // Down mid-scan: a new repository, registry stopped after the first image is stored.
    let store3 = tmp.path().join("store3.db");
    let store3_s = store3.to_str().expect("utf-8");
    let child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "registry",
            "scan",
            &host,
            "--insecure",
            "--store",
            store3_s,
            "--concurrency",
            "1",
            "--no-cache",
        ])
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(300);
    while stored_so_far(&store3) < 1 {
        assert!(Instant::now() < deadline, "scan stored nothing");
        std::thread::sleep(Duration::from_millis(50));
    }
    reg.stop();
    let o = child.wait_with_output().expect("wait");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("error:") && out.contains("registry error"), "{out}");
    let stored = count(&store3, "SELECT COUNT(*) FROM images");
    assert!((1..11).contains(&stored), "{stored}");
    assert_eq!(
        count(
            &store3,
            "SELECT COUNT(*) FROM images i WHERE NOT EXISTS (SELECT 1 FROM sboms s WHERE s.image_id = i.id)"
        ),
        0
    );
}
