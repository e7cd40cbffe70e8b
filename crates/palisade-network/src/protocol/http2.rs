//! HTTP/2 with prior knowledge (RFC 9113 §3.4): the 24-byte client connection preface, then frames. The
//! first HEADERS frame (with its CONTINUATION frames) is decoded with HPACK (`loona-hpack`; a fresh
//! decoder: the first header block of a connection cannot refer to earlier dynamic-table entries) for
//! `:method`, `:authority`, `:path` and `content-type`. A `content-type` of `application/grpc…` makes the
//! flow gRPC ([`super::grpc`]). When the block cannot be decoded the flow is still HTTP/2, method-less.
//! HTTP/2 over TLS is seen as TLS (its ALPN lists `h2`).

use super::bytes::{text, u24_at, u32_at};
use super::{AppProtocol, Detection, FlowBytes, HttpRequest, Info, Outcome, Transport, grpc};

pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_HEADER: usize = 9;
const HEADERS: u8 = 1;
const CONTINUATION: u8 = 9;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;
/// Frames read before giving up on finding HEADERS (SETTINGS, WINDOW_UPDATE, PRIORITY come first).
const MAX_FRAMES: usize = 16;
/// Largest header block decoded.
const MAX_BLOCK: usize = 16 * 1024;

pub fn detect(flow: &FlowBytes<'_>) -> Outcome {
    if flow.transport != Transport::Tcp || flow.client.is_empty() {
        return Outcome::NoMatch;
    }
    let c = flow.client;
    let n = c.len().min(PREFACE.len());
    if c[..n] != PREFACE[..n] {
        return Outcome::NoMatch;
    }
    if c.len() < PREFACE.len() {
        return Outcome::NeedMore;
    }
    match first_header_block(&c[PREFACE.len()..]) {
        Block::Found(block) => Outcome::Match(from_block(&block)),
        Block::NeedMore => Outcome::NeedMore,
        Block::Absent => Outcome::Match(found(AppProtocol::Http2, HttpRequest::default())),
    }
}

fn found(protocol: AppProtocol, req: HttpRequest) -> Detection {
    Detection { protocol, info: Info::Http(req) }
}

enum Block {
    Found(Vec<u8>),
    NeedMore,
    /// Malformed frames or no HEADERS early enough.
    Absent,
}

fn first_header_block(mut frames: &[u8]) -> Block {
    let mut block: Option<Vec<u8>> = None;
    for _ in 0..MAX_FRAMES {
        let (Some(len), Some(&kind), Some(&flags), Some(_stream)) =
            (u24_at(frames, 0), frames.get(3), frames.get(4), u32_at(frames, 5))
        else {
            return Block::NeedMore;
        };
        let len = len as usize;
        let Some(payload) = frames.get(FRAME_HEADER..FRAME_HEADER + len) else {
            return if len > MAX_BLOCK { Block::Absent } else { Block::NeedMore };
        };
        frames = &frames[FRAME_HEADER + len..];
        match (kind, &mut block) {
            (HEADERS, None) => {
                let Some(fragment) = headers_fragment(payload, flags) else { return Block::Absent };
                let b = fragment.to_vec();
                if flags & END_HEADERS != 0 {
                    return Block::Found(b);
                }
                block = Some(b);
            }
            (CONTINUATION, Some(b)) => {
                if b.len() + payload.len() > MAX_BLOCK {
                    return Block::Absent;
                }
                b.extend_from_slice(payload);
                if flags & END_HEADERS != 0 {
                    return Block::Found(std::mem::take(b));
                }
            }
            (_, Some(_)) => return Block::Absent,
            (_, None) => {}
        }
    }
    Block::Absent
}

/// The header block fragment of a HEADERS payload, without padding and priority fields.
fn headers_fragment(payload: &[u8], flags: u8) -> Option<&[u8]> {
    let mut p = payload;
    let mut pad = 0usize;
    if flags & PADDED != 0 {
        pad = *p.first()? as usize;
        p = p.get(1..)?;
    }
    if flags & PRIORITY != 0 {
        p = p.get(5..)?;
    }
    p.get(..p.len().checked_sub(pad)?)
}

fn from_block(block: &[u8]) -> Detection {
    let mut decoder = loona_hpack::Decoder::new();
    let Ok(headers) = decoder.decode(block) else {
        return found(AppProtocol::Http2, HttpRequest::default());
    };
    let get = |name: &[u8]| headers.iter().find(|(n, _)| n.as_slice() == name).map(|(_, v)| text(v, 4096));
    let req = HttpRequest {
        method: get(b":method"),
        host: get(b":authority").or_else(|| get(b"host")).map(|h| super::http1::strip_port(&h)),
        path: get(b":path"),
        content_type: get(b"content-type"),
    };
    let protocol = if req.content_type.as_deref().is_some_and(grpc::is_grpc) {
        AppProtocol::Grpc
    } else {
        AppProtocol::Http2
    };
    found(protocol, req)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURL: &[u8] = include_bytes!("../../fixtures/protocol/http2.bin");

    fn client(b: &[u8]) -> Outcome {
        detect(&FlowBytes { transport: Transport::Tcp, port: 80, client: b, server: &[] })
    }

    #[test]
    fn curl_prior_knowledge_request_is_decoded() {
        let Outcome::Match(d) = client(CURL) else { panic!() };
        assert_eq!(d.protocol, AppProtocol::Http2);
        let h = d.http().unwrap();
        assert_eq!(h.method.as_deref(), Some("GET"));
        assert_eq!(h.host.as_deref(), Some("web.example"));
        assert_eq!(h.path.as_deref(), Some("/api/v1/items"));
    }

    #[test]
    fn preface_alone_waits_and_a_broken_block_is_method_less_http2() {
        assert_eq!(client(&CURL[..10]), Outcome::NeedMore);
        assert_eq!(client(PREFACE), Outcome::NeedMore);
        let mut bad = PREFACE.to_vec();
        bad.extend_from_slice(&[0, 0, 2, HEADERS, END_HEADERS, 0, 0, 0, 1, 0xff, 0xff]);
        let Outcome::Match(d) = client(&bad) else { panic!() };
        assert_eq!(d, found(AppProtocol::Http2, HttpRequest::default()));
    }

    #[test]
    fn padded_headers_with_continuation() {
        // :method GET (0x82), :path / (0x84) split over HEADERS (padded) and CONTINUATION.
        let mut req = PREFACE.to_vec();
        req.extend_from_slice(&[0, 0, 4, HEADERS, PADDED, 0, 0, 0, 1, 2, 0x82, 0, 0]);
        req.extend_from_slice(&[0, 0, 1, CONTINUATION, END_HEADERS, 0, 0, 0, 1, 0x84]);
        let Outcome::Match(d) = client(&req) else { panic!() };
        let h = d.http().unwrap();
        assert_eq!((h.method.as_deref(), h.path.as_deref()), (Some("GET"), Some("/")));
    }

    #[test]
    fn hostile_input_never_panics() {
        crate::protocol::hostile::never_panics(CURL, detect);
        crate::protocol::hostile::never_panics(include_bytes!("../../fixtures/protocol/grpc.bin"), detect);
    }
}
