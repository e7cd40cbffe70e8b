//! The agent's HTTP endpoints: `/metrics` (OpenMetrics), `/healthz` and `/graph` (the connection graph of
//! the newest connections, JSON, or Graphviz DOT with `?format=dot`), on a one-thread tokio runtime of
//! their own so the event loop never waits on a scrape.

use crate::agent::metrics::Metrics;
use crate::netflow::FlowLog;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A running endpoint server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Bind `addr` and serve until the returned [`Server`] is dropped. `healthy` answers `/healthz`.
pub fn serve(
    addr: SocketAddr,
    metrics: Arc<Mutex<Metrics>>,
    healthy: Arc<AtomicBool>,
    flows: Arc<Mutex<FlowLog>>,
) -> std::io::Result<Server> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(addr))?;
    let local = listener.local_addr()?;
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new().name("agent-http".into()).spawn(move || {
        runtime.block_on(async move {
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = &mut rx => break,
                };
                let Ok((stream, _)) = accepted else { continue };
                let (metrics, healthy, flows) = (metrics.clone(), healthy.clone(), flows.clone());
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let response = route(&req, &metrics, &healthy, &flows);
                    async move { Ok::<_, std::convert::Infallible>(response) }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
    })?;
    Ok(Server { addr: local, stop: Some(tx), thread: Some(thread) })
}

fn text(code: StatusCode, body: String, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = code;
    r.headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(content_type));
    r
}

fn route(
    req: &Request<Incoming>,
    metrics: &Mutex<Metrics>,
    healthy: &AtomicBool,
    flows: &Mutex<FlowLog>,
) -> Response<Full<Bytes>> {
    const PLAIN: &str = "text/plain; charset=utf-8";
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") if healthy.load(Ordering::Relaxed) => {
            text(StatusCode::OK, "ok\n".into(), PLAIN)
        }
        (&Method::GET, "/healthz") => text(StatusCode::SERVICE_UNAVAILABLE, "sensor stopped\n".into(), PLAIN),
        (&Method::GET, "/metrics") => {
            let body = metrics.lock().map(|m| m.encode()).unwrap_or_default();
            text(StatusCode::OK, body, "application/openmetrics-text; version=1.0.0; charset=utf-8")
        }
        (&Method::GET, "/graph") => {
            let graph = flows.lock().map(|f| f.graph()).unwrap_or_default();
            if req.uri().query().is_some_and(|q| q.split('&').any(|p| p == "format=dot")) {
                text(StatusCode::OK, graph.to_dot(), "text/vnd.graphviz; charset=utf-8")
            } else {
                let body = serde_json::to_string_pretty(&graph).unwrap_or_default() + "\n";
                text(StatusCode::OK, body, "application/json")
            }
        }
        _ => text(
            StatusCode::NOT_FOUND,
            "not found: the agent serves GET /metrics, /healthz and /graph\n".into(),
            PLAIN,
        ),
    }
}
