//! `palisade scan cluster`: a cluster read live through a kubeconfig ([`super::cluster_live`]) or from a dump
//! (`--from`: `kubectl get -A -o yaml`, `-o json` lists, manifest directories). Both produce the one
//! [`Dump`], and everything after loading is one code path: every manifest check runs on the deployed
//! objects as one set, the cluster checks of `palisade-posture` add what needs the whole cluster (RBAC,
//! versions), the cluster's own components become packages (the vulnerability matcher, the gate and every
//! report format, CycloneDX the cluster BOM, treat them as any scan's), and the running images' open
//! findings come from the image store ([`super::cluster_images`]).

use super::GlobalOpts;
use super::common::parse_duration;
use crate::pipeline::{Scanners, check_engine, now};
use anyhow::Result;
use clap::Args;
use palisade_checks::dump::Dump;
use palisade_core::{ArtifactInfo, ArtifactKind, ScanReport, Warning};
use std::path::PathBuf;
use std::time::Duration;

/// Where the cluster is read from, and how its running images are looked up.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Cluster")]
pub struct ClusterArgs {
    /// Read a dump instead of a live cluster: files or directories (`kubectl get nodes,pods,deploy,ds,sts,
    /// svc,roles,clusterroles,rolebindings,clusterrolebindings,validatingwebhookconfigurations,… -A -o
    /// yaml`, or a `--save-dump` directory).
    #[arg(long = "from", value_name = "PATH", num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// The kubeconfig [default: $KUBECONFIG, else ~/.kube/config].
    #[arg(long, value_name = "FILE", conflicts_with = "from")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context [default: its current-context].
    #[arg(long, value_name = "NAME", conflicts_with = "from")]
    pub context: Option<String>,
    /// Read only this namespace's objects (repeatable); cluster-wide kinds (Nodes, ClusterRoles, webhooks)
    /// are still read.
    #[arg(long = "namespace", short = 'n', value_name = "NS", conflicts_with_all = ["from", "all_namespaces"])]
    pub namespaces: Vec<String>,
    /// Read every namespace (the default).
    #[arg(long, short = 'A', conflicts_with = "from")]
    pub all_namespaces: bool,
    /// Longest wait for one API request (`30s`, `2m`); a kind whose list does not answer in time is a
    /// warning and is left out.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration, conflicts_with = "from")]
    pub request_timeout: Duration,
    /// Time allowed for reading the whole cluster; kinds not read when it runs out are warnings.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration, conflicts_with = "from")]
    pub read_budget: Duration,
    /// Objects per list request (`limit`; the rest is read page by page with `continue`).
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "from")]
    pub page_size: u32,
    /// Write what was read as a dump under DIR (one JSON file per object, `NS/KIND/NAME.json`), which
    /// `--from DIR` reads back.
    #[arg(long, value_name = "DIR", conflicts_with = "from")]
    pub save_dump: Option<PathBuf>,
    /// The image store the running images' findings are read from: a SQLite file or a `postgres://` URL
    /// [default: <cache dir>/store/palisade-store.db].
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<String>,
    /// Scan the running images the store does not hold (pulled from their registries, stored as
    /// `registry scan` stores them) instead of listing them as not scanned.
    #[arg(long)]
    pub scan_missing: bool,
    /// Images pulled and inventoried at once by `--scan-missing`.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Allow plain HTTP to the registries `--scan-missing` pulls from.
    #[arg(long)]
    pub insecure: bool,
}

/// The report of a cluster (before vulnerability matching of its components, which the pipeline does for
/// every target; the running images' findings are already in it).
pub fn scan(args: &ClusterArgs, scanners: &Scanners, global: &GlobalOpts) -> Result<ScanReport> {
    let mut warnings = Vec::new();
    let (dump, name) = if args.from.is_empty() {
        let live = super::cluster_live::read(args, global.quiet)?;
        if let Some(dir) = &args.save_dump {
            super::cluster_live::save(dir, &live.texts)?;
        }
        warnings.extend(live.warnings);
        (live.dump, format!("cluster {}", live.context))
    } else {
        let names: Vec<String> = args.from.iter().map(|p| p.display().to_string()).collect();
        (Dump::load(&args.from)?, format!("cluster {}", names.join(" ")))
    };
    let mut report = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, name), now());
    for w in warnings {
        report.warnings.push(Warning::new("cluster", w));
    }
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
    if scanners.vuln {
        super::cluster_images::add_findings(&mut report, &dump, args, scanners, global)?;
    }
    Ok(report)
}
