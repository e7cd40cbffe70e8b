//! PAL-K8S-093: Binding to anonymous or all-authenticated users.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct AnonymousBinding;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-093",
    title: "Binding to anonymous or all-authenticated users",
    severity: Severity::Critical,
    groups: &["kubernetes", "rbac"],
    rationale: "Bindings to system:anonymous, system:unauthenticated or system:authenticated grant the role to anyone who can reach the API server.",
    remediation: "Remove these groups/users from the binding subjects.",
    references: &["CIS Kubernetes 5.1", "kubesec: BindingsToSystemAnonymous"],
    peers: &["kubescape:C-0262"],
    ..CheckMeta::K8S
};

impl Check for AnonymousBinding {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "ClusterRoleBinding" && obj.kind != "RoleBinding" {
            return;
        }
        for s in obj.root.get("subjects").map(Node::as_seq).unwrap_or(&[]) {
            let name = s.get("name").and_then(Node::scalar_text).unwrap_or_default();
            if matches!(name.as_str(), "system:anonymous" | "system:unauthenticated" | "system:authenticated")
            {
                out.push(Hit::at(s, format!("binding grants its role to {name}; remove this subject")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AnonymousBinding as C;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: b
  namespace: apps
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- {kind: Group, name: system:unauthenticated, apiGroup: rbac.authorization.k8s.io}
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

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
