//! Keyless verification against an independent implementation, offline: sigstore-js signs files with
//! certificates from `@sigstore/mock`'s Fulcio, logs them in its Rekor or timestamps them with its TSA
//! (support/sigstore_mock.rs), and `palisade verify-blob` checks the bundles with the mock's trusted root
//! pinned. Each refusal has its own exit code and message. Skips without node/npm.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::sigstore_mock::{self, ISSUER, SUBJECT, case};

fn palisade(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade")).args(args).output().expect("run palisade");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn p(path: &Path) -> &str {
    path.to_str().expect("utf8 path")
}

/// `verify-blob FILE --bundle B --certificate-identity SUBJECT --certificate-oidc-issuer ISSUER
/// --trusted-root ROOT` plus `extra` (later flags override nothing: give the full set when changing one).
fn verify_blob(
    file: &Path,
    bundle: &Path,
    root: &Path,
    identity: &str,
    issuer: &str,
) -> (i32, String, String) {
    palisade(&[
        "verify-blob",
        p(file),
        "--bundle",
        p(bundle),
        "--certificate-identity",
        identity,
        "--certificate-oidc-issuer",
        issuer,
        "--trusted-root",
        p(root),
    ])
}

struct Signed {
    dir: tempfile::TempDir,
}

impl Signed {
    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
    fn bundle(&self, name: &str) -> std::path::PathBuf {
        self.path(&format!("out/{name}.bundle.json"))
    }
    fn root(&self) -> std::path::PathBuf {
        self.path("out/trusted_root.json")
    }
}

/// Sign `artifact.txt` (and an in-toto statement about it) in the given cases.
fn sign(extra: impl Fn(&Path) -> Vec<Value>) -> Option<Signed> {
    let nm = sigstore_mock::node_modules()?;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("artifact.txt");
    std::fs::write(&file, b"release 1.4 of app\n").expect("write");
    let sha = sha256_hex(b"release 1.4 of app\n");
    let st = dir.path().join("statement.json");
    std::fs::write(
        &st,
        format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"artifact.txt","digest":{{"sha256":"{sha}"}}}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{{"builder":"ci"}}}}"#
        ),
    )
    .expect("write");
    let cases = extra(dir.path());
    sigstore_mock::sign(&nm, &cases, &dir.path().join("out"));
    Some(Signed { dir })
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

#[test]
fn sigstore_js_bundles_verify_offline() {
    let Some(s) = sign(|d| {
        let mut tsa = case("tsa", "blob", &d.join("artifact.txt"));
        tsa["tlog"] = false.into();
        tsa["tsa"] = true.into();
        vec![
            case("rekor", "blob", &d.join("artifact.txt")),
            tsa,
            case("dsse", "dsse", &d.join("statement.json")),
        ]
    }) else {
        return;
    };
    let file = s.path("artifact.txt");
    // Message signature, logged in Rekor (checkpoint-signed inclusion proof and SET); CA key P-384.
    let (code, _, err) = verify_blob(&file, &s.bundle("rekor"), &s.root(), SUBJECT, ISSUER);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("signed by {SUBJECT} (issuer {ISSUER}), transparency-log entry")), "{err}");
    // Timestamped by the TSA instead of a log entry.
    let (code, _, err) = verify_blob(&file, &s.bundle("tsa"), &s.root(), SUBJECT, ISSUER);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("timestamp by https://tsa.mock.test"), "{err}");
    // A DSSE in-toto statement about the file: the statement is printed.
    let (code, out, err) = verify_blob(&file, &s.bundle("dsse"), &s.root(), SUBJECT, ISSUER);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("https://slsa.dev/provenance/v1"), "{out}");
    // The identity as a regular expression.
    let (code, _, err) = palisade(&[
        "verify-blob",
        p(&file),
        "--bundle",
        p(&s.bundle("rekor")),
        "--certificate-identity-regexp",
        "^https://github.com/acme/",
        "--certificate-oidc-issuer",
        ISSUER,
        "--trusted-root",
        p(&s.root()),
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn each_keyless_failure_has_its_own_exit_code() {
    let Some(s) = sign(|d| {
        let f = d.join("artifact.txt");
        let mut expired = case("expired", "blob", &f);
        expired["expired"] = true.into();
        let mut other = case("other-ca", "blob", &f);
        other["ca"] = "other".into();
        let mut unlogged = case("unlogged", "blob", &f);
        unlogged["tlog"] = false.into();
        vec![
            case("good", "blob", &f),
            case("dsse", "dsse", &d.join("statement.json")),
            expired,
            other,
            unlogged,
        ]
    }) else {
        return;
    };
    let file = s.path("artifact.txt");
    let root = s.root();
    let check = |code_want: i32, (code, _, err): (i32, String, String), text: &str| {
        assert_eq!(code, code_want, "{err}");
        assert!(err.contains(text), "expected {text:?} in: {err}");
    };
    check(
        16,
        verify_blob(&file, &s.bundle("good"), &root, "mallory@evil.example", ISSUER),
        "signed by another identity: the certificate was issued to https://github.com/acme/",
    );
    check(
        17,
        verify_blob(&file, &s.bundle("good"), &root, SUBJECT, "https://accounts.google.com"),
        "identity from another OIDC issuer: the certificate's OIDC issuer is https://token.actions.githubusercontent.com, not https://accounts.google.com",
    );
    check(
        18,
        verify_blob(&file, &s.bundle("other-ca"), &root, SUBJECT, ISSUER),
        "untrusted certificate: the signing certificate (issuer O=sigstore.mock,CN=sigstore) does not chain to a certificate authority of the trusted root",
    );
    check(
        19,
        verify_blob(&file, &s.bundle("expired"), &root, SUBJECT, ISSUER),
        "certificate not valid at signing time: signed at",
    );
    check(
        21,
        verify_blob(&file, &s.bundle("unlogged"), &root, SUBJECT, ISSUER),
        "missing or bad transparency-log proof: no transparency-log entry and no signed timestamp",
    );
    // Everything from another Sigstore deployment: its log is unknown to our root.
    check(
        21,
        verify_blob(&file, &s.bundle("good"), &s.path("out/other_root.json"), SUBJECT, ISSUER),
        "which the trusted root does not list",
    );
    // A trusted root without the CT log: the SCT cannot verify.
    let mut no_ct: Value = serde_json::from_slice(&std::fs::read(&root).expect("root")).expect("json");
    no_ct["ctlogs"] = Value::Array(Vec::new());
    let no_ct_path = s.path("no-ct-root.json");
    std::fs::write(&no_ct_path, no_ct.to_string()).expect("write");
    check(
        20,
        verify_blob(&file, &s.bundle("good"), &no_ct_path, SUBJECT, ISSUER),
        "bad certificate-transparency proof: SCT from unknown CT log",
    );
    // A modified file: the bundle's digest names another one.
    let other_file = s.path("modified.txt");
    std::fs::write(&other_file, b"release 1.5 of app\n").expect("write");
    check(
        13,
        verify_blob(&other_file, &s.bundle("good"), &root, SUBJECT, ISSUER),
        "the signature is valid but names digest sha256:",
    );
    // A tampered DSSE payload: the signature no longer verifies with the certificate's key.
    let mut b: Value =
        serde_json::from_slice(&std::fs::read(s.bundle("dsse")).expect("bundle")).expect("json");
    let payload = b["dsseEnvelope"]["payload"].as_str().expect("payload").to_string();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let body =
        String::from_utf8(b64.decode(&payload).expect("b64")).expect("utf8").replace("\"ci\"", "\"evil\"");
    b["dsseEnvelope"]["payload"] = b64.encode(body).into();
    let tampered = s.path("tampered.bundle.json");
    std::fs::write(&tampered, b.to_string()).expect("write");
    check(
        11,
        verify_blob(&file, &tampered, &root, SUBJECT, ISSUER),
        "the signature does not verify with the key of the certificate issued to",
    );
    // A log entry for another signature spliced into the bundle.
    let mut good: Value =
        serde_json::from_slice(&std::fs::read(s.bundle("good")).expect("bundle")).expect("json");
    let dsse: Value =
        serde_json::from_slice(&std::fs::read(s.bundle("dsse")).expect("bundle")).expect("json");
    good["verificationMaterial"]["tlogEntries"] = dsse["verificationMaterial"]["tlogEntries"].clone();
    let spliced = s.path("spliced.bundle.json");
    std::fs::write(&spliced, good.to_string()).expect("write");
    check(
        21,
        verify_blob(&file, &spliced, &root, SUBJECT, ISSUER),
        "records another signature than this one",
    );
    // Garbage: a clear error naming the part.
    std::fs::write(s.path("garbage.json"), b"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":{\"certificate\":{\"rawBytes\":\"AAAA\"}},\"messageSignature\":{\"signature\":\"AAAA\"}}").expect("write");
    check(
        14,
        verify_blob(&file, &s.path("garbage.json"), &root, SUBJECT, ISSUER),
        "signing certificate: not DER X.509",
    );
    // A root file that is not one.
    let (code, _, err) = verify_blob(&file, &s.bundle("good"), &file, SUBJECT, ISSUER);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("artifact.txt: trusted root JSON"), "{err}");
}

/// Rekor v2 entries (hashedrekord and dsse v0.0.2: no SET, no integrated time, an inclusion proof to a
/// checkpoint signed by the log's Ed25519 key), built in the test by `fixtures/sigstore-mock/rekor-v2.js` with the mock's
/// CA, log and timestamp authority: with a timestamp they verify (the time is the timestamp's); without one
/// nothing establishes the signing time (21); a forged checkpoint and an entry for another signature are
/// refused (21).
#[test]
fn rekor_v2_entries_verify_with_checkpoint_and_timestamp() {
    let Some(nm) = sigstore_mock::node_modules() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("artifact.txt");
    std::fs::write(&file, "logged in Rekor v2\n").expect("w");
    let st = dir.path().join("statement.json");
    std::fs::write(
        &st,
        serde_json::json!({"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "artifact.txt", "digest": {"sha256": sha256_hex(b"logged in Rekor v2\n")}}],
            "predicateType": "https://acme.io/p", "predicate": {}})
        .to_string(),
    )
    .expect("w");
    let out = dir.path().join("out");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigstore-mock/rekor-v2.js");
    let o = Command::new("node")
        .arg(script)
        .args([p(&file), p(&st), SUBJECT, ISSUER, p(&out)])
        .env("NODE_PATH", &nm)
        .output()
        .expect("node");
    assert!(o.status.success(), "rekor-v2.js: {}", String::from_utf8_lossy(&o.stderr));
    let root = out.join("trusted_root.json");
    let r: Value = serde_json::from_slice(&std::fs::read(&root).expect("root")).expect("json");
    assert_eq!(
        r["tlogs"][0]["publicKey"]["keyDetails"], "PKIX_ED25519",
        "an Ed25519 log, as public-good Rekor v2"
    );
    let bundle = |name: &str| out.join(format!("{name}.bundle.json"));
    for name in ["blob", "dsse", "dsse-v002"] {
        let b: Value = serde_json::from_slice(&std::fs::read(bundle(name)).expect("bundle")).expect("json");
        let e = &b["verificationMaterial"]["tlogEntries"][0];
        assert_eq!(e["kindVersion"]["version"], "0.0.2");
        assert!(e.get("inclusionPromise").is_none() && e.get("integratedTime").is_none(), "{e}");
        let (code, _, err) = verify_blob(&file, &bundle(name), &root, SUBJECT, ISSUER);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(
            err.contains("timestamp by https://tsa.mock.test") && err.contains("Rekor v2 entry 0"),
            "{err}"
        );
    }
    // The same bundles verify with sigstore-python (when installed): an independent check of the fixture
    // (bodies, Ed25519 signed-note checkpoint, key hint). It reads DSSE in Rekor v2 only as hashedrekord.
    if let Some(py) = sigstore_mock::py_sigstore() {
        for name in ["blob", "dsse"] {
            let o = Command::new(&py)
                .arg("--trust-config")
                .arg(out.join("trust_config.json"))
                .args(["verify", "identity", p(&file), "--bundle", p(&bundle(name))])
                .args(["--cert-identity", SUBJECT, "--cert-oidc-issuer", ISSUER])
                .output()
                .expect("sigstore-python");
            assert!(o.status.success(), "sigstore-python, {name}: {}", String::from_utf8_lossy(&o.stderr));
        }
    }
    let (code, _, err) = verify_blob(&file, &bundle("blob-no-tsa"), &root, SUBJECT, ISSUER);
    assert_eq!(code, 21, "{err}");
    assert!(
        err.contains("proves inclusion but records no signing time, and there is no signed timestamp"),
        "{err}"
    );

    // A checkpoint whose signature was replaced, and the dsse entry spliced into the blob bundle.
    let mut b: Value = serde_json::from_slice(&std::fs::read(bundle("blob")).expect("b")).expect("json");
    let cp = b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .expect("checkpoint")
        .to_string();
    let (note, sig_line) = cp.split_once("\n\n").expect("signed note");
    // Flip one character of the signature's base64 (past the 4-byte key hint).
    let (head, sig_b64) = sig_line.trim_end().rsplit_once(' ').expect("signature line");
    let mut chars: Vec<char> = sig_b64.chars().collect();
    chars[20] = if chars[20] == 'A' { 'B' } else { 'A' };
    let forged_sig = format!("{head} {}\n", chars.into_iter().collect::<String>());
    let forged = dir.path().join("forged.bundle.json");
    b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"] =
        Value::String(format!("{note}\n\n{forged_sig}"));
    std::fs::write(&forged, b.to_string()).expect("w");
    let (code, _, err) = verify_blob(&file, &forged, &root, SUBJECT, ISSUER);
    assert_eq!(code, 21, "{err}");
    assert!(err.contains("checkpoint"), "{err}");
    let d: Value = serde_json::from_slice(&std::fs::read(bundle("dsse")).expect("d")).expect("json");
    let mut b: Value = serde_json::from_slice(&std::fs::read(bundle("blob")).expect("b")).expect("json");
    b["verificationMaterial"]["tlogEntries"] = d["verificationMaterial"]["tlogEntries"].clone();
    let spliced = dir.path().join("spliced.bundle.json");
    std::fs::write(&spliced, b.to_string()).expect("w");
    let (code, _, err) = verify_blob(&file, &spliced, &root, SUBJECT, ISSUER);
    assert_eq!(code, 21, "{err}");
    assert!(err.contains("log entry records another signature than this one"), "{err}");
}
