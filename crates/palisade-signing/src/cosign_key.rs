//! cosign's encrypted private-key format (`ENCRYPTED SIGSTORE PRIVATE KEY`, formerly `ENCRYPTED COSIGN PRIVATE
//! KEY`): the PEM body is a JSON document from go-securesystemslib's `encrypted` package —
//! `{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":B64},"cipher":{"name":"nacl/secretbox",
//! "nonce":B64},"ciphertext":B64}` — where the key is `scrypt(password, salt, N, r, p, 32)` and the
//! ciphertext is the NaCl secretbox (XSalsa20-Poly1305) of the PKCS#8 DER private key.
//!
//! Only go-securesystemslib's three parameter sets are accepted when reading — N = 32768 (legacy, older
//! cosign), 65536 (what cosign writes today) or 131072, with r = 8, p = 1 — so a key file cannot make us
//! spend more than 128 MiB or unbounded time. Keys are written with N = 65536, as cosign writes them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use serde::{Deserialize, Serialize};

/// The PEM label cosign writes today.
pub const SIGSTORE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The PEM label older cosign versions wrote; still read, and written on request.
pub const COSIGN_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// Accepted (N, log2 N); the first is what we write.
const SCRYPT_NS: &[(u32, u8)] = &[(65536, 16), (32768, 15), (131072, 17)];
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: Params,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct Params {
    #[serde(rename = "N")]
    n: u32,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn derive(password: &[u8], salt: &[u8], log_n: u8) -> Result<[u8; 32], String> {
    let params =
        scrypt::Params::new(log_n, SCRYPT_R, SCRYPT_P).map_err(|e| format!("scrypt parameters: {e}"))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut key).map_err(|e| format!("scrypt: {e}"))?;
    Ok(key)
}

/// Encrypt `plaintext` (a PKCS#8 DER key) with `password`; returns the JSON document that goes in the PEM body.
pub fn encrypt(plaintext: &[u8], password: &[u8]) -> Result<Vec<u8>, String> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut salt).map_err(|e| format!("random salt: {e}"))?;
    getrandom::fill(&mut nonce).map_err(|e| format!("random nonce: {e}"))?;
    let (n, log_n) = SCRYPT_NS[0];
    let key = derive(password, &salt, log_n)?;
    let cipher = XSalsa20Poly1305::new(Key::from_slice(&key));
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), plaintext)
        .map_err(|_| "secretbox encryption failed".to_string())?;
    let env = Envelope {
        kdf: Kdf {
            name: "scrypt".into(),
            params: Params { n, r: SCRYPT_R, p: SCRYPT_P },
            salt: B64.encode(salt),
        },
        cipher: Cipher { name: "nacl/secretbox".into(), nonce: B64.encode(nonce) },
        ciphertext: B64.encode(sealed),
    };
    serde_json::to_vec(&env).map_err(|e| e.to_string())
}

/// Decrypt the JSON document of an encrypted key; the error says which part is wrong (format, parameters,
/// or the password / integrity check).
pub fn decrypt(document: &[u8], password: &[u8]) -> Result<Vec<u8>, String> {
    let env: Envelope =
        serde_json::from_slice(document).map_err(|e| format!("not cosign's encrypted-key JSON: {e}"))?;
    if env.kdf.name != "scrypt" {
        return Err(format!("unsupported key derivation {:?} (expected scrypt)", env.kdf.name));
    }
    if env.cipher.name != "nacl/secretbox" {
        return Err(format!("unsupported cipher {:?} (expected nacl/secretbox)", env.cipher.name));
    }
    let p = &env.kdf.params;
    let log_n = SCRYPT_NS.iter().find(|(n, _)| *n == p.n).map(|(_, l)| *l);
    let Some(log_n) = log_n.filter(|_| (p.r, p.p) == (SCRYPT_R, SCRYPT_P)) else {
        return Err(format!(
            "unexpected scrypt parameters N={} r={} p={} (cosign uses N=32768, 65536 or 131072 with r=8 p=1)",
            p.n, p.r, p.p
        ));
    };
    let salt = B64.decode(&env.kdf.salt).map_err(|e| format!("kdf.salt: {e}"))?;
    let nonce = B64.decode(&env.cipher.nonce).map_err(|e| format!("cipher.nonce: {e}"))?;
    if nonce.len() != NONCE_LEN {
        return Err(format!("cipher.nonce is {} bytes, expected {NONCE_LEN}", nonce.len()));
    }
    let sealed = B64.decode(&env.ciphertext).map_err(|e| format!("ciphertext: {e}"))?;
    let key = derive(password, &salt, log_n)?;
    XSalsa20Poly1305::new(Key::from_slice(&key))
        .decrypt(Nonce::from_slice(&nonce), sealed.as_slice())
        .map_err(|_| "wrong password, or the encrypted key was modified".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_password() {
        let doc = encrypt(b"secret key bytes", b"pw").expect("encrypt");
        assert_eq!(decrypt(&doc, b"pw").expect("decrypt"), b"secret key bytes");
        let e = decrypt(&doc, b"other").expect_err("wrong password");
        assert!(e.contains("wrong password"), "{e}");
    }

    #[test]
    fn refuses_other_parameters() {
        let doc = encrypt(b"k", b"pw").expect("encrypt");
        let text = String::from_utf8(doc).expect("utf8").replace("65536", "1048576");
        let e = decrypt(text.as_bytes(), b"pw").expect_err("params");
        assert!(e.contains("unexpected scrypt parameters"), "{e}");
        assert!(decrypt(b"{not json", b"pw").expect_err("json").contains("not cosign"));
    }
}
