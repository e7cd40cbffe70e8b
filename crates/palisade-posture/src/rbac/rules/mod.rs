//! RBAC risk rules, one file each, registered in [`ALL`]. A rule looks at the grants one subject holds in
//! one scope (cluster-wide, or one namespace) and says which of them make the risk; the finding carries the
//! chain (binding → role → rule) of each.
//!
//! Rules judge what a subject may do to *some* object, so rules limited by `resourceNames` count (the
//! evidence shows the names).

mod anonymous;
mod csr_approval;
mod default_sa;
mod escalate;
mod exec_attach;
mod nodes_proxy;
mod privileged_ns_workloads;
mod secrets_read;
mod token_create;
mod webhook_write;
mod wildcard;

use super::grants::{Grant, Scope};
use super::model::Rbac;
use palisade_core::Severity;

/// What a rule sees: the grants of one subject in one scope, and the whole model.
pub struct Cx<'a, 'g> {
    pub grants: &'a [Grant<'g>],
    pub scope: &'a Scope,
    pub rbac: &'g Rbac,
}

/// A rule's verdict: which grants make the risk, and the severity when it depends on them.
pub struct Hit {
    pub grants: Vec<usize>,
    pub severity: Option<Severity>,
}

/// A risk rule.
pub struct RiskRule {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// Why it is a risk and what to do instead.
    pub remediation: &'static str,
    pub judge: fn(&Cx) -> Option<Hit>,
}

/// Every rule, in id order.
pub static ALL: &[&RiskRule] = &[
    &escalate::RULE,
    &secrets_read::RULE,
    &exec_attach::RULE,
    &privileged_ns_workloads::RULE,
    &nodes_proxy::RULE,
    &token_create::RULE,
    &csr_approval::RULE,
    &webhook_write::RULE,
    &wildcard::RULE,
    &anonymous::RULE,
    &default_sa::RULE,
];

/// Indices of the grants that allow any of `verbs` on any of `resources` of `group`.
pub fn matching(cx: &Cx, verbs: &[&str], group: &str, resources: &[&str]) -> Vec<usize> {
    cx.grants
        .iter()
        .enumerate()
        .filter(|(_, g)| {
            verbs.iter().any(|v| resources.iter().any(|r| g.rule.allows(v, Some(group), r, true)))
        })
        .map(|(i, _)| i)
        .collect()
}

/// A hit at the rule's own severity when any grant matched.
pub fn hit(grants: Vec<usize>) -> Option<Hit> {
    (!grants.is_empty()).then_some(Hit { grants, severity: None })
}

/// Writes of any kind.
pub const WRITE_VERBS: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// Test helper: the rule ids `analyze` finds for one subject bound (ClusterRoleBinding, or a RoleBinding in
/// `ns`) to a ClusterRole with `rules` (YAML flow sequence).
#[cfg(test)]
pub(crate) fn ids_for(subject: &str, ns: Option<&str>, rules: &str) -> Vec<&'static str> {
    let binding = match ns {
        Some(ns) => format!("kind: RoleBinding\nmetadata: {{name: b, namespace: {ns}}}"),
        None => "kind: ClusterRoleBinding\nmetadata: {name: b}".to_string(),
    };
    let text = format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: r}}\nrules: {rules}\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\n{binding}\nroleRef: {{kind: ClusterRole, name: r}}\nsubjects: [{subject}]\n"
    );
    let mut d = palisade_checks::dump::Dump::default();
    d.add_text("t.yaml", &text);
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let rbac = Rbac::from_dump(&d);
    assert!(rbac.errors.is_empty(), "{:?}", rbac.errors);
    let mut ids: Vec<&'static str> =
        crate::rbac::analyze(&rbac, false).findings.iter().map(|f| f.id).collect();
    ids.sort_unstable();
    ids
}

/// The subject most tests bind.
#[cfg(test)]
pub(crate) const USER: &str = "{kind: User, name: u}";
