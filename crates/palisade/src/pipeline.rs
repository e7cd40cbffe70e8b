//! One scan, start to end: open the target, stream it through the enabled scanners, assemble the report.

use crate::cli::ImageOpts;
use crate::ui::ProgressUi;
use anyhow::{Context, Result, bail};
use palisade_artifact::{Options, Target};
use palisade_core::{ArtifactInfo, ArtifactKind, Progress, ScanReport, Warning};
use palisade_inventory::Inventory;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest SBOM document accepted as input.
const MAX_SBOM_BYTES: u64 = 1 << 30;

/// What the user asked to scan.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    ImageArchive(PathBuf),
    Registry(String),
    Rootfs(PathBuf),
    Fs(PathBuf),
    Repo(PathBuf),
    Sbom(PathBuf),
}

/// Which scanners run.
#[derive(Debug, Clone, Copy)]
pub struct Scanners {
    pub packages: bool,
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
                    TargetSpec::Fs(path.into())
                });
            }
            let head = read_head(path, 64 * 1024)?;
            if palisade_inventory::sbom::detect(&head).is_some() {
                return Ok(TargetSpec::Sbom(path.into()));
            }
            bail!(
                "{target}: not a directory, an image archive (docker-archive, OCI layout, oci-archive) or an SBOM \
                 (CycloneDX/SPDX JSON)"
            );
        }
        if target.contains('/') && (target.starts_with('.') || target.starts_with('/')) {
            bail!("{target}: no such file or directory");
        }
        Ok(TargetSpec::Registry(target.to_string()))
    }

    fn kind(&self) -> ArtifactKind {
        match self {
            TargetSpec::ImageArchive(_) | TargetSpec::Registry(_) => ArtifactKind::Image,
            TargetSpec::Rootfs(_) => ArtifactKind::Rootfs,
            TargetSpec::Fs(_) => ArtifactKind::Fs,
            TargetSpec::Repo(_) => ArtifactKind::Repo,
            TargetSpec::Sbom(_) => ArtifactKind::Sbom,
        }
    }
}

fn read_head(path: &Path, n: u64) -> Result<Vec<u8>> {
    use std::io::Read;
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
    let result = match spec {
        TargetSpec::Sbom(path) => scan_sbom(path),
        _ => scan_artifact(spec, image, scanners, &progress),
    };
    ui.finish();
    let report = result?;
    if !quiet && !report.warnings.is_empty() {
        crate::ui::summarize_warnings(&report.warnings);
    }
    Ok(report)
}

fn scan_artifact(
    spec: &TargetSpec,
    image: &ImageOpts,
    scanners: Scanners,
    progress: &Arc<Progress>,
) -> Result<ScanReport> {
    let target = match spec {
        TargetSpec::ImageArchive(p) => Target::ImageArchive { path: p.clone() },
        TargetSpec::Registry(r) => Target::Registry { reference: r.clone() },
        TargetSpec::Rootfs(p) => Target::Dir { path: p.clone(), kind: ArtifactKind::Rootfs },
        TargetSpec::Fs(p) => Target::Dir { path: p.clone(), kind: ArtifactKind::Fs },
        TargetSpec::Repo(p) => Target::Repo { path: p.clone() },
        TargetSpec::Sbom(_) => unreachable!("SBOM input is read by scan_sbom"),
    };
    let opts = Options {
        platform: Some(image.platform.clone()),
        insecure: image.insecure,
        progress: Some(progress.clone()),
        ..Options::default()
    };
    let inventory = Inventory::new(Some(progress));
    let sinks: Vec<&dyn palisade_artifact::FileSink> =
        if scanners.packages { vec![&inventory] } else { vec![] };
    let fanout = palisade_artifact::Fanout(sinks);
    let scanned = palisade_artifact::scan(&target, &opts, &fanout)?;
    let inv = inventory.finish(|path, layer| scanned.tree.is_live(path, layer));
    let mut report = ScanReport::new(scanned.info, now());
    report.os = inv.os;
    report.packages = inv.packages;
    report.warnings = scanned.warnings;
    debug_assert_eq!(report.artifact.kind, spec.kind());
    Ok(report)
}

fn scan_sbom(path: &Path) -> Result<ScanReport> {
    let meta = std::fs::metadata(path).with_context(|| format!("opening {}", path.display()))?;
    if meta.len() > MAX_SBOM_BYTES {
        bail!(
            "{}: {} bytes is larger than the {} byte limit for SBOM input",
            path.display(),
            meta.len(),
            MAX_SBOM_BYTES
        );
    }
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let display = path.display().to_string();
    let input =
        palisade_inventory::sbom::read(&data, &display).map_err(|e| anyhow::anyhow!("{display}: {e}"))?;
    let mut report = ScanReport::new(ArtifactInfo::new(ArtifactKind::Sbom, display.clone()), now());
    report.os = input.os;
    report.packages = input.packages;
    report.warnings =
        input.warnings.into_iter().map(|w| Warning::new("sbom", w).at(display.clone(), None)).collect();
    Ok(report)
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}
