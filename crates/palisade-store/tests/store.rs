//! The store's test suite, run against SQLite and a real PostgreSQL (started by the test; skipped with a
//! message when PostgreSQL is not installed): the same assertions on both.

mod pg;

use palisade_core::{Ecosystem, Location, OsInfo, Package, SourcePackage};
use palisade_store::{Decision, NewImage, Retention, Store};
use std::path::Path;

fn advisory(dir: &Path, id: &str, cve: &str, eco: &str, name: &str, fixed: &str, severity: &str) {
    let doc = serde_json::json!({
        "id": id, "modified": "2026-01-01T00:00:00Z", "aliases": [cve], "summary": format!("{name} bug"),
        "affected": [{"package": {"ecosystem": eco, "name": name},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
        "database_specific": {"severity": severity}
    });
    std::fs::write(dir.join(format!("{id}.json")), doc.to_string()).expect("write advisory");
}

/// A vulnerability DB built from the advisories `write` puts in a fresh directory (its version is its build
/// time, to the nanosecond).
fn build_db(dir: &Path, name: &str, write: impl FnOnce(&Path)) -> palisade_vulndb::Db {
    let src = dir.join(format!("{name}-src"));
    std::fs::create_dir_all(&src).expect("mkdir");
    write(&src);
    let out = dir.join(format!("{name}.db"));
    palisade_vulndb::build(&palisade_vulndb::BuildOptions {
        sources: vec![src],
        output: out.clone(),
        progress: None,
        allow_errors: false,
        force: true,
    })
    .expect("build db");
    palisade_vulndb::Db::open(&out).expect("open db")
}

fn npm(name: &str, version: &str) -> Package {
    Package::new(Ecosystem::Npm, name, version, Location::new("app/package-lock.json", Some(1)), "npm")
}

fn image(digest: &str, tag: &str, lodash: &str) -> NewImage {
    let mut deb = Package::new(
        Ecosystem::Deb,
        "libssl3",
        "3.0.11-1~deb12u2",
        Location::new("var/lib/dpkg/status", Some(0)),
        "dpkg",
    );
    deb.source = Some(SourcePackage { name: "openssl".into(), version: "3.0.11-1~deb12u2".into() });
    NewImage {
        digest: digest.into(),
        platform: "linux/amd64".into(),
        repository: "reg.example/app".into(),
        tags: vec![tag.into()],
        created: Some("2026-01-01T00:00:00Z".into()),
        labels: [("org.opencontainers.image.base.name".to_string(), "debian:12".to_string())].into(),
        base_image: Some("debian:12".into()),
        layers: vec!["sha256:l0".into(), "sha256:l1".into()],
        os: Some(OsInfo { id: "debian".into(), version_id: "12".into(), ..OsInfo::default() }),
        packages: vec![npm("lodash", lodash), npm("left-pad", "1.3.0"), deb],
        sbom: format!("{{\"bomFormat\":\"CycloneDX\",\"digest\":\"{digest}\"}}").into_bytes(),
        sbom_format: "cyclonedx-json".into(),
    }
}

fn names(changes: &[(String, String, String)]) -> Vec<String> {
    let mut v: Vec<String> = changes.iter().map(|(id, ..)| id.clone()).collect();
    v.sort();
    v
}

fn suite(spec: &str, tmp: &Path) {
    let store = Store::open(spec).expect("open store");
    // Opening again applies no migration twice.
    drop(Store::open(spec).expect("reopen store"));

    let a = image("sha256:aaaa", "1.0", "4.17.20");
    let b = image("sha256:bbbb", "1.1", "4.17.21");
    store.put_image(&a).expect("put a");
    store.put_image(&b).expect("put b");
    // Storing an image again changes nothing but its tags.
    let mut a2 = a.clone();
    a2.tags = vec!["stable".into()];
    store.put_image(&a2).expect("put a again");
    assert!(store.has_image("sha256:aaaa").expect("has"));
    assert!(!store.has_image("sha256:cccc").expect("has"));
    let (format, sbom) = store.sbom("sha256:aaaa").expect("sbom").expect("stored");
    assert_eq!((format.as_str(), sbom.as_slice()), ("cyclonedx-json", a.sbom.as_slice()));

    // DB 1: lodash < 4.17.21 is vulnerable; openssl (Debian 12) too.
    let v1 = |d: &Path| {
        advisory(d, "GHSA-1111-1111-1111", "CVE-2026-1111", "npm", "lodash", "4.17.21", "HIGH");
        advisory(
            d,
            "DEBIAN-CVE-2026-3333",
            "CVE-2026-3333",
            "Debian:12",
            "openssl",
            "3.0.11-1~deb12u3",
            "LOW",
        );
    };
    let db1 = build_db(tmp, "v1", v1);
    let s = store.rematch(&db1).expect("match 1");
    assert_eq!(s.images, 2);
    assert_eq!(s.changed.len(), 2, "{s:#?}");
    assert!(s.changed.iter().all(|c| c.first_match));
    let ca = s.changed.iter().find(|c| c.digest == "sha256:aaaa").expect("a");
    assert_eq!(names(&ca.new), ["CVE-2026-1111", "CVE-2026-3333"]);
    let cb = s.changed.iter().find(|c| c.digest == "sha256:bbbb").expect("b");
    assert_eq!(names(&cb.new), ["CVE-2026-3333"]);

    // The same DB again: nothing to match.
    let s = store.rematch(&db1).expect("match 1 again");
    assert_eq!((s.changed_keys, s.packages_matched, s.changed.len()), (0, 0, 0), "{s:#?}");

    // DB 2: the lodash advisory is withdrawn, a new one hits both lodash versions; openssl unchanged.
    let db2 = build_db(tmp, "v2", |d| {
        advisory(d, "GHSA-2222-2222-2222", "CVE-2026-2222", "npm", "lodash", "4.17.22", "CRITICAL");
        advisory(
            d,
            "DEBIAN-CVE-2026-3333",
            "CVE-2026-3333",
            "Debian:12",
            "openssl",
            "3.0.11-1~deb12u3",
            "LOW",
        );
    });
    let s = store.rematch(&db2).expect("match 2");
    assert_eq!(s.changed_keys, 1, "only lodash changed: {s:#?}");
    assert_eq!(s.packages_matched, 2, "two lodash versions");
    let ca = s.changed.iter().find(|c| c.digest == "sha256:aaaa").expect("a changed");
    assert!(!ca.first_match);
    assert_eq!(
        (names(&ca.new), names(&ca.fixed), ca.unchanged),
        (vec!["CVE-2026-2222".into()], vec!["CVE-2026-1111".into()], 1)
    );
    let cb = s.changed.iter().find(|c| c.digest == "sha256:bbbb").expect("b changed");
    assert_eq!((names(&cb.new), cb.fixed.len(), cb.unchanged), (vec!["CVE-2026-2222".into()], 0, 1));

    // DB 1 again: CVE-2026-1111 reappears in a.
    let db3 = build_db(tmp, "v3", v1);
    let s = store.rematch(&db3).expect("match 3");
    let ca = s.changed.iter().find(|c| c.digest == "sha256:aaaa").expect("a changed");
    assert_eq!(names(&ca.new), ["CVE-2026-1111"]);
    let f = store.findings("sha256:aaaa").expect("findings");
    let ids: Vec<&str> = f.iter().map(|f| f.vuln_id.as_str()).collect();
    assert_eq!(ids, ["CVE-2026-1111", "CVE-2026-3333"], "{f:#?}");
    assert!(f[0].reappeared_at.is_some(), "{f:#?}");
    assert!(f[1].reappeared_at.is_none());
    assert_eq!(f[0].fixed_version.as_deref(), Some("4.17.21"));

    // Decisions.
    store
        .decide(&Decision {
            scope: "*".into(),
            vuln_id: "CVE-2026-3333".into(),
            purl: None,
            decision: "waive".into(),
            reason: "not reachable".into(),
            author: "test".into(),
            expires_at: Some("2999-01-01T00:00:00Z".into()),
        })
        .expect("decide");
    assert!(
        store
            .decide(&Decision { decision: "maybe".into(), ..store.decisions().unwrap()[0].clone() })
            .is_err()
    );
    let f = store.findings("sha256:aaaa").expect("findings");
    assert_eq!(f[1].decision.as_deref(), Some("waive"));
    assert_eq!(f[0].decision, None);

    // Risk order: a (high + low) before b (low only).
    let r = store.images_by_risk().expect("risk");
    assert_eq!(r.iter().map(|i| i.digest.as_str()).collect::<Vec<_>>(), ["sha256:aaaa", "sha256:bbbb"]);
    assert_eq!((r[0].high, r[0].low, r[0].fixable, r[0].packages), (1, 1, 2, 3));
    assert_eq!(r[0].tags, ["1.0", "stable"]);
    assert_eq!(r[0].os.as_deref(), Some("debian 12"));

    // Retention: one scan result per image is kept.
    assert_eq!(store.retention().expect("retention"), Retention::default());
    store.set_retention(&Retention { scan_results_per_image: 1, ..Retention::default() }).expect("set");
    let pruned = store.apply_retention().expect("prune");
    assert_eq!(pruned.scan_results, 4, "{pruned:?}");
    assert!(store.set_retention(&Retention { scan_results_per_image: 0, ..Retention::default() }).is_err());

    exploits(&store, tmp);
    let trend = store.findings_over_time().expect("trend");
    assert!(trend.len() >= 4, "{trend:#?}");
    assert!(trend.windows(2).all(|w| w[0].at < w[1].at), "oldest first");
    // Every match above opened or fixed something; the last point holds what is open now.
    assert!(trend.iter().all(|p| p.opened + p.fixed > 0), "{trend:#?}");
    let open_now: i64 =
        store.images_by_risk().expect("risk").iter().map(|i| i.critical + i.high + i.low).sum();
    assert_eq!(trend.last().map(|p| p.open()), Some(open_now), "{trend:#?}");

    queue(spec);
}

/// A KEV catalog listing `cves` (the first with known ransomware use when `ransomware`).
fn kev(dir: &Path, cves: &[&str], ransomware: bool) {
    let items: Vec<serde_json::Value> = cves
        .iter()
        .enumerate()
        .map(|(i, c)| {
            serde_json::json!({"cveID": c, "dateAdded": "2026-12-01", "dueDate": "2026-12-22",
                "knownRansomwareCampaignUse": if ransomware && i == 0 { "Known" } else { "Unknown" }})
        })
        .collect();
    let doc = serde_json::json!({"catalogVersion": "2026.12.01", "vulnerabilities": items});
    std::fs::write(dir.join("known_exploited_vulnerabilities.json"), doc.to_string()).expect("write kev");
}

/// An advisory with no fixed version.
fn unfixed(dir: &Path, id: &str, cve: &str, name: &str, severity: &str) {
    let doc = serde_json::json!({
        "id": id, "modified": "2026-01-01T00:00:00Z", "aliases": [cve], "summary": format!("{name} bug"),
        "affected": [{"package": {"ecosystem": "npm", "name": name},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}],
        "database_specific": {"severity": severity}
    });
    std::fs::write(dir.join(format!("{id}.json")), doc.to_string()).expect("write advisory");
}

fn one_package(digest: &str, repo: &str, name: &str) -> NewImage {
    NewImage {
        digest: digest.into(),
        platform: "linux/amd64".into(),
        repository: repo.into(),
        tags: vec!["v1".into()],
        layers: vec!["sha256:l0".into()],
        packages: vec![npm(name, "1.0.0")],
        sbom: b"{}".to_vec(),
        sbom_format: "cyclonedx-json".into(),
        ..NewImage::default()
    }
}

/// Exploit data: a KEV listing added to the DB, with no advisory changed, raises an image's risk at the next
/// re-match; one KEV high outranks three plain criticals; equal scores go to the fixable image.
fn exploits(store: &Store, tmp: &Path) {
    for (d, repo, name) in [
        ("sha256:c0c0", "reg.example/kev", "kevlib"),
        ("sha256:d0d0", "reg.example/crit", "critlib"),
        ("sha256:e0e0", "reg.example/twohigh", "twolib"),
        ("sha256:f0f0", "reg.example/fixable", "fixlib"),
    ] {
        store.put_image(&one_package(d, repo, name)).expect("put");
    }
    let advisories = |d: &Path| {
        unfixed(d, "GHSA-kkkk-0001", "CVE-2026-5001", "kevlib", "HIGH");
        for i in 1..=3 {
            let (id, cve) = (format!("GHSA-cccc-000{i}"), format!("CVE-2026-600{i}"));
            advisory(d, &id, &cve, "npm", "critlib", "1.0.1", "CRITICAL");
        }
        unfixed(d, "GHSA-tttt-0001", "CVE-2026-7001", "twolib", "HIGH");
        unfixed(d, "GHSA-tttt-0002", "CVE-2026-7002", "twolib", "HIGH");
        advisory(d, "GHSA-ffff-0001", "CVE-2026-8001", "npm", "fixlib", "1.0.1", "HIGH");
    };
    let epss = |d: &Path| {
        std::fs::write(
            d.join("epss_scores-2026-12-05.csv"),
            "#model_version:v2025.03.14,score_date:2026-12-05T00:00:00+0000\ncve,epss,percentile\n\
             CVE-2026-8001,0.05000,0.90000\n",
        )
        .expect("write epss");
    };
    let plain = build_db(tmp, "x1", |d| {
        advisories(d);
        epss(d);
    });
    store.rematch(&plain).expect("match x1");
    let order = |store: &Store| -> Vec<String> {
        store
            .images_by_risk()
            .expect("risk")
            .iter()
            .filter(|i| ["kev", "crit", "twohigh", "fixable"].iter().any(|r| i.repository.ends_with(r)))
            .map(|i| i.repository.trim_start_matches("reg.example/").to_string())
            .collect()
    };
    // 3 × critical × fixable = 6000; fixlib's high (fixable) 200 ties twolib's two unfixable highs: fixable first.
    assert_eq!(order(store), ["crit", "fixable", "twohigh", "kev"]);
    let r = store.images_by_risk().expect("risk");
    let fixable = r.iter().find(|i| i.repository.ends_with("/fixable")).expect("fixable");
    assert_eq!((fixable.risk, fixable.risk_factors.max_epss), (200, Some(0.05)), "{fixable:#?}");

    // The same advisories, and CISA lists kevlib's CVE (with ransomware use).
    let listed = build_db(tmp, "x2", |d| {
        advisories(d);
        epss(d);
        kev(d, &["CVE-2026-5001", "CVE-2099-0001"], true);
    });
    let s = store.rematch(&listed).expect("match x2");
    assert_eq!((s.changed_keys, s.packages_matched, s.changed.len()), (0, 0, 0), "{s:#?}");
    assert_eq!(
        (s.exploits_changed, s.kev_added.as_slice()),
        (1, &["CVE-2026-5001".to_string()][..]),
        "{s:#?}"
    );
    assert_eq!(order(store), ["kev", "crit", "fixable", "twohigh"]);
    let r = store.images_by_risk().expect("risk");
    let k = &r[0];
    assert_eq!((k.risk, k.risk_factors.kev, k.risk_factors.ransomware), (20_000, 1, 1), "{k:#?}");
    assert_eq!(
        k.top_reason.as_deref(),
        Some("CVE-2026-5001 (high, in CISA KEV, used by ransomware)"),
        "{k:#?}"
    );
    let f = store.findings("sha256:c0c0").expect("findings");
    let x = f[0].exploit.as_ref().expect("exploit data");
    assert_eq!((x.kev_added.as_deref(), x.ransomware, f[0].risk), (Some("2026-12-01"), true, 20_000));
    // Nothing changed since: nothing rewritten.
    let again = build_db(tmp, "x3", |d| {
        advisories(d);
        epss(d);
        kev(d, &["CVE-2026-5001", "CVE-2099-0001"], true);
    });
    assert_eq!(store.rematch(&again).expect("match x3").exploits_changed, 0);
    // Delisted: the risk falls back.
    let s = store.rematch(&plain).expect("match x1 again");
    assert_eq!((s.exploits_changed, s.kev_added.len()), (1, 0), "{s:#?}");
    assert_eq!(order(store), ["crit", "fixable", "twohigh", "kev"]);
}

/// A store made by schema 2 (before exploit data was kept), with one matched image, opened by this version:
/// migrated in place, its rows kept, and the next re-match fills in the exploit data without re-matching.
fn upgrade(url: &str, spec: &str, tmp: &Path) {
    use palisade_store::StoredPackage;
    use sqlx::Executor;
    static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
    let db = build_db(tmp, "up", |d| {
        unfixed(d, "GHSA-kkkk-0001", "CVE-2026-5001", "kevlib", "HIGH");
        kev(d, &["CVE-2026-5001"], false);
    });
    let pkg = npm("kevlib", "1.0.0");
    let key = palisade_vulndb::ecosystem::match_key(None, &pkg).expect("matchable");
    let fingerprint = db.package_fingerprint(&key.ecosystem, &key.name).expect("fingerprint");
    let data = serde_json::to_string(&StoredPackage { package: pkg.clone(), os: None }).expect("json");
    let id = palisade_store::image_id("sha256:0002");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url).await.expect("connect");
        MIGRATIONS.run_to(2, &pool).await.expect("schema 2");
        let t = "2026-11-01T00:00:00.000000000Z";
        for sql in [
            format!(
                "INSERT INTO images (id, digest, platform, repository, labels, layers, package_count, scanned_at, \
                 last_seen, db_version, high) VALUES ({id}, 'sha256:0002', 'linux/amd64', 'reg.example/old', '{{}}', \
                 '[]', 1, '{t}', '{t}', 'old', 1)"
            ),
            format!(
                "INSERT INTO packages (id, ecosystem, name, purl, data, matched) VALUES (7, '{}', '{}', '{}', '{}', 1)",
                key.ecosystem, key.name, pkg.purl, data
            ),
            format!("INSERT INTO image_packages (image_id, package_id) VALUES ({id}, 7)"),
            "INSERT INTO package_findings (package_id, vuln_id, severity, status, title) \
             VALUES (7, 'CVE-2026-5001', 'high', 'affected', 'kevlib bug')"
                .to_string(),
            format!(
                "INSERT INTO finding_history (image_id, vuln_id, purl, severity, state, first_seen, last_seen) \
                 VALUES ({id}, 'CVE-2026-5001', '{}', 'high', 'open', '{t}', '{t}')",
                pkg.purl
            ),
            format!(
                "INSERT INTO advisory_fingerprints (ecosystem, name, fingerprint, db_version) \
                 VALUES ('{}', '{}', '{fingerprint}', 'old')",
                key.ecosystem, key.name
            ),
        ] {
            pool.execute(sqlx::AssertSqlSafe(sql)).await.expect("insert schema-2 rows");
        }
        pool.close().await;
    });
    let store = Store::open(spec).expect("open and migrate");
    let before = store.images_by_risk().expect("risk");
    assert_eq!((before.len(), before[0].high, before[0].risk), (1, 1, 100), "{before:#?}");
    let s = store.rematch(&db).expect("rematch");
    assert_eq!((s.changed_keys, s.packages_matched, s.changed.len()), (0, 0, 0), "{s:#?}");
    assert_eq!(s.kev_added, ["CVE-2026-5001"]);
    let after = store.images_by_risk().expect("risk");
    assert_eq!((after[0].risk, after[0].risk_factors.kev), (10_000, 1), "{after:#?}");
    assert_eq!(
        store.findings("sha256:0002").expect("findings")[0].first_seen,
        "2026-11-01T00:00:00.000000000Z"
    );
}

/// The watch queue: disjoint claims from two connections, stale claims handed out again, failed rows
/// queued again while attempts are left, leases held by one holder at a time.
fn queue(spec: &str) {
    use palisade_store::QueuedImage;
    use std::time::Duration;
    let a = Store::open(spec).expect("open a");
    let b = Store::open(spec).expect("open b");
    let q = |d: &str| QueuedImage {
        digest: d.into(),
        repository: "r:5000/app".into(),
        tags: vec!["v1".into()],
        platform: Some("linux/amd64".into()),
    };
    let items: Vec<QueuedImage> = (0..5).map(|i| q(&format!("sha256:q{i}"))).collect();
    assert_eq!(a.enqueue(&items).expect("enqueue"), 5);
    assert_eq!(b.enqueue(&items).expect("enqueue again"), 0, "already queued");
    let hour = Duration::from_secs(3600);
    let ca = a.claim("a", 2, hour).expect("claim a");
    let cb = b.claim("b", 10, hour).expect("claim b");
    assert_eq!((ca.len(), cb.len()), (2, 3));
    assert!(ca.iter().all(|x| !cb.contains(x)), "disjoint claims");
    assert_eq!(ca[0].tags, ["v1"]);
    assert!(a.claim("a", 10, hour).expect("nothing left").is_empty());
    // b dies: its claims go stale and are claimed again.
    std::thread::sleep(Duration::from_millis(20));
    let again = a.claim("a", 10, Duration::from_millis(10)).expect("stale");
    assert_eq!(again.len(), 5, "every claim is older than 10 ms");
    for x in &again[..4] {
        a.finish(&x.digest, None).expect("done");
    }
    a.finish(&again[4].digest, Some("pull failed")).expect("failed");
    let c = a.queue_counts().expect("counts");
    assert_eq!((c.done, c.failed, c.pending, c.claimed), (4, 1, 0, 0));
    // Enqueued again: the failed one only (done ones are never scanned twice).
    assert_eq!(b.enqueue(&items).expect("enqueue"), 1);
    let retry = b.claim("b", 10, hour).expect("claim");
    assert_eq!(retry.len(), 1);
    b.release("b", &[retry[0].digest.clone()]).expect("release");
    assert_eq!(a.queue_counts().expect("counts").pending, 1);
    // Leases.
    assert!(a.try_lease("db-update", "a", hour).expect("lease"));
    assert!(!b.try_lease("db-update", "b", hour).expect("lease held"));
    assert!(a.try_lease("db-update", "a", Duration::from_millis(1)).expect("renew"));
    std::thread::sleep(Duration::from_millis(20));
    assert!(b.try_lease("db-update", "b", hour).expect("expired lease taken"));
}

#[test]
fn sqlite_store() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("store.db");
    suite(path.to_str().expect("utf-8"), tmp.path());
    // WAL mode: the -wal file is beside the database.
    let store = Store::open(path.to_str().expect("utf-8")).expect("reopen");
    assert_eq!(store.backend(), palisade_store::Backend::Sqlite);
}

#[test]
fn postgres_store() {
    let Some(pg) = pg::Postgres::start() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let url = pg.database("suite");
    suite(&url, tmp.path());
    let old = pg.database("schema2");
    upgrade(&old, &old, tmp.path());
}

#[test]
fn sqlite_store_of_schema_2_upgrades_in_place() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("old.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    upgrade(&url, path.to_str().expect("utf-8"), tmp.path());
}

#[test]
fn unreachable_store_is_a_clear_error() {
    let e = Store::open("postgres://nobody:pw@127.0.0.1:1/none").expect_err("no server");
    let s = e.to_string();
    assert!(s.contains("postgres://nobody:***@127.0.0.1:1/none") && !s.contains(":pw@"), "{s}");
    // The cause, not a pool timeout.
    assert!(s.to_lowercase().contains("refused"), "{s}");
}
