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
