//! Command-line interface: argument definitions and dispatch.

use crate::pipeline::{self, Scanners, TargetSpec};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use palisade_core::ScanReport;
use palisade_report::table::TableOptions;
use palisade_report::{Format, ScannersRan};
use std::io::IsTerminal;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code for a scan that ran and found nothing that fails the gate.
pub const EXIT_OK: u8 = 0;
/// Exit code for a usage error or a target that could not be scanned at all.
pub const EXIT_ERROR: u8 = 2;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  the scan ran (warnings about individual files do not change this)
  N  the value of --exit-code N when active (not suppressed) findings remain after --severity and
     --ignore-unfixed filtering, ignore files and VEX (default N = 0: findings never fail the run)
  2  usage error, or the target could not be opened or scanned at all (use another --exit-code than 2
     to tell the two apart)";

#[derive(Parser, Debug)]
#[command(name = "palisade", version, about = "Security scanning for container images, root filesystems and repositories", after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalOpts {
    /// Print nothing on stderr but errors (no progress, no warnings summary).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Verbose logging on stderr.
    #[arg(long, global = true)]
    pub debug: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan a target and report what is inside it.
    Scan {
        #[command(subcommand)]
        target: Box<ScanTarget>,
    },
    /// Build, update and inspect the local vulnerability database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Secret scanner rules.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Configuration checks.
    Checks {
        #[command(subcommand)]
        command: ChecksCommand,
    },
    /// Write an SBOM (CycloneDX by default) for TARGET: a directory, an image archive or layout, an SBOM file,
    /// or a registry reference.
    Sbom {
        /// Path or image reference.
        target: String,
        #[command(flatten)]
        image: ImageOpts,
        /// SBOM format.
        #[arg(long, short, default_value = "cyclonedx", value_parser = ["cyclonedx", "spdx-json"])]
        format: String,
        /// Write the SBOM to FILE instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ScanTarget {
    /// A container image: from a registry (REF), or a docker-archive tar, OCI layout directory or oci-archive
    /// tar (--input PATH).
    #[command(after_help = EXIT_CODES_HELP)]
    Image {
        /// Image reference, e.g. `docker.io/library/alpine:3.19` or `localhost:5000/app@sha256:...`.
        #[arg(required_unless_present = "input", conflicts_with = "input")]
        reference: Option<String>,
        /// Read the image from a local archive or OCI layout instead of a registry.
        #[arg(long)]
        input: Option<PathBuf>,
        #[command(flatten)]
        image: ImageOpts,
        #[command(flatten)]
        out: ScanOpts,
    },
    /// An unpacked root filesystem (e.g. `/`, or a directory made by debootstrap).
    #[command(after_help = EXIT_CODES_HELP)]
    Rootfs {
        dir: PathBuf,
        #[command(flatten)]
        out: ScanOpts,
    },
    /// A project directory (lockfiles, manifests, sources).
    #[command(after_help = EXIT_CODES_HELP)]
    Fs {
        dir: PathBuf,
        /// Leave out what `.gitignore` files and `.git/info/exclude` ignore (and `.git` itself).
        #[arg(long)]
        gitignore: bool,
        #[command(flatten)]
        out: ScanOpts,
    },
    /// A local git repository: the tree of its HEAD commit.
    #[command(after_help = EXIT_CODES_HELP)]
    Repo {
        dir: PathBuf,
        /// Secret scanning: every commit reachable from HEAD, each blob once.
        #[arg(long)]
        history: bool,
        #[command(flatten)]
        out: ScanOpts,
    },
    /// Kubernetes manifests (YAML/JSON) and Dockerfiles: files, directories, or `-` for stdin (e.g. rendered
    /// Helm output).
    #[command(after_help = EXIT_CODES_HELP)]
    Config {
        #[arg(required = true)]
        paths: Vec<String>,
        #[command(flatten)]
        out: ScanOpts,
    },
    /// An SBOM document (CycloneDX or SPDX JSON, including Trivy's).
    #[command(after_help = EXIT_CODES_HELP)]
    Sbom {
        file: PathBuf,
        #[command(flatten)]
        out: ScanOpts,
    },
}

#[derive(Args, Debug, Clone, Default)]
pub struct PolicyOpts {
    /// Report only findings of these severities (critical,high,medium,low,info,unknown); others are dropped.
    #[arg(long, value_delimiter = ',')]
    pub severity: Vec<String>,
    /// Drop vulnerabilities that have no fixed version.
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// Exit with this code when active findings remain (for CI gates).
    #[arg(long, default_value_t = 0)]
    pub exit_code: u8,
    /// Ignore file(s): `.palisadeignore` (YAML), `.trivyignore`, `.trivyignore.yaml`. Those in the current
    /// directory are read without this flag.
    #[arg(long = "ignorefile", value_name = "FILE")]
    pub ignore_files: Vec<PathBuf>,
    /// OpenVEX document(s): `not_affected` and `fixed` statements suppress matching vulnerabilities.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct SecretOpts {
    /// Secret scanner config (TOML): extra rules, disabled rules, severity overrides, allowed paths.
    #[arg(long, value_name = "FILE")]
    pub secret_config: Option<PathBuf>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct CheckOpts {
    /// Checks to run: groups (`pss:baseline`, `pss:restricted`, `rbac`, `dockerfile`, ...), ids or globs.
    #[arg(long, value_delimiter = ',')]
    pub checks: Vec<String>,
    /// Checks not to run (same forms as --checks).
    #[arg(long, value_delimiter = ',')]
    pub skip_checks: Vec<String>,
    /// Kubernetes version the manifests target (Pod Security Standards differ per version).
    #[arg(long, value_name = "1.N")]
    pub k8s_version: Option<String>,
    /// Check config (TOML): selection, severity overrides, suppressions, allowed registries and base images.
    #[arg(long, value_name = "FILE")]
    pub check_config: Option<PathBuf>,
    /// helm binary that renders Helm charts found in scanned directories (default: $PALISADE_HELM, else
    /// helm on PATH; without one, each chart is reported as not rendered).
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum SecretsCommand {
    /// List the built-in secret rules.
    Rules {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ChecksCommand {
    /// List the configuration checks.
    List {
        /// Only checks in these groups/ids/globs.
        #[arg(long, value_delimiter = ',')]
        checks: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Explain one check: rationale, remediation, references.
    Explain { id: String },
    /// Write the check reference (one Markdown page per check) into a directory.
    Docs {
        #[arg(long, short, default_value = "docs/checks")]
        output: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Import advisories from local files: OSV JSON/YAML directories, OSV `all.zip`, `.tar.gz` archives,
    /// Debian security-tracker JSON, Alpine secdb JSON/YAML.
    Build {
        /// Advisory sources (repeatable).
        #[arg(long = "from", required = true, num_args = 1..)]
        from: Vec<PathBuf>,
        /// DB file to write (replaced atomically).
        #[arg(long, env = "PALISADE_DB")]
        db: Option<PathBuf>,
    },
    /// Fetch the advisory feeds over HTTP and rebuild the DB when any changed (conditional requests,
    /// checksums, atomic replace). Point it at an internal mirror for air-gapped use.
    Update {
        #[arg(long, env = "PALISADE_DB")]
        db: Option<PathBuf>,
        /// Base URL of a mirror laid out like OSV's bucket: `<base>/<Ecosystem>/all.zip`.
        #[arg(long)]
        mirror: Option<String>,
        /// Fetch exactly these feeds instead of the defaults, as `NAME=URL` (repeatable).
        #[arg(long = "feed", value_name = "NAME=URL")]
        feeds: Vec<String>,
        /// Rebuild even when no feed changed.
        #[arg(long)]
        force: bool,
    },
    /// Print what is in the DB and how old it is.
    Info {
        #[arg(long, env = "PALISADE_DB")]
        db: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Clone, Default)]
pub struct ImageOpts {
    /// Platform to pick from a multi-platform image, `os/arch[/variant]`.
    #[arg(long, default_value = "linux/amd64")]
    pub platform: String,
    /// Allow plain HTTP to the registry (for registries on localhost).
    #[arg(long)]
    pub insecure: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ScanOpts {
    /// Comma-separated scanners to run. `package` lists the software inside the target; `vuln` matches it
    /// against the advisory DB.
    #[arg(long, value_delimiter = ',', default_value = "package")]
    pub scanners: Vec<ScannerName>,
    /// Vulnerability DB file (default: $PALISADE_DB, else the user cache dir).
    #[arg(long, env = "PALISADE_DB")]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub secret: SecretOpts,
    #[command(flatten)]
    pub checks: CheckOpts,
    #[command(flatten)]
    pub policy: PolicyOpts,
    /// Report format.
    #[arg(long, short, default_value = "table", value_parser = ["table", "json", "sarif", "junit", "cyclonedx", "spdx-json"])]
    pub format: String,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScannerName {
    /// Package inventory (OS packages, language dependencies, binaries).
    Package,
    /// Known vulnerabilities in the inventory, from the local advisory DB.
    Vuln,
    /// Leaked credentials in files (every layer of an image; with `repo --history`, every commit).
    Secret,
    /// Misconfigured Kubernetes manifests, Dockerfiles and image configs.
    Misconfig,
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let quiet = cli.global.quiet;
    match cli.command {
        Command::Scan { target } => {
            let (spec, out, image) = match *target {
                ScanTarget::Image { reference, input, image, out } => {
                    let spec = match (reference, input) {
                        (_, Some(path)) => TargetSpec::ImageArchive(path),
                        (Some(r), None) => TargetSpec::Registry(r),
                        (None, None) => bail!("give an image reference or --input PATH"),
                    };
                    (spec, out, image)
                }
                ScanTarget::Rootfs { dir, out } => (TargetSpec::Rootfs(dir), out, ImageOpts::default()),
                ScanTarget::Fs { dir, gitignore, out } => {
                    (TargetSpec::Fs { path: dir, gitignore }, out, ImageOpts::default())
                }
                ScanTarget::Repo { dir, history, out } => {
                    (TargetSpec::Repo { path: dir, history }, out, ImageOpts::default())
                }
                ScanTarget::Config { paths, mut out } => {
                    if !out.scanners.contains(&ScannerName::Misconfig) {
                        out.scanners = vec![ScannerName::Misconfig];
                    }
                    (TargetSpec::Config(paths), out, ImageOpts::default())
                }
                ScanTarget::Sbom { file, out } => (TargetSpec::Sbom(file), out, ImageOpts::default()),
            };
            let scanners = Scanners {
                packages: out.scanners.contains(&ScannerName::Package),
                vuln: out.scanners.contains(&ScannerName::Vuln),
                secret: out.scanners.contains(&ScannerName::Secret),
                misconfig: out.scanners.contains(&ScannerName::Misconfig),
                db: out.db.clone(),
                secret_opts: out.secret.clone(),
                check_opts: out.checks.clone(),
            };
            let format: Format = out.format.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let view = View {
                packages: scanners.packages,
                ran: ScannersRan {
                    vuln: scanners.vuln,
                    secret: scanners.secret,
                    misconfig: scanners.misconfig,
                },
            };
            let mut report = pipeline::scan(&spec, &image, scanners, quiet)?;
            let code = crate::gate::apply(&mut report, &out.policy, quiet)?;
            emit(&mut report, format, out.output.as_ref(), view)?;
            Ok(ExitCode::from(code))
        }
        Command::Db { command } => crate::db::run(command, quiet),
        Command::Secrets { command } => crate::catalog::secrets(command),
        Command::Checks { command } => crate::catalog::checks(command),
        Command::Sbom { target, image, format, output } => {
            let spec = TargetSpec::detect(&target)?;
            let format: Format = format.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let scanners = Scanners { packages: true, ..Scanners::default() };
            let mut report = pipeline::scan(&spec, &image, scanners, quiet)?;
            emit(&mut report, format, output.as_ref(), View { packages: true, ran: ScannersRan::default() })?;
            Ok(ExitCode::from(EXIT_OK))
        }
    }
}

/// What the user asked to see, beyond the format.
#[derive(Debug, Clone, Copy)]
struct View {
    /// The inventory was asked for (`--scanners package`); otherwise it is only the input of `vuln`.
    packages: bool,
    ran: ScannersRan,
}

/// Render to a file (written whole, then renamed into place) or to stdout.
fn emit(report: &mut ScanReport, format: Format, output: Option<&PathBuf>, view: View) -> Result<()> {
    // SBOM formats always carry the inventory; finding formats carry it only when asked for.
    if !view.packages && !format.is_sbom() {
        report.packages.clear();
    }
    let to_terminal = output.is_none() && std::io::stdout().is_terminal();
    let render = |out: &mut dyn Write| -> Result<()> {
        match format {
            Format::Table => {
                let opts = TableOptions {
                    color: to_terminal && console::colors_enabled(),
                    width: if to_terminal {
                        console::Term::stdout().size_checked().map(|(_, w)| w)
                    } else {
                        None
                    },
                    hide_packages: !view.packages,
                    scanners: view.ran,
                };
                palisade_report::table::render(report, &opts, out)?;
            }
            _ => palisade_report::render(report, format, out)?,
        }
        Ok(())
    };
    match output {
        Some(path) => {
            // Written whole to a temporary file beside the target, then renamed into place.
            let tmp = path.with_extension("palisade-tmp");
            let file = std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
            let mut w = std::io::BufWriter::new(file);
            render(&mut w)?;
            w.flush().with_context(|| format!("writing {}", tmp.display()))?;
            std::fs::rename(&tmp, path).with_context(|| format!("writing report to {}", path.display()))?;
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            render(&mut w)?;
            w.flush()?;
        }
    }
    Ok(())
}
