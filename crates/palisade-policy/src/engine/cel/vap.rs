//! Kubernetes `ValidatingAdmissionPolicy` with its `ValidatingAdmissionPolicyBinding`s.
//!
//! A policy's `matchConstraints` select the subject first, then each binding's `matchResources`; the
//! binding's `paramRef` picks the params among the bundle's data documents of the policy's `paramKind`
//! (by name and namespace, or by selector: the validations then run once per param object), and its
//! `validationActions` give the decision's action (`Deny` before `Warn` before `Audit`). As the Kyverno
//! CLI does, a policy without a binding in the bundle applies to every object its constraints select,
//! with action `Deny`. An evaluation error gives an error decision; with `failurePolicy: Ignore` its action
//! is `Audit`.

use super::matching::{LabelSelector, MatchResources, namespace_of, request_object};
use super::outcome::{Explain, RuleOutcome, RuleStatus, decisions};
use super::program::{CelProgram, ProgramResult};
use crate::engine::{Action, Budget, Decision, Language, Outcome, Policy, SourceLocation, Subject};
use palisade_core::json::JsonPointer;
use serde_json::Value;

/// One binding, compiled.
#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub match_resources: MatchResources,
    pub actions: Vec<Action>,
    pub param_ref: Option<ParamRef>,
}

/// `spec.paramRef` of a binding.
#[derive(Debug, Clone)]
pub struct ParamRef {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub selector: Option<LabelSelector>,
    /// `parameterNotFoundAction: Deny` (the default) or `Allow`.
    pub deny_if_missing: bool,
}

/// A compiled ValidatingAdmissionPolicy.
#[derive(Debug)]
pub struct Vap {
    pub name: String,
    pub source: SourceLocation,
    pub constraints: MatchResources,
    pub program: CelProgram,
    /// `(apiVersion, kind)` of the params.
    pub param_kind: Option<(String, String)>,
    /// The data documents of `param_kind`, collected at load time.
    pub params: Vec<Value>,
    pub bindings: Vec<Binding>,
    pub fail_open: bool,
}

/// Parse validationActions into actions, strongest first.
pub fn actions(v: Option<&Value>) -> Result<Vec<Action>, String> {
    let mut out = Vec::new();
    for a in v.and_then(Value::as_array).into_iter().flatten() {
        out.push(match a.as_str() {
            Some("Deny") => Action::Deny,
            Some("Warn") => Action::Warn,
            Some("Audit") => Action::Audit,
            other => return Err(format!("unknown validationAction {other:?}")),
        });
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Parse a binding document; errors name the field.
pub fn parse_binding(doc: &Value) -> Result<(String, Binding), String> {
    let spec = doc.get("spec").cloned().unwrap_or(Value::Null);
    let policy =
        spec.get("policyName").and_then(Value::as_str).ok_or("spec.policyName: missing")?.to_string();
    let name = doc.at("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
    let match_resources = MatchResources::parse(spec.get("matchResources"), "spec.matchResources")?;
    let mut actions =
        actions(spec.get("validationActions")).map_err(|e| format!("spec.validationActions: {e}"))?;
    if actions.is_empty() {
        actions.push(Action::Deny);
    }
    let param_ref = match spec.get("paramRef").filter(|p| !p.is_null()) {
        None => None,
        Some(p) => Some(ParamRef {
            name: p.get("name").and_then(Value::as_str).map(str::to_owned),
            namespace: p.get("namespace").and_then(Value::as_str).map(str::to_owned),
            selector: match p.get("selector") {
                Some(s) => Some(LabelSelector::parse(s, "spec.paramRef.selector")?),
                None => None,
            },
            deny_if_missing: p.get("parameterNotFoundAction").and_then(Value::as_str) != Some("Allow"),
        }),
    };
    Ok((policy, Binding { name, match_resources, actions, param_ref }))
}

impl Vap {
    /// Compile a policy document; `params` are every data document of the bundle (those of its
    /// `paramKind` are kept).
    pub fn compile(doc: &Value, source: SourceLocation, data: &[Value]) -> Result<Vap, Vec<String>> {
        let spec = doc.get("spec").cloned().unwrap_or(Value::Null);
        let name = doc.at("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
        let mut errors = Vec::new();
        let constraints = MatchResources::parse(spec.get("matchConstraints"), "spec.matchConstraints")
            .unwrap_or_else(|e| {
                errors.push(e);
                MatchResources::default()
            });
        let program = CelProgram::compile(&spec).unwrap_or_else(|e| {
            errors.extend(e);
            CelProgram::default()
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        let param_kind = spec.get("paramKind").filter(|p| !p.is_null()).map(|p| {
            let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            (s("apiVersion"), s("kind"))
        });
        let params = match &param_kind {
            Some((api, kind)) => data
                .iter()
                .filter(|d| {
                    d.get("apiVersion").and_then(Value::as_str) == Some(api)
                        && d.get("kind").and_then(Value::as_str) == Some(kind)
                })
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let fail_open = spec.get("failurePolicy").and_then(Value::as_str) == Some("Ignore");
        Ok(Vap { name, source, constraints, program, param_kind, params, bindings: Vec::new(), fail_open })
    }

    fn decision(
        &self,
        subject: &Subject,
        rule: String,
        message: String,
        action: Action,
        outcome: Outcome,
    ) -> Decision {
        super::outcome::cel_decision(&self.name, &self.source, subject, rule, message, action, outcome)
    }

    /// The params a binding selects for `subject`; `Err` when none is found and the binding denies then.
    fn params_for(&self, binding: &Binding, subject: &Subject) -> Result<Vec<Value>, String> {
        let (Some(r), Some(_)) = (&binding.param_ref, &self.param_kind) else { return Ok(vec![Value::Null]) };
        let object_ns = namespace_of(request_object(subject)).map(str::to_owned);
        let found: Vec<Value> = self
            .params
            .iter()
            .filter(|p| {
                let ns = p.at("/metadata/namespace").and_then(Value::as_str);
                let ns_ok = match (&r.namespace, ns) {
                    (Some(want), got) => got == Some(want.as_str()),
                    (None, None) => true,
                    (None, Some(got)) => object_ns.as_deref().is_none_or(|o| o == got),
                };
                let name_ok = match (&r.name, &r.selector) {
                    (Some(n), _) => p.at("/metadata/name").and_then(Value::as_str) == Some(n.as_str()),
                    (None, Some(sel)) => sel.matches(p.at("/metadata/labels")),
                    (None, None) => false,
                };
                ns_ok && name_ok
            })
            .cloned()
            .collect();
        if found.is_empty() && r.deny_if_missing {
            return Err(format!(
                "no params found for binding {:?} ({} {})",
                binding.name,
                r.name.as_deref().unwrap_or("selector"),
                self.param_kind.as_ref().map(|p| p.1.as_str()).unwrap_or("")
            ));
        }
        Ok(found)
    }

    fn run(
        &self,
        subject: &Subject,
        budget: &Budget,
        actions: &[Action],
        params: &Value,
        out: &mut Vec<RuleStatus>,
    ) {
        let action = actions.first().copied().unwrap_or(Action::Deny);
        match self.program.evaluate(subject, params, budget) {
            ProgramResult::NotMatched => out.push(RuleStatus::Skip),
            ProgramResult::Evaluated { failures, annotations } => {
                let mut ds: Vec<Decision> = failures
                    .into_iter()
                    .map(|f| self.decision(subject, f.rule, f.message, action, Outcome::Violation))
                    .collect();
                if ds.is_empty() {
                    out.push(RuleStatus::Pass);
                } else {
                    ds.extend(annotations.into_iter().map(|(k, v)| {
                        self.decision(
                            subject,
                            format!("auditAnnotations[{k}]"),
                            format!("{k}={v}"),
                            Action::Audit,
                            Outcome::Violation,
                        )
                    }));
                    out.push(RuleStatus::Fail(ds));
                }
            }
            ProgramResult::Error(e) => {
                let action = if self.fail_open { Action::Audit } else { action };
                out.push(RuleStatus::Error(Box::new(self.decision(
                    subject,
                    String::new(),
                    format!("policy {}: {e}", self.name),
                    action,
                    Outcome::Error,
                ))));
            }
        }
    }
}

/// Fold the statuses of several bindings/params into one: an error, else a failure, else a pass if any
/// binding applied, else a skip.
pub fn combine(statuses: Vec<RuleStatus>) -> RuleStatus {
    let mut fails = Vec::new();
    let mut pass = false;
    for s in statuses {
        match s {
            RuleStatus::Error(d) => return RuleStatus::Error(d),
            RuleStatus::Fail(d) => fails.extend(d),
            RuleStatus::Pass => pass = true,
            RuleStatus::Skip => {}
        }
    }
    if !fails.is_empty() {
        RuleStatus::Fail(fails)
    } else if pass {
        RuleStatus::Pass
    } else {
        RuleStatus::Skip
    }
}

impl Explain for Vap {
    fn kind(&self) -> &str {
        "ValidatingAdmissionPolicy"
    }

    fn explain(&self, subject: &Subject, budget: &Budget) -> Vec<RuleOutcome> {
        if !self.selects(subject) {
            return vec![RuleOutcome { rule: String::new(), status: RuleStatus::Skip }];
        }
        let mut statuses = Vec::new();
        if self.bindings.is_empty() {
            self.run(subject, budget, &[Action::Deny], &Value::Null, &mut statuses);
        }
        for b in self.bindings.iter().filter(|b| b.match_resources.matches(subject, false)) {
            match self.params_for(b, subject) {
                Ok(params) => {
                    for p in &params {
                        self.run(subject, budget, &b.actions, p, &mut statuses);
                    }
                }
                Err(e) => {
                    let d = self.decision(
                        subject,
                        String::new(),
                        e,
                        b.actions.first().copied().unwrap_or(Action::Deny),
                        Outcome::Violation,
                    );
                    statuses.push(RuleStatus::Fail(vec![d]));
                }
            }
        }
        vec![RuleOutcome { rule: String::new(), status: combine(statuses) }]
    }
}

impl Policy for Vap {
    fn language(&self) -> Language {
        Language::Cel
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn selects(&self, subject: &Subject) -> bool {
        subject.kind == crate::engine::SubjectKind::KubernetesObject
            && self.constraints.matches(subject, true)
    }
    fn evaluate(&self, subject: &Subject, budget: &Budget) -> Vec<Decision> {
        decisions(self.explain(subject, budget))
    }
}
