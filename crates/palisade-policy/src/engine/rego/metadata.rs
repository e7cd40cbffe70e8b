//! METADATA annotations, `rego.metadata.rule()` and `rego.metadata.chain()`, which regorus 0.14 lacks
//! (dependencies.md P5).
//!
//! A `# METADATA` comment block holds YAML (`title`, `description`, `authors`, `related_resources`,
//! `custom`, `scope`, ...). Its scope is `package` when the next line is the `package` clause, else `rule`
//! (the rule defined right below it); `scope: document` applies it to every definition of that rule name.
//! Values are shaped as OPA returns them: `scope` included, each author `"Name <email>"` as
//! `{name, email}`, each related resource URL as `{ref}` (checked against OPA with the bindings the
//! differential test uses).
//!
//! [`inline`] rewrites a module before it is compiled: inside each rule, `rego.metadata.rule()` becomes the
//! rule's `rule`-scope annotations as a JSON literal (`{}` without any), and `rego.metadata.chain()` the
//! chain OPA builds: the rule's path (without `data`) with its annotations, the `document`-scope entry, then
//! the package's. Everything stays on its line, so positions in messages do not move. [`rule_annotations`]
//! gives the same annotations to the conftest loader, which puts `title`, `description` and `custom` on the
//! rule's decisions.

use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The annotations of one module.
#[derive(Debug, Default)]
pub struct ModuleAnnotations {
    /// The package path (`["main"]`, `["a", "b"]`).
    pub package: Vec<String>,
    pub package_annotations: Option<Value>,
    /// Per rule definition: name, first line (0-based), the line after its end, `rule`-scope annotations.
    pub rules: Vec<RuleDef>,
    /// `document`-scope annotations by rule name.
    pub documents: HashMap<String, Value>,
}

#[derive(Debug)]
pub struct RuleDef {
    pub name: String,
    pub start: usize,
    pub end: usize,
    pub annotations: Option<Value>,
}

/// The leading identifier of a rule head at column 0 (`deny contains msg if {` → `deny`), or `None` for
/// anything else (comments, `package`, `import`, closing braces, indented lines).
fn rule_head(line: &str) -> Option<&str> {
    let first = line.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return None;
    }
    let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(line.len());
    let name = &line[..end];
    (!matches!(name, "package" | "import" | "default")).then_some(name).or_else(|| {
        // `default allow := false` defines `allow`.
        let rest = line.strip_prefix("default ")?.trim_start();
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        (end > 0).then_some(&rest[..end])
    })
}

/// OPA's shape of an annotation block's YAML.
fn shape(mut v: Map<String, Value>, scope: &str) -> Value {
    if let Some(Value::Array(authors)) = v.get_mut("authors") {
        for a in authors.iter_mut() {
            if let Value::String(s) = a {
                let (name, email) = match s.rsplit_once('<') {
                    Some((n, e)) if e.ends_with('>') => {
                        (n.trim().to_string(), e.trim_end_matches('>').to_string())
                    }
                    _ => (s.trim().to_string(), String::new()),
                };
                let mut o = Map::new();
                if !email.is_empty() {
                    o.insert("email".into(), json!(email));
                }
                if !name.is_empty() {
                    o.insert("name".into(), json!(name));
                }
                *a = Value::Object(o);
            }
        }
    }
    if let Some(Value::Array(resources)) = v.get_mut("related_resources") {
        for r in resources.iter_mut() {
            if let Value::String(s) = r {
                *r = json!({"ref": s});
            }
        }
    }
    v.insert("scope".into(), json!(scope));
    Value::Object(v)
}

/// Read the annotations of `text`. A METADATA block that is not valid YAML is left out (regorus compiles
/// the module as usual; the rule then reads `{}`).
pub fn parse(text: &str) -> ModuleAnnotations {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = ModuleAnnotations::default();
    let mut pending: Option<(Map<String, Value>, Option<String>)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed == "# METADATA" {
            let mut yaml = String::new();
            i += 1;
            while i < lines.len() && lines[i].trim_start().starts_with('#') {
                let l = lines[i].trim_start().trim_start_matches('#');
                yaml.push_str(l.strip_prefix(' ').unwrap_or(l));
                yaml.push('\n');
                i += 1;
            }
            let doc =
                crate::bundle::load_yaml(&yaml).into_iter().next().and_then(Result::ok).map(|n| n.to_json());
            pending = match doc {
                Some(Value::Object(mut m)) => {
                    let scope = m.remove("scope").and_then(|s| s.as_str().map(str::to_owned));
                    Some((m, scope))
                }
                _ => None,
            };
            continue;
        }
        if let Some(pkg) = trimmed.strip_prefix("package ").filter(|_| line.starts_with("package")) {
            out.package = pkg.trim().split('.').map(|s| s.trim_matches('"').to_string()).collect();
            if let Some((m, scope)) = pending.take() {
                out.package_annotations = Some(shape(m, scope.as_deref().unwrap_or("package")));
            }
        } else if let Some(name) = rule_head(line) {
            if let Some(last) = out.rules.last_mut()
                && last.end > i
            {
                last.end = i;
            }
            let mut annotations = None;
            if let Some((m, scope)) = pending.take() {
                match scope.as_deref() {
                    Some("document") => {
                        out.documents.insert(name.to_string(), shape(m, "document"));
                    }
                    _ => annotations = Some(shape(m, "rule")),
                }
            }
            out.rules.push(RuleDef { name: name.to_string(), start: i, end: lines.len(), annotations });
        }
        i += 1;
    }
    out
}

/// `rule`-scope annotations of the first definition of `rule` that has them, else its `document`-scope ones.
pub fn rule_annotations(text: &str, rule: &str) -> Option<Value> {
    let a = parse(text);
    a.rules
        .iter()
        .filter(|r| r.name == rule)
        .find_map(|r| r.annotations.clone())
        .or_else(|| a.documents.get(rule).cloned())
}

/// The fields of annotations that decisions carry: `title`, `description`, `custom`.
pub fn decision_fields(annotations: &Value) -> Option<Value> {
    let mut out = Map::new();
    for k in ["title", "description", "custom"] {
        if let Some(v) = annotations.get(k) {
            out.insert(k.to_string(), v.clone());
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Replace `rego.metadata.rule()` / `rego.metadata.chain()` in each rule (see the module docs); `None` when
/// the module calls neither.
pub fn inline(text: &str) -> Option<String> {
    if !text.contains("rego.metadata.") {
        return None;
    }
    let a = parse(text);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for r in &a.rules {
        let rule = r.annotations.clone().unwrap_or_else(|| json!({}));
        let mut path = a.package.clone();
        path.push(r.name.clone());
        let mut chain = vec![match &r.annotations {
            Some(v) => json!({"path": path, "annotations": v}),
            None => json!({"path": path}),
        }];
        if let Some(d) = a.documents.get(&r.name) {
            chain.push(json!({"path": path, "annotations": d}));
        }
        if let Some(p) = &a.package_annotations {
            chain.push(json!({"path": a.package, "annotations": p}));
        }
        let (rule, chain) = (rule.to_string(), Value::Array(chain).to_string());
        for line in lines.iter_mut().take(r.end).skip(r.start) {
            if line.contains("rego.metadata.") {
                *line = line.replace("rego.metadata.rule()", &rule).replace("rego.metadata.chain()", &chain);
            }
        }
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values are what OPA (opa-golib-python-bindings 0.4.4) returns for the same module.
    const MODULE: &str = "# METADATA\n# title: pkg title\n# scope: package\npackage p\nimport rego.v1\n\n\
        # METADATA\n# title: My rule\n# description: desc\n# authors:\n# - John Doe <john@example.com>\n\
        # related_resources:\n# - https://example.com\n# custom:\n#   template: 'x %v'\n\
        r := rego.metadata.rule()\n\nc := rego.metadata.chain()\n\n\
        # METADATA\n# scope: document\n# title: doc scope\nd := rego.metadata.rule()\n\nn := rego.metadata.rule()\n";

    fn eval(text: &str, rule: &str) -> Value {
        let mut e = regorus::Engine::new();
        e.add_policy("p.rego".into(), inline(text).expect("rewritten")).expect("compiles");
        let v = e.eval_rule(format!("data.p.{rule}")).expect("evaluates");
        serde_json::from_str(&v.to_json_str().expect("json")).expect("json")
    }

    #[test]
    fn rule_and_chain_match_opa() {
        assert_eq!(
            eval(MODULE, "r"),
            json!({"authors": [{"email": "john@example.com", "name": "John Doe"}], "custom": {"template": "x %v"},
                "description": "desc", "related_resources": [{"ref": "https://example.com"}], "scope": "rule",
                "title": "My rule"})
        );
        assert_eq!(
            eval(MODULE, "c"),
            json!([{"path": ["p", "c"]}, {"annotations": {"scope": "package", "title": "pkg title"}, "path": ["p"]}])
        );
        assert_eq!(eval(MODULE, "d"), json!({}));
        assert_eq!(eval(MODULE, "n"), json!({}));
        assert_eq!(
            rule_annotations(MODULE, "d").and_then(|v| v.get("title").cloned()),
            Some(json!("doc scope"))
        );
        // Lines do not move.
        assert_eq!(inline(MODULE).expect("rewritten").lines().count(), MODULE.lines().count());
        assert!(inline("package p\nx := 1\n").is_none());
    }

    #[test]
    fn decisions_get_title_description_and_custom() {
        let a = rule_annotations(MODULE, "r").expect("annotated");
        assert_eq!(
            decision_fields(&a),
            Some(json!({"title": "My rule", "description": "desc", "custom": {"template": "x %v"}}))
        );
    }
}
