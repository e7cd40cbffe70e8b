//! PAL-PSS-006 (PSS baseline `appArmorProfile`): AppArmor profile overridden or disabled.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct AppArmor;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-006",
    title: "AppArmor profile overridden or disabled",
    severity: Severity::High,
    groups: super::BASELINE_GROUPS,
    rationale: "The runtime/default AppArmor profile confines containers; setting it to unconfined (or an unknown type) removes that layer.",
    remediation: "Use appArmorProfile.type RuntimeDefault or Localhost (annotation values runtime/default or localhost/<profile>).",
    references: &["PSS baseline: AppArmor"],
    peers: &["polaris:linuxHardening"],
    pss: Some(PssInfo {
        psa_id: "appArmorProfile",
        level: PssLevel::Baseline,
        since_minor: 0,
        overrides: None,
    }),
    ..CheckMeta::K8S
};

impl Check for AppArmor {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        let ok_type = |n: &crate::yaml::Node| {
            matches!(n.get("type").and_then(crate::yaml::Node::as_str), Some("RuntimeDefault" | "Localhost"))
        };
        if let Some(p) = pod.sc_field("appArmorProfile").filter(|p| !ok_type(p)) {
            out.push(Hit::at(
                p,
                "pod sets a forbidden securityContext.appArmorProfile.type; use RuntimeDefault or Localhost",
            ));
        }
        for c in pod.containers() {
            if let Some(p) = c.sc_field("appArmorProfile").filter(|p| !ok_type(p)) {
                out.push(Hit::at(p, format!("container {:?} sets a forbidden appArmorProfile.type; use RuntimeDefault or Localhost", c.name)).in_container(c.name));
            }
        }
        for (k, v) in pod.annotations() {
            if !k.name.starts_with("container.apparmor.security.beta.kubernetes.io/") {
                continue;
            }
            let val = v.scalar_text().unwrap_or_default();
            if !(val.is_empty() || val == "runtime/default" || val.starts_with("localhost/")) {
                out.push(Hit::pos(k.line, k.col, format!("annotation {}={val:?} disables the default AppArmor profile; use runtime/default or localhost/<profile>", k.name)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AppArmor as C;
    use crate::testutil::{hits, pod_with};

    #[test]
    fn fires_and_passes() {
        let bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    container.apparmor.security.beta.kubernetes.io/c: unconfined\nspec:\n  containers: [{name: c, image: x}]\n";
        assert_eq!(hits(&C, bad).len(), 1);
        assert_eq!(
            hits(&C, &pod_with("securityContext: {appArmorProfile: {type: Unconfined}}", "")).len(),
            1
        );
        assert!(
            hits(
                &C,
                &pod_with(
                    "securityContext: {appArmorProfile: {type: RuntimeDefault}}",
                    "securityContext: {appArmorProfile: {type: Localhost, localhostProfile: x}}"
                )
            )
            .is_empty()
        );
    }
}
