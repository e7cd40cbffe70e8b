//! `palisade keygen | sign | verify | attest | verify-attestation` against a real registry (Debian's
//! `docker-registry`, started per test on a free port; images pushed with `skopeo` from tiny OCI layouts
//! written here). Every negative case has its own message and exit code. Skips when the tools are missing.

use palisade_signing::registry::{Registry, parse_reference, sha256_digest};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::{Registry as RegistryProc, registry_tools_present};
const PASSWORD: &str = "test-password";

fn tools_present() -> bool {
    registry_tools_present()
}

/// Test environment: a registry, a key pair, another public key.
struct Env {
    // Declared first: dropped (killed) before its storage directory goes.
    reg: RegistryProc,
    _reg_dir: tempfile::TempDir,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Option<Self> {
        if !tools_present() {
            return None;
        }
        let reg_dir = tempfile::tempdir().expect("tempdir");
        let env = Env {
            reg: RegistryProc::start(reg_dir.path(), None),
            _reg_dir: reg_dir,
            dir: tempfile::tempdir().expect("tempdir"),
        };
        for prefix in ["ci", "other"] {
            let p = env.path(prefix);
            let (code, _, err) = env.palisade(&["keygen", "--output-key-prefix", p.to_str().expect("utf8")]);
            assert_eq!(code, 0, "{err}");
        }
        Some(env)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn key(&self, prefix: &str, ext: &str) -> String {
        self.path(&format!("{prefix}.{ext}")).display().to_string()
    }

    fn image(&self, repo_tag: &str) -> String {
        format!("127.0.0.1:{}/{repo_tag}", self.reg.port)
    }

    fn palisade(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(args)
            .env("PALISADE_PASSWORD", PASSWORD)
            .env("DOCKER_CONFIG", self.dir.path())
            .output()
            .expect("run palisade");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Run a signing command on `image` with `--insecure`.
    fn run(&self, cmd: &str, image: &str, rest: &[&str]) -> (i32, String, String) {
        let mut args = vec![cmd, image, "--insecure"];
        args.extend_from_slice(rest);
        self.palisade(&args)
    }

    /// Push a one-layer image whose single file holds `marker` to `repo:tag`; returns its digest.
    fn push_image(&self, repo_tag: &str, marker: &str) -> String {
        let layout = self.path(&format!("layout-{}", sha256_digest(marker.as_bytes()).replace(':', "-")));
        let digest = write_layout(&layout, marker);
        let out = Command::new("skopeo")
            .args(["copy", "--quiet", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:latest", layout.display()))
            .arg(format!("docker://{}", self.image(repo_tag)))
            .output()
            .expect("run skopeo");
        assert!(out.status.success(), "skopeo: {}", String::from_utf8_lossy(&out.stderr));
        // skopeo may re-serialise the manifest: the registry's digest is the one that counts.
        let image = self.image(repo_tag);
        let m = self
            .client(&image)
            .manifest(&parse_reference(&image).expect("ref"))
            .expect("get")
            .expect("pushed");
        let _ = digest;
        m.digest
    }

    fn client(&self, any_ref: &str) -> Registry {
        Registry::for_reference(&parse_reference(any_ref).expect("ref"), true).expect("registry client")
    }
}

fn sha(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

/// An OCI layout with one uncompressed layer holding `marker`; returns the manifest digest.
fn write_layout(dir: &Path, marker: &str) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("mkdir");
    let put = |b: &[u8]| {
        let d = sha(b);
        std::fs::write(blobs.join(d.trim_start_matches("sha256:")), b).expect("write blob");
        d
    };
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(marker.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "marker", marker.as_bytes()).expect("tar");
    let layer = tar.into_inner().expect("tar");
    let layer_d = put(&layer);
    let config = json!({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[layer_d]},"config":{}})
        .to_string();
    let config_d = put(config.as_bytes());
    let manifest = json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_d, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_d, "size": layer.len()}]
    })
    .to_string();
    let manifest_d = put(manifest.as_bytes());
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_d, "size": manifest.len(),
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(dir.join("index.json"), index.to_string()).expect("index");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("layout");
    manifest_d
}

#[test]
fn sign_and_verify_in_both_formats_bind_the_digest() {
    let Some(env) = Env::new() else { return };
    let (key, pubkey) = (env.key("ci", "key"), env.key("ci", "pub"));
    for (repo, format, source) in
        [("tagged", "tag", ".sig layer 0"), ("refd", "referrers", "referrer sha256:")]
    {
        let image = env.image(&format!("{repo}:v1"));
        let digest = env.push_image(&format!("{repo}:v1"), &format!("{repo} one"));
        let (code, out, err) = env.run("sign", &image, &["--key", &key, "--format", format]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.trim(), format!("{}@{digest}", env.image(repo)), "sign prints the pinned digest");
        assert!(err.contains(&format!("resolved from {image}")), "{err}");
        let (code, out, err) = env.run("verify", &image, &["--key", &pubkey]);
        assert_eq!(code, 0, "{format}: {err}");
        assert!(
            err.contains(&format!("Verified {}@{digest}", env.image(repo))) && err.contains(source),
            "{err}"
        );
        assert!(out.contains(digest.trim_start_matches("sha256:")), "{out}");

        // The tag is moved to another image after signing: the new digest is not signed.
        let moved = env.push_image(&format!("{repo}:v1"), &format!("{repo} two"));
        assert_ne!(moved, digest);
        let (code, _, err) = env.run("verify", &image, &["--key", &pubkey]);
        assert_eq!(code, 10, "{err}");
        assert!(
            err.contains(&format!("no signature found for {moved}")) && err.contains("resolved from"),
            "{err}"
        );
        // The digest that was signed still verifies by digest.
        let pinned = format!("{}@{digest}", env.image(repo));
        assert_eq!(env.run("verify", &pinned, &["--key", &pubkey]).0, 0);
    }
}

/// Replace the `.sig` manifest of `digest` in `repo` by `manifest` (its blobs are pushed first).
fn put_sig_manifest(env: &Env, repo: &str, digest: &str, blobs: &[&[u8]], manifest: &Value) {
    let tag = format!("{}:{}.sig", env.image(repo), digest.replace(':', "-"));
    let r = parse_reference(&tag).expect("ref");
    let c = env.client(&tag);
    for b in blobs {
        c.push_blob(&r, b).expect("push blob");
    }
    c.push_manifest(&r, manifest.to_string().as_bytes(), "application/vnd.oci.image.manifest.v1+json")
        .expect("push manifest");
}

fn sig_manifest(env: &Env, repo: &str, digest: &str) -> Value {
    let tag = format!("{}:{}.sig", env.image(repo), digest.replace(':', "-"));
    let m = env.client(&tag).manifest(&parse_reference(&tag).expect("ref")).expect("get").expect("present");
    serde_json::from_slice(&m.bytes).expect("json")
}

#[test]
fn each_verification_failure_has_its_own_message_and_exit_code() {
    let Some(env) = Env::new() else { return };
    let (key, pubkey, other) = (env.key("ci", "key"), env.key("ci", "pub"), env.key("other", "pub"));
    let verify = |image: &str, k: &str| env.run("verify", image, &["--key", k]);

    // No signature at all.
    env.push_image("app:none", "none");
    let (code, _, err) = verify(&env.image("app:none"), &pubkey);
    assert_eq!(code, 10, "{err}");
    assert!(err.contains("no signature found"), "{err}");

    // Wrong key, in both formats.
    for format in ["tag", "referrers"] {
        let tag = format!("wk-{format}:v1");
        env.push_image(&tag, &format!("wrong key {format}"));
        assert_eq!(env.run("sign", &env.image(&tag), &["--key", &key, "--format", format]).0, 0);
        let (code, _, err) = verify(&env.image(&tag), &other);
        assert_eq!(code, 12, "{format}: {err}");
        assert!(err.contains("signed, but not by key"), "{err}");
    }

    // Tampered payload: the payload blob is replaced (the manifest updated to match), the signature kept.
    let d = env.push_image("app:tp", "tampered");
    assert_eq!(env.run("sign", &env.image("app:tp"), &["--key", &key, "--format", "tag"]).0, 0);
    let mut m = sig_manifest(&env, "app", &d);
    let payload = env
        .client(&env.image("app:tp"))
        .blob(
            &parse_reference(&env.image("app:tp")).expect("ref"),
            m["layers"][0]["digest"].as_str().expect("d"),
        )
        .expect("payload");
    let evil = String::from_utf8(payload).expect("utf8").replace("/app\"", "/evil\"");
    m["layers"][0]["digest"] = json!(sha256_digest(evil.as_bytes()));
    m["layers"][0]["size"] = json!(evil.len());
    put_sig_manifest(&env, "app", &d, &[evil.as_bytes()], &m);
    let (code, _, err) = verify(&env.image("app:tp"), &pubkey);
    assert_eq!(code, 11, "{err}");
    assert!(err.contains("does not match its payload") && err.contains(&d), "{err}");

    // Digest mismatch: a valid signature of image X copied to image Y's signature tag.
    let x = env.push_image("app:x", "image x");
    let y = env.push_image("app:y", "image y");
    assert_eq!(env.run("sign", &env.image("app:x"), &["--key", &key, "--format", "tag"]).0, 0);
    let mx = sig_manifest(&env, "app", &x);
    put_sig_manifest(&env, "app", &y, &[], &mx);
    let (code, _, err) = verify(&env.image("app:y"), &pubkey);
    assert_eq!(code, 13, "{err}");
    assert!(err.contains(&format!("names digest {x}, not {y}")), "{err}");

    // Garbage in the signature manifest: a signature annotation that is not base64.
    let g = env.push_image("app:garbage", "garbage");
    let payload = b"not even json";
    let config = b"{}";
    let garbage = json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2, "digest": sha256_digest(config)},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": payload.len(),
            "digest": sha256_digest(payload), "annotations": {"dev.cosignproject.cosign/signature": "%%% not base64"}}]
    });
    put_sig_manifest(&env, "app", &g, &[payload, config], &garbage);
    let (code, _, err) = verify(&env.image("app:garbage"), &pubkey);
    assert_eq!(code, 14, "{err}");
    assert!(err.contains("malformed signature annotation: not base64"), "{err}");
    // ... and a layer of an unknown media type.
    let mut odd = garbage.clone();
    odd["layers"][0]["mediaType"] = json!("text/plain");
    put_sig_manifest(&env, "app", &g, &[], &odd);
    let (code, _, err) = verify(&env.image("app:garbage"), &pubkey);
    assert_eq!(code, 14, "{err}");
    assert!(err.contains("unexpected media type \"text/plain\""), "{err}");

    // Garbage in a referrer: a bundle that is not a bundle.
    let b = env.push_image("app:badbundle", "bad bundle");
    let subject = format!("{}@{b}", env.image("app"));
    let c = env.client(&subject);
    let r = parse_reference(&subject).expect("ref");
    let junk = b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}";
    let (junk_d, empty_d) = (c.push_blob(&r, junk).expect("blob"), c.push_blob(&r, b"{}").expect("blob"));
    let m = env.client(&subject).manifest(&r).expect("get").expect("image");
    let referrer = json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "size": 2, "digest": empty_d},
        "layers": [{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "size": junk.len(), "digest": junk_d}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": m.bytes.len(), "digest": b},
    })
    .to_string();
    let rd = sha256_digest(referrer.as_bytes());
    let by_digest = parse_reference(&format!("{}@{rd}", env.image("app"))).expect("ref");
    c.push_manifest(&by_digest, referrer.as_bytes(), "application/vnd.oci.image.manifest.v1+json")
        .expect("push");
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "size": referrer.len(), "digest": rd,
        "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json"}]});
    let index_tag = parse_reference(&format!("{}:{}", env.image("app"), b.replace(':', "-"))).expect("ref");
    c.push_manifest(&index_tag, index.to_string().as_bytes(), "application/vnd.oci.image.index.v1+json")
        .expect("push index");
    let (code, _, err) = verify(&env.image("app:badbundle"), &pubkey);
    assert_eq!(code, 14, "{err}");
    assert!(err.contains("malformed bundle") && err.contains(&rd), "{err}");

    // An unreachable registry is an error (exit 2) within the timeout, not a hang.
    let dead = format!(
        "127.0.0.1:{}/app:v1",
        TcpListener::bind("127.0.0.1:0").expect("b").local_addr().expect("a").port()
    );
    let t = Instant::now();
    let (code, _, err) = env.run("verify", &dead, &["--key", &pubkey, "--registry-timeout", "2s"]);
    assert_eq!(code, 2, "{err}");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

#[test]
fn attest_and_verify_attestation_in_both_formats() {
    let Some(env) = Env::new() else { return };
    let (key, pubkey, other) = (env.key("ci", "key"), env.key("ci", "pub"), env.key("other", "pub"));
    let now =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).expect("now");
    let sbom = env.path("sbom.json");
    std::fs::write(
        &sbom,
        json!({"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"timestamp":now}}).to_string(),
    )
    .expect("write");
    let vuln = env.path("vuln.json");
    std::fs::write(&vuln, json!({"scanner":{"uri":"pkg:github/palisade"},"metadata":{"scanStartedOn":"2020-01-01T00:00:00Z","scanFinishedOn":"2020-01-01T00:00:00Z"}}).to_string())
        .expect("write");
    let (sbom, vuln) = (sbom.display().to_string(), vuln.display().to_string());
    for format in ["referrers", "tag"] {
        let image = env.image(&format!("att-{format}:v1"));
        let digest = env.push_image(&format!("att-{format}:v1"), format);
        for (file, ty) in [(&sbom, "cyclonedx"), (&vuln, "vuln")] {
            let (code, _, err) = env.run(
                "attest",
                &image,
                &["--key", &key, "--predicate", file, "--type", ty, "--format", format],
            );
            assert_eq!(code, 0, "{err}");
        }
        let (code, out, err) = env.run(
            "verify-attestation",
            &image,
            &["--key", &pubkey, "--type", "cyclonedx", "--max-age", "1d"],
        );
        assert_eq!(code, 0, "{format}: {err}");
        let st: Value = serde_json::from_str(&out).expect("statement JSON on stdout");
        assert_eq!(st["predicateType"], "https://cyclonedx.org/bom");
        assert_eq!(st["subject"][0]["digest"]["sha256"], digest.trim_start_matches("sha256:"));
        assert_eq!(st["predicate"]["bomFormat"], "CycloneDX");
        // The vuln predicate says it finished in 2020: too old for --max-age 7d, fine without.
        let (code, _, err) =
            env.run("verify-attestation", &image, &["--key", &pubkey, "--type", "vuln", "--max-age", "7d"]);
        assert_eq!(code, 15, "{err}");
        assert!(err.contains("older than"), "{err}");
        assert_eq!(env.run("verify-attestation", &image, &["--key", &pubkey, "--type", "vuln"]).0, 0);
        // No OpenVEX attestation; another key.
        let (code, _, err) = env.run("verify-attestation", &image, &["--key", &pubkey, "--type", "openvex"]);
        assert_eq!(code, 10, "{err}");
        assert!(
            err.contains(
                "other types: https://cosign.sigstore.dev/attestation/vuln/v1, https://cyclonedx.org/bom"
            ),
            "{err}"
        );
        let (code, _, err) = env.run("verify-attestation", &image, &["--key", &other, "--type", "cyclonedx"]);
        assert_eq!(code, 12, "{err}");
    }
    // An attestation is not an image signature.
    let (code, _, err) = env.run("verify", &env.image("att-tag:v1"), &["--key", &pubkey]);
    assert_eq!(code, 10, "{err}");

    // `scan image --attest`: the SBOM and the scan result of the digest scanned, both verifiable.
    let image = env.image("scanned:v1");
    let digest = env.push_image("scanned:v1", "scanned");
    let (code, _, err) = env.palisade(&[
        "scan",
        "image",
        &image,
        "--insecure",
        "--scanners",
        "package",
        "--format",
        "json",
        "-o",
        env.path("report.json").to_str().expect("utf8"),
        "--attest",
        "--key",
        &key,
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) =
        env.run("verify-attestation", &image, &["--key", &pubkey, "--type", "vuln", "--max-age", "1h"]);
    assert_eq!(code, 0, "{err}");
    let st: Value = serde_json::from_str(&out).expect("statement");
    assert_eq!(st["subject"][0]["digest"]["sha256"], digest.trim_start_matches("sha256:"));
    assert!(st["predicate"]["scanner"]["result"]["artifact"].is_object(), "{out}");
    let (code, out, err) = env.run("verify-attestation", &image, &["--key", &pubkey, "--type", "cyclonedx"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"bomFormat\": \"CycloneDX\""), "{out}");
}

/// The key `palisade keygen` writes decrypts with cosign's documented scheme in an independent
/// implementation (Python hashlib scrypt + PyNaCl SecretBox + pyca/cryptography). Skips without PyNaCl.
#[test]
fn keygen_key_decrypts_with_the_documented_scheme_in_python() {
    let python = std::env::var("PALISADE_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = Command::new(&python).args(["-c", "import nacl.secret, cryptography"]).output();
    if !has.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIP: {python} lacks pynacl/cryptography (pip install pynacl cryptography)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let prefix = dir.path().join("k");
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["keygen", "--output-key-prefix", prefix.to_str().expect("utf8")])
        .env("PALISADE_PASSWORD", PASSWORD)
        .output()
        .expect("keygen");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let script = r#"
import base64, hashlib, json, sys, nacl.secret
from cryptography.hazmat.primitives import serialization
text = open(sys.argv[1]).read()
assert "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----" in text
body = "".join(l for l in text.splitlines() if not l.startswith("-----"))
doc = json.loads(base64.b64decode(body))
assert doc["kdf"]["name"] == "scrypt" and doc["kdf"]["params"] == {"N": 65536, "r": 8, "p": 1}
assert doc["cipher"]["name"] == "nacl/secretbox"
k = hashlib.scrypt(sys.argv[2].encode(), salt=base64.b64decode(doc["kdf"]["salt"]), n=65536, r=8, p=1, dklen=32, maxmem=128 << 20)
der = nacl.secret.SecretBox(k).decrypt(base64.b64decode(doc["ciphertext"]), base64.b64decode(doc["cipher"]["nonce"]))
key = serialization.load_der_private_key(der, password=None)
sys.stdout.write(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())
"#;
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(prefix.with_extension("key"))
        .arg(PASSWORD)
        .output()
        .expect("python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pem = std::fs::read_to_string(prefix.with_extension("pub")).expect("pub");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pem.trim());
}

/// A policy-bundle gate: images matching the scope must be signed by the CI key and carry a recent vuln
/// attestation; `scan image --policy` denies (exit 1) until both are there, then passes.
#[test]
fn gate_requires_signature_and_fresh_attestation() {
    let Some(env) = Env::new() else { return };
    let key = env.key("ci", "key");
    let bundle = env.path("bundle");
    std::fs::create_dir_all(bundle.join("keys")).expect("mkdir");
    std::fs::copy(env.path("ci.pub"), bundle.join("keys/ci.pub")).expect("copy key");
    std::fs::write(
        bundle.join("gates.yaml"),
        format!(
            "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {{name: signed-by-ci}}\nspec:\n  scope: {{images: [\"127.0.0.1:{}/gated*\"]}}\n  signatures:\n    keys: [keys/ci.pub]\n    attestations: [{{type: vuln, maxAge: 1d}}]\n    insecure: true\n",
            env.reg.port
        ),
    )
    .expect("gate");
    let image = env.image("gated:v1");
    env.push_image("gated:v1", "gated");
    let report = env.path("gate.json");
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "image",
            &image,
            "--insecure",
            "--scanners",
            "package",
            "--format",
            "json",
            "-o",
            report.to_str().expect("utf8"),
            "--policy",
            bundle.to_str().expect("utf8"),
        ];
        args.extend_from_slice(extra);
        let (code, _, err) = env.palisade(&args);
        let v: Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap_or_default()).unwrap_or_default();
        let rules: Vec<(String, String)> = v["policy"]["decisions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                (
                    d["rule"].as_str().unwrap_or("").to_string(),
                    d["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        (code, rules, err)
    };
    // Unsigned, unattested: two deny decisions.
    let (code, rules, err) = scan(&[]);
    assert_eq!(code, 1, "{err}");
    assert!(rules.iter().any(|(r, m)| r == "signature" && m.contains("no signature found")), "{rules:?}");
    assert!(
        rules.iter().any(|(r, m)| r == "attestation" && m.contains("no attestation of type")),
        "{rules:?}"
    );
    // Sign; scan again with --attest: the scan attests after the gate ran, so the attestation is still
    // missing in this run, and the next scan passes.
    assert_eq!(env.run("sign", &image, &["--key", &key]).0, 0);
    let (code, rules, err) = scan(&["--attest", "--key", &key]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(rules.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(), vec!["attestation"], "{rules:?}");
    let (code, rules, err) = scan(&[]);
    assert_eq!(code, 0, "{rules:?} {err}");
    // An image outside the scope is not judged.
    let other = env.image("elsewhere:v1");
    env.push_image("elsewhere:v1", "elsewhere");
    let (code, _, err) = env.palisade(&[
        "scan",
        "image",
        &other,
        "--insecure",
        "--scanners",
        "package",
        "--policy",
        bundle.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{err}");
}

/// `signatures.attestations[]` with predicate conditions: the scan result of a vuln attestation and the
/// SBOM of a CycloneDX attestation (matched against a DB built from the vulndb test feed) judged by another
/// gate, an in-toto custom predicate by Kyverno-style conditions, and the age of each. The same decisions
/// from `verify-attestation --policy` (the webhook's digest-only path) and from `scan --policy` (CI).
#[test]
fn gate_attestation_predicates_pass_another_gate_or_conditions() {
    let Some(env) = Env::new() else { return };
    let key = env.key("ci", "key");
    let cache = env.path("cache");
    std::fs::create_dir_all(cache.join("db")).expect("mkdir");
    let db = cache.join("db/palisade.db");
    let feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-vulndb/tests/fixtures/feed/osv");
    let (code, _, err) = env.palisade(&[
        "db",
        "build",
        "--db",
        db.to_str().expect("utf8"),
        "--from",
        feed.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{err}");
    let bundle = env.path("pred-bundle");
    std::fs::create_dir_all(bundle.join("keys")).expect("mkdir");
    std::fs::copy(env.path("ci.pub"), bundle.join("keys/ci.pub")).expect("copy key");
    let port = env.reg.port;
    std::fs::write(
        bundle.join("gates.yaml"),
        format!(
            "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {{name: no-high}}\nspec:\n  scope: {{images: [\"nothing-scanned/**\"]}}\n  vulnerabilities: {{severities: [HIGH, CRITICAL]}}\n---\n\
             apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {{name: attested}}\nspec:\n  scope: {{images: [\"127.0.0.1:{port}/pred*\"]}}\n  signatures:\n    keys: [keys/ci.pub]\n    signature: false\n    insecure: true\n    attestations:\n      - {{type: vuln, maxAge: 1d, gate: no-high}}\n      - {{type: cyclonedx, gate: no-high}}\n      - type: https://acme.io/review/v1\n        conditions:\n          all:\n            - {{key: \"{{{{ approved }}}}\", operator: Equals, value: true}}\n            - {{key: \"{{{{ reviewers }}}}\", operator: AnyIn, value: [alice, bob]}}\n"
        ),
    )
    .expect("gates");
    let now =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).expect("now");
    let sbom = |version: &str| {
        json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": {"timestamp": now},
            "components": [{"type": "library", "name": "demo-lib", "version": version,
                "purl": format!("pkg:npm/demo-lib@{version}"), "bom-ref": "demo"}]})
    };
    // The scan result of each SBOM, as `scan --attest` wraps it in the vuln predicate.
    let vuln = |version: &str, finished: &str| {
        let f = env.path(&format!("sbom-{version}.json"));
        std::fs::write(&f, sbom(version).to_string()).expect("w");
        let out = env.path(&format!("report-{version}.json"));
        let (code, _, err) = env.palisade(&[
            "scan",
            "sbom",
            f.to_str().expect("u"),
            "--db",
            db.to_str().expect("u"),
            "--format",
            "json",
            "-o",
            out.to_str().expect("u"),
        ]);
        assert_eq!(code, 0, "{err}");
        let result: Value =
            serde_json::from_str(&std::fs::read_to_string(&out).expect("report")).expect("json");
        json!({"scanner": {"uri": "pkg:generic/palisade", "result": result},
            "metadata": {"scanStartedOn": finished, "scanFinishedOn": finished}})
    };
    let attest = |image: &str, ty: &str, predicate: &Value, name: &str| {
        let f = env.path(name);
        std::fs::write(&f, predicate.to_string()).expect("w");
        let (code, _, err) =
            env.run("attest", image, &["--key", &key, "--type", ty, "--predicate", f.to_str().expect("u")]);
        assert_eq!(code, 0, "{err}");
    };
    let cache_s = cache.to_str().expect("u").to_string();
    let check = |image: &str| {
        env.palisade(&[
            "verify-attestation",
            image,
            "--insecure",
            "--policy",
            bundle.to_str().expect("u"),
            "--cache-dir",
            &cache_s,
        ])
    };
    let review_ok = json!({"approved": true, "reviewers": ["bob"]});

    // Everything passes: a clean scan, a clean SBOM, an approved review.
    let good = env.image("pred-good:v1");
    env.push_image("pred-good:v1", "pred good");
    attest(&good, "vuln", &vuln("2.4.0", &now), "v-good.json");
    attest(&good, "cyclonedx", &sbom("2.4.0"), "s-good.json");
    attest(&good, "https://acme.io/review/v1", &review_ok, "r-good.json");
    let (code, out, err) = check(&good);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("the policy's gates pass"), "{err}");

    // A scan result and an SBOM with the HIGH demo-lib 2.3.0, a review without approval: three denials,
    // each naming the gate or the condition.
    let bad = env.image("pred-bad:v1");
    env.push_image("pred-bad:v1", "pred bad");
    attest(&bad, "vuln", &vuln("2.3.0", &now), "v-bad.json");
    attest(&bad, "cyclonedx", &sbom("2.3.0"), "s-bad.json");
    attest(
        &bad,
        "https://acme.io/review/v1",
        &json!({"approved": false, "reviewers": ["mallory"]}),
        "r-bad.json",
    );
    let (code, out, err) = check(&bad);
    assert_eq!(code, 15, "{out}{err}");
    let vuln_uri = "https://cosign.sigstore.dev/attestation/vuln/v1";
    assert!(
        err.contains(&format!(
            "the {vuln_uri} attestation's predicate fails gate \"no-high\": vulnerabilities: "
        )),
        "{err}"
    );
    assert!(err.contains("CVE-2099-0001 (critical) in demo-lib 2.3.0"), "{err}");
    assert!(
        err.contains(
            "the https://cyclonedx.org/bom attestation's predicate fails gate \"no-high\": vulnerabilities: "
        ),
        "{err}"
    );
    assert!(
        err.contains("fails its conditions: condition all[0]: {{ approved }} Equals true (key is false)"),
        "{err}"
    );
    assert!(
        err.contains("all[1]: {{ reviewers }} AnyIn [\"alice\",\"bob\"] (key is [\"mallory\"])"),
        "{err}"
    );
    let decisions: Value = serde_json::from_str(&out).expect("decisions JSON");
    assert_eq!(decisions.as_array().map(Vec::len), Some(3), "{out}");

    // The CI gate gives the same three decisions for the same digest.
    let report = env.path("ci.json");
    let (code, _, err) = env.palisade(&[
        "scan",
        "image",
        &bad,
        "--insecure",
        "--scanners",
        "package",
        "--format",
        "json",
        "-o",
        report.to_str().expect("u"),
        "--policy",
        bundle.to_str().expect("u"),
        "--cache-dir",
        &cache_s,
    ]);
    assert_eq!(code, 1, "{err}");
    let ci: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    let ci_msgs: Vec<&str> = ci["policy"]["decisions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["message"].as_str())
        .collect();
    let cli_msgs: Vec<&str> =
        decisions.as_array().into_iter().flatten().filter_map(|d| d["message"].as_str()).collect();
    assert_eq!(ci_msgs, cli_msgs);

    // A clean scan finished two days ago: too old for maxAge 1d.
    let old = env.image("pred-old:v1");
    env.push_image("pred-old:v1", "pred old");
    attest(&old, "vuln", &vuln("2.4.0", "2020-01-01T00:00:00Z"), "v-old.json");
    attest(&old, "cyclonedx", &sbom("2.4.0"), "s-old.json");
    attest(&old, "https://acme.io/review/v1", &review_ok, "r-old.json");
    let (code, out, err) = check(&old);
    assert_eq!(code, 15, "{out}{err}");
    assert!(
        err.contains(&format!("the {vuln_uri} attestation was made"))
            && err.contains("older than the 1d0h allowed"),
        "{err}"
    );
    assert_eq!(serde_json::from_str::<Value>(&out).expect("json").as_array().map(Vec::len), Some(1), "{out}");

    // An image no gate selects: nothing verified is not a pass.
    let outside = env.image("elsewhere:v1");
    env.push_image("elsewhere:v1", "outside every scope");
    let (code, _, err) = check(&outside);
    assert_eq!(code, 10, "{err}");
    assert!(err.contains("nothing was verified"), "{err}");

    // Without a vulnerability DB the SBOM cannot be judged: refused, never passed.
    let (code, _, err) = env.palisade(&[
        "verify-attestation",
        &good,
        "--insecure",
        "--policy",
        bundle.to_str().expect("u"),
        "--cache-dir",
        env.path("empty-cache").to_str().expect("u"),
    ]);
    assert_eq!(code, 15, "{err}");
    assert!(
        err.contains(
            "gate \"no-high\" cannot judge it: its packages could not be matched: no vulnerability DB"
        ),
        "{err}"
    );

    // A gate naming a gate that is not in the bundle does not load.
    let broken = env.path("broken-bundle");
    std::fs::create_dir_all(broken.join("keys")).expect("mkdir");
    std::fs::copy(env.path("ci.pub"), broken.join("keys/ci.pub")).expect("copy key");
    std::fs::write(
        broken.join("g.yaml"),
        "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {name: b}\nspec:\n  signatures:\n    keys: [keys/ci.pub]\n    attestations: [{type: vuln, gate: missing}]\n",
    )
    .expect("w");
    let (code, _, err) =
        env.palisade(&["verify-attestation", &good, "--insecure", "--policy", broken.to_str().expect("u")]);
    assert_eq!(code, 15, "{err}");
    assert!(err.contains("gate \"missing\" is not in the bundle"), "{err}");
}

/// A Kyverno `verifyImages` rule (key attestor, a vuln attestation with a condition, verifyDigest) checked by
/// `palisade policy eval` on Pods: signed passes, unsigned, tag-only and failing conditions are denied.
#[test]
fn kyverno_verify_images_rule_on_pods() {
    let Some(env) = Env::new() else { return };
    let key = env.key("ci", "key");
    let pem = std::fs::read_to_string(env.path("ci.pub")).expect("pub");
    let indented: String = pem.lines().map(|l| format!("{:22}{l}\n", "")).collect();
    let bundle = env.path("kyverno");
    std::fs::create_dir_all(&bundle).expect("mkdir");
    std::fs::write(
        bundle.join("verify.yaml"),
        format!(
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: check-images}}\nspec:\n  validationFailureAction: Enforce\n  rules:\n    - name: signed-and-scanned\n      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n      verifyImages:\n        - imageReferences: [\"127.0.0.1:{port}/k*\"]\n          attestors:\n            - entries:\n                - keys:\n                    publicKeys: |-\n{indented}          attestations:\n            - type: https://cosign.sigstore.dev/attestation/vuln/v1\n              conditions:\n                - all:\n                    - key: \"{{{{ scanner.result.count }}}}\"\n                      operator: LessThan\n                      value: 5\n",
            port = env.reg.port
        ),
    )
    .expect("policy");
    let pod = |name: &str, image: &str| {
        let p = env.path(&format!("{name}.yaml"));
        std::fs::write(&p, format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n    - name: c\n      image: {image}\n")).expect("pod");
        p
    };
    let eval = |file: &Path| {
        let (code, out, err) = env.palisade(&[
            "policy",
            "eval",
            "--bundle",
            bundle.to_str().expect("utf8"),
            file.to_str().expect("utf8"),
            "--format",
            "json",
        ]);
        (code, format!("{out}{err}"))
    };
    let good = env.push_image("kgood:v1", "kyverno good");
    let pinned = format!("{}@{good}", env.image("kgood"));
    assert_eq!(env.run("sign", &pinned, &["--key", &key]).0, 0);
    let few = env.path("few.json");
    std::fs::write(&few, r#"{"scanner":{"result":{"count":1}}}"#).expect("w");
    let many = env.path("many.json");
    std::fs::write(&many, r#"{"scanner":{"result":{"count":9}}}"#).expect("w");
    assert_eq!(
        env.run(
            "attest",
            &pinned,
            &["--key", &key, "--type", "vuln", "--predicate", few.to_str().expect("u")]
        )
        .0,
        0
    );
    let (code, out) = eval(&pod("good", &pinned));
    assert_eq!(code, 0, "{out}");

    // Unsigned.
    let bad = env.push_image("kbad:v1", "kyverno unsigned");
    let (code, out) = eval(&pod("unsigned", &format!("{}@{bad}", env.image("kbad"))));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no signature found"), "{out}");
    // By tag: verifyDigest (the default) refuses it before any registry call.
    let (code, out) = eval(&pod("tagged", &env.image("kgood:v1")));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not given by digest"), "{out}");
    // Signed, but the attested scan found too much: the condition fails.
    let cond = env.push_image("kcond:v1", "kyverno condition");
    let cpinned = format!("{}@{cond}", env.image("kcond"));
    assert_eq!(env.run("sign", &cpinned, &["--key", &key]).0, 0);
    assert_eq!(
        env.run(
            "attest",
            &cpinned,
            &["--key", &key, "--type", "vuln", "--predicate", many.to_str().expect("u")]
        )
        .0,
        0
    );
    let (code, out) = eval(&pod("cond", &cpinned));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("attestation https://cosign.sigstore.dev/attestation/vuln/v1"), "{out}");
    // The failing condition is named, with the value its key had (the same check as a gate's conditions).
    assert!(out.contains("all[0]: {{ scanner.result.count }} LessThan 5 (key is 9)"), "{out}");
    // Images outside imageReferences are not checked.
    let (code, out) = eval(&pod("other", "docker.io/library/alpine:3.19"));
    assert_eq!(code, 0, "{out}");
}

/// The keyless flags for the sigstore-js signer of support/sigstore_mock.rs, with `identity`.
fn keyless_flags<'a>(root: &'a str, identity: &'a str) -> Vec<&'a str> {
    vec![
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        support::sigstore_mock::ISSUER,
        "--trusted-root",
        root,
    ]
}

/// A PEM certificate from a bundle's base64 DER.
fn pem_cert(b64_der: &str) -> String {
    let lines: Vec<&str> =
        b64_der.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("ascii")).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

#[test]
fn keyless_image_signatures_from_sigstore_js_in_both_formats() {
    use support::sigstore_mock::{self, SUBJECT, case};
    let Some(env) = Env::new() else { return };
    let Some(nm) = sigstore_mock::node_modules() else { return };
    let tag_image = env.image("kl-tag:v1");
    let tag_digest = env.push_image("kl-tag:v1", "keyless-tag");
    let ref_image = env.image("kl-ref:v1");
    let ref_digest = env.push_image("kl-ref:v1", "keyless-referrers");
    let repo = |image: &str| image.rsplit_once(':').expect("tag").0.to_string();
    // What cosign signs for each format: the simple-signing payload (tag scheme), an in-toto statement
    // with the sign predicate (bundle), and a provenance attestation.
    let payload =
        palisade_signing::payload::SimpleSigning::new(&repo(&tag_image), &tag_digest, None).to_bytes();
    std::fs::write(env.path("payload.json"), &payload).expect("write");
    let statement = |ptype: &str| {
        json!({"_type": "https://in-toto.io/Statement/v1",
               "subject": [{"name": repo(&ref_image), "digest": {"sha256": ref_digest.trim_start_matches("sha256:")}}],
               "predicateType": ptype, "predicate": {"builder": "ci"}})
        .to_string()
    };
    std::fs::write(env.path("sign.json"), statement(palisade_signing::bundle::SIGN_PREDICATE_TYPE))
        .expect("write");
    std::fs::write(env.path("prov.json"), statement("https://slsa.dev/provenance/v1")).expect("write");
    let out = env.path("mock");
    sigstore_mock::sign(
        &nm,
        &[
            case("sig", "blob", &env.path("payload.json")),
            case("sign", "dsse", &env.path("sign.json")),
            case("prov", "dsse", &env.path("prov.json")),
        ],
        &out,
    );
    let root = out.join("trusted_root.json").display().to_string();
    let bundle = |name: &str| -> Value {
        serde_json::from_slice(&std::fs::read(out.join(format!("{name}.bundle.json"))).expect("bundle"))
            .expect("json")
    };

    // Tag scheme, as cosign v2 stores a keyless signature: certificate, chain and Rekor bundle annotations.
    let b = bundle("sig");
    let e = &b["verificationMaterial"]["tlogEntries"][0];
    let log_id = {
        use base64::Engine as _;
        hex::encode(
            base64::engine::general_purpose::STANDARD
                .decode(e["logId"]["keyId"].as_str().expect("id"))
                .expect("b64"),
        )
    };
    let rekor = json!({
        "SignedEntryTimestamp": e["inclusionPromise"]["signedEntryTimestamp"],
        "Payload": {"body": e["canonicalizedBody"], "integratedTime": e["integratedTime"].as_str().expect("t").parse::<i64>().expect("int"),
                    "logIndex": e["logIndex"].as_str().expect("i").parse::<i64>().expect("int"), "logID": log_id}
    });
    let cert = pem_cert(
        b["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"]
            .as_str()
            .expect("cert"),
    );
    let config = br#"{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let manifest = json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": sha(config)},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "size": payload.len(), "digest": sha(&payload),
                    "annotations": {"dev.cosignproject.cosign/signature": b["messageSignature"]["signature"],
                                    "dev.sigstore.cosign/certificate": cert, "dev.sigstore.cosign/chain": "",
                                    "dev.sigstore.cosign/bundle": rekor.to_string()}}],
    });
    put_sig_manifest(&env, "kl-tag", &tag_digest, &[config, &payload], &manifest);
    let (code, out_json, err) = env.run("verify", &tag_image, &keyless_flags(&root, SUBJECT));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("signed by {SUBJECT}")) && err.contains("tag sha256-"), "{err}");
    assert!(out_json.contains(&tag_digest), "{out_json}");
    let (code, _, err) = env.run("verify", &tag_image, &keyless_flags(&root, "someone@else.example"));
    assert_eq!(code, 16, "{err}");
    assert!(err.contains("signed by another identity") && err.contains("tag sha256-"), "{err}");
    // Key-based verification of a keyless signature: another key (no hint).
    let (code, _, err) = env.run("verify", &tag_image, &["--key", &env.key("ci", "pub")]);
    assert_eq!(code, 12, "{err}");

    // OCI referrers with the Sigstore bundles (cosign v3): the image signature and an attestation.
    let client = env.client(&ref_image);
    let subject = palisade_signing::store::resolve(&client, &ref_image).expect("resolve");
    for (name, ptype) in
        [("sign", palisade_signing::bundle::SIGN_PREDICATE_TYPE), ("prov", "https://slsa.dev/provenance/v1")]
    {
        let text = std::fs::read(out.join(format!("{name}.bundle.json"))).expect("bundle");
        let parsed = palisade_signing::bundle::Bundle::parse(&text).expect("parse");
        palisade_signing::store::write_bundle_referrer(&client, &subject, &parsed, ptype)
            .expect("push referrer");
    }
    let (code, _, err) = env.run("verify", &ref_image, &keyless_flags(&root, SUBJECT));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("Verified {}@{ref_digest}", repo(&ref_image)))
            && err.contains("referrer sha256:"),
        "{err}"
    );
    let mut flags = keyless_flags(&root, SUBJECT);
    flags.extend(["--type", "https://slsa.dev/provenance/v1"]);
    let (code, out_json, err) = env.run("verify-attestation", &ref_image, &flags);
    assert_eq!(code, 0, "{err}");
    assert!(out_json.contains("https://slsa.dev/provenance/v1"), "{out_json}");
    // Under another Sigstore deployment's root the log entry is unknown: refused as an unproven signature.
    let other_root = out.join("other_root.json").display().to_string();
    let (code, _, err) = env.run("verify", &ref_image, &keyless_flags(&other_root, SUBJECT));
    assert_eq!(code, 21, "{err}");
}

/// Push an image and sign it keylessly with sigstore-js as cosign v3 does (a bundle referrer holding a
/// DSSE sign statement); returns (image, digest, the mock's output directory).
fn keyless_signed_image(env: &Env, nm: &Path, repo_tag: &str) -> (String, String, PathBuf) {
    use support::sigstore_mock::{self, case};
    let image = env.image(repo_tag);
    let digest = env.push_image(repo_tag, repo_tag);
    let repo = image.rsplit_once(':').expect("tag").0.to_string();
    let st = env.path(&format!("{repo_tag}.statement.json").replace(':', "-"));
    std::fs::write(
        &st,
        json!({"_type": "https://in-toto.io/Statement/v1",
               "subject": [{"name": repo, "digest": {"sha256": digest.trim_start_matches("sha256:")}}],
               "predicateType": palisade_signing::bundle::SIGN_PREDICATE_TYPE, "predicate": {}})
        .to_string(),
    )
    .expect("write");
    let out = env.path(&format!("mock-{}", repo_tag.replace(':', "-")));
    sigstore_mock::sign(nm, &[case("sign", "dsse", &st)], &out);
    let client = env.client(&image);
    let subject = palisade_signing::store::resolve(&client, &image).expect("resolve");
    let parsed = palisade_signing::bundle::Bundle::parse(
        &std::fs::read(out.join("sign.bundle.json")).expect("bundle"),
    )
    .expect("parse");
    palisade_signing::store::write_bundle_referrer(
        &client,
        &subject,
        &parsed,
        palisade_signing::bundle::SIGN_PREDICATE_TYPE,
    )
    .expect("push referrer");
    (image, digest, out)
}

/// PEM of base64 DER with `label`.
fn pem(label: &str, b64_der: &str) -> String {
    let lines: Vec<&str> =
        b64_der.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).expect("ascii")).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// Keyless signers in the policy bundle: a gate's `identities` + `trustedRoot`, and a Kyverno keyless
/// attestor with the same trust as PEMs (roots, rekor.pubkey, ctlog.pubkey).
#[test]
fn keyless_gate_identities_and_kyverno_keyless_attestor() {
    use support::sigstore_mock::{self, ISSUER, SUBJECT};
    let Some(env) = Env::new() else { return };
    let Some(nm) = sigstore_mock::node_modules() else { return };
    let (image, digest, out) = keyless_signed_image(&env, &nm, "klgate:v1");
    let bundle = env.path("kl-bundle");
    std::fs::create_dir_all(&bundle).expect("mkdir");
    std::fs::copy(out.join("trusted_root.json"), bundle.join("root.json")).expect("copy root");
    let gate = |subject: &str| {
        std::fs::write(
            bundle.join("gates.yaml"),
            format!(
                "apiVersion: palisade.dev/v1\nkind: Gate\nmetadata: {{name: signed-by-ci}}\nspec:\n  scope: {{images: [\"127.0.0.1:{}/klgate*\"]}}\n  signatures:\n    identities: [{{subject: \"{subject}\", issuer: \"{ISSUER}\"}}]\n    trustedRoot: root.json\n    insecure: true\n",
                env.reg.port
            ),
        )
        .expect("gate");
    };
    let scan = || {
        env.palisade(&[
            "scan",
            "image",
            &image,
            "--insecure",
            "--scanners",
            "package",
            "--format",
            "json",
            "--policy",
            bundle.to_str().expect("utf8"),
        ])
    };
    gate(SUBJECT);
    let (code, out_text, err) = scan();
    assert_eq!(code, 0, "{out_text}{err}");
    gate("someone@else.example");
    let (code, out_text, err) = scan();
    assert_eq!(code, 1, "{err}");
    assert!(format!("{out_text}{err}").contains("signed by another identity"), "{out_text}{err}");
    std::fs::remove_file(bundle.join("gates.yaml")).expect("rm gate");

    // Kyverno: the same trust as PEM blocks.
    let root: Value =
        serde_json::from_slice(&std::fs::read(out.join("trusted_root.json")).expect("root")).expect("json");
    let roots = pem(
        "CERTIFICATE",
        root["certificateAuthorities"][0]["certChain"]["certificates"][0]["rawBytes"].as_str().expect("ca"),
    );
    let rekor = pem("PUBLIC KEY", root["tlogs"][0]["publicKey"]["rawBytes"].as_str().expect("tlog"));
    let ctlog = pem("PUBLIC KEY", root["ctlogs"][0]["publicKey"]["rawBytes"].as_str().expect("ctlog"));
    // JSON is YAML: the PEM blocks need no indentation games.
    let kyverno = |subject: &str| {
        let policy = json!({
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "keyless"},
            "spec": {"validationFailureAction": "Enforce", "rules": [{
                "name": "keyless", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "verifyImages": [{
                    "imageReferences": [format!("127.0.0.1:{}/klgate*", env.reg.port)],
                    "attestors": [{"entries": [{"keyless": {
                        "subject": subject, "issuer": ISSUER, "roots": roots,
                        "rekor": {"pubkey": rekor}, "ctlog": {"pubkey": ctlog}}}]}]
                }]
            }]}
        });
        std::fs::write(bundle.join("verify.yaml"), policy.to_string()).expect("policy");
    };
    let pod = env.path("klpod.yaml");
    std::fs::write(&pod, format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n    - name: c\n      image: {}@{digest}\n", image.rsplit_once(':').expect("tag").0)).expect("pod");
    let eval = || {
        let (code, o, e) = env.palisade(&[
            "policy",
            "eval",
            "--bundle",
            bundle.to_str().expect("utf8"),
            pod.to_str().expect("utf8"),
            "--format",
            "json",
        ]);
        (code, format!("{o}{e}"))
    };
    kyverno(SUBJECT);
    let (code, text) = eval();
    assert_eq!(code, 0, "{text}");
    kyverno("someone@else.example");
    let (code, text) = eval();
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("signed by another identity"), "{text}");
}

/// The Sigstore bundles attached to `digest` as referrers, in index order (through the referrers index tag:
/// docker-registry 2.8 has no referrers API).
fn referrer_bundles(env: &Env, image: &str, digest: &str) -> Vec<Vec<u8>> {
    let client = env.client(image);
    let repo = image.rsplit_once(':').expect("tag").0;
    let index_tag = format!("{repo}:{}", digest.replace(':', "-"));
    let index = client.manifest(&parse_reference(&index_tag).expect("ref")).expect("get").expect("index");
    let index: Value = serde_json::from_slice(&index.bytes).expect("json");
    let mut out = Vec::new();
    for r in index["manifests"].as_array().into_iter().flatten() {
        let by_digest = format!("{repo}@{}", r["digest"].as_str().expect("referrer"));
        let m = client.manifest(&parse_reference(&by_digest).expect("ref")).expect("get").expect("manifest");
        let m: Value = serde_json::from_slice(&m.bytes).expect("json");
        let layer = m["layers"][0]["digest"].as_str().expect("layer");
        out.push(client.blob(&parse_reference(&by_digest).expect("ref"), layer).expect("blob"));
    }
    out
}

/// Keyless signing by Palisade against `@sigstore/mock` served over HTTP: `sign` and `attest` with an OIDC
/// token (a file, stdin, `$SIGSTORE_ID_TOKEN`) get a Fulcio certificate, a Rekor entry and a timestamp;
/// the bundles verify with Palisade's offline keyless verifier under the mock's trusted root and with
/// sigstore-js' verifier; another identity, another issuer and another root are refused.
#[test]
fn keyless_signing_against_sigstore_mock() {
    use support::sigstore_mock::{ISSUER, MockServices, SUBJECT, token};
    let Some(env) = Env::new() else { return };
    let Some(nm) = support::sigstore_mock::node_modules() else { return };
    let mock = MockServices::start(&nm, &env.path("mock"));
    let root = mock.trusted_root.display().to_string();
    let token_file = env.path("token.jwt");
    std::fs::write(&token_file, token(SUBJECT, ISSUER)).expect("token");
    let image = env.image("keyless-sign:v1");
    let digest = env.push_image("keyless-sign:v1", "keyless sign");
    let services = ["--fulcio-url", &mock.url, "--rekor-url", &mock.url, "--tsa-url", &mock.url];
    let mut args = vec!["--identity-token", token_file.to_str().expect("u")];
    args.extend_from_slice(&services);
    let started = Instant::now();
    let (code, out, err) = env.run("sign", &image, &args);
    let took = started.elapsed();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("{}@{digest}", env.image("keyless-sign")));
    assert!(err.contains(&format!("keylessly as {SUBJECT} (issuer {ISSUER})")), "{err}");
    eprintln!("keyless sign (Fulcio + Rekor + TSA over HTTP, registry push): {took:?}");

    // cosign v2's tag scheme: the `.sig` layer with the certificate, chain and Rekor SET annotations.
    let tagged = env.image("keyless-tag:v1");
    env.push_image("keyless-tag:v1", "keyless tag");
    let mut targs = args.clone();
    targs.extend_from_slice(&["--format", "tag"]);
    let (code, _, err) = env.run("sign", &tagged, &targs);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = env.run(
        "verify",
        &tagged,
        &["--certificate-identity", SUBJECT, "--certificate-oidc-issuer", ISSUER, "--trusted-root", &root],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(".sig layer 0"), "{err}");
    let (code, _, err) = env.run(
        "verify",
        &tagged,
        &[
            "--certificate-identity",
            "mallory@evil.example",
            "--certificate-oidc-issuer",
            ISSUER,
            "--trusted-root",
            &root,
        ],
    );
    assert_eq!(code, 16, "{err}");

    // Attest: the token from stdin, then from $SIGSTORE_ID_TOKEN.
    let predicate = env.path("prov.json");
    std::fs::write(&predicate, json!({"buildType": "https://acme.io/ci@v1"}).to_string()).expect("w");
    let attest = |token_arg: Option<&str>, stdin: &str, env_token: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
        cmd.args(["attest", &image, "--insecure", "--type", "slsaprovenance1", "--predicate"])
            .arg(&predicate)
            .args(services)
            .env("DOCKER_CONFIG", env.dir.path())
            .env_remove("SIGSTORE_ID_TOKEN")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(t) = token_arg {
            cmd.args(["--identity-token", t]);
        }
        if let Some(t) = env_token {
            cmd.env("SIGSTORE_ID_TOKEN", t);
        }
        let mut child = cmd.spawn().expect("palisade");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), stdin.as_bytes()).expect("stdin");
        let o = child.wait_with_output().expect("wait");
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (code, err) = attest(Some("-"), &token(SUBJECT, ISSUER), None);
    assert_eq!(code, 0, "{err}");
    let (code, err) = attest(None, "", Some(&token(SUBJECT, ISSUER)));
    assert_eq!(code, 0, "{err}");
    // Neither a key nor a token: a clear usage error; a token that is not a JWT: named.
    let (code, err) = attest(None, "", None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--identity-token"), "{err}");
    let (code, err) = attest(Some("-"), "not-a-jwt", None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("identity token: not a JWT"), "{err}");

    // Palisade's offline keyless verifier, with the mock's root.
    let who =
        ["--certificate-identity", SUBJECT, "--certificate-oidc-issuer", ISSUER, "--trusted-root", &root];
    let (code, _, err) = env.run("verify", &image, &who);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(SUBJECT), "{err}");
    let mut att = who.to_vec();
    att.extend_from_slice(&["--type", "slsaprovenance1"]);
    let (code, out, err) = env.run("verify-attestation", &image, &att);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("https://acme.io/ci@v1"), "{out}");
    let (code, _, err) = env.run(
        "verify",
        &image,
        &[
            "--certificate-identity",
            "mallory@evil.example",
            "--certificate-oidc-issuer",
            ISSUER,
            "--trusted-root",
            &root,
        ],
    );
    assert_eq!(code, 16, "{err}");
    let (code, _, err) = env.run(
        "verify",
        &image,
        &[
            "--certificate-identity",
            SUBJECT,
            "--certificate-oidc-issuer",
            "https://accounts.google.com",
            "--trusted-root",
            &root,
        ],
    );
    assert_eq!(code, 17, "{err}");
    // Another deployment's root (a second mock): its log does not know the entry (checked before the chain).
    let other = MockServices::start(&nm, &env.path("other-mock"));
    let other_root = other.trusted_root.display().to_string();
    let (code, _, err) = env.run(
        "verify",
        &image,
        &[
            "--certificate-identity",
            SUBJECT,
            "--certificate-oidc-issuer",
            ISSUER,
            "--trusted-root",
            &other_root,
        ],
    );
    assert_eq!(code, 21, "{err}");
    assert!(err.contains("which the trusted root does not list"), "{err}");

    // sigstore-js' verifier: every bundle (the signature and both attestations), log entry and SCT required.
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigstore-mock/verify-keyless-bundle.js");
    let bundles = referrer_bundles(&env, &image, &digest);
    assert_eq!(bundles.len(), 3);
    for (i, b) in bundles.iter().enumerate() {
        let path = env.path(&format!("keyless-{i}.bundle.json"));
        std::fs::write(&path, b).expect("write");
        let v: Value = serde_json::from_slice(b).expect("bundle JSON");
        assert!(v["verificationMaterial"]["certificate"]["rawBytes"].is_string(), "{v}");
        assert!(
            v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"]
                .is_string()
        );
        assert!(v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0].is_object());
        let run = |root: &str| {
            Command::new("node")
                .arg(&script)
                .args([path.to_str().expect("u"), root, SUBJECT, ISSUER])
                .env("NODE_PATH", &nm)
                .output()
                .expect("node")
        };
        let ok = run(&root);
        assert!(
            ok.status.success(),
            "bundle {i}: {}{}",
            String::from_utf8_lossy(&ok.stdout),
            String::from_utf8_lossy(&ok.stderr)
        );
        assert!(!run(&other_root).status.success(), "bundle {i}: another root must be refused");
    }
}

/// sigstore-python (`sigstore` 4.x from PyPI) against the same mock services, with `--trust-config` pinning
/// the mock's root and services: Palisade's keyless image bundle verifies with `sigstore verify identity`
/// (the "file" is the image manifest, whose SHA-256 the statement names), and blobs and DSSE attestations
/// sigstore-python signs verify with `palisade verify-blob`. Skips without node or sigstore-python.
#[test]
fn sigstore_python_interop() {
    use support::sigstore_mock::{ISSUER, MockServices, SUBJECT, py_sigstore, token};
    let Some(env) = Env::new() else { return };
    let Some(nm) = support::sigstore_mock::node_modules() else { return };
    let Some(py) = py_sigstore() else { return };
    let mock = MockServices::start(&nm, &env.path("mock"));
    let root = mock.trusted_root.display().to_string();
    let config = env.path("mock/trust_config.json");
    let python = |args: &[&str]| {
        let o = Command::new(&py)
            .arg("--trust-config")
            .arg(&config)
            .args(args)
            .current_dir(env.path(""))
            .output()
            .expect("sigstore-python");
        (
            o.status.success(),
            format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
        )
    };

    // Palisade signs keylessly; sigstore-python verifies the bundle over the manifest bytes.
    let image = env.image("py:v1");
    let digest = env.push_image("py:v1", "for sigstore-python");
    let token_file = env.path("token.jwt");
    std::fs::write(&token_file, token(SUBJECT, ISSUER)).expect("token");
    let (code, _, err) = env.run(
        "sign",
        &image,
        &[
            "--identity-token",
            token_file.to_str().expect("u"),
            "--fulcio-url",
            &mock.url,
            "--rekor-url",
            &mock.url,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let bundle = env.path("palisade-image.sigstore.json");
    std::fs::write(&bundle, referrer_bundles(&env, &image, &digest).remove(0)).expect("write");
    let by_digest = format!("{}@{digest}", env.image("py"));
    let manifest = env
        .client(&image)
        .manifest(&parse_reference(&by_digest).expect("ref"))
        .expect("get")
        .expect("manifest");
    let manifest_file = env.path("manifest.json");
    std::fs::write(&manifest_file, &manifest.bytes).expect("write");
    let verify = |file: &Path, bundle: &Path, identity: &str| {
        python(&[
            "verify",
            "identity",
            file.to_str().expect("u"),
            "--bundle",
            bundle.to_str().expect("u"),
            "--cert-identity",
            identity,
            "--cert-oidc-issuer",
            ISSUER,
        ])
    };
    let (ok, out) = verify(&manifest_file, &bundle, SUBJECT);
    assert!(ok, "sigstore-python refused Palisade's bundle: {out}");
    let (ok, _) = verify(&manifest_file, &bundle, "mallory@evil.example");
    assert!(!ok, "another identity must be refused");

    // sigstore-python signs a blob (hashedrekord) and attests it (DSSE); Palisade verifies both.
    let blob = env.path("artifact.txt");
    std::fs::write(&blob, "made by sigstore-python\n").expect("w");
    let tok = token(SUBJECT, ISSUER);
    let blob_bundle = env.path("artifact.sig.json");
    let (ok, out) = python(&[
        "sign",
        "--identity-token",
        &tok,
        "--bundle",
        blob_bundle.to_str().expect("u"),
        blob.to_str().expect("u"),
    ]);
    assert!(ok, "{out}");
    let predicate = env.path("slsa.json");
    std::fs::write(
        &predicate,
        json!({"buildDefinition": {"buildType": "https://acme.io/ci@v1", "externalParameters": {}}, "runDetails": {"builder": {"id": "https://acme.io/ci"}}}).to_string(),
    )
    .expect("w");
    let att_bundle = env.path("artifact.att.json");
    let (ok, out) = python(&[
        "attest",
        "--identity-token",
        &tok,
        "--predicate",
        predicate.to_str().expect("u"),
        "--predicate-type",
        "https://slsa.dev/provenance/v1",
        "--bundle",
        att_bundle.to_str().expect("u"),
        blob.to_str().expect("u"),
    ]);
    assert!(ok, "{out}");
    for b in [&blob_bundle, &att_bundle] {
        for (identity, want) in [(SUBJECT, 0), ("mallory@evil.example", 16)] {
            let (code, _, err) = env.palisade(&[
                "verify-blob",
                blob.to_str().expect("u"),
                "--bundle",
                b.to_str().expect("u"),
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                ISSUER,
                "--trusted-root",
                &root,
            ]);
            assert_eq!(code, want, "{}: {err}", b.display());
        }
    }
}

/// The other direction: a bundle Palisade writes (key-signed image signature, as a referrer) verifies with
/// sigstore-js' verifier given the public key; with another key it is refused.
#[test]
fn palisade_key_bundles_verify_with_sigstore_js() {
    let Some(env) = Env::new() else { return };
    let Some(nm) = support::sigstore_mock::node_modules() else { return };
    let image = env.image("tojs:v1");
    let digest = env.push_image("tojs:v1", "to sigstore-js");
    assert_eq!(env.run("sign", &image, &["--key", &env.key("ci", "key")]).0, 0);
    // Fetch the bundle through the referrers index tag (docker-registry 2.8 has no referrers API).
    let path = env.path("palisade.bundle.json");
    std::fs::write(&path, referrer_bundles(&env, &image, &digest).remove(0)).expect("write");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigstore-mock/verify-key-bundle.js");
    let run = |key: &str| {
        Command::new("node")
            .arg(&script)
            .arg(&path)
            .arg(env.key(key, "pub"))
            .env("NODE_PATH", &nm)
            .output()
            .expect("node")
    };
    let ok = run("ci");
    assert!(
        ok.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    let other = run("other");
    assert!(!other.status.success(), "another key must be refused");
}
