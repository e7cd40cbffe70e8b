//! An RFC 3161 timestamp over the signature from a timestamp authority's `POST /api/v1/timestamp` (the
//! JSON request of Sigstore's timestamp-authority: the SHA-256 of the signature, a nonce, certificates
//! included); the answer is the DER `TimeStampResp`, carried in the bundle's `timestampVerificationData`.

use crate::error::SignError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

/// A signed timestamp (DER) over `signature`.
pub fn timestamp(agent: &ureq::Agent, base: &str, signature: &[u8]) -> Result<Vec<u8>, SignError> {
    let url = format!("{}/api/v1/timestamp", base.trim_end_matches('/'));
    let mut nonce = [0u8; 4];
    getrandom::fill(&mut nonce).map_err(|e| SignError::Keyless {
        service: format!("TSA {url}"),
        reason: format!("no randomness for the nonce: {e}"),
    })?;
    let body = serde_json::json!({
        "artifactHash": B64.encode(Sha256::digest(signature)),
        "hashAlgorithm": "sha256",
        "certificates": true,
        "nonce": u32::from_be_bytes(nonce) >> 1,
    });
    super::post_json(agent, "TSA", &url, &body, None)
}
