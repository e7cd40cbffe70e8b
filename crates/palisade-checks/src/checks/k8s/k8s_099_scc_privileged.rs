//! PAL-K8S-099: OpenShift SCC allows privileged containers.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct SccPrivileged;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-099",
    title: "OpenShift SCC allows privileged containers",
    severity: Severity::High,
    groups: &["kubernetes", "pod-security"],
    rationale: "A SecurityContextConstraints with allowPrivilegedContainer lets every user bound to it run privileged pods.",
    remediation: "Set allowPrivilegedContainer: false in the SCC.",
    references: &["OpenShift docs: SCC"],
    peers: &["kube-linter:scc-deny-privileged-container"],
    ..CheckMeta::K8S
};

impl Check for SccPrivileged {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        if obj.kind != "SecurityContextConstraints" {
            return;
        }
        if let Some(n) = obj.root.get("allowPrivilegedContainer").filter(|n| n.as_bool() == Some(true)) {
            out.push(Hit::at(n, "SCC allows privileged containers; set allowPrivilegedContainer: false"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SccPrivileged as C;

    const FAIL: &str = r#"apiVersion: security.openshift.io/v1
kind: SecurityContextConstraints
metadata: {name: s}
allowPrivilegedContainer: true
"#;
    const PASS: &str = r#"apiVersion: security.openshift.io/v1
kind: SecurityContextConstraints
metadata: {name: s}
allowPrivilegedContainer: false
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
