//! Gates over Kubernetes objects: a gate with `misconfigurations` or `podSecurity` also judges the
//! objects themselves (manifests in `policy eval`, requests at admission), with Palisade's own checks run
//! on the object, so CI and the cluster's door apply the same checks.
//!
//! `podSecurity` follows Pod Security Admission: the namespace's `pod-security.kubernetes.io/enforce`,
//! `warn` and `audit` labels choose the level of each mode (when the namespace object is known and
//! `namespaceLabels` is on); otherwise the gate's `level` applies with the gate's action. As in PSA, the
//! `enforce` mode refuses Pods only: for Pod controllers its violations are warnings ("the Pods it creates
//! will be refused"). `*-version` labels are not read: checks are those of the newest Kubernetes version.

use super::spec::PodSecurityRule;
use crate::engine::{Action, Subject};
use palisade_checks::{CheckOptions, Engine, Misconfiguration};
use palisade_core::json::JsonPointer;
use serde_json::{Value, json};

/// The checks engine of one gate, limited to the checks the gate can use.
pub(super) struct ObjectChecker {
    engine: Engine,
}

impl std::fmt::Debug for ObjectChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectChecker").field("checks", &self.engine.checks().len()).finish()
    }
}

impl ObjectChecker {
    /// An engine running only `select` (groups, ids, globs).
    pub fn new(select: Vec<String>) -> Result<ObjectChecker, String> {
        let opts = CheckOptions { select, ..CheckOptions::default() };
        Engine::new(&opts).map(|engine| ObjectChecker { engine }).map_err(|e| e.to_string())
    }

    /// The findings of the checks on one object (not suppressed ones).
    pub fn check(&self, object: &Value) -> Vec<Misconfiguration> {
        let text = object.to_string();
        let mut found = self.engine.check_manifest("object", &text).findings;
        found.retain(|m| m.suppressed.is_none());
        found
    }
}

/// A scan report holding the misconfigurations of one object, read by the same code as reports from
/// scans. Findings carry the object's file (or `kind/namespace/name` at admission) without a line.
pub(super) fn object_report(subject: &Subject, findings: &[Misconfiguration]) -> Value {
    let reference = subject.reference();
    let label = reference.to_string();
    let file = subject.origin.path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| label.clone());
    let misconfigurations: Vec<Value> = findings
        .iter()
        .map(|m| {
            let container = m.container.as_ref().map(|c| format!(" (container {c})")).unwrap_or_default();
            json!({
                "check_id": m.check_id,
                "severity": m.severity,
                "file": file,
                "line": 0,
                "message": format!("{}{container}", m.message),
            })
        })
        .collect();
    json!({
        "artifact": {"kind": "kubernetes", "name": label},
        "misconfigurations": misconfigurations,
        "scanners": ["misconfig"],
    })
}

/// The PSA modes that apply to this object: (level group, action), one per mode.
pub(super) fn pod_security_modes(
    rule: &PodSecurityRule,
    gate_action: Action,
    subject: &Subject,
) -> Vec<(&'static str, Action, &'static str)> {
    let is_pod = subject.value.get("kind").and_then(Value::as_str) == Some("Pod");
    let labels = rule
        .namespace_labels
        .then(|| subject.admission.namespace_object.as_ref()?.at("/metadata/labels"))
        .flatten();
    // Present labels: Some(level group), or Some(None) for `privileged` (nothing checked in that mode).
    let label =
        |mode: &str| labels?.get(format!("pod-security.kubernetes.io/{mode}"))?.as_str().map(level_group);
    let modes: Vec<(&str, Option<Option<&'static str>>)> =
        ["enforce", "warn", "audit"].into_iter().map(|m| (m, label(m))).collect();
    if modes.iter().all(|(_, l)| l.is_none()) {
        return rule.level.map(|g| vec![(g, gate_action, "gate")]).unwrap_or_default();
    }
    modes
        .into_iter()
        .filter_map(|(mode, group)| {
            let group = group.flatten();
            let action = match mode {
                "enforce" if is_pod => Action::Deny,
                "enforce" | "warn" => Action::Warn,
                _ => Action::Audit,
            };
            Some((group?, action, mode))
        })
        .collect()
}

/// The check group of a Pod Security level; `None` for `privileged` (nothing is checked).
pub(super) fn level_group(level: &str) -> Option<&'static str> {
    match level {
        "baseline" => Some("pss:baseline"),
        "restricted" => Some("pss:restricted"),
        _ => None,
    }
}
