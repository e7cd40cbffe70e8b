//! PAL-K8S-055: Deployment does not use a rolling update strategy.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct RollingUpdate;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-055",
    title: "Deployment does not use a rolling update strategy",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "The Recreate strategy takes every pod down before starting new ones, causing downtime on each rollout.",
    remediation: "Use strategy.type: RollingUpdate (the default).",
    references: &["Kubernetes docs: deployment strategy"],
    peers: &["kube-linter:no-rolling-update-strategy"],
    ..CheckMeta::K8S
};

impl Check for RollingUpdate {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        // DeploymentConfig (OpenShift) calls its rolling strategy `Rolling`.
        let (key, rolling) = match obj.kind.as_str() {
            "Deployment" => ("strategy", "RollingUpdate"),
            "DaemonSet" => ("updateStrategy", "RollingUpdate"),
            "DeploymentConfig" => ("strategy", "Rolling"),
            _ => return,
        };
        if let Some(t) =
            obj.spec().and_then(|s| s.path(&[key, "type"])).filter(|t| t.as_str() != Some(rolling))
        {
            out.push(Hit::at(
                t,
                format!("{key}.type is {}; use {rolling}", t.scalar_text().unwrap_or_default()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RollingUpdate as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  strategy: {type: Recreate}
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
  strategy: {type: RollingUpdate}
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

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn deployment_config_rolling() {
        let doc = "apiVersion: apps.openshift.io/v1\nkind: DeploymentConfig\nmetadata: {name: d}\nspec:\n  strategy: {type: TYPE}\n";
        assert_eq!(hits(&C, &doc.replace("TYPE", "Other")).len(), 1);
        assert!(hits(&C, &doc.replace("TYPE", "Rolling")).is_empty());
    }
}
