//! A small network lab for tests: a "node" network namespace with a bridge at 10.77.N.1/24 and "pod"
//! namespaces plugged into it by veth pairs (10.77.N.2, .3, …). Every namespace has a unique name per test
//! and is deleted on drop (its veth ends go with it), also when the test fails. Labs live in namespaces of
//! their own, never in the machine's, so they may share addresses (N = 0 unless a test needs addresses no
//! other lab uses, e.g. when a node-wide sensor attributes connections by address).
#![allow(dead_code)]

use palisade_network::netns::Netns;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The node's address in a lab on 10.77.0.0/24.
pub const NODE_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

static SEQ: AtomicUsize = AtomicUsize::new(0);

pub struct Lab {
    pub node: String,
    pub pods: Vec<String>,
    /// The third octet of the lab's 10.77.N.0/24.
    pub net: u8,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(out.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Why this machine cannot run the lab, if it cannot.
pub fn missing() -> Option<String> {
    if !is_root() {
        return Some("not root".into());
    }
    for tool in ["ip", "nft"] {
        let found = Command::new(tool).arg("-V").output().is_ok_and(|o| o.status.success());
        let found = found || Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
        if !found {
            return Some(format!("{tool} not installed"));
        }
    }
    None
}

impl Lab {
    /// A node and `pods` pods on 10.77.0.0/24; `None` (after a SKIP line) where namespaces cannot be made.
    pub fn new(tag: &str, pods: usize) -> Option<Lab> {
        Lab::new_in(tag, pods, 0)
    }

    /// A lab on 10.77.`net`.0/24.
    pub fn new_in(tag: &str, pods: usize, net: u8) -> Option<Lab> {
        if let Some(why) = missing() {
            eprintln!("SKIP: {why}");
            return None;
        }
        let id = format!("pal-{tag}-{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst));
        let mut lab = Lab { node: format!("{id}-node"), pods: Vec::new(), net };
        ip(&["netns", "add", &lab.node]);
        ip(&["-n", &lab.node, "link", "set", "lo", "up"]);
        ip(&["-n", &lab.node, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &lab.node, "addr", "add", &format!("{}/24", lab.node_addr()), "dev", "br0"]);
        ip(&["-n", &lab.node, "addr", "add", &format!("{}/64", lab.node_addr6()), "dev", "br0", "nodad"]);
        ip(&["-n", &lab.node, "link", "set", "br0", "up"]);
        for i in 0..pods {
            let pod = format!("{id}-p{i}");
            ip(&["netns", "add", &pod]);
            lab.pods.push(pod.clone());
            let host_end = format!("veth{i}");
            ip(&[
                "-n", &lab.node, "link", "add", &host_end, "type", "veth", "peer", "name", "eth0", "netns",
                &pod,
            ]);
            ip(&["-n", &lab.node, "link", "set", &host_end, "master", "br0", "up"]);
            ip(&["-n", &pod, "addr", "add", &format!("{}/24", lab.pod_addr(i)), "dev", "eth0"]);
            ip(&["-n", &pod, "addr", "add", &format!("{}/64", lab.pod_addr6(i)), "dev", "eth0", "nodad"]);
            ip(&["-n", &pod, "link", "set", "eth0", "up"]);
            ip(&["-n", &pod, "link", "set", "lo", "up"]);
            ip(&["-n", &pod, "route", "add", "default", "via", &lab.node_addr().to_string()]);
        }
        Some(lab)
    }

    pub fn pod_addr(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, self.net, 2 + i as u8)
    }

    pub fn node_addr(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, self.net, 1)
    }

    /// IPv6 addresses too: fd77:0:0:N::1 for the node, ::2, ::3, … for the pods.
    pub fn node_addr6(&self) -> Ipv6Addr {
        Ipv6Addr::new(0xfd77, 0, 0, self.net.into(), 0, 0, 0, 1)
    }

    pub fn pod_addr6(&self, i: usize) -> Ipv6Addr {
        Ipv6Addr::new(0xfd77, 0, 0, self.net.into(), 0, 0, 0, 2 + i as u16)
    }

    pub fn node_ns(&self) -> Netns {
        Netns::Path(PathBuf::from("/run/netns").join(&self.node))
    }

    pub fn pod_ns(&self, i: usize) -> Netns {
        Netns::Path(PathBuf::from("/run/netns").join(&self.pods[i]))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.pods.iter().chain(std::iter::once(&self.node)) {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// A TCP echo server on `port` inside `ns` (all addresses, IPv4 and IPv6), on a thread, for the rest of the
/// test.
pub fn echo_server(ns: &Netns, port: u16) {
    let listener = ns
        .run(move || TcpListener::bind(("::", port)))
        .expect("enter netns")
        .unwrap_or_else(|e| panic!("listen on {port} in {ns}: {e}"));
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || stream.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
}

/// Connect from inside `ns` and get an echo back: `Ok` when the exchange worked.
pub fn exchange(ns: &Netns, addr: impl Into<IpAddr>, port: u16) -> std::io::Result<()> {
    let addr: IpAddr = addr.into();
    ns.run(move || -> std::io::Result<()> {
        let mut s = TcpStream::connect_timeout(&SocketAddr::from((addr, port)), Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        s.write_all(b"palisade")?;
        let mut buf = [0u8; 8];
        s.read_exact(&mut buf)?;
        if &buf != b"palisade" {
            return Err(std::io::Error::other("wrong echo"));
        }
        Ok(())
    })
    .expect("enter netns")
}
