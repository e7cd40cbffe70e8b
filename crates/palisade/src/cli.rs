//! The command tree. Only declarations: every command's options live in its module under `commands/`, and
//! `main.rs` dispatches. [`crate::settings`] adds environment variables and the config file on top.

use crate::commands::admission::AdmissionCommand;
use crate::commands::catalog::{ChecksCommand, SecretsCommand};
use crate::commands::compliance::ComplianceCommand;
use crate::commands::convert::ConvertArgs;
use crate::commands::db::DbCommand;
use crate::commands::network::NetworkCommand;
use crate::commands::policy::PolicyCommand;
use crate::commands::profile::ProfileCommand;
use crate::commands::rbac::RbacCommand;
use crate::commands::registry::{RegistryCommand, RescanArgs};
use crate::commands::report::ReportArgs;
use crate::commands::runtime::RuntimeCommand;
use crate::commands::sbom::SbomArgs;
use crate::commands::scan::ScanTarget;
use crate::commands::signing::SigningCommand;
use crate::commands::{EXIT_CODES_HELP, GlobalOpts};
use clap::{Parser, Subcommand};

const AFTER_HELP: &str = "\
Trivy habits work: `palisade image|fs|rootfs|repo|config ...` are `palisade scan ...`; every flag can also be
set as PALISADE_<FLAG> (e.g. PALISADE_SEVERITY=critical,high) or in palisade.yaml (keys named as the flags).";

#[derive(Parser, Debug)]
#[command(
    name = "palisade",
    version,
    about = "Security for Kubernetes pipelines: scan, gate and sign in CI, enforce at admission, watch registries and nodes",
    after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES_HELP}")
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan a target and report what is inside it: vulnerabilities and secrets by default.
    Scan {
        #[command(subcommand)]
        target: Box<ScanTarget>,
    },
    /// Write an SBOM (CycloneDX by default) for TARGET: a directory, an image archive or layout, or a registry
    /// reference. Given an SBOM document, scan it for vulnerabilities instead (as `trivy sbom` does).
    Sbom(Box<SbomArgs>),
    /// Render a saved JSON report in another format, without scanning again.
    Convert(ConvertArgs),
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
    /// Policy bundles (gates, Rego, CEL, Kyverno): evaluate, test and lint.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// The Kubernetes admission webhook: refuses workloads the policy bundle denies.
    Admission {
        #[command(subcommand)]
        command: AdmissionCommand,
    },
    /// RBAC analysis of a cluster dump: risk findings, effective permissions, who-can and can.
    Rbac {
        #[command(subcommand)]
        command: RbacCommand,
    },
    /// Compliance frameworks (CIS Kubernetes, NSA/CISA, NIST 800-190, PCI DSS 4.0, HIPAA) judged against
    /// saved scan, cluster and node reports.
    Compliance {
        #[command(subcommand)]
        command: ComplianceCommand,
    },
    /// A risk report from saved JSON reports: risk score per workload and image, top risks and their fixes,
    /// findings by severity and scanner, compliance status (`--html`: one self-contained page).
    Report(Box<ReportArgs>),
    #[command(flatten)]
    Signing(SigningCommand),
    /// Behavioural profiles as code: learn them from recorded events, diff, test, convert, set modes.
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// Runtime detection: Falco-compatible rules, replay of recorded events, the node agent.
    Runtime {
        #[command(subcommand)]
        command: RuntimeCommand,
    },
    /// Container network: firewall (nftables in the pod's namespace), quarantine, packet capture, the
    /// connection graph, L7 inspection (NFQUEUE), protocol detection, DLP/WAF sensors, response rules.
    Network {
        #[command(subcommand)]
        command: NetworkCommand,
    },
    /// Registries: scan every image into the image store, list stored images by risk, record decisions.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Re-match every image in the store against the current vulnerability DB, without pulling: what is new,
    /// fixed and unchanged per image.
    Rescan(RescanArgs),
    /// Watch registries as a service: poll them, scan on push (the registry's notifications on POST
    /// /events), update the DB on a schedule and re-match, notify new findings; replicas share the work
    /// through the store.
    Watch(Box<crate::commands::watch::WatchArgs>),
}
