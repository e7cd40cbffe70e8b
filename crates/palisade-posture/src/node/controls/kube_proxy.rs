//! CIS 4.3: kube-proxy. It runs as a DaemonSet under kubeadm, so its settings are in the cluster (a
//! ConfigMap), not on the node: reported not applicable unless its config file is on the node.

use super::{Check, Control, Group};
use crate::node::Status;
use crate::node::components::Components;
use crate::node::tree::NodeTree;

fn metrics_bound(t: &NodeTree, _: &Components) -> (Status, Vec<String>) {
    let path = "/var/lib/kube-proxy/config.conf";
    let Ok(text) = t.read(path) else {
        return (
            Status::NotApplicable,
            vec![format!("{path}: not present (kube-proxy runs as a DaemonSet; see its ConfigMap)")],
        );
    };
    let addr = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("metricsBindAddress:"))
        .map(|v| v.trim().trim_matches('"').to_string());
    match addr {
        Some(a) if a.starts_with("127.0.0.1:") || a == "127.0.0.1" => {
            (Status::Pass, vec![format!("{path}: metricsBindAddress: {a}")])
        }
        Some(a) => (Status::Fail, vec![format!("{path}: metricsBindAddress: {a}")]),
        None => (Status::Pass, vec![format!("{path}: metricsBindAddress not set (default 127.0.0.1:10249)")]),
    }
}

pub static GROUP: Group = Group {
    id: "4.3",
    title: "kube-proxy",
    controls: &[Control {
        id: "4.3.1",
        title: "kube-proxy metrics service is bound to localhost",
        manual: false,
        check: Check::Fn(metrics_bound),
        remediation: "Set metricsBindAddress: 127.0.0.1:10249 in kube-proxy's configuration.",
    }],
};
