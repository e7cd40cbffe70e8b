//! HTTP/1.x: a request line (`METHOD SP target SP HTTP/1.x`) from the client; method, `Host` (port
//! stripped) and path from the request head (parsed with `httparse`, 64 headers at most).

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
    fn hostile_input_never_panics() {
        crate::protocol::hostile::never_panics(CURL, detect);
    }
}
