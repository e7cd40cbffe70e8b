//! `palisade report`: risk scores per workload and image, the top risks with their fixes, findings by
//! severity and scanner and compliance status, from saved JSON reports (crate `palisade-posture`, module
//! `report`). `--html` writes one self-contained page; `--store` adds the image store's riskiest images and the trends from its findings history.

use crate::commands::EXIT_OK;
use anyhow::{Context, Result, anyhow};
use clap::Args;
use palisade_checks::dump::Dump;
use palisade_posture::node::NodeReport;
use palisade_posture::{compliance, report};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// JSON reports: scan reports (images, config, cluster) and node reports (`scan node -f json`).
    #[arg(value_name = "REPORT", required_unless_present = "store")]
    pub inputs: Vec<PathBuf>,
    /// The image store (a SQLite file or a `postgres://` URL, as `registry scan` filled it): adds the open
    /// findings over time by severity from its findings history.
    #[arg(long, value_name = "PATH|URL")]
    pub store: Option<String>,
    /// One self-contained HTML page (inline SVG charts, no scripts, no external resources) instead of JSON.
    #[arg(long)]
    pub html: bool,
    /// Cluster dump: which workload runs which image, and what exposes it (Services, Ingresses, host network).
    #[arg(long = "from", value_name = "DUMP")]
    pub from: Vec<PathBuf>,
    /// Compliance frameworks to summarize (repeatable): cis-kubernetes, nsa-cisa, nist-800-190, pci-dss-4,
    /// hipaa.
    #[arg(long = "framework", value_name = "F")]
    pub frameworks: Vec<String>,
    /// With `--html`: add the connection graph (workloads, external peers, ports, bytes) of this graph file
    /// (the JSON of `network graph` or the agent's `/graph`) as an inline SVG section.
    #[arg(long, value_name = "FILE", requires = "html")]
    pub graph: Option<PathBuf>,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

const MAX_INPUT: u64 = 1 << 30;

pub fn run(a: ReportArgs) -> Result<ExitCode> {
    let mut reports = Vec::new();
    let mut nodes: Vec<NodeReport> = Vec::new();
    for p in &a.inputs {
        let mut bytes = Vec::new();
        std::fs::File::open(p)
            .and_then(|f| f.take(MAX_INPUT).read_to_end(&mut bytes))
            .with_context(|| format!("{}: cannot read", p.display()))?;
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).with_context(|| format!("{}: not a JSON report", p.display()))?;
        if v.get("benchmark").is_some() && v.get("results").is_some() {
            nodes.push(
                serde_json::from_value(v).with_context(|| format!("{}: not a node report", p.display()))?,
            );
        } else {
            reports.push(
                palisade_report::json::read(bytes.as_slice())
                    .with_context(|| format!("{}: not a Palisade scan report", p.display()))?,
            );
        }
    }
    let dump = if a.from.is_empty() {
        None
    } else {
        let d = Dump::load(&a.from)?;
        for e in &d.errors {
            eprintln!("{e}");
        }
        Some(d)
    };
    let mut assessed = Vec::new();
    for f in &a.frameworks {
        let fw = compliance::framework::load(f).map_err(|e| anyhow!(e))?;
        assessed.push(compliance::assess(&fw, &reports, &nodes));
    }
    let mut r = report::build(&reports, dump.as_ref(), assessed);
    if let Some(spec) = &a.store {
        let store = open_store(spec)?;
        r.inputs.push(format!("image store {}", store.name()));
        r.trends = Some(store.findings_over_time()?);
        r.stored_images = store
            .images_by_risk()?
            .into_iter()
            .filter(|i| i.risk > 0)
            .take(report::TOP)
            .map(|i| report::StoredImageRisk {
                image: format!("{}:{}@{}", i.repository, i.tags.join(","), i.digest),
                score: i.risk,
                critical: i.critical,
                high: i.high,
                kev: i.risk_factors.kev,
                fixable: i.fixable,
                top_reason: i.top_reason.unwrap_or_default(),
            })
            .collect();
    }
    let mut buf = Vec::new();
    if a.html {
        let now = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let graph = match &a.graph {
            Some(p) => Some(report::graph::load(p).map_err(|e| anyhow!(e))?),
            None => None,
        };
        buf.extend(report::html::render(&r, &now, graph.as_ref()).into_bytes());
    } else {
        serde_json::to_writer_pretty(&mut buf, &r)?;
        writeln!(buf)?;
    }
    match &a.output {
        Some(p) => std::fs::write(p, &buf).with_context(|| format!("{}: cannot write", p.display()))?,
        None => std::io::stdout().lock().write_all(&buf)?,
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// Open an existing store: a SQLite path that does not exist is an error here, not a new empty store.
fn open_store(spec: &str) -> Result<palisade_store::Store> {
    let url = ["postgres://", "postgresql://", "sqlite:"].iter().any(|p| spec.starts_with(p));
    if !url && !std::path::Path::new(spec).exists() {
        anyhow::bail!("--store {spec}: no such store (fill one with `palisade registry scan`)");
    }
    Ok(palisade_store::Store::open(spec)?)
}
