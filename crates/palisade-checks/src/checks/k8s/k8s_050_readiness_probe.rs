//! PAL-K8S-050: readinessProbe missing.

use super::helpers::missing_probe;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
use crate::k8s::Object;
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

    fn k8s(&self, obj: &Object, _cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        missing_probe(obj, "readinessProbe", out);
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
