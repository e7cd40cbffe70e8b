//! Test image generator: builds layer tars (including hostile ones), image configs, docker-archives,
//! OCI layouts and oci-archives in code, plus a recording sink.
#![allow(dead_code)]

use palisade_artifact::{FileMeta, FileSink};
use palisade_core::Warnings;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

pub fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

pub fn hexof(digest: &str) -> &str {
    digest.strip_prefix("sha256:").unwrap_or(digest)
}

/// One entry of a generated tar.
pub enum E<'a> {
    File(&'a str, &'a [u8]),
    Exec(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    Fifo(&'a str),
}

/// Build a tar; names are written raw (no sanitizing) so hostile names reach the archive.
pub fn tar(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let (name, ty, data, link, mode): (&str, tar::EntryType, &[u8], &str, u32) = match e {
            E::File(n, d) => (n, tar::EntryType::Regular, d, "", 0o644),
            E::Exec(n, d) => (n, tar::EntryType::Regular, d, "", 0o755),
            E::Dir(n) => (n, tar::EntryType::Directory, b"", "", 0o755),
            E::Symlink(n, t) => (n, tar::EntryType::Symlink, b"", t, 0o777),
            E::Hardlink(n, t) => (n, tar::EntryType::Link, b"", t, 0o644),
            E::Fifo(n) => (n, tar::EntryType::Fifo, b"", "", 0o644),
        };
        h.set_entry_type(ty);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        let gnu = h.as_gnu_mut().expect("gnu");
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_cksum();
        b.append(&h, data).expect("append");
    }
    b.into_inner().expect("finish")
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).expect("zstd")
}

/// A layer: its uncompressed tar and the stored blob.
pub struct Layer {
    pub tar: Vec<u8>,
    pub blob: Vec<u8>,
    pub created_by: String,
}

impl Layer {
    pub fn plain(tar: Vec<u8>, created_by: &str) -> Layer {
        Layer { blob: tar.clone(), tar, created_by: created_by.into() }
    }
    pub fn gz(tar: Vec<u8>, created_by: &str) -> Layer {
        Layer { blob: gzip(&tar), tar, created_by: created_by.into() }
    }
    pub fn zst(tar: Vec<u8>, created_by: &str) -> Layer {
        Layer { blob: zstd(&tar), tar, created_by: created_by.into() }
    }
    pub fn media_type(&self) -> &'static str {
        if self.blob.starts_with(&[0x1f, 0x8b]) {
            "application/vnd.oci.image.layer.v1.tar+gzip"
        } else if self.blob.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            "application/vnd.oci.image.layer.v1.tar+zstd"
        } else {
            "application/vnd.oci.image.layer.v1.tar"
        }
    }
}

/// An image: layers plus config.
pub struct Image {
    pub layers: Vec<Layer>,
    pub arch: String,
    pub config: Vec<u8>,
}

impl Image {
    pub fn new(layers: Vec<Layer>, arch: &str) -> Image {
        let diff_ids: Vec<String> = layers.iter().map(|l| sha(&l.tar)).collect();
        let mut history = vec![serde_json::json!({"created_by": "ENV PATH=/bin", "empty_layer": true})];
        for l in &layers {
            history.push(serde_json::json!({"created": "2024-01-01T00:00:00Z", "created_by": l.created_by}));
        }
        let config = serde_json::json!({
            "architecture": arch, "os": "linux", "created": "2024-01-01T00:00:00Z",
            "config": {"User": "app", "Env": ["PATH=/bin"], "ExposedPorts": {"8080/tcp": {}},
                       "Entrypoint": ["/bin/app"], "Cmd": ["--serve"], "WorkingDir": "/srv",
                       "Labels": {"org.example": "yes"}, "Healthcheck": {"Test": ["CMD", "/bin/app", "health"]}},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        Image { layers, arch: arch.into(), config: serde_json::to_vec(&config).expect("json") }
    }

    pub fn config_digest(&self) -> String {
        sha(&self.config)
    }

    pub fn manifest(&self) -> Vec<u8> {
        let layers: Vec<_> = self
            .layers
            .iter()
            .map(|l| serde_json::json!({"mediaType": l.media_type(), "digest": sha(&l.blob), "size": l.blob.len()}))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": self.config_digest(), "size": self.config.len()},
            "layers": layers,
        }))
        .expect("json")
    }
}

/// Members of an archive or layout: path -> content.
pub type Files = BTreeMap<String, Vec<u8>>;

/// docker-archive members; `old_layout` uses `<id>/layer.tar` (layers must be plain) and `<hex>.json`.
pub fn docker_archive(img: &Image, tags: &[&str], old_layout: bool) -> Files {
    let mut f = Files::new();
    let cfg_name = if old_layout {
        format!("{}.json", hexof(&img.config_digest()))
    } else {
        format!("blobs/sha256/{}", hexof(&img.config_digest()))
    };
    f.insert(cfg_name.clone(), img.config.clone());
    let mut layer_names = Vec::new();
    for (i, l) in img.layers.iter().enumerate() {
        let name = if old_layout {
            format!("{:064x}/layer.tar", i + 1)
        } else {
            format!("blobs/sha256/{}", hexof(&sha(&l.blob)))
        };
        f.insert(name.clone(), l.blob.clone());
        layer_names.push(name);
    }
    let m = serde_json::json!([{"Config": cfg_name, "RepoTags": tags, "Layers": layer_names}]);
    f.insert("manifest.json".into(), serde_json::to_vec(&m).expect("json"));
    f
}

/// OCI layout members for one or more images. With several images a multi-platform index is nested
/// under the top-level index (exercising nested index resolution).
pub fn oci_layout(imgs: &[&Image], ref_name: &str) -> Files {
    let mut f = Files::new();
    f.insert("oci-layout".into(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
    let mut descs = Vec::new();
    for img in imgs {
        f.insert(format!("blobs/sha256/{}", hexof(&img.config_digest())), img.config.clone());
        for l in &img.layers {
            f.insert(format!("blobs/sha256/{}", hexof(&sha(&l.blob))), l.blob.clone());
        }
        let m = img.manifest();
        let d = sha(&m);
        f.insert(format!("blobs/sha256/{}", hexof(&d)), m.clone());
        descs.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": m.len(),
            "platform": {"os": "linux", "architecture": img.arch},
        }));
    }
    let top = if imgs.len() == 1 {
        let mut d = descs.remove(0);
        d["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": ref_name});
        serde_json::json!({"schemaVersion": 2, "manifests": [d]})
    } else {
        let inner = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": descs,
        }))
        .expect("json");
        let d = sha(&inner);
        f.insert(format!("blobs/sha256/{}", hexof(&d)), inner.clone());
        serde_json::json!({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": inner.len(),
            "annotations": {"org.opencontainers.image.ref.name": ref_name}}]})
    };
    f.insert("index.json".into(), serde_json::to_vec(&top).expect("json"));
    f
}

pub fn write_dir(files: &Files, dir: &Path) {
    for (name, data) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, data).expect("write");
    }
}

pub fn write_tar(files: &Files, path: &Path) {
    let mut b = tar::Builder::new(std::fs::File::create(path).expect("create"));
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, &data[..]).expect("append");
    }
    b.finish().expect("finish");
}

/// Records the content of every wanted file (all files, or those with a listed name).
type Got = BTreeMap<(String, Option<u32>), Vec<u8>>;

#[derive(Default)]
pub struct Rec {
    pub names: Vec<&'static str>,
    pub got: Mutex<Got>,
}

impl Rec {
    pub fn all() -> Rec {
        Rec::default()
    }
    pub fn get(&self, path: &str, layer: Option<u32>) -> Option<Vec<u8>> {
        self.got.lock().expect("lock").get(&(path.to_string(), layer)).cloned()
    }
    pub fn keys(&self) -> Vec<(String, Option<u32>)> {
        self.got.lock().expect("lock").keys().cloned().collect()
    }
}

impl FileSink for Rec {
    fn wants(&self, meta: &FileMeta) -> bool {
        self.names.is_empty() || self.names.contains(&meta.file_name())
    }
    fn accept(&self, meta: &FileMeta, data: &[u8], _w: &Warnings) {
        self.got.lock().expect("lock").insert((meta.path.to_string(), meta.layer), data.to_vec());
    }
}

pub mod engines;
