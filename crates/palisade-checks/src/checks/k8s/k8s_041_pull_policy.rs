//! PAL-K8S-041: imagePullPolicy is not Always.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct PullPolicy;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-041",
    title: "imagePullPolicy is not Always",
    severity: Severity::Low,
    groups: &["kubernetes", "images"],
    rationale: "With IfNotPresent a node may run a stale or tampered cached image for a mutable tag, and pods can use images cached by other tenants without credentials.",
    remediation: "Set imagePullPolicy: Always (or pin images by digest).",
    references: &["CIS Kubernetes: AlwaysPullImages admission"],
    peers: &["checkov:CKV_K8S_15", "polaris:pullPolicyNotAlways"],
    ..CheckMeta::K8S
};

impl Check for PullPolicy {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in containers(obj) {
            let image = c.image().unwrap_or("");
            let (_, _, tag, digest) = crate::dockerfile::split_image(image);
            match c.node.get("imagePullPolicy").and_then(Node::scalar_text) {
                Some(p) if p != "Always" => out.push(
                    Hit::at(
                        c.node.get("imagePullPolicy").unwrap_or(c.node),
                        format!("container {:?} uses imagePullPolicy {p}; set Always", c.name),
                    )
                    .in_container(c.name),
                ),
                None if digest.is_none() && tag.as_deref().is_some_and(|t| t != "latest") => out.push(
                    Hit::at(
                        c.node,
                        format!(
                            "container {:?} defaults to imagePullPolicy IfNotPresent; set Always",
                            c.name
                        ),
                    )
                    .in_container(c.name),
                ),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PullPolicy as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    imagePullPolicy: IfNotPresent
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
    imagePullPolicy: Always
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
