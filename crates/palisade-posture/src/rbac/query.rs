//! `who-can VERB RESOURCE` and `can SUBJECT VERB RESOURCE`, answered as the RBAC authorizer would for a
//! request that names no object: a rule limited by `resourceNames` does not match; `-n NS` asks about one
//! namespace (ClusterRoleBindings and that namespace's RoleBindings), no namespace asks about a cluster-wide
//! request (ClusterRoleBindings only).

use super::grants::{Chain, Scope, identities};
use super::model::{Rbac, Subject};
use serde::Serialize;
use std::collections::BTreeMap;

/// A resource as asked: `pods`, `pods/exec`, `deployments.apps`, `deployments.apps/scale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceQuery {
    /// `resource` or `resource/subresource`.
    pub resource: String,
    /// The API group, given or known for a built-in resource; `None` matches any group.
    pub group: Option<String>,
}

/// API groups of well-known resources, so that `secrets` is not matched by a rule for another group.
const KNOWN_GROUPS: &[(&str, &str)] = &[
    ("pods", ""),
    ("secrets", ""),
    ("configmaps", ""),
    ("services", ""),
    ("serviceaccounts", ""),
    ("nodes", ""),
    ("namespaces", ""),
    ("persistentvolumes", ""),
    ("persistentvolumeclaims", ""),
    ("endpoints", ""),
    ("events", ""),
    ("replicationcontrollers", ""),
    ("deployments", "apps"),
    ("daemonsets", "apps"),
    ("statefulsets", "apps"),
    ("replicasets", "apps"),
    ("jobs", "batch"),
    ("cronjobs", "batch"),
    ("roles", "rbac.authorization.k8s.io"),
    ("clusterroles", "rbac.authorization.k8s.io"),
    ("rolebindings", "rbac.authorization.k8s.io"),
    ("clusterrolebindings", "rbac.authorization.k8s.io"),
    ("certificatesigningrequests", "certificates.k8s.io"),
    ("signers", "certificates.k8s.io"),
    ("validatingwebhookconfigurations", "admissionregistration.k8s.io"),
    ("mutatingwebhookconfigurations", "admissionregistration.k8s.io"),
    ("validatingadmissionpolicies", "admissionregistration.k8s.io"),
    ("validatingadmissionpolicybindings", "admissionregistration.k8s.io"),
    ("networkpolicies", "networking.k8s.io"),
    ("ingresses", "networking.k8s.io"),
    ("customresourcedefinitions", "apiextensions.k8s.io"),
    ("tokenreviews", "authentication.k8s.io"),
];

impl ResourceQuery {
    pub fn parse(s: &str) -> Result<ResourceQuery, String> {
        let s = s.trim().to_ascii_lowercase();
        let (main, sub) = match s.split_once('/') {
            Some((m, sub)) => (m.to_string(), Some(sub.to_string())),
            None => (s.clone(), None),
        };
        if main.is_empty() || sub.as_deref() == Some("") {
            return Err(format!("{s:?}: expected RESOURCE[.GROUP][/SUBRESOURCE]"));
        }
        let (name, group) = match main.split_once('.') {
            Some((n, g)) => (n.to_string(), Some(g.to_string())),
            None => {
                let g = KNOWN_GROUPS.iter().find(|(r, _)| *r == main).map(|(_, g)| g.to_string());
                (main.clone(), g)
            }
        };
        let resource = match sub {
            Some(sub) => format!("{name}/{sub}"),
            None => name,
        };
        Ok(ResourceQuery { resource, group })
    }
}

/// One subject that may do what was asked, and every chain that allows it.
#[derive(Debug, Clone, Serialize)]
pub struct Allowed {
    pub subject: Subject,
    pub scope: Scope,
    pub chains: Vec<Chain>,
}

/// Who may `verb` `resource` in `namespace` (`None`: cluster-wide)?
pub fn who_can(rbac: &Rbac, verb: &str, res: &ResourceQuery, namespace: Option<&str>) -> Vec<Allowed> {
    let mut by: BTreeMap<(Subject, Scope), Vec<Chain>> = BTreeMap::new();
    for g in rbac.grants(true) {
        if g.scope.covers(namespace) && g.rule.allows(verb, res.group.as_deref(), &res.resource, false) {
            let chains = by.entry((g.subject.clone(), g.scope.clone())).or_default();
            let c = g.chain();
            if !chains.contains(&c) {
                chains.push(c);
            }
        }
    }
    by.into_iter().map(|((subject, scope), chains)| Allowed { subject, scope, chains }).collect()
}

/// May `who` (with `groups` for a user) `verb` `resource` in `namespace`? The chains that allow it; empty
/// when it may not.
pub fn can(
    rbac: &Rbac,
    who: &Subject,
    groups: &[String],
    verb: &str,
    res: &ResourceQuery,
    namespace: Option<&str>,
) -> Vec<Allowed> {
    let ids = identities(who, groups);
    who_can(rbac, verb, res, namespace).into_iter().filter(|a| ids.contains(&a.subject)).collect()
}
