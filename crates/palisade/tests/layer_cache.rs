//! The layer cache (`<cache dir>/layers`): a second scan of an image reuses what was found in its layers and
//! reports exactly what a fresh scan reports; a layer whose content does not hash to its claimed digest is
//! never stored in the cache under that digest; corrupt entries are ignored and rewritten;
//! `--no-cache` neither reads nor writes it. The images are built here, as docker-archives with uncompressed
//! layers named by their digests (what `docker save` writes), and pushed to a real registry (Debian's
//! `docker-registry`, with `skopeo`) to check that a registry scan downloads no layer the cache holds.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).expect("append");
    }
    b.into_inner().expect("tar")
}

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// A docker-archive at `path` whose layers are `layers`; `claimed` overrides a layer's diff_id.
fn docker_archive(path: &Path, layers: &[Vec<u8>], claimed: &[Option<String>]) {
    let ids: Vec<String> = layers
        .iter()
        .enumerate()
        .map(|(i, l)| claimed.get(i).cloned().flatten().unwrap_or_else(|| sha(l)))
        .collect();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"User": "app"},
        "rootfs": {"type": "layers", "diff_ids": ids},
        "history": layers.iter().map(|_| serde_json::json!({"created_by": "ADD"})).collect::<Vec<_>>(),
    });
    let config = serde_json::to_vec(&config).expect("json");
    let config_name = format!("blobs/sha256/{}", &sha(&config)[7..]);
    let names: Vec<String> = ids.iter().map(|d| format!("blobs/sha256/{}", &d[7..])).collect();
    let manifest =
        serde_json::json!([{"Config": config_name, "RepoTags": ["cache/test:1"], "Layers": names}])
            .to_string();
    let mut files: Vec<(&str, &[u8])> = vec![("manifest.json", manifest.as_bytes()), (&config_name, &config)];
    for (n, l) in names.iter().zip(layers) {
        files.push((n, l));
    }
    std::fs::write(path, tar_of(&files)).expect("write archive");
}

fn base_layer(version: &str) -> Vec<u8> {
    let status = format!(
        "Package: libfoo\nStatus: install ok installed\nVersion: {version}\nArchitecture: amd64\n\n\
         Package: bar\nStatus: install ok installed\nVersion: 2.0\nArchitecture: amd64\n\n"
    );
    tar_of(&[
        ("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12\"\n"),
        ("var/lib/dpkg/status", status.as_bytes()),
    ])
}

fn app_layer() -> Vec<u8> {
    tar_of(&[
        ("app/.env", b"AWS_ACCESS_KEY_ID=AKIAZ7Y6X5W4V3U2T3S4\n"),
        ("app/requirements.txt", b"requests==2.31.0\n"),
    ])
}

/// Runs a scan; returns the report without its timestamp, and stderr.
fn scan(image: &Path, cache: &Path, extra: &[&str]) -> (Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "image", "--input"])
        .arg(image)
        .args(["--scanners", "package,secret", "--format", "json", "--debug", "--no-progress", "--cache-dir"])
        .arg(cache)
        .args(extra)
        .output()
        .expect("run palisade");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    v.as_object_mut().expect("object").remove("created");
    (v, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(cache.join("layers")).into_iter().flatten().flatten() {
        out.extend(std::fs::read_dir(shard.path()).into_iter().flatten().flatten().map(|e| e.path()));
    }
    out.sort();
    out
}

fn versions(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| format!("{}@{}", p["name"].as_str().unwrap_or(""), p["version"].as_str().unwrap_or("")))
        .collect();
    v.sort();
    v
}

#[test]
fn second_scan_is_served_from_the_cache_and_reports_the_same() {
    let d = tempfile::tempdir().expect("tempdir");
    let (img, cache) = (d.path().join("img.tar"), d.path().join("cache"));
    docker_archive(&img, &[base_layer("1.0"), app_layer()], &[]);
    let (first, err1) = scan(&img, &cache, &[]);
    assert!(!err1.contains("from the layer cache"), "{err1}");
    assert_eq!(entries(&cache).len(), 2, "one entry per layer");
    assert!(versions(&first).contains(&"libfoo@1.0".to_string()), "{:?}", versions(&first));
    assert_eq!(first["secrets"].as_array().map(Vec::len), Some(1));

    let (second, err2) = scan(&img, &cache, &[]);
    assert_eq!(err2.matches("from the layer cache").count(), 2, "{err2}");
    assert_eq!(first, second, "a cached scan reports exactly what a fresh one does");
    // The layers sit at other indexes in another image: findings carry the new index.
    let other = d.path().join("other.tar");
    docker_archive(&other, &[tar_of(&[("README", b"hi\n")]), base_layer("1.0"), app_layer()], &[]);
    let (moved, err3) = scan(&other, &cache, &[]);
    assert_eq!(err3.matches("from the layer cache").count(), 2, "{err3}");
    assert_eq!(moved["secrets"][0]["layer"], 2);
    let (fresh, _) = scan(&other, &d.path().join("fresh-cache"), &[]);
    assert_eq!(moved["packages"], fresh["packages"]);
    assert_eq!(moved["secrets"], fresh["secrets"]);
}

#[test]
fn a_layer_claiming_another_layers_digest_cannot_plant_results() {
    let d = tempfile::tempdir().expect("tempdir");
    let cache = d.path().join("cache");
    // A hostile archive scanned first: content with libfoo 9.9 under the genuine layer's diff_id.
    let forged = d.path().join("forged.tar");
    docker_archive(&forged, &[base_layer("9.9")], &[Some(sha(&base_layer("1.0")))]);
    let (report, err) = scan(&forged, &cache, &[]);
    assert!(versions(&report).contains(&"libfoo@9.9".to_string()), "the real content is reported");
    assert!(err.contains("digest mismatch"), "{err}");
    // The genuine image is then read, not answered with the forged layer's results...
    let genuine = d.path().join("genuine.tar");
    docker_archive(&genuine, &[base_layer("1.0")], &[]);
    let (fresh, err) = scan(&genuine, &cache, &[]);
    assert!(!err.contains("from the layer cache"), "{err}");
    assert!(versions(&fresh).contains(&"libfoo@1.0".to_string()));
    assert!(!versions(&fresh).contains(&"libfoo@9.9".to_string()));
    // ...and its own verified entry answers the next scan.
    let (again, err) = scan(&genuine, &cache, &[]);
    assert!(err.contains("from the layer cache"), "{err}");
    assert_eq!(versions(&again), versions(&fresh));
}

#[test]
fn corrupt_entries_are_ignored_and_rewritten_and_no_cache_touches_nothing() {
    let d = tempfile::tempdir().expect("tempdir");
    let (img, cache) = (d.path().join("img.tar"), d.path().join("cache"));
    docker_archive(&img, &[base_layer("1.0"), app_layer()], &[]);
    let (first, _) = scan(&img, &cache, &[]);
    for e in entries(&cache) {
        std::fs::write(&e, b"garbage").expect("corrupt");
    }
    let (second, err) = scan(&img, &cache, &[]);
    assert!(!err.contains("from the layer cache"), "{err}");
    assert_eq!(first, second);
    for e in entries(&cache) {
        assert_ne!(std::fs::read(&e).expect("read"), b"garbage", "rewritten: {}", e.display());
    }
    let none = d.path().join("none");
    let (third, err) = scan(&img, &none, &["--no-cache"]);
    assert_eq!(first, third);
    assert!(!err.contains("from the layer cache"));
    assert!(!none.join("layers").exists(), "--no-cache writes nothing");
}

#[test]
fn a_local_layer_the_scanners_barely_read_is_not_cached() {
    let d = tempfile::tempdir().expect("tempdir");
    let (img, cache) = (d.path().join("img.tar"), d.path().join("cache"));
    let blob: Vec<u8> = (0..(4u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let mut layer = base_layer("1.0");
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(blob.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "usr/share/big.dat", &blob[..]).expect("append");
    let big = b.into_inner().expect("tar");
    // One layer: the base files, then 4 MiB of data no package scanner reads (end-of-archive blocks dropped).
    layer.truncate(layer.len() - 1024);
    layer.extend_from_slice(&big);
    docker_archive(&img, &[layer], &[]);
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "image", "--input"])
        .arg(&img)
        .args(["--scanners", "package", "--format", "json", "--quiet", "--cache-dir"])
        .arg(&cache)
        .output()
        .expect("run");
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(versions(&report).contains(&"libfoo@1.0".to_string()), "{:?}", versions(&report));
    assert!(entries(&cache).is_empty(), "re-reading beats verifying: {:?}", entries(&cache));
}

/// An OCI layout at `dir` holding one image, tagged `tag`, of uncompressed `layers`; returns the layer digests.
fn oci_layout(dir: &Path, layers: &[Vec<u8>], tag: &str) -> Vec<String> {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    let put = |data: &[u8]| {
        let d = sha(data);
        std::fs::write(blobs.join(&d[7..]), data).expect("write blob");
        d
    };
    let ids: Vec<String> = layers.iter().map(|l| put(l)).collect();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": ids},
    });
    let config = serde_json::to_vec(&config).expect("json");
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(&config), "size": config.len()},
        "layers": layers.iter().zip(&ids).map(|(l, d)| serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": l.len(),
        })).collect::<Vec<_>>(),
    });
    let manifest = serde_json::to_vec(&manifest).expect("json");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": put(&manifest),
            "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
    ids
}

/// Scan `reference` from the registry; returns the report without its timestamp, and stderr.
fn scan_remote(reference: &str, cache: &Path) -> (Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "image", reference, "--insecure", "--scanners", "package,secret", "--format", "json"])
        .args(["--debug", "--no-progress", "--cache-dir"])
        .arg(cache)
        .output()
        .expect("run palisade");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    v.as_object_mut().expect("object").remove("created");
    (v, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn registry_scan_downloads_no_layer_the_cache_holds() {
    if !support::registry_tools_present() {
        return;
    }
    let d = tempfile::tempdir().expect("tempdir");
    let layout = d.path().join("layout");
    let layer_ids = oci_layout(&layout, &[base_layer("1.0"), app_layer()], "1");
    let reg = support::Registry::start(&d.path().join("registry"), None);
    let reference = format!("{}/cache/test:1", reg.host());
    let out = Command::new("skopeo")
        .args(["copy", "--quiet", "--dest-tls-verify=false", "--preserve-digests"])
        .arg(format!("oci:{}:1", layout.display()))
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo");
    assert!(out.status.success(), "skopeo copy: {}", String::from_utf8_lossy(&out.stderr));
    let cache = d.path().join("cache");

    let (first, err1) = scan_remote(&reference, &cache);
    assert!(!err1.contains("not pulled"), "{err1}");
    assert_eq!(entries(&cache).len(), 2, "one entry per layer");
    assert!(versions(&first).contains(&"libfoo@1.0".to_string()), "{:?}", versions(&first));
    assert_eq!(first["secrets"].as_array().map(Vec::len), Some(1));

    // Unusable entries: the layers are skipped by the download, then pulled when their entries fail.
    for e in entries(&cache) {
        std::fs::write(&e, b"garbage").expect("corrupt");
    }
    let (second, err2) = scan_remote(&reference, &cache);
    assert_eq!(err2.matches("layer cache entry is unusable, pulling it").count(), 2, "{err2}");
    assert_eq!(first, second);

    // With the entries rewritten, the layer blobs are not needed any more: remove them from the registry's
    // storage, and the scan still reports the same, from the cache, having pulled neither.
    for id in &layer_ids {
        let data =
            d.path().join("registry/data/docker/registry/v2/blobs/sha256").join(&id[7..9]).join(&id[7..]);
        assert!(data.exists(), "registry blob {}", data.display());
        std::fs::remove_dir_all(&data).expect("remove blob");
    }
    let (third, err3) = scan_remote(&reference, &cache);
    assert_eq!(err3.matches("in the layer cache, not pulled").count(), 2, "{err3}");
    assert_eq!(err3.matches("from the layer cache").count(), 2, "{err3}");
    assert_eq!(first, third, "a cached registry scan reports exactly what a fresh one does");
    drop(reg);
}

/// The licence scanner's results are cached with the layer too: a second `--scanners license` scan of a
/// docker-save archive reads no layer and reports the same licences.
#[test]
fn licence_results_are_cached_with_the_layer() {
    let d = tempfile::tempdir().expect("tempdir");
    let (img, cache) = (d.path().join("img.tar"), d.path().join("cache"));
    let copyright =
        b"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\n\
                      Copyright: 2020 Someone\nLicense: GPL-2+\n";
    let mit = include_bytes!("../../palisade-license/tests/fixtures/LICENSE-MIT");
    let licences = tar_of(&[("usr/share/doc/libfoo/copyright", copyright), ("opt/tool/LICENSE", mit)]);
    docker_archive(&img, &[base_layer("1.0"), licences], &[]);
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["scan", "image", "--input"])
            .arg(&img)
            .args(["--scanners", "license", "--format", "json", "--debug", "--no-progress", "--cache-dir"])
            .arg(&cache)
            .output()
            .expect("run palisade");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut v: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        v.as_object_mut().expect("object").remove("created");
        (v, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (first, err1) = run();
    assert!(!err1.contains("from the layer cache"), "{err1}");
    let ids: Vec<&str> = first["licenses"]
        .as_array()
        .expect("licenses")
        .iter()
        .filter_map(|l| l["expression"].as_str())
        .collect();
    assert!(ids.contains(&"GPL-2.0-or-later") && ids.contains(&"MIT"), "{ids:?}");
    let (second, err2) = run();
    assert_eq!(err2.matches("from the layer cache").count(), 2, "{err2}");
    assert_eq!(first, second, "a cached licence scan reports exactly what a fresh one does");
}
