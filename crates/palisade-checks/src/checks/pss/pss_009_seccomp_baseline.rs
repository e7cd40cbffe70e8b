//! PAL-PSS-009 (PSS baseline `seccompProfile_baseline`): Seccomp profile set to Unconfined.

use crate::check::{Check, CheckMeta, Hit, K8sCx, PssInfo, PssLevel};
use crate::k8s::Object;
use palisade_core::findings::misconfig::Severity;

pub struct SeccompBaseline;

static META: CheckMeta = CheckMeta {
    id: "PAL-PSS-009",
    title: "Seccomp profile set to Unconfined",
    severity: Severity::High,
    groups: super::BASELINE_GROUPS,
    rationale: "Unconfined disables syscall filtering and exposes the whole kernel attack surface to the container.",
    remediation: "Set seccompProfile.type to RuntimeDefault or Localhost (or leave it unset); before 1.19 do not use unconfined seccomp annotations.",
    references: &["PSS baseline: Seccomp"],
    peers: &["checkov:CKV_K8S_31"],
    pss: Some(PssInfo {
        psa_id: "seccompProfile_baseline",
        level: PssLevel::Baseline,
        since_minor: 0,
        overrides: None,
    }),
    ..CheckMeta::K8S
};

impl Check for SeccompBaseline {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let _ = cx;
        let Some(pod) = obj.pod() else { return };
        let ok = |n: &crate::yaml::Node| {
            matches!(n.get("type").and_then(crate::yaml::Node::as_str), Some("RuntimeDefault" | "Localhost"))
        };
        if !cx.version.at_least(19) {
            let ok_ann =
                |v: &str| v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
            for (k, v) in pod.annotations() {
                let val = v.scalar_text().unwrap_or_default();
                let relevant = k.name == "seccomp.security.alpha.kubernetes.io/pod"
                    || k.name
                        .strip_prefix("container.seccomp.security.alpha.kubernetes.io/")
                        .is_some_and(|n| pod.containers().iter().any(|c| c.name == n));
                if relevant && !ok_ann(&val) {
                    out.push(Hit::pos(
                        k.line,
                        k.col,
                        format!(
                            "annotation {}={val:?} is forbidden; use runtime/default or localhost/<profile>",
                            k.name
                        ),
                    ));
                }
            }
            return;
        }
        if let Some(p) = pod.sc_field("seccompProfile").filter(|p| !ok(p)) {
            out.push(Hit::at(p, "pod sets securityContext.seccompProfile.type to a forbidden value; use RuntimeDefault or Localhost"));
        }
        for c in pod.containers() {
            if let Some(p) = c.sc_field("seccompProfile").filter(|p| !ok(p)) {
                out.push(Hit::at(p, format!("container {:?} sets seccompProfile.type to a forbidden value; use RuntimeDefault or Localhost", c.name)).in_container(c.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SeccompBaseline as C;
    use crate::testutil::{hits, hits_v, pod_with};

    #[test]
    fn fires_and_passes() {
        assert_eq!(hits(&C, &pod_with("securityContext: {seccompProfile: {type: Unconfined}}", "")).len(), 1);
        assert!(
            hits(&C, &pod_with("securityContext: {seccompProfile: {type: RuntimeDefault}}", "")).is_empty()
        );
        assert!(
            hits_v(&C, &pod_with("securityContext: {seccompProfile: {type: Unconfined}}", ""), 18).is_empty()
        );
    }
}
