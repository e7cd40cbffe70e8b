//! Reads Falco rules files into definitions: lists, macros and rules, with `append`, `override`,
//! `enabled`, exceptions, `required_engine_version` and `required_plugin_versions`, in file order.
//!
//! Messages follow Falco's wording ("Rule uses 'append' or 'override.<key>: append' but no rule by that
//! name already exists", "Unknown key 'x'", …) and name the file, line and item. A bad item is
//! reported and skipped; the other items are still read, so one run lists every problem.

use super::{LoadMessage, Priority};
use palisade_checks::yaml::{self, Node, Value};

/// The engine version this implementation speaks (Falco's `required_engine_version` scale).
pub const ENGINE_VERSION: (u64, u64, u64) = (0, 57, 0);

/// Plugins whose fields are built in (the container plugin's `container.*` fields), with the version provided.
pub const BUILTIN_PLUGINS: &[(&str, (u64, u64, u64))] = &[("container", (0, 4, 0))];

#[derive(Debug, Clone)]
pub struct ListDef {
    pub name: String,
    pub items: Vec<String>,
    pub file: String,
    pub line: u32,
}

#[derive(Debug, Clone)]
pub struct MacroDef {
    pub name: String,
    pub condition: String,
    pub file: String,
    pub line: u32,
}

/// One value of an exception tuple: a scalar, or a list (for `in`, `pmatch`, `oneof`…).
#[derive(Debug, Clone, PartialEq)]
pub enum ExcValue {
    Scalar(String),
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct ExceptionDef {
    pub name: String,
    /// Field names; `fields_is_list` tells the list form (`fields: [a, b]`) from the scalar form (`fields: a`).
    pub fields: Vec<String>,
    pub fields_is_list: bool,
    pub comps: Vec<String>,
    /// Tuples (list form) or single values (scalar form, one value per tuple).
    pub values: Vec<Vec<ExcValue>>,
}

#[derive(Debug, Clone)]
pub struct RuleDef {
    pub name: String,
    pub desc: String,
    pub condition: String,
    pub output: String,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub source: String,
    pub exceptions: Vec<ExceptionDef>,
    pub warn_evttypes: bool,
    pub skip_if_unknown_filter: bool,
    pub capture: bool,
    pub capture_duration: u64,
    pub file: String,
    pub line: u32,
}

/// Everything read from the files, before compilation.
#[derive(Debug, Default)]
pub struct Collected {
    pub lists: Vec<ListDef>,
    pub macros: Vec<MacroDef>,
    pub rules: Vec<RuleDef>,
    pub errors: Vec<LoadMessage>,
    pub warnings: Vec<LoadMessage>,
}

const RULE_KEYS: &[&str] = &[
    "rule",
    "desc",
    "condition",
    "output",
    "priority",
    "tags",
    "enabled",
    "source",
    "exceptions",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "append",
    "override",
    "capture",
    "capture_duration",
];
const REPLACEABLE: &[&str] = &[
    "desc",
    "condition",
    "output",
    "priority",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "capture",
    "capture_duration",
];
const APPENDABLE: &[&str] = &["desc", "condition", "output", "tags", "exceptions"];
const DEPRECATED_APPEND: &str =
    "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.";

/// Is this a valid macro/list name (Falco warns otherwise)?
fn valid_name(n: &str) -> bool {
    let mut c = n.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic()) && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

fn parse_version(v: &str) -> Option<(u64, u64, u64)> {
    let parts: Vec<&str> = v.trim().split('.').collect();
    let n = |i: usize| -> Option<u64> { parts.get(i).map_or(Some(0), |p| p.parse().ok()) };
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    Some((n(0)?, n(1)?, n(2)?))
}

struct Ctx<'a> {
    file: &'a str,
    out: &'a mut Collected,
}

impl Ctx<'_> {
    fn err(&mut self, line: u32, item: &str, message: impl Into<String>) {
        self.out.errors.push(LoadMessage::new(self.file, Some(line), item, message));
    }

    fn warn(&mut self, line: u32, item: &str, message: impl Into<String>) {
        self.out.warnings.push(LoadMessage::new(self.file, Some(line), item, message));
    }
}

fn text(n: &Node) -> Option<String> {
    match &n.value {
        Value::Null => Some(String::new()),
        _ => n.scalar_text(),
    }
}

fn string_list(n: &Node) -> Option<Vec<String>> {
    match &n.value {
        Value::Seq(items) => items.iter().map(text).collect(),
        Value::Null => Some(Vec::new()),
        _ => None,
    }
}

/// Read one rules file into `out`.
pub fn collect(file: &str, content: &str, out: &mut Collected) {
    let mut cx = Ctx { file, out };
    let mut docs = yaml::load_all(content);
    if docs.iter().any(|d| d.as_ref().is_err_and(|e| e.message.contains("indentation"))) {
        // yaml-cpp (Falco's parser) accepts a flow sequence's closing `]` at its key's indentation,
        // which the official sandbox rules rely on; indent such lines and read again.
        let relaxed: String = content
            .split_inclusive('\n')
            .map(|l| if matches!(l.trim(), "]" | "}") { format!("    {l}") } else { l.to_string() })
            .collect();
        docs = yaml::load_all(&relaxed);
    }
    if docs.is_empty() {
        return;
    }
    for doc in docs {
        let root = match doc {
            Ok(r) => r,
            Err(e) => {
                cx.err(e.line, "", format!("YAML parse error: {}", e.message));
                continue;
            }
        };
        let Value::Seq(items) = &root.value else {
            if !root.is_null() {
                cx.err(root.line, "", "Rules content is not yaml array of objects");
            }
            continue;
        };
        for item in items {
            read_item(&mut cx, item);
        }
    }
}

fn read_item(cx: &mut Ctx<'_>, item: &Node) {
    if !item.is_map() {
        cx.err(item.line, "", "Unexpected element type. Each element should be a yaml associative array.");
        return;
    }
    if let Some(v) = item.get("required_engine_version") {
        let t = text(v).unwrap_or_default();
        match parse_version(&t) {
            None => cx.err(v.line, "required_engine_version", format!("Unable to parse engine version '{t}' as a semver string. Expected \"x.y.z\" semver format.")),
            Some(ver) => {
                // A bare number is the old integer scale (minor version of 0.x.0).
                let ver = if !t.contains('.') { (0, ver.0, 0) } else { ver };
                if ver > ENGINE_VERSION {
                    let (a, b, c) = ENGINE_VERSION;
                    cx.err(v.line, "required_engine_version", format!("Rules require engine version {t}, but engine version is {a}.{b}.{c}"));
                }
            }
        }
    } else if let Some(v) = item.get("required_plugin_versions") {
        read_plugins(cx, v);
    } else if let Some(n) = item.get("list") {
        read_list(cx, item, n);
    } else if let Some(n) = item.get("macro") {
        read_macro(cx, item, n);
    } else if let Some(n) = item.get("rule") {
        read_rule(cx, item, n);
    } else {
        let key = item.as_map().first().map(|(k, _)| k.name.clone()).unwrap_or_default();
        cx.warn(item.line, "", format!("Unknown top level object '{key}'"));
    }
}

fn read_plugins(cx: &mut Ctx<'_>, v: &Node) {
    for p in v.as_seq() {
        let name = p.get("name").and_then(text).unwrap_or_default();
        let version = p.get("version").and_then(text).unwrap_or_default();
        let mut names = vec![(name.clone(), version.clone())];
        for alt in p.get("alternatives").map(Node::as_seq).unwrap_or(&[]) {
            names.push((
                alt.get("name").and_then(text).unwrap_or_default(),
                alt.get("version").and_then(text).unwrap_or_default(),
            ));
        }
        let satisfied = names.iter().any(|(n, ver)| {
            BUILTIN_PLUGINS
                .iter()
                .any(|(b, have)| b == n && parse_version(ver).is_some_and(|want| want <= *have))
        });
        if !satisfied {
            cx.err(p.line, "required_plugin_versions", format!("Plugin '{name}' (version {version}) required by this rules file is not available: Palisade provides only {}", BUILTIN_PLUGINS.iter().map(|(n, (a, b, c))| format!("{n} {a}.{b}.{c}")).collect::<Vec<_>>().join(", ")));
        }
    }
}

/// `override:` entries as (key, "append"|"replace"), validated against the allowed keys.
fn read_override(
    cx: &mut Ctx<'_>,
    item: &Node,
    what: &str,
    allowed_keys: &[&str],
    appendable: &[&str],
) -> Option<Vec<(String, String)>> {
    let ov = item.get("override")?;
    let mut out = Vec::new();
    for (k, v) in ov.as_map() {
        let mode = text(v).unwrap_or_default();
        if mode != "append" && mode != "replace" {
            cx.err(
                k.line,
                what,
                format!(
                    "Invalid override value '{mode}' for key '{}': expected 'append' or 'replace'",
                    k.name
                ),
            );
            continue;
        }
        if !allowed_keys.contains(&k.name.as_str()) {
            cx.err(k.line, what, format!("Key '{}' cannot be overridden", k.name));
            continue;
        }
        if mode == "append" && !appendable.contains(&k.name.as_str()) {
            cx.err(k.line, what, format!("Key '{}' cannot be appended to, use 'replace' instead", k.name));
            continue;
        }
        if item.get(&k.name).is_none() {
            cx.err(
                k.line,
                what,
                format!("An {mode} override for '{}' was specified but '{}' is not defined", k.name, k.name),
            );
            continue;
        }
        out.push((k.name.clone(), mode));
    }
    Some(out)
}

fn check_keys(cx: &mut Ctx<'_>, item: &Node, what: &str, allowed: &[&str]) {
    for (k, _) in item.as_map() {
        if !allowed.contains(&k.name.as_str()) {
            cx.warn(k.line, what, format!("Unknown key '{}'. The key will be ignored.", k.name));
        }
    }
}

fn legacy_append(cx: &mut Ctx<'_>, item: &Node, what: &str) -> bool {
    match item.get("append") {
        None => false,
        Some(a) => {
            cx.warn(a.line, what, DEPRECATED_APPEND);
            a.as_bool().unwrap_or(false) || text(a).as_deref() == Some("true")
        }
    }
}

fn read_list(cx: &mut Ctx<'_>, item: &Node, name_node: &Node) {
    let name = text(name_node).unwrap_or_default();
    let what = format!("list '{name}'");
    check_keys(cx, item, &what, &["list", "items", "append", "override"]);
    if !valid_name(&name) {
        cx.warn(item.line, &what, "List has an invalid name. List names should match a regular expression: ^[a-zA-Z_][a-zA-Z0-9_]*$");
    }
    let append = legacy_append(cx, item, &what);
    let over = read_override(cx, item, &what, &["items"], &["items"]);
    if append && over.is_some() {
        cx.err(item.line, &what, "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'items: append') under 'override' instead.");
        return;
    }
    let Some(items_node) = item.get("items") else {
        cx.err(item.line, &what, "Item has no mapping for key 'items'");
        return;
    };
    let Some(items) = string_list(items_node) else {
        cx.err(items_node.line, &what, "List items must be a sequence of strings");
        return;
    };
    let append =
        append || over.as_ref().is_some_and(|o| o.iter().any(|(k, m)| k == "items" && m == "append"));
    let existing = cx.out.lists.iter_mut().find(|l| l.name == name);
    match (append, existing) {
        (true, Some(l)) => l.items.extend(items),
        (true, None) => cx.err(
            item.line,
            &what,
            "List uses 'append' or 'override.items: append' but no list by that name already exists",
        ),
        (false, Some(l)) => l.items = items,
        (false, None) => {
            let file = cx.file.to_string();
            cx.out.lists.push(ListDef { name, items, file, line: item.line })
        }
    }
}

fn read_macro(cx: &mut Ctx<'_>, item: &Node, name_node: &Node) {
    let name = text(name_node).unwrap_or_default();
    let what = format!("macro '{name}'");
    check_keys(cx, item, &what, &["macro", "condition", "append", "override"]);
    if !valid_name(&name) {
        cx.warn(item.line, &what, "Macro has an invalid name. Macro names should match a regular expression: ^[a-zA-Z_][a-zA-Z0-9_]*$");
    }
    let append = legacy_append(cx, item, &what);
    let over = read_override(cx, item, &what, &["condition"], &["condition"]);
    if append && over.is_some() {
        cx.err(item.line, &what, "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.");
        return;
    }
    let Some(cond_node) = item.get("condition") else {
        cx.err(item.line, &what, "Item has no mapping for key 'condition'");
        return;
    };
    let Some(condition) = text(cond_node) else {
        cx.err(cond_node.line, &what, "Macro condition must be a string");
        return;
    };
    let append =
        append || over.as_ref().is_some_and(|o| o.iter().any(|(k, m)| k == "condition" && m == "append"));
    let (file, line) = (cx.file.to_string(), cond_node.line);
    let existing = cx.out.macros.iter_mut().find(|m| m.name == name);
    match (append, existing) {
        (true, Some(m)) => {
            m.condition = format!("{} {}", m.condition.trim_end(), condition);
        }
        (true, None) => cx.err(
            item.line,
            &what,
            "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists",
        ),
        (false, Some(m)) => {
            m.condition = condition;
            m.file = file;
            m.line = line;
        }
        (false, None) => cx.out.macros.push(MacroDef { name, condition, file, line }),
    }
}

fn read_exceptions(cx: &mut Ctx<'_>, node: &Node, what: &str, partial: bool) -> Option<Vec<ExceptionDef>> {
    let mut out: Vec<ExceptionDef> = Vec::new();
    let mut ok = true;
    for e in node.as_seq() {
        check_keys(cx, e, what, &["name", "fields", "comps", "values"]);
        let Some(name) = e.get("name").and_then(text) else {
            cx.err(e.line, what, "Item has no mapping for key 'name'");
            ok = false;
            continue;
        };
        let (fields, fields_is_list) = match e.get("fields") {
            Some(f) if matches!(f.value, Value::Seq(_)) => (string_list(f).unwrap_or_default(), true),
            Some(f) => (vec![text(f).unwrap_or_default()], false),
            None if partial => (Vec::new(), true),
            None => {
                cx.err(e.line, what, "Item has no mapping for key 'fields'");
                ok = false;
                continue;
            }
        };
        let comps = match e.get("comps") {
            Some(c) if matches!(c.value, Value::Seq(_)) => string_list(c).unwrap_or_default(),
            Some(c) => vec![text(c).unwrap_or_default()],
            None if fields_is_list => vec!["=".to_string(); fields.len()],
            None => vec!["in".to_string()],
        };
        let comps: Vec<String> =
            comps.iter().map(|c| c.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
        let mut values = Vec::new();
        match e.get("values") {
            Some(v) => {
                for tuple in v.as_seq() {
                    if fields_is_list {
                        let row = match &tuple.value {
                            Value::Seq(cells) => cells
                                .iter()
                                .map(|c| match &c.value {
                                    Value::Seq(_) => ExcValue::List(string_list(c).unwrap_or_default()),
                                    _ => ExcValue::Scalar(text(c).unwrap_or_default()),
                                })
                                .collect(),
                            _ => vec![ExcValue::Scalar(text(tuple).unwrap_or_default())],
                        };
                        values.push(row);
                    } else {
                        values.push(vec![ExcValue::Scalar(text(tuple).unwrap_or_default())]);
                    }
                }
            }
            None if partial => {
                cx.warn(e.line, what, format!("Overriding/appending exception with no values: '{name}'"))
            }
            None => {}
        }
        if out.iter().any(|x| x.name == name) {
            cx.warn(e.line, what, format!("Multiple definitions of exception '{name}' in the same rule"));
        }
        out.push(ExceptionDef { name, fields, fields_is_list, comps, values });
    }
    ok.then_some(out)
}

fn read_rule(cx: &mut Ctx<'_>, item: &Node, name_node: &Node) {
    let name = text(name_node).unwrap_or_default();
    let what = format!("rule '{name}'");
    check_keys(cx, item, &what, RULE_KEYS);
    let append = legacy_append(cx, item, &what);
    let over = read_override(cx, item, &what, REPLACEABLE, APPENDABLE);
    if append && over.is_some() {
        cx.err(item.line, &what, "Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.");
        return;
    }
    let source = item.get("source").and_then(text).filter(|s| !s.is_empty());
    let get_str = |k: &str| item.get(k).and_then(text);
    let existing_idx = cx.out.rules.iter().position(|r| r.name == name);

    if let Some(ref ov) = over {
        // Every key besides `rule`/`override`/`source` must be covered by the override map.
        for (k, _) in item.as_map() {
            if !matches!(k.name.as_str(), "rule" | "override" | "source")
                && !ov.iter().any(|(o, _)| *o == k.name)
                && RULE_KEYS.contains(&k.name.as_str())
            {
                cx.err(
                    k.line,
                    &what,
                    format!("Unexpected key '{}': an 'override' entry is required", k.name),
                );
                return;
            }
        }
        let Some(idx) = existing_idx else {
            if ov.iter().any(|(_, m)| m == "append") {
                cx.err(
                    item.line,
                    &what,
                    "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists",
                );
            } else {
                cx.err(item.line, &what, "An 'override.<key>: replace' to a rule was requested but no rule by that name already exists");
            }
            return;
        };
        if let Some(s) = &source
            && *s != cx.out.rules[idx].source
        {
            cx.err(item.line, &what, "Rule has been re-defined with a different source");
            return;
        }
        for (key, mode) in ov {
            let node = item.get(key);
            apply(cx, idx, key, mode == "append", node, &what);
        }
        return;
    }

    if append {
        let Some(idx) = existing_idx else {
            cx.err(
                item.line,
                &what,
                "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists",
            );
            return;
        };
        if let Some(s) = &source
            && *s != cx.out.rules[idx].source
        {
            cx.err(item.line, &what, "Rule has been re-defined with a different source");
            return;
        }
        for key in ["condition", "output", "desc", "exceptions"] {
            if let Some(node) = item.get(key) {
                apply(cx, idx, key, true, Some(node), &what);
            }
        }
        return;
    }

    // Standalone `enabled` (deprecated): only the rule name and `enabled`.
    let keys: Vec<&str> = item.as_map().iter().map(|(k, _)| k.name.as_str()).collect();
    if keys.iter().all(|k| matches!(*k, "rule" | "enabled")) && keys.contains(&"enabled") {
        cx.warn(item.line, &what, "The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' entry under the 'override' key (i.e. 'enabled: replace').");
        match existing_idx {
            Some(idx) => apply(cx, idx, "enabled", false, item.get("enabled"), &what),
            None => {
                cx.err(item.line, &what, "Rule has 'enabled' key but no rule by that name already exists")
            }
        }
        return;
    }

    // A full definition.
    let mut missing = false;
    for k in ["condition", "output", "desc", "priority"] {
        if item.get(k).is_none() {
            cx.err(item.line, &what, format!("Item has no mapping for key '{k}'"));
            missing = true;
        }
    }
    if missing {
        return;
    }
    let source = source.unwrap_or_else(|| "syscall".to_string());
    if let Some(idx) = existing_idx
        && cx.out.rules[idx].source != source
    {
        cx.err(item.line, &what, "Rule has been re-defined with a different source");
        return;
    }
    let prio_text = get_str("priority").unwrap_or_default();
    let Some(priority) = Priority::parse(&prio_text) else {
        cx.err(item.line, &what, format!("Invalid priority level: {prio_text}"));
        return;
    };
    let exceptions = match item.get("exceptions") {
        Some(e) => match read_exceptions(cx, e, &what, false) {
            Some(x) => x,
            None => return,
        },
        None => Vec::new(),
    };
    let bool_key = |cx: &mut Ctx<'_>, k: &str, default: bool| -> Option<bool> {
        match item.get(k) {
            None => Some(default),
            Some(n) => match n.as_bool().or_else(|| text(n).and_then(|t| t.parse().ok())) {
                Some(b) => Some(b),
                None => {
                    cx.warn(n.line, &what, format!("Key '{k}' should be a boolean; using {default}"));
                    Some(default)
                }
            },
        }
    };
    let enabled = bool_key(cx, "enabled", true).unwrap_or(true);
    let warn_evttypes = bool_key(cx, "warn_evttypes", true).unwrap_or(true);
    let skip = bool_key(cx, "skip-if-unknown-filter", false).unwrap_or(false);
    let capture = bool_key(cx, "capture", false).unwrap_or(false);
    let capture_duration = match item.get("capture_duration") {
        None => 0,
        Some(n) => match n.as_i64().and_then(|i| u64::try_from(i).ok()) {
            Some(d) => d,
            None => {
                cx.err(n.line, &what, "Key 'capture_duration' must be a non-negative integer (milliseconds)");
                return;
            }
        },
    };
    let line = item.line;
    let def = RuleDef {
        name,
        desc: get_str("desc").unwrap_or_default(),
        condition: get_str("condition").unwrap_or_default(),
        output: get_str("output").unwrap_or_default(),
        priority,
        tags: item.get("tags").and_then(string_list).unwrap_or_default(),
        enabled,
        source,
        exceptions,
        warn_evttypes,
        skip_if_unknown_filter: skip,
        capture,
        capture_duration,
        file: cx.file.to_string(),
        line,
    };
    match existing_idx {
        Some(idx) => cx.out.rules[idx] = def,
        None => cx.out.rules.push(def),
    }
}

/// Apply one appended or replaced key to an existing rule.
fn apply(cx: &mut Ctx<'_>, idx: usize, key: &str, append: bool, node: Option<&Node>, what: &str) {
    let Some(node) = node else { return };
    match key {
        "condition" | "output" | "desc" => {
            let v = text(node).unwrap_or_default();
            let r = &mut cx.out.rules[idx];
            let slot = match key {
                "condition" => &mut r.condition,
                "output" => &mut r.output,
                _ => &mut r.desc,
            };
            if append {
                *slot = format!("{} {}", slot.trim_end(), v);
            } else {
                *slot = v;
            }
        }
        "tags" => {
            let tags = string_list(node).unwrap_or_default();
            let r = &mut cx.out.rules[idx];
            if append {
                r.tags.extend(tags);
            } else {
                r.tags = tags;
            }
        }
        "priority" => {
            let t = text(node).unwrap_or_default();
            match Priority::parse(&t) {
                Some(p) => cx.out.rules[idx].priority = p,
                None => cx.err(node.line, what, format!("Invalid priority level: {t}")),
            }
        }
        "exceptions" => {
            let Some(list) = read_exceptions(cx, node, what, append) else { return };
            let r = &mut cx.out.rules[idx];
            if append {
                for e in list {
                    match r.exceptions.iter_mut().find(|x| x.name == e.name) {
                        Some(x) => x.values.extend(e.values),
                        None => r.exceptions.push(e),
                    }
                }
            } else {
                r.exceptions = list;
            }
        }
        "enabled" | "warn_evttypes" | "skip-if-unknown-filter" | "capture" => {
            let b = node.as_bool().or_else(|| text(node).and_then(|t| t.parse().ok()));
            let Some(b) = b else {
                cx.err(node.line, what, format!("Key '{key}' must be a boolean"));
                return;
            };
            let r = &mut cx.out.rules[idx];
            match key {
                "enabled" => r.enabled = b,
                "warn_evttypes" => r.warn_evttypes = b,
                "capture" => r.capture = b,
                _ => r.skip_if_unknown_filter = b,
            }
        }
        "capture_duration" => match node.as_i64().and_then(|i| u64::try_from(i).ok()) {
            Some(d) => cx.out.rules[idx].capture_duration = d,
            None => cx.err(
                node.line,
                what,
                "Key 'capture_duration' must be a non-negative integer (milliseconds)",
            ),
        },
        _ => {}
    }
}
