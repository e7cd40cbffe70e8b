//! Registry pulls against a real local registry (Debian's `docker-registry`), images pushed with `skopeo`
//! from OCI layouts generated in code. Skips (with a message) when either tool is missing.

mod common;

use common::*;
use palisade_artifact::{ArtifactError, Options, Target, scan};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const REGISTRY: &str = "/usr/bin/docker-registry";

fn tools_present() -> bool {
    let skopeo = Command::new("skopeo").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !Path::new(REGISTRY).exists() || !skopeo.is_ok_and(|s| s.success()) {
        eprintln!("SKIP: docker-registry ({REGISTRY}) or skopeo not installed");
        return false;
    }
    true
}

/// A registry process on a free port, killed on drop.
struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start a registry on a free port. The port is free when picked but another process (a parallel test) may
/// take it before the registry binds it; the registry then exits, and a new port is tried.
fn start_registry(htpasswd: Option<(&str, &str)>) -> Registry {
    for _ in 0..5 {
        if let Some(r) = try_start_registry(htpasswd) {
            return r;
        }
    }
    panic!("docker-registry did not start on any of 5 free ports");
}

fn try_start_registry(htpasswd: Option<(&str, &str)>) -> Option<Registry> {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let mut cfg = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
        dir.path().join("data").display()
    );
    if let Some((user, pass)) = htpasswd {
        let hash = bcrypt::hash(pass, 4).expect("bcrypt");
        let file = dir.path().join("htpasswd");
        std::fs::write(&file, format!("{user}:{hash}\n")).expect("write htpasswd");
        cfg.push_str(&format!("auth:\n  htpasswd:\n    realm: test\n    path: {}\n", file.display()));
    }
    let cfg_path = dir.path().join("config.yml");
    std::fs::write(&cfg_path, cfg).expect("write config");
    let child = Command::new(REGISTRY)
        .arg("serve")
        .arg(&cfg_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start docker-registry");
    let mut reg = Registry { child, port, _dir: dir };
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if reg.child.try_wait().ok().flatten().is_some() {
            return None;
        }
        assert!(Instant::now() < deadline, "registry did not start on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Something answers on the port; make sure it is our registry, not a process that took the port first.
    std::thread::sleep(Duration::from_millis(200));
    reg.child.try_wait().ok().flatten().is_none().then_some(reg)
}

fn push(layout: &Path, tag_in_layout: &str, dest: &str, creds: Option<&str>, all: bool) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--quiet", "--dest-tls-verify=false"]);
    if all {
        cmd.arg("--all");
    }
    if let Some(c) = creds {
        cmd.args(["--dest-creds", c]);
    }
    let out = cmd
        .arg(format!("oci:{}:{tag_in_layout}", layout.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .expect("run skopeo");
    assert!(out.status.success(), "skopeo copy failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn sample_images() -> (Image, Image) {
    let amd = Image::new(
        vec![
            Layer::gz(
                tar(&[E::Dir("etc/"), E::File("etc/os-release", b"ID=alpine\n"), E::File("etc/gone", b"x")]),
                "ADD /",
            ),
            Layer::gz(tar(&[E::File("etc/.wh.gone", b""), E::Exec("app/run", b"#!/bin/sh\n")]), "COPY app"),
        ],
        "amd64",
    );
    let arm = Image::new(vec![Layer::gz(tar(&[E::File("etc/os-release", b"ID=arm\n")]), "ADD arm")], "arm64");
    (amd, arm)
}

fn layout_dir(files: &Files) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("tempdir");
    let p = d.path().join("layout");
    write_dir(files, &p);
    (d, p)
}

#[test]
fn pull_single_and_multi_platform_images() {
    if !tools_present() {
        return;
    }
    let reg = start_registry(None);
    let (amd, arm) = sample_images();
    let (_d1, single) = layout_dir(&oci_layout(&[&amd], "1"));
    push(&single, "1", &format!("127.0.0.1:{}/test:1", reg.port), None, false);
    let (_d2, multi) = layout_dir(&oci_layout(&[&amd, &arm], "multi"));
    push(&multi, "multi", &format!("127.0.0.1:{}/test:multi", reg.port), None, true);

    let insecure = Options { insecure: true, ..Default::default() };
    let rec = Rec::all();
    let reference = format!("127.0.0.1:{}/test:1", reg.port);
    let s = scan(&Target::Registry { reference: reference.clone() }, &insecure, &rec).expect("pull");
    assert!(s.warnings.is_empty(), "{:#?}", s.warnings);
    assert_eq!(s.info.id.as_deref(), Some(amd.config_digest().as_str()));
    assert_eq!(s.info.layers.len(), 2);
    assert_eq!(s.info.layers[1].created_by.as_deref(), Some("COPY app"));
    assert_eq!(s.info.layers[0].diff_id.as_deref(), Some(sha(&amd.layers[0].tar).as_str()));
    assert_eq!(s.info.repo_tags, vec![reference.clone()]);
    assert!(s.info.repo_digests.first().is_some_and(|d| d.contains("@sha256:")));
    assert_eq!(rec.get("etc/os-release", Some(0)).as_deref(), Some(&b"ID=alpine\n"[..]));
    assert_eq!(s.tree.removed_in("etc/gone", Some(0)), Some(1));
    assert!(s.tree.is_live("app/run", Some(1)));
    assert_eq!(s.info.config.as_ref().and_then(|c| c.user.as_deref()), Some("app"));

    // Without --insecure the plain-HTTP registry is refused (TLS handshake fails): a fatal registry error.
    let e = scan(&Target::Registry { reference }, &Options::default(), &Rec::all());
    assert!(matches!(e, Err(ArtifactError::Registry { .. })), "{e:?}");

    // Multi-platform index: default amd64, explicit arm64, unknown platform is fatal.
    let multi_ref = format!("127.0.0.1:{}/test:multi", reg.port);
    let s =
        scan(&Target::Registry { reference: multi_ref.clone() }, &insecure, &Rec::all()).expect("pull multi");
    assert_eq!(s.info.id.as_deref(), Some(amd.config_digest().as_str()));
    let rec = Rec::all();
    let arm_opts = Options { insecure: true, platform: Some("linux/arm64".into()), ..Default::default() };
    let s = scan(&Target::Registry { reference: multi_ref.clone() }, &arm_opts, &rec).expect("pull arm");
    assert_eq!(s.info.id.as_deref(), Some(arm.config_digest().as_str()));
    assert_eq!(rec.get("etc/os-release", Some(0)).as_deref(), Some(&b"ID=arm\n"[..]));
    let bad = Options { insecure: true, platform: Some("linux/riscv64".into()), ..Default::default() };
    let e = scan(&Target::Registry { reference: multi_ref }, &bad, &Rec::all());
    assert!(matches!(e, Err(ArtifactError::NoMatchingPlatform { .. })), "{e:?}");

    // By digest.
    let digest = s.info.repo_digests.first().and_then(|d| d.split('@').nth(1)).expect("digest").to_string();
    let by_digest = format!("127.0.0.1:{}/test@{digest}", reg.port);
    let s = scan(&Target::Registry { reference: by_digest }, &arm_opts, &Rec::all()).expect("pull by digest");
    assert_eq!(s.info.id.as_deref(), Some(arm.config_digest().as_str()));

    // Missing tag: fatal registry error naming the target.
    let e = scan(
        &Target::Registry { reference: format!("127.0.0.1:{}/test:nope", reg.port) },
        &insecure,
        &Rec::all(),
    );
    assert!(e.as_ref().is_err_and(|e| e.to_string().contains("test:nope")), "{e:?}");
}

#[test]
fn basic_auth_from_docker_config() {
    if !tools_present() {
        return;
    }
    let reg = start_registry(Some(("alice", "s3cret")));
    let (amd, _) = sample_images();
    let (_d, layout) = layout_dir(&oci_layout(&[&amd], "1"));
    push(&layout, "1", &format!("127.0.0.1:{}/private:1", reg.port), Some("alice:s3cret"), false);
    let reference = format!("127.0.0.1:{}/private:1", reg.port);

    // Anonymous (empty DOCKER_CONFIG): authentication error.
    let empty = tempfile::tempdir().expect("tempdir");
    let out = run_child(&reference, empty.path());
    assert!(out.contains("RESULT auth-error"), "{out}");

    // With credentials in $DOCKER_CONFIG/config.json.
    let cfg = tempfile::tempdir().expect("tempdir");
    let auth = "YWxpY2U6czNjcmV0"; // base64("alice:s3cret")
    std::fs::write(
        cfg.path().join("config.json"),
        format!(r#"{{"auths":{{"127.0.0.1:{}":{{"auth":"{auth}"}}}}}}"#, reg.port),
    )
    .expect("write");
    let out = run_child(&reference, cfg.path());
    assert!(out.contains(&format!("RESULT ok {}", amd.config_digest())), "{out}");
}

/// Run `auth_child` in a child process with `DOCKER_CONFIG` set (the environment is process-wide).
fn run_child(reference: &str, docker_config: &Path) -> String {
    let out = Command::new(std::env::current_exe().expect("exe"))
        .args(["--exact", "auth_child", "--nocapture", "--include-ignored"])
        .env("DOCKER_CONFIG", docker_config)
        .env("PALISADE_TEST_REF", reference)
        .output()
        .expect("child");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
#[ignore = "run by basic_auth_from_docker_config in a child process"]
fn auth_child() {
    let Ok(reference) = std::env::var("PALISADE_TEST_REF") else { return };
    let opts = Options { insecure: true, ..Default::default() };
    match scan(&Target::Registry { reference }, &opts, &Rec::all()) {
        Ok(s) => println!("RESULT ok {}", s.info.id.unwrap_or_default()),
        Err(ArtifactError::Auth { reason, .. }) => println!("RESULT auth-error {reason}"),
        Err(e) => println!("RESULT other {e}"),
    }
}
