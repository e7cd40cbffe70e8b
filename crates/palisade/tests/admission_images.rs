//! Image facts at admission, end to end: a real registry (Debian's `docker-registry`) holding images pushed
//! with `skopeo`, a report written by `palisade scan image` as CI would, and the webhook judging the images
//! of Pods by that report with the bundle's gates: tags resolved to digests, reports found by digest,
//! unscanned images getting the configured action, images without a report scanned in the background
//! within the request's budget, and an unreachable registry answered within budget. Skips with a message
//! when docker-registry, skopeo or curl is missing.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod support;

use support::{REGISTRY, Registry};

fn tools_present() -> bool {
    let ok = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !Path::new(REGISTRY).exists() || !ok("skopeo", "--version") || !ok("curl", "--version") {
        eprintln!("SKIP: docker-registry ({REGISTRY}), skopeo or curl not installed");
        return false;
    }
    true
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// An OCI layout with one layer holding `files`, written with the tar crate.
fn oci_layout(dir: &Path, files: &[(&str, &str)]) {
    let mut layer = tar::Builder::new(Vec::new());
    for (path, text) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        layer.append_data(&mut h, path, text.as_bytes()).unwrap();
    }
    let layer = layer.into_inner().unwrap();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {}, "rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]}
    }))
    .unwrap();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256(&layer), "size": layer.len()}]
    }))
    .unwrap();
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    for blob in [&layer, &config, &manifest] {
        std::fs::write(blobs.join(&sha256(blob)[7..]), blob).unwrap();
    }
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(&manifest),
            "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}))
        .unwrap(),
    )
    .unwrap();
}

fn push(layout: &Path, port: u16, name: &str) {
    let out = Command::new("skopeo")
        .args(["copy", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!("docker://127.0.0.1:{port}/{name}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo: {}", String::from_utf8_lossy(&out.stderr));
}

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().unwrap()
}

fn lock(version: &str) -> String {
    format!(
        r#"{{"name":"app","version":"1.0.0","lockfileVersion":3,"packages":{{"":{{"name":"app","version":"1.0.0"}},"node_modules/demo-lib":{{"version":"{version}"}}}}}}"#
    )
}

struct Webhook {
    _child: Killed,
    port: u16,
    ca: PathBuf,
    dir: PathBuf,
}

impl Webhook {
    fn start(dir: &Path, bundle: &Path, extra: &[&str]) -> Webhook {
        let certs = dir.join("certs");
        let mut args = vec!["admission", "serve", "--listen", "127.0.0.1:0", "--insecure"];
        args.extend(["--bundle", bundle.to_str().unwrap(), "--self-signed", certs.to_str().unwrap()]);
        args.extend(extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(&args)
            .env("PALISADE_CACHE_DIR", dir.join("cache"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let child = Killed(child);
        let port = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|l| {
                l.strip_prefix("listening on https://")
                    .map(|a| a.rsplit(':').next().unwrap().parse().unwrap())
            })
            .expect("webhook did not start");
        Webhook { _child: child, port, ca: certs.join("ca.crt"), dir: dir.to_path_buf() }
    }

    fn get(&self, path: &str, body: Option<&Value>) -> String {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "--fail", "--max-time", "20", "--cacert"]).arg(&self.ca);
        if let Some(body) = body {
            let file = self.dir.join(format!("body-{}.json", std::process::id()));
            std::fs::write(&file, serde_json::to_vec(body).unwrap()).unwrap();
            cmd.args(["-H", "Content-Type: application/json", "--data-binary"])
                .arg(format!("@{}", file.display()));
        }
        let out = cmd.arg(format!("https://localhost:{}{path}", self.port)).output().unwrap();
        assert!(out.status.success(), "curl {path}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// The review's response for a Pod running `image`.
    fn pod(&self, image: &str) -> Value {
        self.review("/validate", &[image])
    }

    /// The response of `path` (`/validate`, `/mutate`) for a Pod running `images`.
    fn review(&self, path: &str, images: &[&str]) -> Value {
        let containers: Vec<Value> = images
            .iter()
            .enumerate()
            .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
            .collect();
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"},
            "spec": {"containers": containers}});
        let body = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
            "uid": "3c5d7e2a-1b4f-4d6a-8c9e-0f1a2b3c4d5e", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"}, "namespace": "shop", "name": "p",
            "operation": "CREATE", "userInfo": {"username": "dev"}, "object": pod}});
        let v: Value = serde_json::from_str(&self.get(path, Some(&body))).unwrap();
        v["response"].clone()
    }

    fn metric(&self, line_start: &str) -> f64 {
        self.get("/metrics", None)
            .lines()
            .filter(|l| l.starts_with(line_start))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

fn message(response: &Value) -> String {
    response["status"]["message"].as_str().unwrap_or_default().to_string()
}

/// Registry, DB, images and bundle shared by the tests.
struct Setup {
    dir: tempfile::TempDir,
    registry: Option<Registry>,
    port: u16,
    db: String,
    bundle: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::start(dir.path(), None);
    let port = registry.port;
    for (name, version) in [("shop/app:1", "2.1.0"), ("shop/fixed:1", "2.3.1"), ("shop/other:1", "2.2.0")] {
        let layout = dir.path().join(name.replace(['/', ':'], "-"));
        oci_layout(&layout, &[("srv/app/package-lock.json", &lock(version))]);
        push(&layout, port, name);
    }
    let feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-vulndb/tests/fixtures/feed/osv");
    let db = dir.path().join("vuln.db").to_str().unwrap().to_string();
    let out = palisade(&["db", "build", "--db", &db, "--from", feed.to_str().unwrap(), "-q"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("palisade-policy.yaml"),
        "apiVersion: palisade.dev/v1\nkind: PolicyBundle\nmetadata: {name: images, version: 1.0.0}\n",
    )
    .unwrap();
    std::fs::write(
        bundle.join("gates.yaml"),
        "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: no-high-vulnerabilities}\n\
         spec:\n  action: deny\n  vulnerabilities: {severities: [CRITICAL, HIGH]}\n",
    )
    .unwrap();
    Setup { dir, registry: Some(registry), port, db, bundle }
}

#[test]
fn ci_reports_decide_images_by_digest_and_unscanned_images_get_the_action() {
    if !tools_present() {
        return;
    }
    let s = setup();
    let reg = format!("127.0.0.1:{}", s.port);
    let reports = s.dir.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    for name in ["app", "fixed"] {
        let out = palisade(&[
            "scan",
            "image",
            &format!("{reg}/shop/{name}:1"),
            "--insecure",
            "--image-src",
            "remote",
            "--db",
            &s.db,
            "--format",
            "json",
            "-o",
            reports.join(format!("{name}.json")).to_str().unwrap(),
        ]);
        assert!(out.status.success(), "CI scan: {}", String::from_utf8_lossy(&out.stderr));
    }
    let hook = Webhook::start(
        s.dir.path(),
        &s.bundle,
        &["--image-reports", reports.to_str().unwrap(), "--unknown-image", "deny"],
    );

    // The vulnerable image is refused by the gate, with the image, container and digest named.
    let vulnerable = hook.pod(&format!("{reg}/shop/app:1"));
    assert_eq!(vulnerable["allowed"], false, "{vulnerable:#}");
    let m = message(&vulnerable);
    assert!(
        m.contains("[no-high-vulnerabilities/") && m.contains("shop/app:1 (containers/c0, sha256:"),
        "{m}"
    );
    assert!(m.contains("demo-lib"), "{m}");
    // The same image again: decisions come from the cache.
    assert_eq!(hook.pod(&format!("{reg}/shop/app:1"))["allowed"], false);
    assert_eq!(hook.metric("palisade_admission_image_facts_total{outcome=\"cached\"}"), 1.0);

    // A fixed image passes; an image CI never scanned is refused as unscanned (--unknown-image deny).
    let fixed = hook.pod(&format!("{reg}/shop/fixed:1"));
    assert_eq!(fixed["allowed"], true, "{fixed:#}");
    let unscanned = hook.pod(&format!("{reg}/shop/other:1"));
    assert_eq!(unscanned["allowed"], false);
    assert!(message(&unscanned).contains("[palisade-admission/unscanned-image]"), "{unscanned:#}");
    assert!(message(&unscanned).contains("no scan report for this digest"), "{unscanned:#}");

    // A tag that does not exist: the registry's answer is the reason.
    let missing = hook.pod(&format!("{reg}/shop/nothing:1"));
    assert_eq!(missing["allowed"], false);
    assert!(message(&missing).contains("cannot resolve"), "{missing:#}");
}

#[test]
fn images_without_reports_are_scanned_within_budget_and_a_dead_registry_does_not_hang() {
    if !tools_present() {
        return;
    }
    let mut s = setup();
    let reg = format!("127.0.0.1:{}", s.port);
    let hook = Webhook::start(
        s.dir.path(),
        &s.bundle,
        &["--scan-images", "--db", &s.db, "--image-scanners", "vuln", "--budget", "10s"],
    );
    let scanned = hook.pod(&format!("{reg}/shop/other:1"));
    assert_eq!(scanned["allowed"], false, "{scanned:#}");
    assert!(message(&scanned).contains("[no-high-vulnerabilities/"), "{scanned:#}");
    assert_eq!(hook.metric("palisade_admission_image_facts_total{outcome=\"scanned\"}"), 1.0);
    let kept: Vec<_> =
        std::fs::read_dir(s.dir.path().join("cache/admission-reports")).unwrap().flatten().collect();
    assert_eq!(kept.len(), 1, "the scan report is kept for restarts");

    // The registry goes away: a new tag cannot be resolved, and the answer still comes within the budget
    // (warn by default: admitted with a warning).
    drop(s.registry.take());
    let started = Instant::now();
    let down = hook.pod(&format!("{reg}/shop/app:1"));
    assert!(started.elapsed() < Duration::from_secs(11), "{:?}", started.elapsed());
    assert_eq!(down["allowed"], true, "{down:#}");
    let warning = down["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("[palisade-admission/unscanned-image]") && warning.contains("cannot resolve"),
        "{warning}"
    );
    // The known digest is still judged from the kept report while the registry is down (the tag's
    // digest is cached).
    assert_eq!(hook.pod(&format!("{reg}/shop/other:1"))["allowed"], false);
}

#[test]
fn images_in_the_registry_store_are_judged_from_their_stored_sbom() {
    if !tools_present() {
        return;
    }
    let s = setup();
    let reg = format!("127.0.0.1:{}", s.port);
    let store = s.dir.path().join("store.db");
    let store = store.to_str().unwrap();
    // `registry scan` fills the store with the inventories of two of the three images.
    for repo in ["shop/app", "shop/fixed"] {
        let out = palisade(&[
            "registry",
            "scan",
            &format!("{reg}/{repo}"),
            "--insecure",
            "--store",
            store,
            "--db",
            &s.db,
            "-q",
        ]);
        assert!(out.status.success(), "registry scan: {}", String::from_utf8_lossy(&out.stderr));
    }
    let hook = Webhook::start(
        s.dir.path(),
        &s.bundle,
        &["--store", store, "--db", &s.db, "--unknown-image", "deny", "--budget", "10s"],
    );
    // The stored SBOM of the vulnerable image is matched against the DB: refused, naming the package.
    let vulnerable = hook.pod(&format!("{reg}/shop/app:1"));
    assert_eq!(vulnerable["allowed"], false, "{vulnerable:#}");
    let m = message(&vulnerable);
    assert!(m.contains("[no-high-vulnerabilities/") && m.contains("demo-lib"), "{m}");
    assert_eq!(hook.pod(&format!("{reg}/shop/fixed:1"))["allowed"], true);
    // Not in the store and no scanner: the unknown-image action, saying the store does not hold it.
    let other = hook.pod(&format!("{reg}/shop/other:1"));
    assert_eq!(other["allowed"], false, "{other:#}");
    assert!(message(&other).contains("the registry store does not hold it"), "{other:#}");
    assert!(!s.dir.path().join("cache/admission-reports").exists(), "nothing was scanned");
}

#[test]
fn a_registry_that_never_answers_costs_one_budget_then_is_remembered() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Accepts connections and never answers.
    let hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hole.local_addr().unwrap().port();
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("gates.yaml"),
        "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: g}\nspec:\n  vulnerabilities: {}\n",
    )
    .unwrap();
    let hook = Webhook::start(
        dir.path(),
        &bundle,
        &["--image-reports", dir.path().to_str().unwrap(), "--budget", "1s"],
    );
    let image = format!("127.0.0.1:{port}/slow/app:1");
    let started = Instant::now();
    let first = hook.pod(&image);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(2), "{took:?}");
    assert!(first["warnings"][0].as_str().unwrap().contains("no answer within"), "{first:#}");
    // The failure is remembered (--digest-ttl for answers, a minute for failures): no second wait.
    let started = Instant::now();
    let second = hook.pod(&image);
    assert!(started.elapsed() < Duration::from_millis(500), "{:?}", started.elapsed());
    assert_eq!(second["allowed"], true);
    drop(hole);
}

#[test]
fn mutate_pins_tags_to_the_digest_they_name_now() {
    if !tools_present() {
        return;
    }
    use base64::Engine as _;
    let s = setup();
    let reg = format!("127.0.0.1:{}", s.port);
    let inspect = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--format", "{{.Digest}}"])
        .arg(format!("docker://{reg}/shop/app:1"))
        .output()
        .unwrap();
    let digest = String::from_utf8(inspect.stdout).unwrap().trim().to_string();
    assert!(digest.starts_with("sha256:"), "{digest}");
    // Digest pinning alone: /validate does not judge images (no reports asked for).
    let hook = Webhook::start(s.dir.path(), &s.bundle, &["--pin-digests"]);
    let pinned_already = format!("{reg}/shop/fixed@{digest}");
    let missing = format!("{reg}/shop/nothing:1");
    let r = hook.review("/mutate", &[&format!("{reg}/shop/app:1"), &pinned_already, &missing]);
    assert_eq!(r["allowed"], true);
    assert_eq!(r["patchType"], "JSONPatch");
    let patch: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD.decode(r["patch"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        patch,
        json!([{"op": "replace", "path": "/spec/containers/0/image", "value": format!("{reg}/shop/app:1@{digest}")}])
    );
    let warning = r["warnings"][0].as_str().unwrap();
    assert!(warning.contains("shop/nothing:1 (containers/c2) not pinned to a digest"), "{warning}");
    let v = hook.pod(&missing);
    assert_eq!(v["allowed"], true, "validate does not judge images without reports: {v:#}");
    assert!(v.get("warnings").is_none(), "{v:#}");
    assert_eq!(hook.metric("palisade_admission_reviews_total{path=\"pinned\""), 1.0);
}

#[test]
fn signature_gates_judge_images_by_digest_even_without_a_scan_report() {
    if !tools_present() {
        return;
    }
    let s = setup();
    let reg = format!("127.0.0.1:{}", s.port);
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(args)
            .current_dir(s.dir.path())
            .env("PALISADE_PASSWORD", "")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["keygen", "--output-key-prefix", "ci"]);
    run(&["sign", &format!("{reg}/shop/fixed:1"), "--key", "ci.key", "--insecure"]);
    let bundle = s.dir.path().join("signed-bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::copy(s.dir.path().join("ci.pub"), bundle.join("ci.pub")).unwrap();
    std::fs::write(
        bundle.join("gates.yaml"),
        "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: signed-by-ci}\n\
         spec:\n  signatures: {keys: [ci.pub], insecure: true, timeout: 1s}\n",
    )
    .unwrap();
    let reports = s.dir.path().join("no-reports");
    std::fs::create_dir_all(&reports).unwrap();
    let hook = Webhook::start(s.dir.path(), &bundle, &["--image-reports", reports.to_str().unwrap()]);
    // Signed by the CI key: admitted (with the unscanned-image warning only).
    let signed = hook.pod(&format!("{reg}/shop/fixed:1"));
    assert_eq!(signed["allowed"], true, "{signed:#}");
    assert!(
        signed["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w.as_str().unwrap().contains("unscanned-image"))
    );
    // Not signed: refused by the gate, with the verification's reason.
    let unsigned = hook.pod(&format!("{reg}/shop/app:1"));
    assert_eq!(unsigned["allowed"], false, "{unsigned:#}");
    let m = message(&unsigned);
    assert!(
        m.contains("[signed-by-ci/signature]") && m.contains("shop/app:1 (containers/c0, sha256:"),
        "{m}"
    );
}

/// A registry that answers every request with `429 Too Many Requests` and `Retry-After`, and one that
/// wants credentials the webhook does not have (401): both give the unknown-image action within budget,
/// with the registry's answer as the reason, and are asked once per retry period, not per request.
#[test]
fn rate_limited_and_unauthorized_registries_get_the_unknown_image_action() {
    if !tools_present() {
        return;
    }
    use std::io::{Read, Write};
    let htpasswd = Command::new("htpasswd").args(["-nbB", "ci", "secret"]).output();
    let Some(htpasswd) = htpasswd.ok().filter(|o| o.status.success()) else {
        eprintln!("SKIP: htpasswd (apache2-utils) not installed");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // 429 for everything, counting the requests.
    let limited = TcpListener::bind("127.0.0.1:0").unwrap();
    let limited_port = limited.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for mut conn in limited.incoming().flatten() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(
                b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Type: application/json\r\nContent-Length: 76\r\nConnection: close\r\n\r\n{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"rate limit\",\"detail\":null}]}",
            );
        }
    });
    // A registry with basic auth.
    let htpasswd_file = dir.path().join("htpasswd");
    std::fs::write(&htpasswd_file, &htpasswd.stdout).unwrap();
    let auth_registry = Registry::start(&dir.path().join("auth"), Some(htpasswd_file.to_str().unwrap()));
    let port = auth_registry.port;
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("gates.yaml"),
        "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: g}\nspec:\n  vulnerabilities: {}\n",
    )
    .unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let hook = Webhook::start(
        dir.path(),
        &bundle,
        &["--image-reports", reports.to_str().unwrap(), "--unknown-image", "deny", "--budget", "2s"],
    );
    for (image, expect) in [
        (format!("127.0.0.1:{limited_port}/shop/app:1"), "rate limit"),
        (format!("127.0.0.1:{port}/shop/app:1"), "nauthorized"),
    ] {
        let started = Instant::now();
        let r = hook.pod(&image);
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        assert_eq!(r["allowed"], false, "{r:#}");
        let m = message(&r);
        assert!(m.contains("unscanned-image") && m.contains("cannot resolve") && m.contains(expect), "{m}");
    }
    let asked = hits.load(std::sync::atomic::Ordering::SeqCst);
    for _ in 0..5 {
        assert_eq!(hook.pod(&format!("127.0.0.1:{limited_port}/shop/app:1"))["allowed"], false);
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        asked,
        "the failure is remembered, not retried per request"
    );
}

/// The webhook applies a gate's attestation predicate conditions like `scan --policy` and
/// `verify-attestation --policy` do: the SBOM and the scan result `scan image --attest` attached are judged
/// by another gate (the SBOM matched against the webhook's `--db`); the image whose attested packages carry
/// a HIGH vulnerability is refused with the gate named, the fixed one admitted.
#[test]
fn attestation_predicates_are_judged_at_admission() {
    if !tools_present() {
        return;
    }
    let s = setup();
    let reg = format!("127.0.0.1:{}", s.port);
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(args)
            .current_dir(s.dir.path())
            .env("PALISADE_PASSWORD", "")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["keygen", "--output-key-prefix", "ci"]);
    for image in ["shop/app:1", "shop/fixed:1"] {
        let r = format!("{reg}/{image}");
        run(&[
            "scan",
            "image",
            &r,
            "--insecure",
            "--scanners",
            "vuln",
            "--db",
            &s.db,
            "--attest",
            "--key",
            "ci.key",
            "-q",
        ]);
    }
    let bundle = s.dir.path().join("predicate-bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::copy(s.dir.path().join("ci.pub"), bundle.join("ci.pub")).unwrap();
    std::fs::write(
        bundle.join("gates.yaml"),
        "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: no-high}\nspec:\n  scope: {images: [none/**]}\n  vulnerabilities: {severities: [HIGH, CRITICAL]}\n---\n\
         apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: attested-clean}\n\
         spec:\n  signatures:\n    keys: [ci.pub]\n    signature: false\n    insecure: true\n    timeout: 5s\n    attestations:\n      - {type: cyclonedx, gate: no-high}\n      - {type: vuln, maxAge: 1d, gate: no-high}\n",
    )
    .unwrap();
    let reports = s.dir.path().join("no-reports");
    std::fs::create_dir_all(&reports).unwrap();
    let hook =
        Webhook::start(s.dir.path(), &bundle, &["--image-reports", reports.to_str().unwrap(), "--db", &s.db]);
    let fixed = hook.pod(&format!("{reg}/shop/fixed:1"));
    assert_eq!(fixed["allowed"], true, "{fixed:#}");
    let vulnerable = hook.pod(&format!("{reg}/shop/app:1"));
    assert_eq!(vulnerable["allowed"], false, "{vulnerable:#}");
    let m = message(&vulnerable);
    assert!(m.contains("[attested-clean/attestation]"), "{m}");
    assert!(
        m.contains(
            "the https://cyclonedx.org/bom attestation's predicate fails gate \"no-high\": vulnerabilities:"
        ),
        "{m}"
    );
    assert!(
        m.contains("the https://cosign.sigstore.dev/attestation/vuln/v1 attestation's predicate fails gate \"no-high\""),
        "{m}"
    );
}
