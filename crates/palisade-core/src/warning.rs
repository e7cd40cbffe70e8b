//! Non-fatal problems met during a scan.
//!
//! A hostile or malformed input never aborts a scan: the stage that meets it records a [`Warning`] naming the
//! file (and layer) and what is wrong, and the scan of the rest goes on. Warnings end up in the report.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// One problem with one input, e.g. a corrupt lockfile or a tar entry that escapes the root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Path of the offending file inside the scanned artifact, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Index of the image layer the file came from (into [`crate::ArtifactInfo::layers`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    /// Which component noticed it, e.g. `artifact`, `dpkg`, `npm-lock`.
    pub source: String,
    /// Human readable: what is wrong and what was done about it.
    pub message: String,
}

impl Warning {
    pub fn new(source: impl Into<String>, message: impl Into<String>) -> Self {
        Warning { path: None, layer: None, source: source.into(), message: message.into() }
    }

    pub fn at(mut self, path: impl Into<String>, layer: Option<u32>) -> Self {
        self.path = Some(path.into());
        self.layer = layer;
        self
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.source)?;
        if let Some(p) = &self.path {
            write!(f, "{p}")?;
            if let Some(l) = self.layer {
                write!(f, " (layer {l})")?;
            }
            write!(f, ": ")?;
        }
        f.write_str(&self.message)
    }
}

/// A thread-safe collector of warnings, shared by parallel stages.
#[derive(Debug, Default)]
pub struct Warnings(Mutex<Vec<Warning>>);

impl Warnings {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&self, w: Warning) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(w);
    }

    pub fn into_vec(self) -> Vec<Warning> {
        self.0.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// Copies of the warnings about image layer `layer` (the layer cache keeps them with the layer).
    pub fn of_layer(&self, layer: u32) -> Vec<Warning> {
        let all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().filter(|w| w.layer == Some(layer)).cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
