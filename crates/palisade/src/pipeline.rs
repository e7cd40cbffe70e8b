//! One scan, start to end: open the target, stream it once through every enabled scanner, assemble the report.

use crate::cli::{CheckOpts, ImageOpts, SecretOpts};
use crate::ui::ProgressUi;
use anyhow::{Context, Result, bail};
use palisade_artifact::{FileSink, Options, Target};
use palisade_checks::{CheckOptions, ConfigSink, Engine};
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
}

/// Which scanners run, with their options.
#[derive(Debug, Clone, Default)]
pub struct Scanners {
    /// Report the package inventory.
    pub packages: bool,
    /// Match the inventory against the vulnerability DB.
    pub vuln: bool,
    pub secret: bool,
    pub misconfig: bool,
    /// The DB file; `None` means the default path.
    pub db: Option<PathBuf>,
    pub secret_opts: SecretOpts,
    pub check_opts: CheckOpts,
}

impl Scanners {
    fn needs_inventory(&self) -> bool {
        self.packages || self.vuln
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

/// Run one scan and build its report.
pub fn scan(spec: &TargetSpec, image: &ImageOpts, scanners: Scanners, quiet: bool) -> Result<ScanReport> {
    let progress = Arc::new(Progress::new());
    let ui = ProgressUi::start(progress.clone(), quiet);
    let result = run(spec, image, &scanners, &progress);
    ui.finish();
    let report = result?;
    if !quiet && !report.warnings.is_empty() {
        crate::ui::summarize_warnings(&report.warnings);
    }
    Ok(report)
}

fn run(
    spec: &TargetSpec,
    image: &ImageOpts,
    scanners: &Scanners,
    progress: &Arc<Progress>,
) -> Result<ScanReport> {
    let mut report = match spec {
        TargetSpec::Sbom(path) => scan_sbom(path)?,
        TargetSpec::Config(paths) => scan_config(paths, scanners, progress)?,
        _ => scan_artifact(spec, image, scanners, progress)?,
    };
    if scanners.vuln {
        progress.set_stage("matching vulnerabilities");
        match_vulnerabilities(&mut report, scanners.db.as_deref())?;
    }
    Ok(report)
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
    Engine::new(&config).context("configuring checks")
}

fn scan_artifact(
    spec: &TargetSpec,
    image: &ImageOpts,
    scanners: &Scanners,
    progress: &Arc<Progress>,
) -> Result<ScanReport> {
    let (target, history) = match spec {
        TargetSpec::ImageArchive(p) => (Target::ImageArchive { path: p.clone() }, false),
        TargetSpec::Registry(r) => (Target::Registry { reference: r.clone() }, false),
        TargetSpec::Rootfs(p) => (Target::Dir { path: p.clone(), kind: ArtifactKind::Rootfs }, false),
        TargetSpec::Fs { path, .. } => (Target::Dir { path: path.clone(), kind: ArtifactKind::Fs }, false),
        TargetSpec::Repo { path, history } => (Target::Repo { path: path.clone() }, *history),
        TargetSpec::Sbom(_) | TargetSpec::Config(_) => unreachable!("read without the artifact layer"),
    };
    let opts = Options {
        platform: Some(image.platform.clone()),
        insecure: image.insecure,
        gitignore: matches!(spec, TargetSpec::Fs { gitignore: true, .. }),
        progress: Some(progress.clone()),
        ..Options::default()
    };
    let inventory = Inventory::new(Some(progress));
    let secret_scanner = if scanners.secret { Some(secret_scanner(&scanners.secret_opts)?) } else { None };
    // With --history every committed blob is scanned from git instead of the HEAD tree.
    let secret_sink = secret_scanner.as_ref().filter(|_| !history).map(SecretSink::new);
    let config_sink =
        if scanners.misconfig { Some(ConfigSink::new(check_engine(&scanners.check_opts)?)) } else { None };

    let mut sinks: Vec<&dyn FileSink> = Vec::new();
    if scanners.needs_inventory() {
        sinks.push(&inventory);
    }
    if let Some(s) = &secret_sink {
        sinks.push(s);
    }
    if let Some(s) = &config_sink {
        sinks.push(s);
    }
    let scanned = palisade_artifact::scan(&target, &opts, &palisade_artifact::Fanout(sinks))?;

    let inv = inventory.finish(|path, layer| scanned.tree.is_live(path, layer));
    let mut report = ScanReport::new(scanned.info, now());
    report.os = inv.os;
    report.packages = inv.packages;
    report.projects = inv.projects;
    report.warnings = scanned.warnings;
    if let Some(sink) = secret_sink {
        report.secrets = sink.finish(&scanned.tree);
    }
    if let (true, Some(scanner), TargetSpec::Repo { path, .. }) = (history, &secret_scanner, spec) {
        progress.set_stage("scanning git history");
        report.secrets = palisade_secrets::scan_git_history(path, scanner, progress)
            .with_context(|| format!("scanning the history of {}", path.display()))?;
    }
    if let Some(sink) = config_sink {
        let image_findings = report.artifact.config.as_ref().map(|cfg| sink.engine().check_image_config(cfg));
        report.misconfigurations = sink.into_findings();
        report.misconfigurations.extend(image_findings.into_iter().flatten());
    }
    sort_findings(&mut report);
    Ok(report)
}

/// `scan config PATH...`: files and directories through the check engine, `-` from stdin.
fn scan_config(paths: &[String], scanners: &Scanners, progress: &Arc<Progress>) -> Result<ScanReport> {
    let mut engine = check_engine(&scanners.check_opts)?;
    let mut report = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, paths.join(" ")), now());
    for p in paths {
        let path = Path::new(p);
        let is_dir =
            p != "-" && std::fs::metadata(path).with_context(|| format!("{p}: cannot open"))?.is_dir();
        if is_dir {
            let sink = ConfigSink::new(engine);
            let target = Target::Dir { path: path.into(), kind: ArtifactKind::Fs };
            let opts = Options { progress: Some(progress.clone()), ..Options::default() };
            let scanned = palisade_artifact::scan(&target, &opts, &sink);
            let (back, findings) = sink.into_parts();
            engine = back;
            report.warnings.extend(scanned?.warnings);
            let prefix = p.trim_end_matches('/');
            report.misconfigurations.extend(findings.into_iter().map(|mut f| {
                f.file = format!("{prefix}/{}", f.file);
                f
            }));
            continue;
        }
        let data = if p == "-" {
            let mut data = Vec::new();
            std::io::stdin().take(MAX_INPUT_BYTES).read_to_end(&mut data).context("reading stdin")?;
            data
        } else {
            read_capped(path, MAX_INPUT_BYTES)?
        };
        // A file named on the command line is checked whatever its name: by its name when that says what it
        // is, else by its first instruction (rendered Helm output on stdin is YAML).
        let name = if p == "-" { "stdin" } else { p.as_str() };
        let result = match palisade_checks::file_kind(name) {
            Some(_) => engine.check_file(name, &data),
            None => {
                let text = String::from_utf8_lossy(&data);
                if looks_like_dockerfile(&data) {
                    engine.check_dockerfile(name, &text)
                } else {
                    engine.check_manifest(name, &text)
                }
            }
        };
        report.misconfigurations.extend(result.findings);
        report.warnings.extend(result.errors.into_iter().map(|e| Warning::new("misconfig", e.to_string())));
    }
    sort_findings(&mut report);
    Ok(report)
}

fn looks_like_dockerfile(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&data[..data.len().min(4096)]);
    text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).is_some_and(|l| {
        let upper = l.to_ascii_uppercase();
        upper.starts_with("FROM ") || upper.starts_with("ARG ")
    })
}

fn sort_findings(report: &mut ScanReport) {
    report.secrets.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
    });
    report.misconfigurations.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.check_id).cmp(&(&b.file, b.line, b.column, &b.check_id))
    });
}

/// Match the report's packages against the vulnerability DB. A missing DB is not fatal: the other scanners'
/// results stand, and a warning says how to get a DB.
fn match_vulnerabilities(report: &mut ScanReport, db: Option<&Path>) -> Result<()> {
    let path = db.map(Path::to_path_buf).unwrap_or_else(palisade_vulndb::default_db_path);
    if !path.exists() {
        report.warnings.push(Warning::new(
            "vuln",
            format!(
                "no vulnerability DB at {}: vulnerabilities were not checked. Get one with `palisade db update` \
                 (or, offline, `palisade db build --from <advisory dirs or archives>`), or point --db at one",
                path.display()
            ),
        ));
        return Ok(());
    }
    let db = palisade_vulndb::Db::open(&path)
        .with_context(|| format!("opening vulnerability DB {}", path.display()))?;
    if let Ok(info) = db.info()
        && let Some(w) = info.stale_warning(palisade_vulndb::DEFAULT_MAX_AGE)
    {
        report.warnings.push(Warning::new("vuln", w));
    }
    let mut found = palisade_vulndb::match_report(&db, report)
        .with_context(|| format!("matching against {}", path.display()))?;
    found.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)).then_with(|| a.purl.cmp(&b.purl))
    });
    report.vulnerabilities = found;
    Ok(())
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
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let display = path.display().to_string();
    let input =
        palisade_inventory::sbom::read(&data, &display).map_err(|e| anyhow::anyhow!("{display}: {e}"))?;
    let mut report = ScanReport::new(ArtifactInfo::new(ArtifactKind::Sbom, display.clone()), now());
    report.os = input.os;
    report.packages = input.packages;
    report.projects = input.projects;
    report.warnings =
        input.warnings.into_iter().map(|w| Warning::new("sbom", w).at(display.clone(), None)).collect();
    Ok(report)
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}
