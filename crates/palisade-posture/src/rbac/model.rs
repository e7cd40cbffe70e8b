//! The RBAC objects of a dump, read once: roles with their rules (ClusterRole aggregation resolved), bindings
//! with their subjects, namespaces and the workloads that run as each service account.

use palisade_checks::dump::{Dump, DumpObject};
use palisade_checks::relate::LabelSelector;
use palisade_checks::yaml::Node;
use serde::Serialize;

/// One rule of a Role or ClusterRole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRule {
    #[serde(rename = "apiGroups", skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    #[serde(rename = "resourceNames", skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    #[serde(rename = "nonResourceURLs", skip_serializing_if = "Vec::is_empty")]
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    fn from_node(n: &Node) -> PolicyRule {
        let list = |k: &str| n.get(k).map(Node::str_list).unwrap_or_default();
        PolicyRule {
            api_groups: list("apiGroups"),
            resources: list("resources"),
            verbs: list("verbs"),
            resource_names: list("resourceNames"),
            non_resource_urls: list("nonResourceURLs"),
        }
    }

    /// Does the rule grant `verb`? (`*` grants every verb.)
    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == "*" || v.eq_ignore_ascii_case(verb))
    }

    /// Does the rule cover API group `group`? `None` (group not known for the resource) matches any group.
    pub fn has_group(&self, group: Option<&str>) -> bool {
        match group {
            None => !self.api_groups.is_empty(),
            Some(g) => self.api_groups.iter().any(|x| x == "*" || x == g),
        }
    }

    /// Does the rule cover `resource` (`pods`, or `pods/exec` for a subresource), as the RBAC authorizer
    /// matches: `*`, the exact name, or `*/SUB` for any resource's subresource SUB.
    pub fn has_resource(&self, resource: &str) -> bool {
        let sub = resource.split_once('/').map(|(_, s)| s);
        self.resources
            .iter()
            .any(|r| r == "*" || r == resource || sub.is_some_and(|s| r.strip_prefix("*/") == Some(s)))
    }

    /// Does the rule grant `verb` on `resource` of `group`, for a request that names no object (rules
    /// limited by `resourceNames` do not match such a request unless `any_name`)?
    pub fn allows(&self, verb: &str, group: Option<&str>, resource: &str, any_name: bool) -> bool {
        self.has_verb(verb)
            && self.has_group(group)
            && self.has_resource(resource)
            && (any_name || self.resource_names.is_empty())
    }

    /// `verbs [get list] on [secrets] (resourceNames [a])` for evidence.
    pub fn describe(&self) -> String {
        let mut s = format!("verbs [{}]", self.verbs.join(" "));
        if !self.resources.is_empty() {
            s.push_str(&format!(" on [{}]", self.resources.join(" ")));
            let groups: Vec<&str> =
                self.api_groups.iter().map(|g| if g.is_empty() { "core" } else { g.as_str() }).collect();
            s.push_str(&format!(" in apiGroups [{}]", groups.join(" ")));
        }
        if !self.resource_names.is_empty() {
            s.push_str(&format!(" resourceNames [{}]", self.resource_names.join(" ")));
        }
        if !self.non_resource_urls.is_empty() {
            s.push_str(&format!(" nonResourceURLs [{}]", self.non_resource_urls.join(" ")));
        }
        s
    }
}

/// Created by a controller (a ReplicaSet's Pod, a Deployment's ReplicaSet): listed under the controller.
/// Static Pods are owned by their Node and are listed themselves.
pub fn controller_owned(o: &palisade_checks::k8s::Object) -> bool {
    o.metadata()
        .and_then(|m| m.get("ownerReferences"))
        .map(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .any(|r| r.get("kind").and_then(Node::as_str).is_some_and(|k| k != "Node"))
}

/// Where an object was read: `FILE:LINE`.
pub fn place(o: &DumpObject) -> String {
    format!("{}:{}", o.file, o.object.root.line)
}

/// A rule of a role and, for an aggregated ClusterRole, the ClusterRole it was aggregated from.
#[derive(Debug, Clone)]
pub struct RoleRule {
    pub rule: PolicyRule,
    pub aggregated_from: Option<String>,
}

/// A Role (namespace set) or ClusterRole.
#[derive(Debug, Clone)]
pub struct RoleDef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub rules: Vec<RoleRule>,
    pub aggregation: Vec<LabelSelector>,
    pub at: String,
}

/// The kind of a binding subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

/// A subject of a binding (or of a query).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Subject {
    pub kind: SubjectKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.kind, &self.namespace) {
            (SubjectKind::ServiceAccount, Some(ns)) => write!(f, "ServiceAccount:{ns}/{}", self.name),
            (k, _) => write!(f, "{k:?}:{}", self.name),
        }
    }
}

impl Subject {
    /// Parse `User:NAME`, `Group:NAME`, `ServiceAccount:NS/NAME`, `system:serviceaccount:NS:NAME`, or a
    /// bare user name.
    pub fn parse(s: &str) -> Result<Subject, String> {
        if let Some(rest) = s.strip_prefix("system:serviceaccount:") {
            let (ns, name) = rest
                .split_once(':')
                .ok_or_else(|| format!("{s}: expected system:serviceaccount:NAMESPACE:NAME"))?;
            return Ok(Subject::sa(ns, name));
        }
        let (kind, rest) = match s.split_once(':') {
            Some((k, r)) if k.eq_ignore_ascii_case("user") => (SubjectKind::User, r),
            Some((k, r)) if k.eq_ignore_ascii_case("group") => (SubjectKind::Group, r),
            Some((k, r)) if k.eq_ignore_ascii_case("serviceaccount") || k.eq_ignore_ascii_case("sa") => {
                let (ns, name) = r
                    .split_once('/')
                    .ok_or_else(|| format!("{s}: expected ServiceAccount:NAMESPACE/NAME"))?;
                return Ok(Subject::sa(ns, name));
            }
            _ => (SubjectKind::User, s),
        };
        if rest.is_empty() {
            return Err(format!("{s}: empty subject name"));
        }
        Ok(Subject { kind, namespace: None, name: rest.to_string() })
    }

    pub fn sa(ns: &str, name: &str) -> Subject {
        Subject { kind: SubjectKind::ServiceAccount, namespace: Some(ns.to_string()), name: name.to_string() }
    }
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone)]
pub struct BindingDef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub role_kind: String,
    pub role_name: String,
    pub subjects: Vec<Subject>,
    pub at: String,
}

impl BindingDef {
    /// `RoleBinding/ns/name` or `ClusterRoleBinding/name`.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// A workload (Pod or any kind with a pod template) and the service account it runs as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct WorkloadRef {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    #[serde(rename = "serviceAccount")]
    pub service_account: String,
}

impl std::fmt::Display for WorkloadRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// The RBAC-relevant part of a dump.
#[derive(Debug, Default)]
pub struct Rbac {
    pub roles: Vec<RoleDef>,
    pub bindings: Vec<BindingDef>,
    pub workloads: Vec<WorkloadRef>,
    /// Namespaces and their labels.
    pub namespaces: Vec<(String, Vec<(String, String)>)>,
    /// Problems with single objects (a binding without roleRef, a subject without kind): named and skipped.
    pub errors: Vec<String>,
}

fn labels_of(n: &Node) -> Vec<(String, String)> {
    n.path(&["metadata", "labels"])
        .map(|l| {
            l.as_map().iter().map(|(k, v)| (k.name.clone(), v.scalar_text().unwrap_or_default())).collect()
        })
        .unwrap_or_default()
}

impl Rbac {
    /// Read the roles, bindings, namespaces and workloads of a dump and resolve ClusterRole aggregation.
    pub fn from_dump(dump: &Dump) -> Rbac {
        let mut r = Rbac::default();
        for d in &dump.objects {
            let o = &d.object;
            let rbac_group = o.api_version.starts_with("rbac.authorization.k8s.io/");
            match o.kind.as_str() {
                "Role" | "ClusterRole" if rbac_group => r.roles.push(RoleDef {
                    kind: o.kind.clone(),
                    namespace: if o.kind == "Role" {
                        Some(o.namespace.clone().unwrap_or_else(|| "default".into()))
                    } else {
                        None
                    },
                    name: o.name.clone(),
                    labels: labels_of(&o.root),
                    rules: o
                        .root
                        .get("rules")
                        .map(Node::as_seq)
                        .unwrap_or(&[])
                        .iter()
                        .map(|n| RoleRule { rule: PolicyRule::from_node(n), aggregated_from: None })
                        .collect(),
                    aggregation: o
                        .root
                        .path(&["aggregationRule", "clusterRoleSelectors"])
                        .map(Node::as_seq)
                        .unwrap_or(&[])
                        .iter()
                        .map(LabelSelector::from_node)
                        .collect(),
                    at: place(d),
                }),
                "RoleBinding" | "ClusterRoleBinding" if rbac_group => r.add_binding(d),
                "Namespace" => r.namespaces.push((o.name.clone(), labels_of(&o.root))),
                _ => {
                    if let Some(pod) = o.pod() {
                        if controller_owned(o) && matches!(o.kind.as_str(), "Pod" | "ReplicaSet" | "Job") {
                            continue; // the controller's object is listed instead
                        }
                        let sa = pod
                            .spec
                            .get("serviceAccountName")
                            .or_else(|| pod.spec.get("serviceAccount"))
                            .and_then(Node::as_str)
                            .filter(|s| !s.is_empty())
                            .unwrap_or("default");
                        r.workloads.push(WorkloadRef {
                            kind: o.kind.clone(),
                            namespace: o.namespace.clone().unwrap_or_else(|| "default".into()),
                            name: o.name.clone(),
                            service_account: sa.to_string(),
                        });
                    }
                }
            }
        }
        r.aggregate();
        r.workloads.sort();
        r
    }

    fn add_binding(&mut self, d: &DumpObject) {
        let o = &d.object;
        let namespace = if o.kind == "RoleBinding" {
            Some(o.namespace.clone().unwrap_or_else(|| "default".into()))
        } else {
            None
        };
        let Some(role_ref) = o.root.get("roleRef") else {
            self.errors.push(format!("{}: {} has no roleRef; skipped", place(d), o.display()));
            return;
        };
        let role_kind = role_ref.get("kind").and_then(Node::as_str).unwrap_or("").to_string();
        let role_name = role_ref.get("name").and_then(Node::as_str).unwrap_or("").to_string();
        if role_name.is_empty()
            || !matches!(role_kind.as_str(), "Role" | "ClusterRole")
            || (role_kind == "Role" && namespace.is_none())
        {
            self.errors.push(format!("{}: {} has an invalid roleRef; skipped", place(d), o.display()));
            return;
        }
        let mut subjects = Vec::new();
        for s in o.root.get("subjects").map(Node::as_seq).unwrap_or(&[]) {
            let name = s.get("name").and_then(Node::as_str).unwrap_or("");
            let kind = match s.get("kind").and_then(Node::as_str).unwrap_or("") {
                "User" => SubjectKind::User,
                "Group" => SubjectKind::Group,
                "ServiceAccount" => SubjectKind::ServiceAccount,
                other => {
                    self.errors.push(format!(
                        "{}:{}: {}: subject kind {other:?} unknown; skipped",
                        d.file,
                        s.line,
                        o.display()
                    ));
                    continue;
                }
            };
            if name.is_empty() {
                self.errors.push(format!(
                    "{}:{}: {}: subject without a name; skipped",
                    d.file,
                    s.line,
                    o.display()
                ));
                continue;
            }
            let ns = match kind {
                SubjectKind::ServiceAccount => s
                    .get("namespace")
                    .and_then(Node::as_str)
                    .map(str::to_string)
                    .or_else(|| namespace.clone()),
                _ => None,
            };
            if kind == SubjectKind::ServiceAccount && ns.is_none() {
                self.errors.push(format!(
                    "{}:{}: {}: ServiceAccount subject without a namespace; skipped",
                    d.file,
                    s.line,
                    o.display()
                ));
                continue;
            }
            subjects.push(Subject { kind, namespace: ns, name: name.to_string() });
        }
        self.bindings.push(BindingDef {
            kind: o.kind.clone(),
            namespace,
            name: o.name.clone(),
            role_kind,
            role_name,
            subjects,
            at: place(d),
        });
    }

    /// Give each aggregated ClusterRole the rules of the ClusterRoles its selectors select (as the
    /// aggregation controller does; rules already present in the dump are not repeated).
    fn aggregate(&mut self) {
        let mut adds: Vec<(usize, Vec<RoleRule>)> = Vec::new();
        for (i, role) in self.roles.iter().enumerate() {
            if role.kind != "ClusterRole" || role.aggregation.is_empty() {
                continue;
            }
            let mut more = Vec::new();
            for other in &self.roles {
                if other.kind != "ClusterRole" || other.name == role.name {
                    continue;
                }
                if role.aggregation.iter().any(|sel| !sel.is_empty() && sel.matches(&other.labels)) {
                    for rr in other.rules.iter().filter(|r| r.aggregated_from.is_none()) {
                        if !role.rules.iter().any(|x| x.rule == rr.rule)
                            && !more.iter().any(|x: &RoleRule| x.rule == rr.rule)
                        {
                            more.push(RoleRule {
                                rule: rr.rule.clone(),
                                aggregated_from: Some(other.name.clone()),
                            });
                        }
                    }
                }
            }
            adds.push((i, more));
        }
        for (i, more) in adds {
            self.roles[i].rules.extend(more);
        }
    }

    /// The role a binding refers to (a Role in the binding's namespace, or a ClusterRole).
    pub fn role_of(&self, b: &BindingDef) -> Option<&RoleDef> {
        self.roles.iter().find(|r| {
            r.kind == b.role_kind
                && r.name == b.role_name
                && (r.kind == "ClusterRole" || r.namespace == b.namespace)
        })
    }

    /// Labels of a namespace (empty when the dump has no Namespace object for it).
    pub fn namespace_labels(&self, ns: &str) -> &[(String, String)] {
        self.namespaces.iter().find(|(n, _)| n == ns).map(|(_, l)| l.as_slice()).unwrap_or(&[])
    }

    /// Workloads running as a service account.
    pub fn workloads_of(&self, ns: &str, sa: &str) -> impl Iterator<Item = &WorkloadRef> {
        let (ns, sa) = (ns.to_string(), sa.to_string());
        self.workloads.iter().filter(move |w| w.namespace == ns && w.service_account == sa)
    }
}
