//! Gatekeeper: `ConstraintTemplate`s (Rego v0 by default, `code: [{engine: Rego, source: {version: v1}}]`
//! for v1; `libs` compiled with the template) and their constraints.
//!
//! Each (template, constraint) pair is one [`GatekeeperPolicy`] named `template/constraint`. Selection is
//! the constraint's `spec.match`: `kinds` (apiGroups × kinds, `*` wildcards), `scope` (`*`, `Cluster`,
//! `Namespaced`), `namespaces` and `excludedNamespaces` (with `prefix*` globs; cluster-scoped objects are
//! not filtered by them), `labelSelector`, `namespaceSelector` (labels of the subject's namespace object,
//! or of the Namespace itself) and `name`. Evaluation binds `input.review` (an `AdmissionRequest`: `kind`,
//! `name`, `namespace`, `operation`, `object`, `oldObject`, `userInfo`, `dryRun`) and `input.parameters`
//! (the constraint's `spec.parameters`), and reads `violation[{"msg": …}]`; each violation is one decision
//! with the constraint's `enforcementAction` (`deny` → [`Action::Deny`], `warn` → [`Action::Warn`],
//! `dryrun` → [`Action::Audit`]; `scoped` uses the first of `scopedEnforcementActions`).
//!
//! `data.inventory` (cluster state for referential templates) is built by [`inventory`] from Kubernetes
//! objects: in a bundle, those in files under a directory named `inventory/`; in gator suites, each case's
//! `inventory` files.

use super::rvm::Rvm;
use super::{EnginePool, Module, RegoVersion, VersionChoice, eval_path};
use crate::bundle::{Bundle, BundleFile, Document, Role};
use crate::engine::{
    Action, Budget, Decision, Language, LoadError, Outcome, Policy, SourceLocation, Subject, SubjectKind,
};
use palisade_core::json::JsonPointer;
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// A compiled ConstraintTemplate.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    pub kind: String,
    pub package: String,
    pub source: SourceLocation,
    pool: Arc<EnginePool>,
    /// `violation` compiled to the bytecode VM, when it compiles (else the interpreter runs it).
    rvm: Option<Arc<Rvm>>,
}

/// One constraint of a template.
#[derive(Debug)]
pub struct GatekeeperPolicy {
    name: String,
    template: Template,
    matcher: Match,
    parameters: Value,
    /// `parameters` converted for regorus once.
    rego_parameters: regorus::Value,
    action: Action,
    source: SourceLocation,
}

/// `spec.match` of a constraint.
#[derive(Debug, Clone, Default)]
pub struct Match {
    kinds: Vec<(Vec<String>, Vec<String>)>,
    scope: Option<String>,
    namespaces: Vec<String>,
    excluded_namespaces: Vec<String>,
    label_selector: Option<Value>,
    namespace_selector: Option<Value>,
    name: Option<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// The Rego source, libraries and version of a template's first Rego target.
fn template_code(spec: &Value) -> Option<(String, Vec<String>, RegoVersion)> {
    let target = spec.at("/targets/0")?;
    if let Some(code) = target.get("code").and_then(Value::as_array) {
        for c in code {
            if c.get("engine").and_then(Value::as_str) == Some("Rego")
                && let Some(src) = c.get("source")
                && let Some(rego) = src.get("rego").and_then(Value::as_str)
            {
                let v = if src.get("version").and_then(Value::as_str) == Some("v1") {
                    RegoVersion::V1
                } else {
                    RegoVersion::V0
                };
                return Some((rego.to_string(), strings(src.get("libs")), v));
            }
        }
    }
    let rego = target.get("rego").and_then(Value::as_str)?;
    Some((rego.to_string(), strings(target.get("libs")), RegoVersion::V0))
}

/// The line where the template's Rego text starts in its file (a best guess: the line after `rego:`).
fn rego_line(file: &BundleFile, doc: &Document) -> usize {
    let from = doc.line.saturating_sub(1);
    file.text
        .lines()
        .enumerate()
        .skip(from)
        .find(|(_, l)| l.trim_start().starts_with("rego:"))
        .map(|(i, _)| i + 2)
        .unwrap_or(doc.line)
}

/// Compile a ConstraintTemplate document with `data` (inventory) loaded.
pub fn compile_template(
    path: &std::path::Path,
    doc: &Value,
    rego_first_line: usize,
    data: Option<Value>,
    errors: &mut Vec<LoadError>,
) -> Option<Template> {
    let at = |message: String| LoadError {
        location: SourceLocation { path: path.to_path_buf(), line: rego_first_line, column: 0 },
        message,
        unsupported: false,
    };
    let name = doc.at("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
    let Some(spec) = doc.get("spec") else {
        errors.push(at(format!("ConstraintTemplate {name}: no spec")));
        return None;
    };
    let Some(kind) = spec.at("/crd/spec/names/kind").and_then(Value::as_str) else {
        errors.push(at(format!("ConstraintTemplate {name}: no spec.crd.spec.names.kind")));
        return None;
    };
    let Some((rego, libs, version)) = template_code(spec) else {
        errors.push(LoadError {
            unsupported: true,
            ..at(format!(
                "ConstraintTemplate {name}: no Rego target (CEL-only templates run with the CEL engine)"
            ))
        });
        return None;
    };
    let file = path.display().to_string();
    let mut modules = vec![Module { path: file.clone(), text: rego, line_offset: rego_first_line }];
    for (i, lib) in libs.into_iter().enumerate() {
        modules.push(Module { path: format!("{file} (lib {i})"), text: lib, line_offset: 1 });
    }
    let before = errors.len();
    let rvm_data = data.clone().map(regorus::Value::from);
    let (pool, loaded) = EnginePool::build(&modules, VersionChoice::Only(version), data, errors);
    if errors.len() > before || loaded.is_empty() {
        return None;
    }
    let package = super::package_of(pool.prototype()).into_iter().next().map(|(_, p)| p).unwrap_or_default();
    let rvm = Rvm::compile(pool.prototype(), &format!("data.{package}.violation"), rvm_data).map(Arc::new);
    Some(Template {
        name,
        kind: kind.to_string(),
        package,
        source: SourceLocation { path: path.to_path_buf(), line: rego_first_line, column: 0 },
        pool: Arc::new(pool),
        rvm,
    })
}

impl Template {
    /// Instantiate `constraint` (a document of kind [`Template::kind`]).
    pub fn constrain(&self, constraint: &Value, source: SourceLocation) -> GatekeeperPolicy {
        let cname = constraint.at("/metadata/name").and_then(Value::as_str).unwrap_or("");
        let spec = constraint.get("spec").cloned().unwrap_or(Value::Null);
        let m = spec.get("match").cloned().unwrap_or(Value::Null);
        let kinds = m
            .get("kinds")
            .and_then(Value::as_array)
            .map(|ks| ks.iter().map(|k| (strings(k.get("apiGroups")), strings(k.get("kinds")))).collect())
            .unwrap_or_default();
        let matcher = Match {
            kinds,
            scope: m.get("scope").and_then(Value::as_str).map(str::to_owned),
            namespaces: strings(m.get("namespaces")),
            excluded_namespaces: strings(m.get("excludedNamespaces")),
            label_selector: m.get("labelSelector").cloned(),
            namespace_selector: m.get("namespaceSelector").cloned(),
            name: m.get("name").and_then(Value::as_str).map(str::to_owned),
        };
        let action = match spec.get("enforcementAction").and_then(Value::as_str).unwrap_or("deny") {
            "warn" => Action::Warn,
            "dryrun" => Action::Audit,
            "scoped" => match spec.at("/scopedEnforcementActions/0/action").and_then(Value::as_str) {
                Some("warn") => Action::Warn,
                Some("dryrun") => Action::Audit,
                _ => Action::Deny,
            },
            _ => Action::Deny,
        };
        let parameters = spec.get("parameters").cloned().unwrap_or(Value::Object(Map::new()));
        GatekeeperPolicy {
            name: format!("{}/{cname}", self.name),
            template: self.clone(),
            matcher,
            rego_parameters: regorus::Value::from(parameters.clone()),
            parameters,
            action,
            source,
        }
    }
}

/// `data.inventory` from Kubernetes objects: `namespace[ns][apiVersion][kind][name]` for namespaced
/// objects, `cluster[apiVersion][kind][name]` for the others.
pub fn inventory<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Value {
    let mut inv = json!({"cluster": {}, "namespace": {}});
    for o in objects {
        let s = |p: &str| o.at(p).and_then(Value::as_str);
        let (Some(av), Some(kind), Some(name)) = (s("/apiVersion"), s("/kind"), s("/metadata/name")) else {
            continue;
        };
        let slot = match s("/metadata/namespace") {
            Some(ns) => &mut inv["namespace"][ns],
            None => &mut inv["cluster"],
        };
        if slot.is_null() {
            *slot = json!({});
        }
        let by_av = &mut slot[av];
        if by_av.is_null() {
            *by_av = json!({});
        }
        let by_kind = &mut by_av[kind];
        if by_kind.is_null() {
            *by_kind = json!({});
        }
        by_kind[name] = o.clone();
    }
    json!({"inventory": inv})
}

/// `prefix*` globs as Gatekeeper writes namespace lists.
fn ns_glob(pattern: &str, ns: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => ns.starts_with(prefix),
        None => pattern == ns,
    }
}

/// A Kubernetes label selector (`matchLabels`, `matchExpressions`) against `labels`.
pub fn selector_matches(selector: &Value, labels: &Map<String, Value>) -> bool {
    if let Some(ml) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            if labels.get(k) != Some(v) {
                return false;
            }
        }
    }
    for e in selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten() {
        let key = e.get("key").and_then(Value::as_str).unwrap_or("");
        let values = strings(e.get("values"));
        let have = labels.get(key).and_then(Value::as_str);
        let ok = match e.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" => have.is_some_and(|h| values.iter().any(|v| v == h)),
            "NotIn" => have.is_none_or(|h| !values.iter().any(|v| v == h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// The labels of an object (an empty map when it has none), borrowed: selectors run for every policy.
fn labels_of(v: Option<&Value>) -> &Map<String, Value> {
    static NONE: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    v.and_then(|o| o.at("/metadata/labels")).and_then(Value::as_object).unwrap_or(&NONE)
}

impl Match {
    fn selects(&self, subject: &Subject) -> bool {
        let o = &subject.value;
        let s = |p: &str| o.at(p).and_then(Value::as_str);
        let kind = s("/kind").unwrap_or("");
        let group = s("/apiVersion").and_then(|a| a.rsplit_once('/')).map(|(g, _)| g).unwrap_or("");
        if !self.kinds.is_empty()
            && !self.kinds.iter().any(|(groups, kinds)| {
                (groups.is_empty() || groups.iter().any(|g| g == "*" || g == group))
                    && (kinds.is_empty() || kinds.iter().any(|k| k == "*" || k == kind))
            })
        {
            return false;
        }
        let is_namespace = kind == "Namespace" && group.is_empty();
        let namespace = if is_namespace { s("/metadata/name") } else { s("/metadata/namespace") };
        let namespaced = s("/metadata/namespace").is_some();
        match self.scope.as_deref() {
            Some("Cluster") if namespaced => return false,
            Some("Namespaced") if !namespaced => return false,
            _ => {}
        }
        if let Some(ns) = namespace {
            if !self.namespaces.is_empty() && !self.namespaces.iter().any(|p| ns_glob(p, ns)) {
                return false;
            }
            if self.excluded_namespaces.iter().any(|p| ns_glob(p, ns)) {
                return false;
            }
        }
        if let Some(sel) = &self.label_selector
            && !selector_matches(sel, labels_of(Some(o)))
        {
            return false;
        }
        if let Some(sel) = &self.namespace_selector
            && namespace.is_some()
        {
            let ns_obj = if is_namespace { Some(o) } else { subject.admission.namespace_object.as_ref() };
            if !selector_matches(sel, labels_of(ns_obj)) {
                return false;
            }
        }
        if let Some(pattern) = &self.name {
            let name = s("/metadata/name").or_else(|| s("/metadata/generateName")).unwrap_or("");
            if !ns_glob(pattern, name) {
                return false;
            }
        }
        true
    }
}

/// `input.review` for a subject: its admission request when it came with one, else a CREATE of the object.
pub fn review(subject: &Subject) -> Value {
    let o = &subject.value;
    let s = |p: &str| o.at(p).and_then(Value::as_str).unwrap_or("");
    let (group, version) = match s("/apiVersion").rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", s("/apiVersion")),
    };
    let a = &subject.admission;
    let mut r = json!({
        "kind": {"group": group, "version": version, "kind": s("/kind")},
        "name": s("/metadata/name"),
        "operation": a.operation,
        "object": o,
        "userInfo": a.user_info,
        "dryRun": a.dry_run,
        "uid": subject.origin.request_uid.clone().unwrap_or_default(),
    });
    if let Some(ns) = o.at("/metadata/namespace") {
        r["namespace"] = ns.clone();
    }
    if let Some(old) = &a.old_object {
        r["oldObject"] = old.clone();
    }
    if let Some(sub) = &a.sub_resource {
        r["subResource"] = Value::String(sub.clone());
    }
    if let Some(Value::Object(req)) = &a.request {
        for (k, v) in req {
            if r.get(k).is_none() {
                r[k] = v.clone();
            }
        }
    }
    r
}

impl GatekeeperPolicy {
    /// Evaluate `violation` with this constraint's parameters; the violations' messages, or an error.
    pub fn violations(&self, subject: &Subject, budget: &Budget) -> Result<Vec<String>, String> {
        self.violations_with(subject, budget, None)
    }

    /// [`GatekeeperPolicy::violations`] with extra `data` (such as a test case's inventory) for this
    /// evaluation only.
    pub fn violations_with(
        &self,
        subject: &Subject,
        budget: &Budget,
        data: Option<&Value>,
    ) -> Result<Vec<String>, String> {
        if let (Some(rvm), None) = (&self.template.rvm, data) {
            // The review is converted once per subject and shared by every template that reads it.
            let review =
                subject.memo.rego_review.get_or_init(|| regorus::Value::from(review(subject))).clone();
            let input = regorus::Value::from(std::collections::BTreeMap::from([
                (regorus::Value::from("review"), review),
                (regorus::Value::from("parameters"), self.rego_parameters.clone()),
            ]));
            let v = rvm.eval(input, budget).map_err(|e| e.0)?;
            // A set serialises as a list, as the interpreter's answer does.
            let v = serde_json::to_value(&v).map_err(|e| format!("result is not JSON: {e}"))?;
            return Ok(messages(Some(v)));
        }
        let input = json!({"review": review(subject), "parameters": self.parameters});
        let path = format!("{}.violation", self.template.package);
        let v =
            self.template.pool.with_engine(input, data, budget, |e| eval_path(e, &path)).map_err(|e| e.0)?;
        Ok(messages(v))
    }
}

/// The `msg` of each violation in the value of a `violation` rule.
fn messages(v: Option<Value>) -> Vec<String> {
    let items = match v {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    items
        .iter()
        .map(|i| match i.get("msg") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        })
        .collect()
}

impl Policy for GatekeeperPolicy {
    fn language(&self) -> Language {
        Language::Rego
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn selects(&self, subject: &Subject) -> bool {
        subject.kind == SubjectKind::KubernetesObject && self.matcher.selects(subject)
    }
    fn evaluate(&self, subject: &Subject, budget: &Budget) -> Vec<Decision> {
        let result = self.violations(subject, budget);
        if matches!(&result, Ok(msgs) if msgs.is_empty()) {
            return Vec::new(); // most evaluations: no reference to build
        }
        let object = subject.reference();
        let decision = |message: String, action, outcome| Decision {
            language: Language::Rego,
            policy: self.name.clone(),
            rule: "violation".into(),
            object: object.clone(),
            message,
            action,
            outcome,
            source: Some(self.source.clone()),
            annotations: None,
        };
        match result {
            Ok(msgs) => msgs.into_iter().map(|m| decision(m, self.action, Outcome::Violation)).collect(),
            Err(e) => vec![decision(format!("evaluation failed: {e}"), Action::Deny, Outcome::Error)],
        }
    }
}

/// The Gatekeeper part of the Rego loader: every template of the bundle with its constraints;
/// `data.inventory` from the objects in files under an `inventory/` directory.
pub fn load(bundle: &Bundle, policies: &mut Vec<Box<dyn Policy>>, errors: &mut Vec<LoadError>) {
    let inv_objects: Vec<&Value> = bundle
        .documents(Role::Data)
        .filter(|(f, _)| f.rel.split('/').rev().skip(1).any(|c| c == "inventory"))
        .map(|(_, d)| &d.value)
        .collect();
    let data = if inv_objects.is_empty() { None } else { Some(inventory(inv_objects)) };
    let mut templates = Vec::new();
    for (file, doc) in bundle.documents(Role::Policy(Language::Rego)) {
        if doc.kind() == "ConstraintTemplate"
            && let Some(t) =
                compile_template(&file.path, &doc.value, rego_line(file, doc), data.clone(), errors)
        {
            templates.push(t);
        }
    }
    for (file, doc) in bundle.documents(Role::Policy(Language::Rego)) {
        if doc.group() != "constraints.gatekeeper.sh" {
            continue;
        }
        let at = file.at(doc.line, 1);
        match templates.iter().find(|t| t.kind == doc.kind()) {
            Some(t) => policies.push(Box::new(t.constrain(&doc.value, at))),
            None => errors.push(LoadError {
                location: at,
                message: format!(
                    "constraint {} of kind {}: no ConstraintTemplate in the bundle defines this kind",
                    doc.name(),
                    doc.kind()
                ),
                unsupported: false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Origin;

    const TEMPLATE: &str = r#"{"apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
      "metadata": {"name": "k8srequiredlabels"},
      "spec": {"crd": {"spec": {"names": {"kind": "K8sRequiredLabels"}}},
        "targets": [{"target": "admission.k8s.gatekeeper.sh", "rego": "package k8srequiredlabels\nviolation[{\"msg\": msg}] {\n  provided := {l | input.review.object.metadata.labels[l]}\n  required := {l | l := input.parameters.labels[_]}\n  missing := required - provided\n  count(missing) > 0\n  msg := sprintf(\"missing %v\", [missing])\n}\n"}]}}"#;

    fn constraint(m: Value, action: &str) -> Value {
        json!({"apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sRequiredLabels",
               "metadata": {"name": "need-owner"},
               "spec": {"match": m, "enforcementAction": action, "parameters": {"labels": ["owner"]}}})
    }

    fn pod(ns: &str, labels: Value) -> Subject {
        Subject::object(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns, "labels": labels}}),
            Origin::default(),
        )
    }

    #[test]
    fn template_constraint_match_and_violations() {
        let mut errors = Vec::new();
        let t = compile_template(
            "t.yaml".as_ref(),
            &serde_json::from_str(TEMPLATE).unwrap(),
            1,
            None,
            &mut errors,
        )
        .unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((t.kind.as_str(), t.package.as_str()), ("K8sRequiredLabels", "k8srequiredlabels"));
        let m = json!({"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}], "excludedNamespaces": ["kube-*"],
                       "labelSelector": {"matchExpressions": [{"key": "skip", "operator": "DoesNotExist"}]}});
        let p = t.constrain(&constraint(m, "warn"), SourceLocation::default());
        assert_eq!(p.name(), "k8srequiredlabels/need-owner");
        assert!(p.selects(&pod("default", json!({}))));
        assert!(!p.selects(&pod("kube-system", json!({}))));
        assert!(!p.selects(&pod("default", json!({"skip": "1"}))));
        let d = p.evaluate(&pod("default", json!({})), &Budget::default());
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].action, d[0].outcome), (Action::Warn, Outcome::Violation));
        assert!(d[0].message.contains("owner"), "{}", d[0].message);
        assert!(p.evaluate(&pod("default", json!({"owner": "me"})), &Budget::default()).is_empty());
    }

    #[test]
    fn inventory_shape() {
        let objs = [
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "a"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
        ];
        let inv = inventory(objs.iter());
        assert_eq!(inv["inventory"]["namespace"]["a"]["v1"]["Service"]["s"]["kind"], "Service");
        assert_eq!(inv["inventory"]["cluster"]["v1"]["Namespace"]["a"]["kind"], "Namespace");
    }
}
