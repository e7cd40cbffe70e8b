//! `palisade registry scan|report|decide` and `palisade rescan`: whole registries scanned into the image
//! store (`palisade-store`), stored SBOMs re-matched when the DB changes, images listed by risk.

use super::notify::{self as notify_cmd, NotifyOpts};
use super::{EXIT_ERROR, EXIT_OK, GlobalOpts};
use crate::pipeline::{self, Scanners, TargetSpec};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade_artifact::{ArtifactError, ImageSource, RegistryLister, ResolvedImage, RetryPolicy, Waited};
use palisade_core::{ScanReport, Warnings};
use palisade_store::{Decision, FindingRow, ImageRisk, NewImage, RematchSummary, Store};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::mpsc;

/// Where the store is.
#[derive(Args, Debug, Clone, Default)]
pub struct StoreOpts {
    /// The image store: a SQLite file, or a `postgres://user@host/db` URL [default: <cache
    /// dir>/store/palisade-store.db].
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<String>,
}

impl StoreOpts {
    pub fn open(&self, global: &GlobalOpts) -> Result<Store> {
        let spec = match (&self.store, &global.cache_dir) {
            (Some(s), _) => s.clone(),
            (None, Some(dir)) => dir.join("store").join("palisade-store.db").display().to_string(),
            (None, None) => palisade_store::default_store_path().display().to_string(),
        };
        Ok(Store::open(&spec)?)
    }
}

#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// Scan every image of a registry (or one repository) into the store: list the catalog and tags, skip
    /// digests already stored, pull and inventory the rest, then match them against the vulnerability DB.
    /// A killed scan resumes where it stopped when run again.
    Scan(Box<RegistryScanArgs>),
    /// List the stored images by risk, or one image's open findings.
    Report(RegistryReportArgs),
    /// Record a decision about a vulnerability (waive until a date, accept, not affected).
    Decide(DecideArgs),
    /// Send the notifications of the dead-letter log again to the targets given (`--notify`,
    /// `--notify-slack`, the same URLs as when they failed); what is delivered leaves the log.
    Redeliver(RedeliverArgs),
}

#[derive(Args, Debug)]
pub struct RedeliverArgs {
    #[command(flatten)]
    pub notify: NotifyOpts,
}

#[derive(Args, Debug)]
pub struct RegistryScanArgs {
    /// `HOST[:PORT]` for the whole catalog, or `HOST[:PORT]/REPOSITORY` for one repository.
    pub target: String,
    #[command(flatten)]
    pub pull: PullOpts,
    /// Images pulled and inventoried at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// The vulnerability DB new images are matched against [default: <cache dir>/db/palisade.db]; without
    /// one, images are stored unmatched (`palisade rescan` matches them later).
    #[arg(long)]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub retry: RetryOpts,
    #[command(flatten)]
    pub store: StoreOpts,
    #[command(flatten)]
    pub notify: NotifyOpts,
}

/// Which images of a registry are pulled, and how (`registry scan` and `watch`).
#[derive(Args, Debug, Clone)]
pub struct PullOpts {
    /// Only tags matching this glob (e.g. `v1.*`).
    #[arg(long, value_name = "GLOB")]
    pub tags: Option<String>,
    /// Platforms to take from multi-platform indexes (repeatable, comma-separated; `all` for every one).
    #[arg(long = "platform", value_delimiter = ',', default_value = "linux/amd64")]
    pub platforms: Vec<String>,
    /// Allow plain HTTP to the registry.
    #[arg(long)]
    pub insecure: bool,
    /// Read every layer, neither using nor filling the layer cache.
    #[arg(long)]
    pub no_cache: bool,
}

impl PullOpts {
    /// `--tags` compiled, or an error naming it.
    pub fn tag_glob(&self) -> Result<Option<globset::GlobMatcher>> {
        self.tags
            .as_deref()
            .map(|g| globset::Glob::new(g).map(|g| g.compile_matcher()))
            .transpose()
            .with_context(|| format!("--tags {:?}", self.tags.as_deref().unwrap_or("")))
    }
}

/// What to do when the registry answers `429 Too Many Requests`.
#[derive(Args, Debug, Clone)]
pub struct RetryOpts {
    /// Retries of a request (listing, manifest, or a whole image pull) the registry refused with 429.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_retries: u32,
    /// Longest wait before one retry, in seconds: a `Retry-After` above it is not waited for (the image
    /// fails with an error saying so); without `Retry-After` the wait doubles from 1 s.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub max_retry_wait: u64,
}

impl RetryOpts {
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            retries: self.max_retries,
            max_wait: std::time::Duration::from_secs(self.max_retry_wait),
        }
    }
}

fn say_wait(w: &Waited, what: &str) -> String {
    format!(
        "rate limited (429) at {}: waiting {} s ({}) before retrying {what}",
        w.url,
        w.wait.as_secs(),
        if w.retry_after { "Retry-After" } else { "backoff" }
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
    Html,
}

#[derive(Args, Debug)]
pub struct RegistryReportArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: ListFormat,
    /// One image's open findings instead of the list (its manifest digest).
    #[arg(long, value_name = "DIGEST")]
    pub image: Option<String>,
    /// Only the first N images.
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// A `kubectl get pods -A -o yaml` dump (file or directory; repeatable): running pods are counted per
    /// image and weigh in the risk order.
    #[arg(long, value_name = "FILE")]
    pub deployments: Vec<PathBuf>,
    #[command(flatten)]
    pub store: StoreOpts,
}

#[derive(Args, Debug)]
pub struct DecideArgs {
    /// The vulnerability (CVE or advisory id).
    #[arg(long = "vuln", value_name = "ID")]
    pub vuln: String,
    /// `waive`, `accept` or `not-affected`.
    #[arg(long, default_value = "waive")]
    pub decision: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
    /// One image (its manifest digest) instead of every image.
    #[arg(long, value_name = "DIGEST")]
    pub image: Option<String>,
    /// One package (purl) instead of every package.
    #[arg(long)]
    pub purl: Option<String>,
    /// When the decision lapses (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub expires: Option<String>,
    /// Who decided [default: $USER].
    #[arg(long)]
    pub author: Option<String>,
    #[command(flatten)]
    pub store: StoreOpts,
}

#[derive(Args, Debug)]
pub struct RescanArgs {
    /// The vulnerability DB [default: <cache dir>/db/palisade.db].
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: ListFormat,
    #[command(flatten)]
    pub store: StoreOpts,
    #[command(flatten)]
    pub notify: NotifyOpts,
}

pub fn run(cmd: RegistryCommand, global: &GlobalOpts) -> Result<ExitCode> {
    match cmd {
        RegistryCommand::Scan(args) => scan(*args, global),
        RegistryCommand::Report(args) => report(args, global),
        RegistryCommand::Decide(args) => decide(args, global),
        RegistryCommand::Redeliver(args) => notify_cmd::redeliver(&args.notify, global),
    }
}

/// One image to pull: a manifest digest and, per repository holding it, the tags that stand for it (the
/// first repository is the one it is pulled from).
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub digest: String,
    pub platform: Option<String>,
    pub repositories: BTreeMap<String, Vec<String>>,
}

impl Job {
    pub fn repository(&self) -> &str {
        self.repositories.keys().next().map_or("", String::as_str)
    }
}

fn scan(args: RegistryScanArgs, global: &GlobalOpts) -> Result<ExitCode> {
    let (host, repo) = match args.target.split_once('/') {
        Some((h, r)) if !r.is_empty() => (h.to_string(), Some(r.trim_end_matches('/').to_string())),
        _ => (args.target.trim_end_matches('/').to_string(), None),
    };
    if host.is_empty() {
        bail!("{}: expected HOST[:PORT] or HOST[:PORT]/REPOSITORY", args.target);
    }
    let glob = args.pull.tag_glob()?;
    let notifier = args.notify.notifier(global)?;
    let store = args.store.open(global)?;
    let say = |s: String| {
        if !global.quiet {
            eprintln!("{s}");
        }
    };
    let warnings = Warnings::new();
    let lister = RegistryLister::new(&host, args.pull.insecure, &warnings)?.with_retry(args.retry.policy());
    let mut failures: Vec<String> = Vec::new();
    let listed =
        list_images(&lister, &host, repo.as_deref(), glob.as_ref(), &args.pull.platforms, &mut failures)?;
    let (repos, tag_count, by_digest) = (listed.repositories, listed.tags, listed.images);
    for w in warnings.into_vec() {
        say(format!("warning: {}", w.message));
    }
    for w in lister.take_waits() {
        say(format!("warning: {}", say_wait(&w, "the listing")));
    }
    let mut jobs: VecDeque<Job> = VecDeque::new();
    let mut skipped = 0usize;
    for job in by_digest.into_values() {
        if store.has_image(&job.digest)? {
            for (repository, tags) in &job.repositories {
                store.touch_image(&job.digest, repository, tags)?;
            }
            skipped += 1;
        } else {
            jobs.push_back(job);
        }
    }
    let total = jobs.len();
    say(format!(
        "{host}: {} repositories, {tag_count} tags, {} images: {skipped} already stored, {total} to scan",
        repos.len(),
        skipped + total
    ));

    // Pull and inventory on `concurrency` threads; this thread writes each image in its own transaction.
    let queue = Mutex::new(jobs);
    let (tx, rx) = mpsc::channel::<(Job, Result<NewImage>)>();
    let mut stored = 0usize;
    let quiet_global = GlobalOpts { no_progress: true, ..global.clone() };
    std::thread::scope(|s| {
        for _ in 0..args.concurrency.min(total.max(1) as u16) {
            let tx = tx.clone();
            let queue = &queue;
            let (args, global) = (&args, &quiet_global);
            s.spawn(move || {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    let Some(job) = next else { break };
                    let result = inventory_retried(&job, args, global);
                    if tx.send((job, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (job, result) in rx {
            let name = format!("{}@{}", job.repository(), job.digest);
            let put = |img: NewImage| -> Result<NewImage> {
                store.put_image(&img)?;
                // The same image under other repositories: their tags.
                for (repository, tags) in job.repositories.iter().skip(1) {
                    store.touch_image(&img.digest, repository, tags)?;
                }
                Ok(img)
            };
            match result.and_then(put) {
                Ok(img) => {
                    stored += 1;
                    say(format!(
                        "[{}/{total}] {name} ({}): {} packages",
                        stored + failures.len().min(total),
                        img.platform,
                        img.packages.len()
                    ));
                }
                Err(e) => {
                    // Artifact errors already name the image.
                    let msg = crate::ui::error_chain(&e);
                    failures.push(if msg.starts_with(&name) { msg } else { format!("{name}: {msg}") });
                }
            }
        }
    });

    let db_path = global.db_path(args.db.as_ref());
    let mut notified = true;
    if db_path.exists() {
        let db =
            palisade_vulndb::Db::open(&db_path).with_context(|| format!("opening {}", db_path.display()))?;
        let summary = store.rematch(&db)?;
        say(format!(
            "matched against the DB of {}: {} images, {} with new findings ({:.2} s)",
            summary.db_version,
            summary.images,
            summary.changed.iter().filter(|c| !c.new.is_empty()).count(),
            summary.seconds
        ));
        notified = notify_cmd::send(&notifier, &summary, "registry scan", global.quiet);
    } else {
        say(format!(
            "no vulnerability DB at {}: images stored unmatched; run `palisade db update` then `palisade rescan`",
            db_path.display()
        ));
    }
    store.apply_retention()?;
    for f in &failures {
        eprintln!("error: {f}");
    }
    say(format!(
        "{stored} images stored, {skipped} already stored, {} failed{}",
        failures.len(),
        if failures.is_empty() { "" } else { "; run the same command again to retry them" }
    ));
    Ok(ExitCode::from(if failures.is_empty() && notified { EXIT_OK } else { EXIT_ERROR }))
}

/// What a listing found: repositories, tags, and the images they stand for grouped by digest.
pub(crate) struct Listed {
    pub repositories: Vec<String>,
    pub tags: usize,
    pub images: BTreeMap<String, Job>,
}

/// List the catalog (or `repo`), every tag matching `glob`, and resolve them to platform manifests;
/// a repository or tag that cannot be read is a line in `failures`, a catalog that cannot be is an error.
pub(crate) fn list_images(
    lister: &RegistryLister,
    host: &str,
    repo: Option<&str>,
    glob: Option<&globset::GlobMatcher>,
    platforms: &[String],
    failures: &mut Vec<String>,
) -> Result<Listed> {
    let repos = match repo {
        Some(r) => vec![r.to_string()],
        None => lister.repositories().with_context(|| format!("listing the catalog of {host}"))?,
    };
    // Tags → platform manifests, grouped by digest.
    let mut by_digest: BTreeMap<String, Job> = BTreeMap::new();
    let mut tag_count = 0usize;
    for r in &repos {
        let tags = match lister.tags(r) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{host}/{r}: listing tags: {e}"));
                continue;
            }
        };
        for tag in tags.into_iter().filter(|t| glob.is_none_or(|g| g.is_match(t))) {
            tag_count += 1;
            match lister.resolve(r, &tag, platforms) {
                Ok(found) => add_resolved(&mut by_digest, host, found),
                Err(e) => failures.push(format!("{host}/{r}:{tag}: {e}")),
            }
        }
    }
    Ok(Listed { repositories: repos, tags: tag_count, images: by_digest })
}

/// Group resolved images by digest.
pub(crate) fn add_resolved(by_digest: &mut BTreeMap<String, Job>, host: &str, found: Vec<ResolvedImage>) {
    for ResolvedImage { repository, tag, digest, platform, .. } in found {
        let job = by_digest.entry(digest.clone()).or_insert_with(|| Job {
            digest,
            platform,
            repositories: BTreeMap::new(),
        });
        job.repositories.entry(format!("{host}/{repository}")).or_default().push(tag);
    }
}

/// [`inventory`], the whole image tried again after a rate limit (the layer cache keeps what was already
/// pulled).
pub(crate) fn inventory_retried(job: &Job, args: &RegistryScanArgs, global: &GlobalOpts) -> Result<NewImage> {
    let outcome = args.retry.policy().run(
        || match inventory(job, args, global) {
            Ok(img) => Ok(Ok(img)),
            Err(e) => match e.downcast::<ArtifactError>() {
                Ok(limited @ ArtifactError::RateLimited { .. }) => Err(limited),
                Ok(other) => Ok(Err(other.into())),
                Err(e) => Ok(Err(e)),
            },
        },
        |w| {
            if !global.quiet {
                eprintln!("warning: {}", say_wait(w, &format!("{}@{}", job.repository(), job.digest)));
            }
        },
    );
    outcome.unwrap_or_else(|limited| Err(limited.into()))
}

/// Pull one image by digest and turn its inventory into what the store keeps.
fn inventory(job: &Job, args: &RegistryScanArgs, global: &GlobalOpts) -> Result<NewImage> {
    let reference = format!("{}@{}", job.repository(), job.digest);
    let image = super::common::ImageOpts {
        platform: job.platform.clone().unwrap_or_else(|| "linux/amd64".into()),
        insecure: args.pull.insecure,
        image_src: vec![ImageSource::Remote],
        no_cache: args.pull.no_cache,
    };
    let scanners =
        Scanners { max_file_size: palisade_artifact::Limits::default().max_file_size, ..Scanners::default() };
    let report = pipeline::scan(&TargetSpec::Registry(reference), &image, &scanners, global)?;
    // The store keeps an image's SBOM for good: content that does not match its digest is not an image the
    // registry really holds (a corrupt or tampered blob), so it is refused rather than stored.
    if let Some(w) = report.warnings.iter().find(|w| w.message.contains("digest mismatch")) {
        bail!("not stored: {}", w.message);
    }
    new_image(report, job)
}

fn new_image(report: ScanReport, job: &Job) -> Result<NewImage> {
    let mut sbom = Vec::new();
    palisade_report::render(&report, palisade_report::Format::CycloneDx, &mut sbom)
        .context("writing the SBOM")?;
    let info = &report.artifact;
    let config = info.config.as_ref();
    let labels = config.map(|c| c.labels.clone()).unwrap_or_default();
    let base_image = labels.get("org.opencontainers.image.base.name").map(|name| {
        match labels.get("org.opencontainers.image.base.digest") {
            Some(d) => format!("{name}@{d}"),
            None => name.clone(),
        }
    });
    let platform = info.platform.clone().or_else(|| job.platform.clone()).unwrap_or_default();
    let mut packages = report.packages.clone();
    packages.extend(report.projects.iter().filter(|p| p.is_binary_main()).cloned());
    Ok(NewImage {
        digest: job.digest.clone(),
        platform,
        repository: job.repository().to_string(),
        tags: job.repositories.values().next().cloned().unwrap_or_default(),
        created: config.and_then(|c| c.created.clone()),
        labels,
        base_image,
        layers: info.layers.iter().filter_map(|l| l.digest.clone()).collect(),
        os: report.os.clone(),
        packages,
        sbom,
        sbom_format: "cyclonedx-json".into(),
    })
}

fn report(args: RegistryReportArgs, global: &GlobalOpts) -> Result<ExitCode> {
    let store = args.store.open(global)?;
    let out = &mut std::io::stdout().lock();
    if let Some(digest) = &args.image {
        if !store.has_image(digest)? {
            bail!("{digest}: no such image in {}", store.name());
        }
        let findings = store.findings(digest)?;
        match args.format {
            ListFormat::Json => serde_json::to_writer_pretty(&mut *out, &findings)?,
            ListFormat::Table => {
                let mut t = table(&FINDING_COLUMNS);
                for f in &findings {
                    t.add_row(finding_row(f, true));
                }
                writeln!(out, "{t}")?;
            }
            ListFormat::Html => {
                let rows: Vec<Vec<String>> = findings.iter().map(|f| finding_row(f, false)).collect();
                html(out, &format!("Findings of {digest}"), &FINDING_COLUMNS, &rows)?;
            }
        }
        return Ok(ExitCode::from(EXIT_OK));
    }
    let mut images = store.images_by_risk()?;
    let with_pods = !args.deployments.is_empty();
    if with_pods {
        let dump = palisade_checks::dump::Dump::load(&args.deployments)?;
        for e in &dump.errors {
            eprintln!("warning: {e}");
        }
        let d = super::registry_deployments::Deployments::from_dump(&dump);
        if d.pods == 0 {
            eprintln!("warning: no running pods in {}", list_paths(&args.deployments));
        }
        for i in &mut images {
            i.set_running_pods(d.pods_for(i));
        }
        palisade_store::risk::order(&mut images);
    }
    if let Some(n) = args.top {
        images.truncate(n);
    }
    let mut columns = IMAGE_COLUMNS.to_vec();
    if with_pods {
        columns.push("Pods");
    }
    let row = |i: &ImageRisk, short: bool| {
        let mut r = image_row(i, short);
        if with_pods {
            r.push(i.running_pods.unwrap_or(0).to_string());
        }
        r
    };
    match args.format {
        ListFormat::Json => serde_json::to_writer_pretty(&mut *out, &images)?,
        ListFormat::Table => {
            let mut t = table(&columns);
            for i in &images {
                t.add_row(row(i, true));
            }
            writeln!(out, "{t}")?;
        }
        ListFormat::Html => {
            let rows: Vec<Vec<String>> = images.iter().map(|i| row(i, false)).collect();
            html(out, "Images by risk", &columns, &rows)?;
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

use std::io::Write;

const FINDING_COLUMNS: [&str; 9] = [
    "Vulnerability",
    "Severity",
    "Exploit",
    "Risk",
    "Package",
    "Status",
    "Fixed in",
    "First seen",
    "Decision",
];

fn finding_row(f: &FindingRow, short: bool) -> Vec<String> {
    vec![
        f.vuln_id.clone(),
        f.severity.clone(),
        exploit_text(f.exploit.as_ref()),
        f.risk.to_string(),
        f.purl.clone(),
        f.status.clone(),
        f.fixed_version.clone().unwrap_or_default(),
        if short {
            f.first_seen.get(..10).unwrap_or(&f.first_seen).to_string()
        } else {
            f.first_seen.clone()
        },
        f.decision.clone().unwrap_or_default(),
    ]
}

/// `KEV 2026-12-01, ransomware, EPSS 0.943`: what is known of a finding's exploitation.
fn exploit_text(x: Option<&palisade_core::findings::vuln::Exploit>) -> String {
    let Some(x) = x else { return String::new() };
    let mut parts = Vec::new();
    if let Some(d) = &x.kev_added {
        parts.push(format!("KEV {d}"));
    }
    if x.ransomware {
        parts.push("ransomware".into());
    }
    if let Some(e) = x.epss {
        parts.push(format!("EPSS {e:.3}"));
    }
    parts.join(", ")
}

const IMAGE_COLUMNS: [&str; 13] = [
    "Risk",
    "Repository",
    "Tags",
    "Digest",
    "Platform",
    "OS",
    "Critical",
    "High",
    "Medium",
    "Low",
    "Fixable",
    "Top reason",
    "DB",
];

fn image_row(i: &ImageRisk, short: bool) -> Vec<String> {
    let digest = if short { i.digest.get(..19).unwrap_or(&i.digest).to_string() } else { i.digest.clone() };
    vec![
        i.risk.to_string(),
        i.repository.clone(),
        i.tags.join(", "),
        digest,
        i.platform.clone(),
        i.os.clone().unwrap_or_default(),
        i.critical.to_string(),
        i.high.to_string(),
        i.medium.to_string(),
        i.low.to_string(),
        i.fixable.to_string(),
        i.top_reason.clone().unwrap_or_default(),
        i.db_version
            .clone()
            .map(|v| v.get(..19).unwrap_or(&v).to_string())
            .unwrap_or_else(|| "not matched".into()),
    ]
}

fn list_paths(p: &[PathBuf]) -> String {
    p.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    t.set_header(header.to_vec());
    t
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A self-contained HTML page with one table (no scripts, no external resources).
fn html(out: &mut dyn Write, title: &str, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title><style>body{{font-family:sans-serif}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}</style>\
         </head><body><h1>{t}</h1><table><tr>",
        t = escape(title)
    )?;
    for h in header {
        write!(out, "<th>{}</th>", escape(h))?;
    }
    writeln!(out, "</tr>")?;
    for r in rows {
        write!(out, "<tr>")?;
        for c in r {
            write!(out, "<td>{}</td>", escape(c))?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</table></body></html>")?;
    Ok(())
}

fn decide(args: DecideArgs, global: &GlobalOpts) -> Result<ExitCode> {
    let store = args.store.open(global)?;
    if let Some(x) = &args.expires {
        time::OffsetDateTime::parse(x, &time::format_description::well_known::Rfc3339)
            .with_context(|| format!("--expires {x:?}: expected RFC 3339, e.g. 2027-01-31T00:00:00Z"))?;
    }
    let author = args.author.or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into());
    store.decide(&Decision {
        scope: args.image.unwrap_or_else(|| "*".into()),
        vuln_id: args.vuln,
        purl: args.purl,
        decision: args.decision,
        reason: args.reason,
        author,
        expires_at: args.expires,
    })?;
    Ok(ExitCode::from(EXIT_OK))
}

/// `palisade rescan`: re-match every stored image against the current DB, without pulling.
pub fn rescan(args: RescanArgs, global: &GlobalOpts) -> Result<ExitCode> {
    let db_path = global.db_path(args.db.as_ref());
    if !db_path.exists() {
        bail!(
            "no vulnerability DB at {}: create one with `palisade db update` or `palisade db build --from PATH`",
            db_path.display()
        );
    }
    let db = palisade_vulndb::Db::open(&db_path).with_context(|| format!("opening {}", db_path.display()))?;
    let notifier = args.notify.notifier(global)?;
    let store = args.store.open(global)?;
    let summary = store.rematch(&db)?;
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    let out = &mut std::io::stdout().lock();
    match args.format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &summary)?;
            writeln!(out)?;
        }
        ListFormat::Table => rescan_table(out, &summary)?,
        ListFormat::Html => {
            let rows: Vec<Vec<String>> = summary
                .changed
                .iter()
                .map(|c| {
                    vec![
                        c.repository.clone(),
                        c.digest.clone(),
                        c.platform.clone(),
                        list(&c.new),
                        list(&c.fixed),
                        c.unchanged.to_string(),
                    ]
                })
                .collect();
            html(
                out,
                &format!("Re-match against the DB of {}", summary.db_version),
                &["Repository", "Digest", "Platform", "New", "Fixed", "Unchanged"],
                &rows,
            )?;
        }
    }
    store.apply_retention()?;
    let delivered = notify_cmd::send(&notifier, &summary, "rescan", global.quiet);
    Ok(ExitCode::from(if delivered { EXIT_OK } else { EXIT_ERROR }))
}

fn list(v: &[(String, String, String)]) -> String {
    v.iter().map(|(id, purl, sev)| format!("{id} ({sev}) in {purl}")).collect::<Vec<_>>().join("; ")
}

fn rescan_table(out: &mut dyn Write, s: &RematchSummary) -> Result<()> {
    writeln!(
        out,
        "Re-matched {} images against the DB of {} in {:.2} s: {} of {} package keys changed, {} packages matched",
        s.images, s.db_version, s.seconds, s.changed_keys, s.package_keys, s.packages_matched
    )?;
    let changed: Vec<_> = s.changed.iter().filter(|c| !c.new.is_empty() || !c.fixed.is_empty()).collect();
    writeln!(out, "{} images changed, {} unchanged", changed.len(), s.images - changed.len() as i64)?;
    if s.exploits_changed > 0 {
        writeln!(
            out,
            "Exploit data (CISA KEV, EPSS) changed for {} vulnerabilities of stored findings{}",
            s.exploits_changed,
            if s.kev_added.is_empty() {
                String::new()
            } else {
                format!("; newly in CISA KEV: {}", s.kev_added.join(", "))
            }
        )?;
    }
    if changed.is_empty() {
        return Ok(());
    }
    let mut t = table(&["Image", "Platform", "New", "Fixed", "Unchanged"]);
    for c in changed {
        let short = |v: &[(String, String, String)]| {
            let mut ids: Vec<String> = v.iter().map(|(id, _, sev)| format!("{id} ({sev})")).collect();
            ids.sort();
            ids.dedup();
            if ids.len() > 6 {
                let n = ids.len();
                ids.truncate(5);
                ids.push(format!("… {n} in all"));
            }
            ids.join("\n")
        };
        t.add_row(vec![
            format!("{}@{}", c.repository, c.digest.get(..19).unwrap_or(&c.digest)),
            c.platform.clone(),
            short(&c.new),
            short(&c.fixed),
            c.unchanged.to_string(),
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}
