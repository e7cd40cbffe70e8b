//! What relational checks know about the other objects of a scan.
//!
//! A relational check judges one object against the others: is this Pod selected by a NetworkPolicy, does
//! this Service select a workload, is the Role this binding grants all-powerful. Those others may be in any
//! file of the scan, so the judgement waits until every file has been read. Meanwhile nothing but an
//! [`Index`] is kept: a few facts per object of the kinds some check looks up (labels, selectors, names),
//! never the parsed documents. The object being judged leaves a closure holding what it needs (see
//! [`crate::check::K8sCx::relate`]).
//!
//! Namespaces: an object without `metadata.namespace` is in `default`, as `kubectl apply` would put it.

use crate::check::Hit;
use crate::k8s::Object;
use crate::yaml::Node;

/// Labels as (key, value) pairs.
pub type Labels = Vec<(String, String)>;

/// A label selector held without its YAML nodes.
///
/// Built from either form Kubernetes uses: a `LabelSelector` (`matchLabels` and/or `matchExpressions`) or a
/// plain map (Service and ReplicationController selectors). `matchExpressions` operators are `In`, `NotIn`,
/// `Exists` and `DoesNotExist`; any other operator matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    labels: Labels,
    exprs: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Unknown,
}

impl LabelSelector {
    /// Read a selector node (see the type's documentation for the forms).
    pub fn from_node(selector: &Node) -> LabelSelector {
        let plain = selector.get("matchLabels").is_none() && selector.get("matchExpressions").is_none();
        let ml = if plain { Some(selector) } else { selector.get("matchLabels") };
        let labels = ml
            .map(|m| {
                m.as_map()
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.scalar_text().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        let exprs = selector
            .get("matchExpressions")
            .map(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .map(|e| Requirement {
                key: e.get("key").and_then(Node::as_str).unwrap_or("").to_string(),
                op: match e.get("operator").and_then(Node::as_str).unwrap_or("") {
                    "In" => Op::In,
                    "NotIn" => Op::NotIn,
                    "Exists" => Op::Exists,
                    "DoesNotExist" => Op::DoesNotExist,
                    _ => Op::Unknown,
                },
                values: e.get("values").map(Node::str_list).unwrap_or_default(),
            })
            .collect();
        LabelSelector { labels, exprs }
    }

    /// Does the selector select an object with these labels? An empty selector selects everything.
    pub fn matches(&self, labels: &[(String, String)]) -> bool {
        let get = |k: &str| labels.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        self.labels.iter().all(|(k, v)| get(k) == Some(v.as_str()))
            && self.exprs.iter().all(|e| match e.op {
                Op::In => get(&e.key).is_some_and(|v| e.values.iter().any(|x| x == v)),
                Op::NotIn => get(&e.key).is_none_or(|v| !e.values.iter().any(|x| x == v)),
                Op::Exists => get(&e.key).is_some(),
                Op::DoesNotExist => get(&e.key).is_none(),
                Op::Unknown => false,
            })
    }

    /// True when the selector has no terms (selects everything).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.exprs.is_empty()
    }
}

/// A workload (Pod or any kind with a pod template).
#[derive(Debug, Clone)]
pub struct Workload {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// Pod template labels (also when the template has no `spec`).
    pub labels: Labels,
}

/// A NetworkPolicy.
#[derive(Debug, Clone)]
pub struct NetworkPolicy {
    pub namespace: String,
    /// `spec.podSelector`; `None` when absent or null (selects every pod of the namespace).
    pub pod_selector: Option<LabelSelector>,
    /// Whether the policy isolates the pods it selects for ingress and for egress (`policyTypes`, or when
    /// that is absent: ingress always, egress when the policy has `egress` rules).
    pub ingress: bool,
    pub egress: bool,
}

impl NetworkPolicy {
    /// Does the policy select pods with these labels?
    pub fn selects(&self, labels: &[(String, String)]) -> bool {
        self.pod_selector.as_ref().is_none_or(|s| s.matches(labels))
    }
}

/// A ServiceAccount.
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    /// `automountServiceAccountToken` when it is a boolean.
    pub automount: Option<bool>,
}

/// A HorizontalPodAutoscaler's target.
#[derive(Debug, Clone)]
pub struct Autoscaler {
    pub namespace: String,
    /// `scaleTargetRef.kind`; empty when absent.
    pub target_kind: String,
    pub target_name: String,
}

/// A Role or ClusterRole.
#[derive(Debug, Clone)]
pub struct Role {
    pub kind: String,
    /// Empty for ClusterRoles.
    pub namespace: String,
    pub name: String,
    /// Some rule grants every verb on every resource of every API group.
    pub all_powerful: bool,
}

/// The facts relational checks look up, for every object of one scan.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub workloads: Vec<Workload>,
    pub network_policies: Vec<NetworkPolicy>,
    pub service_accounts: Vec<ServiceAccount>,
    pub autoscalers: Vec<Autoscaler>,
    pub roles: Vec<Role>,
    /// Custom resource schemas of the CustomResourceDefinitions in the scan (`group/version/Kind`).
    pub crds: Vec<(String, std::sync::Arc<crate::schema::S>)>,
}

/// The namespace an object is in: its own, or `default` when it names none.
pub fn namespace_of(obj: &Object) -> &str {
    obj.namespace.as_deref().unwrap_or("default")
}

impl Index {
    /// An index of these objects.
    pub fn of(objects: &[Object]) -> Index {
        let mut index = Index::default();
        for o in objects {
            index.add(o);
        }
        index
    }

    /// Record what relational checks need to know about `obj` (nothing for kinds no check looks up).
    pub fn add(&mut self, obj: &Object) {
        let namespace = || namespace_of(obj).to_string();
        if obj.is_workload() {
            self.workloads.push(Workload {
                namespace: namespace(),
                kind: obj.kind.clone(),
                name: obj.name.clone(),
                labels: crate::checks::k8s::helpers::template_labels(obj),
            });
            return;
        }
        match obj.kind.as_str() {
            "NetworkPolicy" => {
                let Some(spec) = obj.spec() else { return };
                let pod_selector =
                    spec.get("podSelector").filter(|s| !s.is_null()).map(LabelSelector::from_node);
                let (ingress, egress) = match spec.get("policyTypes").map(Node::str_list) {
                    Some(t) => (t.iter().any(|x| x == "Ingress"), t.iter().any(|x| x == "Egress")),
                    None => (true, spec.get("egress").is_some()),
                };
                self.network_policies.push(NetworkPolicy {
                    namespace: namespace(),
                    pod_selector,
                    ingress,
                    egress,
                });
            }
            "ServiceAccount" => self.service_accounts.push(ServiceAccount {
                namespace: namespace(),
                name: obj.name.clone(),
                automount: obj.root.get("automountServiceAccountToken").and_then(Node::as_bool),
            }),
            "HorizontalPodAutoscaler" => {
                let target = obj.spec().and_then(|s| s.get("scaleTargetRef"));
                let text =
                    |k: &str| target.and_then(|t| t.get(k)).and_then(Node::scalar_text).unwrap_or_default();
                self.autoscalers.push(Autoscaler {
                    namespace: namespace(),
                    target_kind: text("kind"),
                    target_name: text("name"),
                });
            }
            "CustomResourceDefinition" if obj.api_version.starts_with("apiextensions.k8s.io/") => {
                for (key, schema) in crate::schema::crd_schemas(&obj.root) {
                    self.crds.push((key, std::sync::Arc::new(schema)));
                }
            }
            "Role" | "ClusterRole" => self.roles.push(Role {
                kind: obj.kind.clone(),
                namespace: if obj.kind == "Role" { namespace() } else { String::new() },
                name: obj.name.clone(),
                all_powerful: obj
                    .root
                    .get("rules")
                    .map(Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .any(crate::checks::k8s::helpers::all_powerful),
            }),
            _ => {}
        }
    }

    /// True when no object of the kinds looked up was added.
    pub fn is_empty(&self) -> bool {
        self.workloads.is_empty()
            && self.network_policies.is_empty()
            && self.service_accounts.is_empty()
            && self.autoscalers.is_empty()
            && self.roles.is_empty()
            && self.crds.is_empty()
    }

    /// Add another index's facts.
    pub fn extend(&mut self, other: Index) {
        self.workloads.extend(other.workloads);
        self.network_policies.extend(other.network_policies);
        self.service_accounts.extend(other.service_accounts);
        self.autoscalers.extend(other.autoscalers);
        self.roles.extend(other.roles);
        self.crds.extend(other.crds);
    }

    /// The schema of a custom resource kind (`group/version/Kind`) from a CRD in the scan.
    pub fn crd(&self, key: &str) -> Option<&crate::schema::S> {
        self.crds.iter().find(|(k, _)| k == key).map(|(_, s)| s.as_ref())
    }

    /// Workloads of a namespace.
    pub fn workloads_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a Workload> + 'a {
        self.workloads.iter().filter(move |w| w.namespace == namespace)
    }

    /// NetworkPolicies of a namespace.
    pub fn network_policies_in<'a>(
        &'a self,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a NetworkPolicy> + 'a {
        self.network_policies.iter().filter(move |p| p.namespace == namespace)
    }

    /// The ServiceAccounts `name` of a namespace (more than one when several files define it).
    pub fn service_accounts_named<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a ServiceAccount> + 'a {
        self.service_accounts.iter().filter(move |s| s.namespace == namespace && s.name == name)
    }

    /// Is a workload scaled by a HorizontalPodAutoscaler (same namespace, `scaleTargetRef` naming it)?
    pub fn autoscaled(&self, namespace: &str, kind: &str, name: &str) -> bool {
        self.autoscalers.iter().any(|a| {
            a.namespace == namespace
                && a.target_name == name
                && (a.target_kind.is_empty() || a.target_kind == kind)
        })
    }

    /// The roles a binding's `roleRef` names: ClusterRoles by name, Roles by name in the binding's
    /// namespace (more than one when several files define it).
    pub fn roles_named<'a>(
        &'a self,
        kind: &'a str,
        binding_namespace: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Role> + 'a {
        self.roles.iter().filter(move |r| {
            r.kind == kind && r.name == name && (kind == "ClusterRole" || r.namespace == binding_namespace)
        })
    }
}

/// A judgement left by a relational check, run once the whole scan's [`Index`] is known.
pub type Judge = Box<dyn FnOnce(&Index, &mut Vec<Hit>) + Send>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::load_all;

    fn objects(text: &str) -> Vec<Object> {
        load_all(text).into_iter().filter_map(Result::ok).flat_map(Object::expand).collect()
    }

    fn selector(text: &str) -> LabelSelector {
        let doc = load_all(text).into_iter().next().and_then(Result::ok);
        LabelSelector::from_node(&doc.unwrap_or_else(|| panic!("selector {text:?} does not parse")))
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn selectors_in_both_forms() {
        let web = labels(&[("app", "web"), ("tier", "front")]);
        assert!(selector("{app: web}").matches(&web));
        assert!(!selector("{app: api}").matches(&web));
        assert!(selector("{matchLabels: {app: web}}").matches(&web));
        assert!(selector("{}").matches(&web) && selector("{}").is_empty());
        let expr = |op: &str| {
            selector(&format!("{{matchExpressions: [{{key: tier, operator: {op}, values: [front]}}]}}"))
        };
        assert!(expr("In").matches(&web));
        assert!(!expr("NotIn").matches(&web));
        assert!(expr("Exists").matches(&web));
        assert!(!expr("DoesNotExist").matches(&web));
        assert!(!expr("Bogus").matches(&web));
    }

    #[test]
    fn index_keeps_only_what_checks_look_up() {
        let idx = Index::of(&objects(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: web}}\nspec: {containers: []}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n, namespace: apps}\nspec: {podSelector: {}, policyTypes: [Egress]}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: apps}\nrules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\n",
        ));
        assert_eq!(idx.workloads.len(), 1);
        assert_eq!(idx.workloads[0].namespace, "default");
        let p = &idx.network_policies[0];
        assert!(!p.ingress && p.egress && p.selects(&[]));
        assert_eq!(idx.network_policies_in("default").count(), 0);
        assert!(idx.roles_named("Role", "apps", "r").all(|r| r.all_powerful));
        assert_eq!(idx.roles_named("Role", "apps", "r").count(), 1);
        assert_eq!(idx.roles_named("Role", "default", "r").count(), 0);
        assert_eq!(idx.roles_named("ClusterRole", "apps", "r").count(), 0);
    }

    #[test]
    fn autoscaler_targets_match_namespace_kind_and_name() {
        let idx = Index::of(&objects(
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, namespace: apps}\nspec: {scaleTargetRef: {kind: Deployment, name: web}}\n",
        ));
        assert!(idx.autoscaled("apps", "Deployment", "web"));
        assert!(!idx.autoscaled("default", "Deployment", "web"));
        assert!(!idx.autoscaled("apps", "StatefulSet", "web"));
    }
}
