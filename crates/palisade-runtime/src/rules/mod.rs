//! Falco-compatible detection rules.
//!
//! [`Ruleset::load`] reads Falco rules files as they are (lists, macros, rules, exceptions,
//! `append`/`override`, `enabled`, `required_engine_version`, `required_plugin_versions`), compiles
//! every condition against Palisade's field table (fields map onto [`Event`]), and indexes rules by the
//! event types they can match, so [`Ruleset::evaluate`] only runs the rules an event can trigger.
//!
//! Layout: [`parser`] (condition grammar) → [`ast`] → [`compile`] (macro/list inlining, type checks,
//! evaluation) with the field table in [`fields`]; [`loader`] reads the YAML, [`exceptions`] turns
//! exceptions into condition terms, [`template`] renders outputs.

pub mod ast;
pub mod compile;
pub mod exceptions;
pub mod fields;
pub mod glob;
pub mod interest;
pub mod loader;
pub mod parser;
pub mod template;

use crate::event::Event;
use crate::output::Alert;
use compile::{EvtTypes, Filter, Scope};
use fields::Ctx;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::PathBuf;

/// Palisade's own runtime rules (Falco syntax): service-account token reads, API-server contact by
/// address, outbound connections to unexpected ports. Load them after the Falco rulesets.
pub const PALISADE_RULES: &str = include_str!("../../rules/palisade_rules.yaml");

/// Fields added to every alert's `output_fields` (Falco's `append_output` with the container plugin),
/// so each alert is attributed to its container and pod whatever the rule's output says.
pub const EXTRA_OUTPUT_FIELDS: &[&str] =
    &["container.id", "container.name", "container.image.repository", "k8s.ns.name", "k8s.pod.name"];

/// Whether a file's text is a Falco rules file: a YAML list whose items are maps and at least one of them
/// is a `rule`, `macro`, `list` or `required_*` item. Policy bundles carry runtime rules as such files.
pub fn is_rules_file(text: &str) -> bool {
    const KEYS: &[&str] = &["rule", "macro", "list", "required_engine_version", "required_plugin_versions"];
    let docs = palisade_checks::yaml::load_all(text);
    let Some(Ok(root)) = docs.first() else { return false };
    let items = root.as_seq();
    !items.is_empty()
        && items.iter().all(|i| i.is_map())
        && items.iter().any(|i| i.as_map().iter().any(|(k, _)| KEYS.contains(&k.name.as_str())))
}

/// Falco priorities, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Informational,
    Debug,
}

impl Priority {
    /// Case-insensitive, as Falco accepts them (`INFO` and `informational` both work).
    pub fn parse(s: &str) -> Option<Priority> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "info" | "informational" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }

    /// Falco's spelling in outputs and `describe_rule`.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }
}

/// A load error or warning: file, line, item (`rule 'X'`, `macro 'Y'`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadMessage {
    pub file: String,
    pub line: Option<u32>,
    pub item: String,
    pub message: String,
}

impl LoadMessage {
    pub fn new(file: &str, line: Option<u32>, item: &str, message: impl Into<String>) -> Self {
        LoadMessage { file: file.to_string(), line, item: item.to_string(), message: message.into() }
    }
}

impl fmt::Display for LoadMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if !self.item.is_empty() {
            write!(f, ": {}", self.item)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a ruleset did not load: every error, and the warnings seen on the way.
#[derive(Debug, Clone, Default)]
pub struct LoadErrors {
    pub errors: Vec<LoadMessage>,
    pub warnings: Vec<LoadMessage>,
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error(s) loading rules", self.errors.len())?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub name: String,
    pub desc: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub source: String,
    pub enabled: bool,
    /// The condition after macro and list inlining and exceptions, in Falco's normalised form.
    pub compiled_condition: String,
    /// The condition as written (after appends).
    pub condition: String,
    pub output: String,
    pub capture: bool,
    pub capture_duration: u64,
    pub file: String,
    pub line: u32,
    pub evt_types: EvtTypes,
    /// The condition after inlining and exceptions, for analyses ([`interest`]).
    pub(crate) expanded: ast::Expr,
    filter: Filter,
    template: template::Template,
}

/// How many rules one event may trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatchMode {
    /// Every matching rule raises an alert.
    #[default]
    All,
    /// Only the first matching rule in load order (Falco's default `rule_matching: first`).
    First,
}

/// Loaded, compiled rules with an event-type index.
#[derive(Debug)]
pub struct Ruleset {
    rules: Vec<Rule>,
    pub lists: Vec<loader::ListDef>,
    pub macros: Vec<loader::MacroDef>,
    pub warnings: Vec<LoadMessage>,
    by_type: HashMap<String, Vec<usize>>,
    /// Rules that can match every type except the listed ones.
    broad: Vec<(usize, BTreeSet<String>)>,
    hostname: String,
    pub match_mode: MatchMode,
    extra: Vec<(&'static str, compile::FieldSource)>,
    /// Field-cache slots the compiled conditions use.
    slots: usize,
}

/// Options for loading (tests add mock fields).
#[derive(Default)]
pub struct LoadOptions<'a> {
    pub extra_fields: &'a [fields::FieldDef],
}

impl Ruleset {
    /// Load rules files in order (later files append to or override earlier ones). A directory stands for
    /// its `*.yaml`/`*.yml` files in name order, as in Falco's `rules_files` (e.g. `/etc/falco/rules.d`).
    pub fn load(paths: &[PathBuf]) -> Result<Ruleset, LoadErrors> {
        let mut sources = Vec::with_capacity(paths.len());
        let mut errors = Vec::new();
        for p in expand_dirs(paths, &mut errors) {
            match std::fs::read_to_string(&p) {
                Ok(t) => sources.push((p.display().to_string(), t)),
                Err(e) => errors.push(LoadMessage::new(
                    &p.display().to_string(),
                    None,
                    "",
                    format!("cannot read rules file: {e}"),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(LoadErrors { errors, warnings: Vec::new() });
        }
        let refs: Vec<(&str, &str)> = sources.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        Self::from_sources(&refs)
    }

    /// Load rules from (name, text) pairs, in order.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Ruleset, LoadErrors> {
        Self::from_sources_with(sources, &LoadOptions::default())
    }

    pub fn from_sources_with(
        sources: &[(&str, &str)],
        opts: &LoadOptions<'_>,
    ) -> Result<Ruleset, LoadErrors> {
        let mut c = loader::Collected::default();
        for (name, text) in sources {
            loader::collect(name, text, &mut c);
        }
        let (rules, mut errors, mut warnings, slots) = compile_all(&c, opts);
        errors.splice(0..0, c.errors);
        warnings.splice(0..0, c.warnings);
        if !errors.is_empty() {
            return Err(LoadErrors { errors, warnings });
        }
        let mut rs = Ruleset {
            rules,
            lists: c.lists,
            macros: c.macros,
            warnings,
            by_type: HashMap::new(),
            broad: Vec::new(),
            hostname: local_hostname(),
            match_mode: MatchMode::All,
            slots,
            extra: EXTRA_OUTPUT_FIELDS
                .iter()
                .filter_map(|f| compile::field_source(f, None, &Scope::default()).ok().map(|s| (*f, s)))
                .collect(),
        };
        rs.index();
        Ok(rs)
    }

    fn index(&mut self) {
        self.by_type.clear();
        self.broad.clear();
        for (i, r) in self.rules.iter().enumerate() {
            if !r.enabled || r.source != "syscall" {
                continue;
            }
            match &r.evt_types {
                EvtTypes::Only(set) => {
                    for t in set {
                        self.by_type.entry(t.clone()).or_default().push(i);
                    }
                }
                EvtTypes::Except(set) => self.broad.push((i, set.clone())),
            }
        }
    }

    /// Set the node name put in alerts (defaults to the kernel host name).
    pub fn set_hostname(&mut self, hostname: impl Into<String>) {
        self.hostname = hostname.into();
    }

    /// Enable or disable a rule by name; returns whether it exists.
    pub fn set_enabled(&mut self, name: &str, enabled: bool) -> bool {
        let mut found = false;
        for r in self.rules.iter_mut().filter(|r| r.name == name) {
            r.enabled = enabled;
            found = true;
        }
        self.index();
        found
    }

    /// All rules, enabled or not, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Rules enabled (Falco's "default ruleset").
    pub fn enabled_count(&self) -> usize {
        self.rules.iter().filter(|r| r.enabled && r.source == "syscall").count()
    }

    /// Whether any enabled rule can match an event of this type (`openat`, `connect`, …).
    pub fn can_match_type(&self, evt_type: &str) -> bool {
        self.by_type.contains_key(evt_type) || self.broad.iter().any(|(_, except)| !except.contains(evt_type))
    }

    /// The rules an event of this type meets, in load order.
    fn candidates(&self, evt_type: &str) -> Vec<usize> {
        let mut idx: Vec<usize> = self.by_type.get(evt_type).cloned().unwrap_or_default();
        idx.extend(self.broad.iter().filter(|(_, except)| !except.contains(evt_type)).map(|(i, _)| *i));
        idx.sort_unstable();
        idx.dedup();
        idx
    }

    /// Evaluate one event: an alert per matching rule (or only the first, see [`MatchMode`]).
    pub fn evaluate(&self, event: &Event) -> Vec<Alert> {
        let candidates = self.candidates(event.syscall());
        if candidates.is_empty() {
            return Vec::new();
        }
        let cache: Vec<std::cell::OnceCell<Option<fields::Val<'_>>>> =
            (0..self.slots).map(|_| Default::default()).collect();
        let ctx = Ctx { event, hostname: &self.hostname, cache: Some(&cache) };
        let mut alerts = Vec::new();
        for i in candidates {
            let r = &self.rules[i];
            if r.filter.eval(&ctx) {
                alerts.push(r.alert(&ctx, &self.extra));
                if self.match_mode == MatchMode::First {
                    break;
                }
            }
        }
        alerts
    }
}

impl Rule {
    fn alert(&self, ctx: &Ctx<'_>, extra: &[(&'static str, compile::FieldSource)]) -> Alert {
        let (text, fields) = self.template.render(ctx);
        let time = fields::evt_time(ctx.event.time_ns);
        let mut output_fields: BTreeMap<String, serde_json::Value> = fields
            .into_iter()
            .map(|(k, v)| (k, v.map_or(serde_json::Value::Null, serde_json::Value::String)))
            .collect();
        for (name, src) in extra {
            output_fields.entry((*name).to_string()).or_insert_with(|| {
                src.render(ctx).map_or(serde_json::Value::Null, serde_json::Value::String)
            });
        }
        let mut tags = self.tags.clone();
        tags.sort();
        Alert {
            time: fields::iso_time(ctx.event.time_ns),
            rule: self.name.clone(),
            priority: self.priority.as_str().to_string(),
            output: format!("{time}: {} {text}", self.priority.as_str()),
            output_fields,
            tags,
            hostname: ctx.hostname.to_string(),
            source: self.source.clone(),
        }
    }

    /// Whether the rule's condition holds on an event (ignores `enabled`).
    pub fn matches(&self, event: &Event, hostname: &str) -> bool {
        self.filter.eval(&Ctx::new(event, hostname))
    }
}

/// Replace each directory by its YAML files, sorted by name (not recursive, hidden files skipped).
pub fn expand_dirs(paths: &[PathBuf], errors: &mut Vec<LoadMessage>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        match std::fs::read_dir(p) {
            Ok(entries) => {
                let mut files: Vec<PathBuf> = entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|f| {
                        f.is_file()
                            && f.extension().is_some_and(|x| x == "yaml" || x == "yml")
                            && !f.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
                    })
                    .collect();
                files.sort();
                out.extend(files);
            }
            Err(e) => errors.push(LoadMessage::new(
                &p.display().to_string(),
                None,
                "",
                format!("cannot read rules directory: {e}"),
            )),
        }
    }
    out
}

/// The node's host name, as alerts carry it.
pub fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Warnings Falco's resolver gives on a condition tree: comparing `ka.*`/`jevt.*` fields with `<NA>`
/// (never true), and the deprecated `evt.dir`.
pub fn lint(expr: &ast::Expr, warnings: &mut Vec<String>) {
    use ast::{Expr, Operand, Rhs};
    match expr {
        Expr::And(c) | Expr::Or(c) => c.iter().for_each(|e| lint(e, warnings)),
        Expr::Not(e) => lint(e, warnings),
        Expr::Binary { lhs: Operand::Field { name, .. }, rhs, .. } => {
            let na = match rhs {
                Rhs::Value(v) => v == "<NA>",
                Rhs::List(l) => l.iter().any(|v| v == "<NA>"),
                _ => false,
            };
            if na && (name.starts_with("ka.") || name.starts_with("jevt.")) {
                warnings.push(format!(
                    "'{name}' compared with '<NA>': this comparison is never true; use 'not {name} exists'"
                ));
            }
            if name == "evt.dir" {
                warnings.push(
                    "usage of deprecated field 'evt.dir' has been detected in the rule condition".into(),
                );
            }
        }
        Expr::Unary { lhs: Operand::Field { name, .. }, .. } if name == "evt.dir" => {
            warnings
                .push("usage of deprecated field 'evt.dir' has been detected in the rule condition".into());
        }
        _ => {}
    }
}

/// Whether an expanded condition is the never-true placeholder `evt.num = 0` (the stable rules'
/// `never_true` macro): such rules match no event type and draw no "too many evt.type" warning.
fn never_true(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Binary { lhs: ast::Operand::Field { name, arg: None }, op, rhs: ast::Rhs::Value(v), quant: None }
        if name == "evt.num" && (op == "=" || op == "==") && v == "0")
}

fn compile_all(
    c: &loader::Collected,
    opts: &LoadOptions<'_>,
) -> (Vec<Rule>, Vec<LoadMessage>, Vec<LoadMessage>, usize) {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    // Lists: items naming an earlier list are inlined.
    let mut lists: HashMap<&str, Vec<String>> = HashMap::new();
    for l in &c.lists {
        let mut items = Vec::with_capacity(l.items.len());
        for i in &l.items {
            match lists.get(i.as_str()) {
                Some(inner) => items.extend(inner.iter().cloned()),
                None => items.push(parser::unquote(i)),
            }
        }
        lists.insert(&l.name, items);
    }
    let mut macro_exprs: Vec<(&str, ast::Expr)> = Vec::new();
    for m in &c.macros {
        match parser::parse(&m.condition) {
            Ok(e) => macro_exprs.push((&m.name, e)),
            Err(e) => errors.push(LoadMessage::new(
                &m.file,
                Some(m.line),
                &format!("macro '{}'", m.name),
                format!("Compilation error when compiling \"{}\": {e}", m.condition.trim()),
            )),
        }
    }
    let scope = Scope {
        macros: macro_exprs.iter().map(|(n, e)| (*n, e)).collect(),
        lists: lists.iter().map(|(k, v)| (*k, v.as_slice())).collect(),
        extra_fields: opts.extra_fields,
        slots: Default::default(),
    };
    // References, for the "not referred to" warnings.
    let mut refs = References::default();
    for (_, e) in &macro_exprs {
        refs.walk(e);
    }
    for l in &c.lists {
        for i in &l.items {
            refs.lists.insert(i.clone());
        }
    }
    let mut rules = Vec::with_capacity(c.rules.len());
    for r in &c.rules {
        let item = format!("rule '{}'", r.name);
        let err = |m: String| LoadMessage::new(&r.file, Some(r.line), &item, m);
        if r.source != "syscall" {
            warnings.push(err(format!(
                "Rule source '{}' is not supported (only 'syscall'); the rule is skipped",
                r.source
            )));
            continue;
        }
        let parsed = match parser::parse(&r.condition) {
            Ok(e) => e,
            Err(e) => {
                errors.push(err(format!("Compilation error when compiling \"{}\": {e}", r.condition.trim())));
                continue;
            }
        };
        let with_exc = match exceptions::apply(parsed, &r.exceptions) {
            Ok(e) => e,
            Err(m) => {
                errors.push(err(m));
                continue;
            }
        };
        refs.walk(&with_exc);
        let expanded = match compile::expand(&with_exc, &scope) {
            Ok(e) => e,
            Err(m) => {
                errors.push(err(m));
                continue;
            }
        };
        let mut w = Vec::new();
        lint(&expanded, &mut w);
        let filter = match compile::compile(&expanded, &scope, &mut w) {
            Ok(f) => f,
            Err(m) if r.skip_if_unknown_filter && m.contains("nonexistent field") => {
                warnings.push(err(format!("{m}; rule skipped (skip-if-unknown-filter)")));
                continue;
            }
            Err(m) => {
                errors.push(err(format!("Compilation error when compiling \"{}\": {m}", r.condition.trim())));
                continue;
            }
        };
        let template = match template::Template::compile(&r.output, &scope) {
            Ok(t) => t,
            Err(m) => {
                errors.push(err(m));
                continue;
            }
        };
        if template.fields().any(|f| f == "evt.dir") {
            w.push("usage of deprecated field 'evt.dir' has been detected in the rule output".into());
        }
        let evt_types =
            if contains_never_true(&expanded) { narrow(&expanded) } else { compile::evt_types(&expanded) };
        if r.warn_evttypes && matches!(&evt_types, EvtTypes::Except(_)) {
            w.push(
                "Rule matches too many evt.type values. This has a significant performance penalty.".into(),
            );
        }
        warnings.extend(w.into_iter().map(&err));
        rules.push(Rule {
            name: r.name.clone(),
            desc: r.desc.clone(),
            priority: r.priority,
            tags: r.tags.clone(),
            source: r.source.clone(),
            enabled: r.enabled,
            compiled_condition: expanded.to_string(),
            condition: r.condition.clone(),
            output: r.output.clone(),
            capture: r.capture,
            capture_duration: r.capture_duration,
            file: r.file.clone(),
            line: r.line,
            evt_types,
            expanded,
            filter,
            template,
        });
    }
    for m in &c.macros {
        if !refs.macros.contains(&m.name) {
            warnings.push(LoadMessage::new(
                &m.file,
                Some(m.line),
                &format!("macro '{}'", m.name),
                "Macro not referred to by any other rule/macro",
            ));
        }
    }
    for l in &c.lists {
        if !refs.lists.contains(&l.name) {
            warnings.push(LoadMessage::new(
                &l.file,
                Some(l.line),
                &format!("list '{}'", l.name),
                "List not referred to by any other rule/macro",
            ));
        }
    }
    let slots = scope.slot_count();
    (rules, errors, warnings, slots)
}

/// Macro and list names a set of conditions refers to.
#[derive(Default)]
struct References {
    macros: std::collections::HashSet<String>,
    lists: std::collections::HashSet<String>,
}

impl References {
    fn walk(&mut self, e: &ast::Expr) {
        use ast::{Expr, Rhs};
        match e {
            Expr::And(c) | Expr::Or(c) => c.iter().for_each(|x| self.walk(x)),
            Expr::Not(x) => self.walk(x),
            Expr::Ident(n) => {
                self.macros.insert(n.clone());
            }
            Expr::Unary { .. } => {}
            Expr::Binary { rhs, .. } => match rhs {
                Rhs::List(items) => self.lists.extend(items.iter().cloned()),
                Rhs::ListRef(n) => {
                    self.lists.insert(n.clone());
                }
                _ => {}
            },
        }
    }
}

fn contains_never_true(e: &ast::Expr) -> bool {
    match e {
        ast::Expr::And(c) | ast::Expr::Or(c) => c.iter().any(contains_never_true),
        ast::Expr::Not(e) => contains_never_true(e),
        e => never_true(e),
    }
}

/// Event types with `evt.num = 0` read as "no type" (it never matches) and its negation as "any".
fn narrow(e: &ast::Expr) -> EvtTypes {
    use ast::Expr;
    match e {
        e if never_true(e) => EvtTypes::Only(BTreeSet::new()),
        Expr::Not(inner) if never_true(inner) || contains_never_true(inner) => EvtTypes::any(),
        Expr::And(c) => c.iter().map(narrow).fold(EvtTypes::any(), |a, b| match (a, b) {
            (EvtTypes::Only(x), EvtTypes::Only(y)) => EvtTypes::Only(x.intersection(&y).cloned().collect()),
            (EvtTypes::Only(x), EvtTypes::Except(y)) | (EvtTypes::Except(y), EvtTypes::Only(x)) => {
                EvtTypes::Only(x.difference(&y).cloned().collect())
            }
            (EvtTypes::Except(x), EvtTypes::Except(y)) => EvtTypes::Except(x.union(&y).cloned().collect()),
        }),
        Expr::Or(c) => {
            let parts: Vec<EvtTypes> = c.iter().map(narrow).collect();
            if parts.iter().any(|p| matches!(p, EvtTypes::Except(_))) {
                EvtTypes::any()
            } else {
                EvtTypes::Only(
                    parts
                        .into_iter()
                        .flat_map(|p| match p {
                            EvtTypes::Only(s) => s,
                            EvtTypes::Except(_) => BTreeSet::new(),
                        })
                        .collect(),
                )
            }
        }
        other => compile::evt_types(other),
    }
}

impl Ruleset {
    /// Falco's `describe_rule` JSON (`--list`/`-L` with JSON output): `rules` (one entry, or all when
    /// `rule` is `None`) with `info` (name, condition, output, description, priority, tags, source,
    /// enabled, capture, capture_duration) and `details` (the compiled condition), `macros` and `lists`
    /// (`items_compiled`, the lists an item list referred to).
    pub fn describe(&self, rule: Option<&str>) -> serde_json::Value {
        use serde_json::json;
        let rules: Vec<serde_json::Value> = self
            .rules
            .iter()
            .filter(|r| rule.is_none_or(|n| n == r.name))
            .map(|r| {
                json!({
                    "info": {
                        "name": r.name,
                        "condition": r.condition,
                        "output": r.output,
                        "description": r.desc,
                        "priority": r.priority.as_str(),
                        "tags": r.tags,
                        "source": r.source,
                        "enabled": r.enabled,
                        "capture": r.capture,
                        "capture_duration": r.capture_duration,
                    },
                    "details": {
                        "condition_compiled": r.compiled_condition,
                        "events": match &r.evt_types {
                            EvtTypes::Only(s) => s.iter().cloned().collect::<Vec<_>>(),
                            EvtTypes::Except(_) => vec!["<all>".to_string()],
                        },
                    },
                })
            })
            .collect();
        let (macros, lists) = if rule.is_some() {
            (Vec::new(), Vec::new())
        } else {
            let names: BTreeSet<&str> = self.lists.iter().map(|l| l.name.as_str()).collect();
            let mut resolved: HashMap<&str, Vec<String>> = HashMap::new();
            let mut lists = Vec::new();
            for l in &self.lists {
                let mut items = Vec::new();
                let mut refs = Vec::new();
                for i in &l.items {
                    match resolved.get(i.as_str()) {
                        Some(inner) if names.contains(i.as_str()) => {
                            refs.push(i.clone());
                            items.extend(inner.iter().cloned());
                        }
                        _ => items.push(parser::unquote(i)),
                    }
                }
                resolved.insert(&l.name, items.clone());
                lists.push(json!({"info": {"name": l.name, "items": l.items}, "details": {"items_compiled": items, "lists": refs}}));
            }
            let macros = self
                .macros
                .iter()
                .map(|m| json!({"info": {"name": m.name, "condition": m.condition}}))
                .collect();
            (macros, lists)
        };
        json!({ "rules": rules, "macros": macros, "lists": lists })
    }
}
