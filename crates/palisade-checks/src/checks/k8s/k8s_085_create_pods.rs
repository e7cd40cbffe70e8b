//! PAL-K8S-085: Role can create pods or workloads.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct CreatePods;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-085",
    title: "Role can create pods or workloads",
    severity: Severity::High,
    groups: &["kubernetes", "rbac"],
    rationale: "Whoever can create pods can mount any Secret and run as any service account of the namespace.",
    remediation: "Remove create on pods/workload resources from the role.",
    references: &["CIS Kubernetes 5.1", "NSA/CISA Kubernetes Hardening: RBAC"],
    peers: &["kube-linter:access-to-create-pods"],
    ..CheckMeta::K8S
};

impl Check for CreatePods {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if let Some(r) = find_grant(
            obj,
            &[
                ("", "pods"),
                ("apps", "deployments"),
                ("apps", "daemonsets"),
                ("apps", "statefulsets"),
                ("apps", "replicasets"),
                ("batch", "jobs"),
                ("batch", "cronjobs"),
                ("", "replicationcontrollers"),
            ],
            &["create"],
        ) {
            out.push(Hit::at(
                r,
                "role can create pods or workloads; remove create on pods/workload resources from the role.",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CreatePods as C;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["create"]
"#;
    const PASS: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get"]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
