//! Findings of the misconfiguration scanner (`palisade-checks`): one [`Misconfiguration`] per failed check on
//! one resource (Kubernetes object, Dockerfile instruction or image config), pointing at the offending field.

use serde::{Deserialize, Serialize};

pub use crate::severity::Severity;

/// The object a finding is about: a Kubernetes resource, a Dockerfile stage or an image config.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceRef {
    /// `Deployment`, `ClusterRole`, ... for Kubernetes; `Dockerfile` or `ImageConfig` otherwise.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`; for Dockerfiles the stage name or index.
    #[serde(default)]
    pub name: String,
}

/// One failed check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Misconfiguration {
    /// Stable check id, e.g. `PAL-K8S-014`, `PAL-PSS-002`, `PAL-DF-009`.
    pub check_id: String,
    pub title: String,
    /// Effective severity (after configured overrides).
    pub severity: Severity,
    /// Path of the file, as given to the checker (relative to the artifact root for scans).
    pub file: String,
    /// 1-based line of the offending field (0 when there is no file position, e.g. image configs).
    pub line: u32,
    /// 1-based column of the offending field (0 when unknown).
    pub column: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceRef>,
    /// Container name, for per-container Kubernetes checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// What is wrong here, concretely.
    pub message: String,
    /// How to fix it.
    pub remediation: String,
    /// Standards and documentation (PSS control, CIS, NSA/CISA), plus peer tool ids (`checkov:CKV_K8S_16`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Image layer of the file, for image scans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    /// `Some(reason)` when the finding was suppressed by an annotation or the config file. Suppressed
    /// findings are kept so reports can show them, but they must not fail a build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

impl Misconfiguration {
    /// True when the finding counts (is not suppressed).
    pub fn is_active(&self) -> bool {
        self.suppressed.is_none()
    }
}
