//! PAL-K8S-083: Binding to cluster-admin.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct ClusterAdminBinding;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-083",
    title: "Binding to cluster-admin",
    severity: Severity::Critical,
    groups: &["kubernetes", "rbac"],
    rationale: "cluster-admin grants full control of the cluster to every subject of the binding.",
    remediation: "Bind a least-privilege Role instead of cluster-admin.",
    references: &["CIS Kubernetes 5.1.1"],
    peers: &["kube-linter:cluster-admin-role-binding", "polaris:clusterrolebindingClusterAdmin"],
    ..CheckMeta::K8S
};

impl Check for ClusterAdminBinding {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "ClusterRoleBinding" && obj.kind != "RoleBinding" {
            return;
        }
        if let Some(n) = obj.root.path(&["roleRef", "name"]).filter(|n| n.as_str() == Some("cluster-admin")) {
            out.push(Hit::at(n, "binding grants cluster-admin; bind a least-privilege role"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ClusterAdminBinding as C;
    #[allow(unused_imports)]
    use crate::testutil::{hits, hits_v};

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: b
  namespace: apps
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- {kind: ServiceAccount, name: web, namespace: apps}
"#;
    const PASS: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: b
  namespace: apps
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- {kind: ServiceAccount, name: web, namespace: apps}
"#;

    #[test]
    fn fires_on_fail_fixture() {
        assert!(!hits(&C, FAIL).is_empty());
    }

    #[test]
    fn silent_on_pass_fixture() {
        assert!(hits(&C, PASS).is_empty(), "{:?}", hits(&C, PASS));
    }
}
