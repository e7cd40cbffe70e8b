//! PAL-K8S-035: Hard-coded secret in an environment variable.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct EnvSecretLiteral;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-035",
    title: "Hard-coded secret in an environment variable",
    severity: Severity::High,
    groups: &["kubernetes", "secrets"],
    rationale: "Credentials written into manifests end up in git history, CI logs and `kubectl describe` output.",
    remediation: "Move the value into a Secret (or an external secret store) and reference it with valueFrom.secretKeyRef.",
    references: &["CIS Kubernetes 5.4.1", "NSA/CISA Kubernetes Hardening: secrets"],
    peers: &["kube-linter:env-var-secret", "polaris:sensitiveContainerEnvVar"],
    ..CheckMeta::K8S
};

impl Check for EnvSecretLiteral {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in containers(obj) {
            for e in c.node.get("env").map(Node::as_seq).unwrap_or(&[]) {
                let name = e.get("name").and_then(Node::scalar_text).unwrap_or_default();
                let Some(v) = e.get("value") else { continue };
                let val = v.scalar_text().unwrap_or_default();
                let literal = !val.trim().is_empty() && !val.starts_with("$(");
                if literal && (secret_like(&name) || secret_value(&val)) {
                    out.push(
                        Hit::at(
                            v,
                            format!(
                                "container {:?} sets {name} to a literal value; use valueFrom.secretKeyRef",
                                c.name
                            ),
                        )
                        .in_container(c.name),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EnvSecretLiteral as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    env: [{name: DB_PASSWORD, value: hunter2}]
"#;
    const PASS: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn private_key_value_and_cloud_key_names_fire() {
        let pem = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    env:\n    - name: the_good_stuff\n      value: |\n        ---BEGIN OPENSSH PRIVATE KEY---\n        xxxxx\n";
        assert_eq!(hits(&C, pem).len(), 1);
        let azure = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    env: [{name: AZURE_BATCH_KEY, value: x}, {name: GPG_KEY, value: A035C8C1}, {name: LOG_LEVEL, value: info}]\n";
        assert_eq!(hits(&C, azure).len(), 1, "{:?}", hits(&C, azure));
    }
}
