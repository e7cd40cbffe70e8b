//! PAL-K8S-031: Service account token automounted.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct SaTokenAutomount;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-031",
    title: "Service account token automounted",
    severity: Severity::Medium,
    groups: &["kubernetes"],
    rationale: "An automounted token lets anyone who compromises the pod talk to the Kubernetes API with the pod's identity.",
    remediation: "Set automountServiceAccountToken: false in the pod spec unless the app calls the Kubernetes API.",
    references: &["CIS Kubernetes 5.1.6", "NSA/CISA Kubernetes Hardening"],
    peers: &["checkov:CKV_K8S_38", "polaris:automountServiceAccountToken"],
    ..CheckMeta::K8S
};

impl Check for SaTokenAutomount {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        let sa = pod
            .spec
            .get("serviceAccountName")
            .and_then(Node::scalar_text)
            .unwrap_or_else(|| "default".into());
        let sa_off = cx.objects.iter().any(|o| {
            o.kind == "ServiceAccount"
                && o.name == sa
                && ns(o) == ns(obj)
                && o.root.get("automountServiceAccountToken").and_then(Node::as_bool) == Some(false)
        });
        let pod_setting = pod.spec.get("automountServiceAccountToken").and_then(Node::as_bool);
        if pod_setting == Some(true) || (pod_setting.is_none() && !sa_off) {
            out.push(Hit::at(
                pod.spec.get("automountServiceAccountToken").unwrap_or(pod.spec),
                "the service account token is automounted; set automountServiceAccountToken: false",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SaTokenAutomount as C;

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
  automountServiceAccountToken: false
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
