//! A decider's network policy carried out in a real network namespace: protect refuses what the rules do
//! not list, discover takes the firewall away. Needs root, `ip` and `nft`: skips without them.

#[path = "../../palisade-network/tests/support/lab.rs"]
mod lab;

use lab::{Lab, NODE_ADDR, echo_server, exchange};
use palisade_network::firewall::FirewallMode;
use palisade_network::rules::{Direction, NetRule, Peer, PortRange, Protocol};
use palisade_runtime::netenforce::{Installed, install, release};
use palisade_runtime::verdict::{Mode, NetworkPolicy};
use std::process::{Child, Command};

/// A process in the pod's namespace (what the pid names), killed on drop.
struct Resident(Child);

impl Drop for Resident {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn policies_of_each_mode_are_installed_by_pid() {
    let Some(lab) = Lab::new("nfe", 1) else { return };
    echo_server(&lab.node_ns(), 8080);
    echo_server(&lab.node_ns(), 9090);
    let resident =
        Resident(Command::new("ip").args(["netns", "exec", &lab.pods[0], "sleep", "60"]).spawn().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(200));
    let pid = resident.0.id();
    let pod = lab.pod_ns(0);
    let mut policy = NetworkPolicy {
        mode: Mode::Protect,
        rules: vec![NetRule {
            direction: Direction::Egress,
            peer: Peer::Cidr("10.77.0.1/32".parse().unwrap()),
            protocol: Protocol::Tcp,
            ports: vec![PortRange::single(8080)],
        }],
    };
    let installed = install(pid, Some(&policy)).unwrap();
    assert!(matches!(installed, Installed::Firewall { mode: FirewallMode::Protect, .. }), "{installed:?}");
    exchange(&pod, NODE_ADDR, 8080).expect("listed");
    assert!(exchange(&pod, NODE_ADDR, 9090).is_err(), "unlisted connection must be refused");
    policy.mode = Mode::Discover;
    assert_eq!(install(pid, Some(&policy)).unwrap(), Installed::Nothing { removed: true });
    exchange(&pod, NODE_ADDR, 9090).expect("discover mode allows");
    policy.mode = Mode::Monitor;
    install(pid, Some(&policy)).unwrap();
    exchange(&pod, NODE_ADDR, 9090).expect("monitor mode allows");
    assert!(release(pid).unwrap());
    assert!(!release(pid).unwrap());
    assert_eq!(install(pid, None).unwrap(), Installed::Nothing { removed: false });
    drop(resident);
}

/// A decider whose network answer the test changes.
struct Switchable(std::sync::Mutex<Option<NetworkPolicy>>);

impl palisade_runtime::verdict::Decider for Switchable {
    fn decide(&self, _: &palisade_runtime::verdict::Request<'_>) -> palisade_runtime::verdict::Verdict {
        palisade_runtime::verdict::Verdict::Allow
    }
    fn network(&self, _: &palisade_runtime::Container) -> Option<NetworkPolicy> {
        self.0.lock().unwrap().clone()
    }
}

/// Enforcement's network side: a watched container gets the decider's policy, an ingress refusal is
/// reported once, a changed answer is re-installed on the next refresh, and a clean stop removes the
/// firewall.
#[test]
fn enforcement_keeps_each_container_firewall_current_and_removes_it_on_stop() {
    use palisade_runtime::enforce::network::{Network, REFRESH};
    let Some(lab) = Lab::new("nfw", 1) else { return };
    echo_server(&lab.node_ns(), 8080);
    echo_server(&lab.node_ns(), 9090);
    let resident =
        Resident(Command::new("ip").args(["netns", "exec", &lab.pods[0], "sleep", "60"]).spawn().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(200));
    let pid = resident.0.id();
    let pod = lab.pod_ns(0);
    let listed = NetRule {
        direction: Direction::Egress,
        peer: Peer::Cidr("10.77.0.1/32".parse().unwrap()),
        protocol: Protocol::Tcp,
        ports: vec![PortRange::single(8080)],
    };
    let decider = Switchable(std::sync::Mutex::new(Some(NetworkPolicy {
        mode: Mode::Protect,
        rules: vec![listed.clone()],
    })));
    let container = palisade_runtime::Container { id: "c-net".into(), ..Default::default() };
    let mut net = Network::default();
    let line = net.watch(pid, &container, &decider).expect("a log line");
    assert!(line.contains("firewall in Protect mode, 1 rules"), "{line}");
    exchange(&pod, NODE_ADDR, 8080).expect("listed");
    assert!(exchange(&pod, NODE_ADDR, 9090).is_err(), "unlisted connection must be refused");

    assert!(net.refresh(&decider).is_empty(), "the same answer: nothing re-installed");

    // an ingress connection the policy does not list: refused in the kernel, reported once from the
    // firewall's violations set (a retry of the same peer and port is not new)
    for _ in 0..2 {
        assert!(exchange(&lab.node_ns(), lab.pod_addr(0), 7777).is_err(), "ingress must be refused");
    }
    let refusals = net.ingress_refusals();
    assert_eq!(refusals.len(), 1);
    let v = &refusals[0].violation;
    assert_eq!((v.direction, v.protocol.as_str(), v.port), (Direction::Ingress, "tcp", 7777));
    assert_eq!(v.peer, std::net::IpAddr::from(NODE_ADDR));
    assert_eq!(refusals[0].mode, Mode::Protect);

    // the profile learns 9090 (a new answer): installed on the next refresh, not before
    *decider.0.lock().unwrap() = Some(NetworkPolicy {
        mode: Mode::Protect,
        rules: vec![listed.clone(), NetRule { ports: vec![PortRange::single(9090)], ..listed.clone() }],
    });
    assert!(net.refresh(&decider).is_empty(), "refreshes are at most every {REFRESH:?}");
    assert!(exchange(&pod, NODE_ADDR, 9090).is_err());
    std::thread::sleep(REFRESH);
    let lines = net.refresh(&decider);
    assert_eq!(lines.len(), 1, "{lines:?}");
    exchange(&pod, NODE_ADDR, 9090).expect("learned port allowed after the refresh");

    // a clean stop takes the firewall away
    *decider.0.lock().unwrap() = Some(NetworkPolicy { mode: Mode::Protect, rules: vec![listed] });
    std::thread::sleep(REFRESH);
    net.refresh(&decider);
    assert!(exchange(&pod, NODE_ADDR, 9090).is_err());
    net.release_all();
    exchange(&pod, NODE_ADDR, 9090).expect("no firewall after release_all");
    assert!(!release(pid).unwrap(), "nothing left to remove");
    drop(resident);
}
