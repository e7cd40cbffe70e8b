//! Verification keys of the keyless checks (Fulcio CAs, CT logs, Rekor, timestamp authorities, the
//! signer's certificate): ECDSA P-256 and P-384 from a SubjectPublicKeyInfo, signatures in ASN.1 DER over
//! SHA-256 or SHA-384 as the certificate's or log's algorithm says; and Ed25519 (the key of public-good
//! Rekor v2 logs, which sign their checkpoints with it), whose 64-byte signatures cover the message itself.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256, Sha384};

/// The digest an ECDSA signature was made over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    /// The hash of an X.509 `ecdsa-with-SHA*` signature algorithm OID.
    pub fn of_signature_oid(oid: &str) -> Result<Self, String> {
        match oid {
            "1.2.840.10045.4.3.2" => Ok(Hash::Sha256),
            "1.2.840.10045.4.3.3" => Ok(Hash::Sha384),
            other => {
                Err(format!("signature algorithm {other} is not supported (ECDSA with SHA-256 or SHA-384)"))
            }
        }
    }

    pub fn digest(self, msg: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(msg).to_vec(),
            Hash::Sha384 => Sha384::digest(msg).to_vec(),
        }
    }
}

/// A public key: ECDSA, or Ed25519.
#[derive(Debug, Clone)]
pub enum EcKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl EcKey {
    /// From a DER SubjectPublicKeyInfo.
    pub fn from_spki(der: &[u8]) -> Result<Self, String> {
        if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(EcKey::P256(k));
        }
        if let Ok(k) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Ok(EcKey::P384(k));
        }
        ed25519_dalek::VerifyingKey::from_public_key_der(der)
            .map(EcKey::Ed25519)
            .map_err(|_| "not an ECDSA P-256, P-384 or Ed25519 public key".to_string())
    }

    /// The hash Sigstore pairs with the curve (SHA-256 for P-256, SHA-384 for P-384).
    pub fn default_hash(&self) -> Hash {
        match self {
            EcKey::P256(_) | EcKey::Ed25519(_) => Hash::Sha256,
            EcKey::P384(_) => Hash::Sha384,
        }
    }

    /// Whether `sig` (DER for ECDSA, 64 bytes for Ed25519) signs `msg` (hashed with `hash` for ECDSA;
    /// Ed25519 signs the message itself).
    pub fn verify(&self, msg: &[u8], sig: &[u8], hash: Hash) -> bool {
        if let EcKey::Ed25519(k) = self {
            return ed25519_dalek::Signature::from_slice(sig).is_ok_and(|s| k.verify_strict(msg, &s).is_ok());
        }
        self.verify_prehash(&hash.digest(msg), sig)
    }

    /// Whether `sig` (DER) signs the digest `prehash` (ECDSA only: an Ed25519 key verifies no prehash).
    pub fn verify_prehash(&self, prehash: &[u8], sig: &[u8]) -> bool {
        match self {
            EcKey::P256(k) => {
                p256::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify_prehash(prehash, &s).is_ok())
            }
            EcKey::P384(k) => {
                p384::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify_prehash(prehash, &s).is_ok())
            }
            EcKey::Ed25519(_) => false,
        }
    }
}
