//! `palisade admission serve`: the Kubernetes admission webhook (crate `palisade-admission`).

use crate::commands::common::{ImageOpts, LicenseOpts, ScannerName, parse_duration};
use crate::commands::{EXIT_OK, GlobalOpts};
use crate::pipeline::{Scanners, TargetSpec};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade_admission::images::{Facts, FactsConfig, Lookup, Resolver, Scanner};
use palisade_admission::{Config, OnError, Settings};
use palisade_policy::engine::Action;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum AdmissionCommand {
    /// Serve AdmissionReview requests over HTTPS (`POST /validate`), decided by a policy bundle; also
    /// `/healthz`, `/readyz` and `/metrics`.
    Serve(Box<ServeArgs>),
    /// Audit what already runs: evaluate the objects of `kubectl get -A -o yaml` dumps (Lists) or
    /// directories of manifests with the same bundle, and report the decisions by namespace.
    Audit(AuditArgs),
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Policy bundle, as for `serve`.
    #[arg(long, value_name = "BUNDLE")]
    pub bundle: PathBuf,
    #[command(flatten)]
    pub source: crate::commands::policy::BundleSourceArgs,
    /// Dumps (`kubectl get deploy,ds,sts,pods -A -o yaml > dump.yaml`), manifests or directories.
    #[arg(value_name = "PATH", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Namespaces left out, as the webhook leaves them out.
    #[arg(long, value_name = "NAMESPACE", value_delimiter = ',', default_value = "kube-system")]
    pub exclude_namespace: Vec<String>,
    /// `table` (by namespace, then every decision) or `json`.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Exit with this code when a deny decision (or an evaluation error, or a policy file that does not
    /// load) is found.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub exit_code: u8,
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
    /// `oci://REF@sha256:…` is pulled once at start (a digest never changes).
    #[arg(long, value_name = "BUNDLE")]
    pub bundle: PathBuf,
    #[command(flatten)]
    pub source: crate::commands::policy::BundleSourceArgs,
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
    /// Namespaces and their labels at start (`kubectl get namespaces -o yaml`), for Pod Security labels
    /// and namespace selectors; later changes are learned from Namespace reviews.
    #[arg(long, value_name = "FILE")]
    pub namespaces: Option<PathBuf>,
    #[command(flatten)]
    pub images: ImageFactArgs,
}

/// Image facts: the scan reports of the images an object runs, judged by the bundle's gates as in CI.
#[derive(Args, Debug)]
#[command(next_help_heading = "Image facts")]
pub struct ImageFactArgs {
    /// Directory of JSON scan reports written in CI (`palisade scan image REF --format json -o DIR/x.json`),
    /// found by the image digests they name; re-read when it changes. Turns image facts on.
    #[arg(long, value_name = "DIR")]
    pub image_reports: Option<PathBuf>,
    /// Pull and scan images that have no report, in the background (one at a time, a bounded queue); a
    /// request waits for its image only within --budget. Needs the vulnerability DB (--db). Turns image
    /// facts on.
    #[arg(long)]
    pub scan_images: bool,
    /// Scanners run on images without a report.
    #[arg(long, value_delimiter = ',', default_value = "vuln,secret", value_name = "SCANNERS")]
    pub image_scanners: Vec<ScannerName>,
    /// Where reports of the webhook's own scans are kept and read back after a restart (default
    /// `<cache dir>/admission-reports`).
    #[arg(long, value_name = "DIR")]
    pub image_cache: Option<PathBuf>,
    /// What an image without a scan report gets (image facts on): a `deny`, `warn` or `audit` decision, or
    /// nothing (`allow`).
    #[arg(long, value_enum, default_value = "warn")]
    pub unknown_image: UnknownImage,
    /// How long the digest a tag names is trusted before the registry is asked again.
    #[arg(long, value_parser = parse_duration, default_value = "5m")]
    pub digest_ttl: Duration,
    /// The registry store (`palisade registry scan`: a SQLite file or a `postgres://` URL): a digest it
    /// holds is judged by its stored SBOM matched against the vulnerability DB (--db), before any scan, and
    /// asked again after --digest-ttl so a rescan is seen. Turns image facts on.
    #[arg(long, value_name = "STORE")]
    pub store: Option<String>,
    /// Vulnerability DB used by --scan-images and --store.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Allow plain HTTP to registries (for registries on localhost).
    #[arg(long)]
    pub insecure: bool,
    /// `POST /mutate` pins every image without a digest to the digest its tag names now (register the
    /// webhook as a MutatingWebhookConfiguration too). Implied by image facts.
    #[arg(long)]
    pub pin_digests: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UnknownImage {
    Deny,
    Warn,
    Audit,
    Allow,
}

pub fn run(command: AdmissionCommand, global: &GlobalOpts) -> Result<ExitCode> {
    match command {
        AdmissionCommand::Serve(args) => serve(*args, global),
        AdmissionCommand::Audit(args) => audit(args),
    }
}

/// Per namespace: objects evaluated and decisions by action.
#[derive(Debug, Default)]
struct NamespaceAudit {
    objects: usize,
    deny: usize,
    warn: usize,
    audit: usize,
    error: usize,
}

fn audit(a: AuditArgs) -> Result<ExitCode> {
    use crate::commands::policy::{compile, evaluate};
    use palisade_policy::engine::{Action, DEFAULT_NAMESPACE, Outcome, Policy, SubjectKind};
    let (_, compiled) = compile(&a.source.resolve(&a.bundle)?, None)?;
    let mut problems: Vec<String> =
        compiled.errors.iter().filter(|e| !e.unsupported).map(ToString::to_string).collect();
    // The cluster dump loader shared with `rbac` and `scan cluster`.
    let dump = palisade_checks::dump::Dump::load(&a.inputs)?;
    problems.extend(dump.errors.iter().cloned());
    let mut subjects: Vec<palisade_policy::engine::Subject> = dump
        .objects
        .iter()
        .map(|d| palisade_policy::engine::Subject {
            memo: Default::default(),
            kind: SubjectKind::KubernetesObject,
            value: d.object.root.to_json(),
            origin: palisade_policy::engine::Origin {
                path: Some(d.file.clone().into()),
                document: d.document,
                request_uid: None,
            },
            admission: Default::default(),
        })
        .collect();
    let namespace_of = |s: &palisade_policy::engine::Subject| -> String {
        s.value.pointer("/metadata/namespace").and_then(|v| v.as_str()).unwrap_or("").to_string()
    };
    subjects.retain(|s| {
        s.kind == SubjectKind::KubernetesObject && !a.exclude_namespace.contains(&namespace_of(s))
    });
    // As the webhook: conftest policies of the default namespace only.
    let policies: Vec<&dyn Policy> = compiled
        .policies
        .iter()
        .map(|p| p.as_ref())
        .filter(|p| p.namespace().is_none_or(|n| n == DEFAULT_NAMESPACE))
        .collect();
    let mut by_ns: std::collections::BTreeMap<String, NamespaceAudit> = Default::default();
    for s in &subjects {
        by_ns.entry(namespace_of(s)).or_default().objects += 1;
    }
    let decisions = evaluate(&policies, &subjects, Duration::from_secs(2));
    for d in &decisions {
        let e = by_ns.entry(d.object.namespace.clone().unwrap_or_default()).or_default();
        match (d.outcome, d.action) {
            (Outcome::Error, _) => e.error += 1,
            (_, Action::Deny) => e.deny += 1,
            (_, Action::Warn) => e.warn += 1,
            (_, Action::Audit) => e.audit += 1,
        }
    }
    for p in &problems {
        eprintln!("{p}");
    }
    let mut out = std::io::stdout().lock();
    use std::io::Write;
    if a.format == "json" {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({
                "bundle": {"name": compiled.name, "version": compiled.version},
                "namespaces": by_ns.iter().map(|(ns, c)| (ns.clone(), serde_json::json!({
                    "objects": c.objects, "deny": c.deny, "warn": c.warn, "audit": c.audit, "error": c.error,
                }))).collect::<serde_json::Map<_, _>>(),
                "decisions": decisions,
                "errors": problems,
            }),
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "Audit with bundle {} {}: {} objects",
            compiled.name,
            compiled.version,
            subjects.len()
        )?;
        writeln!(
            out,
            "{:<32} {:>8} {:>6} {:>6} {:>6} {:>6}",
            "NAMESPACE", "OBJECTS", "DENY", "WARN", "AUDIT", "ERROR"
        )?;
        for (ns, c) in &by_ns {
            let ns = if ns.is_empty() { "(cluster)" } else { ns.as_str() };
            writeln!(
                out,
                "{ns:<32} {:>8} {:>6} {:>6} {:>6} {:>6}",
                c.objects, c.deny, c.warn, c.audit, c.error
            )?;
        }
        for d in &decisions {
            let what = match d.outcome {
                Outcome::Error => "error".to_string(),
                _ => format!("{:?}", d.action).to_ascii_lowercase(),
            };
            writeln!(
                out,
                "{what:<5} {} [{}/{}] {}",
                d.object,
                d.policy,
                d.rule,
                d.message.replace('\n', " ")
            )?;
        }
    }
    let fails = !problems.is_empty()
        || decisions.iter().any(|d| d.outcome == Outcome::Error || d.action == Action::Deny);
    Ok(ExitCode::from(if fails { a.exit_code } else { EXIT_OK }))
}

/// The image facts of `serve`, when --image-reports or --scan-images asks for them.
fn image_facts(a: &ImageFactArgs, global: &GlobalOpts) -> Result<Option<Arc<Facts>>> {
    if a.image_reports.is_none() && !a.scan_images && !a.pin_digests && a.store.is_none() {
        return Ok(None);
    }
    let insecure = a.insecure;
    let resolve: Box<Resolver> = Box::new(move |image, timeout| {
        palisade_artifact::resolve_digest(image, insecure, timeout).map_err(|e| e.to_string())
    });
    let cache_dir = a.image_cache.clone().unwrap_or_else(|| {
        global.cache_dir.clone().unwrap_or_else(palisade_core::default_cache_dir).join("admission-reports")
    });
    let scanner: Option<Box<Scanner>> = a.scan_images.then(|| {
        let image = ImageOpts {
            insecure,
            image_src: vec![palisade_artifact::ImageSource::Remote],
            ..ImageOpts::default()
        };
        let scanners = Scanners {
            vuln: a.image_scanners.contains(&ScannerName::Vuln),
            secret: a.image_scanners.contains(&ScannerName::Secret),
            misconfig: a.image_scanners.contains(&ScannerName::Misconfig),
            db: global.db_path(a.db.as_ref()),
            max_file_size: palisade_artifact::Limits::default().max_file_size,
            license: a.image_scanners.contains(&ScannerName::License).then(LicenseOpts::default),
            ..Scanners::default()
        };
        let quiet = GlobalOpts { quiet: true, ..global.clone() };
        let scan: Box<Scanner> = Box::new(move |target| {
            let report =
                crate::pipeline::scan(&TargetSpec::Registry(target.to_string()), &image, &scanners, &quiet)
                    .map_err(|e| format!("{e:#}"))?;
            serde_json::to_value(&report).map_err(|e| e.to_string())
        });
        scan
    });
    let lookup =
        a.store.as_deref().map(|spec| store_lookup(spec, global.db_path(a.db.as_ref()))).transpose()?;
    let config = FactsConfig {
        reports_dir: a.image_reports.clone(),
        cache_dir: Some(cache_dir),
        digest_ttl: a.digest_ttl,
        ..FactsConfig::default()
    };
    let (facts, warnings) =
        Facts::new(config, resolve, lookup, scanner).context("starting the image workers")?;
    for w in warnings {
        eprintln!("warning: scan reports: {w}");
    }
    Ok(Some(Arc::new(facts)))
}

/// Reports from the registry store: the stored SBOM of a digest, matched against `db` now.
fn store_lookup(spec: &str, db: PathBuf) -> Result<Box<Lookup>> {
    let store =
        palisade_store::Store::open(spec).with_context(|| format!("opening the image store {spec}"))?;
    Ok(Box::new(move |target| {
        let digest = target.rsplit_once('@').map_or(target, |(_, d)| d);
        let Some((_, sbom)) = store.sbom(digest).map_err(|e| e.to_string())? else { return Ok(None) };
        let mut report = crate::pipeline::report_from_sbom(&sbom, target).map_err(|e| format!("{e:#}"))?;
        report.artifact.kind = palisade_core::ArtifactKind::Image;
        report.artifact.source = Some("store".into());
        report.artifact.repo_digests = vec![target.to_string()];
        crate::pipeline::match_vulnerabilities(&mut report, &db);
        serde_json::to_value(&report).map(Some).map_err(|e| e.to_string())
    }))
}

fn serve(args: ServeArgs, global: &GlobalOpts) -> Result<ExitCode> {
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
    crate::pipeline::install_sbom_matcher(global.db_path(args.images.db.as_ref()));
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
        unknown_image: match args.images.unknown_image {
            UnknownImage::Deny => Some(Action::Deny),
            UnknownImage::Warn => Some(Action::Warn),
            UnknownImage::Audit => Some(Action::Audit),
            UnknownImage::Allow => None,
        },
        judge_images: args.images.image_reports.is_some()
            || args.images.scan_images
            || args.images.store.is_some(),
    };
    let images = image_facts(&args.images, global)?;
    let bundle = args.source.resolve(&args.bundle)?;
    let mut config = Config::new(args.listen, cert, key, bundle);
    config.images = images;
    if let Some(path) = &args.namespaces {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text)
            .map_err(|e| anyhow::anyhow!("{}: not a YAML or JSON dump: {e}", path.display()))?;
        let n = config.namespaces.load(&docs);
        eprintln!("{n} namespaces read from {}", path.display());
    }
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
