//! PAL-K8S-039: Image tag is latest or missing.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct LatestTag;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-039",
    title: "Image tag is latest or missing",
    severity: Severity::Medium,
    groups: &["kubernetes", "images"],
    rationale: "A mutable tag makes deployments unreproducible and can silently pull a different (possibly compromised) image.",
    remediation: "Pin the image to a specific version tag, ideally with a digest (image:1.2.3@sha256:...).",
    references: &["CIS Kubernetes 5.5.1", "NSA/CISA Kubernetes Hardening: image scanning"],
    peers: &["checkov:CKV_K8S_14", "kube-linter:latest-tag", "polaris:tagNotSpecified"],
    ..CheckMeta::K8S
};

impl Check for LatestTag {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in containers(obj) {
            let Some(img) = c.node.get("image") else { continue };
            let image = img.scalar_text().unwrap_or_default();
            let (_, _, tag, digest) = crate::dockerfile::split_image(&image);
            if digest.is_none() && tag.as_deref().is_none_or(|t| t == "latest") {
                out.push(
                    Hit::at(
                        img,
                        format!(
                            "container {:?} image {image:?} has no tag or uses latest; pin a version",
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
    use super::LatestTag as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:latest
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
