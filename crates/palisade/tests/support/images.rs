//! Images for the registry tests: variants of the fixture images (`.ci/fixtures.sh`) in an OCI layout,
//! pushed with `skopeo` or over the distribution API, and small vulnerability DBs built with `db build`.

use super::REGISTRY;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.fixtures"));
    let tool =
        |t: &str| Command::new(t).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !Path::new(REGISTRY).exists()
        || !tool("skopeo").is_ok_and(|s| s.success())
        || !tool("curl").is_ok_and(|s| s.success())
    {
        eprintln!("SKIP: docker-registry ({REGISTRY}), skopeo or curl not installed");
        return None;
    }
    if !dir.join("app.oci/index.json").exists() || !dir.join("bullseye.oci/index.json").exists() {
        eprintln!("SKIP: fixtures not built at {} (run .ci/fixtures.sh)", dir.display());
        return None;
    }
    Some(dir)
}

pub fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// An OCI layout of variants of the fixture images: the same layers (shared base layer), configs differing
/// by a label, so each variant is a distinct image digest.
pub struct Layout {
    pub dir: PathBuf,
    blobs: PathBuf,
    index: Vec<Value>,
}

impl Layout {
    pub fn new(dir: &Path) -> Layout {
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).expect("mkdir");
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("write");
        Layout { dir: dir.into(), blobs, index: Vec::new() }
    }

    pub fn put(&self, data: &[u8]) -> String {
        let d = sha(data);
        std::fs::write(self.blobs.join(&d[7..]), data).expect("write blob");
        d
    }

    /// Add a variant of `fixture` (an OCI layout) as `tag`; returns the manifest (bytes, digest).
    pub fn variant(&mut self, fixture: &Path, tag: &str, label: &str) -> (Vec<u8>, String) {
        let read =
            |d: &str| std::fs::read(fixture.join("blobs/sha256").join(&d[7..])).expect("read fixture blob");
        let index: Value =
            serde_json::from_slice(&std::fs::read(fixture.join("index.json")).expect("index")).expect("json");
        let mdigest = index["manifests"][0]["digest"].as_str().expect("digest").to_string();
        let mut manifest: Value = serde_json::from_slice(&read(&mdigest)).expect("manifest");
        for l in manifest["layers"].as_array().expect("layers") {
            let d = l["digest"].as_str().expect("digest");
            let dst = self.blobs.join(&d[7..]);
            if !dst.exists() {
                std::fs::hard_link(fixture.join("blobs/sha256").join(&d[7..]), &dst)
                    .or_else(|_| std::fs::copy(fixture.join("blobs/sha256").join(&d[7..]), &dst).map(|_| ()))
                    .expect("link layer");
            }
        }
        let mut config: Value =
            serde_json::from_slice(&read(manifest["config"]["digest"].as_str().expect("cfg")))
                .expect("config");
        let labels = config["config"]["Labels"].take();
        let mut labels = if labels.is_object() { labels } else { json!({}) };
        labels["org.opencontainers.image.version"] = json!(label);
        labels["org.opencontainers.image.base.name"] = json!("docker.io/library/debian:12");
        config["config"]["Labels"] = labels;
        let cbytes = serde_json::to_vec(&config).expect("json");
        manifest["config"]["digest"] = json!(self.put(&cbytes));
        manifest["config"]["size"] = json!(cbytes.len());
        let mbytes = serde_json::to_vec(&manifest).expect("json");
        let md = self.put(&mbytes);
        self.index.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
            "size": mbytes.len(), "annotations": {"org.opencontainers.image.ref.name": tag}}));
        (mbytes, md)
    }

    /// A two-platform index of two manifests already added, as `tag`.
    pub fn multi(&mut self, tag: &str, amd: &(Vec<u8>, String), arm: &(Vec<u8>, String)) {
        let idx = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd.1, "size": amd.0.len(),
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm.1, "size": arm.0.len(),
             "platform": {"os": "linux", "architecture": "arm64"}}]});
        let bytes = serde_json::to_vec(&idx).expect("json");
        let d = self.put(&bytes);
        self.index.push(json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d,
            "size": bytes.len(), "annotations": {"org.opencontainers.image.ref.name": tag}}));
    }

    pub fn write_index(&self) {
        let idx = json!({"schemaVersion": 2, "manifests": self.index});
        std::fs::write(self.dir.join("index.json"), serde_json::to_vec(&idx).expect("json"))
            .expect("write index");
    }
}

pub fn skopeo(layout: &Path, tag: &str, dest: &str, all: bool) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests"]);
    if all {
        cmd.arg("--all");
    }
    let out = cmd
        .arg(format!("oci:{}:{tag}", layout.display()))
        .arg(format!("docker://{dest}"))
        .output()
        .expect("skopeo");
    assert!(out.status.success(), "skopeo copy {tag} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// Tag an image already in `repo` again, over the distribution API.
pub fn put_manifest(host: &str, repo: &str, tag: &str, manifest: &[u8], media_type: &str) {
    let out = Command::new("curl")
        .args(["-sf", "-X", "PUT", "-H", &format!("Content-Type: {media_type}"), "--data-binary", "@-"])
        .arg(format!("http://{host}/v2/{repo}/manifests/{tag}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            if let Some(mut i) = c.stdin.take() {
                i.write_all(manifest)?;
            }
            c.wait_with_output()
        })
        .expect("curl");
    assert!(out.status.success(), "PUT {repo}:{tag}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Upload a blob into `repo`: POST opens an upload session, PUT with the digest completes it.
pub fn put_blob(host: &str, repo: &str, data: &[u8]) -> String {
    let d = sha(data);
    let out = Command::new("curl")
        .args(["-si", "-X", "POST"])
        .arg(format!("http://{host}/v2/{repo}/blobs/uploads/"))
        .output()
        .expect("curl");
    let head = String::from_utf8_lossy(&out.stdout).to_string();
    let location = head
        .lines()
        .find_map(|l| l.strip_prefix("Location: ").or_else(|| l.strip_prefix("location: ")))
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| panic!("no upload location: {head}"));
    let location = if location.starts_with("http") { location } else { format!("http://{host}{location}") };
    let sep = if location.contains('?') { '&' } else { '?' };
    let tmp = tempfile::NamedTempFile::new().expect("tmp");
    std::fs::write(tmp.path(), data).expect("write");
    let out = Command::new("curl")
        .args(["-sf", "-X", "PUT", "-H", "Content-Type: application/octet-stream", "--data-binary"])
        .arg(format!("@{}", tmp.path().display()))
        .arg(format!("{location}{sep}digest={d}"))
        .output()
        .expect("curl");
    assert!(out.status.success(), "blob upload: {}", String::from_utf8_lossy(&out.stderr));
    d
}

/// A small vulnerability DB: one advisory on a Debian 12 source package, one on an npm package of the app.
pub fn build_db(dir: &Path, name: &str, advisories: &[(&str, &str, &str, &str)]) -> PathBuf {
    let src = dir.join(format!("{name}-src"));
    std::fs::create_dir_all(&src).expect("mkdir");
    for (id, eco, pkg, fixed) in advisories {
        let doc = json!({"id": id, "modified": "2026-01-01T00:00:00Z", "summary": format!("{pkg} issue"),
            "affected": [{"package": {"ecosystem": eco, "name": pkg},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
            "database_specific": {"severity": "HIGH"}});
        std::fs::write(src.join(format!("{id}.json")), doc.to_string()).expect("write");
    }
    let db = dir.join(format!("{name}.db"));
    let o = palisade(&[
        "db",
        "build",
        "--from",
        src.to_str().expect("utf-8"),
        "--db",
        db.to_str().expect("utf-8"),
        "--force",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    db
}

fn palisade(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().expect("run palisade")
}

fn text(o: &std::process::Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}
