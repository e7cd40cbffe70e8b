//! Kubernetes objects read from YAML/JSON documents: identity (kind, namespace, name), `List` expansion,
//! the pod template of every workload kind, and container iteration.

use crate::yaml::{Node, Value};

/// One Kubernetes object of a file.
#[derive(Debug, Clone)]
pub struct Object {
    pub root: Node,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// Where a container is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Init,
    Regular,
    Ephemeral,
}

impl ContainerKind {
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Init => "initContainers",
            ContainerKind::Regular => "containers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

/// A container of a pod spec.
#[derive(Debug, Clone, Copy)]
pub struct Container<'a> {
    pub node: &'a Node,
    pub kind: ContainerKind,
    pub name: &'a str,
}

impl<'a> Container<'a> {
    /// `securityContext` (absent or null gives `None`).
    pub fn sc(&self) -> Option<&'a Node> {
        self.node.field("securityContext")
    }

    /// A field under `securityContext`, null treated as absent.
    pub fn sc_field(&self, key: &str) -> Option<&'a Node> {
        self.sc().and_then(|s| s.field(key))
    }

    pub fn image(&self) -> Option<&'a str> {
        self.node.get("image").and_then(Node::as_str)
    }
}

/// The pod part of an object: metadata and spec (of the object itself for Pods, of the template otherwise).
#[derive(Debug, Clone, Copy)]
pub struct PodView<'a> {
    pub meta: Option<&'a Node>,
    pub spec: &'a Node,
}

/// Kinds whose `spec.template` is a pod template (`DeploymentConfig` is OpenShift's).
pub const TEMPLATE_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "PodTemplate",
    "DeploymentConfig",
];

impl Object {
    /// Build from a document root; `None` when it is not a Kubernetes object (no `kind`/`apiVersion`).
    pub fn from_node(root: Node) -> Option<Object> {
        let kind = root.get("kind")?.as_str()?.to_string();
        let api_version = root.get("apiVersion").and_then(Node::scalar_text).unwrap_or_default();
        let meta = root.get("metadata");
        let name = meta
            .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
            .and_then(Node::scalar_text)
            .unwrap_or_default();
        let namespace = meta.and_then(|m| m.get("namespace")).and_then(Node::scalar_text);
        Some(Object { root, api_version, kind, name, namespace })
    }

    /// Expand `List` kinds (`kind: List` or `*List` with `items`) into their items.
    pub fn expand(root: Node) -> Vec<Object> {
        let is_list = root.get("kind").and_then(Node::as_str).is_some_and(|k| k.ends_with("List"))
            && matches!(root.get("items").map(|n| &n.value), Some(Value::Seq(_)));
        if is_list {
            let items = match root.value {
                Value::Map(m) => m.into_iter().find(|(k, _)| k.name == "items").map(|(_, v)| v),
                _ => None,
            };
            return match items.map(|n| n.value) {
                Some(Value::Seq(items)) => items.into_iter().flat_map(Object::expand).collect(),
                _ => Vec::new(),
            };
        }
        Object::from_node(root).into_iter().collect()
    }

    pub fn metadata(&self) -> Option<&Node> {
        self.root.get("metadata")
    }

    pub fn spec(&self) -> Option<&Node> {
        self.root.field("spec")
    }

    /// An annotation of the object itself.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata().and_then(|m| m.get("annotations")).and_then(|a| a.get(key)).and_then(Node::as_str)
    }

    /// `Kind/namespace/name` for messages.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }

    /// The pod metadata and spec for Pods and every workload kind; `None` for other kinds.
    pub fn pod(&self) -> Option<PodView<'_>> {
        let spec = self.spec()?;
        let template = match self.kind.as_str() {
            "Pod" => return Some(PodView { meta: self.metadata(), spec }),
            "CronJob" => spec.path(&["jobTemplate", "spec", "template"])?,
            k if TEMPLATE_KINDS.contains(&k) => spec.get("template")?,
            _ => return None,
        };
        let pod_spec = template.field("spec")?;
        pod_spec.is_map().then_some(PodView { meta: template.get("metadata"), spec: pod_spec })
    }

    /// True for kinds that run pods.
    pub fn is_workload(&self) -> bool {
        self.kind == "Pod" || self.kind == "CronJob" || TEMPLATE_KINDS.contains(&self.kind.as_str())
    }
}

impl<'a> PodView<'a> {
    /// Init, regular and ephemeral containers, in that order (as Pod Security admission visits them).
    pub fn containers(&self) -> Vec<Container<'a>> {
        let mut out = Vec::new();
        for kind in [ContainerKind::Init, ContainerKind::Regular, ContainerKind::Ephemeral] {
            for node in self.spec.get(kind.field()).map(Node::as_seq).unwrap_or(&[]) {
                let name = node.get("name").and_then(Node::as_str).unwrap_or("");
                out.push(Container { node, kind, name });
            }
        }
        out
    }

    /// Pod-level `securityContext`.
    pub fn sc(&self) -> Option<&'a Node> {
        self.spec.field("securityContext")
    }

    pub fn sc_field(&self, key: &str) -> Option<&'a Node> {
        self.sc().and_then(|s| s.field(key))
    }

    pub fn annotations(&self) -> &'a [(crate::yaml::Key, Node)] {
        self.meta.and_then(|m| m.get("annotations")).map(Node::as_map).unwrap_or(&[])
    }

    pub fn volumes(&self) -> &'a [Node] {
        self.spec.get("volumes").map(Node::as_seq).unwrap_or(&[])
    }

    /// `spec.os.name == windows`.
    pub fn is_windows(&self) -> bool {
        self.spec.path(&["os", "name"]).and_then(Node::as_str) == Some("windows")
    }

    /// `spec.hostUsers == false` (the pod runs in a user namespace).
    pub fn user_namespaced(&self) -> bool {
        self.spec.get("hostUsers").and_then(Node::as_bool) == Some(false)
    }

    /// A boolean pod-spec field that is explicitly true.
    pub fn flag(&self, key: &str) -> Option<&'a Node> {
        self.spec.get(key).filter(|n| n.as_bool() == Some(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::load_all;

    fn objs(text: &str) -> Vec<Object> {
        load_all(text).into_iter().filter_map(Result::ok).flat_map(Object::expand).collect()
    }

    #[test]
    fn workloads_map_to_pod_templates() {
        let o = objs(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: ns}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: a, image: x}]\n          initContainers: [{name: i, image: y}]\n",
        );
        assert_eq!(o.len(), 1);
        let pod = o[0].pod().unwrap_or_else(|| panic!("pod"));
        let names: Vec<_> = pod.containers().iter().map(|c| c.name).collect();
        assert_eq!(names, ["i", "a"]);
        assert_eq!(o[0].display(), "CronJob/ns/c");
    }

    #[test]
    fn lists_expand_and_unknown_kinds_pass_through() {
        let o = objs(
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: s}}\n- {apiVersion: x.io/v1, kind: Widget, metadata: {name: w}}\n",
        );
        assert_eq!(o.len(), 2);
        assert!(o[1].pod().is_none());
        assert!(objs("just: data\n").is_empty());
    }
}
