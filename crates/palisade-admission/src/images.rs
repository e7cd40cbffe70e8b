//! Image facts at admission: which images an object runs, the digest each reference names today, and the
//! scan report of that digest.
//!
//! - [`images_of`] lists the images of every workload kind's pod template (containers, init containers,
//!   ephemeral containers).
//! - [`Facts`] answers "what is known about this image" within the request's deadline: a tag is resolved
//!   to a digest once and cached (`digest_ttl`; failures for a short time, so an unreachable registry is
//!   asked again soon but not on every request), the report of the digest comes from the reports CI wrote
//!   (`reports_dir`, JSON scan reports, indexed by their `artifact.repo_digests`), from earlier scans of the
//!   webhook itself (`cache_dir`), from the registry store (a [`Lookup`]: the stored SBOM of the digest
//!   matched against the current vulnerability DB; trusted for `digest_ttl`, so a rescan is seen), or from
//!   a scan started now ([`Scanner`]). The store and the scanner are each asked on one background worker
//!   with a bounded queue, in that order; a request waits only until its deadline, then gets
//!   [`Fact::Unknown`], and the work goes on so the next request finds the report. A failed lookup or scan
//!   (and a digest the store does not hold) is not asked again for `retry_after`.
//! - The report is evaluated by the bundle's policies like a report in CI (gates with image scopes), and
//!   the decisions of a (digest, namespace) pair are cached with the compiled bundle
//!   ([`DecisionCache`]): a report is evaluated once per bundle version, not once per request.

use palisade_policy::engine::Decision;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

/// Where a container's image is named in the object, and the image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerImage {
    /// `containers/app`, `initContainers/setup`, `ephemeralContainers/debug`.
    pub container: String,
    pub image: String,
    /// JSON pointer to the `image` field (for digest pinning patches).
    pub pointer: String,
}

/// The pod spec of a workload object, by kind, as a JSON pointer.
fn pod_spec_pointer(object: &Value) -> Option<&'static str> {
    Some(match object.get("kind")?.as_str()? {
        "Pod" => "/spec",
        "PodTemplate" => "/template/spec",
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" | "ReplicationController" => {
            "/spec/template/spec"
        }
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        _ => return None,
    })
}

/// Every container image of a workload object; empty for other kinds.
pub fn images_of(object: &Value) -> Vec<ContainerImage> {
    let Some(spec_ptr) = pod_spec_pointer(object) else { return Vec::new() };
    let Some(spec) = object.pointer(spec_ptr) else { return Vec::new() };
    let mut out = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, c) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let Some(image) = c.get("image").and_then(Value::as_str).filter(|s| !s.is_empty()) else {
                continue;
            };
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            out.push(ContainerImage {
                container: format!("{list}/{name}"),
                image: image.to_string(),
                pointer: format!("{spec_ptr}/{list}/{i}/image"),
            });
        }
    }
    out
}

/// What is known about one image.
#[derive(Debug, Clone)]
pub enum Fact {
    /// The digest the reference names and the scan report of that digest.
    Scanned { digest: String, report: Arc<Value>, source: FactSource },
    /// No report (yet), and why; the digest when it could be resolved.
    Unknown { digest: Option<String>, reason: String },
}

/// Where a report came from, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactSource {
    /// Already known (a CI report, or an earlier scan of the webhook).
    Known,
    /// From the registry store.
    Store,
    /// Scanned for this request, within its deadline.
    ScannedNow,
}

/// Answers for images, within a deadline.
pub trait ImageFacts: Send + Sync + std::fmt::Debug {
    fn fact(&self, image: &str, deadline: Instant) -> Fact;
    /// The digest `image` names, within the deadline (digest pinning).
    fn digest(&self, image: &str, deadline: Instant) -> Result<String, String>;
}

/// Resolves a reference to its manifest digest within a timeout.
pub type Resolver = dyn Fn(&str, Duration) -> Result<String, String> + Send + Sync;
/// Scans `repository@digest` and returns its scan report as JSON.
pub type Scanner = dyn Fn(&str) -> Result<Value, String> + Send + Sync;
/// Looks `repository@digest` up in a store of scanned images and returns its scan report as JSON, or
/// `None` when the store does not hold the digest.
pub type Lookup = dyn Fn(&str) -> Result<Option<Value>, String> + Send + Sync;

/// The sources of reports asked on background workers, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Stage {
    Store,
    Scan,
}

impl Stage {
    fn doing(self) -> &'static str {
        match self {
            Stage::Store => "being looked up in the store",
            Stage::Scan => "being scanned",
        }
    }

    fn failure(self, reason: &str) -> String {
        match self {
            Stage::Store => reason.to_string(),
            Stage::Scan => format!("scan failed: {reason}"),
        }
    }
}

/// What asking one stage gave.
enum Asked {
    Found(Arc<Value>),
    /// This stage has no report (and why): ask the next one.
    Missing(String),
    /// Give up now (deadline, full queue).
    GiveUp(String),
}

/// Settings of [`Facts`].
#[derive(Debug, Clone)]
pub struct FactsConfig {
    /// Scan reports (JSON) written by CI; read at start and by [`Facts::reload_reports`].
    pub reports_dir: Option<PathBuf>,
    /// Where reports of the webhook's own scans are kept (`sha256-<hex>.json`), read back at start.
    pub cache_dir: Option<PathBuf>,
    /// How long a resolved tag → digest answer is trusted.
    pub digest_ttl: Duration,
    /// How long a failed resolution or scan is remembered before it is tried again.
    pub retry_after: Duration,
    /// Images waiting for a scan at most; more get [`Fact::Unknown`] at once.
    pub queue: usize,
}

impl Default for FactsConfig {
    fn default() -> Self {
        FactsConfig {
            reports_dir: None,
            cache_dir: None,
            digest_ttl: Duration::from_secs(300),
            retry_after: Duration::from_secs(60),
            queue: 16,
        }
    }
}

/// A resolution answer (digest or reason) and when it was made.
type Resolved = (Result<String, String>, Instant);

#[derive(Default)]
struct Known {
    /// Reports by manifest digest: the webhook's cache directory and its scans.
    reports: HashMap<String, Arc<Value>>,
    /// Reports from the store and when they were read (trusted for `digest_ttl`).
    stored: HashMap<String, (Arc<Value>, Instant)>,
    /// Digests a worker is busy with.
    pending: HashSet<(Stage, String)>,
    /// Failed or empty answers of a stage: reason and when.
    failed: HashMap<(Stage, String), (String, Instant)>,
}

impl Known {
    fn found(&self, stage: Stage, digest: &str, ttl: Duration) -> Option<Arc<Value>> {
        match stage {
            Stage::Scan => self.reports.get(digest).cloned(),
            Stage::Store => {
                self.stored.get(digest).filter(|(_, at)| at.elapsed() < ttl).map(|(r, _)| r.clone())
            }
        }
    }
}

type Shared = Arc<(Mutex<Known>, Condvar)>;

/// The image facts of a running webhook.
pub struct Facts {
    config: FactsConfig,
    resolve: Box<Resolver>,
    digests: Mutex<HashMap<String, Resolved>>,
    known: Shared,
    /// Reports read from `reports_dir` (replaced as a whole on reload).
    ci_reports: RwLock<HashMap<String, Arc<Value>>>,
    /// The queues of the background workers, in the order they are asked.
    workers: Vec<(Stage, SyncSender<String>)>,
}

/// Start the worker of `stage`: it takes `repository@digest` targets from a bounded queue and records what
/// `work` answers in `known`.
fn spawn_worker(
    stage: Stage,
    work: Box<Lookup>,
    known: Shared,
    cache_dir: Option<PathBuf>,
    queue: usize,
) -> std::io::Result<SyncSender<String>> {
    let (tx, rx) = sync_channel::<String>(queue.max(1));
    let name = match stage {
        Stage::Store => "image-store-lookup",
        Stage::Scan => "image-scanner",
    };
    std::thread::Builder::new().name(name.into()).spawn(move || {
        for target in rx {
            let digest = target.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default();
            // A worker that panics on a hostile image fails that image, not the webhook.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&target)))
                .unwrap_or_else(|_| Err(format!("{name} failed on this image (panic)")));
            let (lock, ready) = &*known;
            let mut k = lock.lock().unwrap_or_else(|p| p.into_inner());
            k.pending.remove(&(stage, digest.clone()));
            match (result, stage) {
                (Ok(Some(report)), Stage::Scan) => {
                    if let Some(dir) = &cache_dir
                        && let Err(e) = store_report(dir, &digest, &report)
                    {
                        tracing::warn!(digest, error = %e, "cannot keep the scan report");
                    }
                    k.reports.insert(digest, Arc::new(report));
                }
                (Ok(Some(report)), Stage::Store) => {
                    if k.stored.len() >= 10_000 {
                        k.stored.clear();
                    }
                    k.stored.insert(digest, (Arc::new(report), Instant::now()));
                }
                (Ok(None), _) => {
                    k.failed.insert(
                        (stage, digest),
                        ("the registry store does not hold it".into(), Instant::now()),
                    );
                }
                (Err(reason), _) => {
                    tracing::warn!(image = %target, %reason, "{name} failed");
                    k.failed.insert((stage, digest), (reason, Instant::now()));
                }
            }
            ready.notify_all();
        }
    })?;
    Ok(tx)
}

impl std::fmt::Debug for Facts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Facts").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Facts {
    /// Facts that resolve with `resolve`, look digests up in the registry store with `lookup` and scan
    /// what is still unknown with `scanner`, each on a background worker. Reports of `reports_dir` and
    /// `cache_dir` are read now; unreadable files are returned as warnings (file and reason) and skipped.
    pub fn new(
        config: FactsConfig,
        resolve: Box<Resolver>,
        lookup: Option<Box<Lookup>>,
        scanner: Option<Box<Scanner>>,
    ) -> std::io::Result<(Facts, Vec<String>)> {
        let known: Shared = Arc::default();
        let mut warnings = Vec::new();
        if let Some(dir) = &config.cache_dir {
            let (reports, w) = read_reports(dir);
            warnings.extend(w);
            known.0.lock().unwrap_or_else(|p| p.into_inner()).reports = reports;
        }
        let mut workers = Vec::new();
        if let Some(lookup) = lookup {
            workers
                .push((Stage::Store, spawn_worker(Stage::Store, lookup, known.clone(), None, config.queue)?));
        }
        if let Some(scan) = scanner {
            let work: Box<Lookup> = Box::new(move |target| scan(target).map(Some));
            let tx = spawn_worker(Stage::Scan, work, known.clone(), config.cache_dir.clone(), config.queue)?;
            workers.push((Stage::Scan, tx));
        }
        let facts = Facts {
            config,
            resolve,
            digests: Mutex::default(),
            known,
            ci_reports: RwLock::default(),
            workers,
        };
        warnings.extend(facts.reload_reports());
        Ok((facts, warnings))
    }

    /// The CI reports directory, when there is one.
    pub fn reports_dir(&self) -> Option<PathBuf> {
        self.config.reports_dir.clone()
    }

    /// Read `reports_dir` again (CI wrote new reports); returns warnings for files skipped.
    pub fn reload_reports(&self) -> Vec<String> {
        let Some(dir) = &self.config.reports_dir else { return Vec::new() };
        let (reports, warnings) = read_reports(dir);
        *self.ci_reports.write().unwrap_or_else(|p| p.into_inner()) = reports;
        warnings
    }

    fn resolve_cached(&self, image: &str, deadline: Instant) -> Result<String, String> {
        let now = Instant::now();
        if let Some((answer, at)) = self.digests.lock().unwrap_or_else(|p| p.into_inner()).get(image) {
            let ttl = if answer.is_ok() { self.config.digest_ttl } else { self.config.retry_after };
            if now.duration_since(*at) < ttl {
                return answer.clone();
            }
        }
        let left = deadline.saturating_duration_since(now);
        if left.is_zero() {
            return Err("no time left in the request's budget to resolve the tag".into());
        }
        let answer = (self.resolve)(image, left);
        let mut digests = self.digests.lock().unwrap_or_else(|p| p.into_inner());
        if digests.len() >= 100_000 {
            digests.clear();
        }
        digests.insert(image.to_string(), (answer.clone(), Instant::now()));
        answer
    }
}

impl ImageFacts for Facts {
    fn digest(&self, image: &str, deadline: Instant) -> Result<String, String> {
        self.resolve_cached(image, deadline)
    }

    fn fact(&self, image: &str, deadline: Instant) -> Fact {
        let digest = match self.resolve_cached(image, deadline) {
            Ok(d) => d,
            Err(reason) => {
                return Fact::Unknown { digest: None, reason: format!("cannot resolve: {reason}") };
            }
        };
        if let Some(report) = self.ci_reports.read().unwrap_or_else(|p| p.into_inner()).get(&digest) {
            return Fact::Scanned { digest, report: report.clone(), source: FactSource::Known };
        }
        let mut k = self.known.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(report) = k.reports.get(&digest) {
            return Fact::Scanned { digest, report: report.clone(), source: FactSource::Known };
        }
        let mut reason = "no scan report for this digest".to_string();
        for (stage, queue) in &self.workers {
            let (guard, asked) = self.ask(k, *stage, queue, image, &digest, deadline);
            k = guard;
            match asked {
                Asked::Found(report) => {
                    let source = match stage {
                        Stage::Store => FactSource::Store,
                        Stage::Scan => FactSource::ScannedNow,
                    };
                    return Fact::Scanned { digest, report, source };
                }
                Asked::Missing(why) => reason = why,
                Asked::GiveUp(why) => return Fact::Unknown { digest: Some(digest), reason: why },
            }
        }
        Fact::Unknown { digest: Some(digest), reason }
    }
}

impl Facts {
    /// Ask `stage` for the report of `digest` and wait for its answer until `deadline`.
    fn ask<'a>(
        &'a self,
        mut k: MutexGuard<'a, Known>,
        stage: Stage,
        queue: &SyncSender<String>,
        image: &str,
        digest: &str,
        deadline: Instant,
    ) -> (MutexGuard<'a, Known>, Asked) {
        let ttl = self.config.digest_ttl;
        if let Some(report) = k.found(stage, digest, ttl) {
            return (k, Asked::Found(report));
        }
        let key = (stage, digest.to_string());
        if let Some(reason) = k
            .failed
            .get(&key)
            .filter(|(_, at)| at.elapsed() < self.config.retry_after)
            .map(|(r, _)| stage.failure(r))
        {
            return (k, Asked::Missing(reason));
        }
        if !k.pending.contains(&key) {
            match queue.try_send(format!("{}@{digest}", repository_of(image))) {
                Ok(()) => {
                    k.failed.remove(&key);
                    k.pending.insert(key.clone());
                }
                Err(TrySendError::Full(_)) => {
                    let why =
                        format!("not known yet and {} images already wait for a worker", self.config.queue);
                    return (k, Asked::GiveUp(why));
                }
                Err(TrySendError::Disconnected(_)) => {
                    return (k, Asked::GiveUp("the worker for this image stopped".into()));
                }
            }
        }
        let ready = &self.known.1;
        loop {
            if let Some(report) = k.found(stage, digest, ttl) {
                return (k, Asked::Found(report));
            }
            if let Some(reason) = k.failed.get(&key).map(|(r, _)| stage.failure(r)) {
                return (k, Asked::Missing(reason));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let why = format!("{}; not finished within the request's budget", stage.doing());
                return (k, Asked::GiveUp(why));
            }
            k = ready.wait_timeout(k, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

/// `registry/repo` of a reference, without tag or digest.
pub fn repository_of(image: &str) -> &str {
    let without_digest = image.split_once('@').map_or(image, |(r, _)| r);
    match without_digest.rsplit_once(':') {
        // A colon after the last slash is a tag; before it, a registry port.
        Some((repo, tag)) if !tag.contains('/') => repo,
        _ => without_digest,
    }
}

/// Reports of a directory by manifest digest (from `artifact.repo_digests`, and the file name
/// `sha256-<hex>.json` of the webhook's own cache).
fn read_reports(dir: &Path) -> (HashMap<String, Arc<Value>>, Vec<String>) {
    let mut reports = HashMap::new();
    let mut warnings = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (reports, warnings),
        Err(e) => return (reports, vec![format!("{}: cannot list reports: {e}", dir.display())]),
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    paths.sort();
    for path in paths {
        let report: Value = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(v) => v,
            Err(e) => {
                warnings.push(format!("{}: not a JSON scan report: {e}", path.display()));
                continue;
            }
        };
        let mut digests: Vec<String> = report
            .pointer("/artifact/repo_digests")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|r| r.split_once('@').map(|(_, d)| d.to_string()))
            .collect();
        if let Some(hex) = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.strip_prefix("sha256-")) {
            digests.push(format!("sha256:{hex}"));
        }
        if digests.is_empty() {
            warnings.push(format!(
                "{}: the report names no image digest (artifact.repo_digests): scan images by registry reference",
                path.display()
            ));
            continue;
        }
        let report = Arc::new(report);
        for d in digests {
            reports.insert(d, report.clone());
        }
    }
    (reports, warnings)
}

/// Keep a report as `DIR/sha256-<hex>.json`, written to a temp file and renamed (readers never see half).
fn store_report(dir: &Path, digest: &str, report: &Value) -> std::io::Result<()> {
    let name = format!("{}.json", digest.replace(':', "-"));
    if name.contains('/') || name.starts_with('.') {
        return Err(std::io::Error::other(format!("unexpected digest {digest:?}")));
    }
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer(std::io::BufWriter::new(tmp.as_file()), report)?;
    tmp.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}

/// (digest, namespace).
type DecisionKey = (String, String);
/// Decisions and when they were made.
type Cached = (Arc<Vec<Decision>>, Instant);

/// Decisions of image reports by (digest, namespace), for one compiled bundle: a report is evaluated once
/// per bundle version and namespace, and again after `TTL` (what a report says does not change, but a
/// signature or attestation can be added to a digest at any time). Bounded: cleared when it reaches `MAX`
/// entries.
#[derive(Debug, Default)]
pub struct DecisionCache {
    entries: Mutex<HashMap<DecisionKey, Cached>>,
}

impl DecisionCache {
    const MAX: usize = 10_000;
    /// As long as the signature verification cache trusts its answers.
    pub const TTL: Duration = Duration::from_secs(300);

    pub fn get_or_insert(
        &self,
        digest: &str,
        namespace: &str,
        evaluate: impl FnOnce() -> Vec<Decision>,
    ) -> (Arc<Vec<Decision>>, bool) {
        self.get_or_insert_at(digest, namespace, Instant::now(), evaluate)
    }

    fn get_or_insert_at(
        &self,
        digest: &str,
        namespace: &str,
        now: Instant,
        evaluate: impl FnOnce() -> Vec<Decision>,
    ) -> (Arc<Vec<Decision>>, bool) {
        let key = (digest.to_string(), namespace.to_string());
        if let Some((d, at)) = self.entries.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
            && now.saturating_duration_since(*at) < Self::TTL
        {
            return (d.clone(), true);
        }
        let decisions = Arc::new(evaluate());
        // Errors (a budget ran out) are not cached: the next request tries again.
        if decisions.iter().all(|d| d.outcome != palisade_policy::engine::Outcome::Error) {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if entries.len() >= Self::MAX {
                entries.clear();
            }
            entries.insert(key, (decisions.clone(), now));
        }
        (decisions, false)
    }
}

#[cfg(test)]
mod tests;
