//! PAL-K8S-067: Invalid container port name.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct InvalidPortName;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-067",
    title: "Invalid container port name",
    severity: Severity::Low,
    groups: &["kubernetes"],
    rationale: "Port names must be IANA service names (at most 15 lowercase letters, digits and '-'); invalid names are rejected or break Service targetPort lookups.",
    remediation: "Rename the port: lowercase, at most 15 characters, letters/digits/'-', at least one letter.",
    references: &["Kubernetes API reference: ContainerPort"],
    peers: &["kube-linter:invalid-target-ports"],
    ..CheckMeta::K8S
};

impl Check for InvalidPortName {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in containers(obj) {
            for p in c.node.get("ports").map(Node::as_seq).unwrap_or(&[]) {
                let Some(n) = p.get("name") else { continue };
                let name = n.scalar_text().unwrap_or_default();
                let ok = !name.is_empty()
                    && name.len() <= 15
                    && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && name.bytes().any(|b| b.is_ascii_lowercase())
                    && !name.starts_with('-')
                    && !name.ends_with('-')
                    && !name.contains("--");
                if !ok {
                    out.push(
                        Hit::at(
                            n,
                            format!(
                                "container {:?} port name {name:?} is not a valid IANA service name",
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
    use super::InvalidPortName as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    ports: [{name: HTTP_Port, containerPort: 80}]
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
    ports: [{name: http, containerPort: 80}]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
