use super::*;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};

#[test]
fn images_of_every_workload_kind_with_pointers() {
    let pod = json!({"kind": "Pod", "spec": {
        "initContainers": [{"name": "setup", "image": "busybox:1.36"}],
        "containers": [{"name": "app", "image": "reg:5000/app:1"}, {"name": "noimage"}],
        "ephemeralContainers": [{"name": "debug", "image": "busybox@sha256:ab"}]}});
    let found = images_of(&pod);
    let names: Vec<_> =
        found.iter().map(|c| (c.container.as_str(), c.image.as_str(), c.pointer.as_str())).collect();
    assert_eq!(
        names,
        [
            ("initContainers/setup", "busybox:1.36", "/spec/initContainers/0/image"),
            ("containers/app", "reg:5000/app:1", "/spec/containers/0/image"),
            ("ephemeralContainers/debug", "busybox@sha256:ab", "/spec/ephemeralContainers/0/image"),
        ]
    );
    let spec = json!({"containers": [{"name": "a", "image": "x:1"}]});
    for (kind, object) in [
        ("Deployment", json!({"kind": "Deployment", "spec": {"template": {"spec": spec}}})),
        (
            "CronJob",
            json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}}),
        ),
        ("PodTemplate", json!({"kind": "PodTemplate", "template": {"spec": spec}})),
    ] {
        let found = images_of(&object);
        assert_eq!(found.len(), 1, "{kind}");
        assert_eq!(object.pointer(&found[0].pointer), Some(&json!("x:1")), "{kind}");
    }
    assert!(images_of(&json!({"kind": "ConfigMap", "data": {"image": "x"}})).is_empty());
}

#[test]
fn repository_of_strips_tag_and_digest_but_not_a_port() {
    assert_eq!(repository_of("reg:5000/app:1"), "reg:5000/app");
    assert_eq!(repository_of("reg:5000/app"), "reg:5000/app");
    assert_eq!(repository_of("app@sha256:ab"), "app");
    assert_eq!(repository_of("reg:5000/app:1@sha256:ab"), "reg:5000/app");
}

fn report_for(digest: &str) -> Value {
    json!({"artifact": {"kind": "image", "name": "reg/app:1", "repo_digests": [format!("reg/app@{digest}")]}})
}

#[test]
fn tags_resolve_once_and_ci_reports_answer_by_digest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.json"), serde_json::to_vec(&report_for("sha256:aa")).unwrap())
        .unwrap();
    std::fs::write(dir.path().join("broken.json"), b"{not json").unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let resolve: Box<Resolver> = Box::new(move |image, _| {
        c.fetch_add(1, Ordering::SeqCst);
        match image {
            "reg/app:1" => Ok("sha256:aa".into()),
            _ => Err("manifest unknown".into()),
        }
    });
    let config = FactsConfig { reports_dir: Some(dir.path().into()), ..FactsConfig::default() };
    let (facts, warnings) = Facts::new(config, resolve, None, None).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("broken.json: not a JSON scan report"), "{warnings:?}");
    let deadline = Instant::now() + Duration::from_secs(1);
    for _ in 0..3 {
        assert!(
            matches!(facts.fact("reg/app:1", deadline), Fact::Scanned { ref digest, .. } if digest == "sha256:aa")
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "a tag is resolved once within the TTL");
    // A failed resolution is remembered too (retry_after), so a broken registry is not asked per request.
    for _ in 0..3 {
        let Fact::Unknown { reason, digest: None } = facts.fact("reg/gone:1", deadline) else { panic!() };
        assert!(reason.contains("manifest unknown"), "{reason}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // A digest reference is still looked up through the resolver, which answers it without the network.
    let Fact::Unknown { reason, .. } = facts.fact("reg/other:2", deadline) else { panic!() };
    assert!(reason.contains("cannot resolve"), "{reason}");
}

#[test]
fn unknown_digests_are_scanned_in_the_background_and_kept() {
    let cache = tempfile::tempdir().unwrap();
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let gate = Mutex::new(gate);
    let scans = Arc::new(AtomicUsize::new(0));
    let s = scans.clone();
    let scanner: Box<Scanner> = Box::new(move |target| {
        s.fetch_add(1, Ordering::SeqCst);
        // The first scan waits until the test lets it finish: slower than the first request's budget.
        let _ = gate.lock().unwrap().recv_timeout(Duration::from_secs(5));
        assert_eq!(target, "reg/app@sha256:bb");
        Ok(report_for("sha256:bb"))
    });
    let resolve: Box<Resolver> = Box::new(|_, _| Ok("sha256:bb".into()));
    let config = FactsConfig { cache_dir: Some(cache.path().into()), ..FactsConfig::default() };
    let (facts, _) = Facts::new(config.clone(), resolve, None, Some(scanner)).unwrap();
    let short = Instant::now() + Duration::from_millis(50);
    let Fact::Unknown { reason, digest } = facts.fact("reg/app:2", short) else { panic!() };
    assert_eq!(digest.as_deref(), Some("sha256:bb"));
    assert!(reason.contains("not finished within the request's budget"), "{reason}");
    release.send(()).unwrap();
    let fact = facts.fact("reg/app:2", Instant::now() + Duration::from_secs(5));
    assert!(matches!(fact, Fact::Scanned { .. }), "{fact:?}");
    assert_eq!(scans.load(Ordering::SeqCst), 1, "one scan for both requests");
    assert!(cache.path().join("sha256-bb.json").is_file());

    // A restarted webhook reads its own earlier scans back.
    let (again, _) = Facts::new(config, Box::new(|_, _| Ok("sha256:bb".into())), None, None).unwrap();
    let fact = again.fact("reg/app:2", Instant::now() + Duration::from_secs(1));
    assert!(matches!(fact, Fact::Scanned { source: FactSource::Known, .. }), "{fact:?}");
}

#[test]
fn the_store_answers_before_a_scan_and_its_answers_expire() {
    let lookups = Arc::new(AtomicUsize::new(0));
    let scans = Arc::new(AtomicUsize::new(0));
    let (l, s) = (lookups.clone(), scans.clone());
    // The store holds sha256:dd (once with one report, then another: a rescan), not sha256:ee.
    let lookup: Box<Lookup> = Box::new(move |target| {
        let n = l.fetch_add(1, Ordering::SeqCst);
        match target.rsplit_once('@').map(|(_, d)| d) {
            Some("sha256:dd") => Ok(Some(json!({"from": "store", "round": n}))),
            Some("sha256:ee") => Ok(None),
            _ => Err("store unreachable".into()),
        }
    });
    let scanner: Box<Scanner> = Box::new(move |_| {
        s.fetch_add(1, Ordering::SeqCst);
        Ok(json!({"from": "scan"}))
    });
    let resolve: Box<Resolver> = Box::new(|image, _| match image {
        "reg/app:stored" => Ok("sha256:dd".into()),
        "reg/app:new" => Ok("sha256:ee".into()),
        _ => Ok("sha256:ff".into()),
    });
    let config = FactsConfig { digest_ttl: Duration::from_millis(300), ..FactsConfig::default() };
    let (facts, _) = Facts::new(config, resolve, Some(lookup), Some(scanner)).unwrap();
    let deadline = || Instant::now() + Duration::from_secs(2);
    let Fact::Scanned { report, source, .. } = facts.fact("reg/app:stored", deadline()) else { panic!() };
    assert_eq!((source, report["round"].as_u64()), (FactSource::Store, Some(0)));
    let Fact::Scanned { report, .. } = facts.fact("reg/app:stored", deadline()) else { panic!() };
    assert_eq!(report["round"], 0, "answered from memory within digest_ttl");
    std::thread::sleep(Duration::from_millis(350));
    let Fact::Scanned { report, .. } = facts.fact("reg/app:stored", deadline()) else { panic!() };
    assert_eq!(report["round"], 1, "asked again after digest_ttl: a rescan is seen");
    // Not in the store: scanned.
    let Fact::Scanned { report, source, .. } = facts.fact("reg/app:new", deadline()) else { panic!() };
    assert_eq!((source, report["from"].as_str()), (FactSource::ScannedNow, Some("scan")));
    assert_eq!(scans.load(Ordering::SeqCst), 1, "images the store holds are not scanned");

    // A store that fails, and no scanner: unknown, with the store's reason.
    let lookup: Box<Lookup> = Box::new(|_| Err("connection refused".into()));
    let (facts, _) =
        Facts::new(FactsConfig::default(), Box::new(|_, _| Ok("sha256:gg".into())), Some(lookup), None)
            .unwrap();
    let Fact::Unknown { reason, .. } = facts.fact("reg/app:x", deadline()) else { panic!() };
    assert!(reason.contains("connection refused"), "{reason}");
}

#[test]
fn failed_scans_are_not_retried_at_once() {
    let scans = Arc::new(AtomicUsize::new(0));
    let s = scans.clone();
    let scanner: Box<Scanner> = Box::new(move |_| {
        s.fetch_add(1, Ordering::SeqCst);
        Err("registry said 429".into())
    });
    let (facts, _) =
        Facts::new(FactsConfig::default(), Box::new(|_, _| Ok("sha256:cc".into())), None, Some(scanner))
            .unwrap();
    for _ in 0..3 {
        let Fact::Unknown { reason, .. } = facts.fact("reg/app:3", Instant::now() + Duration::from_secs(2))
        else {
            panic!()
        };
        assert!(reason.contains("scan failed: registry said 429"), "{reason}");
    }
    assert_eq!(scans.load(Ordering::SeqCst), 1);
}

#[test]
fn cached_decisions_expire_so_a_new_signature_counts() {
    let cache = DecisionCache::default();
    let t0 = Instant::now();
    let calls = AtomicUsize::new(0);
    let eval = || {
        calls.fetch_add(1, Ordering::SeqCst);
        Vec::new()
    };
    assert!(!cache.get_or_insert_at("sha256:aa", "shop", t0, eval).1);
    assert!(cache.get_or_insert_at("sha256:aa", "shop", t0 + Duration::from_secs(10), eval).1);
    assert!(!cache.get_or_insert_at("sha256:aa", "other", t0, eval).1, "per namespace");
    assert!(!cache.get_or_insert_at("sha256:aa", "shop", t0 + DecisionCache::TTL, eval).1, "expired");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}
