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
        const MESSAGE: &str =
            "the service account token is automounted; set automountServiceAccountToken: false";
        let setting = pod.spec.get("automountServiceAccountToken");
        match setting.and_then(Node::as_bool) {
            Some(true) => out.push(Hit::at(setting.unwrap_or(pod.spec), MESSAGE)),
            Some(false) => {}
            // The pod inherits its ServiceAccount's setting; the account may be in any file of the scan.
            None => {
                let (namespace, at) = (ns(obj).to_string(), setting.unwrap_or(pod.spec));
                let (line, col) = (at.line, at.col);
                cx.relate(move |index, out| {
                    if !index.service_accounts_named(&namespace, &sa).any(|s| s.automount == Some(false)) {
                        out.push(Hit::pos(line, col, MESSAGE));
                    }
                });
            }
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
