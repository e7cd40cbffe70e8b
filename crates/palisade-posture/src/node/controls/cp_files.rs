//! CIS 1.1: control plane node configuration files (static Pod manifests, kubeconfigs, etcd data, PKI).

use super::{Check, Control, Files, Group};
use crate::node::components::Components;
use crate::node::tree::NodeTree;

const API: &str = "/etc/kubernetes/manifests/kube-apiserver.yaml";
const CM: &str = "/etc/kubernetes/manifests/kube-controller-manager.yaml";
const SCHED: &str = "/etc/kubernetes/manifests/kube-scheduler.yaml";
const ETCD: &str = "/etc/kubernetes/manifests/etcd.yaml";
const PKI: &str = "/etc/kubernetes/pki";

fn etcd_data(_: &NodeTree, c: &Components) -> Vec<String> {
    match &c.etcd {
        Some(e) => {
            vec![e.flags.get("data-dir").filter(|d| !d.is_empty()).unwrap_or("/var/lib/etcd").to_string()]
        }
        None => Vec::new(),
    }
}

fn admin_confs(t: &NodeTree, _: &Components) -> Vec<String> {
    ["/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf"]
        .iter()
        .filter(|p| t.exists(p))
        .map(|p| p.to_string())
        .collect()
}

fn pki_all(t: &NodeTree, _: &Components) -> Vec<String> {
    if !t.exists(PKI) { Vec::new() } else { t.walk(PKI, 10_000) }
}

fn pki_ending(t: &NodeTree, suffix: &str) -> Vec<String> {
    pki_all(t, &Components::default()).into_iter().filter(|p| p.ends_with(suffix)).collect()
}

fn pki_certs(t: &NodeTree, _: &Components) -> Vec<String> {
    pki_ending(t, ".crt")
}

fn pki_keys(t: &NodeTree, _: &Components) -> Vec<String> {
    pki_ending(t, ".key")
}

fn cni_files(t: &NodeTree, _: &Components) -> Vec<String> {
    t.list("/etc/cni/net.d").into_iter().map(|n| format!("/etc/cni/net.d/{n}")).collect()
}

const fn mode(id: &'static str, title: &'static str, f: Files, m: u32) -> Control {
    Control {
        id,
        title,
        manual: false,
        check: Check::Mode(f, m),
        remediation: "chmod the file to the mode given (or stricter).",
    }
}

const fn owner(id: &'static str, title: &'static str, f: Files, u: &'static str, g: &'static str) -> Control {
    Control {
        id,
        title,
        manual: false,
        check: Check::Owner(f, u, g),
        remediation: "chown the file to the owner given.",
    }
}

const fn manual(c: Control) -> Control {
    Control { manual: true, ..c }
}

pub static GROUP: Group = Group {
    id: "1.1",
    title: "Control Plane Node Configuration Files",
    controls: &[
        mode(
            "1.1.1",
            "API server pod specification file permissions are 600 or more restrictive",
            Files::Fixed(API),
            0o600,
        ),
        owner(
            "1.1.2",
            "API server pod specification file ownership is root:root",
            Files::Fixed(API),
            "root",
            "root",
        ),
        mode(
            "1.1.3",
            "Controller manager pod specification file permissions are 600 or more restrictive",
            Files::Fixed(CM),
            0o600,
        ),
        owner(
            "1.1.4",
            "Controller manager pod specification file ownership is root:root",
            Files::Fixed(CM),
            "root",
            "root",
        ),
        mode(
            "1.1.5",
            "Scheduler pod specification file permissions are 600 or more restrictive",
            Files::Fixed(SCHED),
            0o600,
        ),
        owner(
            "1.1.6",
            "Scheduler pod specification file ownership is root:root",
            Files::Fixed(SCHED),
            "root",
            "root",
        ),
        mode(
            "1.1.7",
            "etcd pod specification file permissions are 600 or more restrictive",
            Files::Fixed(ETCD),
            0o600,
        ),
        owner(
            "1.1.8",
            "etcd pod specification file ownership is root:root",
            Files::Fixed(ETCD),
            "root",
            "root",
        ),
        manual(mode(
            "1.1.9",
            "Container Network Interface file permissions are 600 or more restrictive",
            Files::Of(cni_files),
            0o600,
        )),
        manual(owner(
            "1.1.10",
            "Container Network Interface file ownership is root:root",
            Files::Of(cni_files),
            "root",
            "root",
        )),
        mode(
            "1.1.11",
            "etcd data directory permissions are 700 or more restrictive",
            Files::Of(etcd_data),
            0o700,
        ),
        owner("1.1.12", "etcd data directory ownership is etcd:etcd", Files::Of(etcd_data), "etcd", "etcd"),
        mode(
            "1.1.13",
            "Default administrative credential file permissions are 600",
            Files::Of(admin_confs),
            0o600,
        ),
        owner(
            "1.1.14",
            "Default administrative credential file ownership is root:root",
            Files::Of(admin_confs),
            "root",
            "root",
        ),
        mode(
            "1.1.15",
            "scheduler.conf file permissions are 600 or more restrictive",
            Files::Fixed("/etc/kubernetes/scheduler.conf"),
            0o600,
        ),
        owner(
            "1.1.16",
            "scheduler.conf file ownership is root:root",
            Files::Fixed("/etc/kubernetes/scheduler.conf"),
            "root",
            "root",
        ),
        mode(
            "1.1.17",
            "controller-manager.conf file permissions are 600 or more restrictive",
            Files::Fixed("/etc/kubernetes/controller-manager.conf"),
            0o600,
        ),
        owner(
            "1.1.18",
            "controller-manager.conf file ownership is root:root",
            Files::Fixed("/etc/kubernetes/controller-manager.conf"),
            "root",
            "root",
        ),
        owner(
            "1.1.19",
            "Kubernetes PKI directory and file ownership is root:root",
            Files::Of(pki_all),
            "root",
            "root",
        ),
        manual(mode(
            "1.1.20",
            "Kubernetes PKI certificate file permissions are 600 or more restrictive",
            Files::Of(pki_certs),
            0o600,
        )),
        manual(mode("1.1.21", "Kubernetes PKI key file permissions are 600", Files::Of(pki_keys), 0o600)),
    ],
};
