//! The HTTPS server: bounded connections, bounded bodies, a time budget per review, certificate and bundle
//! reloads that never replace a good configuration with a bad one, and graceful shutdown.

use crate::images::{DecisionCache, Facts, ImageFacts};
use crate::metrics::{BundleLabels, DecisionLabels, ImageLabels, Metrics, PathLabels, RequestLabels};
use crate::namespaces::NamespaceCache;
use crate::review::{self, Context, ImageContext, ImageOutcome, Path as ReviewPath, Settings};
use crate::tls::Reloading;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use palisade_policy::bundle::{Bundle, Compiled};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Everything the server needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub bundle: PathBuf,
    pub settings: Settings,
    /// Largest request body (the API server sends at most about 3 MiB objects).
    pub max_body: usize,
    /// Connections served at once; more are closed at once (and counted).
    pub max_connections: usize,
    /// Hard limit for answering one review, above the evaluation budget (the API server's `timeoutSeconds`
    /// should be above this).
    pub request_timeout: Duration,
    /// How often certificate and bundle files are checked for changes.
    pub reload_interval: Duration,
    /// How long in-flight requests get to finish at shutdown.
    pub shutdown_grace: Duration,
    /// Image facts (scan reports of the object's images); `None`: objects only.
    pub images: Option<Arc<Facts>>,
    /// Namespaces known to the webhook (from a dump at start, then from Namespace reviews).
    pub namespaces: Arc<NamespaceCache>,
}

impl Config {
    pub fn new(listen: SocketAddr, cert: PathBuf, key: PathBuf, bundle: PathBuf) -> Config {
        Config {
            listen,
            cert,
            key,
            bundle,
            settings: Settings::default(),
            max_body: 4 * 1024 * 1024,
            max_connections: 4096,
            request_timeout: Duration::from_secs(3),
            reload_interval: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            images: None,
            namespaces: Arc::default(),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error("policy bundle {}: {message}", path.display())]
    Bundle { path: PathBuf, message: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A compiled bundle and the image decisions made with it (dropped together on reload).
struct Loaded {
    compiled: Compiled,
    image_decisions: DecisionCache,
}

impl Loaded {
    fn new(compiled: Compiled) -> Arc<Loaded> {
        Arc::new(Loaded { compiled, image_decisions: DecisionCache::default() })
    }
}

struct State {
    config: Config,
    bundle: RwLock<Arc<Loaded>>,
    bundle_stamp: RwLock<Option<SystemTime>>,
    reports_stamp: RwLock<Option<SystemTime>>,
    tls: Reloading,
    metrics: Metrics,
    ready: AtomicBool,
    /// One evaluation per core at a time: reviews queue here in arrival order instead of time-slicing a
    /// core between many evaluation threads, which multiplies every review's latency.
    evaluators: Semaphore,
}

/// Load and compile the bundle; any load error refuses it (at start: the server does not start; on reload:
/// the last good bundle stays).
fn load_bundle(path: &Path) -> Result<Compiled, ServeError> {
    let err = |message: String| ServeError::Bundle { path: path.to_path_buf(), message };
    let bundle = Bundle::read(path).map_err(|e| err(e.to_string()))?;
    let compiled = bundle.compile();
    for e in compiled.errors.iter().filter(|e| e.unsupported) {
        tracing::warn!("policy bundle: {e} (not enforced at admission)");
    }
    let errors: Vec<&palisade_policy::engine::LoadError> =
        compiled.errors.iter().filter(|e| !e.unsupported).collect();
    if !errors.is_empty() {
        let list: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        return Err(err(format!("{} problems:\n  {}", list.len(), list.join("\n  "))));
    }
    if compiled.policies.is_empty() {
        return Err(err("holds no policies".into()));
    }
    Ok(compiled)
}

/// The latest modification time of the bundle's files (a change anywhere reloads it).
fn bundle_stamp(path: &Path) -> Option<SystemTime> {
    fn walk(p: &Path, depth: usize, latest: &mut Option<SystemTime>) {
        let Ok(meta) = std::fs::symlink_metadata(p) else { return };
        if let Ok(m) = meta.modified() {
            *latest = (*latest).max(Some(m));
        }
        if meta.is_dir() && depth < 16 {
            for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                walk(&e.path(), depth + 1, latest);
            }
        }
    }
    let mut latest = None;
    walk(path, 0, &mut latest);
    latest
}

/// What a started server tells its caller: the address it is bound to.
pub struct Running {
    pub local_addr: SocketAddr,
}

/// Start serving; returns when `shutdown` completes and in-flight requests have finished (or the grace
/// period ran out). `on_ready` gets the bound address (port 0 picks a free one).
pub async fn serve(
    mut config: Config,
    shutdown: impl std::future::Future<Output = ()>,
    on_ready: impl FnOnce(Running),
) -> Result<(), ServeError> {
    let compiled = load_bundle(&config.bundle)?;
    let tls = Reloading::new(&config.cert, &config.key)?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    let local_addr =
        listener.local_addr().map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    config.listen = local_addr;
    let metrics = Metrics::new();
    metrics
        .bundle_info
        .get_or_create(&BundleLabels { bundle: compiled.name.clone(), version: compiled.version.clone() })
        .set(1);
    tracing::info!(
        bundle = %compiled.name,
        version = %compiled.version,
        policies = compiled.policies.len(),
        %local_addr,
        "admission webhook serving"
    );
    let state = Arc::new(State {
        bundle_stamp: RwLock::new(bundle_stamp(&config.bundle)),
        reports_stamp: RwLock::new(
            config.images.as_ref().and_then(|f| f.reports_dir()).and_then(|d| bundle_stamp(&d)),
        ),
        bundle: RwLock::new(Loaded::new(compiled)),
        tls,
        metrics,
        ready: AtomicBool::new(true),
        evaluators: Semaphore::new(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
        config,
    });
    on_ready(Running { local_addr });

    let reloader = tokio::spawn(reload_loop(state.clone()));
    let limit = Arc::new(Semaphore::new(state.config.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let (tcp, _peer) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = limit.clone().try_acquire_owned() else {
                    state.metrics.rejected_connections.inc();
                    drop(tcp);
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = tokio_rustls::TlsAcceptor::from(state.tls.config());
                let state = state.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let _permit = permit;
                    let tls = match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                        Ok(Ok(s)) => s,
                        _ => return,
                    };
                    let svc = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(handle(state, req).await) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .serve_connection(TokioIo::new(tls), svc);
                    let _ = watcher.watch(conn).await;
                });
            }
        }
    }
    state.ready.store(false, Ordering::SeqCst);
    reloader.abort();
    drop(listener);
    let grace = state.config.shutdown_grace;
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("in-flight requests did not finish within {grace:?}; closing them");
    }
    tracing::info!("admission webhook stopped");
    Ok(())
}

/// Serve on a runtime of its own until SIGTERM or Ctrl-C, then shut down gracefully.
pub fn run(config: Config, on_ready: impl FnOnce(Running)) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Listen { addr: config.listen, source })?;
    runtime.block_on(async move { serve(config, shutdown_signal(), on_ready).await })
}

/// Completes on SIGTERM (what Kubernetes sends a pod) or Ctrl-C; the one shutdown trigger of Palisade's
/// long-running services (the admission webhook, `palisade watch`).
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let sigterm = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = sigterm => {}
    }
    tracing::info!("shutdown signal received");
}

async fn reload_loop(state: Arc<State>) {
    let mut tick = tokio::time::interval(state.config.reload_interval);
    tick.tick().await;
    loop {
        tick.tick().await;
        match state.tls.refresh() {
            Ok(true) => {
                state.metrics.certificate_reloads.inc();
                tracing::info!("serving certificate reloaded");
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "new serving certificate refused; keeping the current one"),
        }
        reload_reports(&state).await;
        let stamp = bundle_stamp(&state.config.bundle);
        let last = state.bundle_stamp.read().map(|s| *s).unwrap_or(None);
        if stamp == last {
            continue;
        }
        if let Ok(mut s) = state.bundle_stamp.write() {
            *s = stamp;
        }
        let path = state.config.bundle.clone();
        match tokio::task::spawn_blocking(move || load_bundle(&path)).await {
            Ok(Ok(compiled)) => {
                tracing::info!(bundle = %compiled.name, version = %compiled.version, "policy bundle reloaded");
                state.metrics.bundle_info.clear();
                state
                    .metrics
                    .bundle_info
                    .get_or_create(&BundleLabels {
                        bundle: compiled.name.clone(),
                        version: compiled.version.clone(),
                    })
                    .set(1);
                if let Ok(mut b) = state.bundle.write() {
                    *b = Loaded::new(compiled);
                }
            }
            Ok(Err(e)) => {
                state.metrics.bundle_reload_failures.inc();
                tracing::error!(error = %e, "policy bundle reload refused; keeping the last good bundle");
            }
            Err(e) => tracing::error!(error = %e, "policy bundle reload failed"),
        }
    }
}

/// Read the CI reports directory again when a file in it changed.
async fn reload_reports(state: &Arc<State>) {
    let Some(facts) = state.config.images.clone() else { return };
    let Some(dir) = facts.reports_dir() else { return };
    let stamp = bundle_stamp(&dir);
    let last = state.reports_stamp.read().map(|s| *s).unwrap_or(None);
    if stamp == last {
        return;
    }
    if let Ok(mut s) = state.reports_stamp.write() {
        *s = stamp;
    }
    match tokio::task::spawn_blocking(move || facts.reload_reports()).await {
        Ok(warnings) => {
            for w in warnings {
                tracing::warn!("scan reports: {w}");
            }
            tracing::info!(dir = %dir.display(), "scan reports reloaded");
        }
        Err(e) => tracing::error!(error = %e, "scan reports reload failed"),
    }
}

fn text(code: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = code;
    r.headers_mut()
        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let endpoint = req.uri().path().to_string();
    let response = route(&state, req).await;
    let endpoint = match endpoint.as_str() {
        "/validate" | "/mutate" | "/healthz" | "/readyz" | "/metrics" => endpoint,
        _ => "other".to_string(),
    };
    state.metrics.requests.get_or_create(&RequestLabels { endpoint, code: response.status().as_u16() }).inc();
    response
}

async fn route(state: &Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/readyz") if state.ready.load(Ordering::SeqCst) => text(StatusCode::OK, "ready\n"),
        (&Method::GET, "/readyz") => text(StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"),
        (&Method::GET, "/metrics") => {
            let mut r = text(StatusCode::OK, state.metrics.encode());
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            );
            r
        }
        (&Method::POST, "/validate") => validate(state, req, Endpoint::Validate).await,
        (&Method::POST, "/mutate") => validate(state, req, Endpoint::Mutate).await,
        (_, "/validate" | "/mutate" | "/healthz" | "/readyz" | "/metrics") => {
            text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        }
        _ => text(StatusCode::NOT_FOUND, "not found: the webhook serves POST /validate and POST /mutate\n"),
    }
}

/// Which admission endpoint a review came to.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Validate,
    Mutate,
}

async fn validate(state: &Arc<State>, req: Request<Incoming>, endpoint: Endpoint) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let max = state.config.max_body;
    let body = match tokio::time::timeout(
        state.config.request_timeout,
        Limited::new(req.into_body(), max).collect(),
    )
    .await
    {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) => {
            state.metrics.errors.inc();
            if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                return text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body over the {max}-byte limit\n"),
                );
            }
            return text(StatusCode::BAD_REQUEST, format!("cannot read the request body: {e}\n"));
        }
        Err(_) => {
            state.metrics.errors.inc();
            return text(StatusCode::REQUEST_TIMEOUT, "request body not received in time\n");
        }
    };
    let loaded = state.bundle.read().map(|b| b.clone()).unwrap_or_else(|p| p.into_inner().clone());
    let settings = state.config.settings.clone();
    let facts = state.config.images.clone();
    let namespaces = state.config.namespaces.clone();
    let deadline = tokio::time::Instant::from_std(started) + state.config.request_timeout;
    let work = async {
        // The semaphore is never closed, so acquiring only waits.
        let _slot = state.evaluators.acquire().await;
        tokio::task::spawn_blocking(move || match endpoint {
            Endpoint::Validate => {
                let images =
                    facts.as_deref().map(|f| ImageContext { facts: f, decisions: &loaded.image_decisions });
                let context = Context { images, namespaces: Some(&namespaces) };
                review::review(&body, &loaded.compiled.policies, &settings, &context)
            }
            Endpoint::Mutate => {
                review::mutate(&body, &settings, facts.as_deref().map(|f| f as &dyn ImageFacts))
            }
        })
        .await
    };
    let reviewed = match tokio::time::timeout_at(deadline, work).await {
        Ok(Ok(Ok(r))) => r,
        Ok(Ok(Err(bad))) => {
            state.metrics.errors.inc();
            return text(StatusCode::BAD_REQUEST, format!("not a usable AdmissionReview: {bad}\n"));
        }
        Ok(Err(join)) => {
            state.metrics.errors.inc();
            tracing::error!(error = %join, "review task failed");
            return text(StatusCode::INTERNAL_SERVER_ERROR, "review failed\n");
        }
        Err(_) => {
            // The API server applies the webhook's failurePolicy to this.
            state.metrics.errors.inc();
            return text(StatusCode::SERVICE_UNAVAILABLE, "review did not finish within the time limit\n");
        }
    };
    let m = &state.metrics;
    m.latency.observe(started.elapsed().as_secs_f64());
    let path = match reviewed.path {
        ReviewPath::Evaluated => "evaluated",
        ReviewPath::Excluded => "excluded",
        ReviewPath::BreakGlass => "break-glass",
        ReviewPath::Mutated if reviewed.pinned > 0 => "pinned",
        ReviewPath::Mutated => "unchanged",
    };
    m.reviews.get_or_create(&PathLabels { path: path.into(), allowed: reviewed.allowed.to_string() }).inc();
    for d in &reviewed.decisions {
        let action = match d.outcome {
            palisade_policy::engine::Outcome::Error => "error".to_string(),
            _ => format!("{:?}", d.action).to_ascii_lowercase(),
        };
        m.decisions.get_or_create(&DecisionLabels { policy: d.policy.clone(), action }).inc();
    }
    for outcome in &reviewed.images {
        let outcome = match outcome {
            ImageOutcome::Cached => "cached",
            ImageOutcome::Evaluated => "evaluated",
            ImageOutcome::Scanned => "scanned",
            ImageOutcome::Unknown => "unknown",
        };
        m.images.get_or_create(&ImageLabels { outcome: outcome.into() }).inc();
    }
    for _ in 0..reviewed.failed_open {
        m.fail_open.inc();
    }
    if reviewed.path == ReviewPath::BreakGlass {
        tracing::warn!(uid = %reviewed.uid, object = %reviewed.object, dry_run = reviewed.dry_run, "BREAK-GLASS: admitted without policy evaluation");
    } else if !reviewed.decisions.is_empty() {
        tracing::info!(
            uid = %reviewed.uid,
            object = %reviewed.object,
            allowed = reviewed.allowed,
            dry_run = reviewed.dry_run,
            decisions = reviewed.decisions.len(),
            "admission decision"
        );
    }
    let mut r = Response::new(Full::new(Bytes::from(reviewed.response.to_string())));
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    r
}
