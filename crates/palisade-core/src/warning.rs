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

/// Longest message or path a [`Warning`] keeps, in bytes; the rest is cut (see [`bounded`]).
pub const MAX_TEXT: usize = 1024;

/// Text built from scanned input made safe for every output channel: control characters (ANSI escapes,
/// carriage returns, newlines, NUL) shown as `\u{1b}` escapes, and at most `max` bytes kept, the rest
/// replaced by `…(N bytes more)`. A CR-only 50 MB file or a 100 MB corrupt record cannot make a 50 MB
/// warning line.
pub fn bounded(s: &str, max: usize) -> String {
    let needs_escape = s.chars().any(char::is_control);
    if s.len() <= max && !needs_escape {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len().min(max) + 32);
    let mut used = 0usize;
    for (i, c) in s.char_indices() {
        let piece_len = if c.is_control() { c.escape_unicode().count() } else { c.len_utf8() };
        if used + piece_len > max {
            out.push_str(&format!("…({} bytes more)", s.len() - i));
            return out;
        }
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
        used += piece_len;
    }
    out
}

impl Warning {
    /// A warning; the message is passed through [`bounded`].
    pub fn new(source: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        Warning { path: None, layer: None, source: source.into(), message: bounded(&message, MAX_TEXT) }
    }

    /// The file (and layer) it is about; the path is passed through [`bounded`].
    pub fn at(mut self, path: impl Into<String>, layer: Option<u32>) -> Self {
        let path = path.into();
        self.path = Some(bounded(&path, MAX_TEXT));
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

#[cfg(test)]
mod bounded_tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_length_capped() {
        assert_eq!(bounded("plain", 10), "plain");
        assert_eq!(bounded("../\x1b[31mred", 100), "../\\u{1b}[31mred");
        let long = "a\r".repeat(10_000_000);
        let w = Warning::new("dpkg", long.clone()).at(long, None);
        assert!(w.message.len() < MAX_TEXT + 40, "{}", w.message.len());
        assert!(w.message.ends_with("bytes more)"), "{}", &w.message[w.message.len() - 40..]);
        assert!(!w.message.contains('\r'));
        assert!(w.path.as_ref().is_some_and(|p| p.len() < MAX_TEXT + 40));
        // Multi-byte characters are never cut in half.
        let s = bounded(&"é".repeat(2000), 1001);
        assert!(s.starts_with("éé") && s.contains("…("));
    }
}
