//! Compiles a container's [`NetRule`]s into one nftables ruleset for its network namespace.
//!
//! The ruleset is `table inet palisade` with an `egress` chain (hook output) and an `ingress` chain (hook
//! input). Each chain, in order:
//! 1. counts every TCP/UDP packet into a per-flow set keyed by the connection's original direction
//!    (source, destination, protocol, destination port), which gives bytes and packets per flow;
//! 2. accepts packets of established connections (only a connection's first packet is judged), loopback,
//!    and the ICMPv6 messages IPv6 cannot work without;
//! 3. one rule per allowed [`NetRule`] of the chain's direction, with a counter, accepting;
//! 4. records the flow outside the policy in a violations set (protocol, peer, port) and counts it; in
//!    protect mode it is then refused (TCP reset, ICMP unreachable otherwise), in monitor mode accepted.
//!
//! The script first deletes the table it creates, in the same transaction: applying twice gives the
//! same ruleset, and a failed apply leaves the previous one in place. Every value in the script comes from
//! typed data (addresses, ports, fixed names), never from text.

use super::FirewallMode;
use crate::rules::{Direction, NetRule, Peer, PortRange, Protocol};
use ipnet::IpNet;
use std::fmt::Write;

/// The table every firewall ruleset lives in.
pub const TABLE: &str = "palisade";
/// Comment prefix of the rules compiled from allow rules (`rule N: …`).
pub const RULE_PREFIX: &str = "rule ";
/// Comment prefix of the rules that catch what no allow rule matched.
pub const OUTSIDE_PREFIX: &str = "outside policy";

/// A compiled ruleset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    pub script: String,
    /// Rules that could not be compiled, with why (unresolved DNS or workload peers, empty port ranges:
    /// they allow nothing).
    pub skipped: Vec<String>,
}

/// One line summary of a rule, used as its comment: built from typed values only.
pub fn describe(index: usize, rule: &NetRule) -> String {
    let dir = match rule.direction {
        Direction::Egress => "egress",
        Direction::Ingress => "ingress",
    };
    let peer = match &rule.peer {
        Peer::Any => "any".to_string(),
        Peer::Cidr(net) => net.trunc().to_string(),
        Peer::Dns(_) => "dns".to_string(),
        Peer::Workload { .. } => "workload".to_string(),
    };
    let mut text = format!("{RULE_PREFIX}{index}: {dir} {} {peer}", proto_name(rule.protocol));
    if !rule.ports.is_empty() {
        let ports: Vec<String> = rule.ports.iter().map(PortRange::to_string).collect();
        let _ = write!(text, " port {}", ports.join(","));
    }
    // nft comments hold at most 128 bytes; the text is ASCII.
    text.truncate(120);
    text
}

fn proto_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Any => "tcp+udp",
    }
}

/// The match part of one allow rule, or why it has none.
fn rule_match(rule: &NetRule) -> Result<String, String> {
    let mut m = String::new();
    let addr_field = match rule.direction {
        Direction::Egress => "daddr",
        Direction::Ingress => "saddr",
    };
    match &rule.peer {
        Peer::Any => {}
        Peer::Cidr(net) => {
            let family = match net {
                IpNet::V4(_) => "ip",
                IpNet::V6(_) => "ip6",
            };
            let _ = write!(m, "{family} {addr_field} {} ", net.trunc());
        }
        Peer::Dns(name) => return Err(format!("DNS peer {name:?} is not resolved: the rule allows nothing")),
        Peer::Workload { namespace, name } => {
            return Err(format!("workload peer {namespace}/{name} is not resolved: the rule allows nothing"));
        }
    }
    if let Some(r) = rule.ports.iter().find(|r| r.first > r.last) {
        return Err(format!("port range {}-{} is empty: the rule allows nothing", r.first, r.last));
    }
    let ports = if rule.ports.is_empty() {
        None
    } else {
        let items: Vec<String> = rule.ports.iter().map(PortRange::to_string).collect();
        Some(format!("{{ {} }}", items.join(", ")))
    };
    match (rule.protocol, ports) {
        (Protocol::Tcp, Some(p)) => write!(m, "tcp dport {p} "),
        (Protocol::Udp, Some(p)) => write!(m, "udp dport {p} "),
        (Protocol::Any, Some(p)) => write!(m, "meta l4proto {{ tcp, udp }} th dport {p} "),
        (Protocol::Tcp, None) => write!(m, "meta l4proto tcp "),
        (Protocol::Udp, None) => write!(m, "meta l4proto udp "),
        (Protocol::Any, None) => write!(m, "meta l4proto {{ tcp, udp }} "),
    }
    .map_err(|e| e.to_string())?;
    Ok(m)
}

/// One chain of the ruleset: its hook, the loopback and peer-address fields of its direction, its rules.
struct Chain {
    direction: Direction,
    name: &'static str,
    hook: &'static str,
    lo: &'static str,
    peer: &'static str,
    lines: Vec<String>,
}

/// What the ruleset records besides its verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Bytes and packets per flow in the ruleset's own flow set (step 1): a set update on every packet,
    /// about 4% of a stream's throughput, and off by default. Without it (the default), rule and
    /// outside-policy counters and the violations set remain (they cost only a connection's first packet),
    /// and bytes per flow come from conntrack accounting ([`crate::conntrack`]).
    pub flow_counters: bool,
}

impl Default for Options {
    /// Lean: no per-flow set (within the 10% throughput budget of `docs/network.md`).
    fn default() -> Self {
        Options { flow_counters: false }
    }
}

/// Compile `rules` for `mode` with the default [`Options`] (no per-flow set).
pub fn compile(rules: &[NetRule], mode: FirewallMode) -> Compiled {
    compile_with(rules, mode, Options::default())
}

/// Compile `rules` for `mode` with `options`.
pub fn compile_with(rules: &[NetRule], mode: FirewallMode, options: Options) -> Compiled {
    let mut skipped = Vec::new();
    let mut chains = [
        Chain {
            direction: Direction::Egress,
            name: "egress",
            hook: "output",
            lo: "oif",
            peer: "daddr",
            lines: vec![],
        },
        Chain {
            direction: Direction::Ingress,
            name: "ingress",
            hook: "input",
            lo: "iif",
            peer: "saddr",
            lines: vec![],
        },
    ];
    for (index, rule) in rules.iter().enumerate() {
        match rule_match(rule) {
            Ok(m) => {
                let chain = chains.iter_mut().find(|c| c.direction == rule.direction).map(|c| &mut c.lines);
                if let Some(lines) = chain {
                    lines.push(format!("{m}counter accept comment \"{}\"", describe(index, rule)));
                }
            }
            Err(why) => skipped.push(format!("{}: {why}", describe(index, rule))),
        }
    }
    let mut s = String::new();
    s.push_str(&crate::nft::delete_table_script(TABLE));
    let _ = writeln!(s, "table inet {TABLE} {{");
    for v in ["4", "6"] {
        let addr = if v == "4" { "ipv4_addr" } else { "ipv6_addr" };
        if options.flow_counters {
            let _ = writeln!(
                s,
                "  set flows{v} {{ type {addr} . {addr} . inet_proto . inet_service; flags dynamic; size 65536; timeout 1h; counter; }}"
            );
        }
        for dir in ["egress", "ingress"] {
            let _ = writeln!(
                s,
                "  set {dir}{v} {{ type inet_proto . {addr} . inet_service; flags dynamic; size 65536; timeout 1h; }}"
            );
        }
    }
    let verdict = match mode {
        FirewallMode::Monitor => "accept",
        FirewallMode::Protect => "reject",
    };
    for Chain { name, hook, lo, peer: field, lines, .. } in &chains {
        let _ = writeln!(s, "  chain {name} {{");
        let _ = writeln!(s, "    type filter hook {hook} priority filter; policy accept;");
        for (v, family, nfproto) in
            [("4", "ip", "ipv4"), ("6", "ip6", "ipv6")].into_iter().filter(|_| options.flow_counters)
        {
            let _ = writeln!(
                s,
                "    meta nfproto {nfproto} meta l4proto {{ tcp, udp }} update @flows{v} {{ ct original {family} saddr . ct original {family} daddr . meta l4proto . ct original proto-dst }}"
            );
        }
        let _ = writeln!(s, "    ct state established,related accept");
        let _ = writeln!(s, "    {lo} \"lo\" accept");
        let _ = writeln!(
            s,
            "    icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert, mld-listener-query, mld-listener-report, mld2-listener-report }} accept"
        );
        for line in lines {
            let _ = writeln!(s, "    {line}");
        }
        for (v, family) in [("4", "ip"), ("6", "ip6")] {
            let _ = writeln!(
                s,
                "    meta l4proto {{ tcp, udp }} add @{name}{v} {{ meta l4proto . {family} {field} . th dport }}"
            );
        }
        let comment = format!("{OUTSIDE_PREFIX} {name} {}", mode.as_str());
        if mode == FirewallMode::Protect {
            let _ =
                writeln!(s, "    meta l4proto tcp counter reject with tcp reset comment \"{comment} tcp\"");
        }
        let _ = writeln!(s, "    counter {verdict} comment \"{comment}\"");
        let _ = writeln!(s, "  }}");
    }
    let _ = writeln!(s, "}}");
    Compiled { script: s, skipped }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_rules() -> Vec<NetRule> {
        let text = include_str!("../../tests/fixtures/firewall/rules.json");
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn flow_counters_are_opt_in() {
        let with =
            compile_with(&fixture_rules(), FirewallMode::Protect, Options { flow_counters: true }).script;
        let without = compile(&fixture_rules(), FirewallMode::Protect).script;
        assert!(with.contains("update @flows4") && with.contains("set flows6"), "{with}");
        assert!(!without.contains("flows"), "{without}");
        // the verdicts are the same
        assert!(without.contains("counter reject comment \"outside policy egress protect\""), "{without}");
        assert_eq!(
            with.matches("counter accept comment").count(),
            without.matches("counter accept comment").count()
        );
    }

    #[test]
    fn protect_ruleset_matches_the_fixture() {
        // the fixture is the fuller ruleset, with the flow set
        let compiled = compile_with(&fixture_rules(), FirewallMode::Protect, Options { flow_counters: true });
        let expected = include_str!("../../tests/fixtures/firewall/protect.nft");
        assert_eq!(compiled.script, expected, "{}", compiled.script);
        assert_eq!(compiled.skipped.len(), 1, "{:?}", compiled.skipped);
        assert!(compiled.skipped[0].contains("api.example.com"), "{:?}", compiled.skipped);
    }

    #[test]
    fn monitor_accepts_what_protect_refuses() {
        let monitor = compile(&fixture_rules(), FirewallMode::Monitor).script;
        assert!(!monitor.contains("reject"), "{monitor}");
        assert!(monitor.contains("counter accept comment \"outside policy egress monitor\""), "{monitor}");
        let protect = compile(&fixture_rules(), FirewallMode::Protect).script;
        assert!(protect.contains("counter reject comment \"outside policy egress protect\""), "{protect}");
    }

    #[test]
    fn host_bits_are_cleared_and_rules_land_in_their_direction() {
        let rule = NetRule {
            direction: Direction::Ingress,
            peer: Peer::Cidr("10.1.2.3/8".parse().unwrap()),
            protocol: Protocol::Udp,
            ports: vec![PortRange::single(53)],
        };
        let script = compile(std::slice::from_ref(&rule), FirewallMode::Protect).script;
        let empty = NetRule { ports: vec![PortRange { first: 9000, last: 8000 }], ..rule.clone() };
        let compiled = compile(&[empty], FirewallMode::Protect);
        assert!(compiled.skipped[0].contains("port range 9000-8000 is empty"), "{:?}", compiled.skipped);
        assert!(!compiled.script.contains("9000"), "{}", compiled.script);
        let ingress = script.split("chain ingress").nth(1).unwrap();
        assert!(ingress.contains("ip saddr 10.0.0.0/8 udp dport { 53 } counter accept"), "{script}");
        let egress = script.split("chain ingress").next().unwrap();
        assert!(!egress.contains("udp dport { 53 }"), "{script}");
    }
}
