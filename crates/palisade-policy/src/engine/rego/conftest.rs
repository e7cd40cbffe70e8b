//! conftest semantics over the bundle's `.rego` files (not `*_test.rego`).
//!
//! All files compile together (packages may import each other); each package is one [`ConftestPolicy`],
//! named after the package (conftest's *namespace*). Callers pick namespaces with [`Policy::namespace`]
//! (`--namespace`, default `main`). In a package, the rules `deny`, `violation` and `warn`, and those names
//! followed by `_suffix`, are evaluated: each string result, or object result with a `msg`, is one decision
//! (`deny`/`violation`: [`Action::Deny`]; `warn`: [`Action::Warn`]); boolean results count as passing, as in
//! conftest. A rule `deny_foo` whose package has `exception contains ["foo"]` (any rule of `exception`
//! listing `foo`) is excepted and yields no decision. `data.conftest.file` holds `{name, dir}` of the input
//! file when a module reads it.
//!
//! Input shapes: a Kubernetes object or document as parsed; a Dockerfile as conftest's parser gives it (see
//! [`dockerfile_input`]); `--combine` inputs as `[{path, contents}]` (see [`combine`]).

use super::{EnginePool, Module, RegoVersion, VersionChoice, eval_path, metadata, rego_modules, rule_names};
use crate::bundle::Bundle;
use crate::engine::{
    Action, Budget, Decision, Language, LoadError, Outcome, Policy, SourceLocation, Subject, SubjectKind,
};
use palisade_checks::dockerfile::Dockerfile;
use serde_json::{Value, json};
use std::sync::Arc;

/// One conftest namespace (Rego package) of a bundle.
#[derive(Debug)]
pub struct ConftestPolicy {
    package: String,
    /// `(rule, action, file, line)` of the deny/violation/warn rules of this package.
    rules: Vec<(String, Action, String, usize)>,
    /// Per rule (same order): `title`/`description`/`custom` of its METADATA annotations.
    annotations: Vec<Option<Value>>,
    has_exception: bool,
    reads_file: bool,
    pool: Arc<EnginePool>,
}

/// Whether a rule name is one conftest evaluates, and with which action.
pub fn rule_action(name: &str) -> Option<Action> {
    for (prefix, action) in [("deny", Action::Deny), ("violation", Action::Deny), ("warn", Action::Warn)] {
        if let Some(rest) = name.strip_prefix(prefix)
            && (rest.is_empty() || (rest.starts_with('_') && rest.len() > 1))
        {
            return Some(action);
        }
    }
    None
}

/// Compile `modules` with `data` and build one policy per package that has conftest rules.
pub fn compile(
    modules: &[Module],
    choice: VersionChoice,
    data: Option<Value>,
    errors: &mut Vec<LoadError>,
) -> Vec<ConftestPolicy> {
    if modules.is_empty() {
        return Vec::new();
    }
    let (pool, loaded) = EnginePool::build(modules, choice, data, errors);
    let reads_file = loaded.iter().any(|(m, _): &(Module, RegoVersion)| m.text.contains("conftest"));
    let mut proto = pool.prototype().clone();
    let names = rule_names(&mut proto);
    let pool = Arc::new(pool);
    let mut packages: Vec<String> = Vec::new();
    for (_, p, _, _) in &names {
        if !packages.contains(p) {
            packages.push(p.clone());
        }
    }
    packages
        .into_iter()
        .filter_map(|package| {
            // A rule may be defined in several files of a package: evaluate it once.
            let mut rules: Vec<(String, Action, String, usize)> = Vec::new();
            for (f, _, n, line) in names.iter().filter(|(_, p, _, _)| *p == package) {
                if let Some(a) = rule_action(n)
                    && !rules.iter().any(|(seen, ..)| seen == n)
                {
                    rules.push((n.clone(), a, f.clone(), *line));
                }
            }
            if rules.is_empty() {
                return None;
            }
            let has_exception = names.iter().any(|(_, p, n, _)| *p == package && n == "exception");
            let annotations = rules
                .iter()
                .map(|(rule, _, file, _)| {
                    let mut texts = modules.iter().filter(|m| m.path == *file).chain(modules.iter());
                    texts
                        .find_map(|m| metadata::rule_annotations(&m.text, rule))
                        .and_then(|a| metadata::decision_fields(&a))
                })
                .collect();
            Some(ConftestPolicy {
                package,
                rules,
                annotations,
                has_exception,
                reads_file,
                pool: pool.clone(),
            })
        })
        .collect()
}

/// The conftest part of the Rego loader: every non-test `.rego` file of the bundle, v1 or v0 by content,
/// with the documents of the files under a `data/` directory merged into `data` (conftest's `--data`).
pub fn load(bundle: &Bundle, policies: &mut Vec<Box<dyn Policy>>, errors: &mut Vec<LoadError>) {
    let modules = rego_modules(bundle, false);
    let data = bundle_data(bundle, errors);
    for p in compile(&modules, super::bundle_choice(bundle), data, errors) {
        policies.push(Box::new(p));
    }
}

/// The documents of the bundle's files under a `data/` directory, deep-merged (conftest's `--data`); a
/// document that conflicts with an earlier one is a [`LoadError`].
pub fn bundle_data(bundle: &Bundle, errors: &mut Vec<LoadError>) -> Option<Value> {
    let mut data = Value::Object(serde_json::Map::new());
    let mut any = false;
    for f in &bundle.files {
        if f.is_rego() || !f.rel.split('/').rev().skip(1).any(|c| c == "data") {
            continue;
        }
        for d in &f.documents {
            if !d.value.is_object() {
                errors.push(LoadError {
                    location: f.at(d.line, 1),
                    message: "a data document must be a mapping".into(),
                    unsupported: false,
                });
                continue;
            }
            if let Err(path) = merge(&mut data, &d.value, "data") {
                errors.push(LoadError {
                    location: f.at(d.line, 1),
                    message: format!("{path} is already set by another data document"),
                    unsupported: false,
                });
                continue;
            }
            any = true;
        }
    }
    any.then_some(data)
}

/// Deep-merge `from` into `into`; `Err(path)` at the first key both set to different non-objects.
fn merge(into: &mut Value, from: &Value, path: &str) -> Result<(), String> {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                let p = format!("{path}.{k}");
                match a.get_mut(k) {
                    Some(existing) => merge(existing, v, &p)?,
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
            Ok(())
        }
        (a, b) if *a == *b => Ok(()),
        _ => Err(path.to_string()),
    }
}

impl ConftestPolicy {
    /// The rule names this policy evaluates (for conftest's test counts).
    pub fn rules(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|(n, ..)| n.as_str())
    }

    /// Evaluate, returning decisions and the names of the rules excepted by `exception`.
    pub fn evaluate_with_exceptions(
        &self,
        subject: &Subject,
        budget: &Budget,
    ) -> (Vec<Decision>, Vec<String>) {
        let file = if self.reads_file {
            let name = subject.origin.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
            let dir = subject
                .origin
                .path
                .as_ref()
                .and_then(|p| p.parent())
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            Some(json!({"conftest": {"file": {"name": name, "dir": dir}}}))
        } else {
            None
        };
        let object = subject.reference();
        let decision =
            |rule: &str, message: String, action, outcome, source: Option<SourceLocation>| Decision {
                language: Language::Rego,
                policy: self.package.clone(),
                rule: rule.to_string(),
                object: object.clone(),
                message,
                action,
                outcome,
                source,
                annotations: self
                    .rules
                    .iter()
                    .position(|(r, ..)| r == rule)
                    .and_then(|i| self.annotations.get(i).cloned().flatten()),
            };
        let result = self.pool.with_engine(subject.value.clone(), file.as_ref(), budget, |engine| {
            let mut out = Vec::new();
            let mut excepted = Vec::new();
            let exceptions: Vec<String> = if self.has_exception {
                let v = eval_path(engine, &format!("{}.exception", self.package))?;
                v.and_then(|v| v.as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .flat_map(|e| e.as_array().cloned().unwrap_or_default())
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            } else {
                Vec::new()
            };
            for (rule, action, file, line) in &self.rules {
                let source = Some(SourceLocation { path: file.into(), line: *line, column: 1 });
                let suffix = rule.split_once('_').map(|(_, s)| s).unwrap_or("");
                let v = match eval_path(engine, &format!("{}.{rule}", self.package)) {
                    Ok(v) => v,
                    Err(e) => {
                        out.push(decision(rule, e.0, *action, Outcome::Error, source));
                        continue;
                    }
                };
                let messages = messages(v);
                if messages.is_empty() {
                    continue;
                }
                if !suffix.is_empty() && exceptions.iter().any(|e| e == suffix) {
                    excepted.push(rule.clone());
                    continue;
                }
                for m in messages {
                    out.push(decision(rule, m, *action, Outcome::Violation, source.clone()));
                }
            }
            Ok((out, excepted))
        });
        match result {
            Ok(r) => r,
            Err(e) => (
                vec![decision(
                    "",
                    format!("evaluation failed: {}", e.0),
                    Action::Deny,
                    Outcome::Error,
                    self.rules.first().map(|(_, _, f, _)| SourceLocation {
                        path: f.into(),
                        line: 0,
                        column: 0,
                    }),
                )],
                Vec::new(),
            ),
        }
    }
}

/// The messages of a conftest rule result: strings, and objects' `msg`; a set of them or one of them.
fn messages(v: Option<Value>) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => Some(o.get("msg").and_then(Value::as_str).unwrap_or("").to_string()),
        _ => None,
    };
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(v) => one(&v).into_iter().collect(),
        None => Vec::new(),
    }
}

impl Policy for ConftestPolicy {
    fn language(&self) -> Language {
        Language::Rego
    }
    fn name(&self) -> &str {
        &self.package
    }
    fn namespace(&self) -> Option<&str> {
        Some(&self.package)
    }
    fn selects(&self, _subject: &Subject) -> bool {
        true
    }
    fn evaluate(&self, subject: &Subject, budget: &Budget) -> Vec<Decision> {
        self.evaluate_with_exceptions(subject, budget).0
    }
}

/// Whether a namespace pattern (conftest `--namespace`, `*` wildcards) selects `namespace`.
pub fn namespace_matches(pattern: &str, namespace: &str) -> bool {
    globset::Glob::new(pattern)
        .map(|g| g.compile_matcher().is_match(namespace))
        .unwrap_or(pattern == namespace)
}

/// A Dockerfile in conftest's parsed shape: a list of `{Cmd, Flags, Value, Stage, SubCmd, JSON, Original}`
/// with lower-case commands, read with Palisade's Dockerfile parser.
pub fn dockerfile_input(d: &Dockerfile) -> Value {
    let mut out = Vec::new();
    for i in &d.instructions {
        let cmd = i.kw.to_ascii_lowercase();
        let flags: Vec<Value> = i
            .flags
            .iter()
            .map(|(n, v)| {
                Value::String(match v {
                    Some(v) => format!("--{n}={v}"),
                    None => format!("--{n}"),
                })
            })
            .collect();
        let values: Vec<String> = match i.kw {
            _ if i.exec_form => i.words.clone(),
            "RUN" | "CMD" | "ENTRYPOINT" => vec![i.raw.clone()],
            "ENV" | "LABEL" => {
                i.pairs.iter().flat_map(|(k, v)| [k.clone(), v.clone().unwrap_or_default()]).collect()
            }
            "ARG" => i
                .pairs
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}={v}"),
                    None => k.clone(),
                })
                .collect(),
            _ => i.raw.split_whitespace().filter(|w| !w.starts_with("--")).map(str::to_owned).collect(),
        };
        let original = if i.raw.is_empty() { i.kw.to_string() } else { format!("{} {}", i.kw, i.raw) };
        out.push(json!({
            "Cmd": cmd,
            "SubCmd": "",
            "JSON": i.exec_form,
            "Original": original,
            "Stage": i.stage.unwrap_or(0),
            "Flags": flags,
            "Value": values,
        }));
    }
    Value::Array(out)
}

/// conftest's `--combine` input: every document as `{path, contents}`, in one list.
pub fn combine(subjects: &[Subject]) -> Subject {
    let items = subjects
        .iter()
        .map(|s| {
            let path = s.origin.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
            json!({"path": path, "contents": s.value})
        })
        .collect();
    Subject {
        memo: Default::default(),
        kind: SubjectKind::Document,
        value: Value::Array(items),
        origin: crate::engine::Origin::default(),
        admission: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Origin;

    fn module(text: &str) -> Module {
        Module { path: "p.rego".into(), text: text.into(), line_offset: 1 }
    }

    #[test]
    fn deny_warn_suffixes_and_exceptions() {
        let mut errors = Vec::new();
        let text = r#"package main
import rego.v1
deny contains msg if { input.kind == "Pod"; msg := "no pods" }
warn_labels contains {"msg": "no labels"} if { not input.metadata.labels }
deny_root contains "root" if { input.kind == "Pod" }
exception contains ["root"] if { input.metadata.name == "ok" }
violation if { true }
helper := 1
"#;
        let policies = compile(&[module(text)], VersionChoice::Detect, None, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(policies.len(), 1);
        assert_eq!(
            policies[0].rules().collect::<Vec<_>>(),
            ["deny", "warn_labels", "deny_root", "violation"]
        );
        let s = Subject::object(json!({"kind": "Pod", "metadata": {"name": "ok"}}), Origin::default());
        let (d, excepted) = policies[0].evaluate_with_exceptions(&s, &Budget::default());
        let got: Vec<_> = d.iter().map(|d| (d.rule.as_str(), d.message.as_str(), d.action)).collect();
        assert_eq!(got, [("deny", "no pods", Action::Deny), ("warn_labels", "no labels", Action::Warn)]);
        assert_eq!(excepted, ["deny_root"]);
        assert_eq!(policies[0].namespace(), Some("main"));
    }

    #[test]
    fn decisions_carry_the_rules_metadata_annotations() {
        let text = "package main\nimport rego.v1\n\n# METADATA\n# title: No pods\n# custom:\n#   severity: high\n\
            #   template: 'pod %v'\ndeny contains msg if {\n  input.kind == \"Pod\"\n  \
            msg := sprintf(rego.metadata.rule().custom.template, [input.metadata.name])\n}\n\
            warn contains \"plain\" if { true }\n";
        let mut errors = Vec::new();
        let policies = compile(&[module(text)], VersionChoice::Detect, None, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let s = Subject::object(json!({"kind": "Pod", "metadata": {"name": "web"}}), Origin::default());
        let d = policies[0].evaluate(&s, &Budget::default());
        assert_eq!(d[0].message, "pod web");
        assert_eq!(
            d[0].annotations,
            Some(json!({"title": "No pods", "custom": {"severity": "high", "template": "pod %v"}}))
        );
        assert_eq!((d[1].rule.as_str(), &d[1].annotations), ("warn", &None));
    }

    #[test]
    fn namespaces_and_rule_names() {
        assert!(namespace_matches("main", "main"));
        assert!(namespace_matches("c*", "commands"));
        assert!(!namespace_matches("main", "main.gke"));
        assert_eq!(rule_action("deny_x"), Some(Action::Deny));
        assert_eq!(rule_action("denylist"), None);
        assert_eq!(rule_action("deny_"), None);
        assert_eq!(rule_action("warn"), Some(Action::Warn));
    }

    #[test]
    fn dockerfile_shape_is_conftests() {
        let d = Dockerfile::parse(
            "FROM openjdk:8 AS build\nRUN apk add \\\n  curl\nCOPY --from=build a /b\n\
                                   ENTRYPOINT [\"java\", \"-jar\"]\n",
        )
        .unwrap();
        let v = dockerfile_input(&d);
        assert_eq!(v[0]["Cmd"], "from");
        assert_eq!(v[0]["Value"][0], "openjdk:8");
        assert!(v[1]["Value"][0].as_str().unwrap().starts_with("apk add"));
        assert_eq!(v[2]["Flags"], json!(["--from=build"]));
        assert_eq!(v[3]["Value"], json!(["java", "-jar"]));
        assert_eq!(v[3]["JSON"], true);
    }
}
