//! PAL-PSS-001 (PSS baseline `hostNamespaces`): sharing the host's network, PID or IPC namespace.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct HostNamespaces;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-001",
    title: "Pod shares host namespaces (hostNetwork/hostPID/hostIPC)",
    severity: Severity::High,
    groups: super::BASELINE_GROUPS,
    rationale: "A pod in the host network, PID or IPC namespace can sniff node traffic, see and signal every \
                process on the node and read shared memory, defeating container isolation.",
    remediation: "Remove spec.hostNetwork, spec.hostPID and spec.hostIPC or set them to false.",
    references: &[
        "PSS baseline: Host Namespaces",
        "CIS Kubernetes 5.2.2-5.2.4",
        "NSA/CISA Kubernetes Hardening: pod security",
    ],
    peers: &[
        "checkov:CKV_K8S_17",
        "checkov:CKV_K8S_18",
        "checkov:CKV_K8S_19",
        "kube-linter:host-network",
        "kube-linter:host-pid",
        "kube-linter:host-ipc",
        "polaris:hostNetworkSet",
        "polaris:hostPIDSet",
        "polaris:hostIPCSet",
    ],
    pss: Some(PssInfo {
        psa_id: "hostNamespaces",
        level: PssLevel::Baseline,
        since_minor: 0,
        overrides: None,
    }),
    ..CheckMeta::K8S
};

impl Check for HostNamespaces {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, _cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        for f in ["hostNetwork", "hostPID", "hostIPC"] {
            if let Some(n) = pod.flag(f) {
                out.push(Hit::at(
                    n,
                    format!("spec.{f}=true shares the node's namespace; remove it or set {f}: false"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::{FAIL_POD, hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&super::HostNamespaces, &pod_with("hostPID: true\n  hostIPC: true", "")).len(), 2);
        assert!(hits(&super::HostNamespaces, &pod_with("hostNetwork: false", "")).is_empty());
        assert!(!hits(&super::HostNamespaces, FAIL_POD).is_empty());
    }
}
