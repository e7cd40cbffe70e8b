//! PAL-K8S-096: Kubernetes Dashboard or Helm Tiller deployed.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct DashboardTiller;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-096",
    title: "Kubernetes Dashboard or Helm Tiller deployed",
    severity: Severity::Medium,
    groups: &["kubernetes"],
    rationale: "The Kubernetes Dashboard and Helm v2 Tiller have a history of cluster takeovers when exposed or over-privileged.",
    remediation: "Remove Tiller (Helm 3 needs none); if the Dashboard is required, keep it private and least-privileged.",
    references: &["kubescape:C-0014"],
    peers: &["checkov:CKV_K8S_33", "checkov:CKV_K8S_34", "checkov:CKV_K8S_44", "checkov:CKV_K8S_45"],
    ..CheckMeta::K8S
};

impl Check for DashboardTiller {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in containers(obj) {
            let img = c.image().unwrap_or("");
            if img.contains("kubernetes-dashboard")
                || img.contains("kubernetesui/dashboard")
                || img.contains("/tiller")
                || img.starts_with("tiller")
            {
                out.push(
                    Hit::at(
                        c.node.get("image").unwrap_or(c.node),
                        format!("container {:?} runs {img}; remove or lock it down", c.name),
                    )
                    .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DashboardTiller as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: gcr.io/kubernetes-helm/tiller:v2.16.0
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
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
