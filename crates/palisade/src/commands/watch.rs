//! `palisade watch`: the long-running service that keeps the image store current. It polls the configured
//! registries, takes the registry's push notifications on `POST /events`, queues the images not yet stored
//! in the store's shared scan queue, claims rows of it (several replicas on one PostgreSQL store split the
//! work: `FOR UPDATE SKIP LOCKED`), pulls and inventories them as `registry scan` does, updates the
//! vulnerability DB on a schedule and re-matches, and notifies new findings. `/metrics`, `/healthz`,
//! `/readyz`; SIGTERM finishes the images in progress, gives unstarted claims back and exits.

use super::notify::NotifyOpts;
use super::registry::{self, Job, PullOpts, RegistryScanArgs, RetryOpts, StoreOpts};
use super::{EXIT_OK, GlobalOpts};
use anyhow::{Context, Result, bail};
use clap::Args;
use palisade_artifact::RegistryLister;
use palisade_core::Warnings;
use palisade_store::{QueuedImage, Store};
use palisade_watch::events::Push;
use palisade_watch::metrics::{Metrics, StateLabels};
use palisade_watch::server::{self, Shared};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// A registry to watch: `HOST[:PORT]` (its whole catalog) or `HOST[:PORT]/REPOSITORY` (repeatable;
    /// the environment variable takes a comma-separated list, as the Helm chart's ConfigMap sets it).
    #[arg(
        long = "registry",
        value_name = "HOST[/REPO]",
        required = true,
        env = "PALISADE_WATCH_REGISTRIES",
        value_delimiter = ','
    )]
    pub registries: Vec<String>,
    /// Address of `/events`, `/metrics`, `/healthz` and `/readyz` (plain HTTP).
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// Seconds between two polls of the registries.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_interval: u64,
    /// Seconds between two vulnerability DB updates (each followed by a re-match); 0: never update.
    #[arg(long, value_name = "SECONDS", default_value_t = 21600)]
    pub db_interval: u64,
    /// Rebuild the DB from these local advisory sources (as `db build --from`) instead of downloading the
    /// feeds (as `db update`) (repeatable).
    #[arg(long = "db-from", value_name = "PATH")]
    pub db_from: Vec<PathBuf>,
    /// Base URL of a feed mirror for the DB updates (as `db update --mirror`).
    #[arg(long, value_name = "URL")]
    pub db_mirror: Option<String>,
    /// The vulnerability DB [default: <cache dir>/db/palisade.db].
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Images pulled and inventoried at once by this replica.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Push events held in memory before `/events` answers 503 (the registry sends them again).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub event_queue: u64,
    /// Seconds after which a claim of a replica that stopped answering is handed out again.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub claim_timeout: u64,
    /// This replica's name in the shared queue [default: host name and process id].
    #[arg(long, value_name = "NAME")]
    pub replica: Option<String>,
    #[command(flatten)]
    pub pull: PullOpts,
    #[command(flatten)]
    pub retry: RetryOpts,
    #[command(flatten)]
    pub store: StoreOpts,
    #[command(flatten)]
    pub notify: NotifyOpts,
}

/// A watched registry: host and, optionally, one repository.
struct Watched {
    host: String,
    repo: Option<String>,
}

pub fn run(args: WatchArgs, global: &GlobalOpts) -> Result<ExitCode> {
    let mut watched = Vec::new();
    for r in &args.registries {
        let (host, repo) = match r.split_once('/') {
            Some((h, rp)) if !rp.is_empty() => (h.to_string(), Some(rp.trim_end_matches('/').to_string())),
            _ => (r.trim_end_matches('/').to_string(), None),
        };
        if host.is_empty() {
            bail!("--registry {r}: expected HOST[:PORT] or HOST[:PORT]/REPOSITORY");
        }
        watched.push(Watched { host, repo });
    }
    let glob = args.pull.tag_glob()?;
    let notifier = args.notify.notifier(global)?;
    let store = args.store.open(global)?;
    let replica = args.replica.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        format!("{}-{}", host.trim(), std::process::id())
    });
    let say = |s: String| {
        if !global.quiet {
            eprintln!("[{replica}] {s}");
        }
    };

    // The HTTP side on its own runtime; the signal stops both it and the loop below.
    let (events_tx, events_rx) = sync_channel::<Push>(args.event_queue as usize);
    let shared =
        Arc::new(Shared { metrics: Metrics::new(), ready: AtomicBool::new(false), events: events_tx });
    let stop = Arc::new(AtomicBool::new(false));
    let (addr, server) = server::spawn(args.listen, shared.clone(), stop.clone(), Duration::from_secs(10))?;
    say(format!(
        "watching {} from {}; /events, /metrics, /healthz, /readyz on http://{addr}",
        args.registries.join(", "),
        store.name()
    ));
    if store.backend() == palisade_store::Backend::Sqlite {
        say(format!(
            "warning: {} is a SQLite store: run one replica only (replicas sharing the work need PostgreSQL)",
            store.name()
        ));
    }

    let scan_args = RegistryScanArgs {
        target: String::new(),
        pull: args.pull.clone(),
        concurrency: args.concurrency,
        db: args.db.clone(),
        retry: args.retry.clone(),
        store: args.store.clone(),
        notify: NotifyOpts::default(),
    };
    let mut w = Worker {
        args: &args,
        scan_args,
        global,
        store,
        replica: replica.clone(),
        watched,
        glob,
        listers: HashMap::new(),
        shared: shared.clone(),
        notifier,
        stop: stop.clone(),
    };
    let db_path = global.db_path(args.db.as_ref());
    let mut next_poll = Instant::now();
    let mut next_db = Instant::now();
    let mut matched_since_scan = true;
    while !stop.load(Ordering::SeqCst) {
        if args.db_interval > 0 && Instant::now() >= next_db {
            next_db = Instant::now() + Duration::from_secs(args.db_interval);
            if w.update_db(&db_path) {
                matched_since_scan = false;
            }
        }
        if Instant::now() >= next_poll {
            next_poll = Instant::now() + Duration::from_secs(args.poll_interval);
            w.poll();
            shared.ready.store(true, Ordering::SeqCst);
        }
        w.take_events(&events_rx);
        let stored = w.scan_batch();
        if stored > 0 {
            matched_since_scan = false;
        }
        // One replica re-matches at a time (the lease), so that two re-matches never race on the same rows;
        // a replica that finds it taken tries again on its next turn.
        if !matched_since_scan && db_path.exists() && w.lease(REMATCH_LEASE, Duration::from_secs(600)) {
            w.rematch(&db_path);
            w.lease(REMATCH_LEASE, Duration::ZERO);
            matched_since_scan = true;
        }
        w.queue_metrics();
        if stored == 0 {
            // Nothing claimed: wait a little for events, polls or other replicas' work.
            let until = Instant::now() + Duration::from_secs(1);
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    say("stopping: images in progress finished, unstarted claims given back".into());
    shared.ready.store(false, Ordering::SeqCst);
    match server.join() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => say(format!("warning: HTTP server: {e}")),
        Err(_) => say("warning: the HTTP thread failed".into()),
    }
    say("stopped".into());
    Ok(ExitCode::from(EXIT_OK))
}

/// The lease held while re-matching.
const REMATCH_LEASE: &str = "watch-rematch";

struct Worker<'a> {
    args: &'a WatchArgs,
    scan_args: RegistryScanArgs,
    global: &'a GlobalOpts,
    store: Store,
    replica: String,
    watched: Vec<Watched>,
    glob: Option<globset::GlobMatcher>,
    listers: HashMap<String, RegistryLister>,
    shared: Arc<Shared>,
    notifier: palisade_watch::Notifier,
    stop: Arc<AtomicBool>,
}

impl Worker<'_> {
    fn say(&self, s: String) {
        if !self.global.quiet {
            eprintln!("[{}] {s}", self.replica);
        }
    }

    fn lister(&mut self, host: &str) -> Result<&RegistryLister> {
        self.ensure_lister(host)?;
        self.listers.get(host).context("registry client")
    }

    fn ensure_lister(&mut self, host: &str) -> Result<()> {
        if !self.listers.contains_key(host) {
            let warnings = Warnings::new();
            let l = RegistryLister::new(host, self.args.pull.insecure, &warnings)?
                .with_retry(self.args.retry.policy());
            for w in warnings.into_vec() {
                self.say(format!("warning: {}", w.message));
            }
            self.listers.insert(host.to_string(), l);
        }
        Ok(())
    }

    /// Queue what is not stored yet; tags of stored images are refreshed.
    fn enqueue(&self, images: BTreeMap<String, Job>) -> Result<usize> {
        let mut queue = Vec::new();
        for job in images.into_values() {
            if self.store.has_image(&job.digest)? {
                for (repository, tags) in &job.repositories {
                    self.store.touch_image(&job.digest, repository, tags)?;
                }
                continue;
            }
            let repository = job.repository().to_string();
            queue.push(QueuedImage {
                tags: job.repositories.get(&repository).cloned().unwrap_or_default(),
                digest: job.digest,
                repository,
                platform: job.platform,
            });
        }
        Ok(self.store.enqueue(&queue)?)
    }

    fn poll(&mut self) {
        let targets: Vec<(String, Option<String>)> =
            self.watched.iter().map(|w| (w.host.clone(), w.repo.clone())).collect();
        for (host, repo) in targets {
            let mut failures = Vec::new();
            let listed = self.ensure_lister(&host).and_then(|()| {
                registry::list_images(
                    &self.listers[&host],
                    &host,
                    repo.as_deref(),
                    self.glob.as_ref(),
                    &self.args.pull.platforms,
                    &mut failures,
                )
            });
            let ok = match listed.and_then(|l| {
                let n = l.images.len();
                Ok((n, self.enqueue(l.images)?))
            }) {
                Ok((n, queued)) => {
                    self.say(format!("polled {host}: {n} images, {queued} newly queued"));
                    true
                }
                Err(e) => {
                    self.say(format!("error: polling {host}: {}", crate::ui::error_chain(&e)));
                    false
                }
            };
            for f in &failures {
                self.say(format!("error: {f}"));
            }
            self.shared.metrics.polls.get_or_create(&Metrics::ok(ok && failures.is_empty())).inc();
        }
        self.report_waits();
        if let Some(line) = super::notify::redeliver_quietly(&self.notifier) {
            self.say(line);
        }
    }

    fn report_waits(&self) {
        for l in self.listers.values() {
            for w in l.take_waits() {
                self.say(format!("warning: rate limited (429) at {}: waited {} s", w.url, w.wait.as_secs()));
            }
        }
    }

    /// Queue the pushes received on `/events` for registries this replica watches.
    fn take_events(&mut self, rx: &Receiver<Push>) {
        let pushes: Vec<Push> = rx.try_iter().collect();
        for p in pushes {
            let watched = self.watched.iter().any(|w| {
                w.host == p.host
                    && w.repo.as_deref().is_none_or(|r| r == p.repository)
                    && p.tag.as_deref().is_none_or(|t| self.glob.as_ref().is_none_or(|g| g.is_match(t)))
            });
            if !watched {
                self.shared.metrics.events_dropped.inc();
                self.say(format!("push of {}/{} ignored: not a watched registry", p.host, p.repository));
                continue;
            }
            let mut images = BTreeMap::new();
            let found = match &p.tag {
                Some(tag) => {
                    let platforms = self.args.pull.platforms.clone();
                    self.lister(&p.host).and_then(|l| {
                        match l.resolve(&p.repository, tag, &platforms) {
                            Ok(found) => Ok(found),
                            // The registry announces a push from inside the manifest upload, before the
                            // tag points at it (docker-registry tags after the upload), so the tag can
                            // still be unknown: the event's digest names the same manifest.
                            Err(_) if p.digest.starts_with("sha256:") => {
                                let mut found = l.resolve(&p.repository, &p.digest, &platforms)?;
                                for image in &mut found {
                                    image.tag = tag.clone();
                                }
                                Ok(found)
                            }
                            Err(e) => Err(e.into()),
                        }
                    })
                }
                // A push by digest: an index's children arrive so, the index itself with its tag.
                None if p.media_type.contains("index") || p.media_type.contains("list") => continue,
                None => Ok(vec![palisade_artifact::ResolvedImage {
                    repository: p.repository.clone(),
                    tag: String::new(),
                    digest: p.digest.clone(),
                    platform: None,
                    index_digest: None,
                }]),
            };
            match found {
                Ok(found) => {
                    registry::add_resolved(&mut images, &p.host, found);
                    for job in images.values_mut() {
                        for tags in job.repositories.values_mut() {
                            tags.retain(|t| !t.is_empty());
                        }
                    }
                    match self.enqueue(images) {
                        Ok(n) => self.say(format!(
                            "push of {}/{}{}: {n} newly queued",
                            p.host,
                            p.repository,
                            p.tag.as_deref().map(|t| format!(":{t}")).unwrap_or_default()
                        )),
                        Err(e) => self.say(format!("error: queueing a push: {}", crate::ui::error_chain(&e))),
                    }
                }
                Err(e) => self.say(format!(
                    "error: push of {}/{}: {}",
                    p.host,
                    p.repository,
                    crate::ui::error_chain(&e)
                )),
            }
        }
    }

    /// Claim up to `concurrency` rows, scan them at once, store each in its own transaction.
    fn scan_batch(&mut self) -> usize {
        let claimed = match self.store.claim(
            &self.replica,
            self.args.concurrency as usize,
            Duration::from_secs(self.args.claim_timeout.max(1)),
        ) {
            Ok(c) => c,
            Err(e) => {
                self.say(format!("error: claiming work: {e}"));
                return 0;
            }
        };
        if claimed.is_empty() {
            return 0;
        }
        if self.stop.load(Ordering::SeqCst) {
            let digests: Vec<String> = claimed.into_iter().map(|q| q.digest).collect();
            if let Err(e) = self.store.release(&self.replica, &digests) {
                self.say(format!("warning: giving claims back: {e}"));
            }
            return 0;
        }
        let jobs: Vec<Job> = claimed
            .into_iter()
            .map(|q| Job {
                digest: q.digest,
                platform: q.platform,
                repositories: BTreeMap::from([(q.repository, q.tags)]),
            })
            .collect();
        let quiet_global = GlobalOpts { no_progress: true, ..self.global.clone() };
        let results: Vec<(Job, Result<palisade_store::NewImage>)> = std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .into_iter()
                .map(|job| {
                    let (args, global) = (&self.scan_args, &quiet_global);
                    s.spawn(move || {
                        let r = registry::inventory_retried(&job, args, global);
                        (job, r)
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let mut stored = 0;
        for (job, result) in results {
            let name = format!("{}@{}", job.repository(), job.digest);
            match result.and_then(|img| {
                self.store.put_image(&img)?;
                Ok(img)
            }) {
                Ok(img) => {
                    stored += 1;
                    self.shared.metrics.images_scanned.get_or_create(&Metrics::ok(true)).inc();
                    self.say(format!("stored {name} ({}): {} packages", img.platform, img.packages.len()));
                    if let Err(e) = self.store.finish(&job.digest, None) {
                        self.say(format!("warning: {e}"));
                    }
                }
                Err(e) => {
                    self.shared.metrics.images_scanned.get_or_create(&Metrics::ok(false)).inc();
                    let msg = crate::ui::error_chain(&e);
                    self.say(format!("error: {name}: {msg}"));
                    if let Err(e) = self.store.finish(&job.digest, Some(&msg)) {
                        self.say(format!("warning: {e}"));
                    }
                }
            }
        }
        stored
    }

    /// Refresh the DB (rebuild from `--db-from`, else download the feeds); true when it changed.
    fn update_db(&self, db_path: &std::path::Path) -> bool {
        if let Some(dir) = db_path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let result: Result<bool> = if !self.args.db_from.is_empty() {
            palisade_vulndb::build(&palisade_vulndb::BuildOptions {
                sources: self.args.db_from.clone(),
                output: db_path.to_path_buf(),
                progress: None,
                allow_errors: true,
                force: true,
            })
            .map(|stats| {
                self.say(format!("DB rebuilt from --db-from: {} advisories", stats.advisories));
                true
            })
            .map_err(Into::into)
        } else {
            let mut config = palisade_vulndb::UpdateConfig::default();
            if let Some(base) = &self.args.db_mirror {
                let base = base.trim_end_matches('/');
                for feed in &mut config.feeds {
                    feed.url = format!("{base}/{}/all.zip", feed.name);
                }
            }
            palisade_vulndb::update(&config, db_path)
                .map(|stats| {
                    self.say(format!(
                        "DB update: {} feeds downloaded, {} unchanged",
                        stats.downloaded.len(),
                        stats.not_modified.len()
                    ));
                    stats.build.is_some()
                })
                .map_err(Into::into)
        };
        match result {
            Ok(changed) => {
                self.shared.metrics.db_updates.get_or_create(&Metrics::ok(true)).inc();
                changed
            }
            Err(e) => {
                self.shared.metrics.db_updates.get_or_create(&Metrics::ok(false)).inc();
                self.say(format!(
                    "error: updating the DB at {}: {}",
                    db_path.display(),
                    crate::ui::error_chain(&e)
                ));
                false
            }
        }
    }

    /// Re-match the store against the DB and notify what is new.
    fn rematch(&self, db_path: &std::path::Path) {
        let outcome = palisade_vulndb::Db::open(db_path)
            .with_context(|| format!("opening {}", db_path.display()))
            .and_then(|db| Ok(self.store.rematch(&db)?));
        match outcome {
            Ok(summary) => {
                self.shared.metrics.rematches.get_or_create(&Metrics::ok(true)).inc();
                self.say(format!(
                    "re-matched {} images against the DB of {}: {} with new findings",
                    summary.images,
                    summary.db_version,
                    summary.changed.iter().filter(|c| !c.new.is_empty()).count()
                ));
                for d in self.notifier.notify(&summary, "watch") {
                    self.shared.metrics.notifications.get_or_create(&Metrics::ok(d.error.is_none())).inc();
                    if let Some(e) = d.error {
                        self.say(format!(
                            "error: notification to {} not delivered: {e}; kept in {}",
                            d.target,
                            self.notifier.dead_letter.display()
                        ));
                    }
                }
                if let Err(e) = self.store.apply_retention() {
                    self.say(format!("warning: retention: {e}"));
                }
            }
            Err(e) => {
                self.shared.metrics.rematches.get_or_create(&Metrics::ok(false)).inc();
                self.say(format!("error: re-matching: {}", crate::ui::error_chain(&e)));
            }
        }
    }

    /// Take (or with a zero `ttl`, give back) a lease; false when another replica holds it.
    fn lease(&self, name: &str, ttl: Duration) -> bool {
        match self.store.try_lease(name, &self.replica, ttl) {
            Ok(got) => got,
            Err(e) => {
                self.say(format!("warning: lease {name}: {e}"));
                false
            }
        }
    }

    fn queue_metrics(&self) {
        if let Ok(c) = self.store.queue_counts() {
            for (state, n) in
                [("pending", c.pending), ("claimed", c.claimed), ("done", c.done), ("failed", c.failed)]
            {
                self.shared.metrics.queue.get_or_create(&StateLabels { state: state.into() }).set(n);
            }
        }
    }
}
