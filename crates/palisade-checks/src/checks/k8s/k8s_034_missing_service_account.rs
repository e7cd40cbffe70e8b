//! PAL-K8S-034: Service account not defined in the checked manifests.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct MissingServiceAccount;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-034",
    title: "Service account not defined in the checked manifests",
    severity: Severity::Low,
    groups: &["kubernetes"],
    rationale: "A workload referencing a ServiceAccount that the manifests do not define will fail to start or silently use an unexpected account.",
    remediation: "Define the ServiceAccount alongside the workload or fix serviceAccountName.",
    references: &["Kubernetes docs: service accounts"],
    peers: &["kube-linter:non-existent-service-account"],
    ..CheckMeta::K8S
};

impl Check for MissingServiceAccount {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        // serviceAccountName, or its deprecated alias serviceAccount.
        let Some(sa) = pod.spec.field("serviceAccountName").or_else(|| pod.spec.field("serviceAccount"))
        else {
            return;
        };
        let name = sa.scalar_text().unwrap_or_default();
        if name.is_empty() || name == "default" {
            return;
        }
        let (namespace, line, col) = (ns(obj).to_string(), sa.line, sa.col);
        cx.relate(move |index, out| {
            // Only judge when the scan defines service accounts at all.
            if !index.service_accounts.is_empty() && index.service_accounts_named(&namespace, &name).next().is_none() {
                out.push(Hit::pos(
                    line,
                    col,
                    format!(
                        "ServiceAccount {name:?} is not defined in namespace {namespace:?} of the checked manifests"
                    ),
                ));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::MissingServiceAccount as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: v1
kind: ServiceAccount
metadata: {name: other, namespace: apps}
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  serviceAccountName: web
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;
    const PASS: &str = r#"apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: apps}
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  serviceAccountName: web
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn deprecated_service_account_field_is_resolved_too() {
        let doc = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ok}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      serviceAccount: NAME\n";
        assert_eq!(hits(&C, &doc.replace("NAME", "missing")).len(), 1);
        assert!(hits(&C, &doc.replace("NAME", "ok")).is_empty());
    }
}
