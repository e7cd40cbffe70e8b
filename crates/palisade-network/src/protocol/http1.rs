//! HTTP/1.x: a request line (`METHOD SP target SP HTTP/1.x`) from the client; method, `Host` (port
//! stripped) and path from the request head (parsed with `httparse`, 64 headers at most). [`Stream`]
//! follows a connection request by request (bodies skipped by `Content-Length` or chunked framing).

use super::{AppProtocol, Detection, FlowBytes, HttpRequest, Info, Outcome, Transport, bytes::text};

/// Longest request head read; a longer one is still HTTP/1.x, read from its request line only.
const MAX_HEAD: usize = 8 * 1024;
const MAX_METHOD: usize = 24;

pub fn detect(flow: &FlowBytes<'_>) -> Outcome {
    if flow.transport != Transport::Tcp {
        return Outcome::NoMatch;
    }
    match parse_request(flow.client) {
        Some(Head::Complete(req)) => Outcome::Match(found(req)),
        Some(Head::Partial) => Outcome::NeedMore,
        None => Outcome::NoMatch,
    }
}

fn found(req: HttpRequest) -> Detection {
    Detection { protocol: AppProtocol::Http1, info: Info::Http(req) }
}

/// A request head read from the start of `data`.
pub enum Head {
    Complete(HttpRequest),
    /// A valid beginning of a request line or head.
    Partial,
}

/// Reads the request at the start of `data` (also used for later requests of a keep-alive connection).
/// `None` when `data` cannot start an HTTP/1.x request.
pub fn parse_request(data: &[u8]) -> Option<Head> {
    if !plausible_start(data) {
        return None;
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(data) {
        Ok(httparse::Status::Complete(_)) => Some(Head::Complete(from_parsed(&req))),
        Ok(httparse::Status::Partial) => {
            if data.len() >= MAX_HEAD {
                request_line(data).map(Head::Complete)
            } else {
                Some(Head::Partial)
            }
        }
        Err(httparse::Error::TooManyHeaders) => request_line(data).map(Head::Complete),
        Err(_) => None,
    }
}

/// The method is a token of upper-case letters (every registered method is), then a space.
fn plausible_start(data: &[u8]) -> bool {
    let n = data.iter().take(MAX_METHOD + 1).take_while(|c| c.is_ascii_uppercase() || **c == b'-').count();
    if n == 0 || n > MAX_METHOD {
        return false;
    }
    match data.get(n) {
        Some(b' ') => true,
        Some(_) => false,
        None => true,
    }
}

fn from_parsed(req: &httparse::Request<'_, '_>) -> HttpRequest {
    let header = |name: &str| {
        req.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| text(h.value, 1024))
    };
    HttpRequest {
        method: req.method.map(|m| m.to_string()),
        host: header("host").map(|h| strip_port(&h)),
        path: req.path.map(|p| text(p.as_bytes(), 4096)),
        content_type: header("content-type"),
    }
}

/// A request whose head is too large or has too many headers: method and path from the request line.
fn request_line(data: &[u8]) -> Option<HttpRequest> {
    let end = data.windows(2).position(|w| w == b"\r\n").unwrap_or(data.len()).min(MAX_HEAD);
    let line = &data[..end];
    let mut parts = line.split(|&c| c == b' ');
    let method = parts.next()?;
    let target = parts.next()?;
    let version = parts.next();
    if version.is_some_and(|v| !v.starts_with(b"HTTP/1.")) {
        return None;
    }
    Some(HttpRequest {
        method: Some(text(method, MAX_METHOD)),
        host: None,
        path: Some(text(target, 4096)),
        content_type: None,
    })
}

/// `host:port` → `host`; `[v6]:port` → `v6`. Lower-cased.
pub fn strip_port(host: &str) -> String {
    let h = host.trim();
    let bare = if let Some(rest) = h.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if h.matches(':').count() == 1 {
        h.split(':').next().unwrap_or(h)
    } else {
        h
    };
    bare.to_ascii_lowercase()
}

/// Largest request head a [`Stream`] waits for.
const MAX_STREAM_HEAD: usize = 64 * 1024;
/// Most header fields a [`Stream`] reads in one head (servers refuse far fewer: nginx 100 by default).
const MAX_STREAM_HEADERS: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    /// Bytes of a `Content-Length` body still to come.
    Body(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    Trailer,
    /// CONNECT or an accepted `Upgrade`: the bytes are no longer HTTP/1.x.
    Opaque,
}

/// The client side of an HTTP/1.x connection followed request by request: each head is parsed and
/// its body (`Content-Length` or chunked) skipped, so pipelined requests and requests that start in
/// the middle of a segment are all seen.
#[derive(Debug)]
pub struct Stream {
    pending: Vec<u8>,
    state: State,
    /// Bytes that are not HTTP/1.x where a request head was due: nothing later can be read.
    pub broken: bool,
}

impl Default for Stream {
    fn default() -> Self {
        Stream::new()
    }
}

impl Stream {
    pub fn new() -> Stream {
        Stream { pending: Vec::new(), state: State::Head, broken: false }
    }

    /// Feed the client's bytes in stream order; returns the request heads they completed.
    pub fn feed(&mut self, data: &[u8]) -> Vec<HttpRequest> {
        let mut out = Vec::new();
        if self.broken || self.state == State::Opaque {
            return out;
        }
        self.pending.extend_from_slice(data);
        let mut at = 0;
        loop {
            let rest = &self.pending[at..];
            match self.state {
                State::Opaque => break,
                State::Head => {
                    // Blank lines between requests are allowed (RFC 9112 §2.2).
                    let blank = rest.iter().take_while(|&&c| c == b'\r' || c == b'\n').count();
                    at += blank;
                    let rest = &self.pending[at..];
                    if rest.is_empty() {
                        break;
                    }
                    let mut headers = [httparse::EMPTY_HEADER; 64];
                    let mut many = Vec::new();
                    let mut req = httparse::Request::new(&mut headers);
                    let mut parsed = req.parse(rest);
                    if parsed == Err(httparse::Error::TooManyHeaders) {
                        many.resize(MAX_STREAM_HEADERS, httparse::EMPTY_HEADER);
                        req = httparse::Request::new(&mut many);
                        parsed = req.parse(rest);
                    }
                    match parsed {
                        Ok(httparse::Status::Complete(len)) => {
                            out.push(from_parsed(&req));
                            self.state = body_of(&req);
                            at += len;
                        }
                        Ok(httparse::Status::Partial) if rest.len() < MAX_STREAM_HEAD => break,
                        _ => {
                            self.broken = true;
                            break;
                        }
                    }
                }
                State::Body(n) => {
                    let take = (rest.len() as u64).min(n);
                    at += take as usize;
                    self.state = if take == n { State::Head } else { State::Body(n - take) };
                    if take < n {
                        break;
                    }
                }
                State::ChunkSize | State::Trailer => {
                    let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                        if rest.len() > 4096 {
                            self.broken = true;
                        }
                        break;
                    };
                    let line = &rest[..end];
                    at += end + 2;
                    self.state = match self.state {
                        State::Trailer if line.is_empty() => State::Head,
                        State::Trailer => State::Trailer,
                        _ => match chunk_size(line) {
                            Some(0) => State::Trailer,
                            Some(n) => State::ChunkData(n),
                            None => {
                                self.broken = true;
                                break;
                            }
                        },
                    };
                }
                State::ChunkData(n) => {
                    let take = (rest.len() as u64).min(n);
                    at += take as usize;
                    self.state = if take == n { State::ChunkEnd } else { State::ChunkData(n - take) };
                    if take < n {
                        break;
                    }
                }
                State::ChunkEnd => {
                    if rest.len() < 2 {
                        break;
                    }
                    if &rest[..2] != b"\r\n" {
                        self.broken = true;
                        break;
                    }
                    at += 2;
                    self.state = State::ChunkSize;
                }
            }
        }
        self.pending.drain(..at.min(self.pending.len()));
        if self.broken || self.state == State::Opaque {
            self.pending = Vec::new();
        }
        out
    }
}

/// What follows a request head: its body, or opaque bytes after CONNECT or an upgrade.
fn body_of(req: &httparse::Request<'_, '_>) -> State {
    let header = |name: &str| req.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value);
    if req.method == Some("CONNECT") || header("upgrade").is_some() {
        return State::Opaque;
    }
    if header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().ends_with(b"chunked")) {
        return State::ChunkSize;
    }
    match header("content-length").and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<u64>().ok()) {
        Some(n) if n > 0 => State::Body(n),
        _ => State::Head,
    }
}

fn chunk_size(line: &[u8]) -> Option<u64> {
    let hex = line.split(|&c| c == b';').next()?;
    let hex = std::str::from_utf8(hex).ok()?.trim();
    if hex.is_empty() || hex.len() > 15 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURL: &[u8] = include_bytes!("../../fixtures/protocol/http1.bin");

    fn client(b: &[u8]) -> Outcome {
        detect(&FlowBytes { transport: Transport::Tcp, port: 80, client: b, server: &[] })
    }

    #[test]
    fn curl_request_gives_method_host_and_path() {
        let Outcome::Match(d) = client(CURL) else { panic!("not matched") };
        let h = d.http().unwrap();
        assert_eq!(h.method.as_deref(), Some("GET"));
        assert_eq!(h.host.as_deref(), Some("web.example"));
        assert_eq!(h.path.as_deref(), Some("/api/v1/items?id=7"));
    }

    #[test]
    fn partial_request_waits_and_other_text_is_not_http() {
        assert_eq!(client(&CURL[..10]), Outcome::NeedMore);
        assert_eq!(client(b"GE"), Outcome::NeedMore);
        assert_eq!(client(b"hello world\r\n"), Outcome::NoMatch);
        assert_eq!(client(b"SSH-2.0-x\r\n"), Outcome::NoMatch);
        assert_eq!(client(b"GET /x SMTP/1.0\r\n\r\n"), Outcome::NoMatch);
    }

    #[test]
    fn post_with_body_and_ipv6_host() {
        let req = b"POST /pay HTTP/1.1\r\nHost: [fd00::1]:8080\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        let Outcome::Match(d) = client(req) else { panic!() };
        let h = d.http().unwrap();
        assert_eq!(h.method.as_deref(), Some("POST"));
        assert_eq!(h.host.as_deref(), Some("fd00::1"));
        assert_eq!(h.content_type.as_deref(), Some("application/json"));
    }

    #[test]
    fn too_many_headers_falls_back_to_the_request_line() {
        let mut req = b"DELETE /a HTTP/1.1\r\n".to_vec();
        for i in 0..100 {
            req.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        req.extend_from_slice(b"\r\n");
        let Outcome::Match(d) = client(&req) else { panic!() };
        assert_eq!(d.http().unwrap().path.as_deref(), Some("/a"));
    }

    #[test]
    fn stream_sees_pipelined_requests_after_bodies() {
        let conn = b"POST /api/a HTTP/1.1\r\nHost: w\r\nContent-Length: 11\r\n\r\nGET /x HTTP\
GET /admin HTTP/1.1\r\nHost: w\r\n\r\n\
POST /api/c HTTP/1.1\r\nHost: w\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nGET \r\n6\r\n/y HTT\r\n0\r\nX-T: 1\r\n\r\n\
GET /api/d HTTP/1.1\r\nHost: w\r\n\r\n";
        for piece_len in [1usize, 5, 64, conn.len()] {
            let mut s = Stream::new();
            let mut paths = Vec::new();
            for piece in conn.chunks(piece_len) {
                paths.extend(s.feed(piece).into_iter().map(|r| r.path.unwrap_or_default()));
            }
            assert_eq!(paths, ["/api/a", "/admin", "/api/c", "/api/d"], "pieces of {piece_len}");
            assert!(!s.broken);
        }
        let mut s = Stream::new();
        s.feed(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
        assert!(s.feed(b"GET /admin HTTP/1.1\r\n\r\n").is_empty(), "websocket bytes are not requests");
        let mut s = Stream::new();
        s.feed(b"\x00\x01garbage\r\n\r\n");
        assert!(s.broken);
    }

    #[test]
    fn hostile_input_never_panics() {
        crate::protocol::hostile::never_panics(CURL, detect);
        let mut x = 11u64;
        for _ in 0..300 {
            let mut s = Stream::new();
            let mut data =
                b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".to_vec();
            for _ in 0..3 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let at = (x >> 33) as usize % data.len();
                data[at] = (x >> 9) as u8;
            }
            for piece in data.chunks(1 + (x % 7) as usize) {
                let _ = s.feed(piece);
            }
        }
    }
}
