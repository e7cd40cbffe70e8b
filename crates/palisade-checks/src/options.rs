//! Options of the check engine and the config file that sets them.
//!
//! Config file (TOML), every key optional:
//!
//! ```toml
//! k8s_version = "1.30"                 # Pod Security Standards / deprecated-API target, default newest
//! select = ["pss:restricted", "rbac"]  # groups, ids or globs; empty = every check
//! skip = ["PAL-K8S-05*"]
//! allowed_registries = ["registry.example.com", "ghcr.io/acme"]
//! allowed_base_images = ["docker.io/library/debian"]
//! [image]                               # image-hardening checks (PAL-IMG-005 and on)
//! allowed_tools = ["curl", "bash"]      # tool names never reported (shells, package managers, ...)
//! allowed_paths = ["usr/bin/passwd"]    # path globs exempt from the file checks (setuid, world-writable, owner)
//! max_age_days = 90                     # PAL-IMG-014: older images are reported
//! crds = ["deploy/crds/widget.yaml"]    # CRDs whose schemas validate custom resources (PAL-SCH-001)
//! [severity]                            # severity overrides
//! "PAL-K8S-039" = "high"
//! [[suppress]]                          # suppressions (findings are kept, marked suppressed)
//! id = "PAL-K8S-014"                    # id or glob
//! path = "deploy/legacy/*.yaml"         # optional file glob
//! resource = "Deployment/default/web"   # optional Kind/namespace/name or Kind/name
//! reason = "legacy app, tracked in OPS-12"
//! ```

use crate::ChecksError;
use crate::check::CheckMeta;
use globset::{Glob, GlobMatcher};
use palisade_core::findings::misconfig::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Newest Kubernetes minor version whose Pod Security Standards are known.
pub const NEWEST_K8S_MINOR: u32 = 37;

/// A Kubernetes `1.x` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct K8sVersion {
    pub minor: u32,
}

impl K8sVersion {
    pub const NEWEST: K8sVersion = K8sVersion { minor: NEWEST_K8S_MINOR };

    /// Parse `1.30`, `v1.30`, `1.30.2` or `latest`. Versions newer than the newest known are evaluated as the
    /// newest (as pod-security-admission does).
    pub fn parse(s: &str) -> Result<K8sVersion, ChecksError> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("latest") || t.is_empty() {
            return Ok(K8sVersion::NEWEST);
        }
        let t = t.strip_prefix('v').unwrap_or(t);
        let mut parts = t.split('.');
        let major = parts.next().and_then(|p| p.parse::<u32>().ok());
        let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
        match (major, minor) {
            (Some(1), Some(minor)) => Ok(K8sVersion { minor: minor.min(NEWEST_K8S_MINOR) }),
            _ => Err(ChecksError::Config(format!("k8s_version {s:?} is not a version like \"1.30\""))),
        }
    }

    pub fn at_least(self, minor: u32) -> bool {
        self.minor >= minor
    }
}

impl std::fmt::Display for K8sVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

/// A configured suppression.
#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// Check id or glob.
    pub id: String,
    /// File path glob; any file when absent.
    #[serde(default)]
    pub path: Option<String>,
    /// `Kind/namespace/name` or `Kind/name`; any resource when absent.
    #[serde(default)]
    pub resource: Option<String>,
    pub reason: String,
}

/// Everything that changes what the engine reports.
#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CheckOptions {
    /// Target Kubernetes version (`1.30`); newest when absent.
    #[serde(default)]
    pub k8s_version: Option<String>,
    /// Groups, ids or globs to run; every check when empty.
    #[serde(default)]
    pub select: Vec<String>,
    /// Groups, ids or globs not to run.
    #[serde(default)]
    pub skip: Vec<String>,
    /// Severity overrides by check id.
    #[serde(default, rename = "severity")]
    pub severity_overrides: BTreeMap<String, Severity>,
    #[serde(default)]
    pub suppress: Vec<Suppression>,
    /// Registries (or registry/path prefixes) images may come from; no restriction when empty.
    #[serde(default)]
    pub allowed_registries: Vec<String>,
    /// Base images (`registry/repo` without tag) a Dockerfile may start from; no restriction when empty.
    #[serde(default)]
    pub allowed_base_images: Vec<String>,
    /// Image-hardening options (`[image]`).
    #[serde(default)]
    pub image: ImageOptions,
    /// CustomResourceDefinition files whose schemas validate custom resources (`--crd`, `crds` in the file).
    #[serde(default)]
    pub crds: Vec<std::path::PathBuf>,
    /// The schemas read from `crds` (filled by the engine).
    #[serde(skip)]
    pub crd_schemas: crate::schema::CrdSchemas,
    /// The helm binary that renders Helm charts (`--helm`; not settable from the config file).
    #[serde(skip)]
    pub helm: crate::helm::HelmBinary,
}

/// Options of the image-hardening checks (`[image]` in the config file).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ImageOptions {
    /// Tool names (`curl`, `bash`, `pip`) the tool checks never report.
    pub allowed_tools: Vec<String>,
    /// Globs over paths (no leading `/`; `usr/bin/passwd`, `var/www/**`) the file checks (setuid/setgid,
    /// world-writable, owner, tools) never report.
    pub allowed_paths: Vec<String>,
    /// Images created more than this many days ago are reported (PAL-IMG-014).
    pub max_age_days: u32,
}

impl Default for ImageOptions {
    fn default() -> Self {
        ImageOptions { allowed_tools: Vec::new(), allowed_paths: Vec::new(), max_age_days: 90 }
    }
}

impl ImageOptions {
    /// True when `name` is in `allowed_tools`.
    pub fn tool_allowed(&self, name: &str) -> bool {
        self.allowed_tools.iter().any(|t| t == name)
    }

    /// True when `path` (no leading `/`) matches `allowed_paths`.
    pub fn path_allowed(&self, path: &str) -> bool {
        self.allowed_paths.iter().any(|g| {
            let g = g.trim_start_matches('/');
            globset::GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .map(|g| g.compile_matcher().is_match(path))
                .unwrap_or(false)
        })
    }
}

impl CheckOptions {
    /// Read a TOML config file's content.
    pub fn from_toml(text: &str) -> Result<CheckOptions, ChecksError> {
        toml::from_str(text).map_err(|e| ChecksError::Config(format!("invalid check config: {e}")))
    }
}

/// A compiled selector: a group name, an exact id or a glob over ids.
#[derive(Debug, Clone)]
pub(crate) enum Selector {
    Exact(String),
    Glob(GlobMatcher),
}

impl Selector {
    pub(crate) fn parse(s: &str) -> Result<Selector, ChecksError> {
        let s = s.trim();
        if s.contains(['*', '?', '[']) {
            let g = Glob::new(s).map_err(|e| ChecksError::Config(format!("bad check pattern {s:?}: {e}")))?;
            Ok(Selector::Glob(g.compile_matcher()))
        } else {
            Ok(Selector::Exact(s.to_string()))
        }
    }

    pub(crate) fn matches(&self, meta: &CheckMeta) -> bool {
        match self {
            Selector::Exact(s) => {
                meta.id.eq_ignore_ascii_case(s) || meta.groups.iter().any(|g| g.eq_ignore_ascii_case(s))
            }
            Selector::Glob(g) => g.is_match(meta.id) || meta.groups.iter().any(|x| g.is_match(x)),
        }
    }

    /// True if the selector names something that exists.
    pub(crate) fn known(&self, all: &[&'static dyn crate::check::Check]) -> bool {
        all.iter().any(|c| self.matches(c.meta()))
    }
}

/// Does an id match an id-or-glob pattern?
pub(crate) fn id_matches(pattern: &str, id: &str) -> bool {
    let p = pattern.trim();
    if p.contains(['*', '?', '[']) {
        Glob::new(p).map(|g| g.compile_matcher().is_match(id)).unwrap_or(false)
    } else {
        p.eq_ignore_ascii_case(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(K8sVersion::parse("v1.23.4").ok(), Some(K8sVersion { minor: 23 }));
        assert_eq!(K8sVersion::parse("latest").ok(), Some(K8sVersion::NEWEST));
        assert_eq!(K8sVersion::parse("1.99").ok(), Some(K8sVersion::NEWEST));
        assert!(K8sVersion::parse("2.0").is_err() && K8sVersion::parse("x").is_err());
    }

    #[test]
    fn config_file() {
        let o = CheckOptions::from_toml(
            "k8s_version = \"1.25\"\nselect = [\"rbac\"]\n[severity]\n\"PAL-K8S-039\" = \"high\"\n[[suppress]]\nid = \"PAL-K8S-0*\"\nreason = \"r\"\n",
        );
        let o = o.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.severity_overrides.get("PAL-K8S-039"), Some(&Severity::High));
        assert_eq!(o.suppress.len(), 1);
        assert!(CheckOptions::from_toml("nonsense = 1").is_err());
        let o = CheckOptions::from_toml(
            "[image]\nallowed_tools = [\"curl\"]\nallowed_paths = [\"/usr/bin/pass*\"]\n",
        );
        let o = o.unwrap_or_else(|e| panic!("{e}"));
        assert!(o.image.tool_allowed("curl") && !o.image.tool_allowed("wget"));
        assert!(o.image.path_allowed("usr/bin/passwd") && !o.image.path_allowed("usr/bin/x/passwd"));
        assert_eq!(o.image.max_age_days, 90);
        assert!(CheckOptions::from_toml("[image]\nallowed_tool = []").is_err());
        assert!(CheckOptions::from_toml("[severity]\nX = \"urgent\"").is_err());
    }
}
