//! Keys in cosign's encrypted format written by an independent implementation (`fixtures/gen-cosign-key.py`:
//! Python hashlib scrypt + PyNaCl SecretBox + pyca/cryptography) load, and a signature Python made verifies.

use base64::Engine as _;
use palisade_signing::keys::{KeyFormat, PrivateKey, PublicKey};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[test]
fn cosign_and_sigstore_labels_load_with_the_password() {
    let public = PublicKey::load(&fixture("cosign-format.pub")).expect("public key");
    for name in ["cosign-format.key", "sigstore-format.key"] {
        let k = PrivateKey::load(&fixture(name), Some(b"fixture-password")).expect(name);
        assert_eq!(k.public(), public, "{name}");
        let sig = k.sign(b"message");
        assert!(public.verify(b"message", &sig));
        let e = PrivateKey::load(&fixture(name), Some(b"wrong")).err().expect("wrong password").to_string();
        assert!(e.contains(name) && e.contains("wrong password"), "{e}");
    }
}

#[test]
fn python_signature_verifies_and_rewrites_keep_the_key() {
    let public = PublicKey::load(&fixture("cosign-format.pub")).expect("public key");
    let text = std::fs::read_to_string(fixture("python-signature.b64")).expect("read");
    let sig = base64::engine::general_purpose::STANDARD.decode(text.trim()).expect("base64");
    assert!(public.verify(b"palisade fixture message", &sig));
    assert!(!public.verify(b"palisade fixture messagE", &sig));
    // Re-encrypting in either label gives a key that still loads to the same public key.
    let k = PrivateKey::load(&fixture("cosign-format.key"), Some(b"fixture-password")).expect("load");
    let pem = k.to_pem(KeyFormat::Cosign, b"new").expect("pem");
    assert!(pem.starts_with("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----"));
    assert_eq!(PrivateKey::from_pem(&pem, Some(b"new"), "re.key").expect("reload").public(), public);
}
