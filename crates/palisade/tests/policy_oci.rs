//! `palisade policy push/pull` and `--bundle oci://REF@sha256:…` against a real registry (Debian's
//! `docker-registry`, killed when the test ends): the example bundle pushed, pulled by digest, evaluated from
//! the registry and then from the cache with the registry gone; tags refused without `--allow-tag`; hostile
//! artifacts (path traversal, links, a layer that is not the bundle's) refused with errors naming the entry.

mod support;

use palisade_signing::registry::{MT_OCI_MANIFEST, Registry as Client, parse_reference};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{REGISTRY, Registry};

fn bundle() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy-bundle")
}

fn palisade(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("PALISADE_CACHE_DIR", cache)
        .current_dir(bundle())
        .output()
        .expect("run palisade")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Rules and objects of an eval's JSON decisions.
fn decisions(o: &Output) -> Vec<(String, String)> {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("json: {}", text(o)));
    v["decisions"]
        .as_array()
        .expect("decisions")
        .iter()
        .map(|d| (d["rule"].as_str().unwrap_or("").to_string(), d["object"]["name"].to_string()))
        .collect()
}

/// Push an artifact with the bundle's media types whose layer is `layer`, as an attacker with push rights
/// could; returns its digest-pinned reference.
fn push_raw(host: &str, repo: &str, layer: &[u8], layer_type: &str) -> String {
    let r = parse_reference(&format!("{host}/{repo}:evil")).expect("ref");
    let c = Client::for_reference(&r, true).expect("client");
    let layer_digest = c.push_blob(&r, layer).expect("layer");
    let config = c.push_blob(&r, b"{}").expect("config");
    let m = json!({
        "schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
        "artifactType": "application/vnd.palisade.policy.bundle.v1",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": layer_type, "digest": layer_digest, "size": layer.len()}],
        "annotations": {"dev.palisade.policy.bundle.version": ""},
    });
    let bytes = serde_json::to_vec(&m).expect("json");
    let digest = c.push_manifest(&r, &bytes, MT_OCI_MANIFEST).expect("manifest");
    format!("{host}/{repo}@{digest}")
}

/// A tar+gzip with one entry whose header is written raw (no sanitising by the tar crate).
fn hostile_tar(path: &str, kind: tar::EntryType, link: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    let data: &[u8] = if kind == tar::EntryType::Regular { b"package x\n" } else { b"" };
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(kind);
    h.set_cksum();
    b.append(&h, data).expect("append");
    let raw = b.into_inner().expect("tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).expect("gz");
    gz.finish().expect("gz")
}

#[test]
fn a_bundle_pushed_to_a_registry_is_pulled_by_digest_verified_and_evaluated() {
    if !Path::new(REGISTRY).exists() {
        eprintln!("SKIP: docker-registry ({REGISTRY}) not installed");
        return;
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let cache = tmp.path().join("cache");
    let mut reg = Registry::start(&tmp.path().join("registry"), None);
    let host = reg.host();
    let dir = bundle();
    let dir = dir.to_str().expect("utf-8");

    // Push: stdout is the digest-pinned reference.
    let out = palisade(
        &["policy", "push", &format!("{host}/policies/example:1.0.0"), "--bundle", dir, "--insecure"],
        &cache,
    );
    assert!(out.status.success(), "{}", text(&out));
    let pinned = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(pinned.starts_with(&format!("{host}/policies/example@sha256:")), "{pinned}");
    assert!(text(&out).contains("pushed example 1.0.0"), "{}", text(&out));
    // The artifact: its own artifactType, one layer, the version as an annotation.
    let client = Client::for_reference(&parse_reference(&pinned).expect("ref"), true).expect("client");
    let m = client.resolve(&parse_reference(&pinned).expect("ref")).expect("manifest");
    let m: Value = serde_json::from_slice(&m.bytes).expect("json");
    assert_eq!(m["artifactType"], "application/vnd.palisade.policy.bundle.v1");
    assert_eq!(m["layers"].as_array().map(Vec::len), Some(1));
    assert_eq!(m["annotations"]["dev.palisade.policy.bundle.version"], "1.0.0");

    // Pull by digest into a directory: the same files.
    let pulled = tmp.path().join("pulled");
    let out =
        palisade(&["policy", "pull", &pinned, "-o", pulled.to_str().expect("utf-8"), "--insecure"], &cache);
    assert!(out.status.success(), "{}", text(&out));
    for f in ["palisade-policy.yaml", "rego/containers.rego", "gatekeeper/template.yaml", "inputs/pods.yaml"]
    {
        assert_eq!(
            std::fs::read(pulled.join(f)).expect(f),
            std::fs::read(bundle().join(f)).expect(f),
            "{f} differs after push and pull"
        );
    }
    // A non-empty output directory is refused.
    let again =
        palisade(&["policy", "pull", &pinned, "-o", pulled.to_str().expect("utf-8"), "--insecure"], &cache);
    assert!(!again.status.success() && text(&again).contains("not empty"), "{}", text(&again));

    // --bundle oci://: the same decisions as the local directory.
    let local = palisade(&["policy", "eval", "--bundle", ".", "inputs/", "--format", "json"], &cache);
    let oci = format!("oci://{pinned}");
    let remote = palisade(
        &["policy", "eval", "--bundle", &oci, "--bundle-insecure", "inputs/", "--format", "json"],
        &cache,
    );
    assert_eq!(remote.status.code(), Some(1), "{}", text(&remote));
    assert_eq!(decisions(&remote), decisions(&local));
    assert!(!decisions(&local).is_empty());
    // `policy test` and `scan config --policy` take it too.
    let t = palisade(&["policy", "test", "--bundle", &oci, "--bundle-insecure"], &cache);
    assert!(t.status.success() && text(&t).contains("0 failed"), "{}", text(&t));

    // A tag is refused without --allow-tag, resolved with it.
    let tag = format!("oci://{host}/policies/example:1.0.0");
    let refused = palisade(&["policy", "lint", "--bundle", &tag, "--bundle-insecure"], &cache);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(text(&refused).contains("--allow-tag"), "{}", text(&refused));
    let allowed = palisade(&["policy", "lint", "--bundle", &tag, "--bundle-insecure", "--allow-tag"], &cache);
    assert!(allowed.status.success(), "{}", text(&allowed));
    assert!(text(&allowed).contains(pinned.rsplit_once('@').expect("digest").1), "{}", text(&allowed));

    // Hostile artifacts, each refused with the entry named, nothing written outside the cache.
    let cases = [
        (hostile_tar("../escape.rego", tar::EntryType::Regular, ""), "leaves the bundle"),
        (hostile_tar("/tmp/abs.rego", tar::EntryType::Regular, ""), "absolute path"),
        (hostile_tar("passwd.yaml", tar::EntryType::Symlink, "/etc/passwd"), "links are not allowed"),
        (hostile_tar("hard.yaml", tar::EntryType::Link, "/etc/shadow"), "links are not allowed"),
    ];
    for (i, (layer, want)) in cases.iter().enumerate() {
        let evil = push_raw(
            &host,
            &format!("evil/{i}"),
            layer,
            "application/vnd.palisade.policy.bundle.layer.v1.tar+gzip",
        );
        let out = palisade(
            &["policy", "eval", "--bundle", &format!("oci://{evil}"), "--bundle-insecure", "inputs/"],
            &cache,
        );
        assert!(!out.status.success(), "{want}: {}", text(&out));
        assert!(text(&out).contains(want) && text(&out).contains(&evil), "{want}: {}", text(&out));
    }
    assert!(!tmp.path().join("escape.rego").exists() && !cache.join("escape.rego").exists());
    let image_layer = push_raw(
        &host,
        "evil/image",
        &hostile_tar("a.rego", tar::EntryType::Regular, ""),
        "application/vnd.oci.image.layer.v1.tar+gzip",
    );
    let out = palisade(
        &["policy", "lint", "--bundle", &format!("oci://{image_layer}"), "--bundle-insecure"],
        &cache,
    );
    assert!(text(&out).contains("layer media type"), "{}", text(&out));
    // A digest that is not the one the registry serves for the repository.
    let wrong = format!("oci://{host}/policies/example@sha256:{}", "0".repeat(64));
    let out = palisade(&["policy", "lint", "--bundle", &wrong, "--bundle-insecure"], &cache);
    assert!(!out.status.success(), "{}", text(&out));

    // The registry gone: the verified bundle is served from the cache by digest.
    reg.stop();
    let cached = palisade(
        &["policy", "eval", "--bundle", &oci, "--bundle-insecure", "inputs/", "--format", "json"],
        &cache,
    );
    assert_eq!(decisions(&cached), decisions(&local), "{}", text(&cached));
    let scan =
        palisade(&["scan", "config", "inputs/", "--policy", &oci, "--bundle-insecure", "-f", "json"], &cache);
    assert!(text(&scan).contains("\"policy\""), "{}", text(&scan));
}
