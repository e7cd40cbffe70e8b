//! Helpers shared by the Kubernetes checks.

use crate::check::Hit;
use crate::k8s::{Container, ContainerKind, Object};
use crate::yaml::Node;

/// Every container (init, regular, ephemeral) of a workload; empty for other kinds.
pub fn containers(obj: &Object) -> Vec<Container<'_>> {
    obj.pod().map(|p| p.containers()).unwrap_or_default()
}

/// Long-running app containers (regular containers only).
pub fn app_containers(obj: &Object) -> Vec<Container<'_>> {
    containers(obj).into_iter().filter(|c| c.kind == ContainerKind::Regular).collect()
}

/// Init and regular containers (not ephemeral debug containers).
pub fn spec_containers(obj: &Object) -> Vec<Container<'_>> {
    containers(obj).into_iter().filter(|c| c.kind != ContainerKind::Ephemeral).collect()
}

/// Names of platform-managed RBAC objects: Kubernetes (`system:*`) and GKE (`gce:*`).
pub fn platform_managed_name(name: &str) -> bool {
    name.starts_with("system:") || name.starts_with("gce:")
}

/// Kubernetes-managed roles (`system:*`, `gce:*`, the default user-facing roles, bootstrap roles): not the
/// user's to fix.
pub fn builtin_role(obj: &Object) -> bool {
    platform_managed_name(&obj.name)
        || (obj.kind == "ClusterRole"
            && matches!(obj.name.as_str(), "admin" | "cluster-admin" | "edit" | "view"))
        || labels(obj.metadata())
            .iter()
            .any(|(k, v)| k == "kubernetes.io/bootstrapping" && v == "rbac-defaults")
}

/// `rules` of a Role/ClusterRole (empty for built-in roles, see [`builtin_role`]).
pub fn rules(obj: &Object) -> &[Node] {
    if (obj.kind == "Role" || obj.kind == "ClusterRole") && !builtin_role(obj) {
        obj.root.get("rules").map(Node::as_seq).unwrap_or(&[])
    } else {
        &[]
    }
}

fn list_has(rule: &Node, key: &str, wanted: &[&str]) -> bool {
    rule.get(key).is_some_and(|n| {
        n.str_list().iter().any(|v| {
            v == "*"
                || wanted.iter().any(|w| {
                    // `*/sub` grants the subresource `sub` of every resource.
                    w.eq_ignore_ascii_case(v)
                        || v.strip_prefix("*/")
                            .is_some_and(|sub| w.rsplit_once('/').is_some_and(|(_, s)| s == sub))
                })
        })
    })
}

/// True when the rule grants one of `verbs` on one of `resources` (wildcards count). API groups are ignored
/// (the resource names used here are unique across groups).
pub fn grants(rule: &Node, resources: &[&str], verbs: &[&str]) -> bool {
    list_has(rule, "resources", resources) && list_has(rule, "verbs", verbs)
}

/// The first rule granting access, for the finding position.
pub fn find_grant<'a>(obj: &'a Object, resources: &[&str], verbs: &[&str]) -> Option<&'a Node> {
    rules(obj).iter().find(|r| grants(r, resources, verbs))
}

/// Names that suggest a credential.
pub fn secret_like(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('-', "_");
    [
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "access_key",
        "private_key",
        "credential",
        "auth_key",
        "key_content",
    ]
    .iter()
    .any(|k| n.contains(k))
        || [
            "batch_key",
            "account_key",
            "storage_key",
            "encryption_key",
            "signing_key",
            "ssh_key",
            "master_key",
            "client_key",
            "shared_key",
        ]
        .iter()
        .any(|k| n.ends_with(k))
            && !n.ends_with("_file")
            && !n.ends_with("_path")
}

/// True when a literal value is itself a credential: a PEM private key block or an AWS access key id.
pub fn secret_value(val: &str) -> bool {
    (val.contains("BEGIN") && val.contains("PRIVATE KEY"))
        || val.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w.len() == 20 && w.starts_with("AKIA"))
}

/// Pod template labels of any workload kind, also when the template has no `spec` (unlike [`pod_labels`]).
pub fn template_labels(obj: &Object) -> Vec<(String, String)> {
    let Some(spec) = obj.spec() else { return Vec::new() };
    let meta = match obj.kind.as_str() {
        "Pod" => obj.metadata(),
        "CronJob" => spec.path(&["jobTemplate", "spec", "template", "metadata"]),
        k if crate::k8s::TEMPLATE_KINDS.contains(&k) => spec.path(&["template", "metadata"]),
        _ => None,
    };
    labels(meta)
}

/// Labels map of a metadata node.
pub fn labels(meta: Option<&Node>) -> Vec<(String, String)> {
    meta.and_then(|m| m.get("labels"))
        .map(|l| {
            l.as_map().iter().map(|(k, v)| (k.name.clone(), v.scalar_text().unwrap_or_default())).collect()
        })
        .unwrap_or_default()
}

/// Does a label selector (`matchLabels` form or a plain map like Service selectors) select `labels`?
/// `matchExpressions` with `In`/`NotIn`/`Exists`/`DoesNotExist` are honoured.
pub fn selects(selector: &Node, labels: &[(String, String)]) -> bool {
    crate::relate::LabelSelector::from_node(selector).matches(labels)
}

/// Pod labels of a workload.
pub fn pod_labels(obj: &Object) -> Vec<(String, String)> {
    obj.pod().map(|p| labels(p.meta)).unwrap_or_default()
}

/// Effective namespace for cross-object matching (`default` when the object names none).
pub fn ns(obj: &Object) -> &str {
    crate::relate::namespace_of(obj)
}

/// Kinds that have no namespace.
pub const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
    "CustomResourceDefinition",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "Node",
    "IngressClass",
    "PodSecurityPolicy",
    "RuntimeClass",
    "APIService",
    "CSIDriver",
    "VolumeSnapshotClass",
    "ClusterIssuer",
    "SecurityContextConstraints",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "List",
];

/// A resource's integer port, or a named port.
pub fn port_text(n: &Node) -> String {
    n.scalar_text().unwrap_or_default()
}

/// True when a rule grants every verb on every resource of every API group (`*`, or all read and write verbs).
pub fn all_powerful(rule: &Node) -> bool {
    let res = rule.get("resources").map(Node::str_list).unwrap_or_default();
    let verbs = rule.get("verbs").map(Node::str_list).unwrap_or_default();
    let all_verbs = verbs.iter().any(|v| v == "*")
        || ["get", "list", "watch", "create", "update", "patch", "delete"]
            .iter()
            .all(|w| verbs.iter().any(|v| v == w));
    let groups = rule.get("apiGroups").map(Node::str_list).unwrap_or_default();
    groups.iter().any(|g| g == "*") && res.iter().any(|r| r == "*") && all_verbs
}

/// Reports every long-running container of a workload (not a Job or CronJob) that has no `probe` field
/// (`livenessProbe`, `readinessProbe`).
pub fn missing_probe(obj: &Object, probe: &str, out: &mut Vec<Hit>) {
    if obj.kind == "Job" || obj.kind == "CronJob" {
        return;
    }
    for c in app_containers(obj) {
        if c.node.field(probe).is_none() {
            out.push(
                Hit::at(c.node, format!("container {:?} has no {probe}; add one", c.name))
                    .in_container(c.name),
            );
        }
    }
}

/// Reports every `containerPort` of every container whose number satisfies `bad`; `message` words the
/// hit from the container name and the port number.
pub fn flag_container_ports(
    obj: &Object,
    bad: impl Fn(i64) -> bool,
    message: impl Fn(&str, i64) -> String,
    out: &mut Vec<Hit>,
) {
    for c in containers(obj) {
        for p in c.node.get("ports").map(Node::as_seq).unwrap_or(&[]) {
            if let Some((n, v)) = p.get("containerPort").and_then(|n| n.as_i64().map(|v| (n, v)))
                && bad(v)
            {
                out.push(Hit::at(n, message(c.name, v)).in_container(c.name));
            }
        }
    }
}

/// The `hostPath.path` node of every hostPath volume of a workload, with its text.
pub fn host_paths(obj: &Object) -> Vec<(&Node, String)> {
    let Some(pod) = obj.pod() else { return Vec::new() };
    pod.volumes()
        .iter()
        .filter_map(|v| v.field("hostPath").and_then(|h| h.get("path")))
        .map(|p| (p, p.scalar_text().unwrap_or_default()))
        .collect()
}
