//! The check interface. Every check is a unit struct in its own file under `checks/`, with static metadata
//! ([`CheckMeta`]) and one entry point per input kind it understands. The registry in `checks/mod.rs` is the
//! one place checks are listed.

use crate::dockerfile::Dockerfile;
use crate::image::ImageInput;
use crate::k8s::Object;
use crate::options::{CheckOptions, K8sVersion};
use crate::relate::{Index, Judge};
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

/// What a check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Kubernetes,
    Dockerfile,
    /// A built image or root filesystem: its config (user, exposed ports, healthcheck) and its final
    /// filesystem (tools, setuid files, permissions, owners).
    Image,
}

/// Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PssLevel {
    Baseline,
    Restricted,
}

/// How a Pod Security Standards check is versioned (facts from kubernetes/pod-security-admission).
#[derive(Debug, Clone, Copy)]
pub struct PssInfo {
    /// The pod-security-admission check id (`hostNamespaces`, `capabilities_restricted`, ...).
    pub psa_id: &'static str,
    pub level: PssLevel,
    /// First policy minor version (1.x) the check exists in.
    pub since_minor: u32,
    /// The baseline check this restricted check replaces at the restricted level (from `since_minor` on).
    pub overrides: Option<&'static str>,
}

/// Static description of a check: what `palisade checks list/explain` and the docs show.
#[derive(Debug, Clone, Copy)]
pub struct CheckMeta {
    /// Stable id: `PAL-PSS-nnn`, `PAL-K8S-nnn`, `PAL-DF-nnn`, `PAL-IMG-nnn`.
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub target: Target,
    /// Selectable groups besides the id (`pss`, `pss:baseline`, `rbac`, `dockerfile`, ...).
    pub groups: &'static [&'static str],
    /// Why it matters.
    pub rationale: &'static str,
    /// How to fix it.
    pub remediation: &'static str,
    /// Standards and docs (PSS control, CIS, NSA/CISA hardening guide, hadolint rule).
    pub references: &'static [&'static str],
    /// Equivalent ids of peer tools (`checkov:CKV_K8S_16`, `kube-linter:privileged-container`).
    pub peers: &'static [&'static str],
    /// Set for Pod Security Standards checks.
    pub pss: Option<PssInfo>,
}

impl CheckMeta {
    /// Defaults for Kubernetes checks (use with struct update syntax).
    pub const K8S: CheckMeta = CheckMeta {
        id: "",
        title: "",
        severity: Severity::Medium,
        target: Target::Kubernetes,
        groups: &["kubernetes"],
        rationale: "",
        remediation: "",
        references: &[],
        peers: &[],
        pss: None,
    };
    /// Defaults for Dockerfile checks.
    pub const DF: CheckMeta =
        CheckMeta { target: Target::Dockerfile, groups: &["dockerfile"], ..CheckMeta::K8S };
    /// Defaults for image-config checks.
    pub const IMG: CheckMeta =
        CheckMeta { target: Target::Image, groups: &["image", "image-hardening"], ..CheckMeta::K8S };
}

/// One failure found by a check, before it becomes a `Misconfiguration`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub line: u32,
    pub col: u32,
    pub message: String,
    pub container: Option<String>,
    /// Image checks: the file the hit is about (no leading `/`), when it is about one.
    pub file: Option<String>,
    /// Image checks: the layer that added that file.
    pub layer: Option<u32>,
}

impl Hit {
    /// A hit at a YAML node.
    pub fn at(node: &Node, message: impl Into<String>) -> Hit {
        Hit {
            line: node.line,
            col: node.col,
            message: message.into(),
            container: None,
            file: None,
            layer: None,
        }
    }

    /// A hit at a line/column.
    pub fn pos(line: u32, col: u32, message: impl Into<String>) -> Hit {
        Hit { line, col, message: message.into(), container: None, file: None, layer: None }
    }

    /// A hit about a file of an image or root filesystem.
    pub fn file(entry: &crate::image::FsEntry, message: impl Into<String>) -> Hit {
        Hit { file: Some(entry.path.clone()), layer: entry.layer, ..Hit::pos(0, 0, message) }
    }

    pub fn in_container(mut self, name: &str) -> Hit {
        self.container = Some(name.to_string());
        self
    }
}

/// What a Kubernetes check can see besides the object: the options, and (through [`K8sCx::relate`]) the
/// other objects of the scan.
pub struct K8sCx<'a> {
    pub opts: &'a CheckOptions,
    pub version: K8sVersion,
    judges: std::cell::RefCell<Vec<Judge>>,
}

impl<'a> K8sCx<'a> {
    pub fn new(opts: &'a CheckOptions, version: K8sVersion) -> Self {
        K8sCx { opts, version, judges: std::cell::RefCell::new(Vec::new()) }
    }

    /// For relational checks: judge the current object once every object of the scan is known (all files of
    /// a `scan config` run or of a scanned artifact; just the file for [`crate::Engine::check_file`]).
    /// `judge` gets the scan's [`Index`] and pushes its hits. It must own what it needs of the current
    /// object (names, labels, the position to report), never the parsed document, so memory stays bounded.
    pub fn relate(&self, judge: impl FnOnce(&Index, &mut Vec<Hit>) + Send + 'static) {
        self.judges.borrow_mut().push(Box::new(judge));
    }

    /// The judgements left since the last call.
    pub(crate) fn take_judges(&self) -> Vec<Judge> {
        std::mem::take(&mut *self.judges.borrow_mut())
    }
}

/// Options for Dockerfile and image checks.
pub struct DfCx<'a> {
    pub opts: &'a CheckOptions,
}

/// A check. Implement the entry point(s) for the target(s) in its metadata.
pub trait Check: Sync + Send {
    fn meta(&self) -> &'static CheckMeta;
    fn k8s(&self, _obj: &Object, _cx: &K8sCx<'_>, _out: &mut Vec<Hit>) {}
    fn dockerfile(&self, _df: &Dockerfile, _cx: &DfCx<'_>, _out: &mut Vec<Hit>) {}
    fn image(&self, _img: &ImageInput<'_>, _cx: &DfCx<'_>, _out: &mut Vec<Hit>) {}
}

impl std::fmt::Debug for dyn Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Check({})", self.meta().id)
    }
}
