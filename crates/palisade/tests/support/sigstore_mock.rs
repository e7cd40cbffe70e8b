//! Keyless signatures made by an independent implementation: sigstore-js (`@sigstore/sign`) against
//! `@sigstore/mock`'s Fulcio, Rekor and timestamp authority, run in one `node` process by
//! `tests/fixtures/sigstore-mock/sign.js`. The npm packages are installed once into
//! `/work/corpus/npm-sigstore` (or `$PALISADE_NPM_SIGSTORE`); without node/npm the tests skip.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const SUBJECT: &str = "https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main";
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn cache_dir() -> PathBuf {
    std::env::var_os("PALISADE_NPM_SIGSTORE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/corpus/npm-sigstore"))
}

/// The `node_modules` holding @sigstore/mock and @sigstore/sign, installed when missing; `None` (after a
/// SKIP line) when node or npm is absent or the install fails.
pub fn node_modules() -> Option<PathBuf> {
    let ok = |c: &str| {
        Command::new(c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok("node") || !ok("npm") {
        eprintln!("SKIP: node/npm not installed (needed for @sigstore/mock)");
        return None;
    }
    let dir = cache_dir();
    let nm = dir.join("node_modules");
    if !nm.join("@sigstore/mock").exists() || !nm.join("@sigstore/sign").exists() {
        std::fs::create_dir_all(&dir).ok()?;
        let st = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .args(["@sigstore/mock", "@sigstore/cli"])
            .status();
        if !st.is_ok_and(|s| s.success()) || !nm.join("@sigstore/mock").exists() {
            eprintln!("SKIP: npm install @sigstore/mock @sigstore/cli into {} failed", dir.display());
            return None;
        }
    }
    Some(nm)
}

/// One signing case of sign.js.
pub fn case(name: &str, kind: &str, file: &Path) -> Value {
    json!({"name": name, "kind": kind, "file": file, "subject": SUBJECT, "issuer": ISSUER, "ca": "main",
           "payloadType": "application/vnd.in-toto+json"})
}

/// Run sign.js on `cases` writing into `out`; bundles are `out/NAME.bundle.json`, the roots
/// `out/trusted_root.json` and `out/other_root.json`.
pub fn sign(node_modules: &Path, cases: &[Value], out: &Path) {
    let spec = out.join("spec.json");
    std::fs::create_dir_all(out).expect("mkdir");
    std::fs::write(&spec, json!({"cases": cases}).to_string()).expect("spec");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigstore-mock/sign.js");
    let o = Command::new("node")
        .arg(script)
        .arg(&spec)
        .arg(out)
        .env("NODE_PATH", node_modules)
        .output()
        .expect("node");
    assert!(o.status.success(), "sign.js: {}", String::from_utf8_lossy(&o.stderr));
}

/// `@sigstore/mock`'s Fulcio, Rekor and timestamp authority served over HTTP on 127.0.0.1 by
/// `tests/fixtures/sigstore-mock/serve.js` (so the palisade binary can sign against them); killed on drop.
pub struct MockServices {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`: every service's base URL.
    pub url: String,
    /// The mock's trusted root (its CA, CT log, Rekor and TSA keys).
    pub trusted_root: PathBuf,
}

impl MockServices {
    pub fn start(node_modules: &Path, out: &Path) -> MockServices {
        use std::io::BufRead;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigstore-mock/serve.js");
        let mut child = Command::new("node")
            .arg(script)
            .arg(out)
            .env("NODE_PATH", node_modules)
            .stdout(Stdio::piped())
            .spawn()
            .expect("node serve.js");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufReader::new(stdout).read_line(&mut line).expect("serve.js prints its URL");
        let services =
            MockServices { child, url: line.trim().to_string(), trusted_root: out.join("trusted_root.json") };
        assert!(services.url.starts_with("http://127.0.0.1:"), "serve.js: {line:?}");
        services
    }
}

impl Drop for MockServices {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An unsigned OIDC token for `subject` from `issuer` (the mock Fulcio decodes it without checking a
/// signature).
pub fn token(subject: &str, issuer: &str) -> String {
    use base64::Engine as _;
    let b = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // iat/nbf/exp: sigstore-python checks them (without a signature to check).
    let claims =
        json!({"iss": issuer, "sub": subject, "aud": "sigstore", "iat": now, "nbf": now, "exp": now + 600});
    format!("{}.{}.", b(json!({"alg": "none", "typ": "JWT"})), b(claims))
}

/// sigstore-python's `sigstore` CLI, installed (by hand: `python3 -m venv /work/corpus/py-sigstore &&
/// /work/corpus/py-sigstore/bin/pip install sigstore`) under `/work/corpus/py-sigstore` or
/// `$PALISADE_PY_SIGSTORE`; `None` (after a SKIP line) when absent.
pub fn py_sigstore() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_PY_SIGSTORE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/corpus/py-sigstore"));
    let bin = dir.join("bin/sigstore");
    let ok = Command::new(&bin).arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIP: sigstore-python not installed at {} (pip install sigstore into that venv)",
            dir.display()
        );
        return None;
    }
    Some(bin)
}
