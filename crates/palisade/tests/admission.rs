//! The admission webhook on the real binary, over real HTTPS (curl as the client, the API server's part):
//! AdmissionReview bodies built from `kubectl --dry-run=client` manifests, health and metrics endpoints,
//! malformed and oversized bodies, bundle reloads that keep the last good bundle, certificate rotation,
//! refusing to start without a good bundle, and graceful shutdown on SIGTERM. No API server runs here.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-admission/tests/fixtures")
}

fn have_curl() -> bool {
    Command::new("curl").arg("--version").output().is_ok_and(|o| o.status.success())
}

struct Server {
    child: Child,
    port: u16,
    ca: PathBuf,
}

impl Server {
    fn start(dir: &Path, bundle: &Path, extra: &[&str]) -> Server {
        let certs = dir.join("certs");
        let mut args =
            vec!["admission", "serve", "--bundle", bundle.to_str().unwrap(), "--listen", "127.0.0.1:0"];
        if !extra.contains(&"--tls-cert") {
            args.extend(["--self-signed", certs.to_str().unwrap()]);
        }
        args.extend(extra);
        let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = loop {
            let line = lines.next().expect("server exited before listening").unwrap();
            if let Some(addr) = line.strip_prefix("listening on https://") {
                break addr.rsplit(':').next().unwrap().parse().unwrap();
            }
        };
        let ca = extra
            .iter()
            .position(|a| *a == "--tls-cert")
            .map(|i| PathBuf::from(extra[i + 1]).with_file_name("ca.crt"))
            .unwrap_or_else(|| certs.join("ca.crt"));
        Server { child, port, ca }
    }

    /// `curl` against the server: (HTTP status, body).
    fn curl(&self, path: &str, body: Option<&[u8]>) -> (u16, String) {
        let url = format!("https://localhost:{}{path}", self.port);
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "--max-time", "10", "--cacert", self.ca.to_str().unwrap(), "-w", "\n%{http_code}"]);
        let tmp;
        if let Some(b) = body {
            tmp = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(tmp.path(), b).unwrap();
            cmd.args(["-H", "Content-Type: application/json", "--data-binary"])
                .arg(format!("@{}", tmp.path().display()));
        }
        let out = cmd.arg(url).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_string())
    }

    fn metric(&self, name: &str) -> f64 {
        let (_, m) = self.curl("/metrics", None);
        m.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    fn stop(mut self) -> std::process::ExitStatus {
        // SIGTERM, as Kubernetes stops a Pod.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn review(object: &str, operation: &str) -> Vec<u8> {
    let obj: Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("objects").join(object)).unwrap()).unwrap();
    let kind = obj["kind"].as_str().unwrap();
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "e911857d-c318-11e8-bbad-025000000001",
            "kind": {"group": "", "version": "v1", "kind": kind},
            "resource": {"group": "", "version": "v1", "resource": format!("{}s", kind.to_ascii_lowercase())},
            "namespace": obj["metadata"]["namespace"],
            "name": obj["metadata"]["name"],
            "operation": operation,
            "userInfo": {"username": "dev", "groups": ["system:authenticated"]},
            "object": obj,
            "dryRun": false
        }
    }))
    .unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn decides_reviews_over_https_and_survives_bad_bodies() {
    if !have_curl() {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &fixtures().join("bundle"), &["--max-body", "20000"]);
    assert_eq!(s.curl("/healthz", None).0, 200);
    assert_eq!(s.curl("/readyz", None).0, 200);

    let (code, body) = s.curl("/validate", Some(&review("pod-privileged.json", "CREATE")));
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["response"]["uid"], "e911857d-c318-11e8-bbad-025000000001");
    assert_eq!(v["response"]["allowed"], false);
    assert!(
        v["response"]["status"]["message"].as_str().unwrap().contains("remove securityContext.privileged")
    );

    let (_, body) = s.curl("/validate", Some(&review("pod.json", "CREATE")));
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["response"]["allowed"], true, "{body}");
    let (_, body) = s.curl("/validate", Some(&review("deployment-big.json", "CREATE")));
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["response"]["warnings"][0].as_str().unwrap().contains("replicas 9 exceed 5"), "{body}");

    // Malformed, truncated, oversized: 4xx with a message, and the server stays up.
    let good = review("pod.json", "CREATE");
    for (bad, want_code, want) in [
        (b"{not json".to_vec(), 400, "not JSON"),
        (good[..good.len() / 2].to_vec(), 400, "not JSON"),
        (
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}"#.to_vec(),
            400,
            "uid",
        ),
        (vec![b' '; 30_000], 413, "limit"),
    ] {
        let (code, body) = s.curl("/validate", Some(&bad));
        assert_eq!(code, want_code, "{body}");
        assert!(body.contains(want), "{body}");
    }
    assert_eq!(s.curl("/nope", None).0, 404);
    assert_eq!(s.curl("/healthz", None).0, 200);
    assert_eq!(s.metric("palisade_admission_reviews_total"), 3.0);
    assert_eq!(s.metric("palisade_admission_errors_total"), 4.0);
    assert!(
        s.metric("palisade_admission_decisions_total{policy=\"disallow-privileged\",action=\"deny\"}") >= 1.0
    );
    assert!(s.stop().success(), "SIGTERM must end the server cleanly");
}

#[test]
fn bundle_reload_keeps_the_last_good_bundle_and_certificates_rotate() {
    if !have_curl() {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    copy_dir(&fixtures().join("bundle"), &bundle);
    // Certificates from files, rotated later.
    let first = palisade_admission_certs(dir.path(), "first");
    let cert = dir.path().join("live/tls.crt");
    let key = dir.path().join("live/tls.key");
    std::fs::create_dir_all(dir.path().join("live")).unwrap();
    for (from, to) in [("tls.crt", &cert), ("tls.key", &key), ("ca.crt", &dir.path().join("live/ca.crt"))] {
        std::fs::copy(first.join(from), to).unwrap();
    }
    let s = Server::start(
        dir.path(),
        &bundle,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--reload-interval",
            "200ms",
        ],
    );
    let privileged = review("pod-privileged.json", "CREATE");
    let allowed = |s: &Server| -> bool {
        let (_, body) = s.curl("/validate", Some(&privileged));
        serde_json::from_str::<Value>(&body).unwrap()["response"]["allowed"].as_bool().unwrap()
    };
    assert!(!allowed(&s));

    // A broken policy file: the reload is refused, the old bundle keeps deciding.
    std::fs::write(
        bundle.join("broken.yaml"),
        "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: x}\nspec: {oops: 1}\n",
    )
    .unwrap();
    wait_for(|| s.metric("palisade_admission_bundle_reload_failures_total") >= 1.0);
    assert!(!allowed(&s));
    // Fixed, and the privileged policy removed: the new bundle is used.
    std::fs::remove_file(bundle.join("broken.yaml")).unwrap();
    let k = std::fs::read_to_string(bundle.join("kyverno.yaml")).unwrap();
    std::fs::write(
        bundle.join("kyverno.yaml"),
        k.replace("validationFailureAction: Enforce", "validationFailureAction: Audit"),
    )
    .unwrap();
    wait_for(|| allowed(&s));

    // Rotation: a new CA and certificate replace the files; clients trusting the new CA get through.
    let second = palisade_admission_certs(dir.path(), "second");
    std::fs::copy(second.join("tls.key"), &key).unwrap();
    std::fs::copy(second.join("tls.crt"), &cert).unwrap();
    std::fs::copy(second.join("ca.crt"), dir.path().join("live/ca.crt")).unwrap();
    wait_for(|| {
        s.curl("/healthz", None).0 == 200 && s.metric("palisade_admission_certificate_reloads_total") >= 1.0
    });
    assert!(s.stop().success());
}

/// A CA and serving certificate for localhost, made by the binary itself (`--self-signed`), in `dir/name`.
fn palisade_admission_certs(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    let s = Server::start(&out, &fixtures().join("bundle"), &[]);
    drop(s);
    out.join("certs")
}

fn wait_for(mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "condition not reached in 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn refuses_to_start_without_a_good_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let run = |bundle: &Path| {
        Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args([
                "admission",
                "serve",
                "--bundle",
                bundle.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--self-signed",
            ])
            .arg(dir.path().join("certs"))
            .output()
            .unwrap()
    };
    let out = run(&dir.path().join("absent"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("absent") && err.contains("cannot read the policy bundle"), "{err}");
    std::fs::write(
        dir.path().join("bad.yaml"),
        "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: x}\nspec: {oops: 1}\n",
    )
    .unwrap();
    let out = run(&dir.path().join("bad.yaml"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml") && err.contains("oops"), "{err}");
}

#[test]
fn a_thousand_idle_connections_do_not_block_reviews() {
    if !have_curl() {
        eprintln!("skipped: curl is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path(), &fixtures().join("bundle"), &[]);
    // Slow-loris style: 1,000 connections that never complete a TLS handshake.
    let idle: Vec<std::net::TcpStream> =
        (0..1000).filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", s.port)).ok()).collect();
    assert_eq!(idle.len(), 1000);
    let started = Instant::now();
    let (code, body) = s.curl("/validate", Some(&review("pod-privileged.json", "CREATE")));
    assert_eq!(code, 200, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a review waited {:?} behind idle connections",
        started.elapsed()
    );
    drop(idle);
    assert_eq!(s.curl("/healthz", None).0, 200);
    assert!(s.stop().success());
}

#[test]
fn audit_reports_a_cluster_dump_by_namespace() {
    // A `kubectl get -A -o json` dump: a List of what runs, one object in kube-system (left out).
    let obj = |f: &str| -> Value {
        serde_json::from_slice(&std::fs::read(fixtures().join("objects").join(f)).unwrap()).unwrap()
    };
    let mut system = obj("pod-privileged.json");
    system["metadata"]["namespace"] = json!("kube-system");
    let mut team = obj("pod-privileged.json");
    team["metadata"]["namespace"] = json!("team-a");
    let dump = json!({"apiVersion": "v1", "kind": "List", "items": [
        obj("deployment.json"), obj("pod-privileged.json"), obj("pod.json"), team, system
    ]});
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dump.json"), serde_json::to_vec(&dump).unwrap()).unwrap();
    let run = |format: &str| {
        Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["admission", "audit", "--bundle"])
            .arg(fixtures().join("bundle"))
            .arg(dir.path().join("dump.json"))
            .args(["--format", format, "--exit-code", "3"])
            .output()
            .unwrap()
    };
    let out = run("json");
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["namespaces"]["prod"]["objects"], 3);
    assert_eq!(v["namespaces"]["prod"]["deny"], 1);
    assert_eq!(v["namespaces"]["team-a"]["deny"], 1);
    assert!(v["namespaces"].get("kube-system").is_none(), "{:#}", v["namespaces"]);
    let out = run("table");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Audit with bundle admission-fixture 2.0.0: 4 objects"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("team-a") && l.split_whitespace().nth(2) == Some("1")),
        "{text}"
    );
    assert!(text.contains("deny  Pod/team-a/debug [disallow-privileged/privileged-containers]"), "{text}");
}

/// A review body for `object` (any kind) in `namespace`.
fn review_of(object: &Value, operation: &str) -> Vec<u8> {
    let kind = object["kind"].as_str().unwrap();
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "5f0c2d1e-8a7b-4c3d-9e2f-1a0b9c8d7e6f",
            "kind": {"group": "", "version": "v1", "kind": kind},
            "resource": {"group": "", "version": "v1", "resource": format!("{}s", kind.to_ascii_lowercase())},
            "namespace": object["metadata"]["namespace"], "name": object["metadata"]["name"],
            "operation": operation, "userInfo": {"username": "dev"},
            "object": if operation == "DELETE" { Value::Null } else { object.clone() },
            "oldObject": if operation == "DELETE" { object.clone() } else { Value::Null }
        }
    }))
    .unwrap()
}

#[test]
fn pod_security_levels_follow_namespace_labels_from_the_dump_and_from_namespace_reviews() {
    if !have_curl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("pss.yaml"),
        "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: pod-security}\nspec:\n  podSecurity: {level: baseline}\n",
    )
    .unwrap();
    let dump = dir.path().join("namespaces.yaml");
    std::fs::write(
        &dump,
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: shop\n    labels:\n      pod-security.kubernetes.io/enforce: restricted\n",
    )
    .unwrap();
    let server = Server::start(dir.path(), &bundle, &["--namespaces", dump.to_str().unwrap()]);
    // Baseline-clean but not restricted (no runAsNonRoot, capabilities not dropped, no seccomp profile).
    let pod = |ns: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": ns},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}})
    };
    let allowed = |body: Vec<u8>| -> (bool, String) {
        let (code, text) = server.curl("/validate", Some(&body));
        assert_eq!(code, 200, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        (
            v["response"]["allowed"] == true,
            v["response"]["status"]["message"].as_str().unwrap_or("").to_string(),
        )
    };
    let (ok, message) = allowed(review_of(&pod("shop"), "CREATE"));
    assert!(!ok, "shop enforces restricted");
    assert!(message.contains("Pod Security restricted, namespace label enforce"), "{message}");
    // An unknown namespace gets the gate's level (baseline): admitted.
    assert!(allowed(review_of(&pod("dev"), "CREATE")).0);
    // The webhook answers a Namespace update labelling dev restricted, and remembers it.
    let dev = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev",
        "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}});
    assert!(allowed(review_of(&dev, "UPDATE")).0);
    assert!(!allowed(review_of(&pod("dev"), "CREATE")).0, "dev now enforces restricted");
    // Deleted: forgotten, back to the gate's level.
    assert!(allowed(review_of(&dev, "DELETE")).0);
    assert!(allowed(review_of(&pod("dev"), "CREATE")).0);
    assert!(server.stop().success());
}

/// Certificate rotation while `hey` keeps 8 connections busy: no request fails, and connections opened
/// after the reload get the new certificate.
#[test]
fn certificates_rotate_under_load_without_failed_requests() {
    let hey = Command::new("hey").arg("-h").output().is_ok();
    if !have_curl() || !hey {
        eprintln!("skipped: curl or hey is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let first = palisade_admission_certs(dir.path(), "first");
    let second = palisade_admission_certs(dir.path(), "second");
    let live = dir.path().join("live");
    std::fs::create_dir_all(&live).unwrap();
    for f in ["tls.crt", "tls.key", "ca.crt"] {
        std::fs::copy(first.join(f), live.join(f)).unwrap();
    }
    let (cert, key) = (live.join("tls.crt"), live.join("tls.key"));
    let s = Server::start(
        dir.path(),
        &fixtures().join("bundle"),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--reload-interval",
            "100ms",
        ],
    );
    let body = dir.path().join("review.json");
    std::fs::write(&body, review("pod-privileged.json", "CREATE")).unwrap();
    // -disable-keepalive: every request is a new TLS handshake, so the rotation happens between requests.
    let load = Command::new("hey")
        .args(["-z", "4s", "-c", "8", "-disable-keepalive", "-m", "POST", "-T", "application/json", "-host"])
        .arg("localhost")
        .arg("-D")
        .arg(&body)
        .arg(format!("https://localhost:{}/validate", s.port))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    // Key first, then the certificate: a half-written pair is refused and the current one stays.
    std::fs::copy(second.join("tls.key"), &key).unwrap();
    std::fs::copy(second.join("tls.crt"), &cert).unwrap();
    let out = load.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    let codes: Vec<&str> = report
        .lines()
        .skip_while(|l| !l.contains("Status code distribution"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert!(!codes.is_empty(), "{report}");
    assert!(codes.iter().all(|l| l.contains("[200]")), "every request answered 200:\n{report}");
    assert!(!report.contains("Error distribution"), "no request failed:\n{report}");
    // New connections get the new certificate: curl trusting only the new CA connects.
    let mut s = s;
    s.ca = second.join("ca.crt");
    assert_eq!(s.curl("/healthz", None).0, 200);
    assert!(s.metric("palisade_admission_certificate_reloads_total") >= 1.0);
}
