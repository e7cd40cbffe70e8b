//! TLS: a handshake record (content type 22, record version 3.x) carrying a ClientHello (RFC 8446 §4.1.2,
//! RFC 5246 §7.4.1.2). The hello may span several records; it is reassembled up to 16 KiB. Read: the
//! `server_name` extension (SNI, RFC 6066 §3), ALPN (RFC 7301) and the highest version offered, from
//! `supported_versions` (RFC 8446 §4.2.1; GREASE values ignored) or else the hello's legacy version.

use super::bytes::{text, u16_at, u24_at};
use super::{AppProtocol, Detection, FlowBytes, Info, Outcome, Transport};

const HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;
const MAX_HELLO: usize = 16 * 1024;
const EXT_SERVER_NAME: u16 = 0;
const EXT_ALPN: u16 = 16;
const EXT_SUPPORTED_VERSIONS: u16 = 43;

pub fn detect(flow: &FlowBytes<'_>) -> Outcome {
    if flow.transport != Transport::Tcp || flow.client.is_empty() {
        return Outcome::NoMatch;
    }
    let c = flow.client;
    // Record header: type, version major 3, minor 0..=4 (SSL 3.0 to TLS 1.3 record versions).
    if c[0] != HANDSHAKE || c.get(1).is_some_and(|&v| v != 3) || c.get(2).is_some_and(|&v| v > 4) {
        return Outcome::NoMatch;
    }
    let Some(hs) = reassemble(c) else { return Outcome::NeedMore };
    if hs.first() != Some(&CLIENT_HELLO) {
        return Outcome::NoMatch;
    }
    let Some(len) = u24_at(&hs, 1) else { return Outcome::NeedMore };
    let len = len as usize;
    if len > MAX_HELLO {
        return Outcome::NoMatch;
    }
    let Some(body) = hs.get(4..4 + len) else {
        return if hs.len() < MAX_HELLO { Outcome::NeedMore } else { Outcome::NoMatch };
    };
    match client_hello(body) {
        Some(info) => Outcome::Match(Detection { protocol: AppProtocol::Tls, info }),
        None => Outcome::NoMatch,
    }
}

/// Handshake bytes from consecutive complete handshake records; `None` when the first record is
/// incomplete. Stops at a non-handshake record or after [`MAX_HELLO`] bytes.
fn reassemble(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    while data.first() == Some(&HANDSHAKE) && out.len() < MAX_HELLO {
        let len = u16_at(data, 3)? as usize;
        if len == 0 || len > MAX_HELLO + 2048 {
            break;
        }
        let Some(fragment) = data.get(5..5 + len) else {
            if out.is_empty() {
                return None;
            }
            break;
        };
        out.extend_from_slice(fragment);
        data = &data[5 + len..];
        // Enough when the handshake message is complete.
        if u24_at(&out, 1).is_some_and(|l| out.len() >= 4 + l as usize) {
            break;
        }
    }
    if out.is_empty() { None } else { Some(out) }
}

fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("0x{other:04x}"),
    }
}

fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

fn client_hello(b: &[u8]) -> Option<Info> {
    let legacy = u16_at(b, 0)?;
    if legacy >> 8 != 3 {
        return None;
    }
    let mut at = 2 + 32;
    let sid = *b.get(at)? as usize;
    if sid > 32 {
        return None;
    }
    at += 1 + sid;
    let suites = u16_at(b, at)? as usize;
    if suites == 0 || !suites.is_multiple_of(2) {
        return None;
    }
    at += 2 + suites;
    let comp = *b.get(at)? as usize;
    if comp == 0 {
        return None;
    }
    at += 1 + comp;
    let (mut sni, mut alpn, mut version) = (None, Vec::new(), legacy);
    if at < b.len() {
        let ext_len = u16_at(b, at)? as usize;
        let mut exts = b.get(at + 2..at + 2 + ext_len)?;
        while exts.len() >= 4 {
            let kind = u16_at(exts, 0)?;
            let len = u16_at(exts, 2)? as usize;
            let data = exts.get(4..4 + len)?;
            match kind {
                EXT_SERVER_NAME => sni = server_name(data),
                EXT_ALPN => alpn = protocols(data),
                EXT_SUPPORTED_VERSIONS => {
                    let n = *data.first()? as usize;
                    let list = data.get(1..1 + n)?;
                    if let Some(max) = list
                        .chunks_exact(2)
                        .map(|p| u16::from_be_bytes([p[0], p[1]]))
                        .filter(|v| !is_grease(*v))
                        .max()
                    {
                        version = max;
                    }
                }
                _ => {}
            }
            exts = &exts[4 + len..];
        }
    }
    Some(Info::Tls { sni, version: version_name(version), alpn })
}

/// The host name of a `server_name` list (name type 0).
fn server_name(data: &[u8]) -> Option<String> {
    let list_len = u16_at(data, 0)? as usize;
    let mut list = data.get(2..2 + list_len)?;
    while list.len() >= 3 {
        let kind = list[0];
        let len = u16_at(list, 1)? as usize;
        let name = list.get(3..3 + len)?;
        if kind == 0 {
            return Some(text(name, 255).to_ascii_lowercase());
        }
        list = &list[3 + len..];
    }
    None
}

fn protocols(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(len) = u16_at(data, 0) else { return out };
    let Some(mut list) = data.get(2..2 + len as usize) else { return out };
    while let Some((&n, rest)) = list.split_first() {
        let Some(p) = rest.get(..n as usize) else { break };
        out.push(text(p, 64));
        list = &rest[n as usize..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURL: &[u8] = include_bytes!("../../fixtures/protocol/tls13.bin");
    const S_CLIENT_12: &[u8] = include_bytes!("../../fixtures/protocol/tls12.bin");

    fn client(b: &[u8]) -> Outcome {
        detect(&FlowBytes { transport: Transport::Tcp, port: 443, client: b, server: &[] })
    }

    #[test]
    fn curl_hello_offers_tls13_with_sni_and_alpn() {
        let Outcome::Match(d) = client(CURL) else { panic!() };
        let Info::Tls { sni, version, alpn } = d.info else { panic!() };
        assert_eq!(sni.as_deref(), Some("secure.example"));
        assert_eq!(version, "TLS 1.3");
        assert!(alpn.contains(&"h2".to_string()), "{alpn:?}");
    }

    #[test]
    fn openssl_tls12_only_hello() {
        let Outcome::Match(d) = client(S_CLIENT_12) else { panic!() };
        let Info::Tls { sni, version, .. } = d.info else { panic!() };
        assert_eq!(sni.as_deref(), Some("legacy.example"));
        assert_eq!(version, "TLS 1.2");
    }

    #[test]
    fn hello_split_over_two_records_and_partial_hello_waits() {
        let body = &CURL[5..];
        let (a, b) = body.split_at(100);
        let mut split = vec![HANDSHAKE, 3, 1];
        split.extend_from_slice(&(a.len() as u16).to_be_bytes());
        split.extend_from_slice(a);
        split.extend_from_slice(&[HANDSHAKE, 3, 3]);
        split.extend_from_slice(&(b.len() as u16).to_be_bytes());
        split.extend_from_slice(b);
        assert!(matches!(client(&split), Outcome::Match(_)));
        assert_eq!(client(&CURL[..200]), Outcome::NeedMore);
        assert_eq!(client(b"\x16\x03"), Outcome::NeedMore);
        assert_eq!(client(b"\x17\x03\x03\x00\x10"), Outcome::NoMatch);
    }

    #[test]
    fn hostile_input_never_panics() {
        crate::protocol::hostile::never_panics(CURL, detect);
        crate::protocol::hostile::never_panics(S_CLIENT_12, detect);
    }
}
