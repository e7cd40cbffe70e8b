//! PAL-K8S-017: Container may run with a low UID (< 10000).

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct LowUid;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-017",
    title: "Container may run with a low UID (< 10000)",
    severity: Severity::Low,
    groups: &["kubernetes", "pod-security"],
    rationale: "UIDs below 10000 may collide with real users on the node; if the container escapes it acts as that user.",
    remediation: "Set securityContext.runAsUser to 10000 or higher (pod or container level).",
    references: &["kubesec: RunAsUser"],
    peers: &["checkov:CKV_K8S_40"],
    ..CheckMeta::K8S
};

impl Check for LowUid {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        // In a user namespace (hostUsers: false) container UIDs are remapped and cannot collide with host UIDs.
        if pod.user_namespaced() {
            return;
        }
        let pod_uid = pod.sc_field("runAsUser").and_then(Node::as_i64);
        for c in spec_containers(obj) {
            let uid = c.sc_field("runAsUser").and_then(Node::as_i64).or(pod_uid);
            if uid.is_none_or(|u| u < 10000) {
                let at = c.sc_field("runAsUser").or(pod.sc_field("runAsUser")).unwrap_or(c.node);
                out.push(
                    Hit::at(
                        at,
                        format!(
                            "container {:?} runs with UID {} (< 10000); set runAsUser >= 10000",
                            c.name,
                            uid.map_or("from image".to_string(), |u| u.to_string())
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
    use super::LowUid as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  securityContext: {runAsUser: 1000}
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
  securityContext: {runAsUser: 10001}
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn user_namespaced_pods_are_exempt() {
        let doc = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  hostUsers: false\n  containers: [{name: c, image: x:1}]\n";
        assert!(hits(&C, doc).is_empty());
        assert_eq!(hits(&C, &doc.replace("hostUsers: false", "hostUsers: true")).len(), 1);
    }
}
