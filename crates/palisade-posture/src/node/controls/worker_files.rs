//! CIS 4.1: worker node configuration files (kubelet unit, kubeconfigs, CA file, kubelet config).

use super::{Check, Control, Files, Group};
use crate::node::components::Components;
use crate::node::tree::NodeTree;

fn service(_: &NodeTree, c: &Components) -> Vec<String> {
    c.kubelet.as_ref().map(|k| k.service_files.clone()).unwrap_or_default()
}

fn kubeconfig(_: &NodeTree, c: &Components) -> Vec<String> {
    c.kubelet
        .as_ref()
        .map(|k| {
            vec![
                k.flags
                    .get("kubeconfig")
                    .filter(|p| !p.is_empty())
                    .unwrap_or("/etc/kubernetes/kubelet.conf")
                    .to_string(),
            ]
        })
        .unwrap_or_default()
}

fn config(_: &NodeTree, c: &Components) -> Vec<String> {
    c.kubelet.as_ref().and_then(|k| k.config_path.clone()).into_iter().collect()
}

fn client_ca(_: &NodeTree, c: &Components) -> Vec<String> {
    let Some(k) = &c.kubelet else { return Vec::new() };
    k.setting("client-ca-file", &["authentication", "x509", "clientCAFile"]).0.into_iter().collect()
}

fn proxy_kubeconfig(t: &NodeTree, _: &Components) -> Vec<String> {
    ["/var/lib/kube-proxy/kubeconfig.conf", "/etc/kubernetes/proxy.conf"]
        .iter()
        .filter(|p| t.exists(p))
        .map(|p| p.to_string())
        .collect()
}

const fn mode(id: &'static str, title: &'static str, f: Files, manual: bool) -> Control {
    Control { id, title, manual, check: Check::Mode(f, 0o600), remediation: "chmod 600 the file." }
}

const fn owner(id: &'static str, title: &'static str, f: Files, manual: bool) -> Control {
    Control {
        id,
        title,
        manual,
        check: Check::Owner(f, "root", "root"),
        remediation: "chown root:root the file.",
    }
}

pub static GROUP: Group = Group {
    id: "4.1",
    title: "Worker Node Configuration Files",
    controls: &[
        mode(
            "4.1.1",
            "kubelet service file permissions are 600 or more restrictive",
            Files::Of(service),
            false,
        ),
        owner("4.1.2", "kubelet service file ownership is root:root", Files::Of(service), false),
        mode(
            "4.1.3",
            "proxy kubeconfig file permissions are 600 or more restrictive",
            Files::Of(proxy_kubeconfig),
            true,
        ),
        owner("4.1.4", "proxy kubeconfig file ownership is root:root", Files::Of(proxy_kubeconfig), true),
        mode(
            "4.1.5",
            "kubelet --kubeconfig file permissions are 600 or more restrictive",
            Files::Of(kubeconfig),
            false,
        ),
        owner("4.1.6", "kubelet --kubeconfig file ownership is root:root", Files::Of(kubeconfig), false),
        mode(
            "4.1.7",
            "certificate authorities file permissions are 600 or more restrictive",
            Files::Of(client_ca),
            true,
        ),
        owner(
            "4.1.8",
            "client certificate authorities file ownership is root:root",
            Files::Of(client_ca),
            true,
        ),
        mode(
            "4.1.9",
            "kubelet config.yaml permissions are 600 or more restrictive",
            Files::Of(config),
            false,
        ),
        owner("4.1.10", "kubelet config.yaml ownership is root:root", Files::Of(config), false),
    ],
};
