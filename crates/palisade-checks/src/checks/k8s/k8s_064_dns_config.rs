//! PAL-K8S-064: No dnsConfig options.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct DnsConfig;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-064",
    title: "No dnsConfig options",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "The default ndots:5 causes many needless DNS lookups for external names; tuning dnsConfig.options reduces latency and DNS load.",
    remediation: "Set spec.dnsConfig.options (e.g. ndots: \"2\").",
    references: &["Kubernetes docs: pod DNS config"],
    peers: &["kube-linter:dnsconfig-options"],
    ..CheckMeta::K8S
};

impl Check for DnsConfig {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        if pod.spec.path(&["dnsConfig", "options"]).is_none_or(|o| o.as_seq().is_empty()) {
            out.push(Hit::at(pod.spec, "no dnsConfig.options set; consider ndots tuning"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DnsConfig as C;
    #[allow(unused_imports)]
    use crate::testutil::{hits, hits_v};

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
  dnsConfig: {options: [{name: ndots, value: "2"}]}
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    #[test]
    fn fires_on_fail_fixture() {
        assert!(!hits(&C, FAIL).is_empty());
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(hits(&C, PASS).is_empty(), "{:?}", hits(&C, PASS));
    }
}
