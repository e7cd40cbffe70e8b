//! Which objects a policy applies to: Kubernetes label selectors, the resource name of a kind
//! (`Deployment` → `deployments`), and the `matchConstraints`/`matchResources` of admission policies
//! (resource rules, exclusions, namespace and object selectors). Shared by the CEL and Kyverno engines.

use crate::engine::{Operation, Subject};
use palisade_core::json::JsonPointer;
use serde_json::Value;

/// A parsed `metav1.LabelSelector`. The empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    pub match_labels: Vec<(String, String)>,
    /// `(key, operator, values)`, operator one of `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub match_expressions: Vec<(String, String, Vec<String>)>,
}

impl LabelSelector {
    /// Parse a selector; `what` names it in errors.
    pub fn parse(v: &Value, what: &str) -> Result<LabelSelector, String> {
        let mut s = LabelSelector::default();
        if v.is_null() {
            return Ok(s);
        }
        let obj = v.as_object().ok_or_else(|| format!("{what}: expected a label selector object"))?;
        if let Some(ml) = obj.get("matchLabels").filter(|m| !m.is_null()) {
            for (k, val) in ml.as_object().ok_or_else(|| format!("{what}.matchLabels: expected a map"))? {
                s.match_labels.push((k.clone(), scalar(val)));
            }
        }
        if let Some(me) = obj.get("matchExpressions").filter(|m| !m.is_null()) {
            for (i, e) in me
                .as_array()
                .ok_or_else(|| format!("{what}.matchExpressions: expected a list"))?
                .iter()
                .enumerate()
            {
                let key = e
                    .get("key")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("{what}.matchExpressions[{i}]: missing key"))?;
                let op = e.get("operator").and_then(Value::as_str).unwrap_or("");
                if !matches!(op, "In" | "NotIn" | "Exists" | "DoesNotExist") {
                    return Err(format!("{what}.matchExpressions[{i}]: unknown operator {op:?}"));
                }
                let values = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(scalar).collect())
                    .unwrap_or_default();
                s.match_expressions.push((key.to_string(), op.to_string(), values));
            }
        }
        Ok(s)
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Whether `labels` (a JSON map, or null) satisfies the selector.
    pub fn matches(&self, labels: Option<&Value>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).map(scalar);
        // Label keys and values cannot hold `*` or `?`, so reading them as wildcards (as Kyverno does)
        // changes nothing for Kubernetes selectors.
        let wild = crate::engine::kyverno::jmespath_fns::wildcard;
        self.match_labels.iter().all(|(k, v)| match labels.and_then(Value::as_object) {
            Some(l) if k.contains(['*', '?']) => l.iter().any(|(lk, lv)| wild(k, lk) && wild(v, &scalar(lv))),
            _ => get(k).is_some_and(|g| wild(v, &g)),
        }) && self.match_expressions.iter().all(|(k, op, values)| {
            let got = get(k);
            match op.as_str() {
                "In" => got.is_some_and(|g| values.contains(&g)),
                "NotIn" => got.is_none_or(|g| !values.contains(&g)),
                "Exists" => got.is_some(),
                _ => got.is_none(),
            }
        })
    }
}

/// A JSON scalar as the string Kubernetes would compare.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The lower-case plural resource name of `kind`, as the API server names it.
pub fn resource_of(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if k == "endpoints" {
        return k;
    }
    if let Some(stem) = k.strip_suffix('y').filter(|s| !s.ends_with(['a', 'e', 'o', 'u'])) {
        format!("{stem}ies")
    } else if k.ends_with('s') || k.ends_with("ch") || k.ends_with("sh") || k.ends_with('x') {
        format!("{k}es")
    } else {
        format!("{k}s")
    }
}

/// Kinds that are not namespaced (the common built-in ones; any other kind is namespaced).
pub fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "StorageClass"
            | "CustomResourceDefinition"
            | "PriorityClass"
            | "IngressClass"
            | "RuntimeClass"
            | "CSIDriver"
            | "CSINode"
            | "APIService"
            | "CertificateSigningRequest"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "ClusterPolicy"
            | "VolumeAttachment"
            | "ComponentStatus"
    )
}

/// Group, version, kind and resource of a subject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub resource: String,
}

impl Gvk {
    pub fn of(object: &Value) -> Gvk {
        let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
        Gvk { group: group.into(), version: version.into(), resource: resource_of(&kind), kind }
    }
}

/// The operation's name as in admission rules.
pub fn operation_name(op: Operation) -> &'static str {
    match op {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    }
}

/// The object an admission request is about: the new object, or the old one for DELETE.
pub fn request_object(subject: &Subject) -> &Value {
    match (subject.admission.operation, &subject.admission.old_object) {
        (Operation::Delete, Some(old)) if subject.value.is_null() => old,
        _ => &subject.value,
    }
}

/// The namespace of a subject: `metadata.namespace`, or the object's own name for a Namespace.
pub fn namespace_of(object: &Value) -> Option<&str> {
    if object.get("kind").and_then(Value::as_str) == Some("Namespace") {
        return object.at("/metadata/name").and_then(Value::as_str);
    }
    object.at("/metadata/namespace").and_then(Value::as_str)
}

/// One `NamedRuleWithOperations` of `resourceRules`/`excludeResourceRules`.
#[derive(Debug, Clone, Default)]
pub struct ResourceRule {
    pub api_groups: Vec<String>,
    pub api_versions: Vec<String>,
    pub operations: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    /// `*`, `Cluster` or `Namespaced`.
    pub scope: String,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Whether `list` holds `*` or `value`; an empty list (a field left out) matches everything, as the
/// Kyverno CLI reads it.
fn any_or(list: &[String], value: &str) -> bool {
    list.is_empty() || list.iter().any(|x| x == "*" || x == value)
}

impl ResourceRule {
    fn parse(v: &Value) -> ResourceRule {
        ResourceRule {
            api_groups: strings(v.get("apiGroups")),
            api_versions: strings(v.get("apiVersions")),
            operations: strings(v.get("operations")),
            resources: strings(v.get("resources")),
            resource_names: strings(v.get("resourceNames")),
            scope: v.get("scope").and_then(Value::as_str).unwrap_or("*").to_string(),
        }
    }

    fn matches(&self, gvk: &Gvk, op: &str, name: &str, sub_resource: Option<&str>) -> bool {
        let resource = match sub_resource {
            Some(sub) => format!("{}/{sub}", gvk.resource),
            None => gvk.resource.clone(),
        };
        let resource_ok = self.resources.iter().any(|r| {
            r == "*"
                || *r == resource
                || (r.starts_with("*/") && sub_resource.is_some_and(|s| r[2..] == *s))
                || (r.ends_with("/*") && r[..r.len() - 2] == gvk.resource)
        });
        let scope_ok = match self.scope.as_str() {
            "Cluster" => is_cluster_scoped(&gvk.kind),
            "Namespaced" => !is_cluster_scoped(&gvk.kind),
            _ => true,
        };
        any_or(&self.api_groups, &gvk.group)
            && any_or(&self.api_versions, &gvk.version)
            && any_or(&self.operations, op)
            && resource_ok
            && scope_ok
            && (self.resource_names.is_empty() || self.resource_names.iter().any(|n| n == name))
    }
}

/// `matchConstraints` of a policy or `matchResources` of a binding.
#[derive(Debug, Clone, Default)]
pub struct MatchResources {
    pub namespace_selector: LabelSelector,
    pub object_selector: LabelSelector,
    pub resource_rules: Vec<ResourceRule>,
    pub exclude_resource_rules: Vec<ResourceRule>,
}

impl MatchResources {
    pub fn parse(v: Option<&Value>, what: &str) -> Result<MatchResources, String> {
        let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(MatchResources::default()) };
        let rules = |key: &str| {
            v.get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().map(ResourceRule::parse).collect())
                .unwrap_or_default()
        };
        Ok(MatchResources {
            namespace_selector: LabelSelector::parse(
                v.get("namespaceSelector").unwrap_or(&Value::Null),
                &format!("{what}.namespaceSelector"),
            )?,
            object_selector: LabelSelector::parse(
                v.get("objectSelector").unwrap_or(&Value::Null),
                &format!("{what}.objectSelector"),
            )?,
            resource_rules: rules("resourceRules"),
            exclude_resource_rules: rules("excludeResourceRules"),
        })
    }

    /// Whether the subject is selected. With `require_rules`, an empty `resourceRules` matches nothing (a
    /// policy's constraints); without, it matches everything (a binding narrowing its policy).
    pub fn matches(&self, subject: &Subject, require_rules: bool) -> bool {
        let object = request_object(subject);
        let gvk = Gvk::of(object);
        let op = operation_name(subject.admission.operation);
        let name = object.at("/metadata/name").and_then(Value::as_str).unwrap_or("");
        let sub = subject.admission.sub_resource.as_deref();
        let rules_ok = if self.resource_rules.is_empty() {
            !require_rules
        } else {
            self.resource_rules.iter().any(|r| r.matches(&gvk, op, name, sub))
        };
        if !rules_ok || self.exclude_resource_rules.iter().any(|r| r.matches(&gvk, op, name, sub)) {
            return false;
        }
        if !self.object_selector.matches(object.at("/metadata/labels")) {
            return false;
        }
        if self.namespace_selector.is_empty() {
            return true;
        }
        if gvk.kind == "Namespace" {
            return self.namespace_selector.matches(object.at("/metadata/labels"));
        }
        if is_cluster_scoped(&gvk.kind) {
            return true;
        }
        let labels = subject.admission.namespace_object.as_ref().and_then(|n| n.at("/metadata/labels"));
        self.namespace_selector.matches(labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_resources_and_rules() {
        let s = LabelSelector::parse(&json!({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}), "s").unwrap();
        assert!(s.matches(Some(&json!({"a": "1", "env": "prod"}))));
        assert!(!s.matches(Some(&json!({"a": "1", "env": "dev"}))));
        assert!(
            LabelSelector::parse(&json!({"matchExpressions": [{"key": "x", "operator": "Bad"}]}), "s")
                .unwrap_err()
                .contains("Bad")
        );
        assert_eq!(resource_of("Deployment"), "deployments");
        assert_eq!(resource_of("NetworkPolicy"), "networkpolicies");
        assert_eq!(resource_of("Ingress"), "ingresses");
        assert_eq!(resource_of("Gateway"), "gateways");
        let m = MatchResources::parse(
            Some(&json!({"resourceRules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["deployments"]}]})),
            "m",
        )
        .unwrap();
        let dep = Subject::object(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}),
            Default::default(),
        );
        let pod = Subject::object(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}),
            Default::default(),
        );
        assert!(m.matches(&dep, true) && !m.matches(&pod, true));
        assert!(
            MatchResources::default().matches(&pod, false) && !MatchResources::default().matches(&pod, true)
        );
    }
}
