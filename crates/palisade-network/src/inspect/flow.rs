//! The inspector's flow table: one entry per TCP connection or UDP conversation of a policed workload,
//! bounded in size. Entries idle longer than the idle timeout (30 s at most for UDP, 5 s once a FIN was
//! seen) are swept; when the table is full the least recently seen sixteenth is evicted (a forgotten flow's
//! next packet starts a new entry, inspected from there: a flow is not blocked by being forgotten, and a
//! blocked flow forgotten this way can resume — the table size is the bound on that).

use super::packet::Packet;
use crate::protocol::{Detection, Transport};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// A flow's identity, oriented client → server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub transport: Transport,
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
}

/// Where a flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Inspecting,
    /// A violation in protect mode, or a DLP drop: every further packet is dropped.
    Blocked,
    /// No longer inspected (over the time budget): every further packet is accepted.
    Passed,
}

/// One direction of a flow.
#[derive(Debug, Default)]
pub struct Side {
    /// Stream bytes kept for protocol detection (until detected).
    pub buf: Vec<u8>,
    /// Next expected TCP sequence number.
    pub next_seq: Option<u32>,
    /// Bytes scanned by DLP so far.
    pub scanned: usize,
    /// The end of the previous segment, scanned again with the next one so that a value split between
    /// segments is found.
    pub tail: Vec<u8>,
}

#[derive(Debug)]
pub struct FlowState {
    pub workload: usize,
    pub client: Side,
    pub server: Side,
    pub detection: Option<Detection>,
    /// HTTP/1.x, HTTP/2 and gRPC: the client side followed request by request.
    pub requests: Option<Requests>,
    pub status: Status,
    pub last_seen: Instant,
    pub closing: bool,
}

/// An HTTP connection's client side, followed request by request.
#[derive(Debug)]
pub enum Requests {
    Http1(crate::protocol::http1::Stream),
    Http2(Box<crate::protocol::http2::Stream>),
}

impl Requests {
    /// For a flow just detected as `protocol`.
    pub fn for_protocol(protocol: crate::protocol::AppProtocol) -> Option<Requests> {
        use crate::protocol::{AppProtocol, http1};
        match protocol {
            AppProtocol::Http1 => Some(Requests::Http1(http1::Stream::new())),
            AppProtocol::Http2 | AppProtocol::Grpc => Some(Requests::Http2(Box::default())),
            _ => None,
        }
    }

    /// Whether the stream can no longer be followed.
    pub fn broken(&self) -> bool {
        match self {
            Requests::Http1(s) => s.broken,
            Requests::Http2(s) => s.broken,
        }
    }

    /// Feed client bytes in order; the request heads they completed.
    pub fn feed(&mut self, data: &[u8]) -> Vec<crate::protocol::HttpRequest> {
        match self {
            Requests::Http1(s) => s.feed(data),
            Requests::Http2(s) => s.feed(data),
        }
    }
}

/// Bounded flow table.
#[derive(Debug)]
pub struct FlowTable {
    map: HashMap<FlowKey, FlowState>,
    max: usize,
    idle: Duration,
    pub evicted: u64,
    since_sweep: u32,
}

/// Idle time after which a closing (FIN seen) flow is forgotten.
const CLOSING_IDLE: Duration = Duration::from_secs(5);
const SWEEP_EVERY: u32 = 4096;
/// Idle time after which a UDP conversation (a DNS query and its answer) is forgotten.
const UDP_IDLE: Duration = Duration::from_secs(30);

impl FlowTable {
    pub fn new(max: usize, idle: Duration) -> FlowTable {
        FlowTable { map: HashMap::new(), max: max.max(1), idle, evicted: 0, since_sweep: 0 }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The flow of `p` and whether `p` goes client → server; a new flow is created with `workload` (the
    /// sender of a first packet that is not a SYN-ACK is taken as the client).
    pub fn lookup(&mut self, p: &Packet<'_>, workload: usize, now: Instant) -> (FlowKey, bool) {
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP_EVERY {
            self.since_sweep = 0;
            self.sweep(now);
        }
        let forward = FlowKey { transport: p.transport, client: (p.src, p.sport), server: (p.dst, p.dport) };
        let reverse = FlowKey { transport: p.transport, client: (p.dst, p.dport), server: (p.src, p.sport) };
        if self.map.contains_key(&forward) {
            return (forward, true);
        }
        if self.map.contains_key(&reverse) {
            return (reverse, false);
        }
        let (key, to_server) = if p.syn && p.ack { (reverse, false) } else { (forward, true) };
        if self.map.len() >= self.max {
            self.sweep(now);
            if self.map.len() >= self.max {
                self.evict_oldest();
            }
        }
        self.map.insert(
            key,
            FlowState {
                workload,
                client: Side::default(),
                server: Side::default(),
                detection: None,
                requests: None,
                status: Status::Inspecting,
                last_seen: now,
                closing: false,
            },
        );
        (key, to_server)
    }

    pub fn get_mut(&mut self, key: &FlowKey) -> Option<&mut FlowState> {
        self.map.get_mut(key)
    }

    pub fn remove(&mut self, key: &FlowKey) {
        self.map.remove(key);
    }

    fn sweep(&mut self, now: Instant) {
        let idle = self.idle;
        let before = self.map.len();
        self.map.retain(|k, f| {
            let limit = if f.closing {
                CLOSING_IDLE.min(idle)
            } else if k.transport == Transport::Udp {
                UDP_IDLE.min(idle)
            } else {
                idle
            };
            now.saturating_duration_since(f.last_seen) < limit
        });
        self.evicted += (before - self.map.len()) as u64;
    }

    /// Forget the least recently seen sixteenth of the table (at least one flow), so that a full table
    /// costs one pass per many new flows rather than one per new flow.
    fn evict_oldest(&mut self) {
        let mut ages: Vec<(Instant, FlowKey)> = self.map.iter().map(|(k, f)| (f.last_seen, *k)).collect();
        let n = (ages.len() / 16).max(1).min(ages.len());
        if n < ages.len() {
            ages.select_nth_unstable_by_key(n, |(t, _)| *t);
        }
        for (_, k) in ages.iter().take(n) {
            self.map.remove(k);
        }
        self.evicted += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::packet::{Parsed, build, parse};

    fn pkt(raw: &[u8]) -> Packet<'_> {
        match parse(raw) {
            Parsed::Packet(p) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn both_directions_share_one_entry_and_the_table_is_bounded() {
        let t0 = Instant::now();
        let mut t = FlowTable::new(2, Duration::from_secs(60));
        let a = build::tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80, 1, true, b"");
        let b = build::tcp([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000, 1, false, b"x");
        let (k1, fwd) = t.lookup(&pkt(&a), 0, t0);
        assert!(fwd);
        let (k2, fwd) = t.lookup(&pkt(&b), 0, t0);
        assert_eq!((k1, fwd), (k2, false));
        for port in 1..10u16 {
            let p = build::tcp([10, 0, 0, 1], [10, 0, 0, 2], port, 80, 1, true, b"");
            let _ = t.lookup(&pkt(&p), 0, t0 + Duration::from_millis(u64::from(port)));
        }
        assert_eq!(t.len(), 2);
        assert_eq!(t.evicted, 8);
    }

    #[test]
    fn idle_flows_are_swept() {
        let t0 = Instant::now();
        let mut t = FlowTable::new(1, Duration::from_secs(1));
        let a = build::udp([10, 0, 0, 1], [10, 0, 0, 2], 1, 53, b"q");
        let b = build::udp([10, 0, 0, 1], [10, 0, 0, 2], 2, 53, b"q");
        t.lookup(&pkt(&a), 0, t0);
        t.lookup(&pkt(&b), 0, t0 + Duration::from_secs(2));
        assert_eq!((t.len(), t.evicted), (1, 1));
    }
}
