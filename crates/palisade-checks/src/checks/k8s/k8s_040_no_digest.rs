//! PAL-K8S-040: Image not pinned by digest.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NoDigest;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-040",
    title: "Image not pinned by digest",
    severity: Severity::Low,
    groups: &["kubernetes", "images"],
    rationale: "Tags can be moved; only a digest guarantees the exact image that was reviewed and scanned is what runs.",
    remediation: "Reference images by digest: image: repo:tag@sha256:<digest>.",
    references: &["NSA/CISA Kubernetes Hardening: image integrity"],
    peers: &["checkov:CKV_K8S_43"],
    ..CheckMeta::K8S
};

impl Check for NoDigest {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in containers(obj) {
            let Some(img) = c.node.get("image") else { continue };
            let image = img.scalar_text().unwrap_or_default();
            if !image.contains("@sha256:") {
                out.push(
                    Hit::at(
                        img,
                        format!(
                            "container {:?} image {image:?} is not pinned by digest; append @sha256:<digest>",
                            c.name
                        ),
                    )
                    .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NoDigest as C;

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
  containers:
  - name: app
    image: registry.example.com/app:1.0@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
