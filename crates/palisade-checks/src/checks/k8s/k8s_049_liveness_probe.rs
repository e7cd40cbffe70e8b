//! PAL-K8S-049: livenessProbe missing.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct LivenessProbe;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-049",
    title: "livenessProbe missing",
    severity: Severity::Low,
    groups: &["kubernetes", "reliability"],
    rationale: "Without a livenessProbe Kubernetes cannot tell when the container is stuck.",
    remediation: "Add a livenessProbe (httpGet, tcpSocket, grpc or exec) to every long-running container.",
    references: &["Kubernetes docs: configure probes"],
    peers: &["checkov:CKV_K8S_8", "kube-linter:no-liveness-probe", "polaris:livenessProbeMissing"],
    ..CheckMeta::K8S
};

impl Check for LivenessProbe {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind == "Job" || obj.kind == "CronJob" {
            return;
        }
        for c in app_containers(obj) {
            if c.node.field("livenessProbe").is_none() {
                out.push(
                    Hit::at(c.node, format!("container {:?} has no livenessProbe; add one", c.name))
                        .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LivenessProbe as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
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
    livenessProbe: {httpGet: {path: /healthz, port: 8080}}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
