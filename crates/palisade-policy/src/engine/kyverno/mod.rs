//! Kyverno `ClusterPolicy`/`Policy` validate rules, and the runner for Kyverno CLI test files.

pub mod test_runner;

use crate::engine::LoadError;
use crate::engine::cel::Source;
use crate::engine::cel::outcome::Explain;

/// Compile Kyverno `ClusterPolicy`/`Policy`/`PolicyException` documents.
pub fn compile(docs: &[Source], errors: &mut Vec<LoadError>) -> Vec<Box<dyn Explain>> {
    for d in docs {
        let kind = d.value.get("kind").and_then(serde_json::Value::as_str).unwrap_or("");
        let name = d.value.pointer("/metadata/name").and_then(serde_json::Value::as_str).unwrap_or("");
        errors.push(LoadError {
            location: d.location.clone(),
            message: format!("{kind} {name}: not supported yet"),
            unsupported: true,
        });
    }
    Vec::new()
}
