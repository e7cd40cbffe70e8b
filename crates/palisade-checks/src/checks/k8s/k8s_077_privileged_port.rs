//! PAL-K8S-077: Container listens on a privileged port (< 1024).

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct PrivilegedPort;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-077",
    title: "Container listens on a privileged port (< 1024)",
    severity: Severity::Low,
    groups: &["kubernetes", "network"],
    rationale: "Binding ports below 1024 needs root or NET_BIND_SERVICE; using high ports lets the container run unprivileged.",
    remediation: "Listen on a port >= 1024 and map it with the Service port.",
    references: &["kube-linter:privileged-ports"],
    peers: &["kube-linter:privileged-ports"],
    ..CheckMeta::K8S
};

impl Check for PrivilegedPort {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        flag_container_ports(
            obj,
            |v| v > 0 && v < 1024,
            |name, v| format!("container {name:?} uses privileged port {v}; use a port >= 1024"),
            out,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::PrivilegedPort as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    ports: [{containerPort: 80}]
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
    ports: [{containerPort: 8080}]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
