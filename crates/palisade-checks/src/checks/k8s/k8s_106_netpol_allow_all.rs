//! PAL-K8S-106: NetworkPolicy allows all traffic.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NetpolAllowAll;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-106",
    title: "NetworkPolicy allows all traffic",
    severity: Severity::Medium,
    groups: &["kubernetes", "network"],
    rationale: "An ingress or egress rule with no from/to restriction (`- {}`) allows traffic from or to everywhere, defeating the policy.",
    remediation: "Restrict the rule with podSelector, namespaceSelector or ipBlock entries.",
    references: &["NSA/CISA Kubernetes Hardening: network separation"],
    peers: &[],
    ..CheckMeta::K8S
};

impl Check for NetpolAllowAll {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "NetworkPolicy" {
            return;
        }
        let Some(spec) = obj.spec() else { return };
        for (dir, peer) in [("ingress", "from"), ("egress", "to")] {
            for r in spec.get(dir).map(Node::as_seq).unwrap_or(&[]) {
                if r.get(peer).is_none_or(|p| p.as_seq().is_empty()) && r.get("ports").is_none() {
                    out.push(Hit::at(
                        r,
                        format!("{dir} rule without {peer} or ports allows all traffic; restrict it"),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NetpolAllowAll as C;

    const FAIL: &str = r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: n, namespace: apps}
spec:
  podSelector: {}
  ingress:
  - {}
"#;
    const PASS: &str = r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: n, namespace: apps}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
