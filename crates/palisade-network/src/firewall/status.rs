//! Reads an installed firewall's counters back: packets and bytes per allow rule, what fell outside the
//! policy (counted, and each distinct flow recorded as a violation: the monitor-mode alert), and bytes and
//! packets per flow for the connection graph.

use super::FirewallMode;
use super::compile::{OUTSIDE_PREFIX, RULE_PREFIX};
use crate::nft;
use crate::rules::Direction;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Counters of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCounter {
    /// The rule's description (`rule 0: egress tcp 10.0.0.0/8 port 443`).
    pub rule: String,
    pub packets: u64,
    pub bytes: u64,
}

/// A flow outside the policy (refused in protect mode, let through in monitor mode).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Violation {
    pub direction: Direction,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// The peer: destination of an egress flow, source of an ingress one.
    pub peer: IpAddr,
    /// The destination port.
    pub port: u16,
}

/// Bytes and packets of one connection class, both directions, keyed by its original direction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FlowCounter {
    pub source: IpAddr,
    pub destination: IpAddr,
    pub protocol: String,
    pub port: u16,
    pub packets: u64,
    pub bytes: u64,
}

/// Everything the firewall counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub mode: FirewallMode,
    pub rules: Vec<RuleCounter>,
    /// Packets outside the policy (first packets of flows no rule allows), by chain.
    pub outside: Vec<RuleCounter>,
    pub violations: Vec<Violation>,
    pub flows: Vec<FlowCounter>,
    /// Where `flows` came from when not from the firewall's flow set (a firewall applied without it):
    /// the conntrack table read ([`crate::conntrack`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows_from: Option<String>,
    /// Problems reading the counters (each names its source).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn ip(v: &serde_json::Value) -> Option<IpAddr> {
    v.as_str()?.parse().ok()
}

fn proto(v: &serde_json::Value) -> Option<String> {
    // nft prints well-known protocols by name, others as numbers.
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn port(v: &serde_json::Value) -> Option<u16> {
    v.as_u64().and_then(|p| u16::try_from(p).ok())
}

impl Status {
    /// Read from the JSON listing (`nft -j list table inet palisade`).
    pub fn from_table(table: &serde_json::Value) -> Status {
        let rules = nft::rule_counters(table, RULE_PREFIX)
            .into_iter()
            .map(|(rule, packets, bytes)| RuleCounter { rule, packets, bytes })
            .collect();
        let outside: Vec<RuleCounter> = nft::rule_counters(table, OUTSIDE_PREFIX)
            .into_iter()
            .map(|(rule, packets, bytes)| RuleCounter { rule, packets, bytes })
            .collect();
        let mode = if outside.iter().any(|r| r.rule.contains("protect")) {
            FirewallMode::Protect
        } else {
            FirewallMode::Monitor
        };
        let mut violations = Vec::new();
        for (direction, name) in [(Direction::Egress, "egress"), (Direction::Ingress, "ingress")] {
            for v in ["4", "6"] {
                for (values, _) in nft::set_elements(table, &format!("{name}{v}")) {
                    if let [p, a, d] = values.as_slice()
                        && let (Some(protocol), Some(peer), Some(port)) = (proto(p), ip(a), port(d))
                    {
                        violations.push(Violation { direction, protocol, peer, port });
                    }
                }
            }
        }
        violations.sort();
        let mut flows = Vec::new();
        for v in ["4", "6"] {
            for (values, counter) in nft::set_elements(table, &format!("flows{v}")) {
                if let [s, d, p, dp] = values.as_slice()
                    && let (Some(source), Some(destination), Some(protocol), Some(port)) =
                        (ip(s), ip(d), proto(p), port(dp))
                {
                    let (packets, bytes) = counter.unwrap_or_default();
                    flows.push(FlowCounter { source, destination, protocol, port, packets, bytes });
                }
            }
        }
        flows.sort();
        Status { mode, rules, outside, violations, flows, flows_from: None, notes: Vec::new() }
    }

    /// Packets outside the policy, all chains.
    pub fn outside_packets(&self) -> u64 {
        self.outside.iter().map(|r| r.packets).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_counters_violations_and_flows_from_nft_json() {
        let text = include_str!("../../tests/fixtures/firewall/list-table.json");
        let status = Status::from_table(&serde_json::from_str(text).unwrap());
        assert_eq!(status.mode, FirewallMode::Protect);
        assert_eq!(status.rules.len(), 1);
        assert_eq!(status.rules[0].rule, "rule 0: egress tcp 10.250.0.2/32 port 8080");
        assert_eq!(status.rules[0].packets, 1);
        assert_eq!(status.outside_packets(), 2);
        assert_eq!(
            status.violations,
            vec![Violation {
                direction: Direction::Egress,
                protocol: "tcp".into(),
                peer: "10.250.0.2".parse().unwrap(),
                port: 9999
            }]
        );
        let f8080 = status.flows.iter().find(|f| f.port == 8080).unwrap();
        assert_eq!((f8080.packets, f8080.bytes), (8, 435));
        assert_eq!(f8080.source, "10.250.0.1".parse::<IpAddr>().unwrap());
    }
}
