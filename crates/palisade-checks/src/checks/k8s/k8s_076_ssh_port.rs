//! PAL-K8S-076: SSH port exposed.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct SshPort;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-076",
    title: "SSH port exposed",
    severity: Severity::Medium,
    groups: &["kubernetes", "network"],
    rationale: "Running or exposing SSH (port 22) in containers adds an unmanaged remote-access path.",
    remediation: "Remove the SSH port; use kubectl exec/debug for access.",
    references: &["NSA/CISA Kubernetes Hardening"],
    peers: &["kube-linter:ssh-port"],
    ..CheckMeta::K8S
};

impl Check for SshPort {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        flag_container_ports(
            obj,
            |v| v == 22,
            |name, _| format!("container {name:?} exposes port 22 (SSH); remove it"),
            out,
        );
        if obj.kind == "Service" {
            for p in obj.spec().and_then(|s| s.get("ports")).map(Node::as_seq).unwrap_or(&[]) {
                if let Some(n) = p
                    .get("port")
                    .filter(|n| n.as_i64() == Some(22))
                    .or(p.get("targetPort").filter(|n| n.as_i64() == Some(22)))
                {
                    out.push(Hit::at(n, "Service exposes port 22 (SSH); remove it"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SshPort as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    ports: [{containerPort: 22}]
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
