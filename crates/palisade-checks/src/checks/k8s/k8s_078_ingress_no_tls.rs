//! PAL-K8S-078: Ingress without TLS.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct IngressNoTls;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-078",
    title: "Ingress without TLS",
    severity: Severity::Medium,
    groups: &["kubernetes", "network"],
    rationale: "Without TLS, traffic to the Ingress (including credentials and cookies) travels in clear text.",
    remediation: "Add spec.tls with a certificate Secret for every host.",
    references: &["NSA/CISA Kubernetes Hardening: encryption in transit"],
    peers: &["polaris:tlsSettingsMissing", "kubescape:C-0263"],
    ..CheckMeta::K8S
};

impl Check for IngressNoTls {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "Ingress" {
            return;
        }
        let Some(spec) = obj.spec() else { return };
        if spec.get("tls").is_none_or(|t| t.as_seq().is_empty()) {
            out.push(Hit::at(spec, "Ingress has no spec.tls; add TLS for its hosts"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IngressNoTls as C;

    const FAIL: &str = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i, namespace: apps}
spec:
  rules: [{host: a.example.com}]
"#;
    const PASS: &str = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i, namespace: apps}
spec:
  tls: [{hosts: [a.example.com], secretName: t}]
  rules: [{host: a.example.com}]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
