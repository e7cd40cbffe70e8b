//! PAL-K8S-108: Binding to the built-in admin or edit ClusterRole.
//!
//! `admin` and `edit` are the user-facing roles Kubernetes ships: `edit` reads and writes almost every
//! namespaced object, Secrets included, and runs pods as any service account of the namespace; `admin` adds
//! Roles and RoleBindings in the namespace. Bound through a ClusterRoleBinding, either applies to every
//! namespace. Their rules are not in the scanned files (the API server keeps them), so the RBAC checks that
//! read a role's rules cannot see what such a binding grants: this check reports the binding itself.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct AdminEditBinding;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-108",
    title: "Binding to the built-in admin or edit ClusterRole",
    severity: Severity::Medium,
    groups: &["kubernetes", "rbac"],
    rationale: "The built-in admin and edit ClusterRoles read and write Secrets, run pods as any service account of the namespace and (admin) grant roles; a ClusterRoleBinding gives that in every namespace.",
    remediation: "Bind a Role that lists only the resources and verbs the subjects need; if admin/edit is intended, bind it with a RoleBinding in one namespace and suppress with a reason.",
    references: &["CIS Kubernetes 5.1.1", "Kubernetes docs: User-facing roles"],
    peers: &["trivy:KSV-0111"],
    ..CheckMeta::K8S
};

impl Check for AdminEditBinding {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some((n, name, kind)) = user_binding_role_ref(obj) else { return };
        if kind == "ClusterRole" && (name == "admin" || name == "edit") {
            let scope =
                if obj.kind == "ClusterRoleBinding" { "in every namespace" } else { "in its namespace" };
            out.push(Hit::at(
                n,
                format!("binding grants the built-in ClusterRole {name:?} {scope} (Secrets, pods as any service account{}); bind a least-privilege role", if name == "admin" { ", roles and bindings" } else { "" }),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AdminEditBinding as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: devs
  namespace: apps
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
subjects:
- {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
"#;
    const PASS: &str = r#"apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: devs
  namespace: apps
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
- {kind: Group, name: developers, apiGroup: rbac.authorization.k8s.io}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn admin_cluster_wide_and_own_roles_named_admin() {
        let admin = FAIL
            .replace("kind: RoleBinding", "kind: ClusterRoleBinding")
            .replace("name: edit", "name: admin");
        let h = hits(&C, &admin);
        assert_eq!(h.len(), 1);
        assert!(h[0].message.contains("every namespace"), "{}", h[0].message);
        // A namespace Role that happens to be called "edit" is judged by its rules, not by its name.
        assert!(hits(&C, &FAIL.replace("kind: ClusterRole\n", "kind: Role\n")).is_empty());
        // Platform-managed bindings are not the user's to fix.
        assert!(hits(&C, &FAIL.replace("name: devs", "name: system:controller:x")).is_empty());
    }
}
