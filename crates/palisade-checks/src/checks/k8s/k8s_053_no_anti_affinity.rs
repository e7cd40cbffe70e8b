//! PAL-K8S-053: Replicas may all land on one node (no anti-affinity or topology spread).

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NoAntiAffinity;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-053",
    title: "Replicas may all land on one node (no anti-affinity or topology spread)",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "Without pod anti-affinity or topology spread constraints all replicas can be scheduled on one node and fail together.",
    remediation: "Add podAntiAffinity or topologySpreadConstraints keyed on kubernetes.io/hostname.",
    references: &["Kubernetes docs: topology spread constraints"],
    peers: &["kube-linter:no-anti-affinity", "polaris:topologySpreadConstraint"],
    ..CheckMeta::K8S
};

impl Check for NoAntiAffinity {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if !["Deployment", "StatefulSet", "DeploymentConfig"].contains(&obj.kind.as_str()) {
            return;
        }
        let Some(pod) = obj.pod() else { return };
        let r = obj.spec().and_then(|s| s.get("replicas")).and_then(Node::as_i64).unwrap_or(1);
        let own = labels(pod.meta);
        let anti = pod.spec.path(&["affinity", "podAntiAffinity"]);
        let required = anti.and_then(|a| a.get("requiredDuringSchedulingIgnoredDuringExecution"));
        let preferred = anti
            .and_then(|a| a.get("preferredDuringSchedulingIgnoredDuringExecution"))
            .map(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|w| w.get("podAffinityTerm"));
        // A term spreads these pods only when its selector picks their own labels in their own namespace.
        let spreads = |term: &Node| {
            let ns_ok = term
                .get("namespaces")
                .map(Node::str_list)
                .is_none_or(|list| list.is_empty() || list.iter().any(|n| n == ns(obj)));
            ns_ok && term.get("labelSelector").is_some_and(|s| selects(s, &own))
        };
        let has = required.map(Node::as_seq).unwrap_or(&[]).iter().chain(preferred).any(spreads)
            || pod.spec.get("topologySpreadConstraints").is_some_and(|t| !t.as_seq().is_empty());
        if r > 1 && !has {
            out.push(Hit::at(pod.spec, format!("{r} replicas without podAntiAffinity or topologySpreadConstraints; spread them across nodes")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NoAntiAffinity as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.0
"#;
    const PASS: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule}]
      containers:
      - name: app
        image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn anti_affinity_must_select_own_pods_in_own_namespace() {
        let doc = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: foo}\nspec:\n  replicas: 3\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n          - labelSelector: {matchLabels: {app: a}}\n            topologyKey: kubernetes.io/hostname\n            NS\n      containers: [{name: c}]\n";
        assert!(hits(&C, &doc.replace("NS", "namespaces: [foo]")).is_empty());
        assert!(hits(&C, &doc.replace("NS", "namespaces: []")).is_empty());
        assert_eq!(hits(&C, &doc.replace("NS", "namespaces: [bar]")).len(), 1);
        assert_eq!(
            hits(
                &C,
                &doc.replace("{app: a}}\n            topologyKey", "{app: b}}\n            topologyKey")
                    .replace("NS", "")
            )
            .len(),
            1
        );
    }
}
