//! `palisade scan cluster`: the running images' findings from the image store, on the real binary. A real
//! registry (Debian's `docker-registry`) holds two images; `registry scan` stores one of them; a dump's Pods
//! run both and a third that no registry has. The stored image's open findings become the cluster report's
//! vulnerabilities, attributed to the Deployment running it; the others are "not scanned" warnings, and
//! with `--scan-missing` the one in the registry is pulled, stored and reported too. Skips with a message
//! when the registry, skopeo, curl or the fixtures are missing.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

mod support;

use support::{json, text};

use support::Registry;
use support::images::{Layout, build_db, fixtures, skopeo};

fn palisade(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("HOME", home)
        .env("DOCKER_CONFIG", home.join(".docker"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .output()
        .expect("run palisade")
}

/// (id, locations) of the report's vulnerabilities.
fn vulns(r: &Value) -> Vec<(String, Vec<String>)> {
    let mut v: Vec<(String, Vec<String>)> = r["vulnerabilities"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|f| {
            let locs = f["locations"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(|l| l["path"].as_str().unwrap_or("").to_string())
                .collect();
            (f["id"].as_str().unwrap_or("").to_string(), locs)
        })
        .collect();
    // One finding per package: glibc's libc6 and libc-bin each carry it.
    v.sort();
    v.dedup();
    v
}

fn warnings(r: &Value) -> String {
    r["warnings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|w| w["message"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn running_images_findings_from_the_store() {
    let Some(fx) = fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    let reg = Registry::start(&tmp.path().join("registry"), None);
    let host = reg.host();

    let mut layout = Layout::new(&tmp.path().join("layout"));
    let (_, app) = layout.variant(&fx.join("bookworm.oci"), "app-v1", "cluster-app");
    let (_, old) = layout.variant(&fx.join("bullseye.oci"), "old-v1", "cluster-old");
    layout.write_index();
    skopeo(&layout.dir, "app-v1", &format!("{host}/team/app:v1"), false);
    skopeo(&layout.dir, "old-v1", &format!("{host}/team/old:v1"), false);
    let db = build_db(
        tmp.path(),
        "cluster",
        &[
            ("DEBIAN-CVE-2026-0101", "Debian:12", "glibc", "99.0"),
            ("DEBIAN-CVE-2026-0102", "Debian:11", "glibc", "99.0"),
        ],
    );
    let (db_s, store) = (db.to_str().unwrap(), tmp.path().join("store.db"));
    let store_s = store.to_str().unwrap();

    // Only team/app goes into the store.
    let o = palisade(
        &["registry", "scan", &format!("{host}/team/app"), "--insecure", "--store", store_s, "--db", db_s],
        home,
    );
    assert!(o.status.success(), "{}", text(&o));

    // A Deployment's Pod runs team/app (its status says which digest), a bare Pod runs team/old:v1 (no
    // status yet), another a tag no registry has.
    let dump = tmp.path().join("pods.yaml");
    std::fs::write(
        &dump,
        format!(
            "apiVersion: v1\nkind: List\nitems:\n\
             - {{apiVersion: apps/v1, kind: Deployment, metadata: {{name: web, namespace: shop}}, spec: {{selector: {{matchLabels: {{app: web}}}}, template: {{metadata: {{labels: {{app: web}}}}, spec: {{containers: [{{name: web, image: '{host}/team/app:v1'}}]}}}}}}}}\n\
             - {{apiVersion: apps/v1, kind: ReplicaSet, metadata: {{name: web-5c, namespace: shop, ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: d, controller: true}}]}}, spec: {{selector: {{matchLabels: {{app: web}}}}, template: {{metadata: {{labels: {{app: web}}}}, spec: {{containers: [{{name: web, image: '{host}/team/app:v1'}}]}}}}}}}}\n\
             - {{apiVersion: v1, kind: Pod, metadata: {{name: web-5c-a, namespace: shop, labels: {{app: web}}, ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-5c, uid: r, controller: true}}]}}, spec: {{containers: [{{name: web, image: '{host}/team/app:v1'}}]}}, status: {{phase: Running, containerStatuses: [{{name: web, imageID: '{host}/team/app@{app}'}}]}}}}\n\
             - {{apiVersion: v1, kind: Pod, metadata: {{name: batch, namespace: shop}}, spec: {{containers: [{{name: batch, image: '{host}/team/old:v1'}}]}}}}\n\
             - {{apiVersion: v1, kind: Pod, metadata: {{name: ghost, namespace: shop}}, spec: {{containers: [{{name: ghost, image: '{host}/team/ghost:1'}}]}}}}\n"
        ),
    )
    .unwrap();
    let dump_s = dump.to_str().unwrap();
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "cluster", "--from", dump_s, "--store", store_s, "--db", db_s];
        if !extra.contains(&"-f") {
            args.extend(["-f", "json"]);
        }
        args.extend_from_slice(extra);
        palisade(&args, home)
    };

    let o = scan(&[]);
    let r = json(&o);
    let web = format!("Deployment shop/web (container web): {host}/team/app@{app}");
    assert_eq!(vulns(&r), vec![("DEBIAN-CVE-2026-0101".to_string(), vec![web.clone()])], "{}", text(&o));
    let mut names: Vec<&str> =
        r["vulnerabilities"].as_array().unwrap().iter().filter_map(|f| f["package_name"].as_str()).collect();
    names.sort();
    assert_eq!(names, ["libc-bin", "libc6"]);
    assert_eq!(r["vulnerabilities"][0]["severity"], "high");
    let w = warnings(&r);
    assert!(w.contains(&format!("{host}/team/old:v1: not scanned: not in the image store")), "{w}");
    assert!(w.contains("run by Pod shop/batch (container batch)"), "{w}");
    assert!(w.contains(&format!("{host}/team/ghost:1: not scanned")), "{w}");
    // Every format renders them (the cluster BOM lists the finding on a component of its own).
    for format in ["cyclonedx", "sarif", "table", "spdx-json"] {
        let o = scan(&["-f", format]);
        assert!(o.status.success(), "{format}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("DEBIAN-CVE-2026-0101"),
            "{format}: {}",
            text(&o)
        );
    }
    // The gate counts them: exit 1 with --exit-code 1.
    assert_eq!(scan(&["--exit-code", "1"]).status.code(), Some(1));

    // --scan-missing: team/old is pulled, stored and judged; the ghost stays a warning.
    let o = scan(&["--scan-missing", "--insecure", "--concurrency", "2"]);
    let r = json(&o);
    let batch = format!("Pod shop/batch (container batch): {host}/team/old@{old}");
    assert_eq!(
        vulns(&r),
        vec![
            ("DEBIAN-CVE-2026-0101".to_string(), vec![web]),
            ("DEBIAN-CVE-2026-0102".to_string(), vec![batch])
        ],
        "{}",
        text(&o)
    );
    let w = warnings(&r);
    assert!(!w.contains("team/old:v1: not scanned"), "{w}");
    assert!(w.contains(&format!("{host}/team/ghost:1: not scanned")), "{w}");
    // NIST SP 800-190 4.1.1 (image vulnerabilities) fails on the running image no scan covers.
    let report = tmp.path().join("cluster.json");
    std::fs::write(&report, &o.stdout).unwrap();
    let o = palisade(
        &["compliance", "report", "--framework", "nist-800-190", report.to_str().unwrap(), "-f", "json"],
        home,
    );
    let c = json(&o);
    let control = c["controls"].as_array().unwrap().iter().find(|c| c["id"] == "4.1.1").unwrap().clone();
    assert_eq!(control["verdict"], "fail", "{control}");
    assert!(control["evidence"].to_string().contains("team/ghost:1: not scanned"), "{control}");
    let o = palisade(&["registry", "report", "--store", store_s, "-f", "json"], home);
    assert_eq!(json(&o).as_array().map(Vec::len), Some(2), "{}", text(&o));
}
