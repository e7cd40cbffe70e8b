//! The firewall on real traffic: network namespaces joined by veth pairs to a bridge (see support/lab.rs).
//! Needs root, `ip` and `nft`: skips with a message without them.

mod support;

use palisade_network::firewall::{self, FirewallMode};
use palisade_network::rules::{Direction, NetRule, Peer, PortRange, Protocol};
use std::io::ErrorKind;
use support::lab::{Lab, NODE_ADDR, echo_server, exchange};

/// Pod 0 may call the node on 8080 and be called on 7000; nothing else.
fn rules() -> Vec<NetRule> {
    vec![
        NetRule {
            direction: Direction::Egress,
            peer: Peer::Cidr("10.77.0.1/32".parse().unwrap()),
            protocol: Protocol::Tcp,
            ports: vec![PortRange::single(8080)],
        },
        NetRule {
            direction: Direction::Ingress,
            peer: Peer::Any,
            protocol: Protocol::Tcp,
            ports: vec![PortRange::single(7000)],
        },
    ]
}

fn lab_with_servers(tag: &str) -> Option<Lab> {
    let lab = Lab::new(tag, 1)?;
    for port in [8080, 9090] {
        echo_server(&lab.node_ns(), port);
    }
    for port in [7000, 7001] {
        echo_server(&lab.pod_ns(0), port);
    }
    Some(lab)
}

#[test]
fn protect_mode_allows_listed_flows_and_refuses_the_rest() {
    let Some(lab) = lab_with_servers("fwp") else { return };
    let (pod, node) = (lab.pod_ns(0), lab.node_ns());
    // Before: everything works.
    exchange(&pod, NODE_ADDR, 9090).expect("9090 before the firewall");
    // with the ruleset's own flow set (`--flow-counters`); the lean default is tested below
    let with_set = firewall::compile::Options { flow_counters: true };
    let applied = firewall::apply_with(&pod, &rules(), FirewallMode::Protect, with_set).unwrap();
    assert_eq!((applied.installed, applied.skipped.len()), (2, 0));
    exchange(&pod, NODE_ADDR, 8080).expect("allowed egress 8080");
    let err = exchange(&pod, NODE_ADDR, 9090).expect_err("9090 must be refused");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    exchange(&node, lab.pod_addr(0), 7000).expect("allowed ingress 7000");
    let err = exchange(&node, lab.pod_addr(0), 7001).expect_err("ingress 7001 must be refused");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");

    let status = firewall::status(&pod).unwrap().expect("a firewall is installed");
    assert_eq!(status.mode, FirewallMode::Protect);
    let peers: Vec<(Direction, String, u16)> =
        status.violations.iter().map(|v| (v.direction, v.peer.to_string(), v.port)).collect();
    assert_eq!(
        peers,
        vec![(Direction::Egress, "10.77.0.1".into(), 9090), (Direction::Ingress, "10.77.0.1".into(), 7001)]
    );
    assert!(status.rules.iter().all(|r| r.packets >= 1), "{:?}", status.rules);
    assert!(status.flows_from.as_deref().is_none_or(|f| !f.contains("conntrack")), "{:?}", status.flows_from);
    let flow = status.flows.iter().find(|f| f.port == 8080).expect("8080 flow counted");
    assert!(flow.packets >= 6 && flow.bytes > 300, "{flow:?}");
}

#[test]
fn monitor_mode_counts_and_records_without_blocking() {
    let Some(lab) = lab_with_servers("fwm") else { return };
    let pod = lab.pod_ns(0);
    firewall::apply(&pod, &rules(), FirewallMode::Monitor).unwrap();
    exchange(&pod, NODE_ADDR, 8080).expect("allowed egress");
    exchange(&pod, NODE_ADDR, 9090).expect("monitor mode lets 9090 through");
    exchange(&lab.node_ns(), lab.pod_addr(0), 7001).expect("monitor mode lets ingress 7001 through");
    let status = firewall::status(&pod).unwrap().unwrap();
    assert_eq!(status.mode, FirewallMode::Monitor);
    assert!(status.outside_packets() >= 2, "{:?}", status.outside);
    let ports: Vec<u16> = status.violations.iter().map(|v| v.port).collect();
    assert_eq!(ports, vec![9090, 7001]);
}

#[test]
fn apply_is_idempotent_and_remove_restores_traffic() {
    let Some(lab) = lab_with_servers("fwi") else { return };
    let pod = lab.pod_ns(0);
    firewall::apply(&pod, &rules(), FirewallMode::Protect).unwrap();
    firewall::apply(&pod, &rules(), FirewallMode::Protect).unwrap();
    let status = firewall::status(&pod).unwrap().unwrap();
    assert_eq!(status.rules.len(), 2, "applied twice, installed once: {:?}", status.rules);
    assert!(exchange(&pod, NODE_ADDR, 9090).is_err());
    assert!(firewall::remove(&pod).unwrap());
    assert!(!firewall::remove(&pod).unwrap(), "nothing left to remove");
    assert!(firewall::status(&pod).unwrap().is_none());
    exchange(&pod, NODE_ADDR, 9090).expect("9090 after removal");
}

/// Send `n` bytes to the echo server at `addr`:`port` from inside `ns` and read them back.
fn transfer(ns: &palisade_network::netns::Netns, addr: std::net::Ipv4Addr, port: u16, n: usize) {
    use std::io::{Read, Write};
    ns.run(move || {
        let mut s = std::net::TcpStream::connect((addr, port)).expect("connect");
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut reader = s.try_clone().unwrap();
        let echo = std::thread::spawn(move || {
            let mut got = vec![0u8; n];
            reader.read_exact(&mut got).map(|()| got.len())
        });
        s.write_all(&vec![b'p'; n]).expect("send");
        assert_eq!(echo.join().unwrap().expect("echo"), n);
    })
    .expect("enter netns");
}

/// By default (no per-flow set) the verdicts are the same, and bytes per flow come from conntrack
/// accounting: a flow of known size is counted within 10% (IP and TCP headers, acknowledgements).
#[test]
fn without_flow_counters_protect_still_refuses_and_conntrack_counts_bytes() {
    let Some(lab) = lab_with_servers("fwl") else { return };
    let pod = lab.pod_ns(0);
    let applied = firewall::apply(&pod, &rules(), FirewallMode::Protect).unwrap();
    assert!(applied.notes.is_empty(), "{:?}", applied.notes);
    const N: usize = 1_000_000;
    transfer(&pod, NODE_ADDR, 8080, N);
    assert!(exchange(&pod, NODE_ADDR, 9090).is_err(), "unlisted port refused");
    let status = firewall::status(&pod).unwrap().unwrap();
    assert!(status.notes.is_empty(), "{:?}", status.notes);
    assert!(status.flows_from.as_deref().is_some_and(|f| f.contains("conntrack")), "{:?}", status.flows_from);
    assert!(status.rules.iter().any(|r| r.packets > 0), "{:?}", status.rules);
    assert_eq!(status.flows.len(), 1, "only the allowed flow: {:?}", status.flows);
    let f = &status.flows[0];
    assert_eq!(
        (f.source, f.destination, f.protocol.as_str(), f.port),
        (lab.pod_addr(0).into(), NODE_ADDR.into(), "tcp", 8080)
    );
    let payload = 2 * N as u64;
    eprintln!(
        "conntrack: {} bytes, {} packets for {payload} payload bytes ({:.2}% overhead)",
        f.bytes,
        f.packets,
        (f.bytes - payload.min(f.bytes)) as f64 * 100.0 / payload as f64
    );
    assert!(f.bytes >= payload && f.bytes <= payload + payload / 10, "{f:?}");
    assert!(f.packets >= 4, "{f:?}");
    // the firewall status JSON (what `network graph --counters` reads) carries them
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["flows"][0]["bytes"], f.bytes);
    assert!(firewall::remove(&pod).unwrap());
}

#[test]
fn ipv6_flows_are_judged_and_neighbour_discovery_still_works() {
    let Some(lab) = lab_with_servers("fw6") else { return };
    let pod = lab.pod_ns(0);
    let rules = vec![NetRule {
        direction: Direction::Egress,
        peer: Peer::Cidr(format!("{}/128", lab.node_addr6()).parse().unwrap()),
        protocol: Protocol::Tcp,
        ports: vec![PortRange::single(8080)],
    }];
    // Installed before the first IPv6 packet: the neighbour entries are made under the firewall.
    firewall::apply(&pod, &rules, FirewallMode::Protect).unwrap();
    exchange(&pod, lab.node_addr6(), 8080).expect("allowed IPv6 egress (neighbour discovery passes)");
    let err = exchange(&pod, lab.node_addr6(), 9090).expect_err("IPv6 9090 must be refused");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert!(exchange(&pod, NODE_ADDR, 8080).is_err(), "the IPv6 rule allows no IPv4");
    let status = firewall::status(&pod).unwrap().unwrap();
    let v6: Vec<(String, u16)> =
        status.violations.iter().filter(|v| v.peer.is_ipv6()).map(|v| (v.peer.to_string(), v.port)).collect();
    assert_eq!(v6, vec![(lab.node_addr6().to_string(), 9090)]);
    assert!(
        status
            .flows
            .iter()
            .any(|f| f.destination == std::net::IpAddr::V6(lab.node_addr6()) && f.port == 8080)
    );
}
