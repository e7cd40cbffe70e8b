//! The running images' findings for `scan cluster`: each image the cluster runs
//! (`palisade_posture::cluster::images`) is looked up in the image store, by the digest the runtime reports
//! (`imageID`) or a digest reference, else by repository and tag; each stored image's open findings become
//! the cluster report's vulnerabilities, located at the workloads running it (a decision recorded in the
//! store suppresses its finding). Images the store does not hold are warnings ("not scanned"), or with
//! `--scan-missing` are pulled and stored on the `registry scan` path (bounded concurrency) and then read
//! like the others.

use super::GlobalOpts;
use super::cluster::ClusterArgs;
use super::notify::NotifyOpts;
use super::registry::{self, Job, PullOpts, RegistryScanArgs, RetryOpts, StoreOpts};
use crate::pipeline::Scanners;
use anyhow::{Context, Result};
use palisade_checks::dump::Dump;
use palisade_core::findings::vuln::{AdvisorySource, Severity, VulnFinding, VulnStatus};
use palisade_core::{Ecosystem, Location, ScanReport, Warning, Warnings};
use palisade_posture::cluster::images::{NOT_SCANNED, RunningImage, RunningIn, running_images};
use palisade_store::{FindingRow, NewImage, Store};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

/// A reference split the way registries store it: `host/path`, tag, digest.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Named {
    /// `host[:port]/path`, Docker Hub as `docker.io` (`library/` added to one-part names).
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Named {
    fn host(&self) -> &str {
        self.repository.split_once('/').map_or("", |(h, _)| h)
    }

    fn path(&self) -> &str {
        self.repository.split_once('/').map_or("", |(_, p)| p)
    }
}

/// Docker Hub's other names.
fn canonical_host(h: &str) -> &str {
    match h {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => "docker.io",
        h => h,
    }
}

/// Split an image reference as the container runtime reads it.
fn parse(reference: &str) -> Named {
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, Some(d.to_string())),
        None => (reference, None),
    };
    let last = rest.rsplit('/').next().unwrap_or(rest);
    let (rest, tag) = match last.rsplit_once(':') {
        Some((_, t)) => (&rest[..rest.len() - t.len() - 1], Some(t.to_string())),
        None => (rest, None),
    };
    let tag = tag.or_else(|| digest.is_none().then(|| "latest".to_string()));
    let (host, path) = match rest.split_once('/') {
        Some((h, p)) if h.contains('.') || h.contains(':') || h == "localhost" => {
            (canonical_host(h), p.to_string())
        }
        Some(_) => ("docker.io", rest.to_string()),
        None => ("docker.io", format!("library/{rest}")),
    };
    Named { repository: format!("{host}/{path}"), tag, digest }
}

/// A stored repository name made comparable with [`parse`]'s.
fn stored_repository(r: &str) -> String {
    match r.split_once('/') {
        Some((h, p)) => format!("{}/{p}", canonical_host(h)),
        None => r.to_string(),
    }
}

/// What the store holds: digests, and (repository, tag) → (digest, platform) for the current tags.
struct Held {
    digests: HashSet<String>,
    tags: HashMap<(String, String), Vec<(String, String)>>,
}

impl Held {
    fn read(store: &Store) -> Result<Held> {
        let mut held = Held { digests: HashSet::new(), tags: HashMap::new() };
        for i in store.images_by_risk()? {
            for t in &i.tags {
                held.tags
                    .entry((stored_repository(&i.repository), t.clone()))
                    .or_default()
                    .push((i.digest.clone(), i.platform.clone()));
            }
            held.digests.insert(i.digest);
        }
        Ok(held)
    }

    /// The stored image for `n`: its digest when stored, else its tag's image for `platform` (else any).
    fn find(&self, n: &Named, platform: &str) -> Option<String> {
        if let Some(d) = n.digest.as_ref().filter(|d| self.digests.contains(*d)) {
            return Some(d.clone());
        }
        let tagged = self.tags.get(&(n.repository.clone(), n.tag.clone()?))?;
        tagged.iter().find(|(_, p)| p == platform).or_else(|| tagged.first()).map(|(d, _)| d.clone())
    }
}

/// The platform the cluster's nodes run (`linux/<architecture>` of most nodes; `linux/amd64` without any).
fn cluster_platform(dump: &Dump) -> String {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for n in dump.of_kind("Node") {
        let root = &n.object.root;
        let os =
            root.path(&["status", "nodeInfo", "operatingSystem"]).and_then(|v| v.as_str()).unwrap_or("linux");
        if let Some(arch) = root.path(&["status", "nodeInfo", "architecture"]).and_then(|v| v.as_str()) {
            *count.entry(format!("{os}/{arch}")).or_default() += 1;
        }
    }
    count
        .into_iter()
        .max_by_key(|(p, n)| (*n, std::cmp::Reverse(p.clone())))
        .map_or("linux/amd64".into(), |(p, _)| p)
}

/// Add the running images' findings (and the "not scanned" warnings) to a cluster report.
pub fn add_findings(
    report: &mut ScanReport,
    dump: &Dump,
    args: &ClusterArgs,
    scanners: &Scanners,
    global: &GlobalOpts,
) -> Result<()> {
    let running = running_images(dump);
    if running.is_empty() {
        return Ok(());
    }
    let store_opts = StoreOpts { store: args.store.clone() };
    if args.store.is_none() && !args.scan_missing {
        let default = match &global.cache_dir {
            Some(dir) => dir.join("store").join("palisade-store.db"),
            None => palisade_store::default_store_path(),
        };
        if !default.exists() {
            report.warnings.push(Warning::new(
                "cluster",
                format!(
                    "no image store at {}: the {} running images are {NOT_SCANNED} (fill one with `palisade \
                     registry scan`, or give --store or --scan-missing)",
                    default.display(),
                    running.len()
                ),
            ));
            return Ok(());
        }
    }
    let store = store_opts.open(global)?;
    let platform = cluster_platform(dump);
    let held = Held::read(&store)?;
    // Stored digest → the images that resolve to it.
    let mut found: BTreeMap<String, Vec<&RunningImage>> = BTreeMap::new();
    let mut missing: Vec<&RunningImage> = Vec::new();
    for img in &running {
        let named = parse(&img.reference);
        let named = Named { digest: img.digest.clone().or(named.digest.clone()), ..named };
        match held.find(&named, &platform) {
            Some(d) => found.entry(d).or_default().push(img),
            None => missing.push(img),
        }
    }
    if args.scan_missing && !missing.is_empty() {
        let (scanned, failures) = scan_missing(&missing, &platform, args, scanners, global, &store)?;
        for f in failures {
            report.warnings.push(Warning::new("cluster", f));
        }
        let mut still = Vec::new();
        for img in missing {
            match scanned.get(&img.reference) {
                Some(d) => found.entry(d.clone()).or_default().push(img),
                None => still.push(img),
            }
        }
        missing = still;
    }
    for img in &missing {
        report.warnings.push(Warning::new(
            "cluster",
            format!(
                "{}{}: {NOT_SCANNED}: not in the image store {}; run by {}. Scan it with --scan-missing or \
                 `palisade registry scan`",
                img.reference,
                img.digest
                    .as_ref()
                    .filter(|_| !img.reference.contains('@'))
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default(),
                store.name(),
                workloads(img.running_in.iter())
            ),
        ));
    }
    for (digest, images) in &found {
        let running_in: BTreeSet<&RunningIn> = images.iter().flat_map(|i| i.running_in.iter()).collect();
        let references: BTreeSet<&str> = images.iter().map(|i| i.reference.as_str()).collect();
        let shown =
            format!("{}@{digest}", parse(references.iter().next().copied().unwrap_or_default()).repository);
        for row in store.findings(digest)? {
            match finding(&row, &shown, &running_in) {
                Some(f) => report.vulnerabilities.push(f),
                None => report.warnings.push(Warning::new(
                    "cluster",
                    format!(
                        "{}: image store {}: finding {} names an unknown package type: {}",
                        shown,
                        store.name(),
                        row.vuln_id,
                        row.purl
                    ),
                )),
            }
        }
    }
    Ok(())
}

fn workloads<'a>(running_in: impl Iterator<Item = &'a RunningIn>) -> String {
    let all: Vec<String> = running_in.map(ToString::to_string).collect();
    if all.len() > 5 { format!("{} and {} more", all[..5].join(", "), all.len() - 5) } else { all.join(", ") }
}

/// `pkg:TYPE/NS/NAME@VERSION?…#…` → (ecosystem, name, version).
fn split_purl(purl: &str) -> Option<(Ecosystem, String, String)> {
    let body = purl.strip_prefix("pkg:")?;
    let body = body.split(['?', '#']).next()?;
    let (ty, rest) = body.split_once('/')?;
    let (path, version) = rest.rsplit_once('@')?;
    let name = path.rsplit('/').next()?;
    let decode = |s: &str| s.replace("%40", "@").replace("%2F", "/").replace("%3A", ":").replace("%2B", "+");
    Some((Ecosystem::from_purl_type(ty)?, decode(name), decode(version)))
}

/// One open finding of a stored image as a report finding, located at the workloads that run the image.
fn finding(row: &FindingRow, shown: &str, running_in: &BTreeSet<&RunningIn>) -> Option<VulnFinding> {
    let (ecosystem, name, version) = split_purl(&row.purl)?;
    let status = serde_json::from_value::<VulnStatus>(serde_json::Value::String(row.status.clone()))
        .unwrap_or(VulnStatus::Affected);
    Some(VulnFinding {
        id: row.vuln_id.clone(),
        aliases: Vec::new(),
        package_name: name,
        package_version: version.clone(),
        ecosystem,
        purl: row.purl.clone(),
        locations: running_in.iter().map(|r| Location::new(format!("{r}: {shown}"), None)).collect(),
        installed_version: version,
        fixed_version: row.fixed_version.clone(),
        fixed_versions: row.fixed_version.iter().cloned().collect(),
        status,
        severity: row.severity.parse().unwrap_or(Severity::Unknown),
        severity_source: Some("image store".into()),
        cvss: Vec::new(),
        title: row.title.clone(),
        description: None,
        references: Vec::new(),
        matched_by: vec![format!("open in the image store for {shown} since {}", row.first_seen)],
        advisory_sources: vec![AdvisorySource {
            feed: "image-store".into(),
            id: row.vuln_id.clone(),
            file: None,
        }],
        published: None,
        modified: None,
        exploit: None,
        suppressed: row.decision.as_ref().map(|d| format!("image store decision: {d}")),
    })
}

/// `--scan-missing`: pull the images the store lacks (by their digest, else their tag resolved for
/// `platform`) on the `registry scan` path, store them, match them against the DB. Returns reference →
/// stored digest, and one line per image that could not be scanned.
fn scan_missing(
    missing: &[&RunningImage],
    platform: &str,
    args: &ClusterArgs,
    scanners: &Scanners,
    global: &GlobalOpts,
    store: &Store,
) -> Result<(HashMap<String, String>, Vec<String>)> {
    let mut failures = Vec::new();
    let mut jobs: BTreeMap<String, Job> = BTreeMap::new();
    let mut digest_of: HashMap<String, String> = HashMap::new();
    let mut listers: HashMap<String, palisade_artifact::RegistryLister> = HashMap::new();
    let warnings = Warnings::new();
    let retry = RetryOpts { max_retries: 5, max_retry_wait: 60 };
    for img in missing {
        let named = parse(&img.reference);
        let digest = img.digest.clone().or(named.digest.clone());
        let host = named.host().to_string();
        let digest = match digest {
            Some(d) => {
                let job = jobs.entry(d.clone()).or_insert_with(|| Job {
                    digest: d.clone(),
                    platform: Some(platform.to_string()),
                    repositories: BTreeMap::new(),
                });
                job.repositories.entry(named.repository.clone()).or_default().extend(named.tag.clone());
                d
            }
            None => {
                let lister = match listers.entry(host.clone()) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        match palisade_artifact::RegistryLister::new(&host, args.insecure, &warnings) {
                            Ok(l) => e.insert(l.with_retry(retry.policy())),
                            Err(err) => {
                                failures.push(format!("{}: {NOT_SCANNED}: {err}", img.reference));
                                continue;
                            }
                        }
                    }
                };
                let tag = named.tag.clone().unwrap_or_else(|| "latest".into());
                match lister.resolve(named.path(), &tag, &[platform.to_string()]) {
                    Ok(found) if !found.is_empty() => {
                        let d = found[0].digest.clone();
                        registry::add_resolved(&mut jobs, &host, found);
                        d
                    }
                    Ok(_) => {
                        failures
                            .push(format!("{}: {NOT_SCANNED}: no manifest for {platform}", img.reference));
                        continue;
                    }
                    Err(err) => {
                        failures.push(format!("{}: {NOT_SCANNED}: {err}", img.reference));
                        continue;
                    }
                }
            }
        };
        digest_of.insert(img.reference.clone(), digest);
    }
    for w in warnings.into_vec() {
        failures.push(w.message);
    }
    // Some resolve to images already stored under another name: only their tags are recorded.
    let mut queue: Vec<Job> = Vec::new();
    for job in jobs.into_values() {
        if store.has_image(&job.digest)? {
            for (repository, tags) in &job.repositories {
                store.touch_image(&job.digest, repository, tags)?;
            }
        } else {
            queue.push(job);
        }
    }
    let scan_args = RegistryScanArgs {
        target: String::new(),
        pull: PullOpts {
            tags: None,
            platforms: vec![platform.to_string()],
            insecure: args.insecure,
            no_cache: false,
        },
        concurrency: args.concurrency,
        db: Some(scanners.db.clone()),
        retry,
        store: StoreOpts { store: args.store.clone() },
        notify: NotifyOpts::default(),
    };
    let total = queue.len();
    if total > 0 && !global.quiet {
        eprintln!("scanning {total} running images the store does not hold ({} at once)", args.concurrency);
    }
    let queue = Mutex::new(queue);
    let quiet_global = GlobalOpts { no_progress: true, ..global.clone() };
    let results: Mutex<Vec<(Job, Result<NewImage>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..usize::from(args.concurrency).min(total.max(1)) {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(|e| e.into_inner()).pop();
                    let Some(job) = next else { break };
                    let r = registry::inventory_retried(&job, &scan_args, &quiet_global);
                    results.lock().unwrap_or_else(|e| e.into_inner()).push((job, r));
                }
            });
        }
    });
    let mut stored = HashSet::new();
    for (job, result) in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
        let name = format!("{}@{}", job.repository(), job.digest);
        let put = result.and_then(|img| {
            store.put_image(&img)?;
            for (repository, tags) in job.repositories.iter().skip(1) {
                store.touch_image(&img.digest, repository, tags)?;
            }
            Ok(())
        });
        match put {
            Ok(()) => {
                if !global.quiet {
                    eprintln!("  stored {name}");
                }
                stored.insert(job.digest);
            }
            Err(e) => failures.push(format!("{name}: {NOT_SCANNED}: {}", crate::ui::error_chain(&e))),
        }
    }
    if !stored.is_empty() {
        if scanners.db.exists() {
            let db = palisade_vulndb::Db::open(&scanners.db)
                .with_context(|| format!("opening {}", scanners.db.display()))?;
            store.rematch(&db)?;
        } else {
            failures.push(format!(
                "no vulnerability DB at {}: the {} images scanned were stored unmatched",
                scanners.db.display(),
                stored.len()
            ));
        }
    }
    // Every reference whose image is now in the store.
    let scanned = digest_of.into_iter().filter(|(_, d)| store.has_image(d).unwrap_or(false)).collect();
    Ok((scanned, failures))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_as_the_runtime_reads_them() {
        let n = parse("nginx");
        assert_eq!((n.repository.as_str(), n.tag.as_deref()), ("docker.io/library/nginx", Some("latest")));
        let n = parse("127.0.0.1:5000/team/app:v1");
        assert_eq!(
            (n.repository.as_str(), n.tag.as_deref(), n.host()),
            ("127.0.0.1:5000/team/app", Some("v1"), "127.0.0.1:5000")
        );
        let d = format!("sha256:{}", "a".repeat(64));
        let n = parse(&format!("localhost:5000/app@{d}"));
        assert_eq!((n.tag, n.digest.as_deref()), (None, Some(d.as_str())));
        assert_eq!(parse("bitnami/redis:7").repository, "docker.io/bitnami/redis");
        assert_eq!(stored_repository("index.docker.io/library/nginx"), "docker.io/library/nginx");
    }

    #[test]
    fn purls_give_name_and_version() {
        assert_eq!(
            split_purl("pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"),
            Some((Ecosystem::Deb, "libc6".into(), "2.36-9+deb12u4".into()))
        );
        assert_eq!(
            split_purl("pkg:npm/%40babel/core@7.0.0"),
            Some((Ecosystem::Npm, "core".into(), "7.0.0".into()))
        );
        assert_eq!(split_purl("pkg:unknown/x@1"), None);
    }
}
