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

/// The role a user-made binding grants: `roleRef.name` (its node, for the finding's position) and `roleRef.kind`.
/// `None` for other kinds, platform-managed bindings (`system:*`, `gce:*`: not the user's to fix) and bindings
/// without a role name.
pub fn user_binding_role_ref(obj: &Object) -> Option<(&Node, String, String)> {
    if (obj.kind != "ClusterRoleBinding" && obj.kind != "RoleBinding") || platform_managed_name(&obj.name) {
        return None;
    }
    let n = obj.root.path(&["roleRef", "name"])?;
    let kind = obj.root.path(&["roleRef", "kind"]).and_then(Node::scalar_text).unwrap_or_default();
    Some((n, n.scalar_text().unwrap_or_default(), kind))
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

/// A resource as RBAC names it: its API group (`""` is the core group) and its resource, with
/// `/subresource` where there is one (`("", "pods/exec")`, `("rbac.authorization.k8s.io", "roles")`);
/// `/*` stands for any subresource (`userextras/*`: every extra).
pub type Resource<'a> = (&'a str, &'a str);

/// The RBAC API group.
pub const RBAC: &str = "rbac.authorization.k8s.io";
/// The admission-webhook API group.
pub const ADMISSION: &str = "admissionregistration.k8s.io";

fn list(rule: &Node, key: &str) -> Vec<String> {
    rule.get(key).map(Node::str_list).unwrap_or_default()
}

/// A rule's `verbs` hold `*` or the verb (the API server compares verbs exactly).
fn verb_matches(verbs: &[String], verb: &str) -> bool {
    verbs.iter().any(|v| v == "*" || v == verb)
}

/// A rule's `resources` hold `*`, the resource, or `*/sub` for a resource's subresource `sub`.
fn resource_matches(resources: &[String], resource: &str) -> bool {
    let sub = resource.split_once('/').map(|(_, s)| s);
    resources.iter().any(|r| {
        r == "*"
            || r == resource
            || r.strip_prefix("*/").is_some_and(|s| sub == Some(s) || sub == Some("*"))
            // `userextras/*`: any subresource of the resource.
            || resource.strip_suffix("/*").is_some_and(|base| {
                r.split_once('/').is_some_and(|(b, _)| b == base)
            })
    })
}

/// True when the rule grants one of `verbs` on one of `resources`, as the API server's RBAC authorizer
/// matches a rule: the rule's `apiGroups` hold `*` or the resource's group (`""` is the core group, and a
/// rule without `apiGroups` matches no group), its `resources` hold `*`, the resource or `*/sub`, its
/// `verbs` hold `*` or the verb. A rule with `resourceNames` grants only the objects it names, never
/// `list`, `watch`, `create` or access to every object, which is what the RBAC checks judge: such a rule
/// does not count. Rules of non-resource URLs (`nonResourceURLs`) grant no resource; see [`grants_url`].
pub fn grants(rule: &Node, resources: &[Resource<'_>], verbs: &[&str]) -> bool {
    if !list(rule, "resourceNames").is_empty() {
        return false;
    }
    let (groups, res, rule_verbs) = (list(rule, "apiGroups"), list(rule, "resources"), list(rule, "verbs"));
    verbs.iter().any(|v| verb_matches(&rule_verbs, v))
        && resources.iter().any(|(group, resource)| {
            groups.iter().any(|g| g == "*" || g == group) && resource_matches(&res, resource)
        })
}

/// True when the rule grants one of `verbs` on the non-resource URL `url` (`/metrics`, `/healthz`): its
/// `nonResourceURLs` hold `*`, the URL, or a prefix ending in `*` (`/apis/*`), as the API server matches them.
pub fn grants_url(rule: &Node, url: &str, verbs: &[&str]) -> bool {
    let rule_verbs = list(rule, "verbs");
    verbs.iter().any(|v| verb_matches(&rule_verbs, v))
        && list(rule, "nonResourceURLs")
            .iter()
            .any(|u| u == url || u.strip_suffix('*').is_some_and(|prefix| url.starts_with(prefix)))
}

/// The first rule granting access, for the finding position.
pub fn find_grant<'a>(obj: &'a Object, resources: &[Resource<'_>], verbs: &[&str]) -> Option<&'a Node> {
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

/// Kinds of the built-in Kubernetes API that live in a namespace (with [`builtin_group`]).
pub const NAMESPACED_BUILTIN: &[&str] = &[
    "Pod",
    "Service",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Endpoints",
    "Event",
    "LimitRange",
    "ResourceQuota",
    "PersistentVolumeClaim",
    "PodTemplate",
    "ReplicationController",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ControllerRevision",
    "Job",
    "CronJob",
    "Ingress",
    "NetworkPolicy",
    "Role",
    "RoleBinding",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Lease",
    "EndpointSlice",
    "CSIStorageCapacity",
];

/// The API group of `apiVersion` is Kubernetes' own: the core group (`v1`), a group without a dot (`apps`,
/// `batch`, `policy`, `autoscaling`) or one under `k8s.io`. Custom resources live in their owners' groups.
pub fn builtin_group(api_version: &str) -> bool {
    match api_version.rsplit_once('/') {
        None => true,
        Some((group, _)) => !group.contains('.') || group.ends_with(".k8s.io"),
    }
}

/// The object is of a namespaced kind of the built-in API. Cluster-scoped kinds and kinds this scan cannot
/// place (custom resources, whose scope their CRD declares, and YAML that is not a Kubernetes object at all,
/// such as kind's `Cluster` config) are not.
pub fn namespaced_builtin(obj: &Object) -> bool {
    builtin_group(&obj.api_version) && NAMESPACED_BUILTIN.contains(&obj.kind.as_str())
}

/// The container has no request for `resource` (`cpu`, `memory`) once the API server has defaulted it: a
/// container that sets a limit and no request gets the limit as its request. An unset, empty or zero value
/// counts as none.
pub fn missing_request(container: &Node, resource: &str) -> bool {
    let unset = |n: Option<&Node>| {
        n.is_none_or(|v| {
            v.is_null() || v.scalar_text().is_some_and(|s| s.trim().is_empty() || s.trim() == "0")
        })
    };
    match container.path(&["resources", "requests", resource]) {
        Some(req) => unset(Some(req)),
        None => unset(container.path(&["resources", "limits", resource])),
    }
}

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
    groups.iter().any(|g| g == "*")
        && res.iter().any(|r| r == "*")
        && all_verbs
        && list(rule, "resourceNames").is_empty()
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

#[cfg(test)]
mod rbac_tests {
    use super::*;
    use crate::checks::ALL;
    use crate::testutil::hits;
    use crate::yaml::load_all;

    fn rule(yaml: &str) -> Node {
        match load_all(yaml).into_iter().next() {
            Some(Ok(n)) => n,
            other => panic!("fixture does not parse: {other:?}"),
        }
    }

    #[test]
    fn rules_match_as_the_api_server_matches_them() {
        let core = rule("apiGroups: ['']\nresources: ['secrets']\nverbs: ['get']\n");
        assert!(grants(&core, &[("", "secrets")], &["get", "list"]));
        assert!(!grants(&core, &[("", "secrets")], &["list"]));
        // The group must match: a named group's `*` is not the core group's secrets.
        let custom = rule("apiGroups: ['custom.metrics.k8s.io']\nresources: ['*']\nverbs: ['*']\n");
        assert!(!grants(&custom, &[("", "secrets")], &["get"]));
        assert!(!grants(&custom, &[(RBAC, "roles")], &["bind"]));
        assert!(grants(&custom, &[("custom.metrics.k8s.io", "pods")], &["get"]));
        let any = rule("apiGroups: ['*']\nresources: ['*']\nverbs: ['*']\n");
        assert!(grants(&any, &[("", "pods/exec")], &["create"]) && all_powerful(&any));
        // No apiGroups: no group matches.
        assert!(!grants(&rule("resources: ['secrets']\nverbs: ['get']\n"), &[("", "secrets")], &["get"]));
        // `*/exec` is the exec subresource of every resource; `pods` alone is not `pods/exec`.
        let sub = rule("apiGroups: ['']\nresources: ['*/exec']\nverbs: ['create']\n");
        assert!(grants(&sub, &[("", "pods/exec")], &["create"]));
        let pods = rule("apiGroups: ['']\nresources: ['pods']\nverbs: ['create']\n");
        assert!(!grants(&pods, &[("", "pods/exec")], &["create"]));
        // Extras are subresources of userextras.
        let extra = rule(
            "apiGroups: ['authentication.k8s.io']\nresources: ['userextras/scopes']\nverbs: ['impersonate']\n",
        );
        assert!(grants(&extra, &[("authentication.k8s.io", "userextras/*")], &["impersonate"]));
        // resourceNames restricts the rule to those objects.
        let named = rule("apiGroups: ['*']\nresources: ['*']\nresourceNames: ['app-config']\nverbs: ['*']\n");
        assert!(!grants(&named, &[("", "secrets")], &["get"]) && !all_powerful(&named));
        // Non-resource URLs grant no resource, and resource rules grant no URL.
        let urls = rule("nonResourceURLs: ['/metrics', '/apis/*']\nverbs: ['get']\n");
        assert!(!grants(&urls, &[("", "secrets")], &["get"]));
        assert!(grants_url(&urls, "/metrics", &["get"]) && grants_url(&urls, "/apis/apps", &["get"]));
        assert!(!grants_url(&urls, "/healthz", &["get"]) && !grants_url(&any, "/metrics", &["get"]));
    }

    /// A role with every verb on the resources of a metrics API is not a cluster takeover.
    #[test]
    fn wildcards_on_a_named_group_raise_no_rbac_power_finding() {
        let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: hpa-metrics\nrules:\n- apiGroups: ['custom.metrics.k8s.io', 'external.metrics.k8s.io']\n  resources: ['*']\n  verbs: ['*']\n";
        let power = [
            "PAL-K8S-084",
            "PAL-K8S-085",
            "PAL-K8S-086",
            "PAL-K8S-087",
            "PAL-K8S-088",
            "PAL-K8S-089",
            "PAL-K8S-090",
            "PAL-K8S-091",
            "PAL-K8S-092",
            "PAL-K8S-094",
        ];
        let mut seen = 0;
        for c in ALL.iter().filter(|c| power.contains(&c.meta().id)) {
            seen += 1;
            assert!(hits(*c, role).is_empty(), "{} fires on a named group's wildcard", c.meta().id);
            let core = role.replace("['custom.metrics.k8s.io', 'external.metrics.k8s.io']", "['*']");
            assert!(!hits(*c, &core).is_empty(), "{} misses a wildcard on every group", c.meta().id);
        }
        assert_eq!(seen, power.len());
    }
}
