//! PAL-K8S-064: dnsConfig does not lower ndots below the default 5.

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
    title: "dnsConfig does not lower ndots",
    severity: Severity::Info,
    groups: &["kubernetes", "reliability"],
    rationale: "The default ndots:5 causes many needless DNS lookups for external names; tuning dnsConfig.options reduces latency and DNS load.",
    remediation: "Set spec.dnsConfig.options with ndots below 5 (e.g. ndots: \"2\").",
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
        let opts = pod.spec.path(&["dnsConfig", "options"]).map(Node::as_seq).unwrap_or(&[]);
        let ndots = opts.iter().find(|o| o.get("name").and_then(Node::as_str) == Some("ndots"));
        match ndots {
            None => {
                out.push(Hit::at(pod.spec, "no dnsConfig ndots option set; set ndots below the default 5"))
            }
            Some(o) => {
                let value = o.get("value").and_then(Node::scalar_text).unwrap_or_default();
                // Unparsable values are left to the API server to reject.
                if value.trim().parse::<u32>().is_ok_and(|n| n >= 5) {
                    out.push(Hit::at(
                        o,
                        format!("dnsConfig sets ndots to {value}; set it below the default 5"),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DnsConfig as C;
    use crate::testutil::hits;

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

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn ndots_at_or_above_default_fires() {
        let doc = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  dnsConfig:\n    options: [{name: ndots, value: \"N\"}]\n  containers: [{name: c, image: x:1}]\n";
        assert_eq!(hits(&C, &doc.replace('N', "5")).len(), 1);
        assert!(hits(&C, &doc.replace('N', "2")).is_empty());
    }
}
