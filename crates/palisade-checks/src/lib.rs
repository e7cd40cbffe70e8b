//! Misconfiguration checks for Kubernetes manifests (Pod Security Standards, workload hygiene, RBAC,
//! networking), Dockerfiles, image configs and (image hardening) the final filesystem of images and root filesystems.
//!
//! ```no_run
//! use palisade_checks::{CheckOptions, Engine};
//! let engine = Engine::new(&CheckOptions::default()).expect("valid options");
//! let result = engine.check_file("deploy.yaml", b"apiVersion: v1\nkind: Pod\n...");
//! for f in &result.findings { println!("{}:{} {} {}", f.file, f.line, f.check_id, f.message); }
//! ```
//!
//! To check many files as one set (relational checks such as "no NetworkPolicy selects this Pod" see every
//! object, Helm charts are rendered), feed them to a [`ConfigSink`] (a `FileSink` for artifact walks) or
//! call [`scan_paths`].

pub mod check;
pub mod checks;
pub mod dockerfile;
pub mod docs;
pub mod dump;
pub mod engine;
pub mod helm;
pub mod image;
pub mod k8s;
pub mod options;
pub mod relate;
pub mod schema;
pub mod sink;
pub mod yaml;

#[cfg(test)]
pub(crate) mod testutil;

pub use check::{Check, CheckMeta, PssLevel, Target};
pub use docs::render_docs;
pub use engine::{Engine, FileError, FileKind, FileResult, IGNORE_ANNOTATION, file_kind};
pub use helm::HelmBinary;
pub use image::{FsEntry, FsSink, ImageFs, ImageInput};
pub use options::{CheckOptions, ImageOptions, K8sVersion, Suppression};
pub use palisade_core::findings::misconfig::{Misconfiguration, ResourceRef, Severity};
pub use sink::{
    ConfigOutcome, ConfigSink, ParsedObject, looks_like_dockerfile, scan_paths, scan_paths_keeping,
};

/// Errors building an engine.
#[derive(Debug, thiserror::Error)]
pub enum ChecksError {
    /// Bad options or config file.
    #[error("{0}")]
    Config(String),
    /// An input that cannot be read at all (the message names it).
    #[error("{0}")]
    Input(String),
}

/// Every check Palisade has (for `palisade checks list/explain`).
pub fn registry() -> &'static [&'static dyn Check] {
    checks::ALL
}

/// Look a check up by id (case-insensitive).
pub fn find_check(id: &str) -> Option<&'static dyn Check> {
    registry().iter().copied().find(|c| c.meta().id.eq_ignore_ascii_case(id))
}
