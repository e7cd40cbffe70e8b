//! Alerts and where they go.
//!
//! An [`Alert`] has Falco's JSON output shape (`time`, `rule`, `priority`, `output`, `output_fields`,
//! `tags`, `hostname`, `source`), so tools that read Falco's JSON read Palisade's.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One rule match, as Falco prints it with `json_output: true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// RFC 3339 UTC time of the event, nanosecond precision.
    pub time: String,
    pub rule: String,
    /// Falco's priority name (`Critical`, `Warning`, `Notice`, …).
    pub priority: String,
    /// `HH:MM:SS.nnnnnnnnn: Priority rendered-output`, as Falco writes it.
    pub output: String,
    /// Every `%field` of the output template with its value (`null` when absent).
    pub output_fields: BTreeMap<String, serde_json::Value>,
    pub tags: Vec<String>,
    pub hostname: String,
    pub source: String,
}

impl Alert {
    /// One-line JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
