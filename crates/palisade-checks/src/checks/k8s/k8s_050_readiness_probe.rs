//! PAL-K8S-050: readinessProbe missing.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct ReadinessProbe;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-050",
    title: "readinessProbe missing",
    severity: Severity::Low,
    groups: &["kubernetes", "reliability"],
    rationale: "Without a readinessProbe Kubernetes cannot tell when the container is ready for traffic.",
    remediation: "Add a readinessProbe (httpGet, tcpSocket, grpc or exec) to every long-running container.",
    references: &["Kubernetes docs: configure probes"],
    peers: &["checkov:CKV_K8S_9", "kube-linter:no-readiness-probe", "polaris:readinessProbeMissing"],
    ..CheckMeta::K8S
};

impl Check for ReadinessProbe {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind == "Job" || obj.kind == "CronJob" {
            return;
        }
        for c in app_containers(obj) {
            if c.node.field("readinessProbe").is_none() {
                out.push(
                    Hit::at(c.node, format!("container {:?} has no readinessProbe; add one", c.name))
                        .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ReadinessProbe as C;

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
    readinessProbe: {httpGet: {path: /healthz, port: 8080}}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
