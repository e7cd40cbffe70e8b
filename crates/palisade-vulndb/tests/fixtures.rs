//! Build, open, match and update against the synthetic feed in `tests/fixtures/feed` (always available).

use palisade_core::findings::vuln::{Severity, VulnStatus};
use palisade_core::{
    ArtifactInfo, ArtifactKind, Ecosystem, Location, OsInfo, Package, ScanReport, SourcePackage,
};
use palisade_vulndb::{
    BuildOptions, Db, DbError, FeedConfig, UpdateConfig, build, match_packages, match_report, update,
};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn feed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feed")
}

fn build_from(sources: Vec<PathBuf>, dir: &Path) -> PathBuf {
    let out = dir.join("sub/palisade.db");
    let stats =
        build(&BuildOptions { sources, output: out.clone(), progress: None, ..Default::default() }).unwrap();
    assert_eq!(stats.warning_count, 0, "{:?}", stats.warnings);
    out
}

fn npm(name: &str, v: &str) -> Package {
    Package::new(Ecosystem::Npm, name, v, Location::new("package-lock.json", None), "npm")
}

fn deb(name: &str, src_version: &str) -> Package {
    let mut p =
        Package::new(Ecosystem::Deb, name, "1.2-3+b1", Location::new("var/lib/dpkg/status", Some(1)), "dpkg");
    p.source = Some(SourcePackage { name: "demo".into(), version: src_version.into() });
    p
}

#[test]
fn directory_feed_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let db_path = build_from(vec![feed()], tmp.path());
    let db = Db::open(&db_path).unwrap();
    let info = db.info().unwrap();
    assert_eq!(info.feeds["feed"].withdrawn, 1);
    assert_eq!(info.feeds["feed"].documents, 7);

    // Alias merge: EXAMPLE-2099-1 and GHSA-demo-0001-0001 both name CVE-2099-0001 → one finding.
    let f = match_packages(&db, None, &[npm("demo-lib", "2.1.0")]).unwrap();
    assert_eq!(f.len(), 1, "{f:#?}");
    let x = &f[0];
    assert_eq!(x.id, "CVE-2099-0001");
    assert_eq!(x.aliases, ["EXAMPLE-2099-1", "GHSA-demo-0001-0001"]);
    assert_eq!(x.fixed_version.as_deref(), Some("2.3.1"));
    assert_eq!(x.status, VulnStatus::Fixed);
    assert_eq!(x.severity, Severity::Critical, "CVSS 9.8 beats the GHSA word for language packages");
    assert_eq!(x.matched_by.len(), 2);
    assert!(x.matched_by.contains(&"introduced 2.0.0, fixed 2.3.1 (SEMVER) in EXAMPLE-2099-1".to_string()));
    assert!(
        x.matched_by
            .contains(&"introduced 0, last_affected 2.3.0 (ECOSYSTEM) in GHSA-demo-0001-0001".to_string())
    );
    assert_eq!(x.published.as_deref(), Some("2099-01-01T00:00:00Z"));
    assert_eq!(x.modified.as_deref(), Some("2099-01-03T00:00:00Z"));
    assert_eq!(x.advisory_sources[0].file.as_deref(), Some("osv/EXAMPLE-2099-1.json"));
    // Between the ranges: 1.9.4 ≤ v < 2.0.0 only the GHSA (last_affected 2.3.0) matches.
    let mid = match_packages(&db, None, &[npm("demo-lib", "1.9.5")]).unwrap();
    assert_eq!(mid.len(), 1);
    assert_eq!(mid[0].status, VulnStatus::Affected);
    assert_eq!(mid[0].aliases, ["GHSA-demo-0001-0001"]);
    assert_eq!(mid[0].severity, Severity::High, "GHSA word when there is no CVSS");
    assert!(match_packages(&db, None, &[npm("demo-lib", "2.3.1")]).unwrap().is_empty());

    // YAML, PEP 503 names, explicit versions.
    let py = Package::new(Ecosystem::PyPI, "demo.py", "1.0", Location::new("requirements.txt", None), "pip");
    let f = match_packages(&db, None, std::slice::from_ref(&py)).unwrap();
    assert_eq!(f[0].id, "CVE-2099-0007");
    assert_eq!(f[0].fixed_version.as_deref(), Some("1.0.post1"));
    let mut fixed = py;
    fixed.version = "1.0.post1".into();
    assert!(match_packages(&db, None, &[fixed]).unwrap().is_empty());

    // Debian: source matching, one finding per CVE, vendor severity first, will-not-fix.
    let os = OsInfo { id: "debian".into(), version_id: "12".into(), ..Default::default() };
    let f = match_packages(&db, Some(&os), &[deb("libdemo1", "1.2-3"), deb("demo-utils", "1.2-3")]).unwrap();
    for bin in ["libdemo1", "demo-utils"] {
        let mine: Vec<_> = f.iter().filter(|x| x.package_name == bin).collect();
        let ids: Vec<&str> = mine.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2099-0002", "CVE-2099-0003", "CVE-2099-0004"], "{bin}");
        let c2 = mine[0];
        assert_eq!(c2.aliases, ["DEBIAN-CVE-2099-0002", "DSA-9999-1"]);
        assert_eq!(c2.severity, Severity::High);
        assert_eq!(c2.installed_version, "1.2-3");
        assert_eq!(c2.package_version, "1.2-3+b1");
        assert!(
            c2.matched_by[0].contains("for source package demo 1.2-3 (Debian:12)"),
            "{:?}",
            c2.matched_by
        );
        assert_eq!(mine[1].aliases, ["DSA-9999-1"]);
        assert_eq!(mine[2].status, VulnStatus::WillNotFix);
        assert_eq!(mine[2].severity, Severity::Low);
    }
    let f = match_packages(&db, Some(&os), &[deb("libdemo1", "1.2-3+deb12u1")]).unwrap();
    assert_eq!(f.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), ["CVE-2099-0004"]);

    // Alpine secdb JSON.
    let os = OsInfo { id: "alpine".into(), version_id: "3.19.4".into(), ..Default::default() };
    let mut apk = Package::new(
        Ecosystem::Apk,
        "demo-libs",
        "1.2.5-r0",
        Location::new("lib/apk/db/installed", Some(0)),
        "apk",
    );
    apk.source = Some(SourcePackage { name: "demo".into(), version: "1.2.5-r0".into() });
    let f = match_packages(&db, Some(&os), &[apk]).unwrap();
    assert_eq!(f.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(), ["CVE-2099-0005"]);
    assert_eq!(f[0].fixed_version.as_deref(), Some("1.2.5-r1"));
}

#[test]
fn one_finding_per_package_with_every_location_and_binary_modules_matched() {
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::open(&build_from(vec![feed()], tmp.path())).unwrap();
    // What the inventory makes of demo-lib installed in node_modules and named in two lockfiles.
    let mut merged = npm("demo-lib", "2.1.0");
    merged.locations = vec![
        Location::new("app/node_modules/demo-lib/package.json", Some(1)),
        Location::new("app/package-lock.json", Some(1)),
        Location::new("tools/yarn.lock", Some(2)),
    ];
    let f = match_packages(&db, None, std::slice::from_ref(&merged)).unwrap();
    assert_eq!(f.len(), 1, "two advisories, one vulnerability, one package: one finding");
    assert_eq!(f[0].id, "CVE-2099-0001");
    assert_eq!(f[0].locations, merged.locations, "every location, primary first");

    // Through a report: packages are matched; a root project only when it is a binary's own module.
    let mut report = ScanReport::new(ArtifactInfo::new(ArtifactKind::Image, "img"), "2026-01-01T00:00:00Z");
    report.packages = vec![merged];
    let mut own_code = npm("demo-lib", "2.1.0");
    own_code.locations = vec![Location::new("src/demo-lib/package-lock.json", None)];
    report.projects = vec![own_code];
    assert_eq!(match_report(&db, &report).unwrap().len(), 1, "the lockfile's own project is not matched");
    let mut binary = npm("demo-lib", "2.1.0");
    binary.locations = vec![Location::new("usr/bin/demo", Some(3))];
    binary.metadata.insert("main".into(), "true".into());
    report.projects.push(binary);
    let f = match_report(&db, &report).unwrap();
    assert_eq!(f.len(), 2);
    assert!(f.iter().any(|x| x.locations == [Location::new("usr/bin/demo", Some(3))]));
}

fn make_zip(dir: &Path, out: &Path) {
    let f = std::fs::File::create(out).unwrap();
    let mut z = zip::ZipWriter::new(f);
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let opts =
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        z.start_file(p.file_name().unwrap().to_string_lossy(), opts).unwrap();
        z.write_all(&std::fs::read(&p).unwrap()).unwrap();
    }
    z.finish().unwrap();
}

fn make_tar_gz(dir: &Path, out: &Path) {
    let f = std::fs::File::create(out).unwrap();
    let gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    let mut t = tar::Builder::new(gz);
    t.append_dir_all("feed", dir).unwrap();
    t.into_inner().unwrap().finish().unwrap();
}

#[test]
fn zip_and_tar_gz_sources() {
    let tmp = tempfile::tempdir().unwrap();
    let osv_zip = tmp.path().join("npm/all.zip");
    std::fs::create_dir_all(osv_zip.parent().unwrap()).unwrap();
    make_zip(&feed().join("osv"), &osv_zip);
    let tgz = tmp.path().join("feeds.tar.gz");
    make_tar_gz(&feed(), &tgz);
    let out = tmp.path().join("db/palisade.db");
    let stats = build(&BuildOptions {
        sources: vec![osv_zip, tgz],
        output: out.clone(),
        progress: None,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(stats.feeds["npm"].documents, 5, "{:?}", stats.feeds);
    assert_eq!(stats.feeds["feeds"].documents, 7);
    let db = Db::open(&out).unwrap();
    assert_eq!(match_packages(&db, None, &[npm("demo-lib", "2.1.0")]).unwrap().len(), 1);
}

#[test]
fn bad_inputs_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    // Missing source.
    let e = build(&BuildOptions {
        sources: vec![tmp.path().join("nope")],
        output: tmp.path().join("x.db"),
        progress: None,
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(e, DbError::Io { .. }), "{e}");
    assert!(!tmp.path().join("x.db").exists());
    // A corrupt archive is an error naming it.
    let bad = tmp.path().join("bad.zip");
    std::fs::write(&bad, b"not a zip").unwrap();
    let e = build(&BuildOptions {
        sources: vec![bad],
        output: tmp.path().join("x.db"),
        progress: None,
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("bad.zip"), "{e}");
    // A broken document is a warning, the rest imports.
    let dir = tmp.path().join("mixed");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.json"), b"{\"id\": \"X\", \"affected\": [{\"package\": 5}]}").unwrap();
    std::fs::copy(feed().join("osv/EXAMPLE-2099-1.json"), dir.join("ok.json")).unwrap();
    // Without --allow-errors the build fails and writes nothing; with it the rest imports.
    let m = tmp.path().join("m.db");
    let e = build(&BuildOptions { sources: vec![dir.clone()], output: m.clone(), ..Default::default() })
        .unwrap_err();
    assert!(e.to_string().contains("1 problems") && e.to_string().contains("broken.json"), "{e}");
    assert!(!m.exists());
    let stats =
        build(&BuildOptions { sources: vec![dir], output: m, allow_errors: true, ..Default::default() })
            .unwrap();
    assert_eq!((stats.advisories, stats.warning_count), (1, 1));
    assert!(stats.warnings[0].contains("broken.json"));
    // Opening something that is not a database.
    let e = Db::open(&tmp.path().join("bad.zip")).unwrap_err();
    assert!(matches!(e, DbError::Schema { .. } | DbError::Sqlite { .. }), "{e}");
    assert!(Db::open(&tmp.path().join("missing.db")).is_err());
    // A database of another schema version is refused.
    let other = tmp.path().join("other.db");
    let c = rusqlite::Connection::open(&other).unwrap();
    c.execute_batch(
        "CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES ('schema_version', '99');",
    )
    .unwrap();
    drop(c);
    let e = Db::open(&other).unwrap_err();
    assert!(e.to_string().contains("schema version 99"), "{e}");
}

#[test]
fn rebuild_replaces_atomically_while_open() {
    let tmp = tempfile::tempdir().unwrap();
    let db_path = build_from(vec![feed().join("osv")], tmp.path());
    let reader = Db::open(&db_path).unwrap();
    build_from(vec![feed()], tmp.path());
    // The old reader keeps its (unlinked) file; a new one sees the new data.
    assert_eq!(match_packages(&reader, None, &[npm("demo-lib", "2.1.0")]).unwrap().len(), 1);
    let fresh = Db::open(&db_path).unwrap();
    assert!(fresh.info().unwrap().ecosystems.contains_key("alpine:v3.19"));
    let leftovers: Vec<_> = std::fs::read_dir(db_path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn sources_without_advisories_are_an_error_and_leave_the_db_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let db_path = build_from(vec![feed().join("osv")], tmp.path());
    let before = std::fs::read(&db_path).unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("README.txt"), "not an advisory").unwrap();
    let e = build(&BuildOptions {
        sources: vec![empty],
        output: db_path.clone(),
        progress: None,
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("no advisories"), "{e}");
    assert!(e.to_string().contains("left unchanged"), "{e}");
    assert_eq!(std::fs::read(&db_path).unwrap(), before);
    let names: Vec<_> = std::fs::read_dir(db_path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, ["palisade.db"], "no temporary file left");
}

#[test]
fn a_device_or_symlink_as_db_output_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let e = build(&BuildOptions {
        sources: vec![feed().join("osv")],
        output: PathBuf::from("/dev/null"),
        progress: None,
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("device or FIFO"), "{e}");
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(
        &std::fs::symlink_metadata("/dev/null").unwrap().file_type()
    ));
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = tmp.path().join("db");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let e = build(&BuildOptions {
        sources: vec![feed().join("osv")],
        output: link,
        progress: None,
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

/// A tiny HTTP/1.1 server: serves `files` by path, with ETag and `If-None-Match` → 304.
fn serve(files: Vec<(String, Vec<u8>)>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let mut inm = None;
            loop {
                let mut l = String::new();
                if r.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                    break;
                }
                if let Some((k, v)) = l.split_once(':')
                    && k.eq_ignore_ascii_case("if-none-match")
                {
                    inm = Some(v.trim().to_string());
                }
            }
            h.fetch_add(1, Ordering::SeqCst);
            let resp = match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => {
                    let etag = format!("\"{}\"", body.len());
                    if inm.as_deref() == Some(etag.as_str()) {
                        format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                            .into_bytes()
                    } else {
                        let mut v = format!(
                            "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        v.extend_from_slice(body);
                        v
                    }
                }
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            };
            let _ = s.write_all(&resp);
        }
    });
    (format!("http://{addr}"), hits)
}

#[test]
fn update_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let zip_path = tmp.path().join("all.zip");
    make_zip(&feed().join("osv"), &zip_path);
    let zip_bytes = std::fs::read(&zip_path).unwrap();
    let alpine = std::fs::read(feed().join("alpine/v3.19-main.json")).unwrap();
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&zip_bytes))
    };
    let mut files = vec![
        ("/npm/all.zip".to_string(), zip_bytes),
        ("/alpine/v3.19/main.json".to_string(), alpine),
        ("/npm/all.zip.sha256".to_string(), format!("{sha}  all.zip\n").into_bytes()),
    ];
    // Serve a real corpus file too when the shared data is present.
    let rustsec =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/advisories/osv-rustsec.tar.gz");
    let with_corpus = rustsec.is_file();
    if with_corpus {
        files.push(("/rustsec.tar.gz".to_string(), std::fs::read(&rustsec).unwrap()));
    } else {
        eprintln!("note: {} absent; update test uses fixtures only", rustsec.display());
    }
    let (base, hits) = serve(files);
    let mut feeds = vec![
        FeedConfig {
            sha256_url: Some(format!("{base}/npm/all.zip.sha256")),
            ..FeedConfig::new("npm", format!("{base}/npm/all.zip"))
        },
        FeedConfig::new("alpine-v3.19", format!("{base}/alpine/v3.19/main.json")),
    ];
    if with_corpus {
        feeds.push(FeedConfig::new("rustsec", format!("{base}/rustsec.tar.gz")));
    }
    let cfg = UpdateConfig { feeds, ..UpdateConfig::default() };
    let db_path = tmp.path().join("cache/db/palisade.db");
    let s1 = update(&cfg, &db_path).unwrap();
    assert_eq!(s1.downloaded.len(), cfg.feeds.len());
    assert!(s1.build.is_some());
    let db = Db::open(&db_path).unwrap();
    assert_eq!(match_packages(&db, None, &[npm("demo-lib", "2.1.0")]).unwrap().len(), 1);
    if with_corpus {
        let t = Package::new(Ecosystem::Cargo, "time", "0.1.43", Location::new("Cargo.lock", None), "cargo");
        let f = match_packages(&db, None, &[t]).unwrap();
        assert!(f.iter().any(|x| x.aliases.contains(&"RUSTSEC-2020-0071".to_string())));
    }
    // Second run: every feed answers 304, nothing is rebuilt.
    let before = hits.load(Ordering::SeqCst);
    let s2 = update(&cfg, &db_path).unwrap();
    assert!(s2.downloaded.is_empty(), "{s2:?}");
    assert_eq!(s2.not_modified.len(), cfg.feeds.len());
    assert!(s2.build.is_none());
    assert_eq!(hits.load(Ordering::SeqCst) - before, cfg.feeds.len());
    // A wrong checksum is refused and the database is left as it was.
    let mut bad = cfg.clone();
    bad.force = true;
    bad.feeds[0].sha256_url = None;
    bad.feeds[0].sha256 = Some("00".repeat(32));
    let e = update(&bad, &db_path).unwrap_err();
    assert!(matches!(e, DbError::Checksum { .. }), "{e}");
    assert!(Db::open(&db_path).is_ok());
    // A missing feed is an HTTP error naming the URL.
    let missing = UpdateConfig {
        feeds: vec![FeedConfig::new("x", format!("{base}/nope.json"))],
        ..UpdateConfig::default()
    };
    let e = update(&missing, &db_path).unwrap_err();
    assert!(e.to_string().contains("/nope.json") && e.to_string().contains("404"), "{e}");
}

/// A planted or damaged database never runs SQL it carries: `affected` or `meta` replaced by a recursive
/// view, or an index dropped, is refused at open, at once.
#[test]
fn sql_in_the_database_never_runs() {
    let recursive = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)";
    let cases = [
        format!(
            "DROP TABLE affected; CREATE VIEW affected(ecosystem, name, advisory, json) AS {recursive} \
             SELECT 'npm', 'x', n, '{{}}' FROM r;"
        ),
        format!(
            "DROP TABLE meta; CREATE VIEW meta(key, value) AS {recursive} SELECT 'schema_version', '1' FROM r;"
        ),
        "DROP INDEX affected_pkg;".to_string(),
    ];
    for sql in cases {
        let tmp = tempfile::tempdir().unwrap();
        let db_path = build_from(vec![feed().join("osv")], tmp.path());
        let c = rusqlite::Connection::open(&db_path).unwrap();
        c.execute_batch(&sql).unwrap();
        drop(c);
        let start = std::time::Instant::now();
        let e = Db::open(&db_path).unwrap_err();
        assert!(start.elapsed() < std::time::Duration::from_secs(5), "{sql}");
        assert!(matches!(e, DbError::Schema { .. }), "{sql}: {e}");
        let msg = e.to_string();
        assert!(msg.contains("is a view") || msg.contains("missing"), "{msg}");
    }
}

/// A database is never replaced by a much emptier one without `force`.
#[test]
fn an_emptier_rebuild_needs_force() {
    let tmp = tempfile::tempdir().unwrap();
    let db_path = build_from(vec![feed()], tmp.path());
    let full = Db::open(&db_path).unwrap().info().unwrap().advisories;
    let one = tmp.path().join("one");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::copy(feed().join("osv/EXAMPLE-2099-1.json"), one.join("ok.json")).unwrap();
    let opts = BuildOptions { sources: vec![one], output: db_path.clone(), ..Default::default() };
    let e = build(&opts).unwrap_err();
    assert!(e.to_string().contains("--force"), "{e}");
    assert_eq!(Db::open(&db_path).unwrap().info().unwrap().advisories, full);
    build(&BuildOptions { force: true, ..opts }).unwrap();
    assert_eq!(Db::open(&db_path).unwrap().info().unwrap().advisories, 1);
}

/// Issue 18: a package's fingerprint says whether the DB matches it differently: equal for the same
/// advisories read from another place, different when a range changes, and the fingerprint of nothing for a
/// package without advisories.
#[test]
fn package_fingerprints_follow_content_not_location() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |dir: &str, fixed: &str| {
        let d = tmp.path().join(dir);
        std::fs::create_dir_all(&d).unwrap();
        let doc = serde_json::json!({"id": "GHSA-ffff-ffff-ffff", "modified": "2026-01-01T00:00:00Z",
            "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]});
        std::fs::write(d.join("GHSA-ffff-ffff-ffff.json"), doc.to_string()).unwrap();
        let out = tmp.path().join(format!("{dir}.db"));
        build(&BuildOptions {
            sources: vec![d],
            output: out.clone(),
            progress: None,
            allow_errors: false,
            force: true,
        })
        .unwrap();
        Db::open(&out).unwrap()
    };
    let (a, b, c) = (write("feed-a", "1.3.0"), write("feed-b", "1.3.0"), write("feed-c", "1.4.0"));
    let fp = |db: &Db, name: &str| db.package_fingerprint("npm", name).unwrap();
    assert_eq!(fp(&a, "left-pad"), fp(&b, "left-pad"), "same advisory from another feed directory");
    assert_ne!(fp(&a, "left-pad"), fp(&c, "left-pad"), "the fixed version changed");
    assert_eq!(fp(&a, "right-pad"), fp(&c, "right-pad"), "no advisories in either");
    assert_ne!(fp(&a, "left-pad"), fp(&a, "right-pad"));
}
