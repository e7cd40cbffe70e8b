//! Options shared by the commands that scan (`scan ...`, `sbom`) and those that render reports (`convert`).

use clap::{Args, ValueEnum};
use palisade_report::Format;
use std::path::PathBuf;
use std::time::Duration;

/// A scanner `--scanners` can name.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScannerName {
    /// Known vulnerabilities of the inventory, from the local advisory DB.
    Vuln,
    /// Leaked credentials in files (every layer of an image; with `repo --history`, every commit).
    Secret,
    /// Misconfigured Kubernetes manifests, Dockerfiles and image configs.
    Misconfig,
    /// List the package inventory in the table too (JSON and SBOM reports always carry it).
    Package,
    /// Licences of packages (declared, Debian copyright files) and licence files, classified and gated.
    License,
}

impl ScannerName {
    pub fn name(self) -> &'static str {
        match self {
            ScannerName::Vuln => "vuln",
            ScannerName::Secret => "secret",
            ScannerName::Misconfig => "misconfig",
            ScannerName::Package => "package",
            ScannerName::License => "license",
        }
    }
}

/// A report format `--format` can name.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatArg {
    Table,
    Json,
    Sarif,
    Junit,
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
    /// SPDX 2.3 JSON.
    #[value(name = "spdx-json")]
    SpdxJson,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Junit => Format::Junit,
            FormatArg::Cyclonedx => Format::CycloneDx,
            FormatArg::SpdxJson => Format::SpdxJson,
        }
    }
}

/// Package types `--pkg-types` can name.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkgType {
    /// OS packages (dpkg, apk, rpm).
    Os,
    /// Language packages and binaries (lockfiles, installed metadata, Go and Rust binaries, jars).
    Library,
}

/// Where the report goes and in which format.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Report")]
pub struct ReportOpts {
    /// Report format [default: table; `sbom`: cyclonedx].
    #[arg(long, short = 'f', value_enum)]
    pub format: Option<FormatArg>,
    /// Write the report to FILE instead of stdout (`-` is stdout). A regular file is replaced whole, never
    /// half-written; a device or FIFO is written in place; a symlink to a regular file is refused.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Accepted for Trivy compatibility: JSON and SBOM reports always list every package.
    #[arg(long)]
    pub list_all_pkgs: bool,
}

impl ReportOpts {
    pub fn format_or(&self, default: Format) -> Format {
        self.format.map(Format::from).unwrap_or(default)
    }
}

/// The vulnerability scanner's options.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Vulnerabilities")]
pub struct VulnOpts {
    /// Vulnerability DB file [default: <cache dir>/db/palisade.db].
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Do not fail the gate when vulnerability results are incomplete (no DB, an unreadable or empty DB, no
    /// advisories for an ecosystem in the target). The gap is still reported in every format.
    #[arg(long)]
    pub allow_missing_db: bool,
    /// Package types to inventory and match: `os`, `library` [default: both].
    #[arg(long, value_delimiter = ',', value_enum, value_name = "TYPES")]
    pub pkg_types: Vec<PkgType>,
    /// Accepted for Trivy compatibility: Palisade never downloads during a scan (`palisade db update` does).
    #[arg(long)]
    pub skip_db_update: bool,
    /// Accepted for Trivy compatibility (no Java DB is used).
    #[arg(long)]
    pub skip_java_db_update: bool,
    /// Accepted for Trivy compatibility: scans are always offline.
    #[arg(long)]
    pub offline_scan: bool,
}

/// Which parts of the target are read, and for how long.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Target")]
pub struct WalkOpts {
    /// Directories to leave out: globs matched against paths inside the target (`vendor`, `**/testdata`,
    /// `./build`); repeatable or comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "GLOB")]
    pub skip_dirs: Vec<String>,
    /// Files to leave out: globs matched against paths inside the target (`**/*.pem`, `app/config.env`).
    #[arg(long, value_delimiter = ',', value_name = "GLOB")]
    pub skip_files: Vec<String>,
    /// Stop and fail (exit 2) when the scan takes longer (`90s`, `5m`, `1h30m`; `0` = no limit).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Largest file read whole (`256MiB`, `1GiB`, bytes); each larger file a scanner wanted is a warning
    /// naming it. See docs/limits.md.
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = parse_size)]
    pub max_file_size: u64,
}

/// A size in bytes, or with a unit (`KiB`, `MiB`, `GiB`; `KB`, `MB`, `GB` are powers of 1000).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let v: bytesize::ByteSize =
        s.trim().parse().map_err(|e| format!("{s:?} is not a size like 256MiB ({e})"))?;
    if v.0 == 0 {
        return Err(format!("{s:?}: the size must be more than 0"));
    }
    Ok(v.0)
}

impl Default for WalkOpts {
    fn default() -> Self {
        WalkOpts {
            skip_dirs: Vec::new(),
            skip_files: Vec::new(),
            timeout: Duration::from_secs(15 * 60),
            max_file_size: palisade_artifact::Limits::default().max_file_size,
        }
    }
}

/// A duration as Trivy and Go write them (`5m0s`, `90s`, `1h30m`), or ISO 8601 (`PT5M`); `0` is zero.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let d: jiff::SignedDuration =
        t.parse().map_err(|e| format!("{t:?} is not a duration like 90s, 5m or 1h30m ({e})"))?;
    Duration::try_from(d).map_err(|_| format!("{t:?}: a duration cannot be negative"))
}

/// Secret scanner options.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Secrets")]
pub struct SecretOpts {
    /// Secret scanner config (TOML): extra rules, disabled rules, severity overrides, allowed paths.
    #[arg(long, value_name = "FILE")]
    pub secret_config: Option<PathBuf>,
}

/// Configuration-check options.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Misconfiguration")]
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
    /// helm binary that renders Helm charts found in scanned directories [default: helm on PATH; without
    /// one, each chart is reported as not rendered].
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
    /// CustomResourceDefinition file whose schemas validate custom resources (check group `schema`);
    /// repeatable. CRDs among the scanned files are used too.
    #[arg(long, value_name = "FILE")]
    pub crd: Vec<PathBuf>,
}

/// Filtering, suppression and the CI gate.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Policy and gate")]
pub struct PolicyOpts {
    /// Report only findings of these severities (critical,high,medium,low,info,unknown); others are dropped.
    #[arg(long, short = 's', value_delimiter = ',')]
    pub severity: Vec<String>,
    /// Drop vulnerabilities that have no fixed version.
    #[arg(long)]
    pub ignore_unfixed: bool,
    /// Exit with this code when active findings remain or vulnerability results are incomplete (for CI
    /// gates).
    #[arg(long, default_value_t = 0)]
    pub exit_code: u8,
    /// Exit with this code when the OS release gets no more security fixes (end of life).
    #[arg(long, default_value_t = 0, value_name = "CODE")]
    pub exit_on_eol: u8,
    /// Ignore file(s): `.palisadeignore` (YAML), `.trivyignore`, `.trivyignore.yaml`. Those in the current
    /// directory are read without this flag.
    #[arg(long = "ignorefile", value_name = "FILE")]
    pub ignore_files: Vec<PathBuf>,
    /// OpenVEX document(s): `not_affected` and `fixed` statements suppress matching vulnerabilities.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Policy bundle (a directory with `palisade-policy.yaml`, one policy file, or `oci://REF@sha256:…`)
    /// applied to the report: its `deny` decisions and load errors fail the gate with --exit-code, or 1
    /// when that is 0.
    #[arg(long, value_name = "BUNDLE")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub policy_source: crate::commands::policy::BundleSourceArgs,
}

/// The licence scanner's options (see docs/licenses.md).
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Licences")]
pub struct LicenseOpts {
    /// Also match the headers of source files against licence texts (slower).
    #[arg(long)]
    pub license_full: bool,
    /// Only these licences pass (SPDX ids, `ID WITH EXCEPTION`); every other licence fails the gate.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub license_allow: Vec<String>,
    /// These licences fail the gate (SPDX ids; `GPL-3.0` also covers `-only` and `-or-later`).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub license_deny: Vec<String>,
    /// Licences of these categories fail the gate: forbidden, restricted, reciprocal, notice, permissive,
    /// unencumbered, unknown.
    #[arg(long, value_delimiter = ',', value_name = "CATEGORIES")]
    pub license_fail_on: Vec<String>,
    /// What an unknown licence (not read, or not in the category table) does: warn, fail, ignore.
    #[arg(long, value_name = "ACTION", default_value = "warn")]
    pub license_unknown: String,
}

impl LicenseOpts {
    /// The policy these options describe; errors name the flag and the value.
    pub fn policy(&self) -> anyhow::Result<palisade_license::Policy> {
        let fail_on = self
            .license_fail_on
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.parse::<palisade_license::Category>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("--license-fail-on: {e}"))?;
        let unknown = self
            .license_unknown
            .parse::<palisade_license::UnknownAction>()
            .map_err(|e| anyhow::anyhow!("--license-unknown: {e}"))?;
        palisade_license::Policy::new(&self.license_allow, &self.license_deny, &fail_on, unknown)
            .map_err(|e| anyhow::anyhow!(e))
    }

    /// True when a licence flag was given.
    pub fn any_given(&self) -> bool {
        self.license_full
            || !self.license_allow.is_empty()
            || !self.license_deny.is_empty()
            || !self.license_fail_on.is_empty()
    }
}

/// How to reach images.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Image")]
pub struct ImageOpts {
    /// Platform to pick from a multi-platform image, `os/arch[/variant]`.
    #[arg(long, default_value = "linux/amd64")]
    pub platform: String,
    /// Allow plain HTTP to the registry (for registries on localhost).
    #[arg(long)]
    pub insecure: bool,
    /// Where to look for an image given by name, in order: docker, podman, containerd, remote (the registry).
    #[arg(long = "image-src", value_delimiter = ',', default_value = "docker,podman,containerd,remote")]
    pub image_src: Vec<palisade_artifact::ImageSource>,
    /// Read every image layer, neither using nor filling the layer cache (`<cache dir>/layers`, which keeps
    /// what was found in each layer by its digest so that layers seen before are not read again).
    #[arg(long)]
    pub no_cache: bool,
}

impl Default for ImageOpts {
    fn default() -> Self {
        ImageOpts {
            platform: "linux/amd64".into(),
            insecure: false,
            image_src: palisade_artifact::ImageSource::DEFAULT_ORDER.to_vec(),
            no_cache: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_trivy_writes_them() {
        assert_eq!(parse_duration("5m0s").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("PT2M").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("soon").unwrap_err().contains("not a duration"));
        assert!(parse_duration("-5m").is_err());
    }
}
