//! DNS queries (RFC 1035 §4.1): over UDP one message per datagram, over TCP each message after a two-byte
//! length (RFC 7766). A query has QR = 0, opcode QUERY/IQUERY/STATUS/NOTIFY/UPDATE, 1 to 8 questions with
//! well-formed names (labels of 1–63 bytes of letters, digits, `-`, `_` or `*`, 255 bytes in all, no
//! compression pointers in questions) and a known class; the question names are returned. The checks are
//! strict so that random datagrams on other ports are not taken for DNS.

use super::bytes::u16_at;
use super::{AppProtocol, Detection, FlowBytes, Info, Outcome, Transport};

const HEADER: usize = 12;
const MAX_QUESTIONS: u16 = 8;
const MAX_NAME: usize = 255;
/// Longest query over TCP waited for (queries are small; answers are what gets long).
const MAX_TCP_QUERY: usize = 4096;

pub fn detect(flow: &FlowBytes<'_>) -> Outcome {
    let msg = match flow.transport {
        Transport::Udp => flow.client,
        Transport::Tcp => {
            let Some(len) = u16_at(flow.client, 0) else {
                return if flow.client.is_empty() { Outcome::NoMatch } else { Outcome::NeedMore };
            };
            let len = len as usize;
            if !(HEADER + 5..=MAX_TCP_QUERY).contains(&len) {
                return Outcome::NoMatch;
            }
            match flow.client.get(2..2 + len) {
                Some(m) => m,
                None if flow.client.len() < 2 + HEADER => {
                    return if flags_ok(flow.client.get(4..6).unwrap_or_default()) {
                        Outcome::NeedMore
                    } else {
                        Outcome::NoMatch
                    };
                }
                // Enough of the header to judge it: wait for the rest only if it looks like a query.
                None => {
                    return if header_ok(flow.client.get(2..).unwrap_or_default()) {
                        Outcome::NeedMore
                    } else {
                        Outcome::NoMatch
                    };
                }
            }
        }
    };
    match query_names(msg) {
        Some(names) => Outcome::Match(Detection { protocol: AppProtocol::Dns, info: Info::Dns { names } }),
        None => Outcome::NoMatch,
    }
}

/// The flags bytes so far (0 to 2 of them) are those of a query.
fn flags_ok(f: &[u8]) -> bool {
    match f {
        [] => true,
        [hi, ..] => hi & 0x80 == 0 && matches!((hi >> 3) & 0xf, 0 | 1 | 2 | 4 | 5),
    }
}

fn header_ok(m: &[u8]) -> bool {
    let (Some(flags), Some(qd), Some(an), Some(ns)) =
        (u16_at(m, 2), u16_at(m, 4), u16_at(m, 6), u16_at(m, 8))
    else {
        return false;
    };
    let qr = flags >> 15;
    let opcode = (flags >> 11) & 0xf;
    let z = (flags >> 6) & 1;
    let rcode = flags & 0xf;
    // UPDATE (5) carries records in the answer/authority sections; plain queries carry none.
    let sections_ok = opcode == 5 || (an == 0 && ns <= 1);
    qr == 0
        && matches!(opcode, 0 | 1 | 2 | 4 | 5)
        && z == 0
        && rcode == 0
        && (1..=MAX_QUESTIONS).contains(&qd)
        && sections_ok
}

/// The question names of a query message, or `None` when it is not a well-formed query.
pub fn query_names(m: &[u8]) -> Option<Vec<String>> {
    if m.len() < HEADER + 5 || !header_ok(m) {
        return None;
    }
    let qd = u16_at(m, 4)?;
    let mut at = HEADER;
    let mut names = Vec::new();
    for _ in 0..qd {
        let (name, next) = name_at(m, at)?;
        let qclass = u16_at(m, next + 2)?;
        if !matches!(qclass, 1 | 3 | 4 | 254 | 255) && (qclass & 0x7fff) != 1 {
            return None;
        }
        at = next + 4;
        names.push(name);
    }
    Some(names)
}

/// An uncompressed name at `at`: the name (lower-case, no trailing dot; `.` for the root) and the offset
/// after it.
fn name_at(m: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    loop {
        let len = *m.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        let label = m.get(at..at + len)?;
        if !label.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'*')) {
            return None;
        }
        if !name.is_empty() {
            name.push('.');
        }
        name.extend(label.iter().map(|c| c.to_ascii_lowercase() as char));
        if name.len() > MAX_NAME {
            return None;
        }
        at += len;
    }
    if name.is_empty() {
        name.push('.');
    }
    Some((name, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NSLOOKUP: &[u8] = include_bytes!("../../fixtures/protocol/dns.bin");

    fn flow(transport: Transport, client: &[u8]) -> Outcome {
        detect(&FlowBytes { transport, port: 53, client, server: &[] })
    }

    #[test]
    fn busybox_nslookup_query_over_udp() {
        let Outcome::Match(d) = flow(Transport::Udp, NSLOOKUP) else { panic!() };
        assert_eq!(d.info, Info::Dns { names: vec!["api.example.com".into()] });
    }

    #[test]
    fn same_query_over_tcp_with_length_prefix() {
        let mut tcp = (NSLOOKUP.len() as u16).to_be_bytes().to_vec();
        tcp.extend_from_slice(NSLOOKUP);
        assert!(matches!(flow(Transport::Tcp, &tcp), Outcome::Match(_)));
        assert_eq!(flow(Transport::Tcp, &tcp[..20]), Outcome::NeedMore);
    }

    #[test]
    fn responses_and_noise_are_not_queries() {
        let mut response = NSLOOKUP.to_vec();
        response[2] |= 0x80;
        assert_eq!(flow(Transport::Udp, &response), Outcome::NoMatch);
        assert_eq!(flow(Transport::Udp, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Outcome::NoMatch);
        let mut bad_label = NSLOOKUP.to_vec();
        bad_label[13] = b'\x01';
        assert_eq!(flow(Transport::Udp, &bad_label), Outcome::NoMatch);
    }

    #[test]
    fn hostile_input_never_panics() {
        crate::protocol::hostile::never_panics(NSLOOKUP, detect);
    }
}
