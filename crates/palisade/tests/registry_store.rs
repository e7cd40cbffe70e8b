//! `palisade registry scan`, `rescan` and `registry report` on the real binary, against a real registry
//! (Debian's `docker-registry`) holding a few hundred tags in several repositories: variants of the fixture
//! images (`.ci/fixtures.sh`) sharing their base layers, pushed with `skopeo`, more tags added over the
//! distribution API, and a multi-platform index. Faults: 401, a malformed config, a blob that fails its
//! digest, the registry going down mid-scan, a scan killed mid-way. Skips with a message when the registry,
//! skopeo, curl or the fixtures are missing.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{REGISTRY, Registry};

fn fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.fixtures"));
    let tool =
        |t: &str| Command::new(t).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !Path::new(REGISTRY).exists()
        || !tool("skopeo").is_ok_and(|s| s.success())
        || !tool("curl").is_ok_and(|s| s.success())
    {
        eprintln!("SKIP: docker-registry ({REGISTRY}), skopeo or curl not installed");
        return None;
    }
    if !dir.join("app.oci/index.json").exists() || !dir.join("bullseye.oci/index.json").exists() {
        eprintln!("SKIP: fixtures not built at {} (run .ci/fixtures.sh)", dir.display());
        return None;
    }
    Some(dir)
}

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// An OCI layout of variants of the fixture images: the same layers (shared base layer), configs differing
/// by a label, so each variant is a distinct image digest.
struct Layout {
    dir: PathBuf,
    blobs: PathBuf,
    index: Vec<Value>,
}

impl Layout {
    fn new(dir: &Path) -> Layout {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).expect("mkdir");
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
        Layout { dir: dir.into(), blobs, index: Vec::new() }
    }

    fn put(&self, data: &[u8]) -> String {
        let d = sha(data);
        std::fs::write(self.blobs.join(&d[7..]), data).expect("write blob");
        d
    }

    /// Add a variant of `fixture` (an OCI layout) as `tag`; returns the manifest (bytes, digest).
    fn variant(&mut self, fixture: &Path, tag: &str, label: &str) -> (Vec<u8>, String) {
        let read =
            |d: &str| std::fs::read(fixture.join("blobs/sha256").join(&d[7..])).expect("read fixture blob");
        let index: Value =
            serde_json::from_slice(&std::fs::read(fixture.join("index.json")).expect("index")).expect("json");
        let mdigest = index["manifests"][0]["digest"].as_str().expect("digest").to_string();
        let mut manifest: Value = serde_json::from_slice(&read(&mdigest)).expect("manifest");
        for l in manifest["layers"].as_array().expect("layers") {
            let d = l["digest"].as_str().expect("digest");
            let dst = self.blobs.join(&d[7..]);
            if !dst.exists() {
                std::fs::hard_link(fixture.join("blobs/sha256").join(&d[7..]), &dst)
                    .or_else(|_| std::fs::copy(fixture.join("blobs/sha256").join(&d[7..]), &dst).map(|_| ()))
                    .expect("link layer");
            }
        }
        let mut config: Value =
            serde_json::from_slice(&read(manifest["config"]["digest"].as_str().expect("cfg")))
                .expect("config");
        let labels = config["config"]["Labels"].take();
        let mut labels = if labels.is_object() { labels } else { json!({}) };
        labels["org.opencontainers.image.version"] = json!(label);
        labels["org.opencontainers.image.base.name"] = json!("docker.io/library/debian:12");
        config["config"]["Labels"] = labels;
        let cbytes = serde_json::to_vec(&config).expect("json");
        manifest["config"]["digest"] = json!(self.put(&cbytes));
        manifest["config"]["size"] = json!(cbytes.len());
        let mbytes = serde_json::to_vec(&manifest).expect("json");
        let md = self.put(&mbytes);
        self.index.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
            "size": mbytes.len(), "annotations": {"org.opencontainers.image.ref.name": tag}}));
        (mbytes, md)
    }

    /// A two-platform index of two manifests already added, as `tag`.
    fn multi(&mut self, tag: &str, amd: &(Vec<u8>, String), arm: &(Vec<u8>, String)) {
        let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd.1, "size": amd.0.len(),
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm.1, "size": arm.0.len(),
             "platform": {"os": "linux", "architecture": "arm64"}}]});
        let bytes = serde_json::to_vec(&idx).expect("json");
        let d = self.put(&bytes);
        self.index.push(json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d,
            "size": bytes.len(), "annotations": {"org.opencontainers.image.ref.name": tag}}));
    }

    fn write_index(&self) {
        let idx = json!({"schemaVersion": 2, "manifests": self.index});
        std::fs::write(self.dir.join("index.json"), serde_json::to_vec(&idx).expect("json"))
            .expect("write index");
    }
}

fn skopeo(layout: &Path, tag: &str, dest: &str, all: bool) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests"]);
    if all {
        cmd.arg("--all");
    }
    let out = cmd
        .arg(format!("oci:{}:{tag}", layout.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .expect("skopeo");
    assert!(out.status.success(), "skopeo copy {tag} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Tag an image already in `repo` again, over the distribution API.
fn put_manifest(host: &str, repo: &str, tag: &str, manifest: &[u8], media_type: &str) {
    let out = Command::new("curl")
        .args(["-sf", "-X", "PUT", "-H", &format!("Content-Type: {media_type}"), "--data-binary", "@-"])
        .arg(format!("http://{host}/v2/{repo}/manifests/{tag}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            if let Some(mut i) = c.stdin.take() {
                i.write_all(manifest)?;
            }
            c.wait_with_output()
        })
        .expect("curl");
    assert!(out.status.success(), "PUT {repo}:{tag}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Upload a blob into `repo`: POST opens an upload session, PUT with the digest completes it.
fn put_blob(host: &str, repo: &str, data: &[u8]) -> String {
    let d = sha(data);
    let out = Command::new("curl")
        .args(["-si", "-X", "POST"])
        .arg(format!("http://{host}/v2/{repo}/blobs/uploads/"))
        .output()
        .expect("curl");
    let head = String::from_utf8_lossy(&out.stdout).to_string();
    let location = head
        .lines()
        .find_map(|l| l.strip_prefix("Location: ").or_else(|| l.strip_prefix("location: ")))
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| panic!("no upload location: {head}"));
    let location = if location.starts_with("http") { location } else { format!("http://{host}{location}") };
    let sep = if location.contains('?') { '&' } else { '?' };
    let tmp = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(tmp.path(), data).expect("write");
    let out = Command::new("curl")
        .args(["-sf", "-X", "PUT", "-H", "Content-Type: application/octet-stream", "--data-binary"])
        .arg(format!("@{}", tmp.path().display()))
        .arg(format!("{location}{sep}digest={d}"))
        .output()
        .expect("curl");
    assert!(out.status.success(), "blob upload: {}", String::from_utf8_lossy(&out.stderr));
    d
}

fn palisade(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run palisade")
}

fn text(o: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
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

/// A small vulnerability DB: one advisory on a Debian 12 source package, one on an npm package of the app.
fn build_db(dir: &Path, name: &str, advisories: &[(&str, &str, &str, &str)]) -> PathBuf {
    let src = dir.join(format!("{name}-src"));
    std::fs::create_dir_all(&src).expect("mkdir");
    for (id, eco, pkg, fixed) in advisories {
        let doc = json!({"id": id, "modified": "2026-01-01T00:00:00Z", "summary": format!("{pkg} issue"),
            "affected": [{"package": {"ecosystem": eco, "name": pkg},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
            "database_specific": {"severity": "HIGH"}});
        std::fs::write(src.join(format!("{id}.json")), doc.to_string()).expect("write");
    }
    let db = dir.join(format!("{name}.db"));
    let o = palisade(
        &[
            "db",
            "build",
            "--from",
            src.to_str().expect("utf-8"),
            "--db",
            db.to_str().expect("utf-8"),
            "--force",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    db
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
