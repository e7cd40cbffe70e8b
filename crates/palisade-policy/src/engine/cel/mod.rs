//! CEL policies: Kubernetes `ValidatingAdmissionPolicy` (+ `ValidatingAdmissionPolicyBinding`, params
//! from the bundle's data documents) and Kyverno `ValidatingPolicy` (+ CEL `PolicyException`), on cel 0.15
//! with the Kubernetes CEL libraries ([`library`]). Expressions are compiled once at load; each
//! evaluation is bounded by [`Budget::cel_cost`](crate::engine::Budget) (see [`expr`] for how).
//!
//! Other `policies.kyverno.io` kinds (MutatingPolicy, GeneratingPolicy, DeletingPolicy,
//! ImageValidatingPolicy) and expressions reading cluster or network state (`authorizer`, `resource`,
//! `http`, `globalContext`, `image`) are reported as unsupported load errors, never silently passed.

pub mod expr;
pub mod library;
pub mod matching;
pub mod outcome;
pub mod program;
pub mod vap;
pub mod vpol;

use crate::bundle::{Bundle, Role};
use crate::engine::{Language, LoadError, Policy, SourceLocation};
use outcome::Explain;
use palisade_core::json::JsonPointer;
use serde_json::Value;
use std::sync::Arc;

/// A policy document to compile, with where it is.
pub struct Source<'a> {
    pub location: SourceLocation,
    pub value: &'a Value,
    /// The document with positions, when it was read from a bundle file: errors then point at the field.
    pub node: Option<&'a palisade_checks::yaml::Node>,
}

impl Source<'_> {
    /// The location of the field an error message starts with (`spec.validations[2].expression: ...`),
    /// else of the document.
    pub fn locate(&self, message: &str) -> SourceLocation {
        let mut loc = self.location.clone();
        let (Some(node), Some((path, _))) = (self.node, message.split_once(": ")) else { return loc };
        let mut cur = node;
        for part in path.split('.') {
            let (key, index) = match part.split_once('[') {
                Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
                None => (part, None),
            };
            let Some(next) = cur.get(key) else { return loc };
            cur = next;
            if let Some(i) = index {
                let Some(item) = cur.as_seq().get(i) else { return loc };
                cur = item;
            }
        }
        loc.line = cur.line as usize;
        loc.column = cur.col as usize;
        loc
    }
}

/// Compile CEL policy documents. `data` are the documents params are looked up in. Bindings attach to
/// their policy by name; exceptions to the ValidatingPolicies they name.
pub fn compile(docs: &[Source], data: &[Value], errors: &mut Vec<LoadError>) -> Vec<Box<dyn Explain>> {
    let mut vaps = Vec::new();
    let mut vpols = Vec::new();
    let mut bindings = Vec::new();
    let mut exceptions = Vec::new();
    let err = |loc: &SourceLocation, kind: &str, name: &str, message: String, unsupported: bool| LoadError {
        location: loc.clone(),
        message: format!("{kind} {name}: {message}"),
        unsupported,
    };
    for d in docs {
        let kind = d.value.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = d.value.at("/metadata/name").and_then(Value::as_str).unwrap_or("");
        let group =
            d.value.get("apiVersion").and_then(Value::as_str).unwrap_or("").split('/').next().unwrap_or("");
        let push_all = |errors: &mut Vec<LoadError>, es: Vec<String>| {
            for e in es {
                let unsupported = e.contains("unsupported:");
                errors.push(err(&d.locate(&e), kind, name, e, unsupported));
            }
        };
        match (group, kind) {
            ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => match vap::Vap::compile(d.value, d.location.clone(), data) {
                Ok(p) => vaps.push(p),
                Err(es) => push_all(errors, es),
            },
            ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => match vap::parse_binding(d.value) {
                Ok(b) => bindings.push((d.location.clone(), b)),
                Err(e) => errors.push(err(&d.location, kind, name, e, false)),
            },
            ("policies.kyverno.io", "ValidatingPolicy" | "NamespacedValidatingPolicy") => {
                match vpol::Vpol::compile(d.value, d.location.clone()) {
                    Ok(p) => vpols.push(p),
                    Err(es) => push_all(errors, es),
                }
            }
            ("policies.kyverno.io", "PolicyException") => match vpol::Exception::compile(d.value) {
                Ok(e) => exceptions.push(Arc::new(e)),
                Err(es) => push_all(errors, es),
            },
            _ => errors.push(err(&d.location, kind, name, "this kind is not supported (only ValidatingAdmissionPolicy, its bindings, ValidatingPolicy and PolicyException are)".into(), true)),
        }
    }
    for (loc, (policy, binding)) in bindings {
        match vaps.iter_mut().find(|v| v.name == policy) {
            Some(v) => v.bindings.push(binding),
            None => errors.push(err(
                &loc,
                "ValidatingAdmissionPolicyBinding",
                &binding.name,
                format!("binds {policy:?}, which is not in the bundle"),
                false,
            )),
        }
    }
    for p in &mut vpols {
        p.exceptions = exceptions.iter().filter(|e| e.policies.contains(&p.name)).cloned().collect();
    }
    let mut out: Vec<Box<dyn Explain>> = Vec::new();
    out.extend(vaps.into_iter().map(|p| Box::new(p) as Box<dyn Explain>));
    out.extend(vpols.into_iter().map(|p| Box::new(p) as Box<dyn Explain>));
    out
}

/// The bundle loader for CEL policies (registered in [`crate::bundle::loaders`]).
pub fn load(bundle: &Bundle, policies: &mut Vec<Box<dyn Policy>>, errors: &mut Vec<LoadError>) {
    let docs: Vec<Source> = bundle
        .documents(Role::Policy(Language::Cel))
        .map(|(f, d)| Source { location: f.at(d.line, 0), value: &d.value, node: Some(&d.node) })
        .collect();
    let data: Vec<Value> = bundle.documents(Role::Data).map(|(_, d)| d.value.clone()).collect();
    for p in compile(&docs, &data, errors) {
        policies.push(p);
    }
}
