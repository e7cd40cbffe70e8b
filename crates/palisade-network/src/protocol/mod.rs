//! Application protocol detection on the first bytes of a flow.
//!
//! A detector (one file each, registered once in [`DETECTORS`]) looks at the bytes the client sent and
//! the bytes the server sent so far ([`FlowBytes`]) and answers [`Outcome::Match`] with what it read
//! (HTTP method, host and path, TLS SNI and version, DNS query names, …), [`Outcome::NeedMore`] when the
//! bytes so far are a valid beginning of its protocol but too short to tell, or [`Outcome::NoMatch`].
//! [`detect`] asks them in registry order; a flow nobody claims once [`MAX_DETECT_BYTES`] have been seen
//! in each direction (or the caller says no more bytes will come) is [`AppProtocol::Unknown`].
//!
//! Detectors read untrusted bytes: every length is checked before it is used, nothing panics and
//! nothing allocates in proportion to a length field.

pub mod dns;
pub mod grpc;
pub mod http1;
pub mod http2;
pub mod kafka;
pub mod mysql;
pub mod postgres;
pub mod redis;
pub mod ssh;
pub mod tls;

use serde::{Deserialize, Serialize};
use std::fmt;

/// Bytes per direction after which an undecided flow is called [`AppProtocol::Unknown`].
pub const MAX_DETECT_BYTES: usize = 16 * 1024;

/// An application protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppProtocol {
    Http1,
    Http2,
    Grpc,
    Tls,
    Dns,
    Redis,
    Mysql,
    Postgres,
    Kafka,
    Ssh,
    Unknown,
}

impl AppProtocol {
    pub const ALL: [AppProtocol; 11] = [
        AppProtocol::Http1,
        AppProtocol::Http2,
        AppProtocol::Grpc,
        AppProtocol::Tls,
        AppProtocol::Dns,
        AppProtocol::Redis,
        AppProtocol::Mysql,
        AppProtocol::Postgres,
        AppProtocol::Kafka,
        AppProtocol::Ssh,
        AppProtocol::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AppProtocol::Http1 => "http1",
            AppProtocol::Http2 => "http2",
            AppProtocol::Grpc => "grpc",
            AppProtocol::Tls => "tls",
            AppProtocol::Dns => "dns",
            AppProtocol::Redis => "redis",
            AppProtocol::Mysql => "mysql",
            AppProtocol::Postgres => "postgres",
            AppProtocol::Kafka => "kafka",
            AppProtocol::Ssh => "ssh",
            AppProtocol::Unknown => "unknown",
        }
    }

    /// Whether a policy's protocol name covers this protocol: every name covers itself, and `http`
    /// covers HTTP/1.x, HTTP/2 and gRPC.
    pub fn matches_name(self, name: &str) -> bool {
        name.eq_ignore_ascii_case(self.name())
            || (name.eq_ignore_ascii_case("http")
                && matches!(self, AppProtocol::Http1 | AppProtocol::Http2 | AppProtocol::Grpc))
    }

    /// Whether `name` is a protocol name policies may use.
    pub fn is_known_name(name: &str) -> bool {
        name.eq_ignore_ascii_case("http")
            || AppProtocol::ALL.iter().any(|p| name.eq_ignore_ascii_case(p.name()))
    }
}

impl fmt::Display for AppProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Transport of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
}

/// What a flow carried so far: client → server and server → client bytes, in stream order (for UDP, the
/// first datagram of each direction).
#[derive(Debug, Clone, Copy)]
pub struct FlowBytes<'a> {
    pub transport: Transport,
    /// The server's port.
    pub port: u16,
    pub client: &'a [u8],
    pub server: &'a [u8],
}

/// An HTTP request head (HTTP/1.x, or the first HEADERS of HTTP/2 and gRPC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// `None` for HTTP/2 when the header block could not be decoded.
    pub method: Option<String>,
    /// `Host` (HTTP/1.x) or `:authority` (HTTP/2), without the port.
    pub host: Option<String>,
    pub path: Option<String>,
    pub content_type: Option<String>,
}

/// What a detector read, per protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum Info {
    None,
    Http(HttpRequest),
    Tls {
        sni: Option<String>,
        /// Highest version the client offers (`TLS 1.3`, `TLS 1.2`, …).
        version: String,
        alpn: Vec<String>,
    },
    Dns {
        names: Vec<String>,
    },
    Redis {
        command: String,
    },
    Mysql {
        server_version: String,
    },
    Postgres {
        /// `startup`, `ssl-request`, `gss-request` or `cancel`.
        message: String,
        user: Option<String>,
        database: Option<String>,
    },
    Kafka {
        api_key: i16,
        api_name: String,
        api_version: i16,
        client_id: Option<String>,
    },
    Ssh {
        banner: String,
    },
}

/// A detected protocol and what was read from the flow's first bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    pub protocol: AppProtocol,
    pub info: Info,
}

impl Detection {
    pub fn unknown() -> Detection {
        Detection { protocol: AppProtocol::Unknown, info: Info::None }
    }

    /// The HTTP request head, for HTTP/1.x, HTTP/2 and gRPC.
    pub fn http(&self) -> Option<&HttpRequest> {
        match &self.info {
            Info::Http(h) => Some(h),
            _ => None,
        }
    }
}

/// A detector's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Match(Detection),
    /// A valid beginning of this protocol; more bytes are needed to decide or to read its fields.
    NeedMore,
    NoMatch,
}

/// One protocol detector.
pub struct Detector {
    pub protocol: AppProtocol,
    pub detect: fn(&FlowBytes<'_>) -> Outcome,
}

/// Every detector, asked in this order (HTTP/2 before HTTP/1.x: its preface looks like a request line;
/// gRPC is read by the HTTP/2 detector from the content type).
pub const DETECTORS: &[Detector] = &[
    Detector { protocol: AppProtocol::Http2, detect: http2::detect },
    Detector { protocol: AppProtocol::Http1, detect: http1::detect },
    Detector { protocol: AppProtocol::Tls, detect: tls::detect },
    Detector { protocol: AppProtocol::Ssh, detect: ssh::detect },
    Detector { protocol: AppProtocol::Postgres, detect: postgres::detect },
    Detector { protocol: AppProtocol::Redis, detect: redis::detect },
    Detector { protocol: AppProtocol::Mysql, detect: mysql::detect },
    Detector { protocol: AppProtocol::Kafka, detect: kafka::detect },
    Detector { protocol: AppProtocol::Dns, detect: dns::detect },
];

/// The answer for a flow so far: `None` when a detector needs more bytes and more may come (`done` is
/// false and neither direction reached [`MAX_DETECT_BYTES`]); otherwise the first match, or unknown.
pub fn detect(bytes: &FlowBytes<'_>, done: bool) -> Option<Detection> {
    let mut waiting = false;
    for d in DETECTORS {
        match (d.detect)(bytes) {
            Outcome::Match(m) => return Some(m),
            Outcome::NeedMore => waiting = true,
            Outcome::NoMatch => {}
        }
    }
    let full = bytes.client.len() >= MAX_DETECT_BYTES || bytes.server.len() >= MAX_DETECT_BYTES;
    let nothing_yet = bytes.client.is_empty() && bytes.server.is_empty();
    if !done && !full && (waiting || nothing_yet) {
        return None;
    }
    Some(Detection::unknown())
}

/// Helpers shared by the detectors: bounded big-endian reads and printable-text checks.
pub(crate) mod bytes {
    pub fn u16_at(b: &[u8], at: usize) -> Option<u16> {
        let s = b.get(at..at.checked_add(2)?)?;
        Some(u16::from_be_bytes([s[0], s[1]]))
    }

    pub fn u24_at(b: &[u8], at: usize) -> Option<u32> {
        let s = b.get(at..at.checked_add(3)?)?;
        Some(u32::from_be_bytes([0, s[0], s[1], s[2]]))
    }

    pub fn u32_at(b: &[u8], at: usize) -> Option<u32> {
        let s = b.get(at..at.checked_add(4)?)?;
        Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// Printable ASCII without controls.
    pub fn printable(b: &[u8]) -> bool {
        b.iter().all(|&c| (0x20..0x7f).contains(&c))
    }

    /// Text for a field read from the wire: printable ASCII kept, anything else escaped, at most `max`
    /// bytes.
    pub fn text(b: &[u8], max: usize) -> String {
        let mut out = String::new();
        for &c in b.iter().take(max) {
            if (0x20..0x7f).contains(&c) {
                out.push(c as char);
            } else {
                out.push_str(&format!("\\x{c:02x}"));
            }
        }
        out
    }
}

/// Fuzz-style hostile-input loop shared by the detectors' tests: truncations, bit flips and random bytes
/// around a valid sample must never panic.
#[cfg(test)]
pub(crate) mod hostile {
    use super::{FlowBytes, Outcome, Transport};

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Runs `detect` on mutations of `sample` as client and as server bytes.
    pub fn never_panics(sample: &[u8], detect: fn(&FlowBytes<'_>) -> Outcome) {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let run = |b: &[u8]| {
            for transport in [Transport::Tcp, Transport::Udp] {
                let _ = detect(&FlowBytes { transport, port: 1, client: b, server: &[] });
                let _ = detect(&FlowBytes { transport, port: 1, client: &[], server: b });
            }
        };
        for n in 0..=sample.len() {
            run(&sample[..n]);
        }
        for _ in 0..3000 {
            let mut m = sample.to_vec();
            let flips = 1 + (rng.next() % 8) as usize;
            for _ in 0..flips {
                if m.is_empty() {
                    break;
                }
                let i = (rng.next() as usize) % m.len();
                m[i] = match rng.next() % 4 {
                    0 => m[i] ^ (1 << (rng.next() % 8)),
                    1 => 0xff,
                    2 => 0,
                    _ => rng.next() as u8,
                };
            }
            let cut = (rng.next() as usize) % (m.len() + 1);
            run(&m[..cut]);
            run(&m);
        }
        for _ in 0..1000 {
            let len = (rng.next() % 300) as usize;
            let r: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            run(&r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp<'a>(port: u16, client: &'a [u8], server: &'a [u8]) -> FlowBytes<'a> {
        FlowBytes { transport: Transport::Tcp, port, client, server }
    }

    #[test]
    fn registry_covers_every_protocol_but_unknown_and_grpc() {
        for p in AppProtocol::ALL {
            let registered = DETECTORS.iter().any(|d| d.protocol == p);
            assert_eq!(registered, !matches!(p, AppProtocol::Unknown | AppProtocol::Grpc), "{p}");
        }
    }

    #[test]
    fn each_fixture_is_claimed_by_its_own_detector_only() {
        let cases: &[(&[u8], bool, AppProtocol)] = &[
            (include_bytes!("../../fixtures/protocol/http1.bin"), true, AppProtocol::Http1),
            (include_bytes!("../../fixtures/protocol/http2.bin"), true, AppProtocol::Http2),
            (include_bytes!("../../fixtures/protocol/grpc.bin"), true, AppProtocol::Grpc),
            (include_bytes!("../../fixtures/protocol/tls13.bin"), true, AppProtocol::Tls),
            (include_bytes!("../../fixtures/protocol/ssh.bin"), true, AppProtocol::Ssh),
            (include_bytes!("../../fixtures/protocol/pg_startup.bin"), true, AppProtocol::Postgres),
            (include_bytes!("../../fixtures/protocol/redis.bin"), true, AppProtocol::Redis),
            (include_bytes!("../../fixtures/protocol/kafka.bin"), true, AppProtocol::Kafka),
            (include_bytes!("../../fixtures/protocol/mysql_greeting.bin"), false, AppProtocol::Mysql),
        ];
        for (bytes, client, want) in cases {
            let flow = if *client { tcp(1234, bytes, &[]) } else { tcp(1234, &[], bytes) };
            let mut claimed = Vec::new();
            for d in DETECTORS {
                if let Outcome::Match(m) = (d.detect)(&flow) {
                    claimed.push(m.protocol);
                }
            }
            assert_eq!(claimed, vec![*want], "fixture for {want}");
            assert_eq!(detect(&flow, true).map(|d| d.protocol), Some(*want));
        }
    }

    #[test]
    fn garbage_is_unknown_and_empty_waits() {
        assert_eq!(detect(&tcp(80, &[], &[]), false), None);
        let junk = [0x13u8, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x42, 0x99, 0x01, 0x02, 0x03, 0x04];
        assert_eq!(detect(&tcp(80, &junk, &[]), false).map(|d| d.protocol), Some(AppProtocol::Unknown));
    }

    #[test]
    fn partial_preface_waits_then_is_unknown_when_the_flow_ends() {
        let flow = tcp(80, b"PRI * HTT", &[]);
        assert_eq!(detect(&flow, false), None);
        assert_eq!(detect(&flow, true).map(|d| d.protocol), Some(AppProtocol::Unknown));
    }

    #[test]
    fn protocol_names_for_policies() {
        assert!(AppProtocol::Grpc.matches_name("http"));
        assert!(AppProtocol::Http1.matches_name("HTTP1"));
        assert!(!AppProtocol::Tls.matches_name("http"));
        assert!(AppProtocol::is_known_name("postgres"));
        assert!(!AppProtocol::is_known_name("gopher"));
    }
}
