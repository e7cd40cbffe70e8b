//! PAL-K8S-049: livenessProbe missing.

use super::helpers::missing_probe;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
use crate::k8s::Object;
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

    fn k8s(&self, obj: &Object, _cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        missing_probe(obj, "livenessProbe", out);
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
