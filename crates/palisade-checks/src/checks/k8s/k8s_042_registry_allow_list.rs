//! PAL-K8S-042: Image from a registry outside the allow-list.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct RegistryAllowList;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-042",
    title: "Image from a registry outside the allow-list",
    severity: Severity::Medium,
    groups: &["kubernetes", "images"],
    rationale: "Images from unvetted registries bypass the organisation's scanning and signing pipeline.",
    remediation: "Pull images only from the registries configured in allowed_registries (mirror others there).",
    references: &["NSA/CISA Kubernetes Hardening: image provenance"],
    peers: &["kube-linter:latest-tag (allowList)"],
    ..CheckMeta::K8S
};

impl Check for RegistryAllowList {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if cx.opts.allowed_registries.is_empty() {
            return;
        }
        for c in containers(obj) {
            let Some(img) = c.node.get("image") else { continue };
            let image = img.scalar_text().unwrap_or_default();
            let (reg, path, _, _) = crate::dockerfile::split_image(&image);
            let full = format!("{}/{}", if reg.is_empty() { "docker.io" } else { reg.as_str() }, path);
            let ok = cx.opts.allowed_registries.iter().any(|a| {
                let a = a.trim_end_matches('/');
                full == a || full.starts_with(&format!("{a}/"))
            });
            if !ok {
                out.push(
                    Hit::at(
                        img,
                        format!("container {:?} image {image:?} is not from an allowed registry", c.name),
                    )
                    .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RegistryAllowList as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: evil.io/app:1.0
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

    #[test]
    fn fires_on_fail_fixture() {
        let opts = crate::options::CheckOptions {
            allowed_registries: vec!["registry.example.com".into()],
            ..Default::default()
        };
        assert!(!crate::testutil::hits_opts(&C, FAIL, &opts).is_empty());
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(hits(&C, PASS).is_empty(), "{:?}", hits(&C, PASS));
    }

    #[test]
    fn allow_list_applies_only_when_configured() {
        let opts = crate::options::CheckOptions {
            allowed_registries: vec!["registry.example.com".into()],
            ..Default::default()
        };
        assert_eq!(crate::testutil::hits_opts(&C, FAIL, &opts).len(), 1);
        assert!(crate::testutil::hits_opts(&C, PASS, &opts).is_empty());
        assert!(hits(&C, FAIL).is_empty());
    }
}
