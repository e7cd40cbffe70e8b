//! PAL-K8S-036: Secret consumed through an environment variable.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct SecretInEnv;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-036",
    title: "Secret consumed through an environment variable",
    severity: Severity::Low,
    groups: &["kubernetes", "secrets"],
    rationale: "Environment variables leak into child processes, crash dumps and logs; mounted files are easier to protect and rotate.",
    remediation: "Mount the Secret as a volume instead of secretKeyRef/secretRef environment variables.",
    references: &["CIS Kubernetes 5.4.1"],
    peers: &["checkov:CKV_K8S_35", "kube-linter:read-secret-from-env-var"],
    ..CheckMeta::K8S
};

impl Check for SecretInEnv {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in containers(obj) {
            for e in c.node.get("env").map(Node::as_seq).unwrap_or(&[]) {
                if let Some(r) = e.get("valueFrom").and_then(|v| v.field("secretKeyRef")) {
                    out.push(Hit::at(r, format!("container {:?} reads a Secret into an environment variable; mount it as a file", c.name)).in_container(c.name));
                }
            }
            for e in c.node.get("envFrom").map(Node::as_seq).unwrap_or(&[]) {
                if let Some(r) = e.field("secretRef") {
                    out.push(
                        Hit::at(
                            r,
                            format!("container {:?} loads a Secret with envFrom; mount it as a file", c.name),
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
    use super::SecretInEnv as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    envFrom: [{secretRef: {name: db}}]
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
    env: [{name: MODE, value: prod}]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
