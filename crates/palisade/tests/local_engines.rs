//! End to end: `palisade scan image NAME` finds NAME in real local engines (containerd and podman started
//! in private temp directories, found through the same environment variables their own clients read), and
//! reports what `--input` reports for the same archive. Needs root, containerd, ctr, podman and runc, and
//! the fixtures; skips with a message otherwise. `--image-src` never includes the registry here: no network.

#[path = "../../palisade-artifact/tests/common/engines.rs"]
mod engines;

use engines::{Containerd, Podman, fixture};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const NS: &str = "palisade-e2e";

fn run(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_palisade"));
    c.args(args);
    for k in
        ["DOCKER_HOST", "CONTAINER_HOST", "XDG_RUNTIME_DIR", "CONTAINERD_ADDRESS", "CONTAINERD_NAMESPACE"]
    {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run palisade")
}

fn report(args: &[&str], env: &[(&str, String)]) -> Value {
    let out = run(args, env);
    assert!(
        out.status.success(),
        "palisade {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report on stdout")
}

fn archive_report(path: &Path) -> Value {
    report(&["scan", "image", "--input", path.to_str().expect("utf-8"), "--format", "json", "--quiet"], &[])
}

fn diff_ids(r: &Value) -> Vec<Value> {
    r["artifact"]["layers"].as_array().expect("layers").iter().map(|l| l["diff_id"].clone()).collect()
}

#[test]
fn scan_image_by_name_from_containerd_and_podman() {
    let (Some(bookworm), Some(app)) = (fixture("bookworm.docker.tar"), fixture("app.docker.tar")) else {
        return;
    };
    let Some(ctd) = Containerd::start() else { return };
    let Some(mut pod) = Podman::new() else { return };
    ctd.import(NS, &bookworm, &[]);
    pod.load(&app);
    pod.serve();
    let work = tempfile::tempdir().expect("tempdir");
    let env = vec![
        ("DOCKER_HOST", format!("unix://{}", work.path().join("no-docker.sock").display())),
        ("CONTAINER_HOST", format!("unix://{}", pod.sock.display())),
        ("XDG_RUNTIME_DIR", work.path().display().to_string()),
        ("CONTAINERD_ADDRESS", ctd.sock.display().to_string()),
        ("CONTAINERD_NAMESPACE", NS.to_string()),
    ];
    let local = "docker,podman,containerd";

    for (name, archive, source) in [
        ("palisade-fixture/bookworm", &bookworm, "containerd"),
        ("palisade-fixture/app:latest", &app, "podman"),
    ] {
        let got = report(&["scan", "image", name, "--image-src", local, "--format", "json", "--quiet"], &env);
        let want = archive_report(archive);
        let a = &got["artifact"];
        assert_eq!(a["name"], name);
        assert_eq!(a["source"], source, "{name}");
        assert_eq!(want["artifact"]["source"], "archive");
        assert_eq!(a["id"], want["artifact"]["id"], "{name}: image id");
        assert!(a["repo_digests"].as_array().is_some_and(|d| !d.is_empty()), "{name}: {a}");
        assert_eq!(diff_ids(&got), diff_ids(&want), "{name}: layers");
        let pkgs = got["packages"].as_array().expect("packages");
        assert!(pkgs.len() > 80, "{name}: {} packages", pkgs.len());
        assert_eq!(got["packages"], want["packages"], "{name}: packages differ from --input");
        assert!(got.get("warnings").is_none_or(|w| w.as_array().is_some_and(Vec::is_empty)), "{got:#}");
    }

    // Nowhere: exit 2 and one message with what each source said.
    let out = run(&["scan", "image", "palisade-fixture/missing:1", "--image-src", local, "--quiet"], &env);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    for part in ["docker: no socket", "podman: ", "containerd: no image", "--image-src"] {
        assert!(err.contains(part), "{part}: {err}");
    }
    // A bad --image-src is a usage error.
    let out = run(&["scan", "image", "x", "--image-src", "docker,kubelet"], &env);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kubelet"));
}
