//! The Docker Engine API (Docker, and podman's compatible socket) over a unix socket or plain TCP.
//!
//! Three requests: `GET /_ping` (is this an engine at all?), `GET /images/{name}/json` (does it have the
//! image; its id, tags and digests), `GET /images/{name}/get` (the image as a docker-archive stream). The
//! export is written to a file in a private temp directory, at most `max_layer_bytes` of it, and read by the
//! docker-archive reader like `--input`; the directory is removed when the scan ends.

use super::{Found, ImageSource, Miss, STREAM_IDLE};
use crate::{Options, image};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use palisade_core::Warnings;
use serde::Deserialize;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// Largest JSON answer read from the API.
const MAX_ANSWER: usize = 4 << 20;

/// A Docker API endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
}

impl Endpoint {
    pub(crate) fn parse(s: &str) -> Result<Endpoint, String> {
        let s = s.trim();
        if let Some(p) = s.strip_prefix("unix://") {
            Ok(Endpoint::Unix(PathBuf::from(p)))
        } else if s.starts_with('/') {
            Ok(Endpoint::Unix(PathBuf::from(s)))
        } else if let Some(h) = s.strip_prefix("tcp://").or_else(|| s.strip_prefix("http://")) {
            let h = h.trim_end_matches('/');
            if h.is_empty() || h.contains('/') {
                return Err(format!("`{s}` is not host:port"));
            }
            Ok(Endpoint::Tcp(h.to_string()))
        } else {
            Err(format!("endpoint `{s}` is not supported (use unix:///path or tcp://host:port)"))
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix://{}", p.display()),
            Endpoint::Tcp(h) => write!(f, "tcp://{h}"),
        }
    }
}

/// Do two endpoint strings name the same daemon?
pub(crate) fn same_endpoint(a: &str, b: &str) -> bool {
    match (Endpoint::parse(a), Endpoint::parse(b)) {
        (Ok(Endpoint::Unix(x)), Ok(Endpoint::Unix(y))) => {
            x == y
                || std::fs::canonicalize(&x).ok().is_some_and(|cx| std::fs::canonicalize(&y).ok() == Some(cx))
        }
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// What `GET /images/{name}/json` says.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Inspect {
    #[serde(default)]
    id: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    repo_digests: Option<Vec<String>>,
}

/// Path-escape an image name for a URL (`/`, `:` and `@` are kept: the API routes take them as they are).
fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A connection error as the user should read it.
fn connect_error(ep: &Endpoint, e: &std::io::Error) -> Miss {
    match e.kind() {
        std::io::ErrorKind::NotFound => Miss::Absent(format!("no socket at {ep}")),
        std::io::ErrorKind::PermissionDenied => {
            Miss::Failed(format!("permission denied on {ep} (run with access to the socket)"))
        }
        std::io::ErrorKind::ConnectionRefused => {
            Miss::Failed(format!("connection refused at {ep} (a stale socket? is the daemon running?)"))
        }
        _ => Miss::Failed(format!("cannot connect to {ep}: {e}")),
    }
}

/// One HTTP/1.1 request on a fresh connection.
async fn send<S>(io: S, ep: &Endpoint, path: &str) -> Result<Response<Incoming>, Miss>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| Miss::Failed(format!("{ep} does not speak HTTP: {e}")))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = Request::get(path)
        .header(hyper::header::HOST, "docker")
        .body(Empty::<Bytes>::new())
        .map_err(|e| Miss::Failed(format!("bad request {path}: {e}")))?;
    tx.send_request(req)
        .await
        .map_err(|e| Miss::Failed(format!("{ep} is not a Docker API server ({path}: {e})")))
}

async fn get(ep: &Endpoint, path: &str) -> Result<Response<Incoming>, Miss> {
    match ep {
        Endpoint::Unix(p) => {
            let s = tokio::net::UnixStream::connect(p).await.map_err(|e| connect_error(ep, &e))?;
            send(s, ep, path).await
        }
        Endpoint::Tcp(h) => {
            let s = tokio::net::TcpStream::connect(h.as_str()).await.map_err(|e| connect_error(ep, &e))?;
            send(s, ep, path).await
        }
    }
}

/// A whole (small) body.
async fn body_of(resp: Response<Incoming>, ep: &Endpoint) -> Result<Vec<u8>, Miss> {
    let mut body = resp.into_body();
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Miss::Failed(format!("{ep}: answer cut short: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > MAX_ANSWER {
                return Err(Miss::Failed(format!("{ep}: answer larger than {MAX_ANSWER} bytes")));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

/// The API's error text (`{"message": ...}`) or the raw body.
fn api_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Msg {
        message: String,
    }
    match serde_json::from_slice::<Msg>(body) {
        Ok(m) => m.message,
        Err(_) => String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_string(),
    }
}

async fn with_timeout<T>(
    d: Duration,
    what: &str,
    f: impl Future<Output = Result<T, Miss>>,
) -> Result<T, Miss> {
    tokio::time::timeout(d, f)
        .await
        .unwrap_or_else(|_| Err(Miss::Failed(format!("{what}: no answer within {} s", d.as_secs()))))
}

/// Look `reference` up through the engine at `endpoint`, export it and scan it.
pub(crate) fn scan(
    source: ImageSource,
    endpoint: &str,
    reference: &str,
    opts: &Options,
    sink: &dyn crate::FileSink,
    warnings: &Warnings,
) -> Result<Found, Miss> {
    let ep = Endpoint::parse(endpoint).map_err(Miss::Failed)?;
    if let Endpoint::Unix(p) = &ep
        && std::fs::symlink_metadata(p).is_err()
    {
        return Err(Miss::Absent(format!("no socket at {ep}")));
    }
    let rt = super::runtime(false)?;
    let timeout = opts.engines.timeout();
    let inspect = rt.block_on(with_timeout(timeout, &ep.to_string(), async {
        let ping = get(&ep, "/_ping").await?;
        let status = ping.status();
        let body = body_of(ping, &ep).await?;
        if !status.is_success() {
            return Err(Miss::Failed(format!(
                "{ep} is not a Docker API server (GET /_ping: {status} {})",
                api_message(&body)
            )));
        }
        let resp = get(&ep, &format!("/images/{}/json", escape(reference))).await?;
        let status = resp.status();
        let body = body_of(resp, &ep).await?;
        match status {
            StatusCode::OK => serde_json::from_slice::<Inspect>(&body)
                .map_err(|e| Miss::Failed(format!("{ep}: image inspect answer is not valid: {e}"))),
            StatusCode::NOT_FOUND => Err(Miss::NotFound(format!("{ep}: {}", api_message(&body)))),
            s => Err(Miss::Failed(format!("{ep}: image inspect failed: {s} {}", api_message(&body)))),
        }
    }))?;
    opts.stage(format!("exporting {reference} from {source}"));
    let tmp = tempfile::Builder::new()
        .prefix("palisade-export-")
        .tempdir()
        .map_err(|e| Miss::Failed(format!("cannot create a temporary directory: {e}")))?;
    let path = tmp.path().join("image.tar");
    let cap = opts.limits.max_layer_bytes;
    rt.block_on(export(&ep, reference, &path, cap, timeout))?;
    drop(rt);
    let (mut info, tree) = image::scan_archive_as(&path, reference, opts, sink, warnings)
        .map_err(|e| Miss::Failed(format!("the exported image cannot be read: {e}")))?;
    if !inspect.id.is_empty() {
        info.id = Some(normalize_id(&inspect.id));
    }
    if let Some(tags) = inspect.repo_tags.filter(|t| !t.is_empty()) {
        info.repo_tags = tags;
    }
    info.repo_digests = inspect.repo_digests.unwrap_or_default();
    Ok((info, tree))
}

/// `sha256:<hex>` for an id given with or without its algorithm.
pub(crate) fn normalize_id(id: &str) -> String {
    if !id.contains(':') && id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!("sha256:{id}")
    } else {
        id.to_string()
    }
}

/// Stream `GET /images/{name}/get` into `path`, at most `cap` bytes.
async fn export(
    ep: &Endpoint,
    reference: &str,
    path: &std::path::Path,
    cap: u64,
    timeout: Duration,
) -> Result<(), Miss> {
    let api = format!("/images/{}/get", escape(reference));
    let resp = with_timeout(timeout, &format!("{ep} GET {api}"), get(ep, &api)).await?;
    let status = resp.status();
    if !status.is_success() {
        let body = with_timeout(timeout, &ep.to_string(), body_of(resp, ep)).await?;
        return Err(Miss::Failed(format!("{ep}: export failed: {status} {}", api_message(&body))));
    }
    let mut file = std::fs::File::create(path)
        .map_err(|e| Miss::Failed(format!("cannot create {}: {e}", path.display())))?;
    let mut body = resp.into_body();
    let mut written: u64 = 0;
    loop {
        let frame = match tokio::time::timeout(STREAM_IDLE, body.frame()).await {
            Err(_) => {
                return Err(Miss::Failed(format!(
                    "{ep}: export stalled (nothing for {} s)",
                    STREAM_IDLE.as_secs()
                )));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(Miss::Failed(format!("{ep}: export broken off: {e}"))),
            Ok(Some(Ok(f))) => f,
        };
        if let Ok(data) = frame.into_data() {
            written = written.saturating_add(data.len() as u64);
            if written > cap {
                return Err(Miss::Failed(format!(
                    "{ep}: the exported image is larger than {cap} bytes (limit max_layer_bytes)"
                )));
            }
            file.write_all(&data).map_err(|e| Miss::Failed(format!("cannot write the export: {e}")))?;
        }
    }
    file.flush().map_err(|e| Miss::Failed(format!("cannot write the export: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(Endpoint::parse("unix:///run/x.sock"), Ok(Endpoint::Unix("/run/x.sock".into())));
        assert_eq!(Endpoint::parse("/run/x.sock"), Ok(Endpoint::Unix("/run/x.sock".into())));
        assert_eq!(Endpoint::parse("tcp://127.0.0.1:2375"), Ok(Endpoint::Tcp("127.0.0.1:2375".into())));
        assert!(Endpoint::parse("ssh://user@host").is_err());
        assert!(Endpoint::parse("npipe:////./pipe/docker_engine").is_err());
        assert!(same_endpoint("unix:///a/b.sock", "/a/b.sock"));
        assert!(!same_endpoint("unix:///a/b.sock", "unix:///a/c.sock"));
    }

    #[test]
    fn names_are_escaped_for_paths() {
        assert_eq!(escape("docker.io/library/alpine:3.19"), "docker.io/library/alpine:3.19");
        assert_eq!(escape("app@sha256:ab"), "app@sha256:ab");
        assert_eq!(escape("a?b#c%d e"), "a%3Fb%23c%25d%20e");
    }

    #[test]
    fn ids_get_their_algorithm() {
        let hex = "a".repeat(64);
        assert_eq!(normalize_id(&hex), format!("sha256:{hex}"));
        assert_eq!(normalize_id("sha256:abc"), "sha256:abc");
    }

    #[test]
    fn absent_socket_is_skipped_silently() {
        let d = tempfile::tempdir().expect("tempdir");
        let ep = format!("unix://{}", d.path().join("none.sock").display());
        let sink = crate::testutil::Recorder::all();
        let w = Warnings::new();
        let r = scan(ImageSource::Docker, &ep, "x", &Options::default(), &sink, &w);
        assert!(matches!(r, Err(Miss::Absent(_))), "{r:?}");
        assert!(w.is_empty());
    }
}
