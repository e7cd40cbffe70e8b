//! The L7 inspector: packets from NFQUEUE in, a verdict and alerts out.
//!
//! The inspector has no kernel dependency of its own: [`Inspector::handle`] takes one IP packet and
//! returns a [`Decision`]; [`nfqueue::run`] feeds it from the kernel. Per packet:
//!
//! 1. The packet is parsed ([`packet`]); packets of no policed workload ([`policy`]) pass untracked.
//! 2. Its flow is looked up in the bounded [`flow`] table. A blocked flow's packets are dropped.
//! 3. TCP payload is taken in sequence order: a retransmission passes, a segment after a gap is dropped
//!    in protect mode (the sender retransmits in order); in monitor mode it passes and is inspected, and
//!    the stream is followed from it (the hole is not inspected, and HTTP requests after it are no longer
//!    told apart: DLP goes on, per-request HTTP checks stop for that connection).
//! 4. Until the protocol is known, each direction's bytes are buffered and [`crate::protocol::detect`]
//!    asked; then the port rule (protocol must match the port), the HTTP rules (method, host, path), the
//!    TLS server name and the DNS names are checked. Later requests are checked too: every HTTP/2 and
//!    gRPC request (the connection's frames are followed with its HPACK state), every HTTP/1.x request
//!    (heads parsed, bodies skipped by their framing: pipelined requests are seen), and each DNS query.
//! 5. DLP sensors run on each segment's new bytes (plus the previous segment's last bytes, so that a
//!    value split between segments is found), up to a byte budget per direction; the WAF sensors (SQL
//!    injection, XSS) only on what the client sends.
//! 6. A violation raises an [`Event`]; in protect mode an L7 violation, and in any mode a DLP sensor whose
//!    action is `drop`, blocks the flow (this packet and every later one are dropped).
//!
//! Failing open is by design: the iptables rule uses `--queue-bypass` (no inspector bound: packets pass),
//! the queue is set to fail open when full, and a packet whose inspection exceeds the time budget passes
//! and stops inspection of its flow (counted in `palisade_l7_over_budget`).

pub mod flow;
pub mod nfqueue;
pub mod packet;
pub mod policy;

use crate::dlp::{Dlp, SensorId};
use crate::protocol::{self, AppProtocol, Detection, FlowBytes, HttpRequest, Info, Transport};
use flow::{FlowKey, FlowTable, Side, Status};
use packet::{Packet, Parsed};
use policy::{DlpAction, Mode, Policy, Workload};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Bytes of the previous segment scanned again with the next one.
const DLP_OVERLAP: usize = 64;

/// Limits of the inspector.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Flows tracked at once.
    pub max_flows: usize,
    /// A flow idle this long is forgotten.
    pub idle: Duration,
    /// DLP bytes scanned per flow direction.
    pub dlp_bytes: usize,
    /// Inspection time per packet after which the flow passes uninspected.
    pub budget: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_flows: 65_536,
            idle: Duration::from_secs(300),
            dlp_bytes: 1024 * 1024,
            budget: Duration::from_millis(5),
        }
    }
}

/// A rule violation or a DLP match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Stable rule name (response rules match it): `L7 HTTP request not allowed`, `DLP card`, ….
    pub rule: String,
    /// Falco priority name.
    pub priority: &'static str,
    pub workload: String,
    /// `alert` or `drop`: what was done to the flow.
    pub action: &'static str,
    pub message: String,
    pub transport: Transport,
    pub client: String,
    pub server: String,
    pub protocol: Option<AppProtocol>,
    /// Rule-specific fields (`http.method`, `http.path`, `tls.sni`, `dlp.sensor`, `dlp.preview`, …).
    pub fields: BTreeMap<String, String>,
}

/// The verdict on one packet and what it raised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    pub drop: bool,
    pub events: Vec<Event>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    verdict: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProtocolLabels {
    protocol: &'static str,
}

/// The inspector's counters (OpenMetrics, prefix `palisade_l7`).
pub struct Metrics {
    registry: Registry,
    packets: Family<VerdictLabels, Counter>,
    /// The two `packets` series, held so that a packet costs no label lookup.
    accepted: Counter,
    dropped: Counter,
    events: Family<RuleLabels, Counter>,
    detected: Family<ProtocolLabels, Counter>,
    untracked: Counter,
    malformed: Counter,
    out_of_order: Counter,
    over_budget: Counter,
    inspect_seconds: Histogram,
    flows: Gauge,
    evicted: Gauge,
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("palisade_l7");
        let m = Metrics {
            packets: Family::default(),
            accepted: Counter::default(),
            dropped: Counter::default(),
            events: Family::default(),
            detected: Family::default(),
            untracked: Counter::default(),
            malformed: Counter::default(),
            out_of_order: Counter::default(),
            over_budget: Counter::default(),
            // 1 µs to about 0.5 s.
            inspect_seconds: Histogram::new(exponential_buckets(1e-6, 4.0, 10)),
            flows: Gauge::default(),
            evicted: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("packets", "Packets judged, by verdict", m.packets.clone());
        registry.register("events", "Violations and DLP matches, by rule", m.events.clone());
        registry.register(
            "flows_detected",
            "Flows whose protocol was decided, by protocol",
            m.detected.clone(),
        );
        registry.register(
            "untracked",
            "Packets of no policed workload, not TCP/UDP, or fragments",
            m.untracked.clone(),
        );
        registry.register("malformed", "Packets that are not valid IP", m.malformed.clone());
        registry.register(
            "out_of_order",
            "TCP segments after a gap (dropped in protect mode)",
            m.out_of_order.clone(),
        );
        registry.register(
            "over_budget",
            "Packets whose inspection exceeded the time budget",
            m.over_budget.clone(),
        );
        registry.register(
            "inspect_seconds",
            "Time spent judging one packet in user space",
            m.inspect_seconds.clone(),
        );
        registry.register("flows", "Flows in the table", m.flows.clone());
        registry.register("flows_evicted", "Flows forgotten (idle or table full)", m.evicted.clone());
        let accepted = m.packets.get_or_create(&VerdictLabels { verdict: "accept" }).clone();
        let dropped = m.packets.get_or_create(&VerdictLabels { verdict: "drop" }).clone();
        Metrics { registry, accepted, dropped, ..m }
    }

    /// OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// The L7 inspector.
pub struct Inspector {
    policy: Policy,
    dlp: Dlp,
    flows: FlowTable,
    limits: Limits,
    pub metrics: std::sync::Arc<Metrics>,
}

/// A violation found while looking at one packet.
struct Violation {
    rule: String,
    priority: &'static str,
    drop: bool,
    message: String,
    fields: BTreeMap<String, String>,
}

impl Inspector {
    pub fn new(policy: Policy, limits: Limits) -> Result<Inspector, String> {
        let dlp = Dlp::new(&policy.sensors())?;
        Ok(Inspector {
            flows: FlowTable::new(limits.max_flows, limits.idle),
            policy,
            dlp,
            limits,
            metrics: std::sync::Arc::new(Metrics::new()),
        })
    }

    pub fn flow_count(&self) -> usize {
        self.flows.len()
    }

    /// Judge one IP packet.
    pub fn handle(&mut self, data: &[u8], now: Instant) -> Decision {
        let started = Instant::now();
        let d = match packet::parse(data) {
            Parsed::Packet(p) => self.packet(&p, now),
            Parsed::Other => {
                self.metrics.untracked.inc();
                Decision::default()
            }
            Parsed::Malformed => {
                self.metrics.malformed.inc();
                Decision::default()
            }
        };
        if d.drop {
            self.metrics.dropped.inc()
        } else {
            self.metrics.accepted.inc()
        };
        for e in &d.events {
            self.metrics.events.get_or_create(&RuleLabels { rule: e.rule.clone() }).inc();
        }
        self.metrics.flows.set(self.flows.len() as i64);
        self.metrics.evicted.set(self.flows.evicted as i64);
        self.metrics.inspect_seconds.observe(started.elapsed().as_secs_f64());
        d
    }

    fn packet(&mut self, p: &Packet<'_>, now: Instant) -> Decision {
        let start = Instant::now();
        // Orientation for the workload lookup only: the flow table decides the real one.
        let Some(workload) = self.policy.workload_of(p.src, p.dst) else {
            self.metrics.untracked.inc();
            return Decision::default();
        };
        let (key, to_server) = self.flows.lookup(p, workload, now);
        let Some(flow) = self.flows.get_mut(&key) else { return Decision::default() };
        flow.last_seen = now;
        if p.fin {
            flow.closing = true;
        }
        match flow.status {
            Status::Blocked => return Decision { drop: true, events: Vec::new() },
            Status::Passed => return Decision::default(),
            Status::Inspecting => {}
        }
        let Some(w) = self.policy.workloads.get(flow.workload) else { return Decision::default() };
        // In-order new bytes of this segment.
        let side = if to_server { &mut flow.client } else { &mut flow.server };
        let new = match in_order(side, p) {
            Order::New(bytes) => bytes,
            Order::Old => return Decision::default(),
            Order::Gap => {
                self.metrics.out_of_order.inc();
                if w.mode == Mode::Protect {
                    return Decision { drop: true, events: Vec::new() };
                }
                // Monitor mode lets it through: follow the stream from here on (the hole is not
                // inspected; its bytes, when they come, are old).
                side.next_seq = Some(p.seq.wrapping_add(p.payload.len() as u32));
                if to_server {
                    // Request boundaries are lost with the hole.
                    flow.requests = None;
                }
                p.payload
            }
        };
        let mut violations = Vec::new();
        if !new.is_empty() {
            if flow.detection.is_none() {
                detect_more(flow, to_server, new, p, &key);
                if let Some(d) = &flow.detection {
                    self.metrics
                        .detected
                        .get_or_create(&ProtocolLabels { protocol: d.protocol.name() })
                        .inc();
                    check_detection(w, key.server.1, d, &mut violations);
                    if let Some(mut stream) = flow::Requests::for_protocol(d.protocol) {
                        // Follow the connection from its start; the first request was just checked.
                        for req in stream.feed(&flow.client.buf).into_iter().skip(1) {
                            check_http(w, &req, &mut violations);
                        }
                        flow.requests = Some(stream);
                    }
                    flow.client.buf = Vec::new();
                    flow.server.buf = Vec::new();
                }
            } else if to_server {
                if let Some(stream) = flow.requests.as_mut() {
                    let was_broken = stream.broken();
                    for req in stream.feed(new) {
                        check_http(w, &req, &mut violations);
                    }
                    if stream.broken() && !was_broken && w.has_http_rules() {
                        violations.push(l7(
                            w,
                            RULE_HTTP,
                            "HTTP request stream cannot be followed (malformed or oversized request)".into(),
                            BTreeMap::from([("http.stream".into(), "unparseable".into())]),
                        ));
                    }
                } else {
                    check_later_query(w, flow.detection.as_ref(), p.transport, new, &mut violations);
                }
            }
            let side = if to_server { &mut flow.client } else { &mut flow.server };
            scan_dlp(&self.dlp, w, side, new, to_server, self.limits.dlp_bytes, &mut violations);
        }
        if p.rst && p.transport == Transport::Tcp && violations.is_empty() {
            self.flows.remove(&key);
            return Decision::default();
        }
        let drop = violations.iter().any(|v| v.drop);
        let protocol = self.flows.get_mut(&key).and_then(|f| {
            if drop {
                f.status = Status::Blocked;
            } else if start.elapsed() > self.limits.budget {
                f.status = Status::Passed;
            }
            f.detection.as_ref().map(|d| d.protocol)
        });
        if !drop && start.elapsed() > self.limits.budget {
            self.metrics.over_budget.inc();
        }
        let events = violations
            .into_iter()
            .map(|v| Event {
                rule: v.rule,
                priority: v.priority,
                workload: w.name.clone(),
                action: if v.drop { "drop" } else { "alert" },
                message: v.message,
                transport: key.transport,
                client: endpoint(key.client),
                server: endpoint(key.server),
                protocol,
                fields: v.fields,
            })
            .collect();
        Decision { drop, events }
    }
}

fn endpoint((ip, port): (std::net::IpAddr, u16)) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => format!("{v4}:{port}"),
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

enum Order<'a> {
    New(&'a [u8]),
    /// Already seen (retransmission).
    Old,
    /// After a gap.
    Gap,
}

/// Sequence-number order for TCP (UDP datagrams are always new).
fn in_order<'a>(side: &mut Side, p: &Packet<'a>) -> Order<'a> {
    if p.transport == Transport::Udp {
        return Order::New(p.payload);
    }
    if p.syn {
        side.next_seq = Some(p.seq.wrapping_add(1));
        return Order::New(&[]);
    }
    if p.payload.is_empty() {
        return Order::New(&[]);
    }
    let next = *side.next_seq.get_or_insert(p.seq);
    let len = p.payload.len() as u32;
    let offset = next.wrapping_sub(p.seq);
    // `offset` is how far into this segment the new bytes start (0 = exactly in order).
    if offset == 0 {
        side.next_seq = Some(next.wrapping_add(len));
        Order::New(p.payload)
    } else if offset < len {
        side.next_seq = Some(p.seq.wrapping_add(len));
        Order::New(&p.payload[offset as usize..])
    } else if offset < (1 << 31) {
        Order::Old
    } else {
        Order::Gap
    }
}

/// Buffer `new` and ask the detectors.
fn detect_more(flow: &mut flow::FlowState, to_server: bool, new: &[u8], p: &Packet<'_>, key: &FlowKey) {
    let side = if to_server { &mut flow.client } else { &mut flow.server };
    let room = protocol::MAX_DETECT_BYTES.saturating_sub(side.buf.len());
    side.buf.extend_from_slice(&new[..new.len().min(room)]);
    let bytes = FlowBytes {
        transport: p.transport,
        port: key.server.1,
        client: &flow.client.buf,
        server: &flow.server.buf,
    };
    // A UDP flow's first datagram in each direction is all there is to look at.
    let done = p.transport == Transport::Udp;
    flow.detection = protocol::detect(&bytes, done);
}

fn l7(w: &Workload, rule: &str, message: String, fields: BTreeMap<String, String>) -> Violation {
    Violation { rule: rule.into(), priority: "Warning", drop: w.mode == Mode::Protect, message, fields }
}

pub const RULE_PORT: &str = "L7 protocol does not match port";
pub const RULE_HTTP: &str = "L7 HTTP request not allowed";
pub const RULE_TLS: &str = "L7 TLS server name not allowed";
pub const RULE_DNS: &str = "L7 DNS name not allowed";

fn check_detection(w: &Workload, port: u16, d: &Detection, out: &mut Vec<Violation>) {
    if !w.port_allows(port, d.protocol) {
        let allowed = w.ports.get(&port).map(|n| n.join(", ")).unwrap_or_default();
        out.push(l7(
            w,
            RULE_PORT,
            format!("{} on port {port}, which carries {allowed}", d.protocol),
            BTreeMap::from([("port".into(), port.to_string()), ("allowed".into(), allowed)]),
        ));
    }
    match &d.info {
        Info::Http(req) => check_http(w, req, out),
        Info::Tls { sni, .. } => {
            let name = sni.as_deref().unwrap_or("");
            if !w.sni.allows(name) {
                out.push(l7(
                    w,
                    RULE_TLS,
                    format!("TLS server name {:?} not allowed", name),
                    BTreeMap::from([("tls.sni".into(), name.to_string())]),
                ));
            }
        }
        Info::Dns { names } => check_dns(w, names, out),
        _ => {}
    }
}

fn check_http(w: &Workload, req: &HttpRequest, out: &mut Vec<Violation>) {
    let method = req.method.as_deref().unwrap_or("");
    let host = req.host.as_deref().unwrap_or("");
    let full_path = req.path.as_deref().unwrap_or("");
    let path = full_path.split('?').next().unwrap_or("");
    let reason = if !w.method_allowed(method) {
        Some(format!("method {method:?}"))
    } else if !w.hosts.allows(host) {
        Some(format!("host {host:?}"))
    } else if !w.paths.allows(path) {
        Some(format!("path {path:?}"))
    } else {
        None
    };
    if let Some(reason) = reason {
        out.push(l7(
            w,
            RULE_HTTP,
            format!("HTTP {method} {host}{full_path}: {reason} not allowed"),
            BTreeMap::from([
                ("http.method".into(), method.to_string()),
                ("http.host".into(), host.to_string()),
                ("http.path".into(), full_path.to_string()),
            ]),
        ));
    }
}

fn check_dns(w: &Workload, names: &[String], out: &mut Vec<Violation>) {
    for name in names {
        if !w.dns.allows(name) {
            out.push(l7(
                w,
                RULE_DNS,
                format!("DNS query for {name:?} not allowed"),
                BTreeMap::from([("dns.name".into(), name.clone())]),
            ));
        }
    }
}

/// Every DNS query after the first (UDP: one per datagram; TCP: one per segment, after its length).
fn check_later_query(
    w: &Workload,
    d: Option<&Detection>,
    transport: Transport,
    new: &[u8],
    out: &mut Vec<Violation>,
) {
    if d.map(|d| d.protocol) != Some(AppProtocol::Dns) {
        return;
    }
    let msg = if transport == Transport::Tcp { new.get(2..).unwrap_or_default() } else { new };
    if let Some(names) = protocol::dns::query_names(msg) {
        check_dns(w, &names, out);
    }
}

fn dlp_priority(s: SensorId) -> &'static str {
    match s {
        SensorId::Card | SensorId::Ssn | SensorId::Iban | SensorId::Secret => "Critical",
        SensorId::Sqli | SensorId::Xss => "Error",
        SensorId::Email => "Notice",
    }
}

/// The rule name of a DLP sensor's matches.
pub fn dlp_rule(s: SensorId) -> String {
    format!("DLP {s}")
}

/// DLP on new bytes of one direction; the WAF sensors only on client → server bytes.
fn scan_dlp(
    dlp: &Dlp,
    w: &Workload,
    side: &mut Side,
    new: &[u8],
    to_server: bool,
    limit: usize,
    out: &mut Vec<Violation>,
) {
    if w.dlp.is_empty() || side.scanned >= limit {
        return;
    }
    let take = new.len().min(limit - side.scanned);
    let new = &new[..take];
    side.scanned += take;
    let mut window = std::mem::take(&mut side.tail);
    let carried = window.len();
    window.extend_from_slice(new);
    for f in dlp.scan_with(&window, to_server) {
        // Matches wholly inside the carried bytes were reported with the previous segment.
        if f.end <= carried {
            continue;
        }
        let Some(action) = w.dlp.get(&f.sensor) else { continue };
        out.push(Violation {
            rule: dlp_rule(f.sensor),
            priority: dlp_priority(f.sensor),
            drop: *action == DlpAction::Drop,
            message: format!("{} ({}) in flow: {}", f.sensor, f.signature, f.preview),
            fields: BTreeMap::from([
                ("dlp.sensor".into(), f.sensor.to_string()),
                ("dlp.signature".into(), f.signature),
                ("dlp.preview".into(), f.preview),
            ]),
        });
    }
    let keep = window.len().min(DLP_OVERLAP);
    side.tail = window[window.len() - keep..].to_vec();
}

#[cfg(test)]
mod tests {
    use super::*;
    use packet::build;

    const CLIENT: [u8; 4] = [10, 77, 0, 1];
    const SERVER: [u8; 4] = [10, 77, 0, 2];

    /// The default limits with a time budget no loaded debug build exceeds: these tests are about what is
    /// inspected, and a packet over the 5 ms default passes uninspected (fail-open) and ends its flow's
    /// inspection, which made them fail under load.
    fn patient() -> Limits {
        Limits { budget: Duration::from_secs(60), ..Limits::default() }
    }

    fn inspector(mode: &str) -> Inspector {
        let text = include_str!("../../fixtures/inspect/policy.yaml")
            .replace("mode: protect", &format!("mode: {mode}"));
        Inspector::new(Policy::parse(&text).unwrap(), patient()).unwrap()
    }

    /// SYN, then `payload` in one segment from the client; the decision on the payload.
    fn request(i: &mut Inspector, sport: u16, payload: &[u8]) -> Decision {
        let now = Instant::now();
        let syn = build::tcp(CLIENT, SERVER, sport, 8080, 100, true, b"");
        assert_eq!(i.handle(&syn, now), Decision::default());
        i.handle(&build::tcp(CLIENT, SERVER, sport, 8080, 101, false, payload), now)
    }

    #[test]
    fn allowed_http_path_passes_and_forbidden_one_is_dropped_in_protect_mode() {
        let mut i = inspector("protect");
        let ok = request(&mut i, 40001, b"GET /api/v1/items HTTP/1.1\r\nHost: web.example\r\n\r\n");
        assert_eq!(ok, Decision::default());
        let bad = request(&mut i, 40002, b"GET /admin HTTP/1.1\r\nHost: web.example\r\n\r\n");
        assert!(bad.drop);
        assert_eq!(bad.events[0].rule, RULE_HTTP);
        assert_eq!(bad.events[0].fields["http.path"], "/admin");
        // The flow stays blocked, in both directions.
        let next = build::tcp(SERVER, CLIENT, 8080, 40002, 9, false, b"HTTP/1.1 200 OK\r\n\r\n");
        assert!(i.handle(&next, Instant::now()).drop);
        assert!(
            i.metrics.encode().contains("palisade_l7_events_total{rule=\"L7 HTTP request not allowed\"} 1")
        );
    }

    #[test]
    fn monitor_mode_alerts_without_dropping() {
        let mut i = inspector("monitor");
        let d = request(&mut i, 40003, b"DELETE /api/x HTTP/1.1\r\nHost: web.example\r\n\r\n");
        assert!(!d.drop);
        assert_eq!(d.events[0].action, "alert");
    }

    #[test]
    fn keep_alive_requests_are_each_checked() {
        let mut i = inspector("protect");
        let first = b"GET /healthz HTTP/1.1\r\nHost: web.example\r\n\r\n";
        assert!(!request(&mut i, 40004, first).drop);
        let second = build::tcp(
            CLIENT,
            SERVER,
            40004,
            8080,
            101 + first.len() as u32,
            false,
            b"GET /admin HTTP/1.1\r\nHost: web.example\r\n\r\n",
        );
        assert!(i.handle(&second, Instant::now()).drop);
    }

    #[test]
    fn card_number_in_a_body_split_across_segments_is_dropped() {
        let mut i = inspector("monitor");
        let head = b"POST /api/pay HTTP/1.1\r\nHost: web.example\r\nContent-Length: 30\r\n\r\ncard=4111 1111";
        assert!(!request(&mut i, 40005, head).drop);
        let rest = build::tcp(CLIENT, SERVER, 40005, 8080, 101 + head.len() as u32, false, b" 1111 1111&x=1");
        let d = i.handle(&rest, Instant::now());
        assert!(d.drop, "card: drop applies in monitor mode too");
        assert_eq!(d.events[0].rule, "DLP card");
        assert_eq!(d.events[0].fields["dlp.preview"], "************1111");
    }

    #[test]
    fn ssn_only_alerts_and_protocol_must_match_the_port() {
        let mut i = inspector("protect");
        let d = request(&mut i, 40006, b"POST /api/x HTTP/1.1\r\nHost: web.example\r\n\r\nssn=123-45-6789");
        assert!(!d.drop);
        assert_eq!(d.events[0].rule, "DLP ssn");
        let d = request(&mut i, 40007, b"SSH-2.0-OpenSSH_9.2\r\n");
        assert!(d.drop);
        assert_eq!(d.events[0].rule, RULE_PORT);
    }

    #[test]
    fn a_segment_after_a_gap_is_dropped_in_protect_mode_and_retransmissions_pass() {
        let mut i = inspector("protect");
        let now = Instant::now();
        i.handle(&build::tcp(CLIENT, SERVER, 40008, 8080, 100, true, b""), now);
        let gap = build::tcp(CLIENT, SERVER, 40008, 8080, 500, false, b"GET /admin HTTP/1.1\r\n\r\n");
        assert!(i.handle(&gap, now).drop);
        let first = build::tcp(
            CLIENT,
            SERVER,
            40008,
            8080,
            101,
            false,
            b"GET /api/a HTTP/1.1\r\nHost: web.example\r\n\r\n",
        );
        assert!(!i.handle(&first, now).drop);
        assert!(!i.handle(&first, now).drop, "retransmission");
    }

    #[test]
    fn other_workloads_and_garbage_pass_untracked() {
        let mut i = inspector("protect");
        let other = build::tcp([10, 1, 1, 1], [10, 1, 1, 2], 1, 80, 1, false, b"GET /admin HTTP/1.1\r\n\r\n");
        assert_eq!(i.handle(&other, Instant::now()), Decision::default());
        assert_eq!(i.handle(b"\x00garbage", Instant::now()), Decision::default());
        assert_eq!(i.flow_count(), 0);
    }

    #[test]
    fn dns_names_are_checked_per_datagram() {
        let text = "workloads:\n  - name: dns-client\n    addresses: [10.77.0.1/32]\n    mode: protect\n    dns: { names: [\"*.svc.cluster.local\"] }\n";
        let mut i = Inspector::new(Policy::parse(text).unwrap(), patient()).unwrap();
        let q = |name: &str| {
            let mut m = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
            for l in name.split('.') {
                m.push(l.len() as u8);
                m.extend_from_slice(l.as_bytes());
            }
            m.extend_from_slice(&[0, 0, 1, 0, 1]);
            build::udp(CLIENT, [10, 96, 0, 10], 5000, 53, &m)
        };
        assert!(!i.handle(&q("api.shop.svc.cluster.local"), Instant::now()).drop);
        let d = i.handle(&q("exfil.evil.example"), Instant::now());
        assert!(d.drop);
        assert_eq!(d.events[0].fields["dns.name"], "exfil.evil.example");
    }

    #[test]
    fn hostile_packets_never_panic() {
        let mut i = inspector("protect");
        let now = Instant::now();
        let samples = [
            build::tcp(CLIENT, SERVER, 40100, 8080, 100, true, b""),
            build::tcp(
                CLIENT,
                SERVER,
                40100,
                8080,
                101,
                false,
                b"POST /api/x HTTP/1.1\r\nHost: web.example\r\n\r\ncard=4111111111111111",
            ),
            build::tcp(SERVER, CLIENT, 8080, 40100, 5, false, b"HTTP/1.1 200 OK\r\n\r\n"),
            build::udp(CLIENT, SERVER, 5353, 53, include_bytes!("../../fixtures/protocol/dns.bin")),
            build::tcp(
                CLIENT,
                SERVER,
                40101,
                8080,
                1,
                false,
                include_bytes!("../../fixtures/protocol/tls13.bin"),
            ),
        ];
        let mut x = 0x853c_49e6_748f_ea9bu64;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..4000 {
            let mut p = samples[round % samples.len()].clone();
            for _ in 0..(rnd() % 6) {
                let at = (rnd() as usize) % p.len();
                p[at] = rnd() as u8;
            }
            let cut = (rnd() as usize) % (p.len() + 1);
            let _ = i.handle(&p[..cut], now);
            let _ = i.handle(&p, now);
        }
    }

    #[test]
    fn every_http2_request_on_a_connection_is_checked() {
        let mut i = inspector("protect");
        let mut enc = loona_hpack::Encoder::new();
        let mut head = |path: &str, stream: u8| {
            let block = enc.encode([
                (&b":method"[..], &b"POST"[..]),
                (&b":authority"[..], &b"web.example"[..]),
                (&b":path"[..], path.as_bytes()),
                (&b"content-type"[..], &b"application/grpc"[..]),
            ]);
            let mut f = (block.len() as u32).to_be_bytes()[1..].to_vec();
            f.extend_from_slice(&[1, 0x4, 0, 0, 0, stream]);
            f.extend_from_slice(&block);
            f
        };
        let mut first = protocol::http2::PREFACE.to_vec();
        first.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
        first.extend(head("/api/Shop/List", 1));
        let d = request(&mut i, 40200, &first);
        assert_eq!(d, Decision::default(), "allowed first call");
        let second = head("/admin/Shop/DropAll", 3);
        let seg = build::tcp(CLIENT, SERVER, 40200, 8080, 101 + first.len() as u32, false, &second);
        let d = i.handle(&seg, Instant::now());
        assert!(d.drop, "a forbidden later call on the same connection");
        assert_eq!(d.events[0].fields["http.path"], "/admin/Shop/DropAll");
        assert_eq!(d.events[0].protocol, Some(AppProtocol::Grpc));
    }

    #[test]
    fn a_pipelined_request_after_a_body_is_checked() {
        let mut i = inspector("protect");
        let two = b"POST /api/a HTTP/1.1\r\nHost: web.example\r\nContent-Length: 4\r\n\r\nabcdGET /admin HTTP/1.1\r\nHost: web.example\r\n\r\n";
        let d = request(&mut i, 40300, two);
        assert!(d.drop);
        assert_eq!(d.events[0].fields["http.path"], "/admin");
    }

    #[test]
    fn a_request_stream_that_stops_being_http_is_a_violation() {
        let mut i = inspector("protect");
        let first = b"GET /api/a HTTP/1.1\r\nHost: web.example\r\n\r\n";
        assert!(!request(&mut i, 40301, first).drop);
        let junk =
            build::tcp(CLIENT, SERVER, 40301, 8080, 101 + first.len() as u32, false, b"\x00\x00junk\r\n\r\n");
        let d = i.handle(&junk, Instant::now());
        assert!(d.drop);
        assert_eq!(d.events[0].fields["http.stream"], "unparseable");
    }

    #[test]
    fn monitor_mode_resyncs_after_a_gap_and_keeps_inspecting() {
        let mut i = inspector("monitor");
        let now = Instant::now();
        let first = b"GET /api/a HTTP/1.1\r\nHost: web.example\r\n\r\n";
        assert!(request(&mut i, 40400, first).events.is_empty());
        // A segment arrives 100 bytes ahead of where the stream is, then one right after it.
        let gap_at = 101 + first.len() as u32 + 100;
        let gapped = build::tcp(CLIENT, SERVER, 40400, 8080, gap_at, false, b"ssn=123-45-6789 ");
        let d = i.handle(&gapped, now);
        assert!(!d.drop);
        assert_eq!(d.events[0].rule, "DLP ssn", "the gapped segment is inspected");
        let next = build::tcp(CLIENT, SERVER, 40400, 8080, gap_at + 16, false, b"ssn=234-56-7890 ");
        assert_eq!(i.handle(&next, now).events[0].rule, "DLP ssn", "and the stream after it");
    }

    #[test]
    fn ipv6_flows_are_policed_like_ipv4_ones() {
        let text = "workloads:\n  - name: v6\n    addresses: [\"fd00::2/128\"]\n    mode: protect\n    http: { paths: [\"/api/*\"] }\n";
        let mut i = Inspector::new(Policy::parse(text).unwrap(), patient()).unwrap();
        let (client, server) = (
            [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        );
        let packet = |seq: u32, syn: bool, payload: &[u8]| {
            let mut b = etherparse::PacketBuilder::ipv6(client, server, 64).tcp(40500, 80, seq, 64240);
            b = if syn { b.syn() } else { b.ack(1) };
            let mut out = Vec::new();
            b.write(&mut out, payload).unwrap();
            out
        };
        let now = Instant::now();
        assert!(!i.handle(&packet(1, true, b""), now).drop);
        let d = i.handle(&packet(2, false, b"GET /etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"), now);
        assert!(d.drop);
        assert_eq!(
            (d.events[0].client.as_str(), d.events[0].server.as_str()),
            ("[fd00::1]:40500", "[fd00::2]:80")
        );
    }
}
