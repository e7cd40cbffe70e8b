//! PAL-K8S-079: ingress-nginx snippet annotation.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NginxSnippet;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-079",
    title: "ingress-nginx snippet annotation",
    severity: Severity::High,
    groups: &["kubernetes", "network"],
    rationale: "configuration-snippet/server-snippet annotations inject raw nginx config; they allowed reading the controller's secrets (CVE-2021-25742, CVE-2025-1974).",
    remediation: "Remove *-snippet annotations and disable allow-snippet-annotations in the controller.",
    references: &["CVE-2021-25742", "CVE-2025-1974"],
    peers: &["checkov:CKV_K8S_152", "checkov:CKV_K8S_153", "checkov:CKV_K8S_154"],
    ..CheckMeta::K8S
};

impl Check for NginxSnippet {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "Ingress" {
            return;
        }
        for (k, _) in obj.metadata().and_then(|m| m.get("annotations")).map(Node::as_map).unwrap_or(&[]) {
            if k.name.starts_with("nginx.ingress.kubernetes.io/") && k.name.ends_with("-snippet") {
                out.push(Hit::pos(
                    k.line,
                    k.col,
                    format!("annotation {} injects raw nginx configuration; remove it", k.name),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NginxSnippet as C;

    const FAIL: &str = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: i
  annotations:
    nginx.ingress.kubernetes.io/server-snippet: "location / {}"
spec: {}
"#;
    const PASS: &str = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: i
  annotations:
    nginx.ingress.kubernetes.io/ssl-redirect: "true"
spec: {}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
