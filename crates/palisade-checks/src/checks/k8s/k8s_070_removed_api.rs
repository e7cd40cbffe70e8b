//! PAL-K8S-070: API version removed in the target Kubernetes version.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct RemovedApi;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-070",
    title: "API version removed in the target Kubernetes version",
    severity: Severity::Medium,
    groups: &["kubernetes"],
    rationale: "Manifests using an API version that the target Kubernetes version no longer serves cannot be applied.",
    remediation: "Migrate to the stable API version (e.g. apps/v1, networking.k8s.io/v1, policy/v1, batch/v1).",
    references: &["Kubernetes deprecated API migration guide"],
    peers: &["kube-linter:no-extensions-v1beta"],
    ..CheckMeta::K8S
};

impl Check for RemovedApi {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if let Some((removed, repl)) = removed_in(&obj.api_version, &obj.kind)
            && cx.version.at_least(removed)
        {
            let at = obj.root.get("apiVersion").unwrap_or(&obj.root);
            out.push(Hit::at(
                at,
                format!("{} {} was removed in Kubernetes 1.{removed}; use {repl}", obj.api_version, obj.kind),
            ));
        }
    }
}

/// (removed in minor version, replacement) for API versions Kubernetes stopped serving.
pub fn removed_in(api_version: &str, kind: &str) -> Option<(u32, &'static str)> {
    let r = match (api_version, kind) {
        ("extensions/v1beta1", "Ingress") => (22, "networking.k8s.io/v1"),
        ("extensions/v1beta1", "NetworkPolicy") => (16, "networking.k8s.io/v1"),
        ("extensions/v1beta1", "PodSecurityPolicy") => {
            (16, "policy/v1beta1 (removed in 1.25; use Pod Security admission)")
        }
        ("extensions/v1beta1" | "apps/v1beta1" | "apps/v1beta2", _) => (16, "apps/v1"),
        ("networking.k8s.io/v1beta1", _) => (22, "networking.k8s.io/v1"),
        ("rbac.authorization.k8s.io/v1beta1" | "rbac.authorization.k8s.io/v1alpha1", _) => {
            (22, "rbac.authorization.k8s.io/v1")
        }
        ("admissionregistration.k8s.io/v1beta1", k) if k.ends_with("WebhookConfiguration") => {
            (22, "admissionregistration.k8s.io/v1")
        }
        ("apiextensions.k8s.io/v1beta1", _) => (22, "apiextensions.k8s.io/v1"),
        ("apiregistration.k8s.io/v1beta1", _) => (22, "apiregistration.k8s.io/v1"),
        ("authentication.k8s.io/v1beta1" | "authorization.k8s.io/v1beta1", _) => (22, "the v1 API"),
        ("certificates.k8s.io/v1beta1", _) => (22, "certificates.k8s.io/v1"),
        ("coordination.k8s.io/v1beta1", _) => (22, "coordination.k8s.io/v1"),
        ("scheduling.k8s.io/v1beta1" | "scheduling.k8s.io/v1alpha1", _) => (17, "scheduling.k8s.io/v1"),
        ("storage.k8s.io/v1beta1", "CSIStorageCapacity") => (27, "storage.k8s.io/v1"),
        ("storage.k8s.io/v1beta1", _) => (22, "storage.k8s.io/v1"),
        ("batch/v1beta1" | "batch/v2alpha1", "CronJob") => (25, "batch/v1"),
        ("policy/v1beta1", "PodDisruptionBudget") => (25, "policy/v1"),
        ("policy/v1beta1", "PodSecurityPolicy") => (25, "Pod Security admission (PSP was removed)"),
        ("autoscaling/v2beta1", _) => (25, "autoscaling/v2"),
        ("autoscaling/v2beta2", _) => (26, "autoscaling/v2"),
        ("discovery.k8s.io/v1beta1", _) => (25, "discovery.k8s.io/v1"),
        ("events.k8s.io/v1beta1", _) => (25, "events.k8s.io/v1"),
        ("node.k8s.io/v1beta1", _) => (25, "node.k8s.io/v1"),
        ("flowcontrol.apiserver.k8s.io/v1beta1", _) => (26, "flowcontrol.apiserver.k8s.io/v1"),
        ("flowcontrol.apiserver.k8s.io/v1beta2", _) => (29, "flowcontrol.apiserver.k8s.io/v1"),
        ("flowcontrol.apiserver.k8s.io/v1beta3", _) => (32, "flowcontrol.apiserver.k8s.io/v1"),
        ("resource.k8s.io/v1alpha2", _) => (31, "resource.k8s.io/v1"),
        _ => return None,
    };
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::RemovedApi as C;
    use crate::testutil::hits_v;

    const FAIL: &str = r#"apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: i, namespace: apps}
spec: {}
"#;
    const PASS: &str = r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i, namespace: apps}
spec: {tls: [{hosts: [a]}]}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn version_dependent() {
        let cron = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\nspec: {}\n";
        assert!(hits_v(&C, cron, 24).is_empty());
        assert_eq!(hits_v(&C, cron, 25).len(), 1);
    }
}
