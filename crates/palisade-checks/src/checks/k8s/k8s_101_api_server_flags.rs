//! PAL-K8S-101: Insecure kube-apiserver / kubelet / etcd flags in a static pod.

#[allow(unused_imports)]
use super::helpers::*;
use crate::check::{Check, CheckMeta, Hit, K8sCx};
#[allow(unused_imports)]
use crate::k8s::Object;
#[allow(unused_imports)]
use crate::yaml::Node;
use palisade_core::findings::misconfig::Severity;

pub struct ApiServerFlags;

static META: CheckMeta = CheckMeta {
    id: "PAL-K8S-101",
    title: "Insecure kube-apiserver / kubelet / etcd flags in a static pod",
    severity: Severity::High,
    groups: &["kubernetes", "control-plane"],
    rationale: "Control-plane components started with anonymous auth, AlwaysAllow authorization, insecure ports, profiling or without client-certificate auth expose the cluster.",
    remediation: "Fix the flag as the CIS Kubernetes Benchmark section 1 recommends (see message).",
    references: &["CIS Kubernetes 1.2, 1.3, 1.4, 2.x, 4.2"],
    peers: &[
        "checkov:CKV_K8S_68",
        "checkov:CKV_K8S_74",
        "checkov:CKV_K8S_88",
        "checkov:CKV_K8S_90",
        "checkov:CKV_K8S_118",
    ],
    ..CheckMeta::K8S
};

impl Check for ApiServerFlags {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }

    #[allow(unused_variables)]
    fn k8s(&self, obj: &Object, cx: &K8sCx<'_>, out: &mut Vec<Hit>) {
        for c in containers(obj) {
            let mut args: Vec<String> = c.node.get("command").map(Node::str_list).unwrap_or_default();
            args.extend(c.node.get("args").map(Node::str_list).unwrap_or_default());
            let Some(component) =
                ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kubelet"]
                    .into_iter()
                    .find(|n| {
                        args.first().is_some_and(|a| a.ends_with(n))
                            || c.image().is_some_and(|i| i.contains(n))
                    })
            else {
                continue;
            };
            let flag = |name: &str| {
                args.iter().find_map(|a| a.strip_prefix(&format!("--{name}=")).map(str::to_string))
            };
            let mut bad: Vec<String> = Vec::new();
            if flag("anonymous-auth").as_deref() == Some("true") && component != "etcd" {
                bad.push("--anonymous-auth=true (set false)".into());
            }
            if flag("authorization-mode").is_some_and(|m| m.split(',').any(|x| x == "AlwaysAllow")) {
                bad.push("--authorization-mode includes AlwaysAllow (use Node,RBAC)".into());
            }
            if flag("insecure-port").is_some_and(|p| p != "0") {
                bad.push("--insecure-port is not 0".into());
            }
            if flag("profiling").as_deref() == Some("true") {
                bad.push("--profiling=true (set false)".into());
            }
            if flag("enable-admission-plugins").is_some_and(|m| m.split(',').any(|x| x == "AlwaysAdmit")) {
                bad.push("AlwaysAdmit admission plugin enabled".into());
            }
            if component == "etcd" && flag("client-cert-auth").as_deref() == Some("false") {
                bad.push("--client-cert-auth=false".into());
            }
            if component == "etcd" && flag("auto-tls").as_deref() == Some("true") {
                bad.push("--auto-tls=true".into());
            }
            if flag("basic-auth-file").is_some() || flag("token-auth-file").is_some() {
                bad.push("static basic/token auth file configured".into());
            }
            if flag("read-only-port").is_some_and(|p| p != "0") {
                bad.push("--read-only-port is not 0".into());
            }
            for b in bad {
                out.push(
                    Hit::at(c.node.get("command").unwrap_or(c.node), format!("{component}: {b}"))
                        .in_container(c.name),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ApiServerFlags as C;

    const FAIL: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: apps
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    command: [kube-apiserver, --anonymous-auth=true, --authorization-mode=AlwaysAllow]
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
    command: [kube-apiserver, --anonymous-auth=false, --authorization-mode=Node,RBAC]
"#;

    crate::testutil::fixture_tests!(k8s, C, pass: PASS, fail: FAIL);
}
