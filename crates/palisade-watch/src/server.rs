//! The HTTP side of `palisade watch`: `POST /events` (the registry's push notifications, queued in a
//! bounded channel: when it is full the push is refused with 503 and the registry sends it again),
//! `/healthz`, `/readyz` (503 once shutting down), `/metrics`. Plain HTTP: it sits inside the cluster
//! network, next to the registry; bodies are bounded. Graceful shutdown as the admission webhook's, on the
//! same signal ([`palisade_admission::server::shutdown_signal`]).

use crate::events::{self, Push};
use crate::metrics::Metrics;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::Duration;
use tokio::net::TcpListener;

/// Largest `/events` body (the registry batches events; a few hundred fit in far less).
pub const MAX_BODY: usize = 1024 * 1024;

/// What the server shares with the worker.
pub struct Shared {
    pub metrics: Metrics,
    /// False until the first poll is done, and again once shutting down.
    pub ready: AtomicBool,
    pub events: SyncSender<Push>,
}

/// Serve until `shutdown` completes, then let in-flight requests finish (at most `grace`).
pub async fn serve(
    listen: SocketAddr,
    shared: Arc<Shared>,
    shutdown: impl std::future::Future<Output = ()>,
    grace: Duration,
    on_ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    on_ready(listener.local_addr()?);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let shared = shared.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, std::convert::Infallible>(route(&shared, req).await) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .serve_connection(TokioIo::new(tcp), svc);
                    let _ = watcher.watch(conn).await;
                });
            }
        }
    }
    shared.ready.store(false, Ordering::SeqCst);
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("in-flight requests did not finish within {grace:?}; closing them");
    }
    Ok(())
}

fn text(code: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = code;
    r.headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

async fn route(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/readyz") if shared.ready.load(Ordering::SeqCst) => text(StatusCode::OK, "ready\n"),
        (&Method::GET, "/readyz") => text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
        (&Method::GET, "/metrics") => {
            let mut r = text(StatusCode::OK, shared.metrics.encode());
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            );
            r
        }
        (&Method::POST, "/events") => receive(shared, req).await,
        (_, "/events" | "/healthz" | "/readyz" | "/metrics") => {
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        }
        _ => text(StatusCode::NOT_FOUND, "not found: POST /events, GET /healthz, /readyz, /metrics\n"),
    }
}

async fn receive(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = match tokio::time::timeout(
        Duration::from_secs(10),
        Limited::new(req.into_body(), MAX_BODY).collect(),
    )
    .await
    {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) => return text(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}\n")),
        Err(_) => return text(StatusCode::REQUEST_TIMEOUT, "body not received in time\n"),
    };
    let pushes = match events::pushes(&body) {
        Ok(p) => p,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    for p in pushes {
        match shared.events.try_send(p) {
            Ok(()) => {
                shared.metrics.events.inc();
            }
            Err(TrySendError::Full(_)) => {
                shared.metrics.events_dropped.inc();
                // The registry keeps the events and sends them again.
                return text(StatusCode::SERVICE_UNAVAILABLE, "event queue full; send again later\n");
            }
            Err(TrySendError::Disconnected(_)) => {
                return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n");
            }
        }
    }
    text(StatusCode::OK, "queued\n")
}

/// Serve on a thread with a runtime of its own until SIGTERM or Ctrl-C
/// ([`palisade_admission::server::shutdown_signal`]) or until `stop` is set; `stop` is set when serving
/// ends, so the caller's loop stops too. Returns the bound address (port 0 picks a free one).
pub fn spawn(
    listen: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    grace: Duration,
) -> std::io::Result<(SocketAddr, std::thread::JoinHandle<std::io::Result<()>>)> {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new().name("palisade-watch-http".into()).spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let shutdown = {
            let stop = stop.clone();
            async move {
                tokio::select! {
                    _ = palisade_admission::server::shutdown_signal() => {}
                    _ = async {
                        while !stop.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    } => {}
                }
                stop.store(true, Ordering::SeqCst);
            }
        };
        let r = rt.block_on(serve(listen, shared, shutdown, grace, |a| {
            let _ = addr_tx.send(a);
        }));
        stop.store(true, Ordering::SeqCst);
        r
    })?;
    match addr_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(a) => Ok((a, handle)),
        Err(_) => Err(match handle.join() {
            Ok(Err(e)) => std::io::Error::new(e.kind(), format!("cannot listen on {listen}: {e}")),
            _ => std::io::Error::other(format!("the HTTP server on {listen} did not start")),
        }),
    }
}
