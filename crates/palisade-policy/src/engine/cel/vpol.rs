//! Kyverno `ValidatingPolicy` (policies.kyverno.io) and the CEL `PolicyException`s that exempt objects
//! from it. The policy has the shape of a ValidatingAdmissionPolicy (matchConstraints, matchConditions,
//! variables, validations, auditAnnotations) with its actions inline (`validationActions`, default
//! `Deny`); with `evaluation.mode: JSON` it validates JSON documents (subjects of kind `Document`;
//! `object` is the document) and `matchConstraints` do not apply.

use super::matching::MatchResources;
use super::outcome::{Explain, RuleOutcome, RuleStatus, decisions};
use super::program::{CelProgram, ProgramResult};
use super::vap::actions;
use crate::engine::{
    Action, Budget, Decision, Language, Outcome, Policy, SourceLocation, Subject, SubjectKind,
};
use palisade_core::json::JsonPointer;
use serde_json::Value;

/// A CEL PolicyException: exempts the objects its match conditions accept from the named policies.
#[derive(Debug)]
pub struct Exception {
    pub name: String,
    /// Names of the policies it applies to.
    pub policies: Vec<String>,
    pub program: CelProgram,
}

impl Exception {
    pub fn compile(doc: &Value) -> Result<Exception, Vec<String>> {
        let spec = doc.get("spec").cloned().unwrap_or(Value::Null);
        let policies = spec
            .get("policyRefs")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter().filter_map(|r| r.get("name").and_then(Value::as_str).map(str::to_owned)).collect()
            })
            .unwrap_or_default();
        Ok(Exception {
            name: doc.at("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string(),
            policies,
            program: CelProgram::compile(&spec)?,
        })
    }

    /// Whether every match condition accepts the subject (errors do not exempt).
    fn exempts(&self, subject: &Subject, budget: &Budget) -> bool {
        matches!(self.program.evaluate(subject, &Value::Null, budget), ProgramResult::Evaluated { .. })
    }
}

/// A compiled ValidatingPolicy.
#[derive(Debug)]
pub struct Vpol {
    pub name: String,
    pub kind: String,
    pub source: SourceLocation,
    pub constraints: MatchResources,
    pub program: CelProgram,
    pub actions: Vec<Action>,
    pub json_mode: bool,
    pub fail_open: bool,
    pub exceptions: Vec<std::sync::Arc<Exception>>,
}

impl Vpol {
    pub fn compile(doc: &Value, source: SourceLocation) -> Result<Vpol, Vec<String>> {
        let spec = doc.get("spec").cloned().unwrap_or(Value::Null);
        let mut errors = Vec::new();
        let constraints = MatchResources::parse(spec.get("matchConstraints"), "spec.matchConstraints")
            .unwrap_or_else(|e| {
                errors.push(e);
                MatchResources::default()
            });
        let mut actions = actions(spec.get("validationActions")).unwrap_or_else(|e| {
            errors.push(format!("spec.validationActions: {e}"));
            Vec::new()
        });
        if actions.is_empty() {
            actions.push(Action::Deny);
        }
        let program = CelProgram::compile(&spec).unwrap_or_else(|e| {
            errors.extend(e);
            CelProgram::default()
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Vpol {
            name: doc.at("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string(),
            kind: doc.get("kind").and_then(Value::as_str).unwrap_or("ValidatingPolicy").to_string(),
            source,
            constraints,
            program,
            actions,
            json_mode: spec.at("/evaluation/mode").and_then(Value::as_str) == Some("JSON"),
            fail_open: spec.get("failurePolicy").and_then(Value::as_str) == Some("Ignore"),
            exceptions: Vec::new(),
        })
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
}

impl Explain for Vpol {
    fn kind(&self) -> &str {
        &self.kind
    }

    fn explain(&self, subject: &Subject, budget: &Budget) -> Vec<RuleOutcome> {
        let status = if !self.selects(subject) || self.exceptions.iter().any(|e| e.exempts(subject, budget)) {
            RuleStatus::Skip
        } else {
            let action = self.actions[0];
            match self.program.evaluate(subject, &Value::Null, budget) {
                ProgramResult::NotMatched => RuleStatus::Skip,
                ProgramResult::Evaluated { failures, annotations } if !failures.is_empty() => {
                    let mut ds: Vec<Decision> = failures
                        .into_iter()
                        .map(|f| self.decision(subject, f.rule, f.message, action, Outcome::Violation))
                        .collect();
                    ds.extend(annotations.into_iter().map(|(k, v)| {
                        self.decision(
                            subject,
                            format!("auditAnnotations[{k}]"),
                            format!("{k}={v}"),
                            Action::Audit,
                            Outcome::Violation,
                        )
                    }));
                    RuleStatus::Fail(ds)
                }
                ProgramResult::Evaluated { .. } => RuleStatus::Pass,
                ProgramResult::Error(e) => {
                    let action = if self.fail_open { Action::Audit } else { action };
                    RuleStatus::Error(Box::new(self.decision(
                        subject,
                        String::new(),
                        format!("policy {}: {e}", self.name),
                        action,
                        Outcome::Error,
                    )))
                }
            }
        };
        vec![RuleOutcome { rule: String::new(), status }]
    }
}

impl Policy for Vpol {
    fn language(&self) -> Language {
        Language::Cel
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn selects(&self, subject: &Subject) -> bool {
        if self.json_mode {
            // JSON payloads (Terraform plans, ...), never scan reports or Dockerfiles.
            return subject.kind == SubjectKind::Document
                || (subject.kind == SubjectKind::KubernetesObject && subject.value.get("kind").is_none());
        }
        subject.kind == SubjectKind::KubernetesObject && self.constraints.matches(subject, true)
    }
    fn evaluate(&self, subject: &Subject, budget: &Budget) -> Vec<Decision> {
        decisions(self.explain(subject, budget))
    }
}
