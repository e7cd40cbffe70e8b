//! `palisade admission serve`: the Kubernetes admission webhook (crate `palisade-admission`).

use crate::commands::common::parse_duration;
use crate::commands::{EXIT_OK, GlobalOpts};
use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade_admission::{Config, OnError, Settings};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum AdmissionCommand {
    /// Serve AdmissionReview requests over HTTPS (`POST /validate`), decided by a policy bundle; also
    /// `/healthz`, `/readyz` and `/metrics`.
    Serve(Box<ServeArgs>),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ErrorAction {
    Deny,
    Allow,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Policy bundle (directory with palisade-policy.yaml, or one policy file); reloaded when it changes.
    /// The server does not start when it has errors; a reload with errors keeps the last good bundle.
    #[arg(long, value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// Serving certificate chain (PEM); reloaded when it changes (a rotated Secret).
    #[arg(long, value_name = "FILE", requires = "tls_key", required_unless_present = "self_signed")]
    pub tls_cert: Option<PathBuf>,
    /// Private key of the serving certificate (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Make a CA and a serving certificate in DIR (ca.crt, tls.crt, tls.key) and print the caBundle for
    /// the webhook configuration.
    #[arg(long, value_name = "DIR", conflicts_with = "tls_cert")]
    pub self_signed: Option<PathBuf>,
    /// DNS names (or IP addresses) of the self-signed serving certificate, e.g. the Service's
    /// `palisade-admission.palisade.svc`.
    #[arg(long = "dns-name", value_name = "NAME", default_values = ["localhost", "127.0.0.1"])]
    pub dns_names: Vec<String>,
    /// The webhook's own namespace: never evaluated, so the webhook can always be repaired.
    #[arg(long, env = "POD_NAMESPACE", value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Namespaces admitted without evaluation.
    #[arg(long, value_name = "NAMESPACE", value_delimiter = ',', default_value = "kube-system")]
    pub exclude_namespace: Vec<String>,
    /// Users admitted without evaluation.
    #[arg(long, value_name = "USER", value_delimiter = ',')]
    pub exclude_user: Vec<String>,
    /// Groups admitted without evaluation.
    #[arg(long, value_name = "GROUP", value_delimiter = ',')]
    pub exclude_group: Vec<String>,
    /// Annotation that admits an object without evaluation (its value should give the reason); every use
    /// is logged, warned and annotated.
    #[arg(long, value_name = "KEY", default_value = "palisade.dev/break-glass")]
    pub break_glass_annotation: String,
    /// When a policy cannot be evaluated (time budget exceeded, run-time error): deny the request, or
    /// admit it with a warning and the fail_open metric.
    #[arg(long, value_enum, default_value = "deny")]
    pub on_error: ErrorAction,
    /// Time budget for evaluating one request (`500ms`, `2s`); keep it below the webhook's timeoutSeconds.
    #[arg(long, value_parser = parse_duration, default_value = "1500ms")]
    pub budget: Duration,
    /// Largest request body in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body: usize,
    /// Connections served at once; further connections are closed at once.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub max_connections: usize,
    /// How often certificate and bundle files are checked for changes.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub reload_interval: Duration,
}

pub fn run(command: AdmissionCommand, global: &GlobalOpts) -> Result<ExitCode> {
    match command {
        AdmissionCommand::Serve(args) => serve(*args, global),
    }
}

fn serve(args: ServeArgs, _global: &GlobalOpts) -> Result<ExitCode> {
    let (cert, key) = match (&args.self_signed, args.tls_cert, args.tls_key) {
        (Some(dir), _, _) => {
            let made = palisade_admission::tls::self_signed(dir, &args.dns_names)?;
            println!("serving certificate for {} in {}", args.dns_names.join(", "), dir.display());
            println!("caBundle: {}", made.ca_bundle);
            (made.cert, made.key)
        }
        (None, Some(c), Some(k)) => (c, k),
        _ => bail!("give --tls-cert and --tls-key, or --self-signed DIR"),
    };
    if args.budget.is_zero() {
        bail!("--budget must be above 0");
    }
    let mut excluded = args.exclude_namespace;
    excluded.extend(args.namespace);
    let settings = Settings {
        excluded_namespaces: excluded,
        excluded_users: args.exclude_user,
        excluded_groups: args.exclude_group,
        break_glass_annotation: args.break_glass_annotation,
        on_error: match args.on_error {
            ErrorAction::Deny => OnError::Deny,
            ErrorAction::Allow => OnError::Allow,
        },
        budget: args.budget,
    };
    let mut config = Config::new(args.listen, cert, key, args.bundle);
    config.settings = settings;
    config.max_body = args.max_body;
    config.max_connections = args.max_connections.max(1);
    config.request_timeout = args.budget + Duration::from_secs(1);
    config.reload_interval = args.reload_interval.max(Duration::from_millis(100));
    palisade_admission::server::run(config, |running| {
        // Tests and scripts read this line to find the port.
        println!("listening on https://{}", running.local_addr);
    })?;
    Ok(ExitCode::from(EXIT_OK))
}
