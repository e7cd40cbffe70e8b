//! Policy decisions: what a policy engine (Palisade gates, Rego, CEL, Kyverno) said about one object.
//! The engines live in `palisade-policy`; the types live here so every report format can carry them.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Which language a policy is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Palisade's own gates over scan results (plain YAML).
    Gate,
    /// Rego: conftest policies and Gatekeeper ConstraintTemplates.
    Rego,
    /// CEL: ValidatingAdmissionPolicy and Kyverno `ValidatingPolicy`.
    Cel,
    /// Kyverno `ClusterPolicy`/`Policy` validate rules.
    Kyverno,
}

/// What a failed rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Refuse (admission), fail the gate (CI).
    Deny,
    /// Tell the user (admission `warnings`, CI report) but let it pass.
    Warn,
    /// Record only (audit annotation, report, log line).
    Audit,
}

/// What a decision says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The rule's condition is violated by the subject.
    Violation,
    /// The policy could not be evaluated (budget exceeded, run-time error): callers apply their failure
    /// policy (admission: the policy's failure action; CI: fail).
    Error,
}

/// Where a subject came from, for messages: a file and the document's index in it, or an admission request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// 0-based index of the document in a multi-document file.
    #[serde(default)]
    pub document: usize,
    /// The admission request's `uid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_uid: Option<String>,
}

/// The object a decision is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub origin: Origin,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.kind, &self.name) {
            (Some(kind), Some(name)) => match &self.namespace {
                Some(ns) => write!(f, "{kind}/{ns}/{name}"),
                None => write!(f, "{kind}/{name}"),
            },
            _ => match &self.origin.path {
                Some(p) if self.origin.document > 0 => write!(f, "{}#{}", p.display(), self.origin.document),
                Some(p) => write!(f, "{}", p.display()),
                None => f.write_str("(input)"),
            },
        }
    }
}

/// A place in a policy file, for decisions and load errors (1-based line and column; 0 = unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLocation {
    pub path: PathBuf,
    #[serde(default)]
    pub line: usize,
    #[serde(default)]
    pub column: usize,
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        Ok(())
    }
}

/// One result of evaluating one rule of one policy on one subject. Passing rules produce no decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub language: Language,
    /// The policy: gate name, Rego package or ConstraintTemplate/constraint (`template/constraint`),
    /// ValidatingAdmissionPolicy or Kyverno policy name.
    pub policy: String,
    /// The rule inside the policy (Rego rule, Kyverno rule, VAP validation index or reason).
    pub rule: String,
    pub object: ObjectRef,
    pub message: String,
    pub action: Action,
    pub outcome: Outcome,
    /// Where the policy (or rule) is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLocation>,
    /// The rule's METADATA annotations (Rego): `title`, `description` and `custom`, when it has any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<serde_json::Value>,
}

/// What a policy bundle decided about a scan (`palisade scan --policy`), carried in the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyResult {
    /// The bundle's name and version (from `palisade-policy.yaml`), or its path.
    pub bundle: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Every decision: violations and errors, by policy and rule.
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// Policy files that could not be loaded (`file:line:col: message`): the rest of the bundle still ran.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Rules Palisade does not run (Kyverno mutate/generate rules, ...), by name: reported, never passed
    /// silently, but not failures of the gate (they do not validate anything).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsupported: Vec<String>,
}

impl PolicyResult {
    /// Decisions that fail a gate: `deny` violations and every error.
    pub fn failing(&self) -> impl Iterator<Item = &Decision> {
        self.decisions.iter().filter(|d| d.outcome == Outcome::Error || d.action == Action::Deny)
    }
}
