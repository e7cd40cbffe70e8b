//! `palisade report`: risk scores per workload and image, the top risks with their fixes, findings by
//! severity and scanner and compliance status, from saved JSON reports (crate `palisade-posture`, module
//! `report`). `--html` writes one self-contained page.

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
    #[arg(value_name = "REPORT", required = true)]
    pub inputs: Vec<PathBuf>,
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
    let r = report::build(&reports, dump.as_ref(), assessed);
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
