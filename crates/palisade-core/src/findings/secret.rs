//! Findings of the secret scanner (`palisade-secrets`).
//!
//! A [`SecretFinding`] never holds the secret itself: only a redacted preview (the first few characters
//! followed by `*****`, or for key blocks only the `-----BEGIN ...-----` header) and a stable
//! fingerprint (hex SHA-256 of rule id, path and secret) that can go into an ignore file. Serialising a
//! finding therefore cannot leak the credential.

use serde::{Deserialize, Serialize};

pub use crate::severity::Severity;

/// The git commit that introduced a secret (history scans only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    /// Full hex object id of the commit.
    pub id: String,
    /// `Name <email>` of the author.
    pub author: String,
    /// Author date, RFC 3339 in UTC.
    pub date: String,
}

/// One secret found in one file (version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFinding {
    /// Rule id, e.g. `github-pat`.
    pub rule_id: String,
    /// Human readable rule title, e.g. `GitHub personal access token`.
    pub title: String,
    pub severity: Severity,
    /// Path inside the scanned artifact (or repository).
    pub path: String,
    /// 1-based line of the start of the secret.
    pub line: u32,
    /// 1-based byte column of the start of the secret.
    pub column: u32,
    /// Image layer the file version came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    /// Image layer that deleted or replaced this file version. The secret is then not visible in the final
    /// filesystem but is still in the image (anyone can extract layer `layer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_in_layer: Option<u32>,
    /// Commit that introduced the blob (git history scans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitInfo>,
    /// Redacted preview of the secret: never the full value.
    pub redacted: String,
    /// Stable hex fingerprint (SHA-256 of rule id, path and secret), usable in an ignore file.
    pub fingerprint: String,
    /// Why the finding is suppressed (e.g. an inline `palisade:allow-secret` comment); `None` when active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

impl SecretFinding {
    /// True when the finding is not suppressed.
    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_fields_are_omitted() {
        let f = SecretFinding {
            rule_id: "x".into(),
            title: "X".into(),
            severity: Severity::Low,
            path: "a".into(),
            line: 1,
            column: 1,
            layer: None,
            deleted_in_layer: None,
            commit: None,
            redacted: "abcd*****".into(),
            fingerprint: "00".into(),
            suppressed: None,
        };
        let j = serde_json::to_string(&f).unwrap_or_default();
        assert!(!j.contains("layer") && !j.contains("commit") && !j.contains("suppressed"), "{j}");
        assert!(j.contains("\"severity\":\"low\""), "{j}");
    }
}
