//! HTTP/2 with prior knowledge (RFC 9113 §3.4): the 24-byte client connection preface, then frames. The
//! first HEADERS frame (with its CONTINUATION frames) is decoded with HPACK (`loona-hpack`; a fresh
//! decoder: the first header block of a connection cannot refer to earlier dynamic-table entries) for
//! `:method`, `:authority`, `:path` and `content-type`. A `content-type` of `application/grpc…` makes the
//! flow gRPC ([`super::grpc`]). When the block cannot be decoded the flow is still HTTP/2, method-less.
//! HTTP/2 over TLS is seen as TLS (its ALPN lists `h2`). [`Stream`] follows a connection past its first
//! request, so that every request on it can be checked.

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
    let req = request_of(&headers);
    let protocol = if req.content_type.as_deref().is_some_and(grpc::is_grpc) {
        AppProtocol::Grpc
    } else {
        AppProtocol::Http2
    };
    found(protocol, req)
}

/// Largest frame followed by [`Stream`]; a larger one ends the tracking of the connection.
const MAX_TRACKED_FRAME: usize = 256 * 1024;

/// The client side of an HTTP/2 connection followed past its first request: frames are read as they
/// arrive and every header block is decoded with the connection's HPACK state, so each request of the
/// connection (every gRPC call on a long-lived channel) is seen, not only the first.
pub struct Stream {
    decoder: loona_hpack::Decoder<'static>,
    pending: Vec<u8>,
    block: Option<Vec<u8>>,
    preface_seen: bool,
    /// A frame too large to follow or a header block that did not decode: the HPACK state is lost and
    /// no later request can be read.
    pub broken: bool,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream").field("pending", &self.pending.len()).field("broken", &self.broken).finish()
    }
}

impl Default for Stream {
    fn default() -> Self {
        Stream::new()
    }
}

impl Stream {
    pub fn new() -> Stream {
        Stream {
            decoder: loona_hpack::Decoder::new(),
            pending: Vec::new(),
            block: None,
            preface_seen: false,
            broken: false,
        }
    }

    /// Feed the client's bytes in stream order (from the preface on); returns the request heads whose
    /// header blocks these bytes completed, in order.
    pub fn feed(&mut self, data: &[u8]) -> Vec<HttpRequest> {
        let mut out = Vec::new();
        if self.broken {
            return out;
        }
        self.pending.extend_from_slice(data);
        if !self.preface_seen {
            if self.pending.len() < PREFACE.len() {
                return out;
            }
            if !self.pending.starts_with(PREFACE) {
                self.broken = true;
                return out;
            }
            self.pending.drain(..PREFACE.len());
            self.preface_seen = true;
        }
        let mut at = 0;
        while let (Some(len), Some(&kind), Some(&flags)) =
            (u24_at(&self.pending, at), self.pending.get(at + 3), self.pending.get(at + 4))
        {
            let len = len as usize;
            if len > MAX_TRACKED_FRAME {
                self.broken = true;
                break;
            }
            let Some(payload) = self.pending.get(at + FRAME_HEADER..at + FRAME_HEADER + len) else { break };
            let fragment = match (kind, &self.block) {
                (HEADERS, None) => headers_fragment(payload, flags),
                (CONTINUATION, Some(_)) => Some(payload),
                (_, Some(_)) => None,
                _ => Some(&[][..]),
            };
            let Some(fragment) = fragment else {
                self.broken = true;
                break;
            };
            if kind == HEADERS || kind == CONTINUATION {
                let block = self.block.get_or_insert_with(Vec::new);
                if block.len() + fragment.len() > MAX_BLOCK {
                    self.broken = true;
                    break;
                }
                block.extend_from_slice(fragment);
                if flags & END_HEADERS != 0 {
                    let block = self.block.take().unwrap_or_default();
                    match self.decoder.decode(&block) {
                        Ok(headers) => out.push(request_of(&headers)),
                        Err(_) => {
                            self.broken = true;
                            break;
                        }
                    }
                }
            }
            at += FRAME_HEADER + len;
        }
        if self.broken {
            self.pending = Vec::new();
        } else {
            self.pending.drain(..at.min(self.pending.len()));
        }
        out
    }
}

fn request_of(headers: &[(Vec<u8>, Vec<u8>)]) -> HttpRequest {
    let get = |name: &[u8]| headers.iter().find(|(n, _)| n.as_slice() == name).map(|(_, v)| text(v, 4096));
    HttpRequest {
        method: get(b":method"),
        host: get(b":authority").or_else(|| get(b"host")).map(|h| super::http1::strip_port(&h)),
        path: get(b":path"),
        content_type: get(b"content-type"),
    }
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
    fn stream_reads_every_request_with_the_connection_hpack_state() {
        let mut enc = loona_hpack::Encoder::new();
        let mut conn = PREFACE.to_vec();
        conn.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
        for (i, path) in ["/api/a", "/admin", "/admin"].iter().enumerate() {
            let block = enc.encode([
                (&b":method"[..], &b"GET"[..]),
                (&b":authority"[..], &b"web.example"[..]),
                (&b":path"[..], path.as_bytes()),
            ]);
            conn.extend_from_slice(&(block.len() as u32).to_be_bytes()[1..]);
            conn.extend_from_slice(&[HEADERS, END_HEADERS | 0x1, 0, 0, 0, (2 * i + 1) as u8]);
            conn.extend_from_slice(&block);
        }
        // Fed in small pieces, as segments arrive.
        let mut s = Stream::new();
        let mut paths = Vec::new();
        for piece in conn.chunks(7) {
            paths.extend(s.feed(piece).into_iter().map(|r| r.path.unwrap_or_default()));
        }
        assert_eq!(paths, ["/api/a", "/admin", "/admin"], "the third is a dynamic-table reference");
        assert!(!s.broken);
        let mut bad = Stream::new();
        bad.feed(b"GET / HTTP/1.1\r\n\r\n---------");
        assert!(bad.broken);
    }

    #[test]
    fn hostile_input_never_panics() {
        crate::protocol::hostile::never_panics(CURL, detect);
        let mut x = 7u64;
        for _ in 0..200 {
            let mut s = Stream::new();
            let mut data = CURL.to_vec();
            for _ in 0..4 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let at = (x >> 33) as usize % data.len();
                data[at] = (x >> 7) as u8;
            }
            for piece in data.chunks(1 + (x % 13) as usize) {
                let _ = s.feed(piece);
            }
        }
        crate::protocol::hostile::never_panics(include_bytes!("../../fixtures/protocol/grpc.bin"), detect);
    }
}
