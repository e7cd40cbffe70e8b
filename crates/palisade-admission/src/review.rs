//! One `AdmissionReview` in, one out: the decision logic of the webhook, free of I/O so it is tested on
//! real request bodies without a server.
//!
//! `admission.k8s.io/v1` and `v1beta1` are read; the response uses the request's `apiVersion`. The object
//! judged is `request.object`, or `request.oldObject` for DELETE. Requests in an excluded namespace (always
//! the webhook's own), from an excluded user or group, are admitted without evaluation. An object carrying
//! the break-glass annotation is admitted, with a warning and an audit annotation, and the bypass is logged
//! by the server. Otherwise every policy of the bundle that selects the object is evaluated within the time
//! budget: `deny` violations refuse the request with one line per violation; `warn` decisions become
//! `warnings`; `audit` decisions become `auditAnnotations`; policies that failed to evaluate follow
//! `on_error`.

use crate::images::{DecisionCache, Fact, FactSource, ImageFacts, images_of, repository_of};
use crate::namespaces::NamespaceCache;
use palisade_policy::engine::{
    Action, AdmissionContext, Budget, Decision, Language, Operation, Origin, Outcome, Policy, Subject,
    SubjectKind, UserInfo, evaluate_default,
};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Largest number of warnings returned (the API server caps their total size too).
const MAX_WARNINGS: usize = 50;
/// Longest message line kept per decision.
const MAX_LINE: usize = 512;

/// What to do when a policy could not be evaluated (budget exceeded, run-time error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Refuse the request (fail closed).
    Deny,
    /// Admit it and say so in a warning and a metric (fail open).
    Allow,
}

/// Decision settings of the webhook.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Namespaces never evaluated (the webhook's own is added by the server).
    pub excluded_namespaces: Vec<String>,
    pub excluded_users: Vec<String>,
    pub excluded_groups: Vec<String>,
    /// Annotation that admits an object whatever the policies say (its value should give the reason).
    pub break_glass_annotation: String,
    pub on_error: OnError,
    /// Time budget for evaluating one request.
    pub budget: Duration,
    /// What an image without a scan report gets when image facts are on: `None` admits it silently,
    /// else a decision with this action (`warn` by default).
    pub unknown_image: Option<Action>,
    /// Judge the images of objects by their scan reports at `/validate` (image facts on). Without it,
    /// image facts serve only digest pinning at `/mutate`.
    pub judge_images: bool,
}

/// What a review can read besides the request: image facts and the namespaces the webhook knows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub images: Option<ImageContext<'a>>,
    pub namespaces: Option<&'a NamespaceCache>,
}

/// Image facts for a review: where facts come from and the decision cache of the compiled bundle.
#[derive(Debug, Clone, Copy)]
pub struct ImageContext<'a> {
    pub facts: &'a dyn ImageFacts,
    pub decisions: &'a DecisionCache,
}

/// How one image of a review was settled, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageOutcome {
    /// A report was known and its decisions were cached.
    Cached,
    /// A report was known and evaluated now (first sight for this bundle and namespace).
    Evaluated,
    /// Scanned for this request within its budget.
    Scanned,
    /// No report: the unknown-image action applied.
    Unknown,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            excluded_namespaces: Vec::new(),
            excluded_users: Vec::new(),
            excluded_groups: Vec::new(),
            break_glass_annotation: "palisade.dev/break-glass".into(),
            on_error: OnError::Deny,
            budget: Duration::from_millis(1500),
            unknown_image: Some(Action::Warn),
            judge_images: true,
        }
    }
}

/// Why a body is not a usable `AdmissionReview` (answered with HTTP 400).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(pub String);

/// How a request was settled, for the response, the metrics and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    Evaluated,
    Excluded,
    BreakGlass,
    /// `/mutate`: images pinned to digests (or nothing to pin).
    Mutated,
}

/// The outcome of one review.
#[derive(Debug)]
pub struct Reviewed {
    /// The `AdmissionReview` to send back.
    pub response: Value,
    pub allowed: bool,
    pub path: Path,
    pub decisions: Vec<Decision>,
    /// Policies that failed to evaluate and were let through (`OnError::Allow`).
    pub failed_open: usize,
    /// `kind/namespace/name` of the object, for logs.
    pub object: String,
    pub uid: String,
    pub dry_run: bool,
    /// How each distinct image of the object was settled (empty without image facts).
    pub images: Vec<ImageOutcome>,
    /// `/mutate`: images pinned to their digest.
    pub pinned: usize,
}

/// The parts of an `AdmissionReview` request the webhook reads.
struct Request {
    api_version: String,
    uid: String,
    operation: Operation,
    /// `request.object`, or `request.oldObject` for DELETE.
    object: Value,
    old_object: Option<Value>,
    namespace: String,
    user: UserInfo,
    dry_run: bool,
    sub_resource: Option<String>,
    /// `kind/namespace/name`, for messages and logs.
    label: String,
    /// The whole request, for policies that read fields not modelled here.
    raw: Value,
}

impl Request {
    fn parse(body: &[u8]) -> Result<Request, BadRequest> {
        let review: Value =
            serde_json::from_slice(body).map_err(|e| BadRequest(format!("body is not JSON: {e}")))?;
        let api_version = review.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        if !matches!(api_version, "admission.k8s.io/v1" | "admission.k8s.io/v1beta1") {
            return Err(BadRequest(format!(
                "apiVersion {api_version:?} is not admission.k8s.io/v1 or admission.k8s.io/v1beta1"
            )));
        }
        if review.get("kind").and_then(Value::as_str) != Some("AdmissionReview") {
            return Err(BadRequest("kind is not AdmissionReview".into()));
        }
        let request =
            review.get("request").filter(|r| r.is_object()).ok_or_else(|| BadRequest("no request".into()))?;
        let uid = request.get("uid").and_then(Value::as_str).filter(|u| !u.is_empty());
        let uid = uid.ok_or_else(|| BadRequest("request.uid is missing".into()))?.to_string();
        let s = |k: &str| request.get(k).and_then(Value::as_str).unwrap_or("");
        let operation = match s("operation") {
            "CREATE" => Operation::Create,
            "UPDATE" => Operation::Update,
            "DELETE" => Operation::Delete,
            "CONNECT" => Operation::Connect,
            other => {
                return Err(BadRequest(format!(
                    "request.operation {other:?} is not CREATE, UPDATE, DELETE or CONNECT"
                )));
            }
        };
        let present = |k: &str| request.get(k).filter(|v| !v.is_null()).cloned();
        let object = match operation {
            Operation::Delete => present("oldObject").or_else(|| present("object")),
            _ => present("object"),
        };
        let object =
            object.ok_or_else(|| BadRequest(format!("request.object is missing for {}", s("operation"))))?;
        let namespace = s("namespace").to_string();
        let user: UserInfo = request
            .get("userInfo")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .unwrap_or_default()
            .unwrap_or_default();
        let dry_run = request.get("dryRun").and_then(Value::as_bool).unwrap_or(false);
        let sub_resource = Some(s("subResource")).filter(|x| !x.is_empty()).map(str::to_string);
        let kind = request
            .pointer("/kind/kind")
            .and_then(Value::as_str)
            .or_else(|| object.get("kind").and_then(Value::as_str));
        let name = Some(s("name"))
            .filter(|n| !n.is_empty())
            .or_else(|| object.pointer("/metadata/name").and_then(Value::as_str));
        let label = match (kind, namespace.as_str(), name) {
            (k, "", n) => format!("{}/{}", k.unwrap_or("?"), n.unwrap_or("?")),
            (k, ns, n) => format!("{}/{ns}/{}", k.unwrap_or("?"), n.unwrap_or("?")),
        };
        Ok(Request {
            api_version: api_version.to_string(),
            uid,
            operation,
            old_object: present("oldObject"),
            object,
            namespace,
            user,
            dry_run,
            sub_resource,
            label,
            raw: request.clone(),
        })
    }

    /// Admitted without evaluation: an excluded namespace, user or group.
    fn excluded(&self, settings: &Settings) -> bool {
        settings.excluded_namespaces.contains(&self.namespace)
            || settings.excluded_users.contains(&self.user.username)
            || self.user.groups.iter().any(|g| settings.excluded_groups.contains(g))
    }

    /// The break-glass annotation's value (the reason), when the object carries it.
    fn break_glass<'a>(&'a self, settings: &Settings) -> Option<&'a str> {
        self.object
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(&settings.break_glass_annotation))
            .and_then(Value::as_str)
    }
}

/// Review one request body against the compiled policies; with `images`, the scan reports of the
/// object's images are judged by the same policies (gates over reports), as in CI.
pub fn review(
    body: &[u8],
    policies: &[Box<dyn Policy>],
    settings: &Settings,
    context: &Context<'_>,
) -> Result<Reviewed, BadRequest> {
    let req = Request::parse(body)?;
    let Request { ref api_version, ref uid, operation, dry_run, ref namespace, ref label, .. } = req;

    let respond = |allowed: bool,
                   message: Option<String>,
                   warnings: Vec<String>,
                   audit: serde_json::Map<String, Value>| {
        let mut response = json!({ "uid": uid, "allowed": allowed });
        if let Some(message) = message {
            response["status"] = json!({ "code": 403, "reason": "Forbidden", "message": message });
        }
        if !warnings.is_empty() {
            response["warnings"] = json!(warnings);
        }
        if !audit.is_empty() {
            response["auditAnnotations"] = Value::Object(audit);
        }
        json!({ "apiVersion": api_version, "kind": "AdmissionReview", "response": response })
    };
    let done = |response, allowed, path, decisions, failed_open| Reviewed {
        response,
        allowed,
        path,
        decisions,
        failed_open,
        object: label.clone(),
        uid: uid.clone(),
        dry_run,
        images: Vec::new(),
        pinned: 0,
    };

    if req.excluded(settings) {
        remember_namespace(context, &req.object, operation, dry_run, true);
        return Ok(done(
            respond(true, None, Vec::new(), Default::default()),
            true,
            Path::Excluded,
            Vec::new(),
            0,
        ));
    }
    if let Some(reason) = req.break_glass(settings) {
        remember_namespace(context, &req.object, operation, dry_run, true);
        let mut audit = serde_json::Map::new();
        audit.insert("palisade.dev/break-glass".into(), json!(reason));
        let warning = format!(
            "admitted without policy evaluation: break-glass annotation {} ({reason}); this bypass is recorded",
            settings.break_glass_annotation
        );
        return Ok(done(respond(true, None, vec![warning], audit), true, Path::BreakGlass, Vec::new(), 0));
    }

    let subject = Subject {
        memo: Default::default(),
        kind: SubjectKind::KubernetesObject,
        origin: Origin { path: None, document: 0, request_uid: Some(uid.clone()) },
        admission: AdmissionContext {
            operation,
            old_object: req.old_object,
            namespace_object: context.namespaces.and_then(|c| c.get(namespace)),
            user_info: req.user,
            dry_run,
            sub_resource: req.sub_resource,
            request: Some(req.raw),
        },
        value: req.object,
    };
    let deadline = Instant::now() + settings.budget;
    let budget = Budget { deadline: Some(deadline), ..Budget::default() };
    let mut decisions = evaluate_default(policies, &subject, &budget);
    let mut image_outcomes = Vec::new();
    let judged = matches!(operation, Operation::Create | Operation::Update)
        && subject.admission.sub_resource.is_none();
    if let Some(ctx) = context.images.filter(|_| judged && settings.judge_images) {
        let mut seen = HashSet::new();
        for ci in images_of(&subject.value) {
            if !seen.insert(ci.image.clone()) {
                continue;
            }
            match ctx.facts.fact(&ci.image, deadline) {
                Fact::Scanned { digest, report, source } => {
                    let (found, cached) = ctx.decisions.get_or_insert(&digest, namespace, || {
                        let report_subject = Subject {
                            memo: Default::default(),
                            kind: SubjectKind::ScanReport,
                            value: (*report).clone(),
                            origin: subject.origin.clone(),
                            admission: AdmissionContext {
                                operation,
                                namespace_object: Some(json!({ "metadata": { "name": namespace } })),
                                user_info: subject.admission.user_info.clone(),
                                dry_run,
                                ..AdmissionContext::default()
                            },
                        };
                        evaluate_default(policies, &report_subject, &budget)
                    });
                    image_outcomes.push(match (source, cached) {
                        (FactSource::ScannedNow, _) => ImageOutcome::Scanned,
                        (_, true) => ImageOutcome::Cached,
                        (_, false) => ImageOutcome::Evaluated,
                    });
                    decisions.extend(found.iter().map(|d| Decision {
                        message: format!("image {} ({}, {digest}): {}", ci.image, ci.container, d.message),
                        ..d.clone()
                    }));
                }
                Fact::Unknown { digest, reason } => {
                    image_outcomes.push(ImageOutcome::Unknown);
                    // Signature requirements need only the digest: judge them even without a report.
                    if let Some(d) = &digest {
                        let (found, _) =
                            ctx.decisions.get_or_insert(&format!("{d}#digest-only"), namespace, || {
                                let digest_subject = Subject {
                                    memo: Default::default(),
                                    kind: SubjectKind::ScanReport,
                                    value: json!({
                                        "artifact": {"kind": "image", "name": ci.image,
                                            "repo_digests": [format!("{}@{d}", repository_of(&ci.image))]},
                                        "digest_only": true,
                                    }),
                                    origin: subject.origin.clone(),
                                    admission: AdmissionContext {
                                        operation,
                                        namespace_object: Some(json!({ "metadata": { "name": namespace } })),
                                        dry_run,
                                        ..AdmissionContext::default()
                                    },
                                };
                                evaluate_default(policies, &digest_subject, &budget)
                            });
                        decisions.extend(found.iter().map(|x| Decision {
                            message: format!("image {} ({}, {d}): {}", ci.image, ci.container, x.message),
                            ..x.clone()
                        }));
                    }
                    let Some(action) = settings.unknown_image else { continue };
                    let digest = digest.map(|d| format!(", {d}")).unwrap_or_default();
                    decisions.push(Decision {
                        language: Language::Gate,
                        policy: "palisade-admission".into(),
                        rule: "unscanned-image".into(),
                        object: subject.reference(),
                        message: format!(
                            "image {} ({}{digest}) has no scan report: {reason}",
                            ci.image, ci.container
                        ),
                        action,
                        outcome: Outcome::Violation,
                        source: None,
                        annotations: None,
                    });
                }
            }
        }
    }

    let mut denials = Vec::new();
    let mut warnings = Vec::new();
    let mut audit = serde_json::Map::new();
    let mut failed_open = 0;
    for d in &decisions {
        let line = truncate(&format!("[{}/{}] {}", d.policy, d.rule, d.message));
        match (d.outcome, d.action) {
            (Outcome::Error, _) if settings.on_error == OnError::Deny => {
                denials.push(format!("{line} (the policy could not be evaluated; failing closed)"))
            }
            (Outcome::Error, _) => {
                failed_open += 1;
                warnings.push(format!("{line} (the policy could not be evaluated; admitted: failing open)"));
            }
            (_, Action::Deny) => denials.push(line),
            (_, Action::Warn) => warnings.push(line),
            (_, Action::Audit) => {
                let key = format!("palisade.dev/{}", annotation_key(&d.policy, &d.rule, audit.len()));
                audit.insert(key, json!(truncate(&d.message)));
            }
        }
    }
    warnings.truncate(MAX_WARNINGS);
    let allowed = denials.is_empty();
    let message = (!allowed).then(|| {
        let n = denials.len();
        format!(
            "palisade denied {label}: {n} polic{} violated:\n- {}",
            if n == 1 { "y" } else { "ies" },
            denials.join("\n- ")
        )
    });
    remember_namespace(context, &subject.value, operation, dry_run, allowed);
    let mut reviewed =
        done(respond(allowed, message, warnings, audit), allowed, Path::Evaluated, decisions, failed_open);
    reviewed.images = image_outcomes;
    Ok(reviewed)
}

/// An admitted Namespace is remembered with its labels (Pod Security labels, namespace selectors); a
/// deleted one is forgotten. Dry runs change nothing.
fn remember_namespace(
    context: &Context<'_>,
    object: &Value,
    operation: Operation,
    dry_run: bool,
    allowed: bool,
) {
    let Some(cache) = context.namespaces else { return };
    if dry_run || object.get("kind").and_then(Value::as_str) != Some("Namespace") {
        return;
    }
    match operation {
        Operation::Create | Operation::Update if allowed => cache.put(object),
        Operation::Delete => {
            if let Some(name) = object.pointer("/metadata/name").and_then(Value::as_str) {
                cache.forget(name)
            }
        }
        _ => {}
    }
}

/// Pin the images of a workload to the digests their tags name now (`POST /mutate`): a JSONPatch that
/// replaces every `image` without a digest by `image@digest`, so what runs is what was checked, even if
/// the tag moves later. An image that cannot be resolved within the budget is left as it is, with a
/// warning (the validating webhook judges it as unknown). Excluded requests, break-glass objects,
/// DELETE/CONNECT and subresource requests are admitted unchanged; `/mutate` never refuses.
pub fn mutate(
    body: &[u8],
    settings: &Settings,
    facts: Option<&dyn ImageFacts>,
) -> Result<Reviewed, BadRequest> {
    let req = Request::parse(body)?;
    let mut response = json!({ "uid": req.uid, "allowed": true });
    let mut reviewed = Reviewed {
        response: Value::Null,
        allowed: true,
        path: Path::Mutated,
        decisions: Vec::new(),
        failed_open: 0,
        object: req.label.clone(),
        uid: req.uid.clone(),
        dry_run: req.dry_run,
        images: Vec::new(),
        pinned: 0,
    };
    let applies =
        matches!(req.operation, Operation::Create | Operation::Update) && req.sub_resource.is_none();
    if req.excluded(settings) {
        reviewed.path = Path::Excluded;
    } else if req.break_glass(settings).is_some() {
        reviewed.path = Path::BreakGlass;
    } else if let Some(facts) = facts.filter(|_| applies) {
        let deadline = Instant::now() + settings.budget;
        let mut patch = Vec::new();
        let mut warnings = Vec::new();
        for ci in images_of(&req.object) {
            if ci.image.contains('@') {
                continue;
            }
            match facts.digest(&ci.image, deadline) {
                Ok(digest) => patch.push(
                    json!({"op": "replace", "path": ci.pointer, "value": format!("{}@{digest}", ci.image)}),
                ),
                Err(reason) => warnings.push(truncate(&format!(
                    "image {} ({}) not pinned to a digest: {reason}",
                    ci.image, ci.container
                ))),
            }
        }
        reviewed.pinned = patch.len();
        if !patch.is_empty() {
            use base64::Engine as _;
            let patch = serde_json::to_vec(&patch).unwrap_or_default();
            response["patchType"] = json!("JSONPatch");
            response["patch"] = json!(base64::engine::general_purpose::STANDARD.encode(patch));
        }
        if !warnings.is_empty() {
            warnings.truncate(MAX_WARNINGS);
            response["warnings"] = json!(warnings);
        }
    }
    reviewed.response =
        json!({ "apiVersion": req.api_version, "kind": "AdmissionReview", "response": response });
    Ok(reviewed)
}

/// An audit annotation key: the qualified-name part must be at most 63 characters of `[A-Za-z0-9._-]`.
fn annotation_key(policy: &str, rule: &str, n: usize) -> String {
    let raw = format!("{policy}.{rule}");
    let mut key: String =
        raw.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' }).collect();
    let suffix = format!(".{n}");
    key.truncate(63 - suffix.len());
    let key = key.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string();
    format!("{key}{suffix}")
}

fn truncate(s: &str) -> String {
    if s.len() <= MAX_LINE {
        return s.to_string();
    }
    let mut end = MAX_LINE;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests;
