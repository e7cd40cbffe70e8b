//! ECDSA P-256 keys, the only algorithm cosign generates and Palisade signs with.
//!
//! Private keys are read from cosign's encrypted format (`ENCRYPTED SIGSTORE PRIVATE KEY` or the older
//! `ENCRYPTED COSIGN PRIVATE KEY`, see [`crate::cosign_key`]) or from a plain PKCS#8 `PRIVATE KEY` PEM;
//! public keys from a `PUBLIC KEY` (SubjectPublicKeyInfo) PEM. Signatures are ASN.1 DER over SHA-256, as
//! cosign writes them; a raw 64-byte `r || s` signature is accepted when verifying.

use crate::cosign_key;
use crate::error::SignError;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use p256::pkcs8::der::pem::{self, LineEnding};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use sha2::{Digest, Sha256};
use std::path::Path;

/// How a private key is written by [`PrivateKey::to_pem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// `ENCRYPTED SIGSTORE PRIVATE KEY` (what cosign writes today).
    Sigstore,
    /// `ENCRYPTED COSIGN PRIVATE KEY` (cosign before 2.x).
    Cosign,
    /// Unencrypted PKCS#8 `PRIVATE KEY`.
    Pkcs8,
}

/// A signing key.
#[derive(Clone)]
pub struct PrivateKey(SigningKey);

/// A verification key, with its key id (the hex SHA-256 of its SubjectPublicKeyInfo DER).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: String,
}

/// Whether a private-key PEM needs a password (cosign's encrypted formats).
pub fn is_encrypted(pem_text: &str) -> bool {
    pem_text.contains(cosign_key::SIGSTORE_LABEL) || pem_text.contains(cosign_key::COSIGN_LABEL)
}

fn bad(path: &str, reason: impl Into<String>) -> SignError {
    SignError::Key { path: path.to_string(), reason: reason.into() }
}

impl PrivateKey {
    /// A new random key (from the operating system's generator).
    pub fn generate() -> Result<Self, SignError> {
        // A 32-byte string is a valid scalar unless it is zero or >= n: probability ~2^-32; retry then.
        for _ in 0..8 {
            let mut b = [0u8; 32];
            getrandom::fill(&mut b).map_err(|e| bad("<generated key>", format!("random bytes: {e}")))?;
            if let Ok(k) = SigningKey::from_slice(&b) {
                return Ok(Self(k));
            }
        }
        Err(bad("<generated key>", "the random generator produced no valid key in 8 tries"))
    }

    /// Parse a private key PEM; `password` is needed for the encrypted formats. `path` names the file in errors.
    pub fn from_pem(text: &str, password: Option<&[u8]>, path: &str) -> Result<Self, SignError> {
        let (label, body) = pem::decode_vec(text.trim().as_bytes())
            .map_err(|e| bad(path, format!("not a PEM private key ({e})")))?;
        let der = match label {
            cosign_key::SIGSTORE_LABEL | cosign_key::COSIGN_LABEL => {
                let pw = password.ok_or_else(|| {
                    bad(path, "the key is encrypted: give its password in PALISADE_PASSWORD or at the prompt")
                })?;
                cosign_key::decrypt(&body, pw).map_err(|e| bad(path, e))?
            }
            "PRIVATE KEY" => body,
            "EC PRIVATE KEY" | "RSA PRIVATE KEY" => {
                return Err(bad(
                    path,
                    format!(
                        "{label} PEM is not supported: convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)"
                    ),
                ));
            }
            other => {
                return Err(bad(path, format!("unexpected PEM block {other:?}; expected a private key")));
            }
        };
        SigningKey::from_pkcs8_der(&der)
            .map(Self)
            .map_err(|e| bad(path, format!("not an ECDSA P-256 PKCS#8 private key ({e})")))
    }

    /// Read a private key file.
    pub fn load(path: &Path, password: Option<&[u8]>) -> Result<Self, SignError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| bad(&p, format!("cannot read: {e}")))?;
        Self::from_pem(&text, password, &p)
    }

    /// The PEM text of this key in `format` (`password` is used by the encrypted formats).
    pub fn to_pem(&self, format: KeyFormat, password: &[u8]) -> Result<String, SignError> {
        let der = self.0.to_pkcs8_der().map_err(|e| bad("<key>", format!("PKCS#8 encoding: {e}")))?;
        let (label, body) = match format {
            KeyFormat::Pkcs8 => ("PRIVATE KEY", der.as_bytes().to_vec()),
            KeyFormat::Sigstore | KeyFormat::Cosign => {
                let doc = cosign_key::encrypt(der.as_bytes(), password).map_err(|e| bad("<key>", e))?;
                let label = if format == KeyFormat::Cosign {
                    cosign_key::COSIGN_LABEL
                } else {
                    cosign_key::SIGSTORE_LABEL
                };
                (label, doc)
            }
        };
        pem::encode_string(label, LineEnding::LF, &body).map_err(|e| bad("<key>", format!("PEM: {e}")))
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey::new(*self.0.verifying_key())
    }

    /// ECDSA P-256 / SHA-256 signature of `msg`, ASN.1 DER encoded.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let sig: DerSignature = self.0.sign(msg);
        sig.as_bytes().to_vec()
    }
}

impl PublicKey {
    fn new(key: VerifyingKey) -> Self {
        let der = key.to_public_key_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default();
        Self { key, id: hex::encode(Sha256::digest(&der)) }
    }

    /// Parse a `PUBLIC KEY` PEM; `path` names the file in errors.
    pub fn from_pem(text: &str, path: &str) -> Result<Self, SignError> {
        VerifyingKey::from_public_key_pem(text.trim()).map(Self::new).map_err(|e| {
            let hint =
                if text.contains("PRIVATE KEY") { ": this is a private key; give the .pub file" } else { "" };
            bad(path, format!("not an ECDSA P-256 public key PEM ({e}){hint}"))
        })
    }

    /// Read a public key file.
    pub fn load(path: &Path) -> Result<Self, SignError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| bad(&p, format!("cannot read: {e}")))?;
        Self::from_pem(&text, &p)
    }

    /// The SubjectPublicKeyInfo PEM.
    pub fn to_pem(&self) -> String {
        self.key.to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }

    /// Hex SHA-256 of the SubjectPublicKeyInfo DER: names the key in messages and in the signature
    /// manifest's `dev.palisade.key-id` hint.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn to_der(&self) -> Vec<u8> {
        self.key.to_public_key_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// Whether `sig` (DER, or raw 64-byte r||s) is a valid signature of `msg` by this key.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        if let Ok(s) = DerSignature::from_bytes(sig) {
            return self.key.verify(msg, &s).is_ok();
        }
        Signature::from_slice(sig).is_ok_and(|s| self.key.verify(msg, &s).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_pem_round_trips() {
        let k = PrivateKey::generate().expect("key");
        let sig = k.sign(b"hello");
        assert!(k.public().verify(b"hello", &sig));
        assert!(!k.public().verify(b"hellO", &sig));
        for f in [KeyFormat::Pkcs8, KeyFormat::Sigstore, KeyFormat::Cosign] {
            let pem = k.to_pem(f, b"pw").expect("pem");
            assert_eq!(is_encrypted(&pem), f != KeyFormat::Pkcs8);
            let back = PrivateKey::from_pem(&pem, Some(b"pw"), "k").expect("load");
            assert_eq!(back.public(), k.public());
        }
        let pubpem = k.public().to_pem();
        assert_eq!(PublicKey::from_pem(&pubpem, "p").expect("pub"), k.public());
    }

    #[test]
    fn clear_errors() {
        let k = PrivateKey::generate().expect("key");
        let enc = k.to_pem(KeyFormat::Sigstore, b"pw").expect("pem");
        let e = PrivateKey::from_pem(&enc, None, "cosign.key").err().expect("no password").to_string();
        assert!(e.starts_with("cosign.key: ") && e.contains("PALISADE_PASSWORD"), "{e}");
        let e = PrivateKey::from_pem(&enc, Some(b"bad"), "cosign.key").err().expect("bad pw").to_string();
        assert!(e.contains("wrong password"), "{e}");
        let e = PrivateKey::from_pem("garbage", None, "x.key").err().expect("garbage").to_string();
        assert!(e.contains("x.key: not a PEM"), "{e}");
        let e =
            PublicKey::from_pem(&k.to_pem(KeyFormat::Pkcs8, b"").expect("pem"), "k.pub").expect_err("priv");
        assert!(e.to_string().contains("give the .pub file"), "{e}");
    }
}
