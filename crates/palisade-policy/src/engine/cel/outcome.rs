//! What one rule of a policy did with one subject: passed, failed, did not apply, or could not be
//! evaluated. [`Policy::evaluate`](crate::engine::Policy::evaluate) keeps only the decisions; test runners
//! (`kyverno-test.yaml`) need the pass/skip distinction too, which [`Explain`] gives.

use crate::engine::{Action, Budget, Decision, Language, Outcome, Policy, SourceLocation, Subject};

/// The status of one rule on one subject.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleStatus {
    /// The rule applied and held.
    Pass,
    /// The rule applied and was violated: its decisions (one or more).
    Fail(Vec<Decision>),
    /// The rule did not apply (match, exclude, preconditions, match conditions, an exception).
    Skip,
    /// The rule could not be evaluated: an [`Outcome::Error`] decision.
    Error(Box<Decision>),
}

/// One rule's status.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOutcome {
    /// The rule's name; empty for rule-less policies (VAP, ValidatingPolicy).
    pub rule: String,
    pub status: RuleStatus,
}

/// A policy that can say what each of its rules did, not only what failed.
pub trait Explain: Policy {
    /// The policy's kind (`ValidatingAdmissionPolicy`, `ValidatingPolicy`, `ClusterPolicy`, `Policy`).
    fn kind(&self) -> &str;
    /// Every rule's status on `subject` (selection included: a policy that does not select the subject
    /// reports each rule as skipped).
    fn explain(&self, subject: &Subject, budget: &Budget) -> Vec<RuleOutcome>;
    /// As [`Explain::explain`], with variable values supplied from outside (a Kyverno test's `values`:
    /// `request.operation`, context variables, ...). Policies without variables ignore them.
    fn explain_with(
        &self,
        subject: &Subject,
        budget: &Budget,
        values: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> Vec<RuleOutcome> {
        let _ = values;
        self.explain(subject, budget)
    }
}

/// The decisions of a set of rule outcomes, in order.
pub fn decisions(outcomes: Vec<RuleOutcome>) -> Vec<Decision> {
    outcomes
        .into_iter()
        .flat_map(|o| match o.status {
            RuleStatus::Fail(d) => d,
            RuleStatus::Error(d) => vec![*d],
            RuleStatus::Pass | RuleStatus::Skip => Vec::new(),
        })
        .collect()
}

/// Whether a decision is an error.
pub fn is_error(d: &Decision) -> bool {
    d.outcome == Outcome::Error
}

/// A decision of the CEL policy `policy` (written at `source`) about `subject`: the one constructor the
/// ValidatingAdmissionPolicy and ValidatingPolicy engines share.
pub fn cel_decision(
    policy: &str,
    source: &SourceLocation,
    subject: &Subject,
    rule: String,
    message: String,
    action: Action,
    outcome: Outcome,
) -> Decision {
    Decision {
        language: Language::Cel,
        policy: policy.to_string(),
        rule,
        object: subject.reference(),
        message,
        action,
        outcome,
        source: Some(source.clone()),
        annotations: None,
    }
}
