//! cosign's simple-signing payload: the JSON document a `.sig` signature signs, binding an image digest.
//!
//! `{"critical":{"identity":{"docker-reference":REPO},"image":{"docker-manifest-digest":DIGEST},"type":"cosign
//! container image signature"},"optional":null|{…}}` — fields in this order, as Go's `encoding/json` writes
//! them, so that the bytes are those cosign signs. `docker-reference` is the repository without tag or digest.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `critical.type` of every cosign image signature.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimpleSigning {
    pub critical: Critical,
    /// Free annotations (`-a key=value` in cosign); `null` when there are none.
    pub optional: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Critical {
    pub identity: Identity,
    pub image: Image,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

impl SimpleSigning {
    /// The payload for `repository` (no tag, no digest) at `digest`.
    pub fn new(
        repository: &str,
        digest: &str,
        optional: Option<BTreeMap<String, serde_json::Value>>,
    ) -> Self {
        Self {
            critical: Critical {
                identity: Identity { docker_reference: repository.to_string() },
                image: Image { docker_manifest_digest: digest.to_string() },
                kind: SIGNATURE_TYPE.to_string(),
            },
            optional,
        }
    }

    /// The exact bytes that are signed.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parse a payload; the error names the field that is missing or wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let p: SimpleSigning = serde_json::from_slice(bytes).map_err(|e| format!("payload JSON: {e}"))?;
        if p.critical.kind != SIGNATURE_TYPE {
            return Err(format!("critical.type is {:?}, expected {SIGNATURE_TYPE:?}", p.critical.kind));
        }
        if !p.critical.image.docker_manifest_digest.starts_with("sha256:") {
            return Err(format!(
                "critical.image.docker-manifest-digest {:?} is not a sha256 digest",
                p.critical.image.docker_manifest_digest
            ));
        }
        Ok(p)
    }

    /// The digest this payload binds.
    pub fn digest(&self) -> &str {
        &self.critical.image.docker_manifest_digest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Payloads as `cosign verify` prints them in public documentation: ours are the same bytes.
    #[test]
    fn byte_for_byte_with_published_examples() {
        let published = r#"{"critical":{"identity":{"docker-reference":"index.docker.io/docker-username/hello-container"},"image":{"docker-manifest-digest":"sha256:690ecfd885f008330a66d08be13dc6c115a439e1cc935c04d181d7116e198f9c"},"type":"cosign container image signature"},"optional":null}"#;
        let ours = SimpleSigning::new(
            "index.docker.io/docker-username/hello-container",
            "sha256:690ecfd885f008330a66d08be13dc6c115a439e1cc935c04d181d7116e198f9c",
            None,
        );
        assert_eq!(String::from_utf8(ours.to_bytes()).expect("utf8"), published);
        assert_eq!(SimpleSigning::parse(published.as_bytes()).expect("parse"), ours);

        let with_annotation = r#"{"critical":{"identity":{"docker-reference":"registry.mkz.me/mycroft/golang-cdk8s"},"image":{"docker-manifest-digest":"sha256:519af160c31be0b3f012ba7ede74137bfef9ac546e1845486a6d579e7266e817"},"type":"cosign container image signature"},"optional":{"author":"Patrick MARIE"}}"#;
        let opt = BTreeMap::from([("author".to_string(), serde_json::json!("Patrick MARIE"))]);
        let ours = SimpleSigning::new(
            "registry.mkz.me/mycroft/golang-cdk8s",
            "sha256:519af160c31be0b3f012ba7ede74137bfef9ac546e1845486a6d579e7266e817",
            Some(opt),
        );
        assert_eq!(String::from_utf8(ours.to_bytes()).expect("utf8"), with_annotation);
    }

    #[test]
    fn wrong_payloads_are_named() {
        let e = SimpleSigning::parse(br#"{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"sha256:00"},"type":"x"},"optional":null}"#).expect_err("type");
        assert!(e.contains("critical.type"), "{e}");
        let e = SimpleSigning::parse(b"[1]").expect_err("json");
        assert!(e.starts_with("payload JSON"), "{e}");
    }
}
