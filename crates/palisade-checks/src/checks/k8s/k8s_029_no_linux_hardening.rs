//! PAL-K8S-029: No Linux hardening (seccomp, AppArmor, SELinux or dropped capabilities).

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct NoLinuxHardening;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-029",
    title: "No Linux hardening (seccomp, AppArmor, SELinux or dropped capabilities)",
    severity: Severity::Medium,
    groups: &["kubernetes", "pod-security"],
    rationale: "Containers without any kernel-level hardening expose the full syscall and capability surface of the node kernel.",
    remediation: "Apply at least one of: seccompProfile RuntimeDefault, an AppArmor profile, seLinuxOptions, or capabilities.drop: [ALL].",
    references: &["NSA/CISA Kubernetes Hardening: kernel hardening"],
    peers: &["polaris:linuxHardening"],
    ..CheckMeta::K8S
};

impl Check for NoLinuxHardening {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        let Some(pod) = obj.pod() else { return };
        let good_type = |n: Option<&Node>| {
            n.and_then(|p| p.get("type"))
                .and_then(Node::as_str)
                .is_some_and(|t| t == "RuntimeDefault" || t == "Localhost")
        };
        let pod_seccomp = good_type(pod.sc_field("seccompProfile"));
        let pod_apparmor = good_type(pod.sc_field("appArmorProfile"));
        let pod_selinux = pod.sc_field("seLinuxOptions").is_some();
        for c in spec_containers(obj) {
            // A container-level profile overrides the pod-level one.
            let seccomp = match c.sc_field("seccompProfile") {
                Some(p) => good_type(Some(p)),
                None => pod_seccomp,
            };
            let apparmor = match c.sc_field("appArmorProfile") {
                Some(p) => good_type(Some(p)),
                None => {
                    pod_apparmor
                        || pod.annotations().iter().any(|(k, v)| {
                            k.name == format!("container.apparmor.security.beta.kubernetes.io/{}", c.name)
                                && v.scalar_text()
                                    .is_some_and(|v| v == "runtime/default" || v.starts_with("localhost/"))
                        })
                }
            };
            let caps = c.sc().and_then(|s| s.field("capabilities"));
            let dropped = caps.and_then(|k| k.get("drop")).is_some_and(|d| !d.as_seq().is_empty())
                && !caps
                    .and_then(|k| k.get("add"))
                    .is_some_and(|a| a.str_list().iter().any(|x| x.eq_ignore_ascii_case("ALL")));
            let selinux = pod_selinux || c.sc_field("seLinuxOptions").is_some();
            if !(seccomp || apparmor || dropped || selinux) {
                out.push(Hit::at(c.sc().unwrap_or(c.node), format!("container {:?} has no effective seccomp, AppArmor, SELinux or capability hardening", c.name)).in_container(c.name));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NoLinuxHardening as C;
    use crate::testutil::hits;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;
    const PASS: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  securityContext: {seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: registry.example.com/app:1.0
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);

    #[test]
    fn adding_all_back_undoes_the_drop_in_any_case() {
        let doc = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    securityContext: {capabilities: {drop: [ALL], add: [ADD]}}\n";
        assert_eq!(hits(&C, &doc.replace("ADD", "all")).len(), 1);
        assert!(hits(&C, &doc.replace("ADD", "NET_BIND_SERVICE")).is_empty());
    }
}
