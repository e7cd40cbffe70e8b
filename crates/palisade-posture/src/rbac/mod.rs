//! RBAC analysis (`palisade rbac`): effective permissions per subject, `who-can`/`can` queries and risk
//! findings, each with the binding chain that grants it. Read from a dump with [`model::Rbac::from_dump`].

pub mod grants;
pub mod model;
pub mod query;
pub mod rules;

use grants::{Chain, Grant, Scope};
use model::{Rbac, Subject, SubjectKind, WorkloadRef};
use palisade_core::Severity;
use serde::Serialize;
use std::collections::BTreeMap;

/// A risk one subject holds in one scope.
#[derive(Debug, Clone, Serialize)]
pub struct RbacFinding {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub subject: Subject,
    pub scope: Scope,
    pub chains: Vec<Chain>,
    /// For a service account: the workloads that run as it (and so hold the risk).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<WorkloadRef>,
    pub remediation: &'static str,
}

/// What one subject may do, and where it runs.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectPermissions {
    pub subject: Subject,
    pub grants: Vec<ScopedChain>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<WorkloadRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ScopedChain {
    pub scope: Scope,
    #[serde(flatten)]
    pub chain: Chain,
}

/// The result of `rbac analyze`.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub findings: Vec<RbacFinding>,
    pub subjects: Vec<SubjectPermissions>,
    /// Bindings whose role is not in the dump (they grant nothing until it exists).
    #[serde(rename = "danglingBindings")]
    pub dangling_bindings: Vec<String>,
}

fn workloads_for(rbac: &Rbac, s: &Subject) -> Vec<WorkloadRef> {
    match (s.kind, &s.namespace) {
        (SubjectKind::ServiceAccount, Some(ns)) => rbac.workloads_of(ns, &s.name).cloned().collect(),
        _ => Vec::new(),
    }
}

/// Effective permissions and risk findings. Bindings Kubernetes manages (`system:*`, `kubeadm:*`) are left
/// out unless `include_system`.
pub fn analyze(rbac: &Rbac, include_system: bool) -> Analysis {
    let grants = rbac.grants(include_system);
    let mut groups: BTreeMap<(Subject, Scope), Vec<Grant>> = BTreeMap::new();
    for g in &grants {
        groups.entry((g.subject.clone(), g.scope.clone())).or_default().push(g.clone());
    }
    let mut findings = Vec::new();
    for ((subject, scope), gs) in &groups {
        let cx = rules::Cx { grants: gs, scope, rbac };
        for rule in rules::ALL {
            let Some(hit) = (rule.judge)(&cx) else { continue };
            let mut chains: Vec<Chain> = hit.grants.iter().map(|&i| gs[i].chain()).collect();
            chains.sort();
            chains.dedup();
            findings.push(RbacFinding {
                id: rule.id,
                title: rule.title,
                severity: hit.severity.unwrap_or(rule.severity),
                subject: subject.clone(),
                scope: scope.clone(),
                chains,
                workloads: workloads_for(rbac, subject),
                remediation: rule.remediation,
            });
        }
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.id.cmp(b.id))
            .then(a.subject.cmp(&b.subject))
            .then(a.scope.cmp(&b.scope))
    });
    let mut per: BTreeMap<Subject, Vec<ScopedChain>> = BTreeMap::new();
    for g in &grants {
        let e = per.entry(g.subject.clone()).or_default();
        let c = ScopedChain { scope: g.scope.clone(), chain: g.chain() };
        if !e.contains(&c) {
            e.push(c);
        }
    }
    let subjects = per
        .into_iter()
        .map(|(subject, mut grants)| {
            grants.sort();
            let workloads = workloads_for(rbac, &subject);
            SubjectPermissions { subject, grants, workloads }
        })
        .collect();
    let dangling_bindings = rbac
        .dangling()
        .into_iter()
        .filter(|b| include_system || !grants::is_system_binding(b))
        .map(|b| format!("{} ({}) -> {}/{} not in the dump", b.display(), b.at, b.role_kind, b.role_name))
        .collect();
    Analysis { findings, subjects, dangling_bindings }
}
