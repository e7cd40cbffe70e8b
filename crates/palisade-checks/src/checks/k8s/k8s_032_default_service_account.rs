//! PAL-K8S-032: Default service account used.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct DefaultServiceAccount;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-032",
    title: "Default service account used",
    severity: Severity::Medium,
    groups: &["kubernetes", "rbac"],
    rationale: "Workloads sharing the namespace's default service account share its permissions; a default account with a token is an easy foothold.",
    remediation: "Create a dedicated ServiceAccount per workload and set serviceAccountName; set automountServiceAccountToken: false on the default ServiceAccount.",
    references: &["CIS Kubernetes 5.1.5"],
    peers: &["kube-linter:default-service-account", "checkov:CKV_K8S_41"],
    ..CheckMeta::K8S
};

impl Check for DefaultServiceAccount {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind == "ServiceAccount" && obj.name == "default" {
            if obj.root.get("automountServiceAccountToken").and_then(Node::as_bool) != Some(false) {
                out.push(Hit::at(&obj.root, "the default ServiceAccount automounts its token; set automountServiceAccountToken: false"));
            }
            return;
        }
        let Some(pod) = obj.pod() else { return };
        let sa = pod.spec.get("serviceAccountName").or(pod.spec.get("serviceAccount"));
        let name = sa.and_then(Node::scalar_text).unwrap_or_default();
        if name.is_empty() || name == "default" {
            out.push(Hit::at(
                sa.unwrap_or(pod.spec),
                "the pod uses the default service account; set serviceAccountName to a dedicated account",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DefaultServiceAccount as C;

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
  serviceAccountName: web
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
