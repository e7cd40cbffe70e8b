//! `palisade scan image|rootfs|fs|repo|config|sbom`: one scan, its policy and its report.

use super::common::{
    CheckOpts, ImageOpts, LicenseOpts, PolicyOpts, ReportOpts, ScannerName, SecretOpts, VulnOpts, WalkOpts,
};
use super::signing::ScanAttestOpts;
use super::{EXIT_CODES_HELP, GlobalOpts};
use crate::pipeline::{self, Scanners, TargetSpec};
use crate::render;
use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use palisade_report::Format;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum ScanTarget {
    /// A container image: from a local Docker/podman/containerd engine or a registry (REF), or a
    /// docker-archive tar, OCI layout directory or oci-archive tar (--input PATH).
    #[command(after_help = EXIT_CODES_HELP, visible_alias = "i")]
    Image {
        /// Image reference, e.g. `docker.io/library/alpine:3.19` or `localhost:5000/app@sha256:...`.
        #[arg(required_unless_present = "input", conflicts_with = "input")]
        reference: Option<String>,
        /// Read the image from a local archive or OCI layout instead of a registry.
        #[arg(long, value_name = "PATH")]
        input: Option<PathBuf>,
        #[command(flatten)]
        image: ImageOpts,
        #[command(flatten)]
        opts: ScanOpts,
        #[command(flatten)]
        attest: ScanAttestOpts,
    },
    /// An unpacked root filesystem (e.g. `/`, or a directory made by debootstrap).
    #[command(after_help = EXIT_CODES_HELP)]
    Rootfs {
        dir: PathBuf,
        #[command(flatten)]
        opts: ScanOpts,
    },
    /// A project directory (lockfiles, manifests, sources).
    #[command(after_help = EXIT_CODES_HELP, visible_alias = "filesystem")]
    Fs {
        dir: PathBuf,
        /// Leave out what `.gitignore` files and `.git/info/exclude` ignore (and `.git` itself).
        #[arg(long)]
        gitignore: bool,
        #[command(flatten)]
        opts: ScanOpts,
    },
    /// A local git repository: the tree of its HEAD commit.
    #[command(after_help = EXIT_CODES_HELP, visible_alias = "repository")]
    Repo {
        dir: PathBuf,
        /// Secret scanning: every commit reachable from HEAD, each blob once.
        #[arg(long)]
        history: bool,
        #[command(flatten)]
        opts: ScanOpts,
    },
    /// Kubernetes manifests (YAML/JSON) and Dockerfiles: files, directories, or `-` for stdin (e.g. rendered
    /// Helm output). Runs the misconfig scanner only.
    #[command(after_help = EXIT_CODES_HELP, visible_alias = "conf")]
    Config {
        #[arg(required = true)]
        paths: Vec<String>,
        #[command(flatten)]
        opts: ScanOpts,
    },
    /// An SBOM document (CycloneDX or SPDX JSON, including Trivy's): its packages' vulnerabilities.
    #[command(after_help = EXIT_CODES_HELP)]
    Sbom {
        file: PathBuf,
        #[command(flatten)]
        opts: ScanOpts,
    },
    /// A Kubernetes node's files against the CIS Kubernetes Benchmark (control plane, etcd, worker) and the
    /// container runtime's configuration.
    Node(crate::commands::node::NodeArgs),
    /// A cluster, read live through the kubeconfig or from a dump (`--from`: `kubectl get -A -o yaml`
    /// output, `-o json` lists or directories of manifests): every manifest check on the deployed objects,
    /// cluster-wide checks (RBAC, webhooks, deprecated APIs), the vulnerabilities of the cluster's own
    /// components (kubelet, API server, etcd, CoreDNS, container runtime) and the running images' findings
    /// from the image store. `-f cyclonedx` writes the cluster's bill of materials.
    #[command(after_help = EXIT_CODES_HELP)]
    Cluster {
        #[command(flatten)]
        cluster: Box<crate::commands::cluster::ClusterArgs>,
        #[command(flatten)]
        opts: ScanOpts,
    },
}

/// The options of every `scan`.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Scanners")]
pub struct ScanOpts {
    /// Scanners to run, comma-separated: `vuln`, `secret`, `misconfig`, `license`, `package` [default:
    /// vuln,secret; `config`: misconfig; `sbom`: vuln]. The package inventory is always collected.
    #[arg(long, value_delimiter = ',', value_enum)]
    pub scanners: Vec<ScannerName>,
    #[command(flatten)]
    pub walk: WalkOpts,
    #[command(flatten)]
    pub vuln: VulnOpts,
    #[command(flatten)]
    pub secret: SecretOpts,
    #[command(flatten)]
    pub checks: CheckOpts,
    #[command(flatten)]
    pub license: LicenseOpts,
    #[command(flatten)]
    pub policy: PolicyOpts,
    #[command(flatten)]
    pub report: ReportOpts,
}

/// The scanners a target kind can run, and those it runs by default.
struct Applicable {
    kind: &'static str,
    allowed: &'static [ScannerName],
    default: &'static [ScannerName],
}

const ARTIFACT: &[ScannerName] = &[
    ScannerName::Vuln,
    ScannerName::Secret,
    ScannerName::Misconfig,
    ScannerName::License,
    ScannerName::Package,
];
const DEFAULT: &[ScannerName] = &[ScannerName::Vuln, ScannerName::Secret];

fn applicable(spec: &TargetSpec) -> Applicable {
    match spec {
        TargetSpec::Config(_) => Applicable {
            kind: "config",
            allowed: &[ScannerName::Misconfig],
            default: &[ScannerName::Misconfig],
        },
        TargetSpec::Cluster(_) => Applicable {
            kind: "cluster",
            allowed: &[ScannerName::Vuln, ScannerName::Misconfig, ScannerName::Package],
            default: &[ScannerName::Vuln, ScannerName::Misconfig],
        },
        TargetSpec::Sbom(_) => Applicable {
            kind: "sbom",
            allowed: &[ScannerName::Vuln, ScannerName::License, ScannerName::Package],
            default: &[ScannerName::Vuln],
        },
        _ => Applicable { kind: "", allowed: ARTIFACT, default: DEFAULT },
    }
}

/// The scanners to run for `spec`: those asked for (each must apply to the target), else the defaults.
pub fn choose_scanners(spec: &TargetSpec, asked: &[ScannerName]) -> Result<Vec<ScannerName>> {
    let a = applicable(spec);
    if asked.is_empty() {
        return Ok(a.default.to_vec());
    }
    if let Some(bad) = asked.iter().find(|s| !a.allowed.contains(s)) {
        let allowed: Vec<&str> = a.allowed.iter().map(|s| s.name()).collect();
        let hint = match spec {
            TargetSpec::Config(_) => {
                "; scan a directory with `palisade scan fs DIR --scanners vuln,secret,misconfig` for the others"
            }
            _ => "",
        };
        bail!(
            "`scan {}` does not run the {} scanner (it runs: {}){hint}",
            a.kind,
            bad.name(),
            allowed.join(", ")
        );
    }
    let mut v = asked.to_vec();
    v.dedup();
    Ok(v)
}

pub fn run(target: ScanTarget, global: &GlobalOpts) -> Result<ExitCode> {
    let mut attest = None;
    let (spec, opts, image) = match target {
        ScanTarget::Node(args) => return crate::commands::node::run(args),
        ScanTarget::Image { reference, input, image, opts, attest: a } => {
            attest = a.attest.then_some(a);
            let spec = match (reference, input) {
                (_, Some(path)) => TargetSpec::ImageArchive(path),
                (Some(r), None) => {
                    reject_local_path_as_reference(&r)?;
                    TargetSpec::Registry(r)
                }
                (None, None) => bail!("give an image reference or --input PATH"),
            };
            (spec, opts, image)
        }
        ScanTarget::Rootfs { dir, opts } => (TargetSpec::Rootfs(dir), opts, ImageOpts::default()),
        ScanTarget::Fs { dir, gitignore, opts } => {
            (TargetSpec::Fs { path: dir, gitignore }, opts, ImageOpts::default())
        }
        ScanTarget::Repo { dir, history, opts } => {
            (TargetSpec::Repo { path: dir, history }, opts, ImageOpts::default())
        }
        ScanTarget::Config { paths, opts } => (TargetSpec::Config(paths), opts, ImageOpts::default()),
        ScanTarget::Sbom { file, opts } => (TargetSpec::Sbom(file), opts, ImageOpts::default()),
        ScanTarget::Cluster { cluster, opts } => (TargetSpec::Cluster(cluster), opts, ImageOpts::default()),
    };
    scan_and_attest(spec, opts, image, global, Format::Table, attest.as_ref())
}

/// Scan, apply the policy, write the report; the exit code comes from the gate. Shared with `sbom`.
pub fn scan_and_report(
    spec: TargetSpec,
    opts: ScanOpts,
    image: ImageOpts,
    global: &GlobalOpts,
    default_format: Format,
) -> Result<ExitCode> {
    scan_and_attest(spec, opts, image, global, default_format, None)
}

/// [`scan_and_report`], then `--attest` (signed SBOM and scan result of the digest scanned).
fn scan_and_attest(
    spec: TargetSpec,
    opts: ScanOpts,
    image: ImageOpts,
    global: &GlobalOpts,
    default_format: Format,
    attest: Option<&ScanAttestOpts>,
) -> Result<ExitCode> {
    let started = time::OffsetDateTime::now_utc();
    let chosen = choose_scanners(&spec, &opts.scanners)?;
    if opts.license.any_given() && !chosen.contains(&ScannerName::License) {
        bail!("the --license-* options need the licence scanner: add `--scanners license`");
    }
    let format = opts.report.format_or(default_format);
    // A bad output path fails in a second, not after a ten-minute scan.
    render::check(opts.report.output.as_deref())?;
    let scanners = Scanners::new(&chosen, &opts, global);
    crate::pipeline::install_sbom_matcher(scanners.db.clone());
    let _watchdog = crate::ui::Watchdog::start(opts.walk.timeout);
    let mut report = pipeline::scan(&spec, &image, &scanners, global)?;
    report.scanners = chosen.iter().map(|s| s.name().to_string()).collect();
    let objects = scanners
        .policy_objects
        .as_ref()
        .map(|o| std::mem::take(&mut *o.lock().unwrap_or_else(|e| e.into_inner())))
        .unwrap_or_default();
    let outcome =
        crate::gate::apply_with_objects(&mut report, &opts.policy, opts.vuln.allow_missing_db, objects)?;
    if !global.quiet {
        crate::ui::summarize(&report, &outcome);
    }
    render::emit(&report, format, render::open(opts.report.output.as_deref())?)?;
    if let Some(a) = attest {
        super::signing::attest_scan(&report, a, image.insecure, started)?;
    }
    Ok(ExitCode::from(outcome.verdict.code))
}

/// `scan image app.tar`: a local file or directory given as a reference is almost always an archive the user
/// meant to read with `--input`; say exactly what to type instead of failing on a registry lookup.
fn reject_local_path_as_reference(reference: &str) -> Result<()> {
    let path = std::path::Path::new(reference);
    if !path.exists() || palisade_artifact::detect(path).is_none() {
        return Ok(());
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .map(|a| if a == reference { format!("--input {}", shell_word(reference)) } else { shell_word(&a) })
        .collect();
    bail!(
        "{reference} is a local image archive, not an image reference; read it with --input: `palisade {}`",
        args.join(" ")
    )
}

fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=,@+%".contains(&b)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
