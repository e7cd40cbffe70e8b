//! The connection graph: who talked to whom, from the sensor's connect and accept observations.
//!
//! Nodes are workloads (named by whoever builds the observations: the runtime crate names them from
//! the container and its pod) and external peers (an address, with the DNS name it was resolved from
//! when the sensor saw it). An edge is one (client, server, protocol, server port) with the number of
//! connections, failed attempts, and first and last time seen. A peer address becomes a workload node
//! when some observation shows a workload holding that address (the server side of an accept, the
//! client side of a connect), so both ends of a pod-to-pod connection meet on one edge: a connection seen
//! from both sides is counted once. Bytes and packets come from the firewall's per-flow counters
//! ([`Graph::add_counters`]) when they are available.
//!
//! Exports: JSON ([`Graph`] serialises as `{nodes, edges}`) and Graphviz DOT ([`Graph::to_dot`]).

use crate::firewall::status::FlowCounter;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::net::IpAddr;

/// Which side of the connection the observing workload is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// It connected out (`connect`).
    Client,
    /// It accepted (`accept`).
    Server,
}

/// One connection as a sensor saw it from inside a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub time_ns: u64,
    /// The observing workload.
    pub workload: String,
    pub side: Side,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// The workload's own address and port, when known.
    pub local: Option<(IpAddr, u16)>,
    /// The other end.
    pub remote: (IpAddr, u16),
    /// The DNS name the remote address came from, when known.
    pub remote_name: Option<String>,
    /// The connection was made (a refused or failed connect is `false`).
    pub ok: bool,
}

/// A node of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub id: String,
    /// `workload` or `external`.
    pub kind: String,
    /// Addresses seen for it.
    #[serde(default)]
    pub addresses: BTreeSet<IpAddr>,
    /// DNS names an external peer was reached by.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub names: BTreeSet<String>,
}

/// An edge: connections from a client to a server port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub port: u16,
    /// Connections made (seen from either side; once when seen from both).
    pub connections: u64,
    /// Attempts that failed (refused, unreachable, denied).
    pub failures: u64,
    pub first_seen_ns: u64,
    pub last_seen_ns: u64,
    /// From the firewall's per-flow counters, both directions; absent when no counters were given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packets: Option<u64>,
    /// (client address, server address) pairs seen on this edge, to match counters.
    #[serde(skip)]
    pairs: BTreeSet<(IpAddr, IpAddr)>,
}

/// The graph (what `network graph` and the agent's `/graph` write as JSON, and the HTML report reads).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// The per-edge tallies while building.
#[derive(Default)]
struct Tally {
    client_ok: u64,
    server_ok: u64,
    failures: u64,
    first: u64,
    last: u64,
    pairs: BTreeSet<(IpAddr, IpAddr)>,
}

fn external_id(addr: IpAddr) -> String {
    format!("external:{addr}")
}

impl Graph {
    /// Build the graph of `observations` (any order). IPv4-mapped IPv6 addresses (`::ffff:10.0.0.2`, what a
    /// dual-stack socket reports for IPv4 peers) are taken as the IPv4 addresses they are.
    pub fn build<'a>(observations: impl IntoIterator<Item = &'a Observation>) -> Graph {
        let canonical: Vec<Observation> = observations
            .into_iter()
            .map(|o| Observation {
                local: o.local.map(|(a, p)| (a.to_canonical(), p)),
                remote: (o.remote.0.to_canonical(), o.remote.1),
                ..o.clone()
            })
            .collect();
        let observations = canonical.as_slice();
        // Which workload holds which address.
        let mut owner: HashMap<IpAddr, String> = HashMap::new();
        for o in observations {
            if let Some((addr, _)) = o.local
                && !addr.is_unspecified()
                && !addr.is_loopback()
            {
                owner.entry(addr).or_insert_with(|| o.workload.clone());
            }
        }
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        let mut node = |id: &str, kind: &'static str| -> String {
            nodes.entry(id.to_string()).or_insert_with(|| Node {
                id: id.to_string(),
                kind: kind.to_string(),
                addresses: BTreeSet::new(),
                names: BTreeSet::new(),
            });
            id.to_string()
        };
        let mut tallies: BTreeMap<(String, String, String, u16), Tally> = BTreeMap::new();
        let mut names: Vec<(String, String)> = Vec::new();
        let mut addrs: Vec<(String, IpAddr)> = Vec::new();
        for o in observations {
            let me = node(&o.workload, "workload");
            let (peer_addr, peer_port) = o.remote;
            let peer = match owner.get(&peer_addr) {
                Some(w) if !peer_addr.is_loopback() => node(w, "workload"),
                _ if peer_addr.is_loopback() => me.clone(),
                _ => {
                    let id = node(&external_id(peer_addr), "external");
                    if let Some(name) = &o.remote_name {
                        names.push((id.clone(), name.clone()));
                    }
                    id
                }
            };
            addrs.push((peer.clone(), peer_addr));
            if let Some((addr, _)) = o.local
                && !addr.is_unspecified()
            {
                addrs.push((me.clone(), addr));
            }
            let local_addr = o.local.map(|(a, _)| a);
            let (client, server, port, pair) = match o.side {
                Side::Client => (me, peer, peer_port, local_addr.map(|l| (l, peer_addr))),
                Side::Server => (peer, me, o.local.map_or(0, |(_, p)| p), local_addr.map(|l| (peer_addr, l))),
            };
            let t = tallies.entry((client, server, o.protocol.clone(), port)).or_default();
            match (o.ok, o.side) {
                (false, _) => t.failures += 1,
                (true, Side::Client) => t.client_ok += 1,
                (true, Side::Server) => t.server_ok += 1,
            }
            t.first = if t.first == 0 { o.time_ns } else { t.first.min(o.time_ns) };
            t.last = t.last.max(o.time_ns);
            if let Some(p) = pair {
                t.pairs.insert(p);
            }
        }
        for (id, name) in names {
            if let Some(n) = nodes.get_mut(&id) {
                n.names.insert(name);
            }
        }
        for (id, addr) in addrs {
            if let Some(n) = nodes.get_mut(&id)
                && !addr.is_loopback()
            {
                n.addresses.insert(addr);
            }
        }
        let edges = tallies
            .into_iter()
            .map(|((from, to, protocol, port), t)| Edge {
                from,
                to,
                protocol,
                port,
                // A connection seen from both ends shows once on each side.
                connections: t.client_ok.max(t.server_ok),
                failures: t.failures,
                first_seen_ns: t.first,
                last_seen_ns: t.last,
                bytes: None,
                packets: None,
                pairs: t.pairs,
            })
            .collect();
        Graph { nodes: nodes.into_values().collect(), edges }
    }

    /// Add bytes and packets from firewall flow counters (`palisade network firewall status`). A flow
    /// counts on the edge with its protocol and port whose address pairs include it; the same flow
    /// reported by both ends' firewalls is counted once.
    pub fn add_counters(&mut self, counters: &[FlowCounter]) {
        let unique: BTreeSet<&FlowCounter> = counters.iter().collect();
        let mut seen: BTreeSet<(IpAddr, IpAddr, &str, u16)> = BTreeSet::new();
        for c in unique {
            if !seen.insert((c.source, c.destination, c.protocol.as_str(), c.port)) {
                continue;
            }
            let edge = self.edges.iter_mut().find(|e| {
                e.protocol == c.protocol && e.port == c.port && e.pairs.contains(&(c.source, c.destination))
            });
            if let Some(e) = edge {
                *e.bytes.get_or_insert(0) += c.bytes;
                *e.packets.get_or_insert(0) += c.packets;
            }
        }
    }

    /// Graphviz DOT: workloads as boxes, external peers as ellipses, one labelled arrow per edge.
    pub fn to_dot(&self) -> String {
        let mut s = String::from("digraph connections {\n  rankdir=LR;\n");
        for n in &self.nodes {
            let shape = if n.kind == "workload" { "box" } else { "ellipse" };
            let mut label = n.id.strip_prefix("external:").unwrap_or(&n.id).to_string();
            if let Some(name) = n.names.iter().next() {
                label = format!("{name}\\n{label}");
            }
            let _ = writeln!(s, "  {} [shape={shape}, label={}];", quote(&n.id), quote_label(&label));
        }
        for e in &self.edges {
            let mut label = format!("{}/{} x{}", e.protocol, e.port, e.connections);
            if e.failures > 0 {
                let _ = write!(label, " ({} failed)", e.failures);
            }
            if let Some(b) = e.bytes {
                let _ = write!(label, " {b} B");
            }
            let style = if e.connections == 0 { ", style=dashed, color=red" } else { "" };
            let _ = writeln!(s, "  {} -> {} [label={}{style}];", quote(&e.from), quote(&e.to), quote(&label));
        }
        s.push_str("}\n");
        s
    }
}

/// A DOT quoted string (workload names come from pods and containers: quotes and backslashes escaped).
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Like [`quote`], but keeps the `\n` line breaks this module put in.
fn quote_label(text: &str) -> String {
    let parts: Vec<String> = text.split("\\n").map(|p| quote(p).trim_matches('"').to_string()).collect();
    format!("\"{}\"", parts.join("\\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An observation; `local` and `remote` are socket addresses (`10.0.0.2:40000`).
    fn obs(t: u64, w: &str, side: Side, local: &str, remote: &str, ok: bool) -> Observation {
        let local: std::net::SocketAddr = local.parse().unwrap();
        let remote: std::net::SocketAddr = remote.parse().unwrap();
        Observation {
            time_ns: t,
            workload: w.into(),
            side,
            protocol: "tcp".into(),
            local: Some((local.ip(), local.port())),
            remote: (remote.ip(), remote.port()),
            remote_name: None,
            ok,
        }
    }

    #[test]
    fn both_ends_of_a_connection_make_one_edge_and_externals_stay_external() {
        let o = [
            obs(10, "shop/web", Side::Client, "10.0.0.2:40000", "10.0.0.3:5432", true),
            obs(11, "shop/db", Side::Server, "[::ffff:10.0.0.3]:5432", "[::ffff:10.0.0.2]:40000", true),
            obs(20, "shop/web", Side::Client, "10.0.0.2:40001", "10.0.0.3:5432", true),
            obs(21, "shop/db", Side::Server, "10.0.0.3:5432", "10.0.0.2:40001", true),
            obs(30, "shop/web", Side::Client, "10.0.0.2:40002", "192.0.2.9:443", false),
        ];
        let mut g = Graph::build(&o);
        assert_eq!(g.nodes.len(), 3, "{:?}", g.nodes);
        assert_eq!(g.edges.len(), 2, "{:?}", g.edges);
        let db = g.edges.iter().find(|e| e.to == "shop/db").unwrap();
        assert_eq!((db.from.as_str(), db.port, db.connections, db.failures), ("shop/web", 5432, 2, 0));
        assert_eq!((db.first_seen_ns, db.last_seen_ns), (10, 21));
        let ext = g.edges.iter().find(|e| e.to == "external:192.0.2.9").unwrap();
        assert_eq!((ext.connections, ext.failures), (0, 1));
        g.add_counters(&[FlowCounter {
            source: "10.0.0.2".parse().unwrap(),
            destination: "10.0.0.3".parse().unwrap(),
            protocol: "tcp".into(),
            port: 5432,
            packets: 12,
            bytes: 900,
        }]);
        let db = g.edges.iter().find(|e| e.to == "shop/db").unwrap();
        assert_eq!((db.bytes, db.packets), (Some(900), Some(12)));
        let dot = g.to_dot();
        assert!(dot.contains("\"shop/web\" -> \"shop/db\" [label=\"tcp/5432 x2 900 B\"];"), "{dot}");
        assert!(dot.contains("style=dashed"), "{dot}");
    }

    #[test]
    fn dot_escapes_names() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c d\"");
    }
}
