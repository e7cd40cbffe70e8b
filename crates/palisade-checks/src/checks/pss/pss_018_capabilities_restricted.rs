//! PAL-PSS-018 (PSS restricted `capabilities_restricted`): Capabilities not dropped (drop ALL, add only NET_BIND_SERVICE).

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct CapabilitiesRestricted;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-018",
    title: "Capabilities not dropped (drop ALL, add only NET_BIND_SERVICE)",
    severity: Severity::Medium,
    groups: super::RESTRICTED_GROUPS,
    rationale: "The restricted profile requires dropping every capability and adding back at most NET_BIND_SERVICE.",
    remediation: "Set securityContext.capabilities.drop: [\"ALL\"] in every container and add only NET_BIND_SERVICE if needed.",
    references: &["PSS restricted: Capabilities", "CIS Kubernetes 5.2.9"],
    peers: &["checkov:CKV_K8S_37", "polaris:insecureCapabilities"],
    pss: Some(PssInfo {
        psa_id: "capabilities_restricted",
        level: PssLevel::Restricted,
        since_minor: 22,
        overrides: Some("capabilities_baseline"),
    }),
    ..CheckMeta::K8S
};

impl Check for CapabilitiesRestricted {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        if cx.version.at_least(25) && pod.is_windows() {
            return;
        }
        for c in pod.containers() {
            let caps = c.sc().and_then(|s| s.field("capabilities"));
            let dropped_all =
                caps.and_then(|k| k.get("drop")).is_some_and(|d| d.str_list().iter().any(|x| x == "ALL"));
            if !dropped_all {
                out.push(
                    Hit::at(
                        caps.or(c.sc()).unwrap_or(c.node),
                        format!(
                            "container {:?} must set securityContext.capabilities.drop=[\"ALL\"]",
                            c.name
                        ),
                    )
                    .in_container(c.name),
                );
            }
            if let Some(add) = caps.and_then(|k| k.get("add")) {
                // Capabilities outside the runtime default set are a baseline violation (PAL-PSS-003).
                let bad: Vec<String> = add
                    .str_list()
                    .into_iter()
                    .filter(|x| {
                        x != "NET_BIND_SERVICE"
                            && super::pss_003_capabilities_baseline::ALLOWED.contains(&x.as_str())
                    })
                    .collect();
                if !bad.is_empty() {
                    out.push(
                        Hit::at(
                            add,
                            format!(
                                "container {:?} must not add {} (only NET_BIND_SERVICE is allowed)",
                                c.name,
                                bad.join(", ")
                            ),
                        )
                        .in_container(c.name),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CapabilitiesRestricted as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("", "")).len(), 1);
        assert_eq!(
            hits(&C, &pod_with("", "securityContext: {capabilities: {drop: [ALL], add: [CHOWN]}}")).len(),
            1
        );
        assert!(
            hits(
                &C,
                &pod_with("", "securityContext: {capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}}")
            )
            .is_empty()
        );
    }
}
