//! `palisade rbac`: who can do what in a cluster, read from a dump (crate `palisade-posture`, module `rbac`).

use crate::commands::EXIT_OK;
use anyhow::{Result, anyhow};
use clap::{Args, Subcommand};
use palisade_checks::dump::Dump;
use palisade_posture::rbac::analyze;
use palisade_posture::rbac::model::{Rbac, Subject};
use palisade_posture::rbac::query::{Allowed, ResourceQuery, can, who_can};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum RbacCommand {
    /// Risk findings (escalation, secrets, exec, tokens, webhooks, wildcards, anonymous access, …), each with
    /// the binding chain that grants it and the workloads running as the service account.
    Analyze(AnalyzeArgs),
    /// Effective permissions of every subject (users, groups, service accounts) and its workloads.
    Subjects(DumpArgs),
    /// Who may VERB RESOURCE (`pods`, `pods/exec`, `deployments.apps`) in a namespace (-n) or cluster-wide.
    WhoCan(WhoCanArgs),
    /// May SUBJECT VERB RESOURCE? SUBJECT is `User:NAME` (or a bare name), `Group:NAME`,
    /// `ServiceAccount:NS/NAME` or `system:serviceaccount:NS:NAME`. Exit 0 when allowed, 1 when not.
    Can(CanArgs),
}

#[derive(Args, Debug)]
pub struct DumpArgs {
    /// Cluster dump: `kubectl get -A -o yaml` (or `-o json`) output of roles, clusterroles, rolebindings,
    /// clusterrolebindings, namespaces and workloads, or directories of manifests.
    #[arg(long = "from", value_name = "PATH", required = true, num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// `table` or `json`.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub dump: DumpArgs,
    /// Also judge the bindings Kubernetes manages itself (`system:*`, `kubeadm:*`).
    #[arg(long)]
    pub include_system: bool,
    /// Exit with this code when there is a finding.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub exit_code: u8,
}

#[derive(Args, Debug)]
pub struct WhoCanArgs {
    pub verb: String,
    pub resource: String,
    /// Namespace of the request; without it, a cluster-wide request (ClusterRoleBindings only).
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub dump: DumpArgs,
}

#[derive(Args, Debug)]
pub struct CanArgs {
    pub subject: String,
    pub verb: String,
    pub resource: String,
    /// Namespace of the request; without it, a cluster-wide request.
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Groups the user is in (besides system:authenticated).
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    #[command(flatten)]
    pub dump: DumpArgs,
}

fn load(a: &DumpArgs) -> Result<Rbac> {
    let dump = Dump::load(&a.from)?;
    for e in &dump.errors {
        eprintln!("{e}");
    }
    let rbac = Rbac::from_dump(&dump);
    for e in &rbac.errors {
        eprintln!("{e}");
    }
    Ok(rbac)
}

pub fn run(command: RbacCommand) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match command {
        RbacCommand::Analyze(a) => {
            let rbac = load(&a.dump)?;
            let r = analyze(&rbac, a.include_system);
            if a.dump.format == "json" {
                serde_json::to_writer_pretty(&mut out, &r)?;
                writeln!(out)?;
            } else {
                for f in &r.findings {
                    writeln!(
                        out,
                        "{:<8} {} {} ({}): {}",
                        format!("{:?}", f.severity).to_uppercase(),
                        f.id,
                        f.subject,
                        f.scope,
                        f.title
                    )?;
                    for c in &f.chains {
                        writeln!(out, "    via {c}")?;
                    }
                    if !f.workloads.is_empty() {
                        let w: Vec<String> = f.workloads.iter().map(ToString::to_string).collect();
                        writeln!(out, "    runs as it: {}", w.join(", "))?;
                    }
                }
                for d in &r.dangling_bindings {
                    writeln!(out, "note: {d}")?;
                }
                writeln!(out, "{} findings for {} subjects", r.findings.len(), r.subjects.len())?;
            }
            let code = if r.findings.is_empty() { EXIT_OK } else { a.exit_code };
            Ok(ExitCode::from(code))
        }
        RbacCommand::Subjects(a) => {
            let rbac = load(&a)?;
            let r = analyze(&rbac, true);
            if a.format == "json" {
                serde_json::to_writer_pretty(&mut out, &r.subjects)?;
                writeln!(out)?;
            } else {
                for s in &r.subjects {
                    writeln!(out, "{}", s.subject)?;
                    for g in &s.grants {
                        writeln!(out, "    {}: {}", g.scope, g.chain)?;
                    }
                    for w in &s.workloads {
                        writeln!(out, "    runs as it: {w}")?;
                    }
                }
            }
            Ok(ExitCode::from(EXIT_OK))
        }
        RbacCommand::WhoCan(a) => {
            let rbac = load(&a.dump)?;
            let res = ResourceQuery::parse(&a.resource).map_err(|e| anyhow!(e))?;
            let r = who_can(&rbac, &a.verb, &res, a.namespace.as_deref());
            print_allowed(&mut out, &a.dump.format, &r)?;
            Ok(ExitCode::from(EXIT_OK))
        }
        RbacCommand::Can(a) => {
            let rbac = load(&a.dump)?;
            let who = Subject::parse(&a.subject).map_err(|e| anyhow!(e))?;
            let res = ResourceQuery::parse(&a.resource).map_err(|e| anyhow!(e))?;
            let r = can(&rbac, &who, &a.groups, &a.verb, &res, a.namespace.as_deref());
            if a.dump.format == "json" {
                serde_json::to_writer_pretty(
                    &mut out,
                    &serde_json::json!({"allowed": !r.is_empty(), "via": r}),
                )?;
                writeln!(out)?;
            } else {
                writeln!(out, "{}", if r.is_empty() { "no" } else { "yes" })?;
                for a in &r {
                    for c in &a.chains {
                        writeln!(out, "    as {} ({}): {c}", a.subject, a.scope)?;
                    }
                }
            }
            Ok(ExitCode::from(if r.is_empty() { 1 } else { EXIT_OK }))
        }
    }
}

fn print_allowed(out: &mut impl Write, format: &str, r: &[Allowed]) -> Result<()> {
    if format == "json" {
        serde_json::to_writer_pretty(&mut *out, r)?;
        writeln!(out)?;
        return Ok(());
    }
    for a in r {
        writeln!(out, "{} ({})", a.subject, a.scope)?;
        for c in &a.chains {
            writeln!(out, "    via {c}")?;
        }
    }
    writeln!(out, "{} subjects", r.len())?;
    Ok(())
}
