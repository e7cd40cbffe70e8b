//! What was scanned: the artifact, its layers and (for images) its configuration.
//!
//! `palisade-artifact` fills these in; later stages read them (checks read the image config, reports cite
//! layers). Layer indexes used in [`crate::Location`] and [`crate::Warning`] index [`ArtifactInfo::layers`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kind of target a scan ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// A container image (registry, docker-archive, OCI layout or oci-archive).
    Image,
    /// An unpacked root filesystem.
    Rootfs,
    /// A project directory.
    Fs,
    /// A git repository (its HEAD).
    Repo,
    /// An SBOM document read as input.
    Sbom,
}

impl std::fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ArtifactKind::Image => "image",
            ArtifactKind::Rootfs => "rootfs",
            ArtifactKind::Fs => "fs",
            ArtifactKind::Repo => "repo",
            ArtifactKind::Sbom => "sbom",
        })
    }
}

/// Everything known about the scanned artifact itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactInfo {
    pub kind: ArtifactKind,
    /// What the user named: an image reference, a path.
    pub name: String,
    /// Image: where it was read from: `docker`, `podman`, `containerd` (local engines), `registry`, or
    /// `archive` (a file or directory given with `--input`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Image: the image id (config digest) as the engine reports it. Repo: HEAD commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Image: manifest digests (`repo@sha256:...`) when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
    /// Image: tags (`repo:tag`) when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_tags: Vec<String>,
    /// Image: `os/arch[/variant]` actually scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<LayerInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ImageConfig>,
}

impl ArtifactInfo {
    pub fn new(kind: ArtifactKind, name: impl Into<String>) -> Self {
        ArtifactInfo {
            kind,
            name: name.into(),
            source: None,
            id: None,
            repo_digests: Vec::new(),
            repo_tags: Vec::new(),
            platform: None,
            layers: Vec::new(),
            config: None,
        }
    }
}

/// One image layer, in application order (index 0 is the base).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    pub index: u32,
    /// Digest of the layer blob as stored (compressed), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Digest of the uncompressed layer tar (`rootfs.diff_ids`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<String>,
    /// The history `created_by` of the instruction that made the layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Compressed size in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// The parts of an OCI/Docker image config that checks and reports use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// `User`; empty or absent means root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// `ExposedPorts` keys, e.g. `80/tcp`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposed_ports: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `Healthcheck.Test`, e.g. `["CMD-SHELL", "curl -f http://localhost/"]`; `["NONE"]` disables it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
}

/// One entry of the image history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct HistoryEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// True when the step made no layer (`ENV`, `CMD`, ...).
    #[serde(default)]
    pub empty_layer: bool,
}
