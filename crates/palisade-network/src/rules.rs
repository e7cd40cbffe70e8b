//! L3/L4 allow rules for one workload's traffic.
//!
//! A [`NetRule`] allows one kind of flow: a direction, a peer, a transport protocol and a set of ports.
//! Everything a workload's rules do not allow is outside its policy; what happens then (an alert or a
//! refusal) is the enforcement mode's business, not the rule's. Learned profiles produce these rules
//! from observed connections, firewall policies are written by hand in the same form, and the kernel
//! mechanisms (cgroup `connect4`/`connect6` BPF, nftables in the pod's network namespace) compile them.
//!
//! DNS-name and workload peers are resolved to addresses by the agent before a rule reaches the kernel
//! ([`Peer::cidr`] is `None` for them); a rule that cannot be resolved allows nothing.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// Which way the flow's first packet goes, seen from the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The workload connects out.
    Egress,
    /// Someone connects to the workload.
    Ingress,
}

/// Transport protocol of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    /// TCP and UDP.
    Any,
}

impl Protocol {
    /// Whether a flow of transport `other` (`tcp` or `udp`) is covered.
    pub fn covers(self, other: Protocol) -> bool {
        self == Protocol::Any || self == other
    }
}

/// The other end of a flow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Peer {
    /// Any address.
    Any,
    /// An address block (`10.0.0.0/8`, `192.168.1.7/32`, `fd00::/64`).
    Cidr(IpNet),
    /// A DNS name (`api.example.com`, or `*.example.com` for any name under it).
    Dns(String),
    /// Pods of a workload, by namespace and controller name (`Deployment/web` is written `web`).
    Workload { namespace: String, name: String },
}

impl Peer {
    /// The address block this peer stands for when it is one without resolution.
    pub fn cidr(&self) -> Option<IpNet> {
        match self {
            Peer::Any => None,
            Peer::Cidr(net) => Some(*net),
            Peer::Dns(_) | Peer::Workload { .. } => None,
        }
    }
}

/// An inclusive port range; a single port has `first == last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn single(port: u16) -> Self {
        PortRange { first: port, last: port }
    }

    pub fn contains(self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// One allowed kind of flow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NetRule {
    pub direction: Direction,
    pub peer: Peer,
    #[serde(default)]
    pub protocol: Protocol,
    /// Destination ports (the peer's for egress, the workload's for ingress); empty means any port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortRange>,
}

/// A concrete flow, as a sensor or a packet shows it, with the peer's address already known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub direction: Direction,
    pub protocol: Protocol,
    pub peer: IpAddr,
    /// The destination port (the peer's for egress, the workload's for ingress).
    pub port: u16,
}

impl NetRule {
    /// Whether this rule allows `flow`, taking `resolved` as the addresses a DNS or workload peer stands
    /// for right now (ignored for `Any` and `Cidr` peers).
    pub fn allows(&self, flow: &Flow, resolved: &[IpAddr]) -> bool {
        if self.direction != flow.direction || !self.protocol.covers(flow.protocol) {
            return false;
        }
        if !self.ports.is_empty() && !self.ports.iter().any(|r| r.contains(flow.port)) {
            return false;
        }
        match &self.peer {
            Peer::Any => true,
            Peer::Cidr(net) => net.contains(&flow.peer),
            Peer::Dns(_) | Peer::Workload { .. } => resolved.contains(&flow.peer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(peer: &str, port: u16) -> Flow {
        Flow { direction: Direction::Egress, protocol: Protocol::Tcp, peer: peer.parse().unwrap(), port }
    }

    #[test]
    fn cidr_rule_allows_only_its_block_ports_and_direction() {
        let rule = NetRule {
            direction: Direction::Egress,
            peer: Peer::Cidr("10.0.0.0/8".parse().unwrap()),
            protocol: Protocol::Tcp,
            ports: vec![PortRange::single(443), PortRange { first: 8000, last: 8080 }],
        };
        assert!(rule.allows(&flow("10.1.2.3", 443), &[]));
        assert!(rule.allows(&flow("10.1.2.3", 8080), &[]));
        assert!(!rule.allows(&flow("10.1.2.3", 22), &[]));
        assert!(!rule.allows(&flow("11.1.2.3", 443), &[]));
        let ingress = Flow { direction: Direction::Ingress, ..flow("10.1.2.3", 443) };
        assert!(!rule.allows(&ingress, &[]));
        let udp = Flow { protocol: Protocol::Udp, ..flow("10.1.2.3", 443) };
        assert!(!rule.allows(&udp, &[]));
    }

    #[test]
    fn name_peers_allow_only_resolved_addresses() {
        let rule = NetRule {
            direction: Direction::Egress,
            peer: Peer::Dns("api.example.com".into()),
            protocol: Protocol::Any,
            ports: vec![],
        };
        let addr: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(rule.allows(&flow("192.0.2.7", 1), &[addr]));
        assert!(!rule.allows(&flow("192.0.2.8", 1), &[addr]));
        assert!(!rule.allows(&flow("192.0.2.7", 1), &[]));
    }

    #[test]
    fn rules_round_trip_as_yaml_friendly_json() {
        let rule = NetRule {
            direction: Direction::Ingress,
            peer: Peer::Workload { namespace: "shop".into(), name: "web".into() },
            protocol: Protocol::Tcp,
            ports: vec![PortRange::single(5432)],
        };
        let text = serde_json::to_string(&rule).unwrap();
        assert_eq!(serde_json::from_str::<NetRule>(&text).unwrap(), rule);
        let any: NetRule = serde_json::from_str(r#"{"direction":"egress","peer":"any"}"#).unwrap();
        assert_eq!(any.protocol, Protocol::Tcp);
        assert!(any.ports.is_empty());
    }
}
