//! Sigstore bundles, v0.3 (`application/vnd.dev.sigstore.bundle.v0.3+json`), the JSON form of the
//! protobuf-specs `Bundle`: verification material (a public-key hint, or a certificate with transparency-log
//! entries and timestamps) and the signed content (a DSSE envelope here; `messageSignature` is for blobs).
//!
//! An image signature in a bundle is, as cosign v3 writes it, a DSSE envelope over an in-toto statement
//! whose subject is the image digest and whose predicate type is [`SIGN_PREDICATE_TYPE`].

use crate::dsse::Envelope;
use serde::{Deserialize, Serialize};

pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const OLDER_MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
];
/// The predicate type of an image signature carried as a statement (cosign v3).
pub const SIGN_PREDICATE_TYPE: &str = "https://sigstore.dev/cosign/sign/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    #[serde(rename = "verificationMaterial")]
    pub verification_material: VerificationMaterial,
    #[serde(rename = "dsseEnvelope", default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
    #[serde(rename = "messageSignature", default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VerificationMaterial {
    #[serde(rename = "publicKey", default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyHint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<serde_json::Value>,
    #[serde(rename = "x509CertificateChain", default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<serde_json::Value>,
    #[serde(rename = "tlogEntries", default)]
    pub tlog_entries: Vec<serde_json::Value>,
    #[serde(rename = "timestampVerificationData", default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicKeyHint {
    #[serde(default)]
    pub hint: String,
}

impl Bundle {
    /// A key-signed bundle around `envelope`; the hint is the key id.
    pub fn for_key(envelope: Envelope, key_id: &str) -> Self {
        Self {
            media_type: MEDIA_TYPE.to_string(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyHint { hint: key_id.to_string() }),
                ..Default::default()
            },
            dsse_envelope: Some(envelope),
            message_signature: None,
        }
    }

    /// Parse a bundle of a known version; the error names what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let b: Bundle = serde_json::from_slice(bytes).map_err(|e| format!("bundle JSON: {e}"))?;
        if b.media_type != MEDIA_TYPE && !OLDER_MEDIA_TYPES.contains(&b.media_type.as_str()) {
            return Err(format!("unknown bundle media type {:?}", b.media_type));
        }
        if b.dsse_envelope.is_none() && b.message_signature.is_none() {
            return Err("bundle has neither dsseEnvelope nor messageSignature".into());
        }
        Ok(b)
    }

    /// `dsse-envelope` or `message-signature`, for the referrer's `dev.sigstore.bundle.content` annotation.
    pub fn content_kind(&self) -> &'static str {
        if self.dsse_envelope.is_some() { "dsse-envelope" } else { "message-signature" }
    }

    /// The public-key hint, if the bundle is key-signed and has one.
    pub fn key_hint(&self) -> Option<String> {
        self.verification_material.public_key.as_ref().map(|p| p.hint.clone()).filter(|h| !h.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;

    #[test]
    fn round_trip_and_refusals() {
        let k = PrivateKey::generate().expect("key");
        let b = Bundle::for_key(Envelope::sign("application/vnd.in-toto+json", b"{}", &k), k.public().id());
        let text = serde_json::to_vec(&b).expect("json");
        assert_eq!(Bundle::parse(&text).expect("parse"), b);
        assert_eq!(b.key_hint().as_deref(), Some(k.public().id()));
        let e = Bundle::parse(br#"{"mediaType":"x","verificationMaterial":{}}"#).expect_err("type");
        assert!(e.contains("unknown bundle media type"), "{e}");
        let e = Bundle::parse(
            format!(r#"{{"mediaType":"{MEDIA_TYPE}","verificationMaterial":{{}}}}"#).as_bytes(),
        )
        .expect_err("empty");
        assert!(e.contains("neither"), "{e}");
    }
}
