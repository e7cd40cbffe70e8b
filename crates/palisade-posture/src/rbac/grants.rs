//! Effective permissions: every (subject, rule, scope) a binding grants, with the chain that grants it, and
//! the identities a subject of a query holds (a service account is also in its groups).

use super::model::{BindingDef, PolicyRule, Rbac, RoleDef, Subject, SubjectKind};
use serde::Serialize;

/// Where a grant applies: cluster-wide (every namespace and cluster-scoped resources) or one namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Cluster,
    Namespace(String),
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Cluster => f.write_str("cluster-wide"),
            Scope::Namespace(ns) => write!(f, "namespace {ns}"),
        }
    }
}

impl Scope {
    /// Does a grant with this scope apply to a request in `ns` (`None`: a cluster-wide request)?
    pub fn covers(&self, ns: Option<&str>) -> bool {
        match (self, ns) {
            (Scope::Cluster, _) => true,
            (Scope::Namespace(s), Some(n)) => s == n,
            (Scope::Namespace(_), None) => false,
        }
    }
}

/// One rule granted to one subject through one binding.
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    pub subject: &'a Subject,
    pub binding: &'a BindingDef,
    pub role: &'a RoleDef,
    pub rule: &'a PolicyRule,
    pub aggregated_from: Option<&'a str>,
    pub scope: Scope,
}

/// The evidence of a grant: binding → role (→ aggregated role) → rule, with where each was read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Chain {
    pub binding: String,
    #[serde(rename = "bindingAt")]
    pub binding_at: String,
    pub role: String,
    #[serde(rename = "roleAt")]
    pub role_at: String,
    #[serde(rename = "aggregatedFrom", skip_serializing_if = "Option::is_none")]
    pub aggregated_from: Option<String>,
    pub rule: String,
}

impl std::fmt::Display for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}) -> {}", self.binding, self.binding_at, self.role)?;
        if let Some(a) = &self.aggregated_from {
            write!(f, " <- aggregated ClusterRole/{a}")?;
        }
        write!(f, ": {}", self.rule)
    }
}

impl Grant<'_> {
    pub fn chain(&self) -> Chain {
        let role = match &self.role.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.role.kind, self.role.name),
            None => format!("{}/{}", self.role.kind, self.role.name),
        };
        Chain {
            binding: self.binding.display(),
            binding_at: self.binding.at.clone(),
            role,
            role_at: self.role.at.clone(),
            aggregated_from: self.aggregated_from.map(str::to_string),
            rule: self.rule.describe(),
        }
    }
}

/// Bindings Kubernetes itself creates and manages (bootstrap policy, kubeadm): left out unless asked for.
pub fn is_system_binding(b: &BindingDef) -> bool {
    b.name.starts_with("system:") || b.name.starts_with("kubeadm:")
}

impl Rbac {
    /// Every grant of the dump. Bindings to roles missing from the dump grant nothing (listed by
    /// [`Rbac::dangling`]).
    pub fn grants(&self, include_system: bool) -> Vec<Grant<'_>> {
        let mut out = Vec::new();
        for b in &self.bindings {
            if !include_system && is_system_binding(b) {
                continue;
            }
            let Some(role) = self.role_of(b) else { continue };
            let scope = match &b.namespace {
                Some(ns) => Scope::Namespace(ns.clone()),
                None => Scope::Cluster,
            };
            for s in &b.subjects {
                for rr in &role.rules {
                    out.push(Grant {
                        subject: s,
                        binding: b,
                        role,
                        rule: &rr.rule,
                        aggregated_from: rr.aggregated_from.as_deref(),
                        scope: scope.clone(),
                    });
                }
            }
        }
        out
    }

    /// Bindings whose role is not in the dump.
    pub fn dangling(&self) -> Vec<&BindingDef> {
        self.bindings.iter().filter(|b| self.role_of(b).is_none()).collect()
    }
}

/// The identities a request by `who` carries: itself, and its groups (`extra_groups` for a user; a service
/// account is in `system:serviceaccounts`, `system:serviceaccounts:NS`; everyone but `system:anonymous` is
/// in `system:authenticated`; `system:anonymous` is in `system:unauthenticated`).
pub fn identities(who: &Subject, extra_groups: &[String]) -> Vec<Subject> {
    let group = |n: &str| Subject { kind: SubjectKind::Group, namespace: None, name: n.to_string() };
    let mut out = vec![who.clone()];
    match who.kind {
        SubjectKind::Group => return out,
        SubjectKind::ServiceAccount => {
            let ns = who.namespace.clone().unwrap_or_default();
            out.push(Subject {
                kind: SubjectKind::User,
                namespace: None,
                name: format!("system:serviceaccount:{ns}:{}", who.name),
            });
            out.push(group("system:serviceaccounts"));
            out.push(group(&format!("system:serviceaccounts:{ns}")));
            out.push(group("system:authenticated"));
        }
        SubjectKind::User if who.name == "system:anonymous" => out.push(group("system:unauthenticated")),
        SubjectKind::User => {
            if let Some(rest) = who.name.strip_prefix("system:serviceaccount:")
                && let Some((ns, name)) = rest.split_once(':')
            {
                return identities(&Subject::sa(ns, name), extra_groups);
            }
            out.push(group("system:authenticated"));
        }
    }
    out.extend(extra_groups.iter().map(|g| group(g)));
    out
}
