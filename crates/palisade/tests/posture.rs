//! Cluster posture on the real binary: `rbac`, `scan node`, `scan cluster` and `compliance report` on
//! fixture dumps and node trees (crate `palisade-posture`). No API server runs here: dumps are the input.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn posture_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-posture/tests/fixtures")
}

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    })
}

#[test]
fn rbac_analyze_who_can_and_can() {
    let risky = posture_fixtures().join("rbac/risky.yaml");
    let risky = risky.to_str().unwrap();
    let o = palisade(&["rbac", "analyze", "--from", risky, "--format", "json", "--exit-code", "3"]);
    assert_eq!(o.status.code(), Some(3));
    let v = json(&o);
    assert_eq!(v["findings"].as_array().unwrap().len(), 23);
    let clean = posture_fixtures().join("rbac/clean.json");
    let o = palisade(&["rbac", "analyze", "--from", clean.to_str().unwrap(), "--exit-code", "3"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));

    let o = palisade(&["rbac", "who-can", "get", "secrets", "--from", risky]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("User:ci-bot (cluster-wide)") && text.ends_with("3 subjects\n"), "{text}");

    let o = palisade(&[
        "rbac",
        "can",
        "ServiceAccount:team-a/deployer",
        "create",
        "deployments",
        "-n",
        "team-a",
        "--from",
        risky,
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = palisade(&[
        "rbac",
        "can",
        "ServiceAccount:team-a/deployer",
        "create",
        "deployments",
        "-n",
        "team-b",
        "--from",
        risky,
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "no\n");
    let o = palisade(&["rbac", "who-can", "get", "pods/", "--from", risky]);
    assert_eq!(o.status.code(), Some(2));
    let o = palisade(&["rbac", "who-can", "get", "pods", "--from", "/nonexistent/dump.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/dump.yaml"));
}

#[test]
fn scan_node_reports_controls_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("var/lib/kubelet")).unwrap();
    std::fs::write(
        root.join("var/lib/kubelet/config.yaml"),
        "kind: KubeletConfiguration\nauthentication:\n  anonymous: {enabled: true}\nauthorization: {mode: Webhook}\n",
    )
    .unwrap();
    let o = palisade(&["scan", "node", root.to_str().unwrap(), "-f", "json", "--exit-code", "4"]);
    assert_eq!(o.status.code(), Some(4), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let r = v["results"].as_array().unwrap();
    let c = r.iter().find(|c| c["id"] == "4.2.1").unwrap();
    assert_eq!(c["status"], "fail");
    assert_eq!(c["evidence"][0], "/var/lib/kubelet/config.yaml: authentication.anonymous.enabled: true");
    assert_eq!(r.iter().find(|c| c["id"] == "4.2.2").unwrap()["status"], "pass");
    assert_eq!(r.iter().find(|c| c["id"] == "1.2.6").unwrap()["status"], "not-applicable");
    let o = palisade(&["scan", "node", root.join("nope").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope: not a directory"));
}

#[test]
fn scan_cluster_runs_manifest_and_cluster_checks_and_matches_component_versions() {
    let dump = posture_fixtures().join("cluster/dump.yaml");
    let dump = dump.to_str().unwrap();
    let o = palisade(&["scan", "cluster", "--from", dump, "--allow-missing-db", "-f", "json", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let no_db_stdout = o.stdout.clone();
    let ids: Vec<&str> =
        v["misconfigurations"].as_array().unwrap().iter().map(|m| m["check_id"].as_str().unwrap()).collect();
    for id in [
        "PAL-CLU-001",
        "PAL-CLU-002",
        "PAL-CLU-003",
        "PAL-CLU-004",
        "PAL-K8S-068",
        "PAL-K8S-102",
        "PAL-PSS-001",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(!ids.iter().any(|i| i.starts_with("PAL-SCH")), "{ids:?}");
    let purls: Vec<&str> =
        v["packages"].as_array().unwrap().iter().map(|p| p["purl"].as_str().unwrap()).collect();
    assert_eq!(
        purls,
        [
            "pkg:golang/github.com/containerd/containerd@v1.7.0",
            "pkg:golang/github.com/coredns/coredns@v1.11.1",
            "pkg:golang/go.etcd.io/etcd/server/v3@v3.5.12",
            "pkg:golang/k8s.io/kubernetes@v1.30.2",
        ]
    );

    // The component versions against the Go vulnerability database (the corpus in ../shared/data).
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/advisories/osv-go.tar.gz");
    if !corpus.exists() {
        eprintln!("SKIP: {} absent: component vulnerabilities not checked", corpus.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("go.db");
    let o =
        palisade(&["db", "build", "-q", "--from", corpus.to_str().unwrap(), "--db", db.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = palisade(&["scan", "cluster", "--from", dump, "--db", db.to_str().unwrap(), "-f", "json", "-q"]);
    let v = json(&o);
    // The risk report gives the component vulnerabilities to the workloads that run the component.
    let cluster_json = dir.path().join("cluster.json");
    std::fs::write(&cluster_json, &o.stdout).unwrap();
    let r = json(&palisade(&["report", cluster_json.to_str().unwrap(), "--from", dump]));
    let coredns = r["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["workload"] == "Deployment/kube-system/coredns")
        .unwrap();
    let without = dir.path().join("no-vulns.json");
    std::fs::write(&without, &no_db_stdout).unwrap();
    let r0 = json(&palisade(&["report", without.to_str().unwrap(), "--from", dump]));
    let coredns0 = r0["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["workload"] == "Deployment/kube-system/coredns")
        .unwrap();
    assert!(
        coredns["score"].as_f64().unwrap() > coredns0["score"].as_f64().unwrap() + 5.0,
        "{coredns:#} {coredns0:#}"
    );
    let mut by_pkg: std::collections::BTreeMap<String, usize> = Default::default();
    for f in v["vulnerabilities"].as_array().unwrap() {
        *by_pkg.entry(f["package_name"].as_str().unwrap_or("?").to_string()).or_default() += 1;
    }
    println!("component vulnerabilities by module: {by_pkg:?}");
    assert!(by_pkg.get("k8s.io/kubernetes").is_some_and(|n| *n > 0), "{by_pkg:?}");
    assert!(by_pkg.get("github.com/containerd/containerd").is_some_and(|n| *n > 0), "{by_pkg:?}");
    // The cluster BOM: one component per module version, with the vulnerabilities.
    let o =
        palisade(&["scan", "cluster", "--from", dump, "--db", db.to_str().unwrap(), "-f", "cyclonedx", "-q"]);
    let bom = json(&o);
    assert_eq!(bom["components"].as_array().unwrap().len(), 4);
    assert!(!bom["vulnerabilities"].as_array().unwrap().is_empty());
}

#[test]
fn compliance_report_judges_controls_from_cluster_and_node_reports() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("node");
    std::fs::create_dir_all(root.join("var/lib/kubelet")).unwrap();
    std::fs::write(
        root.join("var/lib/kubelet/config.yaml"),
        "kind: KubeletConfiguration\nauthentication:\n  anonymous: {enabled: true}\nauthorization: {mode: Webhook}\n",
    )
    .unwrap();
    let node_json = dir.path().join("node.json");
    let o =
        palisade(&["scan", "node", root.to_str().unwrap(), "-f", "json", "-o", node_json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cluster_json = dir.path().join("cluster.json");
    let dump = posture_fixtures().join("cluster/dump.yaml");
    let o = palisade(&[
        "scan",
        "cluster",
        "--from",
        dump.to_str().unwrap(),
        "--scanners",
        "misconfig",
        "-f",
        "json",
        "-o",
        cluster_json.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (n, c) = (node_json.to_str().unwrap(), cluster_json.to_str().unwrap());
    let o = palisade(&[
        "compliance",
        "report",
        "--framework",
        "cis-kubernetes",
        n,
        c,
        "-f",
        "json",
        "--exit-code",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let verdict = |id: &str| {
        v["controls"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("{id}"))["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(verdict("4.2.1"), "fail"); // kubelet anonymous auth, from the node report
    assert_eq!(verdict("4.2.2"), "pass");
    assert_eq!(verdict("5.1.2"), "fail"); // shop/web reads Secrets, from the cluster scan's RBAC findings
    assert_eq!(verdict("5.3.2"), "fail"); // namespace shop has no NetworkPolicy
    assert_eq!(verdict("5.2.11"), "pass"); // no Windows HostProcess Pod
    assert_eq!(verdict("5.1.7"), "manual");
    assert_eq!(verdict("1.2.6"), "not-assessed"); // no API server on this node
    assert_eq!(verdict("4.2.4"), "manual"); // Manual in the benchmark: the value is shown, a person decides
    let ev = &v["controls"].as_array().unwrap().iter().find(|c| c["id"] == "5.1.2").unwrap()["evidence"];
    let ev: Vec<&str> = ev.as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert!(
        ev.iter().any(|e| e.starts_with("PAL-RBAC-002 ") && e.contains("ServiceAccount:shop/web")),
        "{ev:?}"
    );
    assert!(ev.iter().any(|e| e.starts_with("PAL-K8S-084 ")), "{ev:?}");

    let o = palisade(&["compliance", "report", "--framework", "nist-800-190", n, c, "-f", "html"]);
    let html = String::from_utf8(o.stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && !html.contains("<script") && !html.contains("http://"));
    assert!(html.contains("4.3.3") && html.contains("class=\"fail\""));

    let o = palisade(&["compliance", "report", "--framework", "sox", n]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown framework \"sox\""));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"x\": 1}").unwrap();
    let o = palisade(&["compliance", "report", "--framework", "hipaa", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("bad.json"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = palisade(&["compliance", "list"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("cis-kubernetes        130"));
}

/// Debian's `chromium` (installed by .ci/run), else another Chromium on PATH.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
}

/// Run headless Chromium on a page (killed after 120 s by `timeout`); stderr carries the console messages.
fn headless(browser: &str, profile: &Path, args: &[String], page: &Path) -> Output {
    Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap()
}

/// Console messages Chromium logged for the page (errors and CSP refusals included).
fn console_lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr).lines().filter(|l| l.contains("CONSOLE")).map(str::to_string).collect()
}

#[test]
fn report_html_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let dump = posture_fixtures().join("cluster/dump.yaml");
    let cluster_json = dir.path().join("cluster.json");
    let o = palisade(&[
        "scan",
        "cluster",
        "--from",
        dump.to_str().unwrap(),
        "--scanners",
        "misconfig",
        "-f",
        "json",
        "-o",
        cluster_json.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = dir.path().join("report.html");
    let o = palisade(&[
        "report",
        "--html",
        cluster_json.to_str().unwrap(),
        "--from",
        dump.to_str().unwrap(),
        "--framework",
        "cis-kubernetes",
        "--framework",
        "nsa-cisa",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<svg") && !html.contains("<script") && !html.contains("src=\"http"));
    assert!(html.contains("Deployment/shop/web") && html.contains("Top risks"));
    // JSON form: the privileged, host-network API server Pod ranks above the internal Deployment.
    let o = palisade(&["report", cluster_json.to_str().unwrap(), "--from", dump.to_str().unwrap()]);
    let v = json(&o);
    let w: Vec<&str> =
        v["workloads"].as_array().unwrap().iter().map(|w| w["workload"].as_str().unwrap()).collect();
    let rank =
        |name: &str| w.iter().position(|x| *x == name).unwrap_or_else(|| panic!("{name} not in {w:?}"));
    assert!(rank("Pod/kube-system/kube-apiserver-cp1") < rank("Deployment/kube-system/coredns"), "{w:?}");
    let web =
        v["workloads"].as_array().unwrap().iter().find(|x| x["workload"] == "Deployment/shop/web").unwrap();
    assert_eq!(web["exposure"][0], "Ingress to Service shop/web", "{web:#}");

    let Some(browser) = chromium() else {
        eprintln!("SKIP: no chromium on PATH (.ci/run installs Debian's): the page was not rendered");
        return;
    };
    let profile = dir.path().join("profile");
    // The page renders: the DOM after layout holds the tables and charts, and nothing was logged.
    let o = headless(browser, &profile, &["--dump-dom".into()], &page);
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.contains("Workloads by risk") && dom.contains("<svg"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(console_lines(&o), Vec::<String>::new());
    let shot = dir.path().join("report.png");
    let o = headless(
        browser,
        &profile,
        &[format!("--screenshot={}", shot.display()), "--window-size=1280,1800".into()],
        &page,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{} bytes", png.len());
    assert_eq!(console_lines(&o), Vec::<String>::new());
    if let Ok(out) = std::env::var("PALISADE_REPORT_SCREENSHOT") {
        std::fs::copy(&shot, out).unwrap();
    }
    let pdf = dir.path().join("report.pdf");
    let o = headless(
        browser,
        &profile,
        &[format!("--print-to-pdf={}", pdf.display()), "--no-pdf-header-footer".into()],
        &page,
    );
    let bytes = std::fs::read(&pdf).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert!(bytes.starts_with(b"%PDF") && bytes.len() > 5_000, "{} bytes", bytes.len());
    println!("screenshot {} bytes, PDF {} bytes", png.len(), bytes.len());

    // The console check can fail: a page loading an outside resource is refused by the policy, and logged.
    let bad = dir.path().join("bad.html");
    std::fs::write(&bad, html.replace("<h1>", "<img src=\"http://203.0.113.1/x.png\"><h1>")).unwrap();
    let o = headless(browser, &profile, &["--dump-dom".into()], &bad);
    assert!(!console_lines(&o).is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A vulnerability DB built from OSV advisories for npm `lib` (id, severity, fixed version) and a KEV catalog.
fn store_db(dir: &Path, name: &str, advisories: &[(&str, &str, Option<&str>)], kev: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}-src"));
    std::fs::create_dir_all(&src).unwrap();
    for (cve, severity, fixed) in advisories {
        let mut events = vec![serde_json::json!({"introduced": "0"})];
        if let Some(f) = fixed {
            events.push(serde_json::json!({"fixed": f}));
        }
        let doc = serde_json::json!({"id": format!("GHSA-{cve}"), "modified": "2026-01-01T00:00:00Z",
            "aliases": [cve], "summary": "lib bug",
            "affected": [{"package": {"ecosystem": "npm", "name": "lib"},
                          "ranges": [{"type": "ECOSYSTEM", "events": events}]}],
            "database_specific": {"severity": severity}});
        std::fs::write(src.join(format!("{cve}.json")), doc.to_string()).unwrap();
    }
    let items: Vec<Value> =
        kev.iter().map(|c| serde_json::json!({"cveID": c, "dateAdded": "2026-12-01"})).collect();
    std::fs::write(
        src.join("kev.json"),
        serde_json::json!({"catalogVersion": "1", "vulnerabilities": items}).to_string(),
    )
    .unwrap();
    let out = dir.join(format!("{name}.db"));
    palisade_vulndb::build(&palisade_vulndb::BuildOptions {
        sources: vec![src],
        output: out.clone(),
        progress: None,
        allow_errors: false,
        force: true,
    })
    .unwrap();
    out
}

#[test]
fn report_with_store_draws_trends_and_renders_in_headless_chromium() {
    use palisade_core::{Ecosystem, Location, Package};
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("store.db");
    let spec = store_path.to_str().unwrap();
    // One image holding npm lib 1.0.0, re-matched against three DBs: a high; a critical more; the high fixed
    // and the critical listed in KEV.
    {
        let store = palisade_store::Store::open(spec).unwrap();
        store
            .put_image(&palisade_store::NewImage {
                digest: "sha256:abab".into(),
                platform: "linux/amd64".into(),
                repository: "reg.example/shop/web".into(),
                tags: vec!["1.0".into()],
                packages: vec![Package::new(
                    Ecosystem::Npm,
                    "lib",
                    "1.0.0",
                    Location::new("app/package-lock.json", Some(1)),
                    "npm",
                )],
                sbom: b"{}".to_vec(),
                sbom_format: "cyclonedx-json".into(),
                ..Default::default()
            })
            .unwrap();
        let dbs = [
            store_db(dir.path(), "d1", &[("CVE-2026-1001", "HIGH", None)], &[]),
            store_db(
                dir.path(),
                "d2",
                &[("CVE-2026-1001", "HIGH", None), ("CVE-2026-1002", "CRITICAL", Some("1.0.1"))],
                &[],
            ),
            store_db(dir.path(), "d3", &[("CVE-2026-1002", "CRITICAL", Some("1.0.1"))], &["CVE-2026-1002"]),
        ];
        for db in &dbs {
            store.rematch(&palisade_vulndb::Db::open(db).unwrap()).unwrap();
            // Distinct times for each point (the store keeps nanoseconds).
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    // JSON: one point per re-match, the last with the critical open and the high fixed.
    let o = palisade(&["report", "--store", spec]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    let t = v["trends"].as_array().unwrap();
    assert_eq!(t.len(), 3, "{v:#}");
    let counts = |p: &Value| (p["critical"].as_i64().unwrap(), p["high"].as_i64().unwrap());
    assert_eq!([counts(&t[0]), counts(&t[1]), counts(&t[2])], [(0, 1), (1, 1), (1, 0)], "{v:#}");
    assert_eq!((t[2]["opened"].as_i64(), t[2]["fixed"].as_i64()), (Some(0), Some(1)));
    // The registry report ranks by the KEV listing.
    let o = palisade(&["registry", "report", "--store", spec, "-f", "json"]);
    let r = json(&o);
    assert_eq!(r[0]["risk"], 200_000, "critical × KEV × fixable: {r:#}");
    assert_eq!(r[0]["top_reason"], "CVE-2026-1002 (critical, in CISA KEV, fix available)");
    let o = palisade(&["registry", "report", "--store", spec]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("in CISA KEV"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // A store that does not exist is an error, not a new empty store.
    let missing = dir.path().join("none.db");
    let o = palisade(&["report", "--store", missing.to_str().unwrap()]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("no such store"));
    assert!(!missing.exists());

    let page = dir.path().join("trends.html");
    let o = palisade(&["report", "--html", "--store", spec, "-o", page.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Open findings over time by severity") && html.contains("<polyline"), "{html}");
    assert!(!html.contains("Trends need") && !html.contains("<script"));
    assert!(html.contains("Stored images by risk") && html.contains("reg.example/shop/web:1.0@sha256:abab"));
    assert_eq!(v["stored_images"][0]["kev"], 1, "{v:#}");
    let Some(browser) = chromium() else {
        eprintln!("SKIP: no chromium on PATH (.ci/run installs Debian's): the page was not rendered");
        return;
    };
    let profile = dir.path().join("profile");
    let o = headless(browser, &profile, &["--dump-dom".into()], &page);
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.contains("Open findings over time by severity") && dom.contains("<polyline"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(console_lines(&o), Vec::<String>::new());
    let shot = dir.path().join("trends.png");
    let o = headless(
        browser,
        &profile,
        &[format!("--screenshot={}", shot.display()), "--window-size=1280,1200".into()],
        &page,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert!(png.starts_with(b"\x89PNG"), "{} bytes", png.len());
    assert_eq!(console_lines(&o), Vec::<String>::new());
    if let Ok(out) = std::env::var("PALISADE_TRENDS_SCREENSHOT") {
        std::fs::copy(&shot, out).unwrap();
    }
}

/// `report --html --graph`: the connection graph of recorded events (`network graph`) becomes an inline SVG
/// section with its edges; the page renders in headless Chromium with nothing on the console.
#[test]
fn report_html_draws_the_connection_graph() {
    let dir = tempfile::tempdir().unwrap();
    let events = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/network/events.jsonl");
    let graph = dir.path().join("graph.json");
    let o = palisade(&["network", "graph", "--events", events, "--output", graph.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dump = posture_fixtures().join("cluster/dump.yaml");
    let cluster_json = dir.path().join("cluster.json");
    let o = palisade(&[
        "scan",
        "cluster",
        "--from",
        dump.to_str().unwrap(),
        "--scanners",
        "misconfig",
        "-f",
        "json",
        "-o",
        cluster_json.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = dir.path().join("report.html");
    let o = palisade(&[
        "report",
        "--html",
        cluster_json.to_str().unwrap(),
        "--graph",
        graph.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("<h2>Connection graph</h2>") && !html.contains("<script"), "{html}");
    for text in ["tcp/5432 ×2", "tcp/22 ×0 (1 failed)", "udp/53 ×1", "203.0.113.9", "shop/db"] {
        assert!(html.contains(text), "{text} not in the graph section");
    }
    // a bad graph file is named, and --graph needs --html
    let bad = dir.path().join("bad-graph.json");
    std::fs::write(&bad, "[1, 2]").unwrap();
    let o = palisade(&["report", "--html", cluster_json.to_str().unwrap(), "--graph", bad.to_str().unwrap()]);
    assert!(
        !o.status.success()
            && String::from_utf8_lossy(&o.stderr).contains("bad-graph.json: not a connection graph")
    );
    let o = palisade(&["report", cluster_json.to_str().unwrap(), "--graph", graph.to_str().unwrap()]);
    assert!(!o.status.success());

    let Some(browser) = chromium() else {
        eprintln!("SKIP: no chromium on PATH (.ci/run installs Debian's): the page was not rendered");
        return;
    };
    let profile = dir.path().join("profile");
    let o = headless(browser, &profile, &["--dump-dom".into()], &page);
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.contains("Connection graph") && dom.contains("class=\"workload\"") && dom.contains("tcp/443"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(console_lines(&o), Vec::<String>::new());
    let shot = dir.path().join("graph.png");
    let o = headless(
        browser,
        &profile,
        &[format!("--screenshot={}", shot.display()), "--window-size=1280,2400".into()],
        &page,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{} bytes", png.len());
    assert_eq!(console_lines(&o), Vec::<String>::new());
    if let Ok(out) = std::env::var("PALISADE_GRAPH_SCREENSHOT") {
        std::fs::copy(&shot, out).unwrap();
    }
}
