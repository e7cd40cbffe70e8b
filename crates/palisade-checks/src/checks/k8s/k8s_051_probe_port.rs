//! PAL-K8S-051: Probe targets a port the container does not expose.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct ProbePort;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-051",
    title: "Probe targets a port the container does not expose",
    severity: Severity::Low,
    groups: &["kubernetes", "reliability"],
    rationale: "A probe on a port (or port name) that the container does not declare usually never succeeds, causing restarts or no traffic.",
    remediation: "Point the probe at a declared containerPort (number or name).",
    references: &["Kubernetes docs: configure probes"],
    peers: &["kube-linter:liveness-port", "kube-linter:readiness-port", "kube-linter:startup-port"],
    ..CheckMeta::K8S
};

impl Check for ProbePort {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in containers(obj) {
            let ports = c.node.get("ports").map(Node::as_seq).unwrap_or(&[]);
            for p in ["livenessProbe", "readinessProbe", "startupProbe"] {
                for h in ["httpGet", "tcpSocket", "grpc"] {
                    let Some(port) = c.node.field(p).and_then(|x| x.field(h)).and_then(|x| x.get("port"))
                    else {
                        continue;
                    };
                    let ok = match port.as_i64() {
                        Some(n) => {
                            ports.is_empty()
                                || ports
                                    .iter()
                                    .any(|q| q.get("containerPort").and_then(Node::as_i64) == Some(n))
                        }
                        None => {
                            let name = port_text(port);
                            ports.iter().any(|q| {
                                q.get("name").and_then(Node::scalar_text).as_deref() == Some(name.as_str())
                            })
                        }
                    };
                    if !ok {
                        out.push(
                            Hit::at(
                                port,
                                format!(
                                    "container {:?} {p} uses port {} which is not declared in ports",
                                    c.name,
                                    port_text(port)
                                ),
                            )
                            .in_container(c.name),
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ProbePort as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    ports: [{name: http, containerPort: 8080}]
    livenessProbe: {httpGet: {path: /, port: metrics}}
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
    ports: [{name: http, containerPort: 8080}]
    livenessProbe: {httpGet: {path: /, port: http}}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
