//! Container runtime configuration (containerd, CRI-O, Docker), where present. The CIS Kubernetes
//! Benchmark leaves the runtime to the runtime's own benchmarks; these are the settings that undo the
//! cluster's controls, under Palisade's ids (`R.n`).

use super::{Check, Control, Files, Group};
use crate::node::Status;
use crate::node::components::Components;
use crate::node::tree::NodeTree;

const CONTAINERD: &str = "/etc/containerd/config.toml";
const CRIO: &str = "/etc/crio/crio.conf";
const DOCKER: &str = "/etc/docker/daemon.json";

fn configs(t: &NodeTree, _: &Components) -> Vec<String> {
    [CONTAINERD, CRIO, DOCKER].iter().filter(|p| t.exists(p)).map(|p| p.to_string()).collect()
}

fn toml_of(t: &NodeTree, path: &str) -> Result<Option<toml::Table>, (Status, Vec<String>)> {
    let Ok(text) = t.read(path) else { return Ok(None) };
    text.parse::<toml::Table>()
        .map(Some)
        .map_err(|e| (Status::Fail, vec![format!("{path}: not valid TOML: {}", e.message())]))
}

fn na(path: &str) -> (Status, Vec<String>) {
    (Status::NotApplicable, vec![format!("{path}: not present")])
}

/// A value at a dotted path of TOML tables (keys may themselves contain dots, as containerd's plugin ids do).
fn toml_get<'a>(t: &'a toml::Table, path: &[&str]) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_first()?;
    let v = t.get(*first)?;
    if rest.is_empty() {
        return Some(v);
    }
    toml_get(v.as_table()?, rest)
}

fn containerd_tcp(t: &NodeTree, _: &Components) -> (Status, Vec<String>) {
    let cfg = match toml_of(t, CONTAINERD) {
        Ok(Some(c)) => c,
        Ok(None) => return na(CONTAINERD),
        Err(e) => return e,
    };
    let addr = toml_get(&cfg, &["grpc", "tcp_address"]).and_then(|v| v.as_str()).unwrap_or("");
    let cert = toml_get(&cfg, &["grpc", "tcp_tls_cert"]).and_then(|v| v.as_str()).unwrap_or("");
    match (addr.is_empty(), cert.is_empty()) {
        (true, _) => (Status::Pass, vec![format!("{CONTAINERD}: grpc.tcp_address not set")]),
        (false, false) => {
            (Status::Pass, vec![format!("{CONTAINERD}: grpc.tcp_address = {addr:?} with tcp_tls_cert")])
        }
        (false, true) => {
            (Status::Fail, vec![format!("{CONTAINERD}: grpc.tcp_address = {addr:?} without TLS")])
        }
    }
}

fn containerd_apparmor(t: &NodeTree, _: &Components) -> (Status, Vec<String>) {
    let cfg = match toml_of(t, CONTAINERD) {
        Ok(Some(c)) => c,
        Ok(None) => return na(CONTAINERD),
        Err(e) => return e,
    };
    // containerd 1.x names the CRI plugin io.containerd.grpc.v1.cri; 2.x moved runtime settings to
    // io.containerd.cri.v1.runtime.
    for plugin in ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime"] {
        if let Some(v) = toml_get(&cfg, &["plugins", plugin, "disable_apparmor"]).and_then(|v| v.as_bool()) {
            let ev = vec![format!("{CONTAINERD}: plugins.\"{plugin}\".disable_apparmor = {v}")];
            return (if v { Status::Fail } else { Status::Pass }, ev);
        }
    }
    (Status::Pass, vec![format!("{CONTAINERD}: disable_apparmor not set (false)")])
}

fn docker_json(t: &NodeTree) -> Result<serde_json::Value, (Status, Vec<String>)> {
    let Ok(text) = t.read(DOCKER) else { return Err(na(DOCKER)) };
    serde_json::from_str(&text).map_err(|e| {
        (Status::Fail, vec![format!("{DOCKER}:{}:{}: not valid JSON: {e}", e.line(), e.column())])
    })
}

fn docker_insecure(t: &NodeTree, _: &Components) -> (Status, Vec<String>) {
    let v = match docker_json(t) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let regs: Vec<&str> = v
        .get("insecure-registries")
        .and_then(|r| r.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
        .unwrap_or_default();
    if regs.is_empty() {
        (Status::Pass, vec![format!("{DOCKER}: no insecure-registries")])
    } else {
        (Status::Fail, vec![format!("{DOCKER}: insecure-registries {regs:?}")])
    }
}

fn docker_tcp(t: &NodeTree, _: &Components) -> (Status, Vec<String>) {
    let v = match docker_json(t) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let tcp: Vec<&str> = v
        .get("hosts")
        .and_then(|r| r.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str()).filter(|h| h.starts_with("tcp://")).collect())
        .unwrap_or_default();
    let verify = v.get("tlsverify").and_then(|x| x.as_bool()) == Some(true);
    match (tcp.is_empty(), verify) {
        (true, _) => (Status::Pass, vec![format!("{DOCKER}: no tcp:// hosts")]),
        (false, true) => (Status::Pass, vec![format!("{DOCKER}: hosts {tcp:?} with tlsverify")]),
        (false, false) => (Status::Fail, vec![format!("{DOCKER}: hosts {tcp:?} without tlsverify")]),
    }
}

/// Capabilities that give a container control of the node or its network.
const DANGEROUS: &[&str] =
    &["SYS_ADMIN", "NET_ADMIN", "NET_RAW", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH", "BPF", "PERFMON"];

fn crio_caps(t: &NodeTree, _: &Components) -> (Status, Vec<String>) {
    let cfg = match toml_of(t, CRIO) {
        Ok(Some(c)) => c,
        Ok(None) => return na(CRIO),
        Err(e) => return e,
    };
    let caps: Vec<String> = toml_get(&cfg, &["crio", "runtime", "default_capabilities"])
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str())
                .map(|s| s.trim_start_matches("CAP_").to_ascii_uppercase())
                .collect()
        })
        .unwrap_or_default();
    let bad: Vec<&String> = caps.iter().filter(|c| DANGEROUS.contains(&c.as_str())).collect();
    if bad.is_empty() {
        (Status::Pass, vec![format!("{CRIO}: crio.runtime.default_capabilities {caps:?}")])
    } else {
        (Status::Fail, vec![format!("{CRIO}: crio.runtime.default_capabilities includes {bad:?}")])
    }
}

const fn c(
    id: &'static str,
    title: &'static str,
    f: fn(&NodeTree, &Components) -> (Status, Vec<String>),
    remediation: &'static str,
) -> Control {
    Control { id, title, manual: false, check: Check::Fn(f), remediation }
}

pub static GROUP: Group = Group {
    id: "R",
    title: "Container Runtime (Palisade)",
    controls: &[
        Control {
            id: "R.1",
            title: "Runtime configuration file permissions are 644 or more restrictive",
            manual: false,
            check: Check::Mode(Files::Of(configs), 0o644),
            remediation: "chmod 644 the file.",
        },
        Control {
            id: "R.2",
            title: "Runtime configuration file ownership is root:root",
            manual: false,
            check: Check::Owner(Files::Of(configs), "root", "root"),
            remediation: "chown root:root the file.",
        },
        c(
            "R.3",
            "containerd serves its API over TCP only with TLS",
            containerd_tcp,
            "Remove [grpc] tcp_address, or set tcp_tls_cert/tcp_tls_key/tcp_tls_ca.",
        ),
        c(
            "R.4",
            "containerd does not disable AppArmor",
            containerd_apparmor,
            "Remove disable_apparmor = true from the CRI plugin's settings.",
        ),
        c(
            "R.5",
            "Docker trusts no insecure registries",
            docker_insecure,
            "Remove insecure-registries from daemon.json; give the registries TLS.",
        ),
        c(
            "R.6",
            "Docker listens on TCP only with tlsverify",
            docker_tcp,
            "Remove tcp:// hosts, or set tlsverify with tlscacert/tlscert/tlskey.",
        ),
        c(
            "R.7",
            "CRI-O's default capabilities exclude dangerous ones",
            crio_caps,
            "Drop SYS_ADMIN, NET_ADMIN, NET_RAW, SYS_PTRACE and the like from default_capabilities.",
        ),
    ],
};
