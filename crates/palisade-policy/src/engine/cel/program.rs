//! The CEL part shared by `ValidatingAdmissionPolicy` and Kyverno `ValidatingPolicy`: match conditions,
//! variables, validations (message, messageExpression, reason) and audit annotations, compiled once and
//! evaluated against one subject with its admission request, params and namespace.

use super::expr::{CelExpr, largest_collection};
use super::matching::{Gvk, operation_name, request_object};
use crate::engine::{Budget, Subject};
use cel::Value;
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::objects::{Key, Map};
use palisade_core::json::JsonPointer;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// One validation.
#[derive(Debug)]
pub struct Validation {
    pub expression: CelExpr,
    pub message: Option<String>,
    pub message_expression: Option<CelExpr>,
    pub reason: String,
}

/// The compiled CEL of one policy.
#[derive(Debug, Default)]
pub struct CelProgram {
    pub match_conditions: Vec<(String, CelExpr)>,
    pub variables: Vec<(String, CelExpr)>,
    pub validations: Vec<Validation>,
    pub audit_annotations: Vec<(String, CelExpr)>,
}

/// A failed validation or audit annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// `validations[i]` or `auditAnnotations[key]`.
    pub rule: String,
    pub message: String,
}

/// What evaluating a program did.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgramResult {
    /// A match condition was false.
    NotMatched,
    /// Every validation ran: the failed ones (empty = pass), and the audit annotations produced.
    Evaluated { failures: Vec<Failure>, annotations: Vec<(String, String)> },
    /// A match condition, validation or the cost bound failed; the message says which.
    Error(String),
}

fn list(v: &Json, key: &str) -> Vec<Json> {
    v.get(key).and_then(Json::as_array).cloned().unwrap_or_default()
}

fn text(v: &Json, key: &str) -> Option<String> {
    v.get(key).and_then(Json::as_str).map(str::to_owned)
}

impl CelProgram {
    /// Compile the CEL lists of a policy `spec`. Errors name the field (`spec.validations[2].expression`).
    pub fn compile(spec: &Json) -> Result<CelProgram, Vec<String>> {
        let mut errors = Vec::new();
        let mut compile = |src: Option<String>, at: String| -> Option<CelExpr> {
            let Some(src) = src else {
                errors.push(format!("{at}: missing"));
                return None;
            };
            match CelExpr::compile(&src) {
                Ok(e) => match e.cluster_variable() {
                    Some(v) => {
                        errors.push(format!(
                            "{at}: unsupported: reads `{v}`, which needs a live cluster or network"
                        ));
                        None
                    }
                    None => Some(e),
                },
                Err(m) => {
                    errors.push(format!("{at}: CEL compile error: {m}"));
                    None
                }
            }
        };
        let mut p = CelProgram::default();
        for (i, c) in list(spec, "matchConditions").iter().enumerate() {
            let name = text(c, "name").unwrap_or_else(|| format!("matchConditions[{i}]"));
            if let Some(e) = compile(text(c, "expression"), format!("spec.matchConditions[{i}].expression")) {
                p.match_conditions.push((name, e));
            }
        }
        for (i, c) in list(spec, "variables").iter().enumerate() {
            let name = text(c, "name").unwrap_or_default();
            if let Some(e) = compile(text(c, "expression"), format!("spec.variables[{i}].expression")) {
                p.variables.push((name, e));
            }
        }
        for (i, c) in list(spec, "validations").iter().enumerate() {
            let expression = compile(text(c, "expression"), format!("spec.validations[{i}].expression"));
            let message_expression = match text(c, "messageExpression") {
                Some(src) => compile(Some(src), format!("spec.validations[{i}].messageExpression")),
                None => None,
            };
            if let Some(expression) = expression {
                p.validations.push(Validation {
                    expression,
                    message: text(c, "message"),
                    message_expression,
                    reason: text(c, "reason").unwrap_or_else(|| "Forbidden".into()),
                });
            }
        }
        for (i, c) in list(spec, "auditAnnotations").iter().enumerate() {
            let key = text(c, "key").unwrap_or_default();
            if let Some(e) =
                compile(text(c, "valueExpression"), format!("spec.auditAnnotations[{i}].valueExpression"))
            {
                p.audit_annotations.push((key, e));
            }
        }
        if errors.is_empty() { Ok(p) } else { Err(errors) }
    }

    /// Evaluate on `subject` with `params` (null when the policy has none).
    pub fn evaluate(&self, subject: &Subject, params: &Json, budget: &Budget) -> ProgramResult {
        thread_local! {
            // The library functions are registered once per thread; each evaluation binds its variables
            // in a child scope.
            static ROOT: cel::Context<'static, 'static> = super::library::root_context();
        }
        ROOT.with(|root| self.evaluate_in(root, subject, params, budget))
    }

    fn evaluate_in(
        &self,
        root: &cel::Context<'static, 'static>,
        subject: &Subject,
        params: &Json,
        budget: &Budget,
    ) -> ProgramResult {
        let memo = &subject.memo.cel;
        let params_val = json_to_val(params);
        let largest = memo.largest(subject).max(largest_collection(params));
        let resolver = Resolver { subject, vars: memo, params: params_val.as_ref() };
        let root: &cel::Context = root;
        let mut ctx = root.new_inner_scope();
        ctx.set_variable_resolver(&resolver);
        let limit = budget.cel_cost;
        let mut vars: HashMap<Key, Value> = HashMap::new();
        ctx.add_variable_from_value("variables", Value::Map(Map { map: Arc::new(vars.clone()) }));
        for (name, cond) in &self.match_conditions {
            match cond.eval(&ctx, largest, limit) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => return ProgramResult::NotMatched,
                Ok(other) => {
                    return ProgramResult::Error(format!(
                        "match condition {name:?} returned {:?}, not a bool",
                        other.type_of()
                    ));
                }
                Err(e) => return ProgramResult::Error(format!("match condition {name:?}: {e}")),
            }
            if budget.expired() {
                return ProgramResult::Error("deadline exceeded".into());
            }
        }
        // Variables are evaluated in order, each seeing the earlier ones; one that fails is left unset,
        // so only the expressions reading it fail.
        for (name, e) in &self.variables {
            if let Ok(v) = e.eval(&ctx, largest, limit) {
                vars.insert(Key::String(Arc::new(name.clone())), v);
                ctx.add_variable_from_value("variables", Value::Map(Map { map: Arc::new(vars.clone()) }));
            }
        }
        let mut failures = Vec::new();
        for (i, v) in self.validations.iter().enumerate() {
            if budget.expired() {
                return ProgramResult::Error("deadline exceeded".into());
            }
            match v.expression.eval(&ctx, largest, limit) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => {
                    let from_expr =
                        v.message_expression.as_ref().and_then(|m| match m.eval(&ctx, largest, limit) {
                            Ok(Value::String(s)) if !s.trim().is_empty() => Some(s.to_string()),
                            _ => None,
                        });
                    let message = from_expr
                        .or_else(|| v.message.clone())
                        .unwrap_or_else(|| format!("failed expression: {}", v.expression.source.trim()));
                    failures.push(Failure {
                        rule: format!("validations[{i}]"),
                        message: format!("{}: {message}", v.reason),
                    });
                }
                Ok(other) => {
                    return ProgramResult::Error(format!(
                        "validations[{i}] returned {:?}, not a bool",
                        other.type_of()
                    ));
                }
                Err(e) => return ProgramResult::Error(format!("validations[{i}]: {e}")),
            }
        }
        let mut annotations = Vec::new();
        for (key, e) in &self.audit_annotations {
            match e.eval(&ctx, largest, limit) {
                Ok(Value::String(s)) => annotations.push((key.clone(), s.to_string())),
                Ok(Value::Null) => {}
                Ok(other) => {
                    return ProgramResult::Error(format!(
                        "auditAnnotations[{key}] returned {:?}, not a string",
                        other.type_of()
                    ));
                }
                Err(e) => return ProgramResult::Error(format!("auditAnnotations[{key}]: {e}")),
            }
        }
        ProgramResult::Evaluated { failures, annotations }
    }
}

/// The CEL variables a subject gives every policy, each converted from JSON the first time a policy reads
/// it and kept in the subject's [`Memo`](crate::engine::Memo) for the others: a `request` no policy reads
/// is never built. [`Resolver`] lends them to each evaluation without a copy.
#[derive(Default)]
pub struct SubjectVars {
    object: OnceLock<Box<dyn Val>>,
    old_object: OnceLock<Box<dyn Val>>,
    request: OnceLock<Box<dyn Val>>,
    namespace_object: OnceLock<Box<dyn Val>>,
    /// The largest collection in `object`, `oldObject` and `namespaceObject`, for the cost estimate.
    largest: OnceLock<u64>,
}

static NULL: Json = Json::Null;

/// `object`: null on a DELETE, where the deleted object is `oldObject`.
fn object_json(subject: &Subject) -> &Json {
    let a = &subject.admission;
    if a.operation == crate::engine::Operation::Delete && a.old_object.is_some() {
        &NULL
    } else {
        request_object(subject)
    }
}

impl SubjectVars {
    fn largest(&self, subject: &Subject) -> u64 {
        *self.largest.get_or_init(|| {
            let a = &subject.admission;
            [
                object_json(subject),
                a.old_object.as_ref().unwrap_or(&NULL),
                a.namespace_object.as_ref().unwrap_or(&NULL),
            ]
            .iter()
            .map(|v| largest_collection(v))
            .max()
            .unwrap_or(0)
        })
    }
}

/// A JSON value as a CEL value, in one pass: numbers as serde_json serialises them (a non-negative
/// integer is a `uint`, a negative one an `int`, any other a `double`), objects as maps with string keys.
fn json_to_val(v: &Json) -> Box<dyn Val> {
    match v {
        Json::Null => Box::new(CelNull),
        Json::Bool(b) => Box::new(CelBool::from(*b)),
        Json::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Box::new(CelUInt::from(u)),
            (None, Some(i)) => Box::new(CelInt::from(i)),
            (None, None) => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        Json::String(s) => Box::new(CelString::from(s.clone())),
        Json::Array(a) => Box::new(CelList::from(a.iter().map(json_to_val).collect::<Vec<_>>())),
        Json::Object(o) => Box::new(CelMap::from(
            o.iter().map(|(k, v)| (CelMapKey::from(k.clone()), json_to_val(v))).collect::<HashMap<_, _>>(),
        )),
    }
}

/// Serves a subject's variables (converting each on first use) and the policy's `params` by reference to
/// one evaluation.
struct Resolver<'a> {
    subject: &'a Subject,
    vars: &'a SubjectVars,
    params: &'a dyn Val,
}

impl VariableResolver for Resolver<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        let (s, a) = (self.subject, &self.subject.admission);
        let v: &'b dyn Val = match variable {
            "object" => self.vars.object.get_or_init(|| json_to_val(object_json(s))).as_ref(),
            "oldObject" => self
                .vars
                .old_object
                .get_or_init(|| json_to_val(a.old_object.as_ref().unwrap_or(&NULL)))
                .as_ref(),
            "request" => self.vars.request.get_or_init(|| json_to_val(&request_json(s))).as_ref(),
            "namespaceObject" => self
                .vars
                .namespace_object
                .get_or_init(|| json_to_val(a.namespace_object.as_ref().unwrap_or(&NULL)))
                .as_ref(),
            "params" => self.params,
            _ => return None,
        };
        Some(CowVal::Borrowed(v))
    }
}

/// The `request` variable: the admission request as received, or one built from the subject.
pub fn request_json(subject: &Subject) -> Json {
    if let Some(r) = &subject.admission.request {
        return r.clone();
    }
    let object = request_object(subject);
    let gvk = Gvk::of(object);
    let a = &subject.admission;
    let mut r = json!({
        "kind": {"group": gvk.group, "version": gvk.version, "kind": gvk.kind},
        "resource": {"group": gvk.group, "version": gvk.version, "resource": gvk.resource},
        "name": object.at("/metadata/name").cloned().unwrap_or(Json::Null),
        "operation": operation_name(a.operation),
        "userInfo": {"username": a.user_info.username, "uid": a.user_info.uid, "groups": a.user_info.groups},
        "dryRun": a.dry_run,
        "object": subject.value,
        "oldObject": a.old_object.clone().unwrap_or(Json::Null),
    });
    if let Some(ns) = super::matching::namespace_of(object).filter(|_| gvk.kind != "Namespace") {
        r["namespace"] = json!(ns);
    }
    if let Some(s) = &a.sub_resource {
        r["subResource"] = json!(s);
    }
    if a.user_info.username.is_empty() {
        // An anonymous CLI request has no user name: `has(request.userInfo.username)` is false.
        if let Some(u) = r["userInfo"].as_object_mut() {
            u.remove("username");
            u.remove("uid");
        }
    }
    r
}
