//! PAL-K8S-011: Dangerous capability added.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct DangerousCapabilities;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-011",
    title: "Dangerous capability added",
    severity: Severity::Critical,
    groups: &["kubernetes", "pod-security"],
    rationale: "SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, BPF, ALL and similar capabilities allow container escapes or node-wide damage.",
    remediation: "Remove the capability from securityContext.capabilities.add; grant only what the process needs.",
    references: &["CIS Kubernetes 5.2.8", "NSA/CISA Kubernetes Hardening"],
    peers: &["checkov:CKV_K8S_39", "polaris:dangerousCapabilities"],
    ..CheckMeta::K8S
};

impl Check for DangerousCapabilities {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        const BAD: &[&str] = &[
            "ALL",
            "SYS_ADMIN",
            "NET_ADMIN",
            "SYS_PTRACE",
            "SYS_MODULE",
            "DAC_READ_SEARCH",
            "BPF",
            "PERFMON",
            "SYS_RAWIO",
            "SYS_BOOT",
            "SYS_TIME",
            "MAC_ADMIN",
            "MAC_OVERRIDE",
            "SYSLOG",
            "SYS_RESOURCE",
        ];
        for c in containers(obj) {
            let Some(add) = c.sc().and_then(|s| s.field("capabilities")).and_then(|k| k.get("add")) else {
                continue;
            };
            let bad: Vec<String> = add
                .str_list()
                .into_iter()
                .filter(|x| BAD.contains(&x.to_ascii_uppercase().trim_start_matches("CAP_")))
                .collect();
            if !bad.is_empty() {
                out.push(
                    Hit::at(
                        add,
                        format!(
                            "container {:?} adds dangerous capabilities {}; remove them",
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

#[cfg(test)]
mod tests {
    use super::DangerousCapabilities as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    securityContext: {capabilities: {add: [SYS_ADMIN]}}
"#;
    const PASS: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    securityContext: {capabilities: {add: [NET_BIND_SERVICE]}}
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
