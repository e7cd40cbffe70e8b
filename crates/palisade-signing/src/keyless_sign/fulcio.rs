//! Fulcio's `POST /api/v2/signingCert`: the OIDC token, the ephemeral public key (PEM) and the proof of
//! possession (the key's signature over the token's identity); the answer is the certificate chain, the
//! signing certificate (with its embedded SCT) first.

use super::KeylessOptions;
use super::token::Claims;
use crate::error::SignError;
use crate::keyless::cert::pem_blocks;
use crate::keys::PrivateKey;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

pub(super) fn error(url: &str, reason: &str) -> SignError {
    SignError::Keyless { service: format!("Fulcio {url}"), reason: reason.into() }
}

/// Request a certificate for `key`; returns the DER chain, the signing certificate first.
pub fn certificate(
    agent: &ureq::Agent,
    opts: &KeylessOptions,
    key: &PrivateKey,
    claims: &Claims,
) -> Result<Vec<Vec<u8>>, SignError> {
    let url = format!("{}/api/v2/signingCert", opts.fulcio_url.trim_end_matches('/'));
    let body = json!({
        "credentials": {"oidcIdentityToken": opts.identity_token.trim()},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public().to_pem()},
            "proofOfPossession": B64.encode(key.sign(claims.identity.as_bytes())),
        },
    });
    let bytes = super::post_json(agent, "Fulcio", &url, &body, Some(opts.identity_token.trim()))?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| error(&url, &format!("response is not JSON: {e}")))?;
    let pems = v
        .pointer("/signedCertificateEmbeddedSct/chain/certificates")
        .or_else(|| v.pointer("/signedCertificateDetachedSct/chain/certificates"))
        .and_then(Value::as_array)
        .ok_or_else(|| error(&url, "no certificate chain in the response"))?;
    let mut chain = Vec::new();
    for (i, p) in pems.iter().enumerate() {
        let text = p.as_str().ok_or_else(|| error(&url, &format!("certificates[{i}] is not a string")))?;
        let blocks = pem_blocks(text).map_err(|e| error(&url, &format!("certificates[{i}]: {e}")))?;
        chain.extend(blocks.into_iter().filter(|(l, _)| l == "CERTIFICATE").map(|(_, d)| d));
    }
    if chain.is_empty() {
        return Err(error(&url, "empty certificate chain"));
    }
    Ok(chain)
}
