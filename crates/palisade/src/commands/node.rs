//! `palisade scan node [ROOT]`: the CIS Kubernetes Benchmark on a node's files (crate `palisade-posture`,
//! module `node`).

use crate::commands::EXIT_OK;
use anyhow::{Result, bail};
use clap::Args;
use palisade_posture::node::{Status, scan};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Root of the node's file tree (a mounted disk or image of a node works too).
    #[arg(default_value = "/")]
    pub root: PathBuf,
    /// `table` (kube-bench's layout: one line per control, evidence under failures and warnings) or `json`.
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with this code when a control fails.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub exit_code: u8,
}

pub fn run(a: NodeArgs) -> Result<ExitCode> {
    if !a.root.is_dir() {
        bail!("{}: not a directory", a.root.display());
    }
    let r = scan(&a.root);
    for e in &r.errors {
        eprintln!("{e}");
    }
    let mut buf = Vec::new();
    if a.format == "json" {
        serde_json::to_writer_pretty(&mut buf, &r)?;
        writeln!(buf)?;
    } else {
        writeln!(buf, "{} on {}", r.benchmark, r.root)?;
        let found = if r.components.is_empty() { "none".to_string() } else { r.components.join(", ") };
        writeln!(buf, "components found: {found}")?;
        let mut section = String::new();
        for c in &r.results {
            if c.section != section {
                section.clone_from(&c.section);
                writeln!(buf, "[INFO] {section}")?;
            }
            writeln!(buf, "[{}] {} {}", c.status.label(), c.id, c.title)?;
            if matches!(c.status, Status::Fail | Status::Warn) {
                for e in &c.evidence {
                    writeln!(buf, "        {e}")?;
                }
                if c.status == Status::Fail {
                    writeln!(buf, "        fix: {}", c.remediation)?;
                }
            }
        }
        let s = &r.summary;
        writeln!(
            buf,
            "== Summary: {} pass, {} fail, {} warn, {} not applicable ==",
            s.pass, s.fail, s.warn, s.not_applicable
        )?;
    }
    match &a.output {
        Some(p) => std::fs::write(p, &buf).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
        None => std::io::stdout().lock().write_all(&buf)?,
    }
    Ok(ExitCode::from(if r.summary.fail > 0 { a.exit_code } else { EXIT_OK }))
}
