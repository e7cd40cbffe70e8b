//! PAL-K8S-043: Image from the frozen k8s.gcr.io registry.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct K8sGcrIo;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-043",
    title: "Image from the frozen k8s.gcr.io registry",
    severity: Severity::Low,
    groups: &["kubernetes", "images"],
    rationale: "k8s.gcr.io is frozen and no longer receives (security) updates; images must come from registry.k8s.io.",
    remediation: "Replace k8s.gcr.io with registry.k8s.io.",
    references: &["Kubernetes blog: k8s.gcr.io freeze (2023)"],
    peers: &["kubescape:C-0253"],
    ..CheckMeta::K8S
};

impl Check for K8sGcrIo {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in containers(obj) {
            if let Some(img) =
                c.node.get("image").filter(|i| i.scalar_text().is_some_and(|s| s.starts_with("k8s.gcr.io/")))
            {
                out.push(
                    Hit::at(
                        img,
                        format!("container {:?} pulls from k8s.gcr.io; use registry.k8s.io", c.name),
                    )
                    .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::K8sGcrIo as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: k8s.gcr.io/pause:1.0
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
