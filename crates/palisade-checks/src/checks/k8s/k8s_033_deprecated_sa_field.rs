//! PAL-K8S-033: Deprecated serviceAccount field used.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct DeprecatedSaField;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-033",
    title: "Deprecated serviceAccount field used",
    severity: Severity::Low,
    groups: &["kubernetes"],
    rationale: "spec.serviceAccount is a deprecated alias of serviceAccountName and may be dropped by tooling.",
    remediation: "Use spec.serviceAccountName instead of spec.serviceAccount.",
    references: &["Kubernetes API reference: PodSpec"],
    peers: &["kube-linter:deprecated-service-account-field"],
    ..CheckMeta::K8S
};

impl Check for DeprecatedSaField {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        if let Some(n) = pod.spec.field("serviceAccount") {
            out.push(Hit::at(n, "spec.serviceAccount is deprecated; use spec.serviceAccountName"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DeprecatedSaField as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  serviceAccount: web
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
  serviceAccountName: web
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
