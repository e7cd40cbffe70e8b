//! A Kubernetes `NetworkPolicy` (`networking.k8s.io/v1`) from a profile's learned connections: the
//! workload's pods (by its selector labels) may receive from the ingress peers and send to the egress
//! peers, on their ports, and nothing else (`policyTypes: [Ingress, Egress]`).
//!
//! Peers map to `ipBlock` (CIDR), to a namespace and pod selector (workload peers, by the usual
//! `kubernetes.io/metadata.name` namespace label and an `app` label), or to no peer restriction (`any`).
//! NetworkPolicy cannot name DNS names and does not see loopback traffic; such rules are listed in the
//! header comment. Without selector labels in the profile the policy selects `app: <name>`, and says so.

use crate::profile::model::*;
use palisade_network::rules::{Peer, Protocol};
use serde_json::{Value, json};

fn ports(e: &NetEntry) -> Vec<Value> {
    let protos: &[&str] = match e.protocol {
        Protocol::Tcp => &["TCP"],
        Protocol::Udp => &["UDP"],
        Protocol::Any => &["TCP", "UDP"],
    };
    let mut out = Vec::new();
    for proto in protos {
        if e.ports.is_empty() {
            out.push(json!({"protocol": proto}));
        }
        for p in &e.ports {
            let mut v = json!({"protocol": proto, "port": p.0.first});
            if p.0.last != p.0.first {
                v["endPort"] = json!(p.0.last);
            }
            out.push(v);
        }
    }
    out
}

fn loopback(peer: &Peer) -> bool {
    matches!(peer, Peer::Cidr(net) if net.addr().is_loopback())
}

/// The `NetworkPolicy` of a profile.
pub fn convert(p: &PalisadeProfile) -> Result<String, String> {
    let w = &p.spec.workload;
    let mut notes =
        vec![format!("Kubernetes NetworkPolicy converted by Palisade from profile {}.", p.metadata.name)];
    let selector: Value = if w.selector.is_empty() {
        notes.push(format!(
            "the profile has no pod labels: the pods are selected by app={} (check it)",
            w.name
        ));
        json!({"app": w.name})
    } else {
        json!(w.selector)
    };
    let mut rules = |entries: &[NetEntry], key: &str| -> Vec<Value> {
        let mut out = Vec::new();
        for e in entries {
            let peer = match &e.peer {
                Peer::Any => None,
                Peer::Cidr(_) if loopback(&e.peer) => {
                    notes.push(format!(
                        "{key} {} is loopback traffic, which NetworkPolicy does not see",
                        crate::profile::diff_peer(&e.peer)
                    ));
                    continue;
                }
                Peer::Cidr(net) => Some(json!({"ipBlock": {"cidr": net.to_string()}})),
                Peer::Dns(name) => {
                    notes.push(format!("{key} to the DNS name {name} cannot be written as a NetworkPolicy peer and was left out"));
                    continue;
                }
                Peer::Workload { namespace, name } => Some(json!({
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
                    "podSelector": {"matchLabels": {"app": name}},
                })),
            };
            let mut rule = json!({});
            if let Some(peer) = peer {
                rule[key] = json!([peer]);
            }
            let ports = ports(e);
            if !ports.is_empty() {
                rule["ports"] = json!(ports);
            }
            out.push(rule);
        }
        out
    };
    let egress = rules(&p.spec.network.egress, "to");
    let ingress = rules(&p.spec.network.ingress, "from");
    let doc = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": p.metadata.name, "namespace": w.namespace.clone().unwrap_or_else(|| "default".into())},
        "spec": {
            "podSelector": {"matchLabels": selector},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    });
    super::document(&notes, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_network::rules::PortRange;

    #[test]
    fn learned_connections_become_peers_and_ports() {
        let mut w = Workload {
            kind: WorkloadKind::Deployment,
            name: "web".into(),
            namespace: Some("shop".into()),
            ..Workload::default()
        };
        w.selector.insert("app.kubernetes.io/name".into(), "web".into());
        let mut p = PalisadeProfile::new(w);
        let entry = |peer, protocol, ports: Vec<PortRange>| NetEntry {
            peer,
            protocol,
            ports: ports.into_iter().map(PortSpec).collect(),
            seen: Seen::default(),
        };
        p.spec.network.egress = vec![
            entry(Peer::Cidr("10.0.0.7/32".parse().unwrap()), Protocol::Tcp, vec![PortRange::single(5432)]),
            entry(Peer::Cidr("127.0.0.1/32".parse().unwrap()), Protocol::Tcp, vec![PortRange::single(4444)]),
            entry(Peer::Dns("api.example.com".into()), Protocol::Tcp, vec![PortRange::single(443)]),
            entry(
                Peer::Workload { namespace: "shop".into(), name: "db".into() },
                Protocol::Any,
                vec![PortRange { first: 8000, last: 8080 }],
            ),
        ];
        p.spec.network.ingress = vec![entry(Peer::Any, Protocol::Tcp, vec![PortRange::single(8080)])];
        let text = convert(&p).unwrap();
        let d: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(d["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"], "web");
        let egress = d["spec"]["egress"].as_array().unwrap();
        assert_eq!(egress.len(), 2, "{text}");
        assert_eq!(egress[0]["to"][0]["ipBlock"]["cidr"], "10.0.0.7/32");
        assert_eq!(egress[0]["ports"][0], json!({"protocol": "TCP", "port": 5432}));
        assert_eq!(egress[1]["ports"].as_array().unwrap().len(), 2);
        assert_eq!(egress[1]["ports"][0]["endPort"], 8080);
        assert_eq!(d["spec"]["ingress"][0], json!({"ports": [{"protocol": "TCP", "port": 8080}]}));
        assert!(
            text.contains("# to {cidr: 127.0.0.1/32} is loopback") || text.contains("loopback"),
            "{text}"
        );
        assert!(text.contains("api.example.com"), "{text}");
    }
}
