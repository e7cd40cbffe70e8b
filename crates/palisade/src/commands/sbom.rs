//! `palisade sbom TARGET`: an SBOM of anything Palisade can open; or, given an SBOM document, its
//! vulnerabilities (what `trivy sbom FILE` does, so that habit keeps working).

use super::GlobalOpts;
use super::common::{ImageOpts, ScannerName};
use super::scan::{self, ScanOpts};
use crate::pipeline::TargetSpec;
use anyhow::Result;
use clap::Args;
use palisade_report::Format;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct SbomArgs {
    /// A directory (root filesystem or project), an image archive or OCI layout, an SBOM document, or an
    /// image reference.
    pub target: String,
    #[command(flatten)]
    pub image: ImageOpts,
    #[command(flatten)]
    pub opts: ScanOpts,
}

pub fn run(args: SbomArgs, global: &GlobalOpts) -> Result<ExitCode> {
    let SbomArgs { target, image, mut opts } = args;
    let spec = TargetSpec::detect(&target)?;
    if matches!(spec, TargetSpec::Sbom(_)) {
        // An SBOM in: report its vulnerabilities, as `scan sbom` does.
        return scan::scan_and_report(spec, opts, image, global, Format::Table);
    }
    // Anything else: the inventory as an SBOM; `--scanners vuln` adds vulnerabilities to it.
    if opts.scanners.is_empty() {
        opts.scanners = vec![ScannerName::Package];
    }
    scan::scan_and_report(spec, opts, image, global, Format::CycloneDx)
}
