//! DSSE envelopes (Dead Simple Signing Envelope v1): the signature covers the pre-authentication encoding
//! `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body` (lengths as ASCII decimal), never
//! the JSON around it.

use crate::keys::{PrivateKey, PublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

/// The payload type of in-toto statements.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Base64 of the payload.
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default)]
    pub keyid: String,
    /// Base64 of the signature over the PAE.
    pub sig: String,
}

/// The pre-authentication encoding.
pub fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

impl Envelope {
    /// Sign `body` of `payload_type` with `key`. The key id is left empty, as cosign does.
    pub fn sign(payload_type: &str, body: &[u8], key: &PrivateKey) -> Self {
        let sig = key.sign(&pae(payload_type, body));
        Self {
            payload_type: payload_type.to_string(),
            payload: B64.encode(body),
            signatures: vec![EnvelopeSignature { keyid: String::new(), sig: B64.encode(sig) }],
        }
    }

    /// Parse an envelope; the error names what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let e: Envelope = serde_json::from_slice(bytes).map_err(|e| format!("DSSE envelope JSON: {e}"))?;
        if e.signatures.is_empty() {
            return Err("DSSE envelope has no signatures".into());
        }
        Ok(e)
    }

    /// The decoded payload.
    pub fn body(&self) -> Result<Vec<u8>, String> {
        B64.decode(&self.payload).map_err(|e| format!("DSSE payload is not base64: {e}"))
    }

    /// Whether one of the signatures verifies with `key`; `Err` when the envelope cannot be decoded.
    pub fn verify(&self, key: &PublicKey) -> Result<bool, String> {
        let msg = pae(&self.payload_type, &self.body()?);
        for s in &self.signatures {
            let sig = B64.decode(&s.sig).map_err(|e| format!("DSSE signature is not base64: {e}"))?;
            if key.verify(&msg, &sig) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_specification_example() {
        // The DSSE protocol document's example: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn sign_verify_tamper() {
        let k = PrivateKey::generate().expect("key");
        let mut env = Envelope::sign(INTOTO_PAYLOAD_TYPE, b"{}", &k);
        assert_eq!(env.verify(&k.public()), Ok(true));
        env.payload_type = "text/plain".into();
        assert_eq!(env.verify(&k.public()), Ok(false));
        let other = PrivateKey::generate().expect("key");
        let env = Envelope::sign(INTOTO_PAYLOAD_TYPE, b"{}", &k);
        assert_eq!(env.verify(&other.public()), Ok(false));
    }
}
