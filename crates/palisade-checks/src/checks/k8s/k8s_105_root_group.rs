//! PAL-K8S-105: Container runs with the root group (GID 0).

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct RootGroup;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-105",
    title: "Container runs with the root group (GID 0)",
    severity: Severity::Medium,
    groups: &["kubernetes", "pod-security"],
    rationale: "Group 0 owns many system files; a process in the root group can often read or write them.",
    remediation: "Set runAsGroup and fsGroup to a non-zero GID.",
    references: &["kubesec: RunAsGroup"],
    peers: &["kube-linter:run-as-non-root"],
    ..CheckMeta::K8S
};

impl Check for RootGroup {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        for key in ["runAsGroup", "fsGroup"] {
            if let Some(n) = pod.sc_field(key).filter(|n| n.as_i64() == Some(0)) {
                out.push(Hit::at(n, format!("pod sets securityContext.{key}=0; use a non-zero GID")));
            }
        }
        for c in containers(obj) {
            if let Some(n) = c.sc_field("runAsGroup").filter(|n| n.as_i64() == Some(0)) {
                out.push(
                    Hit::at(n, format!("container {:?} sets runAsGroup=0; use a non-zero GID", c.name))
                        .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RootGroup as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  securityContext: {runAsGroup: 0}
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
  securityContext: {runAsGroup: 10001}
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
