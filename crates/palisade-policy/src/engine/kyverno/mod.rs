//! Kyverno `ClusterPolicy`/`Policy` validate rules (see [`policy`]), their PolicyExceptions, and the
//! runner for Kyverno CLI test files ([`test_runner`]).
//!
//! Each rule is compiled once. `verifyImages` rules are checked with Palisade's signature verification
//! ([`verify_images`]). Mutate and generate rules and `validate.manifests` are reported as unsupported load
//! errors naming the rule; the policy's other rules still load.

pub mod autogen;
pub mod conditions;
pub mod exception;
pub mod jmespath_fns;
pub mod pattern;
pub mod pod_security;
pub mod policy;
pub mod select;
pub mod test_runner;
pub mod variables;
pub mod verify_images;

use crate::bundle::{Bundle, Role};
use crate::engine::cel::Source;
use crate::engine::cel::outcome::Explain;
use crate::engine::cel::program::CelProgram;
use crate::engine::{Action, Language, LoadError, Policy};
use palisade_core::json::JsonPointer;
use policy::{Check, KyvernoPolicy, PodView, Rule};
use select::Selection;
use serde_json::{Value, json};
use std::sync::Arc;

fn action_of(v: Option<&Value>) -> Option<Action> {
    match v.and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
        Some("enforce") => Some(Action::Deny),
        Some("audit") => Some(Action::Audit),
        Some("warn") => Some(Action::Warn),
        _ => None,
    }
}

/// Compile one rule; `Err((message, unsupported))`.
fn compile_rule(r: &Value, default_action: Action) -> Result<Rule, (String, bool)> {
    let name = r.get("name").and_then(Value::as_str).unwrap_or("").to_string();
    for kind in ["mutate", "generate"] {
        if r.get(kind).is_some() {
            return Err((
                format!("rule {name}: {kind} rules are not supported (Palisade runs validate rules)"),
                true,
            ));
        }
    }
    let empty = json!({});
    let (v, verify_images) = match (r.get("validate"), r.get("verifyImages")) {
        (Some(_), Some(_)) => {
            return Err((format!("rule {name}: validate and verifyImages in one rule"), false));
        }
        (None, Some(list)) => (&empty, Some(verify_images::VerifyImages::compile(list, &name)?)),
        (Some(v), None) => (v, None),
        (None, None) => {
            return Err((format!("rule {name}: no validate, mutate, generate or verifyImages"), false));
        }
    };
    let check = if let Some(vi) = verify_images {
        Check::VerifyImages(vi)
    } else if let Some(p) = v.get("pattern") {
        Check::Pattern(p.clone())
    } else if let Some(ps) = v.get("anyPattern") {
        Check::AnyPattern(
            ps.as_array()
                .cloned()
                .ok_or((format!("rule {name}: validate.anyPattern must be a list"), false))?,
        )
    } else if let Some(d) = v.get("deny") {
        Check::Deny(d.get("conditions").cloned().unwrap_or(Value::Null))
    } else if let Some(f) = v.get("foreach") {
        Check::Foreach(
            f.as_array().cloned().ok_or((format!("rule {name}: validate.foreach must be a list"), false))?,
        )
    } else if let Some(c) = v.get("cel") {
        let spec = json!({"validations": c.get("expressions").cloned().unwrap_or(json!([])), "variables": c.get("variables").cloned().unwrap_or(json!([]))});
        Check::Cel(CelProgram::compile(&spec).map_err(|e| {
            let unsupported = e.iter().any(|m| m.contains("unsupported:"));
            (format!("rule {name}: validate.cel: {}", e.join("; ")), unsupported)
        })?)
    } else if let Some(ps) = v.get("podSecurity") {
        Check::PodSecurity(
            pod_security::PodSecurity::parse(ps).map_err(|e| (format!("rule {name}: {e}"), false))?,
        )
    } else if v.get("manifests").is_some() {
        return Err((format!("rule {name}: validate.manifests (signed manifests) is not supported"), true));
    } else {
        return Err((
            format!("rule {name}: validate has no pattern, anyPattern, deny, foreach or cel"),
            false,
        ));
    };
    let sel = |key: &str| Selection::parse(r.get(key), key).map_err(|e| (format!("rule {name}: {e}"), false));
    let match_ = sel("match")?;
    if match_.is_empty() {
        return Err((format!("rule {name}: match selects nothing"), false));
    }
    let cel_preconditions = match r.get("celPreconditions") {
        Some(c) => Some(Arc::new(CelProgram::compile(&json!({"matchConditions": c})).map_err(|e| {
            let unsupported = e.iter().any(|m| m.contains("unsupported:"));
            (format!("rule {name}: celPreconditions: {}", e.join("; ")), unsupported)
        })?)),
        None => None,
    };
    Ok(Rule {
        cel_preconditions,
        match_,
        exclude: sel("exclude")?,
        preconditions: r.get("preconditions").cloned().unwrap_or(Value::Null),
        context: r.get("context").and_then(Value::as_array).cloned().unwrap_or_default(),
        check: Arc::new(check),
        message: v.get("message").and_then(Value::as_str).unwrap_or("").to_string(),
        action: action_of(v.get("failureAction"))
            .or_else(|| action_of(r.at("/verifyImages/0/failureAction")))
            .unwrap_or(default_action),
        view: PodView::Object,
        name,
    })
}

/// Compile Kyverno `ClusterPolicy`/`Policy`/`PolicyException` documents. `data` supplies ConfigMaps for
/// `context.configMap` entries.
pub fn compile(docs: &[Source], data: &[Value], errors: &mut Vec<LoadError>) -> Vec<Box<dyn Explain>> {
    let config_maps: Arc<Vec<Value>> = Arc::new(
        data.iter().filter(|d| d.get("kind").and_then(Value::as_str) == Some("ConfigMap")).cloned().collect(),
    );
    let mut policies = Vec::new();
    let mut exceptions = Vec::new();
    for d in docs {
        let kind = d.value.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = d.value.at("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
        let err = |message: String, unsupported: bool| LoadError {
            location: d.location.clone(),
            message: format!("{kind} {name}: {message}"),
            unsupported,
        };
        match kind {
            "PolicyException" => match exception::Exception::compile(d.value) {
                Ok(e) => exceptions.push(Arc::new(e)),
                Err(e) => errors.push(err(e, false)),
            },
            "ClusterPolicy" | "Policy" => {
                let spec = d.value.get("spec").cloned().unwrap_or(Value::Null);
                let default_action = action_of(spec.get("validationFailureAction")).unwrap_or(Action::Audit);
                // An unscored policy's failures are warnings (`policies.kyverno.io/scored: "false"`).
                let unscored =
                    d.value.at("/metadata/annotations/policies.kyverno.io~1scored").and_then(Value::as_str)
                        == Some("false");
                let controllers = autogen::controllers(d.value);
                let mut rules = Vec::new();
                for (i, r) in spec.get("rules").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    match compile_rule(r, default_action) {
                        Ok(mut rule) => {
                            if unscored {
                                rule.action = Action::Warn;
                            }
                            let generated = autogen::generate(&rule, &controllers);
                            rules.push(rule);
                            rules.extend(generated);
                        }
                        Err((m, unsupported)) => errors.push(LoadError {
                            location: d.locate(&format!("spec.rules[{i}]: ")),
                            message: format!("{kind} {name}: {m}"),
                            unsupported,
                        }),
                    }
                }
                let namespace = (kind == "Policy").then(|| {
                    d.value.at("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_string()
                });
                policies.push(KyvernoPolicy {
                    name,
                    kind: kind.to_string(),
                    namespace,
                    source: d.location.clone(),
                    rules,
                    exceptions: Vec::new(),
                    config_maps: config_maps.clone(),
                });
            }
            other => errors.push(err(format!("kind {other} is not a Kyverno validate policy"), true)),
        }
    }
    for p in &mut policies {
        p.exceptions = exceptions.iter().filter(|e| e.names_policy(&p.name)).cloned().collect();
    }
    policies.into_iter().map(|p| Box::new(p) as Box<dyn Explain>).collect()
}

/// The bundle loader for Kyverno policies (registered in [`crate::bundle::loaders`]).
pub fn load(bundle: &Bundle, policies: &mut Vec<Box<dyn Policy>>, errors: &mut Vec<LoadError>) {
    let docs: Vec<Source> = bundle
        .documents(Role::Policy(Language::Kyverno))
        .map(|(f, d)| Source { location: f.at(d.line, 0), value: &d.value, node: Some(&d.node) })
        .collect();
    let data: Vec<Value> = bundle.documents(Role::Data).map(|(_, d)| d.value.clone()).collect();
    for p in compile(&docs, &data, errors) {
        policies.push(p);
    }
}
