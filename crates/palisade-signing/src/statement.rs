//! in-toto Statement v1 (`https://in-toto.io/Statement/v1`): the subject (image name and digest), the
//! predicate type and the predicate. The short names `palisade attest --type` takes are cosign's.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Older statements (cosign before 2.x) use v0.1; read, never written.
pub const STATEMENT_TYPE_V01: &str = "https://in-toto.io/Statement/v0.1";

/// Short predicate names and the URIs cosign uses for them.
pub const PREDICATE_TYPES: &[(&str, &str)] = &[
    ("cyclonedx", "https://cyclonedx.org/bom"),
    ("spdxjson", "https://spdx.dev/Document"),
    ("vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"),
    ("openvex", "https://openvex.dev/ns"),
    ("slsaprovenance", "https://slsa.dev/provenance/v0.2"),
    ("slsaprovenance1", "https://slsa.dev/provenance/v1"),
    ("custom", "https://cosign.sigstore.dev/attestation/v1"),
];

/// The predicate type URI for a short name or a URI (`None` for an unknown short name).
pub fn predicate_type(name: &str) -> Option<String> {
    if let Some((_, uri)) = PREDICATE_TYPES.iter().find(|(n, _)| *n == name) {
        return Some((*uri).to_string());
    }
    name.contains("://").then(|| name.to_string())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    #[serde(default)]
    pub predicate: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default)]
    pub name: String,
    pub digest: BTreeMap<String, String>,
}

impl Statement {
    /// A statement about the image `repository` at `digest` (`sha256:<hex>`).
    pub fn new(repository: &str, digest: &str, predicate_type: &str, predicate: serde_json::Value) -> Self {
        let (alg, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
        Self {
            statement_type: STATEMENT_TYPE.to_string(),
            subject: vec![Subject {
                name: repository.to_string(),
                digest: BTreeMap::from([(alg.to_string(), hex.to_string())]),
            }],
            predicate_type: predicate_type.to_string(),
            predicate,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parse a statement; the error names what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let s: Statement =
            serde_json::from_slice(bytes).map_err(|e| format!("in-toto statement JSON: {e}"))?;
        if s.statement_type != STATEMENT_TYPE && s.statement_type != STATEMENT_TYPE_V01 {
            return Err(format!("_type is {:?}, expected {STATEMENT_TYPE:?}", s.statement_type));
        }
        Ok(s)
    }

    /// Whether a subject names `digest` (`sha256:<hex>`).
    pub fn covers(&self, digest: &str) -> bool {
        let Some((alg, hex)) = digest.split_once(':') else { return false };
        self.subject.iter().any(|s| s.digest.get(alg).is_some_and(|h| h.eq_ignore_ascii_case(hex)))
    }

    /// The subject digests, for messages.
    pub fn subject_digests(&self) -> Vec<String> {
        self.subject.iter().flat_map(|s| s.digest.iter().map(|(a, h)| format!("{a}:{h}"))).collect()
    }

    /// When the predicate says it was made, from the predicate's own (signed) fields: CycloneDX
    /// `metadata.timestamp`, SPDX `creationInfo.created`, cosign vuln `metadata.scanFinishedOn`, OpenVEX
    /// `timestamp`, SLSA `metadata.buildFinishedOn` / `runDetails.metadata.finishedOn`, cosign custom
    /// `timestamp`. `None` when the predicate carries no time.
    pub fn created(&self) -> Option<time::OffsetDateTime> {
        let p = &self.predicate;
        let paths: &[&[&str]] = &[
            &["metadata", "timestamp"],
            &["creationInfo", "created"],
            &["metadata", "scanFinishedOn"],
            &["timestamp"],
            &["metadata", "buildFinishedOn"],
            &["runDetails", "metadata", "finishedOn"],
        ];
        paths.iter().find_map(|path| {
            let v = path.iter().try_fold(p, |v, k| v.get(k))?;
            time::OffsetDateTime::parse(v.as_str()?, &time::format_description::well_known::Rfc3339).ok()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_subjects_and_times() {
        assert_eq!(predicate_type("cyclonedx").as_deref(), Some("https://cyclonedx.org/bom"));
        assert_eq!(predicate_type("https://example.com/p/v1").as_deref(), Some("https://example.com/p/v1"));
        assert_eq!(predicate_type("nonsense"), None);
        let s = Statement::new(
            "reg/app",
            "sha256:abcd",
            "https://cosign.sigstore.dev/attestation/vuln/v1",
            serde_json::json!({"metadata":{"scanFinishedOn":"2026-01-02T03:04:05Z"}}),
        );
        assert!(s.covers("sha256:ABCD") && !s.covers("sha256:abce"));
        let back = Statement::parse(&s.to_bytes()).expect("parse");
        assert_eq!(back.created().map(|t| t.unix_timestamp()), Some(1_767_323_045));
        assert!(Statement::parse(br#"{"_type":"x","subject":[],"predicateType":"p"}"#).is_err());
    }
}
