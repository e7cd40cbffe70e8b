//! `palisade policy eval|test|lint`: evaluate a policy bundle on Kubernetes objects, Dockerfiles, documents
//! and scan reports; run the bundle's tests; report what in the bundle does not load.

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use palisade_checks::dockerfile::Dockerfile;
use palisade_checks::yaml;
use palisade_policy::bundle::{Bundle, Compiled, test_runners};
use palisade_policy::engine::rego::conftest::{self, namespace_matches};
use palisade_policy::engine::{Action, Budget, Decision, Origin, Policy, Subject, SubjectKind, TestResult};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod output;
use output::xml;

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Evaluate the bundle on Kubernetes objects, Dockerfiles, JSON/YAML documents or Palisade scan reports
    /// (JSON). Each decision names the policy, rule, object, message and action.
    Eval(EvalArgs),
    /// Run the bundle's tests with every registered runner: Rego `test_*` rules, gator `suite.yaml` files,
    /// Kyverno `kyverno-test.yaml` files.
    Test(TestArgs),
    /// Load the bundle and list every file that does not load (file:line:col) and every unsupported
    /// feature; exits 1 when anything fails to load.
    Lint(LintArgs),
    /// Push a bundle directory to an OCI registry as one artifact; prints the digest-pinned reference to
    /// give `policy pull` and `--bundle oci://`.
    Push(PushArgs),
    /// Pull a bundle by digest (`REF@sha256:…`), verify it and write it to a directory.
    Pull(PullArgs),
}

/// How `--bundle oci://REF@sha256:…` is fetched, wherever `--bundle` (or `scan --policy`) is accepted.
#[derive(Args, Debug, Clone, Default)]
pub struct BundleSourceArgs {
    /// With `--bundle oci://REF`: accept a tag without a digest (resolved to its digest when read; the
    /// digest is printed). Without it only `REF@sha256:…` is pulled.
    #[arg(long)]
    pub allow_tag: bool,
    /// With `--bundle oci://REF`: allow plain HTTP to the bundle's registry.
    #[arg(long)]
    pub bundle_insecure: bool,
}

impl BundleSourceArgs {
    /// The local directory of `bundle`: an `oci://` reference is pulled, verified and cached by digest
    /// (`<cache>/policy-bundles/`); a path is returned as it is.
    pub fn resolve(&self, bundle: &Path) -> Result<PathBuf> {
        let opts = palisade_policy::bundle::oci::OciOptions {
            insecure: self.bundle_insecure,
            allow_tag: self.allow_tag,
            ..Default::default()
        };
        if !bundle.to_string_lossy().starts_with(palisade_policy::bundle::oci::SCHEME) {
            return Ok(bundle.to_path_buf());
        }
        let reference = bundle.to_string_lossy().into_owned();
        let pulled = palisade_policy::bundle::oci::pull(&reference, &opts)?;
        if !reference.contains("@sha256:") || !pulled.cached {
            eprintln!(
                "policy bundle {reference}: {} (version {:?}{})",
                pulled.digest,
                pulled.version,
                if pulled.cached { ", cached" } else { "" }
            );
        }
        Ok(pulled.dir)
    }
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// Where to push: `registry/repository[:tag]` (tag `latest` when none).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The bundle directory (with or without palisade-policy.yaml).
    #[arg(long, value_name = "DIR")]
    pub bundle: PathBuf,
    /// Push even when files of the bundle do not load (`policy lint` errors).
    #[arg(long)]
    pub force: bool,
    /// Allow plain HTTP to the registry.
    #[arg(long)]
    pub insecure: bool,
}

#[derive(Args, Debug)]
pub struct PullArgs {
    /// The bundle: `registry/repository@sha256:…` (`oci://` prefix allowed).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Directory to write the bundle to (must not exist, or be empty).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: PathBuf,
    /// Accept a tag without a digest (it is resolved to a digest, which is printed).
    #[arg(long)]
    pub allow_tag: bool,
    /// Allow plain HTTP to the registry.
    #[arg(long)]
    pub insecure: bool,
}

/// Decision formats.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionFormat {
    Table,
    Json,
    /// JSON Lines: one decision a line, written as objects are evaluated.
    Jsonl,
    Sarif,
    Junit,
}

/// Test result formats.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestFormat {
    Text,
    Json,
    Junit,
    Tap,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// The policy bundle: a directory (with or without palisade-policy.yaml), one policy file, or
    /// `oci://REF@sha256:…` (see `policy push`).
    #[arg(long, value_name = "DIR")]
    pub bundle: PathBuf,
    #[command(flatten)]
    pub source: BundleSourceArgs,
    /// Inputs: files or directories (YAML, JSON, Dockerfile/Containerfile, and the input formats of
    /// docs/policy.md: HCL, TOML, INI, .properties, .env, XML, EDN, VCL, CUE, SPDX, .gitignore, …), `-` for
    /// standard input; a blank name is skipped, as conftest does.
    #[arg(value_name = "PATH", required = true, value_parser = input_path)]
    pub inputs: Vec<PathBuf>,
    /// conftest namespaces (Rego packages) to evaluate, `*` wildcards allowed [default: main].
    #[arg(long, value_name = "NS")]
    pub namespace: Vec<String>,
    /// Evaluate every conftest namespace.
    #[arg(long)]
    pub all_namespaces: bool,
    /// conftest's --combine: evaluate all input documents at once as `[{path, contents}]`.
    #[arg(long)]
    pub combine: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: DecisionFormat,
    /// Exit code when a deny decision (or an evaluation error, or a policy that does not load) remains.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub exit_code: u8,
    /// Warnings fail too (with --exit-code).
    #[arg(long)]
    pub fail_on_warn: bool,
    /// Read conftest `.rego` files as Rego v0 or v1 only [default: v1, else v0, per file].
    #[arg(long, value_parser = ["v0", "v1"], value_name = "V")]
    pub rego_version: Option<String>,
    /// conftest's --parser: read every input with this parser (yaml, json, dockerfile, or an input parser
    /// such as hcl1, hocon, cyclonedx, xml) instead of choosing one by file name.
    #[arg(long, value_name = "NAME", value_parser = parser_name)]
    pub parser: Option<String>,
    /// conftest's --proto-file-dirs: directories of `.proto` files giving the message types of textproto
    /// inputs (comma-separated or repeated).
    #[arg(long, value_name = "DIR", value_delimiter = ',')]
    pub proto_file_dirs: Vec<PathBuf>,
    /// Time limit of each policy evaluation on one input, in milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    pub timeout_ms: u64,
    /// Evaluate on one thread and print timings on stderr: bundle compile time, per-object latency
    /// (p50, p99, max) and objects per second (what `bench/policy.sh` reads).
    #[arg(long)]
    pub timings: bool,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// The policy bundle.
    #[arg(long, value_name = "DIR")]
    pub bundle: PathBuf,
    #[command(flatten)]
    pub source: BundleSourceArgs,
    #[arg(long, value_enum, default_value = "text")]
    pub format: TestFormat,
    /// Run only the Rego tests of these packages, `*` wildcards allowed (as `conftest verify --namespace`)
    /// [default: all].
    #[arg(long, value_name = "NS")]
    pub namespace: Vec<String>,
    /// Read `.rego` files as Rego v0 or v1 only [default: v1, else v0, per file].
    #[arg(long, value_parser = ["v0", "v1"], value_name = "V")]
    pub rego_version: Option<String>,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// The policy bundle.
    #[arg(long, value_name = "DIR")]
    pub bundle: PathBuf,
    #[command(flatten)]
    pub source: BundleSourceArgs,
    /// `text` (one problem per line) or `json`.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub format: String,
}

pub fn run(command: PolicyCommand) -> Result<ExitCode> {
    match command {
        PolicyCommand::Eval(a) => eval(a),
        PolicyCommand::Test(a) => test(a),
        PolicyCommand::Lint(a) => lint(a),
        PolicyCommand::Push(a) => push(a),
        PolicyCommand::Pull(a) => pull(a),
    }
}

pub fn compile(bundle: &Path, rego_version: Option<&String>) -> Result<(Bundle, Compiled)> {
    let mut b = Bundle::read(bundle)?;
    if let Some(v) = rego_version {
        b.manifest.rego_version = Some(v.clone());
    }
    let c = b.compile();
    Ok((b, c))
}

/// An input path as given (clap's path parser rejects the blank name conftest accepts and skips).
fn input_path(s: &str) -> std::result::Result<PathBuf, String> {
    Ok(PathBuf::from(s))
}

/// A `--parser` value: `yaml`, `json`, `dockerfile` or a registered input parser.
fn parser_name(name: &str) -> std::result::Result<String, String> {
    if matches!(name, "yaml" | "yml" | "json" | "dockerfile")
        || palisade_policy::input::parser_named(name).is_some()
    {
        return Ok(name.to_string());
    }
    let known: Vec<&str> = palisade_policy::input::parsers().iter().map(|p| p.name).collect();
    Err(format!("unknown parser {name:?} (yaml, json, dockerfile, {})", known.join(", ")))
}

/// How `policy eval` reads its inputs: `--parser` and the `--proto-file-dirs` message types.
#[derive(Debug, Default, Clone, Copy)]
pub struct InputOptions<'a> {
    /// A forced parser; `None`: the file name chooses.
    pub parser: Option<&'a str>,
    /// Message types for textproto inputs.
    pub protos: Option<&'a palisade_policy::input::textproto::ProtoTypes>,
}

/// Parse one input file (or standard input, `path` = `-`) into subjects; problems go to `errors`.
pub fn read_input(path: &Path, text: &str, opts: InputOptions<'_>, errors: &mut Vec<String>) -> Vec<Subject> {
    let parser = opts.parser;
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let origin = |document| Origin { path: Some(path.to_path_buf()), document, request_uid: None };
    let by_name = parser.is_none();
    let dockerfile = name == "dockerfile"
        || name == "containerfile"
        || name.ends_with(".dockerfile")
        || name.starts_with("dockerfile.");
    if parser == Some("dockerfile") || (by_name && dockerfile) {
        return match Dockerfile::parse(text) {
            Ok(d) => {
                for s in &d.skipped {
                    errors.push(format!("{}:{}:{}: {}", path.display(), s.line, s.col, s.message));
                }
                vec![Subject {
                    memo: Default::default(),
                    kind: SubjectKind::Dockerfile,
                    value: conftest::dockerfile_input(&d),
                    origin: origin(0),
                    admission: Default::default(),
                }]
            }
            Err(e) => {
                errors.push(format!("{}:{}:{}: {}", path.display(), e.line, e.col, e.message));
                Vec::new()
            }
        };
    }
    let chosen = match parser {
        Some(p) => palisade_policy::input::parser_named(p),
        None => palisade_policy::input::parser_for_file(&name),
    };
    if let Some(parser) = chosen {
        let parsed = if parser.name == "textproto" {
            palisade_policy::input::textproto::parse_with(text, opts.protos)
        } else {
            (parser.parse)(text)
        };
        return match parsed {
            Ok(value) => vec![Subject {
                memo: Default::default(),
                kind: SubjectKind::Document,
                value,
                origin: origin(0),
                admission: Default::default(),
            }],
            Err(e) => {
                errors.push(format!(
                    "{}:{}:{}: {} ({})",
                    path.display(),
                    e.line,
                    e.column,
                    e.message,
                    parser.name
                ));
                Vec::new()
            }
        };
    }
    let mut out = Vec::new();
    if text.trim().is_empty() {
        // conftest evaluates an empty file too, with an empty input.
        return vec![Subject {
            memo: Default::default(),
            kind: SubjectKind::Document,
            value: Value::Null,
            origin: origin(0),
            admission: Default::default(),
        }];
    }
    for (i, doc) in yaml::load_all(text).into_iter().enumerate() {
        let value = match doc {
            Ok(node) => node.to_json(),
            Err(e) => {
                errors.push(format!("{}:{}:{}: {}", path.display(), e.line, e.col, e.message));
                continue;
            }
        };
        if value.is_null() {
            continue;
        }
        out.extend(subjects_of(value, origin(i)));
    }
    out
}

/// Subjects of one document: an AdmissionReview's request, a `List`'s items, a Kubernetes object, a scan
/// report, or any other document.
fn subjects_of(value: Value, origin: Origin) -> Vec<Subject> {
    let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
    let has_api = value.get("apiVersion").is_some_and(Value::is_string);
    if kind == "AdmissionReview"
        && let Some(s) = value.get("request").and_then(|r| Subject::from_admission_request(r, origin.clone()))
    {
        return vec![s];
    }
    if has_api && kind.ends_with("List") && value.get("items").is_some_and(Value::is_array) {
        let items = value.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        return items.into_iter().flat_map(|i| subjects_of(i, origin.clone())).collect();
    }
    let sk = if has_api && !kind.is_empty() {
        SubjectKind::KubernetesObject
    } else if value.get("schema_version").is_some() && value.get("artifact").is_some() {
        SubjectKind::ScanReport
    } else {
        SubjectKind::Document
    };
    vec![Subject { kind: sk, value, origin, admission: Default::default(), memo: Default::default() }]
}

/// The files an input path stands for: the shared dump loader's collection (YAML, JSON, Dockerfiles), and
/// in directories also the files of the other input formats ([`palisade_policy::input`]), in path order.
pub fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let start = out.len();
    palisade_checks::dump::collect_files(path, out)?;
    if path.is_dir() {
        other_formats(path, out);
        out[start..].sort();
        out.dedup();
    }
    Ok(())
}

/// Files under `dir` (hidden entries skipped) that an input parser reads.
fn other_formats(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if path.is_dir() && !name.starts_with('.') {
            other_formats(&path, out);
        } else if path.is_file() && palisade_policy::input::parser_for_file(&name).is_some() {
            out.push(path);
        }
    }
}

fn eval(a: EvalArgs) -> Result<ExitCode> {
    let compile_started = std::time::Instant::now();
    let (_, compiled) = compile(&a.source.resolve(&a.bundle)?, a.rego_version.as_ref())?;
    let compile_time = compile_started.elapsed();
    let mut problems: Vec<String> =
        compiled.errors.iter().filter(|e| !e.unsupported).map(ToString::to_string).collect();
    for e in compiled.errors.iter().filter(|e| e.unsupported) {
        eprintln!("{e}");
    }
    // The input files, in order (`-` is standard input); each is read when its batch is evaluated.
    let mut files = Vec::new();
    for input in &a.inputs {
        if input.as_os_str().is_empty() {
            continue; // conftest skips an explicit blank file name
        }
        if input.as_os_str() == "-" {
            files.push(input.clone());
        } else {
            collect_files(input, &mut files)?;
        }
    }
    let namespaces = if a.namespace.is_empty() { vec!["main".to_string()] } else { a.namespace.clone() };
    let policies: Vec<&dyn Policy> = compiled
        .policies
        .iter()
        .map(|p| p.as_ref())
        .filter(|p| match p.namespace() {
            None => true,
            Some(ns) => a.all_namespaces || namespaces.iter().any(|pat| namespace_matches(pat, ns)),
        })
        .collect();
    let timeout = std::time::Duration::from_millis(a.timeout_ms);
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let mut sink: Box<dyn output::Sink + '_> = match a.format {
        DecisionFormat::Table => Box::new(output::Table::new(&mut stdout)),
        DecisionFormat::Json => Box::new(output::Json::new(&mut stdout, &compiled.name, &compiled.version)?),
        DecisionFormat::Jsonl => Box::new(output::JsonLines(&mut stdout)),
        DecisionFormat::Sarif => Box::new(output::Sarif::new(&mut stdout)?),
        DecisionFormat::Junit => Box::new(output::Junit::new(&mut stdout)),
    };
    let mut stream = output::Stream {
        sink: sink.as_mut(),
        counts: output::Counts::default(),
        fail_on_warn: a.fail_on_warn,
        failed: false,
    };
    let mut times = Vec::new();
    let mut run = |batch: &[Subject], stream: &mut output::Stream| -> Result<()> {
        let per_subject = if a.timings {
            evaluate_each_timed(&policies, batch, timeout, &mut times)
        } else {
            evaluate_each(&policies, batch, timeout)
        };
        for (s, decisions) in batch.iter().zip(per_subject) {
            stream.object(&s.reference(), &decisions)?;
        }
        Ok(())
    };
    let protos = if a.proto_file_dirs.is_empty() {
        None
    } else {
        Some(
            palisade_policy::input::textproto::ProtoTypes::load(&a.proto_file_dirs)
                .map_err(|e| anyhow::anyhow!("--proto-file-dirs: {e}"))?,
        )
    };
    let opts = InputOptions { parser: a.parser.as_deref(), protos: protos.as_ref() };
    let batch_size = if a.combine { usize::MAX } else { EVAL_BATCH };
    let mut batch = Vec::new();
    for f in &files {
        batch.extend(read_input_file(f, opts, &mut problems)?);
        if batch.len() >= batch_size {
            run(&batch, &mut stream)?;
            batch.clear();
        }
    }
    if a.combine && !batch.is_empty() {
        batch = vec![conftest::combine(&batch)];
    }
    run(&batch, &mut stream)?;
    drop(batch);
    if a.timings {
        eprintln!("{}", timing_summary(compile_time, policies.len(), &times));
    }
    for p in &problems {
        eprintln!("{p}");
    }
    let (counts, failed) = (stream.counts, stream.failed);
    sink.finish(&counts, policies.len(), &problems)?;
    drop(sink);
    stdout.flush()?;
    let fails = failed || !problems.is_empty();
    Ok(ExitCode::from(if fails { a.exit_code } else { 0 }))
}

/// Subjects read and evaluated at a time by `policy eval`: decisions are written, and dropped, per batch.
const EVAL_BATCH: usize = 512;

/// The subjects of one input file (`-`: standard input); a file that cannot be read is a problem.
fn read_input_file(f: &Path, opts: InputOptions<'_>, problems: &mut Vec<String>) -> Result<Vec<Subject>> {
    if f.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("standard input")?;
        return Ok(read_input(Path::new("-"), &text, opts, problems));
    }
    let bytes = match std::fs::read(f) {
        Ok(b) => b,
        Err(e) => {
            problems.push(format!("{}: cannot read: {e}", f.display()));
            return Ok(Vec::new());
        }
    };
    Ok(match String::from_utf8(bytes) {
        Ok(text) => read_input(f, &text, opts, problems),
        Err(e) => {
            // Invalid UTF-8: the line and column of the first bad byte.
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let col = good.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
            problems.push(format!("{}:{line}:{col}: not valid UTF-8", f.display()));
            Vec::new()
        }
    })
}

/// Evaluate every policy that selects each subject, on all cores; decisions in input order.
pub fn evaluate(
    policies: &[&dyn Policy],
    subjects: &[Subject],
    timeout: std::time::Duration,
) -> Vec<Decision> {
    evaluate_each(policies, subjects, timeout).into_iter().flatten().collect()
}

/// [`evaluate`], with the decisions of each subject apart (one entry per subject, in order).
pub fn evaluate_each(
    policies: &[&dyn Policy],
    subjects: &[Subject],
    timeout: std::time::Duration,
) -> Vec<Vec<Decision>> {
    let threads =
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(subjects.len().max(1));
    let chunk = subjects.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = subjects
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|s| {
                            let mut out = Vec::new();
                            for p in policies.iter().filter(|p| p.selects(s)) {
                                let budget = Budget {
                                    deadline: Some(std::time::Instant::now() + timeout),
                                    ..Budget::default()
                                };
                                out.extend(p.evaluate(s, &budget));
                            }
                            out
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// Evaluate on the current thread only, timing each subject (every policy that selects it).
fn evaluate_each_timed(
    policies: &[&dyn Policy],
    subjects: &[Subject],
    timeout: std::time::Duration,
    times: &mut Vec<std::time::Duration>,
) -> Vec<Vec<Decision>> {
    let mut out = Vec::with_capacity(subjects.len());
    for s in subjects {
        let started = std::time::Instant::now();
        let mut mine = Vec::new();
        for p in policies.iter().filter(|p| p.selects(s)) {
            let budget = Budget { deadline: Some(started + timeout), ..Budget::default() };
            mine.extend(p.evaluate(s, &budget));
        }
        times.push(started.elapsed());
        out.push(mine);
    }
    out
}

/// `timings: compiled 42 policies in 91.2 ms; 4537 objects on one thread in 1.23 s: p50 120 µs, p99 800 µs,
/// max 2.1 ms, 3688 objects/s`.
fn timing_summary(compile: std::time::Duration, policies: usize, times: &[std::time::Duration]) -> String {
    let mut sorted = times.to_vec();
    sorted.sort();
    let at = |q: f64| -> f64 {
        if sorted.is_empty() {
            return 0.0;
        }
        let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i].as_secs_f64() * 1e6
    };
    let total: f64 = times.iter().map(|t| t.as_secs_f64()).sum();
    let rate = if total > 0.0 { times.len() as f64 / total } else { 0.0 };
    format!(
        "timings: compiled {policies} policies in {:.1} ms; {} objects on one thread in {total:.3} s: \
         p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs, {rate:.0} objects/s",
        compile.as_secs_f64() * 1e3,
        times.len(),
        at(0.50),
        at(0.99),
        at(1.0),
    )
}

pub(crate) fn action_name(a: Action) -> &'static str {
    match a {
        Action::Deny => "deny",
        Action::Warn => "warn",
        Action::Audit => "audit",
    }
}

/// Run every registered test runner on the bundle.
pub fn run_tests(bundle: &Bundle, compiled: &Compiled) -> Vec<(&'static str, TestResult)> {
    test_runners()
        .iter()
        .flat_map(|(name, run)| run(bundle, compiled).into_iter().map(move |r| (*name, r)))
        .collect()
}

fn test(a: TestArgs) -> Result<ExitCode> {
    let (bundle, compiled) = compile(&a.source.resolve(&a.bundle)?, a.rego_version.as_ref())?;
    let mut results = run_tests(&bundle, &compiled);
    if !a.namespace.is_empty() {
        // Rego test names are `data.<package>.<rule>`; other runners are not filtered.
        results.retain(|(runner, r)| {
            let package = r.name.strip_prefix("data.").and_then(|n| n.rsplit_once('.')).map(|(p, _)| p);
            *runner != "rego"
                || package.is_some_and(|p| a.namespace.iter().any(|pat| namespace_matches(pat, p)))
        });
    }
    let passed = results.iter().filter(|(_, r)| r.passed).count();
    let skipped = results.iter().filter(|(_, r)| r.skipped).count();
    let failed = results.len() - passed - skipped;
    let mut w = std::io::stdout().lock();
    match a.format {
        TestFormat::Text => {
            for (runner, r) in &results {
                let status = if r.passed {
                    "PASS"
                } else if r.skipped {
                    "SKIP"
                } else {
                    "FAIL"
                };
                write!(w, "{status} {runner} {}: {}", r.suite.display(), r.name)?;
                if !r.message.is_empty() && !r.passed {
                    write!(w, ": {}", r.message)?;
                }
                writeln!(w)?;
            }
            writeln!(w, "{} tests, {passed} passed, {failed} failed, {skipped} skipped", results.len())?;
        }
        TestFormat::Json => {
            let items: Vec<Value> =
                results.iter().map(|(runner, r)| json!({"runner": runner, "result": r})).collect();
            serde_json::to_writer_pretty(
                &mut w,
                &json!({"passed": passed, "failed": failed, "skipped": skipped, "tests": items}),
            )?;
            writeln!(w)?;
        }
        TestFormat::Tap => {
            writeln!(w, "1..{}", results.len())?;
            for (i, (runner, r)) in results.iter().enumerate() {
                let ok = if r.passed || r.skipped { "ok" } else { "not ok" };
                let skip = if r.skipped { " # SKIP" } else { "" };
                writeln!(w, "{ok} {} - {runner} {}: {}{skip}", i + 1, r.suite.display(), r.name)?;
                if !r.passed && !r.skipped && !r.message.is_empty() {
                    writeln!(w, "  # {}", r.message.replace('\n', " "))?;
                }
            }
        }
        TestFormat::Junit => {
            writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
            writeln!(
                w,
                "<testsuites><testsuite name=\"palisade policy test\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\">",
                results.len()
            )?;
            for (runner, r) in &results {
                write!(
                    w,
                    "  <testcase classname=\"{}\" name=\"{}\">",
                    xml(&format!("{runner} {}", r.suite.display())),
                    xml(&r.name)
                )?;
                if r.skipped {
                    write!(w, "<skipped/>")?;
                } else if !r.passed {
                    write!(w, "<failure message=\"{}\"/>", xml(&r.message))?;
                }
                writeln!(w, "</testcase>")?;
            }
            writeln!(w, "</testsuite></testsuites>")?;
        }
    }
    for e in compiled.errors.iter().filter(|e| !e.unsupported) {
        eprintln!("{e}");
    }
    Ok(ExitCode::from(if failed > 0 { 1 } else { 0 }))
}

fn push(a: PushArgs) -> Result<ExitCode> {
    let (_, compiled) = compile(&a.bundle, None)?;
    let errors: Vec<_> = compiled.errors.iter().filter(|e| !e.unsupported).collect();
    for e in &errors {
        eprintln!("{e}");
    }
    if !errors.is_empty() && !a.force {
        anyhow::bail!(
            "{}: {} problem(s) in the bundle (see `palisade policy lint`); not pushed (--force pushes anyway)",
            a.bundle.display(),
            errors.len()
        );
    }
    let opts = palisade_policy::bundle::oci::OciOptions { insecure: a.insecure, ..Default::default() };
    let pushed = palisade_policy::bundle::oci::push(&a.bundle, &a.reference, &opts)?;
    for w in &pushed.warnings {
        eprintln!("{w}");
    }
    eprintln!(
        "pushed {} {} ({} files, {} policies) to {}",
        if pushed.name.is_empty() { "bundle" } else { &pushed.name },
        pushed.version,
        pushed.files,
        compiled.policies.len(),
        a.reference
    );
    println!("{}", pushed.pinned);
    Ok(ExitCode::SUCCESS)
}

fn pull(a: PullArgs) -> Result<ExitCode> {
    let opts = palisade_policy::bundle::oci::OciOptions {
        insecure: a.insecure,
        allow_tag: a.allow_tag,
        ..Default::default()
    };
    let pulled = palisade_policy::bundle::oci::pull_to(&a.reference, &a.output, &opts)?;
    eprintln!("pulled {} (version {:?}) to {}", pulled.digest, pulled.version, a.output.display());
    Ok(ExitCode::SUCCESS)
}

fn lint(a: LintArgs) -> Result<ExitCode> {
    let (bundle, compiled) = compile(&a.source.resolve(&a.bundle)?, None)?;
    let errors = compiled.errors.iter().filter(|e| !e.unsupported).count();
    let unsupported = compiled.errors.len() - errors;
    let mut w = std::io::stdout().lock();
    if a.format == "json" {
        serde_json::to_writer_pretty(
            &mut w,
            &json!({
                "files": bundle.files.len(),
                "policies": compiled.policies.len(),
                "problems": compiled.errors,
            }),
        )?;
        writeln!(w)?;
    } else {
        for e in &compiled.errors {
            writeln!(w, "{e}")?;
        }
        writeln!(
            w,
            "{} files, {} policies loaded: {errors} errors, {unsupported} unsupported",
            bundle.files.len(),
            compiled.policies.len()
        )?;
    }
    Ok(ExitCode::from(if errors > 0 { 1 } else { 0 }))
}
