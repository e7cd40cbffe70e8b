//! `palisade scan cluster` reading a live cluster through a kubeconfig, on the real binary. No Kubernetes API
//! server can run on the project's machines, so the live path is tested against a stand-in HTTPS server
//! (`support/kube_api.rs`) answering the paths kube-rs calls from the recorded objects of the dump
//! fixtures, with a forbidden kind, a slow kind and pagination. The live read must give what `--from` gives
//! on the same objects, and `--save-dump` must read back the same. Bad kubeconfigs fail naming the file and
//! the context.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

mod support;

use support::{json, text};

use support::kube_api::{Behaviour, FakeApi, list_items, standard_kinds};

const TOKEN: &str = "stand-in-token-3f9a";

fn palisade(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env_remove("KUBECONFIG")
        .output()
        .expect("run palisade")
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-posture/tests/fixtures").join(rel)
}

/// A kubeconfig with the working contexts `test` (current; a token) and `cert` (a client certificate), and
/// `bad-ca`, `down`, `wrong-token`.
fn kubeconfig(dir: &Path, api: &FakeApi) -> PathBuf {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let ca = api.ca.display();
    let url = api.url();
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters:\n\
             - name: stand-in\n  cluster: {{server: \"{url}\", certificate-authority: \"{ca}\"}}\n\
             - name: bad-ca\n  cluster: {{server: \"{url}\", certificate-authority: \"{}/missing-ca.crt\"}}\n\
             - name: down\n  cluster: {{server: \"https://127.0.0.1:{closed}\", certificate-authority: \"{ca}\"}}\n\
             users:\n- name: reader\n  user: {{token: {TOKEN}}}\n- name: stranger\n  user: {{token: not-the-token}}\n\
             - name: cert-user\n  user: {{client-certificate: \"{}\", client-key: \"{}\"}}\n\
             contexts:\n- name: test\n  context: {{cluster: stand-in, user: reader}}\n\
             - name: bad-ca\n  context: {{cluster: bad-ca, user: reader}}\n\
             - name: down\n  context: {{cluster: down, user: reader}}\n\
             - name: wrong-token\n  context: {{cluster: stand-in, user: stranger}}\n\
             - name: cert\n  context: {{cluster: stand-in, user: cert-user}}\n",
            dir.display(),
            api.client_cert.display(),
            api.client_key.display()
        ),
    )
    .unwrap();
    path
}

/// The misconfigurations as comparable keys: check, resource, severity.
fn keys(report: &Value) -> Vec<String> {
    let mut k: Vec<String> = report["misconfigurations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|m| {
            format!(
                "{} {} {}/{} {}",
                m["check_id"].as_str().unwrap_or(""),
                m["resource"]["kind"].as_str().unwrap_or(""),
                m["resource"]["namespace"].as_str().unwrap_or(""),
                m["resource"]["name"].as_str().unwrap_or(""),
                m["severity"].as_str().unwrap_or("")
            )
        })
        .collect();
    k.sort();
    k
}

fn warnings(report: &Value) -> String {
    report["warnings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|w| w["message"].as_str().unwrap_or("").to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn live_read_matches_the_dump_and_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let objects = list_items(&fixture("cluster/dump.yaml"));
    let kinds = standard_kinds(Duration::from_secs(4));
    let api = FakeApi::start(&tmp.path().join("pki"), TOKEN, kinds.clone(), &objects);
    let kc = kubeconfig(tmp.path(), &api);

    // What --from judges on exactly the objects the server lets this user read.
    let readable: Vec<Value> = objects
        .iter()
        .filter(|o| {
            kinds
                .iter()
                .any(|k| k.kind == o["kind"].as_str().unwrap_or("") && k.behaviour == Behaviour::Normal)
        })
        .cloned()
        .collect();
    assert!(
        readable.len() >= 10 && readable.len() < objects.len(),
        "{} of {}",
        readable.len(),
        objects.len()
    );
    let served = tmp.path().join("served.json");
    std::fs::write(
        &served,
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": readable}).to_string(),
    )
    .unwrap();
    let o = palisade(&["scan", "cluster", "--from", served.to_str().unwrap(), "-f", "json"], tmp.path());
    let expected = json(&o);
    assert!(keys(&expected).len() >= 5, "{}", text(&o));

    let saved = tmp.path().join("saved");
    let started = std::time::Instant::now();
    let o = palisade(
        &[
            "scan",
            "cluster",
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--page-size",
            "1",
            "--request-timeout",
            "1s",
            "--save-dump",
            saved.to_str().unwrap(),
            "-f",
            "json",
        ],
        tmp.path(),
    );
    let live = json(&o);
    eprintln!(
        "live read in {:.1} s\n{}",
        started.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(keys(&live), keys(&expected), "{}", text(&o));
    // The cluster's components are read the same way (kubelet, API server, etcd, CoreDNS, runtime).
    let purls =
        |r: &Value| r["packages"].as_array().unwrap().iter().map(|p| p["purl"].clone()).collect::<Vec<_>>();
    assert_eq!(purls(&live), purls(&expected));
    assert_eq!(purls(&live).len(), 4, "{}", live["packages"]);
    assert_eq!(live["artifact"]["name"], "cluster test", "{}", live["artifact"]);
    let files: Vec<&str> =
        live["misconfigurations"].as_array().unwrap().iter().filter_map(|m| m["file"].as_str()).collect();
    assert!(files.iter().all(|f| f.starts_with("cluster://test/")), "{files:?}");
    assert!(files.contains(&"cluster://test/shop/Service/orphan"), "{files:?}");

    let w = warnings(&live);
    assert!(w.contains("NetworkPolicy (networking.k8s.io/v1): forbidden (403)"), "{w}");
    assert!(w.contains("PodDisruptionBudget (policy/v1): no answer within 1 s"), "{w}");
    assert!(w.contains("does not serve HorizontalPodAutoscaler"), "{w}");
    assert!(w.contains(kc.to_str().unwrap()) && w.contains("context test"), "{w}");

    // Pagination: one object per page, the rest asked for with `continue`.
    let requested = api.requested();
    assert!(
        requested.iter().any(|r| r.starts_with("/api/v1/pods?") && r.contains("continue=1")),
        "{requested:?}"
    );
    assert!(requested.iter().any(|r| r.starts_with("/apis/apps/v1/deployments?") && r.contains("limit=1")));

    // --save-dump: the same objects at the same lines, read back with --from.
    assert!(saved.join("shop/Deployment/web.json").is_file());
    assert!(saved.join("Node/cp1.json").is_file());
    let o = palisade(&["scan", "cluster", "--from", saved.to_str().unwrap(), "-f", "json"], tmp.path());
    let back = json(&o);
    let normalise = |v: &Value, prefix: &str| {
        v["misconfigurations"].to_string().replace(prefix, "cluster://test/").replace(".json", "")
    };
    assert_eq!(
        normalise(&back, &format!("{}/", saved.display())),
        normalise(&live, "cluster://test/"),
        "{}",
        text(&o)
    );
}

#[test]
fn namespaces_and_bad_kubeconfigs() {
    let tmp = tempfile::tempdir().unwrap();
    let objects = list_items(&fixture("cluster/dump.yaml"));
    let api =
        FakeApi::start(&tmp.path().join("pki"), TOKEN, standard_kinds(Duration::from_millis(10)), &objects);
    let kc = kubeconfig(tmp.path(), &api);
    let kc_s = kc.to_str().unwrap();

    // -n shop: namespaced kinds are listed in shop only; cluster-wide kinds are still read.
    let o = palisade(
        &["scan", "cluster", "--kubeconfig", kc_s, "-n", "shop", "--scanners", "misconfig", "-f", "json"],
        tmp.path(),
    );
    let r = json(&o);
    let requested = api.requested();
    assert!(requested.iter().any(|p| p.starts_with("/api/v1/namespaces/shop/pods?")), "{requested:?}");
    assert!(!requested.iter().any(|p| p.starts_with("/api/v1/pods?")), "{requested:?}");
    assert!(requested.iter().any(|p| p.starts_with("/api/v1/nodes?")), "{requested:?}");
    let files = r["misconfigurations"].to_string();
    assert!(
        files.contains("cluster://test/shop/") && !files.contains("cluster://test/kube-system/"),
        "{files}"
    );

    // A client certificate instead of a token.
    let o = palisade(
        &[
            "scan",
            "cluster",
            "--kubeconfig",
            kc_s,
            "--context",
            "cert",
            "--scanners",
            "misconfig",
            "-f",
            "json",
        ],
        tmp.path(),
    );
    let r = json(&o);
    assert_eq!(r["artifact"]["name"], "cluster cert", "{}", text(&o));
    assert!(
        r["misconfigurations"].to_string().contains("cluster://cert/shop/Service/orphan"),
        "{}",
        text(&o)
    );

    // KUBECONFIG is honoured as kubectl does.
    let o = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "cluster", "--scanners", "misconfig", "-q"])
        .env("KUBECONFIG", &kc)
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    assert!(o.status.code() != Some(2), "{}", text(&o));

    for (context, says) in [
        ("nope", "no context named \"nope\" (contexts: test, bad-ca, down, wrong-token, cert)".to_string()),
        ("bad-ca", "missing-ca.crt".to_string()),
        ("down", "cannot read the API of https://127.0.0.1:".to_string()),
        ("wrong-token", "401".to_string()),
    ] {
        let o = palisade(&["scan", "cluster", "--kubeconfig", kc_s, "--context", context], tmp.path());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{context}: {}", text(&o));
        assert!(err.contains(kc_s), "{context}: the error names the kubeconfig: {err}");
        assert!(err.contains(&says), "{context}: {err}");
        if context != "nope" {
            assert!(err.contains(&format!("context {context}")), "{context}: {err}");
        }
    }
    let o = palisade(&["scan", "cluster", "--kubeconfig", "/nonexistent/kubeconfig"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/kubeconfig"), "{}", text(&o));
}

#[test]
fn the_read_budget_bounds_the_whole_read() {
    let tmp = tempfile::tempdir().unwrap();
    let objects = list_items(&fixture("cluster/dump.yaml"));
    // PodDisruptionBudgets answer after 20 s: within --request-timeout, beyond the budget.
    let api =
        FakeApi::start(&tmp.path().join("pki"), TOKEN, standard_kinds(Duration::from_secs(20)), &objects);
    let kc = kubeconfig(tmp.path(), &api);
    let started = std::time::Instant::now();
    let o = palisade(
        &[
            "scan",
            "cluster",
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--request-timeout",
            "60s",
            "--read-budget",
            "3s",
            "--scanners",
            "misconfig",
            "-f",
            "json",
        ],
        tmp.path(),
    );
    let elapsed = started.elapsed();
    let r = json(&o);
    assert!(elapsed < Duration::from_secs(15), "the budget did not stop the read: {elapsed:?}");
    let w = warnings(&r);
    assert!(
        w.contains(
            "the read budget (3 s) ran out at PodDisruptionBudget: it and the kinds after it were not read"
        ),
        "{w}"
    );
    // What was read before is judged; the RBAC kinds listed after it are not.
    let files = r["misconfigurations"].to_string();
    assert!(files.contains("cluster://test/shop/Service/orphan"), "{files}");
    assert!(!api.requested().iter().any(|p| p.starts_with("/apis/rbac.authorization.k8s.io/v1/roles?")));
}
