//! Issue 18's continuous part on the real binary: notifications of new findings to real local HTTP
//! receivers (one failing its first attempts, one never answering), `registry scan` through a proxy
//! answering 429 with Retry-After, and `palisade watch` (polling, the registry's push notifications, two
//! replicas sharing one PostgreSQL store). Skips with a message when the registry, skopeo or the fixtures
//! are missing.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod support;

use support::text;

use support::Registry;
use support::http::{FaultProxy, Receiver};
use support::images::{Layout, build_db, fixtures, skopeo};

fn palisade(args: &[&str], env: &[(&str, PathBuf)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run palisade")
}

/// A temp home, a registry and `n` variants of the bookworm fixture pushed to `repo` (tags `v0`…).
struct Setup {
    tmp: tempfile::TempDir,
    env: Vec<(&'static str, PathBuf)>,
    reg: Registry,
}

fn setup(fx: &Path, images: &[(&str, &str, usize)]) -> Setup {
    setup_notifying(fx, images, None)
}

fn setup_notifying(fx: &Path, images: &[(&str, &str, usize)], notify: Option<&str>) -> Setup {
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".docker")).expect("mkdir");
    let env = vec![
        ("HOME", home.clone()),
        ("DOCKER_CONFIG", home.join(".docker")),
        ("XDG_CACHE_HOME", tmp.path().join("cache")),
    ];
    let reg = Registry::start_notifying(&tmp.path().join("registry"), None, notify);
    let mut layout = Layout::new(&tmp.path().join("layout"));
    let mut tags = Vec::new();
    for (repo, fixture, n) in images {
        for i in 0..*n {
            let tag = format!("v{i}");
            let name = format!("{}-{tag}", repo.replace('/', "-"));
            layout.variant(&fx.join(fixture), &name, &format!("{repo}-{i}"));
            tags.push((repo.to_string(), name, tag));
        }
    }
    layout.write_index();
    for (repo, name, tag) in &tags {
        skopeo(&layout.dir, name, &format!("{}/{repo}:{tag}", reg.host()), false);
    }
    Setup { tmp, env, reg }
}

#[test]
fn notifications_are_retried_and_dead_lettered() {
    let Some(fx) = fixtures() else { return };
    let s = setup(&fx, &[("team/app", "bookworm.oci", 2)]);
    let store = s.tmp.path().join("store.db");
    let store_s = store.to_str().expect("utf-8");
    let host = s.reg.host();
    let o = palisade(&["registry", "scan", &host, "--insecure", "--store", store_s], &s.env);
    assert!(o.status.success(), "{}", text(&o));

    // glibc 2.36 in the bookworm variants: a HIGH finding in each (libc6 and libc-bin).
    let db = build_db(s.tmp.path(), "v1", &[("DEBIAN-CVE-2026-0001", "Debian:12", "glibc", "99.0")]);
    let flaky = Receiver::start(2, false);
    let slack = Receiver::start(0, false);
    let silent = Receiver::start(0, true);
    let dead = s.tmp.path().join("dead.jsonl");
    let t0 = Instant::now();
    let o = palisade(
        &[
            "rescan",
            "--store",
            store_s,
            "--db",
            db.to_str().expect("utf-8"),
            "--notify",
            &flaky.url(),
            "--notify-slack",
            &slack.url(),
            "--notify",
            &silent.url(),
            "--notify-stdout",
            "--notify-timeout",
            "1",
            "--notify-attempts",
            "3",
            "--notify-dead-letter",
            dead.to_str().expect("utf-8"),
        ],
        &s.env,
    );
    let out = text(&o);
    eprintln!("rescan with notifications: {:.1} s\n{out}", t0.elapsed().as_secs_f64());
    // Everything was done; one target never got it: exit 2, an error naming the dead-letter log.
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("not delivered after 3 attempts") && out.contains("dead.jsonl"), "{out}");
    assert!(
        out.contains(&format!("notified webhook http://127.0.0.1:{}/… (3 attempts)", flaky.port)),
        "{out}"
    );

    // The flaky receiver: two 503s, then delivered; the body is the generic document.
    let got = flaky.bodies();
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|r| r.method == "POST" && r.path == "/hook"));
    assert!(got[1].at - got[0].at >= Duration::from_millis(900), "backoff between attempts");
    let n: Value = serde_json::from_slice(&got[2].body).expect("JSON payload");
    assert_eq!(n["event"], "palisade.new_findings");
    assert_eq!(n["source"], "rescan");
    assert_eq!(n["min_severity"], "high");
    assert_eq!(n["images"].as_array().map(Vec::len), Some(2), "{n:#}");
    let ids: Vec<&str> = n["images"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["vulnerability"].as_str())
        .collect();
    assert!(ids.contains(&"DEBIAN-CVE-2026-0001"), "{n:#}");
    let headers = &got[2].headers;
    assert!(headers.iter().any(|(k, v)| k == "content-type" && v == "application/json"), "{headers:?}");

    // Slack: text and blocks.
    let sl = slack.bodies();
    assert_eq!(sl.len(), 1);
    let p: Value = serde_json::from_slice(&sl[0].body).expect("JSON");
    assert!(
        p["text"].as_str().is_some_and(|t| t.starts_with("Palisade: ") && t.contains("in 2 images")),
        "{p}"
    );
    assert_eq!(p["blocks"].as_array().map(Vec::len), Some(2));

    // The silent receiver: 3 attempts, each timed out; the payload is in the dead-letter log.
    assert_eq!(silent.bodies().len(), 3);
    let lines = std::fs::read_to_string(&dead).expect("dead-letter log");
    let lines: Vec<Value> = lines.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["target"], format!("webhook http://127.0.0.1:{}/…", silent.port));
    assert_eq!(lines[0]["attempts"], 3);
    assert_eq!(lines[0]["payload"]["event"], "palisade.new_findings");

    // Stdout for CI: one JSON line.
    let stdout = String::from_utf8_lossy(&o.stdout);
    let line = stdout.lines().find(|l| l.starts_with('{')).expect("a JSON line on stdout");
    let v: Value = serde_json::from_str(line).expect("JSON");
    assert_eq!(v["total"], 4, "{v:#}");

    // The silent target comes back: `registry redeliver` sends the logged payload and empties the log.
    let silent_url = silent.url();
    let port = silent.port;
    drop(silent);
    let back = Receiver::start_on(port);
    let redeliver = |url: &str| {
        palisade(
            &[
                "registry",
                "redeliver",
                "--notify",
                url,
                "--notify-dead-letter",
                dead.to_str().expect("utf-8"),
            ],
            &s.env,
        )
    };
    let r = redeliver(&slack.url());
    assert_eq!(r.status.code(), Some(2), "another target: the entry is kept\n{}", text(&r));
    assert!(text(&r).contains("not among the configured targets"), "{}", text(&r));
    let r = redeliver(&silent_url);
    assert!(r.status.success(), "{}", text(&r));
    assert!(text(&r).contains("1 delivered, 0 kept"), "{}", text(&r));
    let resent: Value = serde_json::from_slice(&back.bodies()[0].body).expect("JSON payload");
    assert_eq!(resent, lines[0]["payload"]);
    assert!(!dead.exists(), "a fully delivered log is removed");

    // `registry report --deployments`: two running pods use the second image; equal findings, so it
    // comes first, with its pod count.
    let second = n["images"][1]["digest"].as_str().expect("digest").to_string();
    let repo = n["images"][1]["repository"].as_str().expect("repository").to_string();
    let pods = s.tmp.path().join("pods.yaml");
    let pod = |name: &str, phase: &str| {
        format!(
            "  - apiVersion: v1\n    kind: Pod\n    metadata: {{name: {name}, namespace: shop}}\n    spec:\n      containers:\n        - name: c\n          image: {repo}:not-stored\n    status:\n      phase: {phase}\n      containerStatuses:\n        - name: c\n          imageID: {repo}@{second}\n"
        )
    };
    std::fs::write(
        &pods,
        format!(
            "apiVersion: v1\nkind: List\nitems:\n{}{}{}",
            pod("a", "Running"),
            pod("b", "Running"),
            pod("c", "Failed")
        ),
    )
    .expect("write pods");
    let o = palisade(
        &[
            "registry",
            "report",
            "--store",
            store_s,
            "-f",
            "json",
            "--deployments",
            pods.to_str().expect("utf-8"),
        ],
        &s.env,
    );
    assert!(o.status.success(), "{}", text(&o));
    let r: Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(r[0]["digest"], second.as_str(), "{r:#}");
    assert_eq!(r[0]["running_pods"], 2);
    assert_eq!(r[1]["running_pods"], 0);
    let o = palisade(
        &["registry", "report", "--store", store_s, "--deployments", pods.to_str().expect("utf-8")],
        &s.env,
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("Pods"), "{}", text(&o));

    // Nothing new on the next rescan: nothing sent.
    let o = palisade(
        &["rescan", "--store", store_s, "--db", db.to_str().expect("utf-8"), "--notify", &slack.url()],
        &s.env,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(slack.bodies().len(), 1);
}

#[test]
fn registry_scan_waits_out_429_with_retry_after() {
    let Some(fx) = fixtures() else { return };
    let s = setup(&fx, &[("team/app", "bookworm.oci", 2), ("team/old", "bullseye.oci", 1)]);
    let store = s.tmp.path().join("store.db");
    let store_s = store.to_str().expect("utf-8");
    // The first 4 requests get 429 + Retry-After: 1 (oci-client's /v2/ probe, the catalog request, the
    // request reading Retry-After, …); the listing is retried after the wait and goes through.
    let proxy = FaultProxy::start(s.reg.port, 4, "1");
    let t0 = Instant::now();
    let o = palisade(&["registry", "scan", &proxy.host(), "--insecure", "--store", store_s], &s.env);
    let out = text(&o);
    eprintln!("scan behind the 429 proxy: {:.1} s\n{out}", t0.elapsed().as_secs_f64());
    assert!(o.status.success(), "{out}");
    assert!(out.contains("waiting 1 s (Retry-After) before retrying the listing"), "{out}");
    assert!(out.contains("3 images stored, 0 already stored, 0 failed"), "{out}");
    let limited = proxy.limited_at.lock().expect("lock").clone();
    let forwarded = proxy.forwarded_at.lock().expect("lock").clone();
    assert_eq!(limited.len(), 4);
    // Retry-After honoured: nothing got through until a second after the first 429.
    assert!(forwarded[0] - limited[0] >= Duration::from_millis(950), "{limited:?} {forwarded:?}");

    // A registry asking for more than --max-retry-wait: not waited for, the image fails with a clear
    // error, nothing is half-written, and the other repository's new image is still stored.
    let proxy = FaultProxy::start(s.reg.port, usize::MAX, "120");
    let store2 = s.tmp.path().join("store2.db");
    let t0 = Instant::now();
    let o = palisade(
        &[
            "registry",
            "scan",
            &format!("{}/team/app", proxy.host()),
            "--insecure",
            "--store",
            store2.to_str().expect("utf-8"),
            "--max-retry-wait",
            "2",
        ],
        &s.env,
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(t0.elapsed() < Duration::from_secs(30), "not waited for");
    assert!(
        out.contains("rate limited by the registry (429 Too Many Requests")
            && out.contains("asks to wait 120 s, more than the 2 s allowed"),
        "{out}"
    );
    // Bounded retries: Retry-After 1 on every request, 2 retries allowed: two waits, then an error.
    let proxy = FaultProxy::start(s.reg.port, usize::MAX, "1");
    let t0 = Instant::now();
    let o = palisade(
        &[
            "registry",
            "scan",
            &format!("{}/team/app", proxy.host()),
            "--insecure",
            "--store",
            store2.to_str().expect("utf-8"),
            "--max-retries",
            "2",
        ],
        &s.env,
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("still limited after 2 retries"), "{out}");
    assert_eq!(out.matches("waiting 1 s (Retry-After)").count(), 2, "{out}");
    let took = t0.elapsed();
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(30), "{took:?}");
}

/// A `palisade watch` process, SIGTERMed (then killed) when dropped; its stderr goes to a file read live.
struct Watch {
    child: Option<std::process::Child>,
    log: PathBuf,
}

impl Watch {
    fn start(args: &[&str], env: &[(&str, PathBuf)], log: PathBuf) -> Watch {
        let file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
        cmd.arg("watch").args(args).stdout(std::process::Stdio::null()).stderr(file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Watch { child: Some(cmd.spawn().expect("start palisade watch")), log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM; the exit status within 30 s.
    fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn curl(url: &str) -> (String, String) {
    let o = Command::new("curl").args(["-s", "-w", "\n%{http_code}", url]).output().expect("curl");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let (body, code) = out.rsplit_once('\n').unwrap_or((&out, ""));
    (body.to_string(), code.to_string())
}

fn stored_images(store: &str, env: &[(&str, PathBuf)]) -> Vec<Value> {
    let o = palisade(&["registry", "report", "--store", store, "-f", "json"], env);
    serde_json::from_slice::<Value>(&o.stdout).ok().and_then(|v| v.as_array().cloned()).unwrap_or_default()
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool, logs: &[&Watch]) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        if Instant::now() > deadline {
            let logs: Vec<String> = logs.iter().map(|w| w.log()).collect();
            panic!("timed out waiting for {what}\n{}", logs.join("\n-----\n"));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn watch_replicas_share_postgres_scan_on_push_and_rescan_on_db_update() {
    let Some(fx) = fixtures() else { return };
    let Some(pg) = support::pg::Postgres::start() else { return };
    let url = pg.database("watch");
    let port_a = free_port();
    let s = setup_notifying(
        &fx,
        &[("team/app", "bookworm.oci", 3), ("team/old", "bullseye.oci", 3)],
        Some(&format!("http://127.0.0.1:{port_a}/events")),
    );
    let host = s.reg.host();
    // The DB is rebuilt from this directory every 3 s; at first it holds an advisory matching nothing.
    let adv = s.tmp.path().join("advisories");
    std::fs::create_dir_all(&adv).expect("mkdir");
    let advisory = |id: &str, eco: &str, pkg: &str| {
        let doc = serde_json::json!({"id": id, "modified": "2026-01-01T00:00:00Z", "summary": "x",
            "affected": [{"package": {"ecosystem": eco, "name": pkg},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0"}]}]}],
            "database_specific": {"severity": "CRITICAL"}});
        std::fs::write(adv.join(format!("{id}.json")), doc.to_string()).expect("write advisory");
    };
    advisory("GHSA-0000-0000-0000", "npm", "left-pad");
    let receiver = Receiver::start(0, false);
    let adv_s = adv.to_str().expect("utf-8").to_string();
    let hook = receiver.url();
    let replica = |name: &str, listen: String| {
        let mut env = s.env.clone();
        env.push(("XDG_CACHE_HOME", s.tmp.path().join(format!("cache-{name}"))));
        let args = [
            "--registry",
            &host,
            "--insecure",
            "--store",
            &url,
            "--listen",
            &listen,
            "--poll-interval",
            "3600",
            "--db-interval",
            "3",
            "--db-from",
            &adv_s,
            "--replica",
            name,
            "--concurrency",
            "1",
            "--notify",
            &hook,
            "--notify-min-severity",
            "critical",
        ];
        Watch::start(&args, &env, s.tmp.path().join(format!("{name}.log")))
    };
    let t0 = Instant::now();
    let mut a = replica("a", format!("127.0.0.1:{port_a}"));
    let mut b = replica("b", "127.0.0.1:0".into());
    wait_for(
        "6 images stored",
        Duration::from_secs(400),
        || stored_images(&url, &s.env).len() == 6,
        &[&a, &b],
    );
    eprintln!("two replicas stored 6 images in {:.1} s", t0.elapsed().as_secs_f64());
    // Each digest scanned once, the work split between the two.
    let (la, lb) = (a.log(), b.log());
    let stored: Vec<String> = la
        .lines()
        .chain(lb.lines())
        .filter_map(|l| l.split_once("] stored ").map(|(_, r)| r.split(' ').next().unwrap_or("").to_string()))
        .collect();
    let mut unique = stored.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((stored.len(), unique.len()), (6, 6), "{la}\n-----\n{lb}");
    assert!(la.contains("] stored ") && lb.contains("] stored "), "both replicas scanned\n{la}\n-----\n{lb}");

    // Health and metrics.
    assert_eq!(curl(&format!("http://127.0.0.1:{port_a}/healthz")), ("ok\n".into(), "200".into()));
    assert_eq!(curl(&format!("http://127.0.0.1:{port_a}/readyz")).1, "200");

    // A push: the registry notifies replica a, the new image is scanned without a poll.
    let mut layout = Layout::new(&s.tmp.path().join("layout-push"));
    layout.variant(&fx.join("bookworm.oci"), "pushed", "pushed");
    layout.write_index();
    skopeo(&layout.dir, "pushed", &format!("{host}/team/app:v9"), false);
    wait_for(
        "the pushed image stored",
        Duration::from_secs(200),
        || stored_images(&url, &s.env).len() == 7,
        &[&a, &b],
    );
    assert!(a.log().contains(&format!("push of {host}/team/app:v9: 1 newly queued")), "{}", a.log());
    let (metrics, code) = curl(&format!("http://127.0.0.1:{port_a}/metrics"));
    assert_eq!(code, "200");
    assert!(
        metrics.lines().any(|l| l.starts_with("palisade_watch_events_total ") && !l.ends_with(" 0")),
        "{metrics}"
    );
    assert!(metrics.contains("palisade_watch_images_scanned_total{result=\"ok\"}"), "{metrics}");

    // docker-registry announces a push from inside the manifest upload, before the tag points at it: a
    // notification whose tag is not (yet) known is resolved by its digest instead of failing.
    let log = a.log();
    let digest = log
        .lines()
        .find_map(|l| {
            l.split_once(&format!("] stored {host}/team/app@"))
                .map(|(_, r)| r.split(' ').next().unwrap_or(""))
        })
        .expect("a stored team/app digest")
        .to_string();
    let envelope = serde_json::json!({"events": [{"action": "push", "target": {
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "repository": "team/app",
        "url": format!("http://{host}/v2/team/app/manifests/{digest}"), "tag": "not-yet-tagged"},
        "request": {"host": host}}]});
    let posted = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", "-H"])
        .arg("Content-Type: application/vnd.docker.distribution.events.v1+json")
        .args(["--data-binary", &envelope.to_string(), &format!("http://127.0.0.1:{port_a}/events")])
        .output()
        .expect("curl");
    let status = String::from_utf8_lossy(&posted.stdout).lines().last().unwrap_or("").to_string();
    assert!(status.starts_with('2'), "POST /events: {status} {posted:?}");
    wait_for(
        "the not-yet-tagged push handled",
        Duration::from_secs(60),
        || a.log().contains(&format!("push of {host}/team/app:not-yet-tagged: ")),
        &[&a, &b],
    );

    // A new advisory: the DB is rebuilt on schedule, the store re-matched, the new findings notified.
    advisory("DEBIAN-CVE-2026-0009", "Debian:12", "glibc");
    wait_for("a notification", Duration::from_secs(120), || !receiver.bodies().is_empty(), &[&a, &b]);
    let n: Value = serde_json::from_slice(&receiver.bodies()[0].body).expect("JSON");
    assert_eq!(n["source"], "watch");
    assert_eq!(n["min_severity"], "critical");
    assert!(n["total"].as_u64().is_some_and(|t| t >= 2), "{n:#}");
    let report = stored_images(&url, &s.env);
    assert!(
        report.iter().filter(|i| i["critical"].as_i64().is_some_and(|c| c > 0)).count() >= 4,
        "{report:?}"
    );

    // SIGTERM: both stop cleanly.
    for w in [&mut a, &mut b] {
        let st = w.terminate().expect("stopped within 30 s");
        assert!(st.success(), "{st:?}\n{}", w.log());
        assert!(w.log().contains("stopped"), "{}", w.log());
        eprintln!("{}\n-----", w.log());
    }
    // Nothing went wrong on the way (two re-matches never raced: the lease).
    for w in [&a, &b] {
        assert!(!w.log().contains("error:"), "{}", w.log());
    }
}
