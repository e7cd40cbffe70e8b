//! PAL-K8S-065: Duplicate environment variable names.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct DuplicateEnv;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-065",
    title: "Duplicate environment variable names",
    severity: Severity::Low,
    groups: &["kubernetes"],
    rationale: "When an environment variable is defined twice only the last value wins, which hides configuration mistakes.",
    remediation: "Remove the duplicate env entries.",
    references: &["Kubernetes API reference: EnvVar"],
    peers: &["kube-linter:duplicate-env-var"],
    ..CheckMeta::K8S
};

impl Check for DuplicateEnv {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in containers(obj) {
            let mut seen: Vec<String> = Vec::new();
            for e in c.node.get("env").map(Node::as_seq).unwrap_or(&[]) {
                let name = e.get("name").and_then(Node::scalar_text).unwrap_or_default();
                if seen.contains(&name) {
                    out.push(
                        Hit::at(e, format!("container {:?} defines env {name} more than once", c.name))
                            .in_container(c.name),
                    );
                }
                seen.push(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DuplicateEnv as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    env: [{name: A, value: "1"}, {name: A, value: "2"}]
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
    env: [{name: A, value: "1"}, {name: B, value: "2"}]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
