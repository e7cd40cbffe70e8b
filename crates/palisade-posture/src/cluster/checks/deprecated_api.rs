//! PAL-CLU-004: an object served through an API version (or kind) deprecated in the cluster's version and
//! removed later: it breaks on upgrade. (APIs already removed in the cluster's version are PAL-K8S-070, run
//! with the cluster's version.)

use super::{ClusterCheck, Cx, Hit};
use palisade_core::Severity;

pub const CHECK: ClusterCheck = ClusterCheck {
    id: "PAL-CLU-004",
    title: "Deprecated API in use for the cluster's version",
    severity: Severity::Low,
    remediation: "Move the object to the replacement API before upgrading.",
    run,
};

/// (apiVersion, kind or `*`, deprecated in 1.N, removed in 1.M or 0 when not scheduled, replacement).
const DEPRECATED: &[(&str, &str, u32, u32, &str)] = &[
    ("batch/v1beta1", "CronJob", 21, 25, "batch/v1"),
    ("policy/v1beta1", "PodDisruptionBudget", 21, 25, "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy", 21, 25, "Pod Security admission"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice", 21, 25, "discovery.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler", 22, 25, "autoscaling/v2"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler", 23, 26, "autoscaling/v2"),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity", 24, 27, "storage.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta2", "*", 26, 29, "flowcontrol.apiserver.k8s.io/v1"),
    ("flowcontrol.apiserver.k8s.io/v1beta3", "*", 29, 32, "flowcontrol.apiserver.k8s.io/v1"),
    ("v1", "Endpoints", 33, 0, "discovery.k8s.io/v1 EndpointSlice"),
];

fn run<'a>(cx: &Cx<'a>) -> Vec<Hit<'a>> {
    let Some(minor) = cx.minor else { return Vec::new() };
    let mut out = Vec::new();
    for d in &cx.dump.objects {
        let o = &d.object;
        for &(api, kind, dep, removed, to) in DEPRECATED {
            let live = dep <= minor && (removed == 0 || minor < removed);
            if live && o.api_version == api && (kind == "*" || kind == o.kind) {
                let when = if removed == 0 {
                    "no removal scheduled".to_string()
                } else {
                    format!("removed in 1.{removed}")
                };
                let line = o.root.get("apiVersion").map(|n| n.line).unwrap_or(o.root.line);
                out.push(Hit {
                    object: d,
                    line,
                    message: format!("{api} {} is deprecated since 1.{dep} ({when}); use {to}", o.kind),
                    severity: None,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::ids;

    #[test]
    fn fires_between_deprecation_and_removal_only() {
        let hpa = "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, namespace: x}\n";
        assert_eq!(ids(hpa, Some("1.24")), ["PAL-CLU-004"]);
        assert!(ids(hpa, Some("1.22")).is_empty());
        assert!(ids(hpa, Some("1.26")).is_empty());
        assert!(ids(hpa, None).is_empty());
    }
}
