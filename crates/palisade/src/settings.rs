//! Where option values come from besides the command line, and the Trivy habits the parser accepts.
//!
//! * Every flag can be set as `PALISADE_<FLAG>` (`--skip-dirs` → `PALISADE_SKIP_DIRS`; lists comma-separated;
//!   switches `true`/`1`/`yes`).
//! * A YAML config file (`--config FILE`, default `palisade.yaml` in the current directory when present)
//!   sets flags by name: `format: json`, `severity: [critical, high]`, `exit-code: 1`. Nested sections as
//!   Trivy writes them (`vulnerability: {ignore-unfixed: true}`, `db: {skip-update: true}`) work too. Keys
//!   that name no flag of any command are warned about; keys for another command are ignored.
//! * Precedence: command line, then environment, then config file, then the built-in default.
//! * `palisade image|fs|rootfs|repo|config ...` (and Trivy's `i`, `filesystem`, `repository`, `conf`) are
//!   `palisade scan ...`.

use crate::cli::Cli;
use clap::builder::BoolishValueParser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, CommandFactory, FromArgMatches};
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Top-level words that mean `scan <word>`.
const SCAN_ALIASES: &[&str] =
    &["image", "i", "fs", "filesystem", "rootfs", "repo", "repository", "config", "conf"];

/// Global options that take a value, so that the alias rewrite skips their values.
const GLOBAL_WITH_VALUE: &[&str] = &["--config", "--cache-dir"];

/// Largest config file read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Parse the command line with the environment and the config file; exits with a message (code 2) on
/// usage errors, as clap does.
pub fn parse() -> Cli {
    match try_parse(std::env::args_os().collect()) {
        Ok((cli, warnings)) => {
            if !cli.global.quiet {
                for w in warnings {
                    eprintln!("warning: {w}");
                }
            }
            cli
        }
        Err(e) => e.exit(),
    }
}

/// What went wrong before a command could run.
#[derive(Debug)]
pub enum ParseError {
    Clap(clap::Error),
    Config(String),
}

impl ParseError {
    fn exit(self) -> ! {
        match self {
            ParseError::Clap(e) => {
                if let Some(tip) = trivy_command_tip(&e) {
                    eprintln!("palisade: error: {tip}");
                    std::process::exit(i32::from(crate::commands::EXIT_ERROR));
                }
                e.exit()
            }
            ParseError::Config(msg) => {
                eprintln!("palisade: error: {msg}");
                std::process::exit(i32::from(crate::commands::EXIT_ERROR))
            }
        }
    }
}

/// The command tree with `PALISADE_<FLAG>` attached to every flag.
pub fn command() -> clap::Command {
    with_env(Cli::command())
}

fn with_env(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|a| {
        if a.is_positional() || a.get_env().is_some() {
            return a;
        }
        let Some(long) = a.get_long().map(str::to_string) else { return a };
        if long == "help" || long == "version" {
            return a;
        }
        let a = a.env(format!("PALISADE_{}", long.to_ascii_uppercase().replace('-', "_")));
        // A switch set from the environment takes the usual spellings of yes and no.
        if matches!(a.get_action(), ArgAction::SetTrue) {
            a.value_parser(BoolishValueParser::new())
        } else {
            a
        }
    })
    .mut_subcommands(with_env)
}

/// The whole parse, without exiting: for tests and [`parse`]. Returns config-file warnings beside the result.
pub fn try_parse(args: Vec<OsString>) -> Result<(Cli, Vec<String>), ParseError> {
    let args = rewrite_aliases(args);
    let cmd = command();
    let matches = cmd.clone().try_get_matches_from(&args).map_err(ParseError::Clap)?;
    let explicit = matches.get_one::<PathBuf>("config").cloned();
    let mut warnings = Vec::new();
    let matches = match load_config(explicit.as_deref())? {
        None => matches,
        Some((path, entries)) => {
            let extra = config_args(&cmd, &matches, &path, &entries, &mut warnings);
            if extra.is_empty() {
                matches
            } else {
                let mut all = args;
                all.extend(extra);
                cmd.try_get_matches_from(&all).map_err(|e| {
                    ParseError::Config(format!(
                        "{}: a value does not fit its flag: {}",
                        path.display(),
                        e.to_string().trim_start_matches("error: ").trim()
                    ))
                })?
            }
        }
    };
    let cli = Cli::from_arg_matches(&matches).map_err(ParseError::Clap)?;
    Ok((cli, warnings))
}

/// `palisade image alpine` → `palisade scan image alpine`: the first word that is not a global option (or
/// its value) decides.
fn rewrite_aliases(mut args: Vec<OsString>) -> Vec<OsString> {
    let mut i = 1;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if a == "--" {
            break;
        }
        if a.starts_with('-') {
            if GLOBAL_WITH_VALUE.contains(&a.as_ref()) {
                i += 1;
            }
            i += 1;
            continue;
        }
        if SCAN_ALIASES.contains(&a.as_ref()) {
            args.insert(i, OsString::from("scan"));
        }
        break;
    }
    args
}

/// A tailored message for Trivy commands Palisade does not have.
fn trivy_command_tip(e: &clap::Error) -> Option<String> {
    if e.kind() != ErrorKind::InvalidSubcommand {
        return None;
    }
    let Some(ContextValue::String(word)) = e.get(ContextKind::InvalidSubcommand) else { return None };
    let tip = match word.as_str() {
        "version" => "no `version` command: use `palisade --version`",
        "k8s" | "kubernetes" => {
            "no live cluster scanning: scan a dump with `palisade scan cluster --from dump.yaml` (`kubectl get \
             -A -o yaml > dump.yaml`; RBAC: `palisade rbac analyze --from dump.yaml`) and images with `palisade \
             scan image`"
        }
        "clean" => "no `clean` command: the vulnerability DB is one file, `palisade db info` shows where",
        "server" | "client" => "no client/server mode: every scan runs locally against the local DB",
        "vm" | "aws" | "plugin" | "module" => {
            return Some(format!("no `{word}` command; `palisade --help` lists them"));
        }
        _ => return None,
    };
    Some(tip.to_string())
}

/// One config entry: the key path (`["vulnerability", "ignore-unfixed"]`) and its value.
type Entry = (Vec<String>, Value);

/// The config file: `--config FILE` (must exist), else `palisade.yaml` in the current directory (optional).
/// Returns its path and its flag settings.
fn load_config(explicit: Option<&Path>) -> Result<Option<(PathBuf, Vec<Entry>)>, ParseError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = PathBuf::from("palisade.yaml");
            if !p.is_file() {
                return Ok(None);
            }
            p
        }
    };
    let err = |m: String| ParseError::Config(format!("config file {}: {m}", path.display()));
    let meta = std::fs::metadata(&path).map_err(|e| err(e.to_string()))?;
    if !meta.is_file() {
        return Err(err("not a regular file".into()));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(err(format!("{} bytes; a config file may have at most {MAX_CONFIG_BYTES}", meta.len())));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| err(e.to_string()))?;
    if text.trim().is_empty() {
        return Ok(Some((path, Vec::new())));
    }
    let value: Value = serde_saphyr::from_str(&text).map_err(|e| err(first_line(&e.to_string())))?;
    let Value::Object(map) = value else {
        return Err(err("expected a mapping of flag names to values (e.g. `format: json`)".into()));
    };
    let mut out = Vec::new();
    flatten(&mut Vec::new(), Value::Object(map), &mut out);
    Ok(Some((path, out)))
}

fn first_line(s: &str) -> String {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or(s).trim().to_string()
}

fn flatten(prefix: &mut Vec<String>, v: Value, out: &mut Vec<Entry>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                prefix.push(k.trim().to_ascii_lowercase().replace('_', "-"));
                flatten(prefix, v, out);
                prefix.pop();
            }
        }
        other => out.push((prefix.clone(), other)),
    }
}

/// Flag names a key path may mean: `severity`; `vulnerability.ignore-unfixed` → `ignore-unfixed`,
/// `vulnerability-ignore-unfixed`; `db.skip-update` → `skip-db-update` (Trivy's section names).
fn candidates(path: &[String]) -> Vec<String> {
    let Some(leaf) = path.last() else { return Vec::new() };
    let mut c = vec![leaf.clone()];
    if path.len() >= 2 {
        let parent = &path[path.len() - 2];
        c.push(format!("{parent}-{leaf}"));
        if let Some((verb, rest)) = leaf.split_once('-') {
            c.push(format!("{verb}-{parent}-{rest}"));
        }
    }
    c
}

/// The command that will run (the deepest subcommand), with its matches.
fn leaf<'a>(cmd: &'a clap::Command, m: &'a ArgMatches) -> (&'a clap::Command, &'a ArgMatches) {
    match m.subcommand() {
        Some((name, sub)) => match cmd.find_subcommand(name) {
            Some(c) => leaf(c, sub),
            None => (cmd, m),
        },
        None => (cmd, m),
    }
}

fn all_longs(cmd: &clap::Command, out: &mut Vec<String>) {
    out.extend(cmd.get_arguments().filter_map(|a| a.get_long().map(str::to_string)));
    for s in cmd.get_subcommands() {
        all_longs(s, out);
    }
}

/// Command-line arguments for the config entries that apply to the command about to run and were not set
/// on the command line or in the environment.
fn config_args(
    root: &clap::Command,
    matches: &ArgMatches,
    path: &Path,
    entries: &[Entry],
    warnings: &mut Vec<String>,
) -> Vec<OsString> {
    let (cmd, m) = leaf(root, matches);
    let mut every = Vec::new();
    all_longs(root, &mut every);
    let mut out = Vec::new();
    for (key, value) in entries {
        let names = candidates(key);
        let arg = names.iter().find_map(|n| {
            cmd.get_arguments()
                .chain(root.get_arguments().filter(|a| a.is_global_set()))
                .find(|a| !a.is_positional() && a.get_long() == Some(n.as_str()))
        });
        let Some(arg) = arg else {
            if !names.iter().any(|n| every.contains(n)) {
                warnings.push(format!(
                    "{}: `{}` is not a Palisade flag; ignored",
                    path.display(),
                    key.join(".")
                ));
            }
            continue;
        };
        let id = arg.get_id().as_str();
        // Global options are propagated into the leaf's matches, so one lookup covers both.
        let set_elsewhere =
            matches!(m.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable));
        if set_elsewhere {
            continue;
        }
        let long = arg.get_long().unwrap_or_default();
        let switch = matches!(arg.get_action(), ArgAction::SetTrue);
        let scalars: Vec<String> = match value {
            Value::Null => continue,
            Value::Array(items) => items.iter().filter_map(scalar).collect(),
            v => scalar(v).into_iter().collect(),
        };
        if switch {
            if scalars.first().is_some_and(|s| matches!(s.as_str(), "true" | "yes" | "on" | "1")) {
                out.push(OsString::from(format!("--{long}")));
            }
            continue;
        }
        if scalars.is_empty() {
            continue;
        }
        if arg.get_value_delimiter().is_some() {
            out.push(OsString::from(format!("--{long}={}", scalars.join(","))));
        } else {
            out.extend(scalars.iter().map(|s| OsString::from(format!("--{long}={s}"))));
        }
    }
    out
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<OsString> {
        std::iter::once("palisade").chain(s.split_whitespace()).map(OsString::from).collect()
    }

    #[test]
    fn trivy_style_top_level_words_mean_scan() {
        let r = |s: &str| {
            rewrite_aliases(args(s))
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(r("image alpine"), "palisade scan image alpine");
        assert_eq!(r("-q --config c.yaml fs ."), "palisade -q --config c.yaml scan fs .");
        assert_eq!(
            r("--cache-dir image sbom x"),
            "palisade --cache-dir image sbom x",
            "a global's value is not a command"
        );
        assert_eq!(r("scan image alpine"), "palisade scan image alpine");
        assert_eq!(r("db info"), "palisade db info");
    }

    #[test]
    fn every_flag_has_an_environment_variable() {
        let cmd = command();
        let scan = cmd.find_subcommand("scan").and_then(|s| s.find_subcommand("image")).unwrap();
        let env = |long: &str| {
            scan.get_arguments()
                .find(|a| a.get_long() == Some(long))
                .and_then(|a| a.get_env())
                .map(|e| e.to_string_lossy().into_owned())
        };
        assert_eq!(env("skip-dirs").as_deref(), Some("PALISADE_SKIP_DIRS"));
        assert_eq!(env("exit-code").as_deref(), Some("PALISADE_EXIT_CODE"));
        assert_eq!(env("db").as_deref(), Some("PALISADE_DB"));
        assert_eq!(env("reference"), None, "positionals have none");
    }

    #[test]
    fn key_candidates_cover_trivy_sections() {
        let k = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
        assert_eq!(candidates(&k("severity")), ["severity"]);
        assert!(candidates(&k("db.skip-update")).contains(&"skip-db-update".to_string()));
        assert!(candidates(&k("vulnerability.ignore-unfixed")).contains(&"ignore-unfixed".to_string()));
    }
}
