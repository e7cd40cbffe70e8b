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
        let Some((n, name, role_kind)) = user_binding_role_ref(obj) else { return };
        if name == "cluster-admin" {
            out.push(Hit::at(n, "binding grants cluster-admin; bind a least-privilege role"));
            return;
        }
        // The role may be defined in any file of the scan: a ClusterRole by name, a Role by name in the
        // binding's namespace.
        let (namespace, line, col) = (ns(obj).to_string(), n.line, n.col);
        cx.relate(move |index, out| {
            if index.roles_named(&role_kind, &namespace, &name).any(|r| r.all_powerful) {
                out.push(Hit::pos(line, col, format!("binding grants {role_kind} {name:?}, which allows every verb on every resource; bind a least-privilege role")));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::ClusterAdminBinding as C;
    use crate::testutil::hits;

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

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn platform_managed_bindings_are_exempt_but_not_user_bindings_to_system_roles() {
        let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: ROLE}\nrules:\n- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: BINDING}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ROLE}\nsubjects: [{kind: User, name: u}]\n";
        let doc = |r: &str, b: &str| role.replace("ROLE", r).replace("BINDING", b);
        assert!(hits(&C, &doc("test", "system:test")).is_empty());
        assert!(hits(&C, &doc("test", "gce:podsecuritypolicy:calico-sa")).is_empty());
        assert_eq!(hits(&C, &doc("system:test", "mine")).len(), 1);
    }

    #[test]
    fn a_role_binding_grants_the_role_of_its_own_namespace() {
        let doc = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: ROLE_NS}\nrules:\n- {apiGroups: ['*'], resources: ['*'], verbs: ['*']}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: apps}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects: [{kind: User, name: u}]\n";
        assert_eq!(hits(&C, &doc.replace("ROLE_NS", "apps")).len(), 1);
        assert!(hits(&C, &doc.replace("ROLE_NS", "other")).is_empty());
    }
}
