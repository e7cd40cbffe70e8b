//! The policy engine: one API for every policy language a bundle holds (Palisade gates, Rego, CEL,
//! Kyverno), called identically by `palisade policy eval`, `palisade scan --policy`, the admission webhook,
//! the registry and the runtime agent.
//!
//! A bundle is compiled once into [`Policy`] objects (see [`crate::bundle`]); each evaluation takes a
//! [`Subject`] (what is judged, with its admission context when there is one) and a [`Budget`] and returns
//! [`Decision`]s. Evaluation does no I/O. A policy that cannot finish within its budget, or fails at run
//! time, returns a decision with [`Outcome::Error`] naming itself; it never hangs or takes the others down.
//! Policies are `Send + Sync`: one compiled bundle serves many threads at once.

pub mod gate;

pub use palisade_core::findings::policy::{
    Action, Decision, Language, ObjectRef, Origin, Outcome, SourceLocation,
};
use palisade_core::json::JsonPointer;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Instant;

/// What kind of document a subject is; policies select on it (conftest reads Dockerfiles, Gatekeeper and
/// Kyverno read Kubernetes objects, gates read scan reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubjectKind {
    /// A Kubernetes object (has `apiVersion` and `kind`).
    KubernetesObject,
    /// A Dockerfile, in conftest's parsed shape (a list of `{Cmd, Flags, Value, Stage, ...}`).
    Dockerfile,
    /// A Palisade scan report (`ScanReport` as JSON).
    ScanReport,
    /// Any other structured document (JSON, YAML, TOML, ...), as conftest reads it.
    Document,
}

/// The admission operation, as in `AdmissionRequest.operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    #[default]
    Create,
    Update,
    Delete,
    Connect,
}

/// Who asks, as in `AdmissionRequest.userInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// The admission context of a subject. Outside admission (CI, `policy eval`) a subject gets the default
/// context a policy engine's CLI assumes: a CREATE by an anonymous user, not a dry run.
#[derive(Debug, Clone, Default)]
pub struct AdmissionContext {
    pub operation: Operation,
    /// The object before the change (UPDATE, DELETE).
    pub old_object: Option<Value>,
    /// The namespace the object is in, when known (namespaceSelector, Pod Security labels).
    pub namespace_object: Option<Value>,
    pub user_info: UserInfo,
    pub dry_run: bool,
    /// `exec`, `attach`, `ephemeralcontainers`, ... for subresource requests.
    pub sub_resource: Option<String>,
    /// The whole `AdmissionRequest` as received, for policies that read fields not modelled here.
    pub request: Option<Value>,
}

/// What is evaluated.
///
/// Engines may derive a form of the subject once and keep it in [`Subject::memo`] for the other policies
/// of the same evaluation: set the fields before evaluating, not between evaluations. A clone starts with
/// an empty memo, so `Subject { value: other, ..subject.clone() }` is safe.
#[derive(Debug, Clone)]
pub struct Subject {
    pub kind: SubjectKind,
    pub value: Value,
    pub origin: Origin,
    pub admission: AdmissionContext,
    pub memo: Memo,
}

/// Forms of a [`Subject`] derived once per subject by the engines that need them.
#[derive(Default)]
pub struct Memo {
    /// Gatekeeper's `input.review`, converted for regorus.
    pub(crate) rego_review: std::sync::OnceLock<regorus::Value>,
    /// The CEL variables of the subject (`object`, `oldObject`, `request`, `namespaceObject`), converted
    /// once for every CEL policy.
    pub(crate) cel: self::cel::program::SubjectVars,
}

impl Clone for Memo {
    fn clone(&self) -> Self {
        Memo::default()
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Memo")
    }
}

impl Subject {
    /// A Kubernetes object read from a file, with the default (CLI) admission context.
    pub fn object(value: Value, origin: Origin) -> Self {
        Subject {
            kind: SubjectKind::KubernetesObject,
            value,
            origin,
            admission: AdmissionContext::default(),
            memo: Memo::default(),
        }
    }

    /// A subject from an `AdmissionRequest` (the `request` of an `AdmissionReview`): its `object` (or
    /// `oldObject` for a DELETE) with the request's operation, old object, user, dry-run flag and
    /// sub-resource. `None` when the request has neither object.
    pub fn from_admission_request(request: &Value, origin: Origin) -> Option<Self> {
        let object = request.get("object").filter(|o| !o.is_null());
        let old = request.get("oldObject").filter(|o| !o.is_null()).cloned();
        let value = object.cloned().or_else(|| old.clone())?;
        let operation = request
            .get("operation")
            .cloned()
            .and_then(|o| serde_json::from_value(o).ok())
            .unwrap_or_default();
        let user_info =
            request.get("userInfo").cloned().and_then(|u| serde_json::from_value(u).ok()).unwrap_or_default();
        let origin = Origin {
            request_uid: origin
                .request_uid
                .clone()
                .or_else(|| request.get("uid").and_then(Value::as_str).map(str::to_owned)),
            ..origin
        };
        Some(Subject {
            kind: SubjectKind::KubernetesObject,
            value,
            origin,
            admission: AdmissionContext {
                operation,
                old_object: old,
                namespace_object: None,
                user_info,
                dry_run: request.get("dryRun").and_then(Value::as_bool).unwrap_or(false),
                sub_resource: request.get("subResource").and_then(Value::as_str).map(str::to_owned),
                request: Some(request.clone()),
            },
            memo: Memo::default(),
        })
    }

    /// `kind/namespace/name` of a Kubernetes subject (`kind/name` when cluster-scoped), else the file and
    /// document it came from.
    pub fn reference(&self) -> ObjectRef {
        let s = |p: &str| self.value.at(p).and_then(Value::as_str).map(str::to_owned);
        ObjectRef {
            api_version: s("/apiVersion"),
            kind: s("/kind"),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name").or_else(|| s("/metadata/generateName")),
            origin: self.origin.clone(),
        }
    }
}

/// Limits for one evaluation of one policy on one subject.
///
/// Rego (regorus) enforces the wall-clock `deadline` only; it has no step counter, so `rego_steps` is not
/// enforced and an evaluation without a deadline gets `engine::rego::DEFAULT_TIME_LIMIT`.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Wall-clock deadline; a policy still running after it returns an [`Outcome::Error`] decision.
    pub deadline: Option<Instant>,
    /// CEL cost units per expression evaluation (Kubernetes' per-expression limit is 1,000,000).
    pub cel_cost: u64,
    /// Rego: maximum number of evaluation steps (rules, calls, iterations) the engine may take.
    pub rego_steps: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { deadline: None, cel_cost: 1_000_000, rego_steps: 10_000_000 }
    }
}

impl Budget {
    /// Whether the wall-clock deadline has passed.
    pub fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// A compiled policy. Implementations hold everything they need; `evaluate` does no I/O.
pub trait Policy: Send + Sync + std::fmt::Debug {
    fn language(&self) -> Language;
    /// The policy's name, as in [`Decision::policy`].
    fn name(&self) -> &str;
    /// The conftest namespace (Rego package) of a conftest policy, which callers select with
    /// `--namespace` (conftest's default is `main`); `None` for every other kind of policy, which is always
    /// eligible.
    fn namespace(&self) -> Option<&str> {
        None
    }
    /// Cheap selection (kinds, namespaces, selectors, subject kind): only policies that select a subject
    /// are evaluated on it.
    fn selects(&self, subject: &Subject) -> bool;
    /// Evaluate every rule on `subject`; violations and errors only.
    fn evaluate(&self, subject: &Subject, budget: &Budget) -> Vec<Decision>;
}

/// A problem in a policy file found while loading or linting a bundle. Loading goes on with the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadError {
    pub location: SourceLocation,
    pub message: String,
    /// Whether this is a feature Palisade does not run (e.g. a Kyverno mutate rule), as opposed to an error.
    #[serde(default)]
    pub unsupported: bool,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = if self.unsupported { "unsupported" } else { "error" };
        write!(f, "{}: {what}: {}", self.location, self.message)
    }
}

/// The result of one test case run by `palisade policy test` (Rego `test_*` rules, gator `suite.yaml`,
/// `kyverno-test.yaml`, Palisade's own cases).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResult {
    /// The suite: the test file.
    pub suite: PathBuf,
    /// The case within it.
    pub name: String,
    pub passed: bool,
    /// Why it failed (expected vs got), or why it was skipped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Not run (needs a live cluster, an unsupported feature, ...): neither passed nor failed.
    #[serde(default)]
    pub skipped: bool,
}

pub mod rego;

/// Evaluate every policy that selects `subject`, in order, each with its own copy of `budget`.
pub fn evaluate_all(policies: &[Box<dyn Policy>], subject: &Subject, budget: &Budget) -> Vec<Decision> {
    policies.iter().filter(|p| p.selects(subject)).flat_map(|p| p.evaluate(subject, budget)).collect()
}

/// The conftest namespace run when none is chosen, as conftest does.
pub const DEFAULT_NAMESPACE: &str = "main";

/// Like [`evaluate_all`], with conftest policies limited to the default namespace (`main`): what
/// `scan --policy` and the admission webhook run.
pub fn evaluate_default(policies: &[Box<dyn Policy>], subject: &Subject, budget: &Budget) -> Vec<Decision> {
    policies
        .iter()
        .filter(|p| p.namespace().is_none_or(|n| n == DEFAULT_NAMESPACE))
        .filter(|p| p.selects(subject))
        .flat_map(|p| p.evaluate(subject, budget))
        .collect()
}
pub mod cel;
pub mod kyverno;
