//! `palisade secrets rules` and `palisade checks list|explain|docs`: the rule and check registries, printed.

use super::EXIT_OK;
use super::common::CheckOpts;
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use std::path::PathBuf;
use std::process::ExitCode;

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

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_header(header);
    t
}

pub fn secrets(cmd: SecretsCommand) -> Result<ExitCode> {
    match cmd {
        SecretsCommand::Rules { json } => {
            let rules = palisade_secrets::rules();
            if json {
                let list: Vec<_> = rules
                    .iter()
                    .map(|r| {
                        serde_json::json!({
                            "id": r.id, "title": r.title, "severity": r.severity, "doc": r.doc,
                            "keywords": r.keywords, "entropy": r.entropy, "checksum": r.checksum.is_some(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                let mut t = table(&["id", "severity", "title", "doc"]);
                for r in rules {
                    t.add_row(vec![r.id, r.severity.as_str(), r.title, r.doc]);
                }
                println!("{t}\n{} rules", rules.len());
            }
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

pub fn checks(cmd: ChecksCommand) -> Result<ExitCode> {
    match cmd {
        ChecksCommand::List { checks, json } => {
            let opts = CheckOpts { checks, ..Default::default() };
            let engine = crate::pipeline::check_engine(&opts)?;
            let selected = engine.checks();
            if json {
                let list: Vec<_> = selected
                    .iter()
                    .map(|c| {
                        let m = c.meta();
                        serde_json::json!({
                            "id": m.id, "title": m.title, "severity": m.severity, "groups": m.groups,
                            "references": m.references, "peers": m.peers,
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                let mut t = table(&["id", "severity", "groups", "title"]);
                for c in selected {
                    let m = c.meta();
                    t.add_row(vec![
                        m.id.to_string(),
                        m.severity.to_string(),
                        m.groups.join(", "),
                        m.title.to_string(),
                    ]);
                }
                println!("{t}\n{} checks", selected.len());
            }
        }
        ChecksCommand::Explain { id } => {
            let Some(check) = palisade_checks::find_check(&id) else {
                bail!("no check {id:?}: `palisade checks list` shows them all");
            };
            let m = check.meta();
            println!("{}  {}  [{}]\n", m.id, m.title, m.severity);
            println!("Groups: {}\n", m.groups.join(", "));
            println!("Why:\n  {}\n", m.rationale);
            println!("Fix:\n  {}\n", m.remediation);
            if !m.references.is_empty() {
                println!("References:");
                for r in m.references {
                    println!("  - {r}");
                }
            }
            if !m.peers.is_empty() {
                println!("Equivalent peer checks: {}", m.peers.join(", "));
            }
        }
        ChecksCommand::Docs { output } => {
            palisade_checks::render_docs(&output).with_context(|| format!("writing {}", output.display()))?;
            eprintln!("wrote {} check pages to {}", palisade_checks::registry().len(), output.display());
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}
