//! A compiled Kyverno `ClusterPolicy`/`Policy`: its validate rules (pattern, anyPattern, deny, foreach,
//! cel), with match/exclude, preconditions, context entries, the failure action, auto-generated rules for
//! Pod controllers (see [`super::autogen`]) and the PolicyExceptions that apply to it.

use super::conditions;
use super::exception::Exception;
use super::pattern::{self, Mismatch};
use super::select::Selection;
use super::variables::{self, set_path, substitute};
use crate::engine::cel::matching::{Gvk, is_cluster_scoped, namespace_of, operation_name, request_object};
use crate::engine::cel::outcome::{Explain, RuleOutcome, RuleStatus, decisions};
use crate::engine::cel::program::{CelProgram, ProgramResult};
use crate::engine::{
    Action, Budget, Decision, Language, Outcome, Policy, SourceLocation, Subject, SubjectKind,
};
use palisade_core::json::JsonPointer;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a validate rule checks.
#[derive(Debug)]
pub enum Check {
    Pattern(Value),
    AnyPattern(Vec<Value>),
    Deny(Value),
    Foreach(Vec<Value>),
    Cel(CelProgram),
    PodSecurity(super::pod_security::PodSecurity),
    VerifyImages(super::verify_images::VerifyImages),
}

/// Where an auto-generated rule finds the Pod template in its controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodView {
    /// The object itself.
    Object,
    /// `spec.template` (Deployment, StatefulSet, DaemonSet, Job, ReplicaSet, ReplicationController).
    Template,
    /// `spec.jobTemplate.spec.template` (CronJob).
    CronJob,
}

/// One validate rule.
#[derive(Debug)]
pub struct Rule {
    pub name: String,
    pub match_: Selection,
    pub exclude: Selection,
    pub preconditions: Value,
    /// `celPreconditions`, as CEL match conditions.
    pub cel_preconditions: Option<Arc<CelProgram>>,
    pub context: Vec<Value>,
    pub check: Arc<Check>,
    pub message: String,
    pub action: Action,
    pub view: PodView,
}

/// A compiled policy.
#[derive(Debug)]
pub struct KyvernoPolicy {
    pub name: String,
    pub kind: String,
    /// The namespace of a namespaced `Policy`.
    pub namespace: Option<String>,
    pub source: SourceLocation,
    pub rules: Vec<Rule>,
    pub exceptions: Vec<Arc<Exception>>,
    /// ConfigMaps supplied as files, for `context.configMap` entries.
    pub config_maps: Arc<Vec<Value>>,
}

/// The Pod a rule sees in `object`, per view.
pub fn pod_view(object: &Value, view: PodView) -> Option<Value> {
    let empty = json!({});
    let template = match view {
        PodView::Object => return Some(object.clone()),
        PodView::Template => object.at("/spec/template").unwrap_or(&empty),
        PodView::CronJob => object.at("/spec/jobTemplate/spec/template").unwrap_or(&empty),
    };
    let mut metadata = template.get("metadata").cloned().unwrap_or(json!({}));
    if let (Some(ns), Some(m)) = (object.at("/metadata/namespace"), metadata.as_object_mut()) {
        m.entry("namespace").or_insert(ns.clone());
    }
    Some(
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template.get("spec").cloned().unwrap_or(json!({}))}),
    )
}

/// The JMESPath context of a rule: `request`, service account names, and supplied values.
pub fn context_data(subject: &Subject, object: &Value, values: &BTreeMap<String, Value>) -> Value {
    let a = &subject.admission;
    let real = request_object(subject);
    let gvk = Gvk::of(real);
    let mut request = json!({
        "operation": operation_name(a.operation),
        "object": if subject.value.is_null() { Value::Null } else { object.clone() },
        "oldObject": a.old_object.clone().unwrap_or(Value::Null),
        "userInfo": {"username": a.user_info.username, "groups": a.user_info.groups},
        "kind": {"group": gvk.group, "version": gvk.version, "kind": gvk.kind},
        "name": real.at("/metadata/name").cloned().unwrap_or(Value::Null),
        "roles": [],
        "clusterRoles": [],
        "dryRun": a.dry_run,
    });
    if !is_cluster_scoped(&gvk.kind) {
        request["namespace"] = json!(namespace_of(real).unwrap_or("default"));
    }
    let sa = a.user_info.username.strip_prefix("system:serviceaccount:").and_then(|s| s.split_once(':'));
    let mut data = json!({
        "request": request,
        "serviceAccountName": sa.map(|s| s.1).unwrap_or(""),
        "serviceAccountNamespace": sa.map(|s| s.0).unwrap_or(""),
    });
    if let Some(ns) = &a.namespace_object {
        data["namespaceObject"] = ns.clone();
    }
    data["images"] = images(object);
    for (k, v) in values {
        set_path(&mut data, k, v.clone());
    }
    data
}

/// One image reference split as Kyverno's `images` variable holds it.
pub fn image_info(reference: &str) -> Value {
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, d),
        None => (reference, ""),
    };
    let (rest, tag) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (&rest[..i], &rest[i + 1..]),
        _ => (rest, ""),
    };
    let (registry, path) = match rest.split_once('/') {
        Some((first, p)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (first, p.to_string())
        }
        _ => ("docker.io", rest.to_string()),
    };
    let tag = if tag.is_empty() && digest.is_empty() { "latest" } else { tag };
    let name = path.rsplit('/').next().unwrap_or(&path).to_string();
    json!({"registry": registry, "path": path, "name": name, "tag": tag, "digest": digest, "reference": reference})
}

/// Kyverno's `images` variable: `{containers|initContainers|ephemeralContainers: {name: image info}}` of a
/// Pod (or of a controller's Pod template).
pub fn images(object: &Value) -> Value {
    let spec = object
        .at("/spec/template/spec")
        .or_else(|| object.at("/spec/jobTemplate/spec/template/spec"))
        .or_else(|| object.get("spec"));
    let mut out = serde_json::Map::new();
    for key in ["containers", "initContainers", "ephemeralContainers"] {
        let mut m = serde_json::Map::new();
        for c in spec.and_then(|s| s.get(key)).and_then(Value::as_array).into_iter().flatten() {
            if let (Some(n), Some(i)) =
                (c.get("name").and_then(Value::as_str), c.get("image").and_then(Value::as_str))
            {
                m.insert(n.to_string(), image_info(i));
            }
        }
        if !m.is_empty() {
            out.insert(key.to_string(), Value::Object(m));
        }
    }
    Value::Object(out)
}

impl KyvernoPolicy {
    fn decision(&self, subject: &Subject, rule: &Rule, message: String, outcome: Outcome) -> Decision {
        Decision {
            language: Language::Kyverno,
            policy: self.name.clone(),
            rule: rule.name.clone(),
            object: subject.reference(),
            message,
            action: rule.action,
            outcome,
            source: Some(self.source.clone()),
            annotations: None,
        }
    }

    fn applies(&self, subject: &Subject) -> bool {
        if subject.kind != SubjectKind::KubernetesObject {
            return false;
        }
        match &self.namespace {
            Some(ns) => namespace_of(request_object(subject)).unwrap_or("default") == ns,
            None => true,
        }
    }

    /// Load the rule's context entries into `data`; `Err` when one needs a cluster or fails.
    fn load_context(
        &self,
        rule: &Rule,
        data: &mut Value,
        values: &BTreeMap<String, Value>,
    ) -> Result<(), String> {
        for entry in &rule.context {
            let name = entry.get("name").and_then(Value::as_str).unwrap_or("");
            if values.keys().any(|k| k == name || k.starts_with(&format!("{name}."))) {
                continue;
            }
            if let Some(var) = entry.get("variable") {
                let mut v = match var.get("value") {
                    Some(v) => substitute(v, data)?,
                    None => Value::Null,
                };
                if let Some(path) = var.get("jmesPath").and_then(Value::as_str) {
                    let path = variables::substitute_str(path, data)?;
                    let path = path.as_str().unwrap_or("");
                    let base = if var.get("value").is_some() { v.clone() } else { data.clone() };
                    v = variables::eval(path, &base).unwrap_or(Value::Null);
                }
                if v.is_null()
                    && let Some(d) = var.get("default")
                {
                    v = substitute(d, data)?;
                }
                set_path(data, name, v);
            } else if let Some(cm) = entry.get("configMap") {
                let cm = substitute(cm, data)?;
                let want = cm.get("name").and_then(Value::as_str).unwrap_or("");
                let ns = cm.get("namespace").and_then(Value::as_str).unwrap_or("default");
                let found = self.config_maps.iter().find(|c| {
                    c.at("/metadata/name").and_then(Value::as_str) == Some(want)
                        && c.at("/metadata/namespace").and_then(Value::as_str).unwrap_or("default") == ns
                });
                match found {
                    Some(c) => set_path(data, name, c.clone()),
                    None => return Err(format!("context {name:?}: ConfigMap {ns}/{want} was not supplied")),
                }
            } else {
                return Err(format!(
                    "context {name:?}: needs a live cluster (apiCall, imageRegistry or globalReference)"
                ));
            }
        }
        Ok(())
    }

    fn run_rule(
        &self,
        rule: &Rule,
        subject: &Subject,
        budget: &Budget,
        values: &BTreeMap<String, Value>,
    ) -> RuleStatus {
        let roles: Vec<String> = values
            .get("request.roles")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let cluster_roles: Vec<String> = values
            .get("request.clusterRoles")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if !rule.match_.matches(subject, None, &roles, &cluster_roles) {
            return RuleStatus::Skip;
        }
        if !rule.exclude.is_empty() && rule.exclude.matches(subject, None, &roles, &cluster_roles) {
            return RuleStatus::Skip;
        }
        let real = request_object(subject);
        let Some(object) = pod_view(real, rule.view) else { return RuleStatus::Skip };
        // The JMESPath context copies the object: built only for a rule that reads it (a `podSecurity`
        // rule with a plain message and no exceptions, context or preconditions does not).
        let reads_context = !self.exceptions.is_empty()
            || !rule.context.is_empty()
            || !rule.preconditions.is_null()
            || rule.message.contains("{{")
            || !matches!(*rule.check, Check::PodSecurity(_) | Check::VerifyImages(_) | Check::Cel(_));
        let mut data = if reads_context { context_data(subject, &object, values) } else { Value::Null };
        if self
            .exceptions
            .iter()
            .any(|e| e.exempts(&self.name, &rule.name, subject, &data, &roles, &cluster_roles))
        {
            return RuleStatus::Skip;
        }
        let error = |m: String| {
            RuleStatus::Error(Box::new(self.decision(
                subject,
                rule,
                format!("rule {}: {m}", rule.name),
                Outcome::Error,
            )))
        };
        if budget.expired() {
            return error("the evaluation deadline passed".into());
        }
        if let Err(e) = self.load_context(rule, &mut data, values) {
            return error(e);
        }
        match conditions::evaluate(&rule.preconditions, &data) {
            Ok(true) => {}
            Ok(false) => return RuleStatus::Skip,
            Err(e) => return error(format!("preconditions: {e}")),
        }
        let view_subject;
        let eval_subject = if rule.view == PodView::Object {
            subject
        } else {
            view_subject = Subject { value: object.clone(), ..subject.clone() };
            &view_subject
        };
        if let Some(p) = &rule.cel_preconditions {
            match p.evaluate(eval_subject, &Value::Null, budget) {
                ProgramResult::NotMatched => return RuleStatus::Skip,
                ProgramResult::Error(e) => return error(format!("celPreconditions: {e}")),
                ProgramResult::Evaluated { .. } => {}
            }
        }
        match self.check(&rule.check, &object, &data, eval_subject, budget) {
            Ok(Verdict::Pass) => RuleStatus::Pass,
            Ok(Verdict::Skip) => RuleStatus::Skip,
            Ok(Verdict::Fail(detail)) => {
                let message = substitute(&Value::String(rule.message.clone()), &data)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| rule.message.clone());
                let message = if message.is_empty() {
                    format!("validation failed: rule {} failed: {detail}", rule.name)
                } else {
                    format!("validation error: {message} rule {} failed: {detail}", rule.name)
                };
                RuleStatus::Fail(vec![self.decision(subject, rule, message, Outcome::Violation)])
            }
            Err(e) => error(e),
        }
    }

    fn check(
        &self,
        check: &Check,
        object: &Value,
        data: &Value,
        subject: &Subject,
        budget: &Budget,
    ) -> Result<Verdict, String> {
        match check {
            Check::Pattern(p) => {
                let p = substitute(p, data)?;
                Ok(match pattern::validate_rule(object, &p) {
                    Ok(()) => Verdict::Pass,
                    Err(Mismatch::Skip(_) | Mismatch::GlobalSkip(_)) => Verdict::Skip,
                    Err(Mismatch::Fail(m)) => Verdict::Fail(m),
                })
            }
            Check::AnyPattern(ps) => {
                let mut fails = Vec::new();
                let mut skipped = 0;
                for p in ps {
                    let p = substitute(p, data)?;
                    match pattern::validate_rule(object, &p) {
                        Ok(()) => return Ok(Verdict::Pass),
                        Err(Mismatch::Skip(_) | Mismatch::GlobalSkip(_)) => skipped += 1,
                        Err(Mismatch::Fail(m)) => fails.push(m),
                    }
                }
                Ok(if fails.is_empty() && skipped > 0 {
                    Verdict::Skip
                } else {
                    Verdict::Fail(fails.join("; "))
                })
            }
            Check::Deny(c) => Ok(if conditions::evaluate(c, data)? {
                Verdict::Fail(
                    conditions::first_message(c, data).unwrap_or_else(|| "the deny conditions hold".into()),
                )
            } else {
                Verdict::Pass
            }),
            Check::Foreach(list) => self.foreach(list, object, data, subject, budget),
            Check::PodSecurity(ps) => {
                let v = ps.violations(object)?;
                Ok(if v.is_empty() { Verdict::Pass } else { Verdict::Fail(v.join("; ")) })
            }
            Check::VerifyImages(vi) => {
                let v = vi.violations(object, budget.deadline)?;
                Ok(if v.is_empty() { Verdict::Pass } else { Verdict::Fail(v.join("; ")) })
            }
            Check::Cel(program) => Ok(match program.evaluate(subject, &Value::Null, budget) {
                ProgramResult::NotMatched => Verdict::Skip,
                ProgramResult::Evaluated { failures, .. } if failures.is_empty() => Verdict::Pass,
                ProgramResult::Evaluated { failures, .. } => {
                    Verdict::Fail(failures.into_iter().map(|f| f.message).collect::<Vec<_>>().join("; "))
                }
                ProgramResult::Error(e) => return Err(e),
            }),
        }
    }

    fn foreach(
        &self,
        list: &[Value],
        object: &Value,
        data: &Value,
        subject: &Subject,
        budget: &Budget,
    ) -> Result<Verdict, String> {
        let mut applied = false;
        for fe in list {
            let expr = fe.get("list").and_then(Value::as_str).ok_or("foreach: missing `list`")?;
            let expr = variables::substitute_str(expr, data)?;
            let items = variables::eval(expr.as_str().unwrap_or(""), data)?;
            let items = match items {
                Value::Array(a) => a,
                Value::Null => Vec::new(),
                Value::Object(m) => m.into_iter().map(|(k, v)| json!({"key": k, "value": v})).collect(),
                other => vec![other],
            };
            for (i, item) in items.iter().enumerate() {
                if budget.expired() {
                    return Err("the evaluation deadline passed".into());
                }
                let mut d = data.clone();
                d["element"] = item.clone();
                d["elementIndex"] = json!(i);
                d["@"] = item.clone();
                if let Some(ctx) = fe.get("context").and_then(Value::as_array) {
                    let rule = Rule {
                        name: String::new(),
                        match_: Selection::default(),
                        exclude: Selection::default(),
                        preconditions: Value::Null,
                        cel_preconditions: None,
                        context: ctx.clone(),
                        check: Arc::new(Check::Deny(Value::Null)),
                        message: String::new(),
                        action: Action::Audit,
                        view: PodView::Object,
                    };
                    self.load_context(&rule, &mut d, &BTreeMap::new())?;
                }
                if !conditions::evaluate(fe.get("preconditions").unwrap_or(&Value::Null), &d)? {
                    continue;
                }
                let element_scope =
                    fe.get("elementScope").and_then(Value::as_bool).unwrap_or(item.is_object());
                if element_scope && !item.is_object() {
                    return Err(format!("foreach: elementScope is true but element {i} is not an object"));
                }
                let target = if element_scope { item } else { object };
                let check = if let Some(p) = fe.get("pattern") {
                    Check::Pattern(p.clone())
                } else if let Some(ps) = fe.get("anyPattern").and_then(Value::as_array) {
                    Check::AnyPattern(ps.clone())
                } else if let Some(deny) = fe.get("deny") {
                    Check::Deny(deny.get("conditions").cloned().unwrap_or(Value::Null))
                } else if let Some(nested) = fe.get("foreach").and_then(Value::as_array) {
                    Check::Foreach(nested.clone())
                } else {
                    return Err("foreach: no pattern, anyPattern, deny or foreach".into());
                };
                match self.check(&check, target, &d, subject, budget)? {
                    Verdict::Pass => applied = true,
                    Verdict::Skip => {}
                    Verdict::Fail(m) => return Ok(Verdict::Fail(format!("element {i}: {m}"))),
                }
            }
        }
        Ok(if applied { Verdict::Pass } else { Verdict::Skip })
    }

    /// Every rule's status, with supplied values.
    pub fn explain_values(
        &self,
        subject: &Subject,
        budget: &Budget,
        values: &BTreeMap<String, Value>,
    ) -> Vec<RuleOutcome> {
        let applies = self.applies(subject);
        self.rules
            .iter()
            .map(|r| RuleOutcome {
                rule: r.name.clone(),
                status: if applies { self.run_rule(r, subject, budget, values) } else { RuleStatus::Skip },
            })
            .collect()
    }
}

/// A check's result.
pub enum Verdict {
    Pass,
    Skip,
    Fail(String),
}

impl Explain for KyvernoPolicy {
    fn kind(&self) -> &str {
        &self.kind
    }
    fn explain(&self, subject: &Subject, budget: &Budget) -> Vec<RuleOutcome> {
        self.explain_values(subject, budget, &BTreeMap::new())
    }
    fn explain_with(
        &self,
        subject: &Subject,
        budget: &Budget,
        values: &BTreeMap<String, Value>,
    ) -> Vec<RuleOutcome> {
        self.explain_values(subject, budget, values)
    }
}

impl Policy for KyvernoPolicy {
    fn language(&self) -> Language {
        Language::Kyverno
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn selects(&self, subject: &Subject) -> bool {
        self.applies(subject) && self.rules.iter().any(|r| r.match_.matches(subject, None, &[], &[]))
    }
    fn evaluate(&self, subject: &Subject, budget: &Budget) -> Vec<Decision> {
        decisions(self.explain(subject, budget))
    }
}
