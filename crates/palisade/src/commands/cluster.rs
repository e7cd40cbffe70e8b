//! `palisade scan cluster --from DUMP`: a cluster read from a dump (`kubectl get -A -o yaml`, `-o json`
//! lists, manifest directories). Every manifest check runs on the deployed objects as one set, the cluster
//! checks of `palisade-posture` add what needs the whole cluster (RBAC, versions), and the cluster's own
//! components become packages, so the vulnerability matcher, the gate and every report format (CycloneDX:
//! the cluster BOM) treat them as any scan's. No API server is contacted.

use crate::pipeline::{Scanners, check_engine, now};
use anyhow::Result;
use palisade_checks::dump::Dump;
use palisade_core::{ArtifactInfo, ArtifactKind, ScanReport, Warning};
use std::path::PathBuf;

/// The report of a cluster dump (before vulnerability matching, which the pipeline does for every target).
pub fn scan(paths: &[PathBuf], scanners: &Scanners) -> Result<ScanReport> {
    let dump = Dump::load(paths)?;
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let mut report =
        ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, format!("cluster {}", names.join(" "))), now());
    for e in &dump.errors {
        report.warnings.push(Warning::new("cluster", e.clone()));
    }
    let given = scanners.check_opts.k8s_version.clone();
    let cluster = palisade_posture::cluster::scan(&dump, given.as_deref());
    for e in &cluster.errors {
        report.warnings.push(Warning::new("cluster", e.clone()));
    }
    if scanners.misconfig {
        // The manifest checks judge API versions for the cluster's own version unless told otherwise.
        let mut opts = scanners.check_opts.clone();
        if opts.k8s_version.is_none() {
            opts.k8s_version.clone_from(&cluster.version);
        }
        let engine = check_engine(&opts)?;
        let r = engine.check_dump(dump.objects.iter().map(|d| (d.file.as_str(), &d.object)));
        report.misconfigurations = r.findings;
        report.misconfigurations.extend(cluster.findings);
        report
            .misconfigurations
            .sort_by(|a, b| (&a.file, a.line, &a.check_id).cmp(&(&b.file, b.line, &b.check_id)));
        for e in r.errors {
            report.warnings.push(
                Warning::new("misconfig", format!("line {}, column {}: {}", e.line, e.column, e.message))
                    .at(e.file, None),
            );
        }
    }
    report.packages = palisade_posture::cluster::components::packages(&cluster.components);
    Ok(report)
}
