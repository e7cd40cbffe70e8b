//! Kyverno `match`/`exclude`: `{any: [filter...]}`, `{all: [filter...]}` or a legacy single filter, where a
//! filter is `resources` (`kinds` — `Pod`, `v1/Pod`, `apps/v1/Deployment`, `Pod/exec`, wildcards —
//! `names`/`name`, `namespaces`, `annotations`, `selector`, `namespaceSelector`, `operations`) and the
//! requester (`subjects`, `roles`, `clusterRoles`).

use super::jmespath_fns::wildcard;
use crate::engine::Subject;
use crate::engine::cel::matching::{
    Gvk, LabelSelector, is_cluster_scoped, namespace_of, operation_name, request_object,
};
use palisade_core::json::JsonPointer;
use serde_json::Value;

/// One resource filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kinds: Vec<String>,
    pub names: Vec<String>,
    pub namespaces: Vec<String>,
    pub annotations: Vec<(String, String)>,
    pub selector: Option<LabelSelector>,
    pub namespace_selector: Option<LabelSelector>,
    pub operations: Vec<String>,
    /// `(kind, name)` of subjects: `User`, `Group`, `ServiceAccount` (`namespace:name`).
    pub subjects: Vec<(String, String)>,
    pub roles: Vec<String>,
    pub cluster_roles: Vec<String>,
}

/// A `match` or `exclude` block.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub any: Vec<Filter>,
    pub all: Vec<Filter>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

impl Filter {
    fn parse(v: &Value, what: &str) -> Result<Filter, String> {
        let r = v.get("resources").cloned().unwrap_or(Value::Null);
        let mut names = strings(r.get("names"));
        names.extend(strings(r.get("name")));
        let sel = |key: &str| -> Result<Option<LabelSelector>, String> {
            match r.get(key) {
                Some(s) if !s.is_null() => {
                    LabelSelector::parse(s, &format!("{what}.resources.{key}")).map(Some)
                }
                _ => Ok(None),
            }
        };
        Ok(Filter {
            kinds: strings(r.get("kinds")),
            names,
            namespaces: strings(r.get("namespaces")),
            annotations: r
                .get("annotations")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
                .unwrap_or_default(),
            selector: sel("selector")?,
            namespace_selector: sel("namespaceSelector")?,
            operations: strings(r.get("operations")),
            subjects: v
                .get("subjects")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|s| {
                            let kind = s.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
                            let name = s.get("name").and_then(Value::as_str).unwrap_or("");
                            let name = match s.get("namespace").and_then(Value::as_str) {
                                Some(ns) if kind == "ServiceAccount" => format!("{ns}:{name}"),
                                _ => name.to_string(),
                            };
                            (kind, name)
                        })
                        .collect()
                })
                .unwrap_or_default(),
            roles: strings(v.get("roles")),
            cluster_roles: strings(v.get("clusterRoles")),
        })
    }

    /// Whether the filter's kinds list mentions `kind` exactly (for auto-generation).
    pub fn kind_names(&self) -> impl Iterator<Item = &str> {
        self.kinds.iter().map(|k| k.rsplit('/').next().unwrap_or(k))
    }

    pub fn matches(
        &self,
        subject: &Subject,
        kind_override: Option<&str>,
        roles: &[String],
        cluster_roles: &[String],
    ) -> bool {
        let object = request_object(subject);
        let gvk = Gvk::of(object);
        // A subresource request names its parent's kind (`Pod` for `Pod/exec`).
        let parent = subject
            .admission
            .sub_resource
            .as_ref()
            .and_then(|_| subject.admission.request.as_ref()?.at("/kind/kind")?.as_str());
        let kind = kind_override.or(parent).unwrap_or(&gvk.kind);
        if !self.kinds.is_empty()
            && !self
                .kinds
                .iter()
                .any(|k| kind_matches(k, &gvk, kind, subject.admission.sub_resource.as_deref()))
        {
            return false;
        }
        let name = object.at("/metadata/name").and_then(Value::as_str).unwrap_or("");
        if !self.names.is_empty() && !self.names.iter().any(|n| wildcard(n, name)) {
            return false;
        }
        let ns = namespace_of(object).unwrap_or(if is_cluster_scoped(&gvk.kind) { "" } else { "default" });
        if !self.namespaces.is_empty() && !self.namespaces.iter().any(|n| wildcard(n, ns)) {
            return false;
        }
        if !self.annotations.is_empty() {
            let ann = object.at("/metadata/annotations");
            let ok = self.annotations.iter().all(|(k, v)| {
                ann.and_then(|a| a.as_object()).is_some_and(|a| {
                    a.iter().any(|(ak, av)| wildcard(k, ak) && wildcard(v, av.as_str().unwrap_or("")))
                })
            });
            if !ok {
                return false;
            }
        }
        if let Some(sel) = &self.selector
            && !sel.matches(object.at("/metadata/labels"))
        {
            return false;
        }
        if let Some(sel) = &self.namespace_selector
            && !is_cluster_scoped(&gvk.kind)
        {
            let labels = subject.admission.namespace_object.as_ref().and_then(|n| n.at("/metadata/labels"));
            if !sel.matches(labels) {
                return false;
            }
        }
        let op = operation_name(subject.admission.operation);
        if !self.operations.is_empty() && !self.operations.iter().any(|o| o == op) {
            return false;
        }
        let user = &subject.admission.user_info;
        if !self.subjects.is_empty() {
            let ok = self.subjects.iter().any(|(kind, name)| match kind.as_str() {
                "User" => wildcard(name, &user.username),
                "Group" => user.groups.iter().any(|g| wildcard(name, g)),
                "ServiceAccount" => user.username == format!("system:serviceaccount:{name}"),
                _ => false,
            });
            if !ok {
                return false;
            }
        }
        if !self.roles.is_empty() && !self.roles.iter().any(|r| roles.contains(r)) {
            return false;
        }
        if !self.cluster_roles.is_empty() && !self.cluster_roles.iter().any(|r| cluster_roles.contains(r)) {
            return false;
        }
        true
    }
}

/// `Pod`, `v1/Pod`, `apps/v1/Deployment`, `apps/*/Deployment`, `Pod/exec`, `*`.
fn kind_matches(pattern: &str, gvk: &Gvk, kind: &str, sub: Option<&str>) -> bool {
    if pattern == "*" {
        return true;
    }
    let parts: Vec<&str> = pattern.split('/').collect();
    let (group, version, k, sub_want) = match parts.as_slice() {
        [k] => (None, None, *k, None),
        [a, b] if b.chars().next().is_some_and(char::is_lowercase) => (None, None, *a, Some(*b)),
        [v, k] => (None, Some(*v), *k, None),
        [g, v, k] => (Some(*g), Some(*v), *k, None),
        [g, v, k, s] => (Some(*g), Some(*v), *k, Some(*s)),
        _ => return false,
    };
    if let Some(v) = version
        && !wildcard(v, &gvk.version)
    {
        return false;
    }
    if let Some(g) = group
        && !wildcard(g, &gvk.group)
    {
        return false;
    }
    if sub_want.is_some() && sub_want != sub {
        return false;
    }
    if sub_want.is_none() && sub.is_some() {
        return false;
    }
    wildcard(k, kind)
}

impl Selection {
    pub fn parse(v: Option<&Value>, what: &str) -> Result<Selection, String> {
        let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(Selection::default()) };
        let list = |key: &str| -> Result<Vec<Filter>, String> {
            v.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .enumerate()
                        .map(|(i, f)| Filter::parse(f, &format!("{what}.{key}[{i}]")))
                        .collect()
                })
                .unwrap_or(Ok(Vec::new()))
        };
        let mut s = Selection { any: list("any")?, all: list("all")? };
        if s.any.is_empty()
            && s.all.is_empty()
            && (v.get("resources").is_some()
                || v.get("subjects").is_some()
                || v.get("roles").is_some()
                || v.get("clusterRoles").is_some())
        {
            s.all.push(Filter::parse(v, what)?);
        }
        Ok(s)
    }

    pub fn is_empty(&self) -> bool {
        self.any.is_empty() && self.all.is_empty()
    }

    /// Every filter of the selection.
    pub fn filters(&self) -> impl Iterator<Item = &Filter> {
        self.any.iter().chain(self.all.iter())
    }

    pub fn filters_mut(&mut self) -> impl Iterator<Item = &mut Filter> {
        self.any.iter_mut().chain(self.all.iter_mut())
    }

    pub fn matches(
        &self,
        subject: &Subject,
        kind_override: Option<&str>,
        roles: &[String],
        cluster_roles: &[String],
    ) -> bool {
        if self.is_empty() {
            return false;
        }
        (self.any.is_empty()
            || self.any.iter().any(|f| f.matches(subject, kind_override, roles, cluster_roles)))
            && self.all.iter().all(|f| f.matches(subject, kind_override, roles, cluster_roles))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Operation, Origin, UserInfo};
    use serde_json::json;

    fn subject(v: Value) -> Subject {
        Subject::object(v, Origin::default())
    }

    #[test]
    fn kinds_names_namespaces_operations_and_users() {
        let dep = subject(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web-1", "namespace": "prod", "labels": {"app": "web"}}}),
        );
        let sel = |v: Value| Selection::parse(Some(&v), "match").unwrap();
        assert!(sel(json!({"any": [{"resources": {"kinds": ["apps/v1/Deployment"]}}]})).matches(
            &dep,
            None,
            &[],
            &[]
        ));
        assert!(sel(json!({"any": [{"resources": {"kinds": ["Deployment"], "names": ["web-*"], "namespaces": ["pro?"]}}]})).matches(&dep, None, &[], &[]));
        assert!(!sel(json!({"any": [{"resources": {"kinds": ["v2/Deployment"]}}]})).matches(
            &dep,
            None,
            &[],
            &[]
        ));
        assert!(!sel(json!({"any": [{"resources": {"kinds": ["Pod"]}}]})).matches(&dep, None, &[], &[]));
        assert!(
            sel(json!({"resources": {"kinds": ["Deployment"], "selector": {"matchLabels": {"app": "w*"}}}}))
                .matches(&dep, None, &[], &[])
        );
        // `all` needs every filter; `any` one of them.
        let both = sel(
            json!({"all": [{"resources": {"kinds": ["Deployment"]}}, {"resources": {"namespaces": ["dev"]}}]}),
        );
        assert!(!both.matches(&dep, None, &[], &[]));
        assert!(
            !sel(json!({"any": [{"resources": {"kinds": ["Deployment"], "operations": ["DELETE"]}}]}))
                .matches(&dep, None, &[], &[])
        );
        let mut del = dep.clone();
        del.admission.operation = Operation::Delete;
        assert!(
            sel(json!({"any": [{"resources": {"kinds": ["Deployment"], "operations": ["DELETE"]}}]}))
                .matches(&del, None, &[], &[])
        );
        let mut by_user = dep.clone();
        by_user.admission.user_info =
            UserInfo { username: "alice".into(), uid: String::new(), groups: vec!["devs".into()] };
        let users = sel(
            json!({"any": [{"resources": {"kinds": ["*"]}, "subjects": [{"kind": "Group", "name": "devs"}]}]}),
        );
        assert!(users.matches(&by_user, None, &[], &[]) && !users.matches(&dep, None, &[], &[]));
        let roles = sel(json!({"any": [{"resources": {"kinds": ["*"]}, "clusterRoles": ["admin"]}]}));
        assert!(roles.matches(&dep, None, &[], &["admin".into()]) && !roles.matches(&dep, None, &[], &[]));
        assert!(Selection::parse(Some(&json!({"any": [{"resources": {"selector": {"matchExpressions": [{"key": "a", "operator": "Nope"}]}}}]})), "match").is_err());
        assert!(Selection::default().is_empty() && !Selection::default().matches(&dep, None, &[], &[]));
    }
}
