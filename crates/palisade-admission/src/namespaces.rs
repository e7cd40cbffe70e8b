//! The namespaces the webhook knows, with their labels, for policies that read them (Pod Security
//! Admission labels in `podSecurity` gates, Kyverno `namespaceSelector`s).
//!
//! An `AdmissionReview` carries the object's namespace name but not the Namespace object. The cache is
//! filled from Namespace reviews the webhook itself answers (register it for `namespaces` CREATE, UPDATE
//! and DELETE: admitted creations and updates are recorded, deletions forgotten) and, at start, from a
//! `kubectl get namespaces -o yaml` dump. No API server is read: a namespace that was neither in the dump
//! nor created or changed since the webhook started is unknown, and policies see no labels for it.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::RwLock;

/// Namespace objects by name (bounded: at most `MAX` are kept).
#[derive(Debug, Default)]
pub struct NamespaceCache {
    by_name: RwLock<HashMap<String, Value>>,
}

impl NamespaceCache {
    const MAX: usize = 100_000;

    /// The Namespace object of `name`, when known.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.by_name.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// Record a Namespace object (its `metadata.name` and labels are all that is kept).
    pub fn put(&self, namespace: &Value) {
        let Some(name) = namespace.pointer("/metadata/name").and_then(Value::as_str) else { return };
        let labels = namespace.pointer("/metadata/labels").cloned().unwrap_or(Value::Null);
        let kept = serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}
        });
        let mut map = self.by_name.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= Self::MAX && !map.contains_key(name) {
            return;
        }
        map.insert(name.to_string(), kept);
    }

    pub fn forget(&self, name: &str) {
        self.by_name.write().unwrap_or_else(|p| p.into_inner()).remove(name);
    }

    pub fn len(&self) -> usize {
        self.by_name.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Record every Namespace of a parsed dump: a `List`, a single object, or a sequence of objects.
    /// Returns how many were recorded.
    pub fn load(&self, documents: &[Value]) -> usize {
        let mut n = 0;
        let mut visit = |v: &Value| {
            if v.get("kind").and_then(Value::as_str) == Some("Namespace") {
                self.put(v);
                n += 1;
            }
        };
        for doc in documents {
            match doc.get("items").and_then(Value::as_array) {
                Some(items) => items.iter().for_each(&mut visit),
                None => visit(doc),
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_names_and_labels_from_lists_and_objects() {
        let cache = NamespaceCache::default();
        let list = json!({"kind": "List", "items": [
            {"kind": "Namespace", "metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
              "annotations": {"big": "x"}}},
            {"kind": "ConfigMap", "metadata": {"name": "c"}}]});
        let single = json!({"kind": "Namespace", "metadata": {"name": "dev"}});
        assert_eq!(cache.load(&[list, single]), 2);
        let shop = cache.get("shop").unwrap();
        assert_eq!(
            shop.pointer("/metadata/labels/pod-security.kubernetes.io~1enforce"),
            Some(&json!("restricted"))
        );
        assert!(shop.pointer("/metadata/annotations").is_none());
        cache.forget("shop");
        assert!(cache.get("shop").is_none());
        assert_eq!(cache.len(), 1);
    }
}
