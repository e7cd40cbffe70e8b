//! One scan, start to end: open the target, stream it once through every enabled scanner, assemble the report.

use crate::commands::GlobalOpts;
use crate::commands::common::{CheckOpts, ImageOpts, LicenseOpts, PkgType, ScannerName, SecretOpts};
use crate::commands::scan::ScanOpts;
use crate::ui::ProgressUi;
use anyhow::{Context, Result, bail};
use palisade_artifact::{FileSink, LayerCache, Options, Target};
use palisade_checks::{CheckOptions, ConfigSink, Engine, FsSink, ImageInput};
use palisade_core::{ArtifactInfo, ArtifactKind, Progress, ScanReport, Warning};
use palisade_inventory::Inventory;
use palisade_secrets::{Scanner, SecretSink};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest SBOM document or stdin config accepted as input.
const MAX_INPUT_BYTES: u64 = 1 << 30;

/// What the user asked to scan.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    ImageArchive(PathBuf),
    Registry(String),
    Rootfs(PathBuf),
    Fs {
        path: PathBuf,
        /// Honour `.gitignore` files.
        gitignore: bool,
    },
    Repo {
        path: PathBuf,
        history: bool,
    },
    Sbom(PathBuf),
    /// `scan config`: files, directories, `-` for stdin.
    Config(Vec<String>),
    /// `scan cluster`: a live cluster or, with `--from`, cluster dumps (files or directories).
    Cluster(Box<crate::commands::cluster::ClusterArgs>),
}

/// Which scanners run, with their options.
#[derive(Debug, Clone, Default)]
pub struct Scanners {
    /// Match the inventory against the vulnerability DB.
    pub vuln: bool,
    pub secret: bool,
    pub misconfig: bool,
    /// The DB file.
    pub db: PathBuf,
    /// `--pkg-types`: empty means all.
    pub pkg_types: Vec<PkgType>,
    /// `--skip-dirs` / `--skip-files`.
    pub skip_dirs: Vec<String>,
    pub skip_files: Vec<String>,
    /// `--max-file-size`.
    pub max_file_size: u64,
    pub secret_opts: SecretOpts,
    pub check_opts: CheckOpts,
    /// The licence scanner and its options, when it runs.
    pub license: Option<LicenseOpts>,
    /// When set (`scan --policy`), the misconfiguration scanner hands the Kubernetes objects it parsed here,
    /// so the policy bundle evaluates them without a second parse.
    pub policy_objects: Option<Arc<std::sync::Mutex<Vec<palisade_checks::ParsedObject>>>>,
}

impl Scanners {
    /// The scanners `chosen` with the options of one `scan`.
    pub fn new(chosen: &[ScannerName], opts: &ScanOpts, global: &GlobalOpts) -> Self {
        Scanners {
            vuln: chosen.contains(&ScannerName::Vuln),
            secret: chosen.contains(&ScannerName::Secret),
            misconfig: chosen.contains(&ScannerName::Misconfig),
            db: global.db_path(opts.vuln.db.as_ref()),
            pkg_types: opts.vuln.pkg_types.clone(),
            skip_dirs: opts.walk.skip_dirs.clone(),
            skip_files: opts.walk.skip_files.clone(),
            max_file_size: opts.walk.max_file_size,
            secret_opts: opts.secret.clone(),
            check_opts: opts.checks.clone(),
            license: chosen.contains(&ScannerName::License).then(|| opts.license.clone()),
            policy_objects: opts.policy.policy.is_some().then(Default::default),
        }
    }

    fn keeps(&self, p: &palisade_core::Package) -> bool {
        let ty = if p.ecosystem.is_os() { PkgType::Os } else { PkgType::Library };
        self.pkg_types.is_empty() || self.pkg_types.contains(&ty)
    }
}

impl TargetSpec {
    /// Guess the kind of a `palisade sbom TARGET` argument: an existing path is an image archive or layout, an
    /// SBOM document, a root filesystem (it has `etc/os-release`) or a project directory; anything else is a
    /// registry reference.
    pub fn detect(target: &str) -> Result<Self> {
        let path = Path::new(target);
        if let Ok(meta) = std::fs::metadata(path) {
            if palisade_artifact::detect(path).is_some() {
                return Ok(TargetSpec::ImageArchive(path.into()));
            }
            if meta.is_dir() {
                let is_root =
                    path.join("etc/os-release").exists() || path.join("usr/lib/os-release").exists();
                return Ok(if is_root {
                    TargetSpec::Rootfs(path.into())
                } else {
                    TargetSpec::Fs { path: path.into(), gitignore: false }
                });
            }
            let head = read_capped(path, 64 * 1024)?;
            if palisade_inventory::sbom::detect(&head).is_some() {
                return Ok(TargetSpec::Sbom(path.into()));
            }
            bail!(
                "{target}: not a directory, an image archive (docker-archive, OCI layout, oci-archive) or an SBOM \
                 (CycloneDX/SPDX JSON)"
            );
        }
        if target.starts_with('.') || target.starts_with('/') {
            bail!("{target}: no such file or directory");
        }
        Ok(TargetSpec::Registry(target.to_string()))
    }
}

/// Read at most `n` bytes of a file.
fn read_capped(path: &Path, n: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::fs::File::open(path)
        .with_context(|| format!("opening {}", path.display()))?
        .take(n)
        .read_to_end(&mut buf)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(buf)
}

/// Run one scan and build its report. Warnings are printed later, once, with the policy's.
pub fn scan(
    spec: &TargetSpec,
    image: &ImageOpts,
    scanners: &Scanners,
    global: &GlobalOpts,
) -> Result<ScanReport> {
    let progress = Arc::new(Progress::new());
    let ui = ProgressUi::start(progress.clone(), global.progress());
    let cache = (!image.no_cache).then(|| {
        let dir = global.cache_dir.clone().unwrap_or_else(palisade_core::default_cache_dir);
        LayerCache::new(dir.join("layers"), LayerCache::DEFAULT_MAX_BYTES)
    });
    let result = run(spec, image, scanners, cache, &progress, global);
    ui.finish();
    result
}

fn run(
    spec: &TargetSpec,
    image: &ImageOpts,
    scanners: &Scanners,
    layer_cache: Option<LayerCache>,
    progress: &Arc<Progress>,
    global: &GlobalOpts,
) -> Result<ScanReport> {
    // A bad licence policy fails before the scan, not after it.
    let license_policy = scanners.license.as_ref().map(LicenseOpts::policy).transpose()?;
    let mut report = match spec {
        TargetSpec::Sbom(path) => scan_sbom(path)?,
        TargetSpec::Config(paths) => scan_config(paths, scanners, progress)?,
        TargetSpec::Cluster(args) => crate::commands::cluster::scan(args, scanners, global)?,
        _ => scan_artifact(spec, image, scanners, layer_cache, progress, license_policy.as_ref())?,
    };
    report.packages.retain(|p| scanners.keeps(p));
    // Licences of packages `--pkg-types` left out go with them.
    if !scanners.pkg_types.is_empty() && !report.licenses.is_empty() {
        let kept: std::collections::HashSet<&str> = report.packages.iter().map(|p| p.purl.as_str()).collect();
        report.licenses.retain(|l| l.purl.as_deref().is_none_or(|p| kept.contains(p)));
    }
    if let (Some(policy), TargetSpec::Sbom(_)) = (&license_policy, spec) {
        // The SBOM's packages carry their declared licences; there are no files to read.
        let out = palisade_license::LicenseSink::new(false).finish(&mut report.packages, policy, |_, _| true);
        report.licenses = out.findings;
        report.warnings.extend(out.warnings);
    }
    set_end_of_life(&mut report);
    if scanners.vuln {
        progress.set_stage("matching vulnerabilities");
        match_vulnerabilities(&mut report, &scanners.db);
    }
    let skipped = palisade_core::memory::skipped();
    if skipped > 0 {
        report.gaps.push(palisade_core::Gap {
            scanner: "scan".into(),
            kind: "memory-limit".into(),
            ecosystem: None,
            packages: 0,
            message: format!(
                "{skipped} files or objects were skipped at the --memory-limit (each named in a warning); \
                 the results are incomplete"
            ),
        });
    }
    Ok(report)
}

/// The OS's end of life, where Palisade knows it.
fn set_end_of_life(report: &mut ScanReport) {
    if let Some(os) = report.os.as_mut() {
        os.end_of_life = palisade_vulndb::eol::end_of_life(os, time::OffsetDateTime::now_utc().date());
    }
}

/// The secret scanner, configured from `--secret-config`.
fn secret_scanner(opts: &SecretOpts) -> Result<Scanner> {
    let config = match &opts.secret_config {
        Some(path) => palisade_secrets::Config::from_file(path)
            .with_context(|| format!("reading secret config {}", path.display()))?,
        None => palisade_secrets::Config::default(),
    };
    Scanner::new(&config).context("building the secret scanner")
}

/// The check engine, configured from `--check-config`, `--checks`, `--skip-checks`, `--k8s-version`.
pub fn check_engine(opts: &CheckOpts) -> Result<Engine> {
    let mut config = match &opts.check_config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            CheckOptions::from_toml(&text).with_context(|| format!("check config {}", path.display()))?
        }
        None => CheckOptions::default(),
    };
    if !opts.checks.is_empty() {
        config.select = opts.checks.clone();
    }
    config.skip.extend(opts.skip_checks.iter().cloned());
    if let Some(v) = &opts.k8s_version {
        config.k8s_version = Some(v.clone());
    }
    config.crds.extend(opts.crd.iter().cloned());
    if let Some(h) = &opts.helm {
        config.helm = palisade_checks::HelmBinary::Path(h.clone());
    }
    Engine::new(&config).context("configuring checks")
}

fn scan_artifact(
    spec: &TargetSpec,
    image: &ImageOpts,
    scanners: &Scanners,
    layer_cache: Option<LayerCache>,
    progress: &Arc<Progress>,
    license_policy: Option<&palisade_license::Policy>,
) -> Result<ScanReport> {
    let (target, history) = match spec {
        TargetSpec::ImageArchive(p) => (Target::ImageArchive { path: p.clone() }, false),
        TargetSpec::Registry(r) => (Target::Image { reference: r.clone() }, false),
        TargetSpec::Rootfs(p) => (Target::Dir { path: p.clone(), kind: ArtifactKind::Rootfs }, false),
        TargetSpec::Fs { path, .. } => (Target::Dir { path: path.clone(), kind: ArtifactKind::Fs }, false),
        TargetSpec::Repo { path, history } => (Target::Repo { path: path.clone() }, *history),
        TargetSpec::Sbom(_) | TargetSpec::Config(_) | TargetSpec::Cluster(_) => {
            unreachable!("read without the artifact layer")
        }
    };
    let skip = palisade_artifact::SkipFilter::new(&scanners.skip_dirs, &scanners.skip_files, &target.name())?;
    let opts = Options {
        platform: Some(image.platform.clone()),
        insecure: image.insecure,
        image_sources: image.image_src.clone(),
        gitignore: matches!(spec, TargetSpec::Fs { gitignore: true, .. }),
        skip: skip.map(Arc::new),
        progress: Some(progress.clone()),
        layer_cache,
        limits: palisade_artifact::Limits {
            max_file_size: scanners.max_file_size,
            ..palisade_artifact::Limits::default()
        },
        ..Options::default()
    };
    let inventory = Inventory::new(Some(progress));
    let secret_scanner = if scanners.secret { Some(secret_scanner(&scanners.secret_opts)?) } else { None };
    // With --history every committed blob is scanned from git instead of the HEAD tree.
    let secret_sink = secret_scanner.as_ref().filter(|_| !history).map(SecretSink::new);
    let config_sink = if scanners.misconfig {
        let sink = ConfigSink::new(check_engine(&scanners.check_opts)?);
        let sink = if scanners.policy_objects.is_some() { sink.keep_objects() } else { sink };
        // A directory on disk: Helm charts in it can be rendered.
        Some(match &target {
            Target::Dir { path, .. } => sink.with_disk_root(path),
            _ => sink,
        })
    } else {
        None
    };
    // Images and root filesystems: the image-hardening checks judge the final filesystem.
    let hardening = config_sink.is_some()
        && matches!(spec, TargetSpec::ImageArchive(_) | TargetSpec::Registry(_) | TargetSpec::Rootfs(_));
    let fs_sink = hardening.then(FsSink::new);
    let license_sink = scanners.license.as_ref().map(|o| palisade_license::LicenseSink::new(o.license_full));

    // The inventory is always collected: reports list it, and `vuln` matches it.
    let mut sinks: Vec<&dyn FileSink> = vec![&inventory];
    if let Some(s) = &secret_sink {
        sinks.push(s);
    }
    if let Some(s) = &config_sink {
        sinks.push(s);
    }
    if let Some(s) = &fs_sink {
        sinks.push(s);
    }
    if let Some(s) = &license_sink {
        sinks.push(s);
    }
    let scanned = palisade_artifact::scan(&target, &opts, &palisade_artifact::Fanout(sinks))?;

    let inv = inventory.finish(|path, layer| scanned.tree.is_live(path, layer));
    let mut report = ScanReport::new(scanned.info, now());
    report.os = inv.os;
    report.packages = inv.packages;
    report.projects = inv.projects;
    report.not_inventoried = inv.not_inventoried;
    report.warnings = scanned.warnings;
    report.warnings.extend(inv.warnings);
    if let (Some(sink), Some(policy)) = (license_sink, license_policy) {
        progress.set_stage("classifying licences");
        let out = sink.finish(&mut report.packages, policy, |path, layer| scanned.tree.is_live(path, layer));
        report.licenses = out.findings;
        report.warnings.extend(out.warnings);
    }
    if let Some(sink) = secret_sink {
        report.secrets = sink.finish(&scanned.tree);
    }
    if let (true, Some(scanner), TargetSpec::Repo { path, .. }) = (history, &secret_scanner, spec) {
        progress.set_stage("scanning git history");
        let history = palisade_secrets::HistoryOptions { max_blob_size: scanners.max_file_size };
        let found = palisade_secrets::scan_git_history(path, scanner, progress, &history)
            .with_context(|| format!("scanning the history of {}", path.display()))?;
        report.secrets = found.findings;
        report.warnings.extend(found.warnings);
    }
    if let Some(sink) = config_sink {
        set_end_of_life(&mut report);
        let fs = fs_sink.map(|s| s.finish(|path, layer| scanned.tree.is_live_entry(path, layer)));
        let image_findings = (fs.is_some() || report.artifact.config.is_some()).then(|| {
            sink.engine().check_image(&ImageInput {
                config: report.artifact.config.as_ref(),
                fs: fs.as_ref(),
                artifact: Some(&report.artifact),
                os: report.os.as_ref(),
                today: time::OffsetDateTime::now_utc().date(),
            })
        });
        let (outcome, objects) = sink.finish_with_objects();
        keep_policy_objects(scanners, objects);
        report.misconfigurations = outcome.findings;
        report.warnings.extend(outcome.warnings);
        report.misconfigurations.extend(image_findings.into_iter().flatten());
    }
    sort_findings(&mut report);
    Ok(report)
}

/// `scan config PATH...`: files and directories checked as one set (relational checks see every object
/// given, Helm charts are rendered), `-` from stdin.
fn scan_config(paths: &[String], scanners: &Scanners, progress: &Arc<Progress>) -> Result<ScanReport> {
    let engine = check_engine(&scanners.check_opts)?;
    let mut report = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, paths.join(" ")), now());
    let skip = palisade_artifact::SkipFilter::new(&scanners.skip_dirs, &scanners.skip_files, "")?;
    let opts = Options { skip: skip.map(Arc::new), progress: Some(progress.clone()), ..Options::default() };
    let sink = ConfigSink::new(engine);
    let sink = if scanners.policy_objects.is_some() { sink.keep_objects() } else { sink };
    let (outcome, objects) = palisade_checks::scan_paths_keeping(sink, paths, &opts)?;
    keep_policy_objects(scanners, objects);
    report.misconfigurations = outcome.findings;
    report.warnings = outcome.warnings;
    sort_findings(&mut report);
    Ok(report)
}

/// Hand the parsed objects to `scan --policy` (see [`Scanners::policy_objects`]).
fn keep_policy_objects(scanners: &Scanners, objects: Vec<palisade_checks::ParsedObject>) {
    if let Some(kept) = &scanners.policy_objects {
        kept.lock().unwrap_or_else(|e| e.into_inner()).extend(objects);
    }
}

fn sort_findings(report: &mut ScanReport) {
    report.secrets.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
    });
    report.misconfigurations.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.check_id).cmp(&(&b.file, b.line, b.column, &b.check_id))
    });
}

/// Match the report's packages against the vulnerability DB. Whatever the DB cannot answer — no DB, an
/// unreadable or empty one, an ecosystem of the target it has no advisories for — becomes a gap in the report
/// (the gate fails on gaps unless told otherwise); the other scanners' results stand.
pub fn match_vulnerabilities(report: &mut ScanReport, path: &Path) {
    use palisade_vulndb::coverage::{kind, whole_db_gap};
    let n = report.packages.len();
    if !path.exists() {
        report.gaps.push(whole_db_gap(
            kind::DB_MISSING,
            n,
            format!(
                "no vulnerability DB at {}: vulnerabilities were not checked. Get one with `palisade db update` \
                 (or, offline, `palisade db build --from <advisory dirs or archives>`), or point --db at one",
                path.display()
            ),
        ));
        return;
    }
    let opened = palisade_vulndb::Db::open(path).and_then(|db| db.info().map(|info| (db, info)));
    let (db, info) = match opened {
        Ok(v) => v,
        Err(e) => {
            report.gaps.push(whole_db_gap(
                kind::DB_UNREADABLE,
                n,
                format!("vulnerabilities were not checked: {e}; rebuild it with `palisade db update`"),
            ));
            return;
        }
    };
    if let Some(w) = info.stale_warning(palisade_vulndb::DEFAULT_MAX_AGE) {
        report.warnings.push(Warning::new("vuln", w));
    }
    report.gaps.extend(palisade_vulndb::coverage_gaps(&info, report.os.as_ref(), &report.packages));
    match palisade_vulndb::match_report(&db, report) {
        Ok(found) => {
            // A cluster report already holds its running images' findings (from the image store).
            report.vulnerabilities.extend(found);
            report.vulnerabilities.sort_by(|a, b| {
                b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)).then_with(|| a.purl.cmp(&b.purl))
            });
        }
        Err(e) => report.gaps.push(whole_db_gap(
            kind::DB_UNREADABLE,
            n,
            format!("matching stopped: {e}; rebuild the DB with `palisade db update`"),
        )),
    }
}

fn scan_sbom(path: &Path) -> Result<ScanReport> {
    let meta = std::fs::metadata(path).with_context(|| format!("opening {}", path.display()))?;
    if meta.len() > MAX_INPUT_BYTES {
        bail!(
            "{}: {} bytes is larger than the {} byte limit for SBOM input",
            path.display(),
            meta.len(),
            MAX_INPUT_BYTES
        );
    }
    // The document is the one unit of this scan: over the memory limit it is an error naming it.
    palisade_core::memory::admit(meta.len()).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?;
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    report_from_sbom(&data, &path.display().to_string())
}

/// The report of an SBOM's content (CycloneDX or SPDX JSON) named `display` in messages: its packages,
/// not yet matched.
pub fn report_from_sbom(data: &[u8], display: &str) -> Result<ScanReport> {
    let display = display.to_string();
    let input =
        palisade_inventory::sbom::read(data, &display).map_err(|e| anyhow::anyhow!("{display}: {e}"))?;
    let mut report = ScanReport::new(ArtifactInfo::new(ArtifactKind::Sbom, display.clone()), now());
    report.os = input.os;
    report.packages = input.packages;
    report.projects = input.projects;
    report.warnings =
        input.warnings.into_iter().map(|w| Warning::new("sbom", w).at(display.clone(), None)).collect();
    Ok(report)
}

/// Let policy gates judge SBOM attestations (`signatures.attestations[].gate` on a CycloneDX/SPDX
/// predicate): the SBOM's packages matched against the DB at `db`. A missing or unreadable DB is a failure
/// of the attestation, never an empty (passing) list of vulnerabilities.
pub fn install_sbom_matcher(db: PathBuf) {
    use palisade_vulndb::coverage::kind;
    palisade_policy::engine::gate::predicate::set_sbom_matcher(Arc::new(move |predicate, display| {
        let data = serde_json::to_vec(predicate).map_err(|e| format!("{display}: {e}"))?;
        let mut report = report_from_sbom(&data, display).map_err(|e| format!("{e:#}"))?;
        set_end_of_life(&mut report);
        match_vulnerabilities(&mut report, &db);
        if let Some(g) =
            report.gaps.iter().find(|g| g.kind == kind::DB_MISSING || g.kind == kind::DB_UNREADABLE)
        {
            return Err(format!("its packages could not be matched: {}", g.message));
        }
        report.scanners = vec!["vuln".into()];
        serde_json::to_value(&report).map_err(|e| format!("{display}: {e}"))
    }));
}

pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}
