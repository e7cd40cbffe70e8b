//! The runner for Kyverno CLI test files (`kyverno-test.yaml`, kind `Test` of cli.kyverno.io): for each
//! result entry and each resource it names, evaluate the named policy (and rule) on the resource with the
//! test's context and compare `pass`/`fail`/`skip`/`warn`/`error` with the expectation.
//!
//! Supported test inputs: `policies`, `resources`, `exceptions`, `paramResources`, `variables` (a
//! `Values` file: `namespaceSelector` labels, `globalValues`, per-policy/rule/resource `values`), inline
//! `values`, `userinfo`, `jsonPayloads` (a result names the payload file as its resource),
//! `clusterResources` (as data: ConfigMaps for `context.configMap`). Results needing a live cluster or
//! registry (`context` files of CEL policies,
//! `apiCallResponses`, `globalContextEntries`, `envoyPayloads`, `httpPayloads`, `targetResources`,
//! mutate/generate results) and results whose policy did not load (an unsupported feature) are reported
//! skipped with the reason.

use crate::bundle::{Bundle, Compiled, Role};
use crate::engine::cel::outcome::{Explain, RuleStatus};
use crate::engine::cel::{self, Source};
use crate::engine::{
    Action, AdmissionContext, Budget, LoadError, Operation, Origin, SourceLocation, Subject, TestResult,
    UserInfo,
};
use palisade_checks::yaml;
use palisade_core::json::JsonPointer;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Test-file keys that name inputs Palisade does not emulate (a live cluster, network or registry).
const NEEDS_CLUSTER: &[&str] =
    &["apiCallResponses", "globalContextEntries", "envoyPayloads", "httpPayloads", "targetResources"];

/// Whether a document is a Kyverno CLI test.
pub fn is_test(doc: &Value) -> bool {
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    doc.get("kind").and_then(Value::as_str) == Some("Test")
        && doc.get("results").is_some()
        && (api.is_empty() || api.starts_with("cli.kyverno.io/") || api.starts_with("kyverno.io/"))
}

/// The documents of `rel` (relative to `dir`): from the bundle when it holds the file, else read from disk.
fn documents(bundle: &Bundle, dir: &Path, rel: &str) -> Result<Vec<(SourceLocation, Value)>, String> {
    let path = dir.join(rel);
    let canon = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    if let Some(f) = bundle.files.iter().find(|f| std::fs::canonicalize(&f.path).is_ok_and(|c| c == canon)) {
        return Ok(f.documents.iter().map(|d| (f.at(d.line, 0), d.value.clone())).collect());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut out = Vec::new();
    for doc in yaml::load_all(&text) {
        match doc {
            Ok(node) => {
                let value = node.to_json();
                if !value.is_null() {
                    out.push((
                        SourceLocation { path: path.clone(), line: node.line as usize, column: 0 },
                        value,
                    ));
                }
            }
            Err(e) => return Err(format!("{}:{}: {}", path.display(), e.line, e.message)),
        }
    }
    Ok(out)
}

fn names(v: &Value, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// What a test supplies besides policies and resources.
#[derive(Default)]
struct TestContext {
    namespace_labels: BTreeMap<String, Value>,
    user: UserInfo,
    /// `roles` and `clusterRoles` of the userinfo file.
    roles: Value,
    cluster_roles: Value,
    /// `values` documents (variables file and inline values), merged.
    values: Vec<Value>,
}

/// Run every Kyverno test of the bundle.
pub fn run(bundle: &Bundle, _compiled: &Compiled) -> Vec<TestResult> {
    let mut out = Vec::new();
    for (file, doc) in bundle.documents(Role::Test).chain(bundle.documents(Role::Data)) {
        if is_test(&doc.value) {
            out.extend(run_test(bundle, &file.path, &doc.value));
        }
    }
    out
}

fn skipped(suite: &Path, name: String, message: String) -> TestResult {
    TestResult { suite: suite.to_path_buf(), name, passed: false, message, skipped: true }
}

/// Run one test document read from `path`.
pub fn run_test(bundle: &Bundle, path: &Path, test: &Value) -> Vec<TestResult> {
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    let mut results = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let load = |key: &str, problems: &mut Vec<String>| -> Vec<(SourceLocation, Value)> {
        let mut docs = Vec::new();
        for rel in names(test, key) {
            match documents(bundle, &dir, &rel) {
                Ok(d) => docs.extend(d),
                Err(e) => problems.push(e),
            }
        }
        docs
    };
    let mut policy_docs = load("policies", &mut problems);
    policy_docs.extend(load("exceptions", &mut problems));
    let resources = load("resources", &mut problems);
    // JSON payloads (ValidatingPolicy in JSON mode) are named by their file in results.
    let mut payloads: Vec<(String, Value)> = Vec::new();
    for rel in names(test, "jsonPayloads") {
        match documents(bundle, &dir, &rel) {
            Ok(docs) => payloads.extend(docs.into_iter().map(|(_, v)| (rel.clone(), v))),
            Err(e) => problems.push(e),
        }
    }
    let mut params: Vec<Value> = load("paramResources", &mut problems).into_iter().map(|(_, v)| v).collect();
    // Objects of the cluster supplied as files: ConfigMaps for `context.configMap` entries.
    // A `ClusterResource` document wraps them in `spec.resources`; a `List` in `items`.
    for (_, v) in load("clusterResources", &mut problems) {
        match v.at("/spec/resources").or_else(|| v.get("items")).and_then(Value::as_array) {
            Some(items) => params.extend(items.iter().cloned()),
            None => params.push(v),
        }
    }
    let mut ctx = TestContext::default();
    for (_, v) in load("variables", &mut problems) {
        ctx.values.push(v);
    }
    if let Some(v) = test.get("values") {
        ctx.values.push(v.clone());
    }
    for v in &ctx.values {
        for ns in v.get("namespaceSelector").and_then(Value::as_array).into_iter().flatten() {
            if let Some(name) = ns.get("name").and_then(Value::as_str) {
                ctx.namespace_labels.insert(name.to_string(), ns.get("labels").cloned().unwrap_or(json!({})));
            }
        }
    }
    for (_, u) in load("userinfo", &mut problems) {
        let info = u.get("userInfo").cloned().unwrap_or(Value::Null);
        ctx.user.username = info.get("username").and_then(Value::as_str).unwrap_or("").to_string();
        ctx.user.uid = info.get("uid").and_then(Value::as_str).unwrap_or("").to_string();
        ctx.user.groups = names(&info, "groups");
        ctx.roles = json!(names(&u, "roles"));
        ctx.cluster_roles = json!(names(&u, "clusterRoles"));
    }
    let mut load_errors: Vec<LoadError> = Vec::new();
    let policies = compile(&policy_docs, &params, &mut load_errors);
    let needs_cluster: Vec<&str> = NEEDS_CLUSTER.iter().copied().filter(|k| test.get(*k).is_some()).collect();
    let cel_context = test.get("context").is_some();
    let budget = Budget::default();

    for (ri, r) in test.get("results").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let policy_name = r.get("policy").and_then(Value::as_str).unwrap_or("");
        let rule = r.get("rule").and_then(Value::as_str).unwrap_or("");
        let kind = r.get("kind").and_then(Value::as_str).unwrap_or("");
        let expected = r.get("result").and_then(Value::as_str).unwrap_or("");
        let mut res_names = names(r, "resources");
        if res_names.is_empty() {
            res_names = names(r, "resource");
        }
        for res in res_names {
            let name = format!("{policy_name}/{rule}/{kind}/{res}#{ri}");
            if !problems.is_empty() {
                results.push(TestResult {
                    suite: path.to_path_buf(),
                    name,
                    passed: false,
                    message: problems.join("; "),
                    skipped: false,
                });
                continue;
            }
            if let Some(k) = needs_cluster.first() {
                results.push(skipped(
                    path,
                    name,
                    format!("needs `{k}` (a live cluster, network or registry)"),
                ));
                continue;
            }
            if [
                "patchedResource",
                "patchedResources",
                "generatedResource",
                "generatedResources",
                "cloneSourceResource",
            ]
            .iter()
            .any(|k| r.get(*k).is_some())
            {
                results.push(skipped(
                    path,
                    name,
                    "mutate/generate result: Palisade runs validate rules only".into(),
                ));
                continue;
            }
            let (ns_want, res_name) = match res.split_once('/') {
                Some((ns, n)) => (Some(ns.to_string()), n.to_string()),
                None => (r.get("namespace").and_then(Value::as_str).map(str::to_owned), res.clone()),
            };
            let Some(policy) = find_policy(&policies, policy_name) else {
                let why = load_errors
                    .iter()
                    .find(|e| e.message.contains(policy_name.rsplit('/').next().unwrap_or(policy_name)))
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| format!("policy {policy_name:?} is not in the test's policies"));
                let unsupported = load_errors.iter().any(|e| {
                    e.unsupported && e.message.contains(policy_name.rsplit('/').next().unwrap_or(policy_name))
                });
                results.push(TestResult {
                    suite: path.to_path_buf(),
                    name,
                    passed: false,
                    message: why,
                    skipped: unsupported,
                });
                continue;
            };
            if cel_context && policy.kind() != "ClusterPolicy" && policy.kind() != "Policy" {
                results.push(skipped(
                    path,
                    name,
                    "needs the test's `context` file (CEL resource lookups)".into(),
                ));
                continue;
            }
            if let Some((_, payload)) = payloads.iter().find(|(rel, _)| *rel == res) {
                let mut subject = Subject::object(payload.clone(), Origin::default());
                subject.kind = crate::engine::SubjectKind::Document;
                let (got, detail) = outcome(policy, rule, &subject, &budget, &BTreeMap::new());
                let passed = got == expected;
                let message =
                    if passed { String::new() } else { format!("expected {expected}, got {got}{detail}") };
                results.push(TestResult { suite: path.to_path_buf(), name, passed, message, skipped: false });
                continue;
            }
            let object = resources.iter().map(|(_, v)| v).find(|v| {
                v.get("kind").and_then(Value::as_str) == Some(kind)
                    && v.at("/metadata/name").and_then(Value::as_str) == Some(res_name.as_str())
                    && ns_want.as_deref().is_none_or(|ns| {
                        v.at("/metadata/namespace").and_then(Value::as_str).unwrap_or("default") == ns
                    })
            });
            let Some(object) = object else {
                results.push(TestResult {
                    suite: path.to_path_buf(),
                    name,
                    passed: false,
                    message: format!("resource {kind}/{res} is not in the test's resources"),
                    skipped: false,
                });
                continue;
            };
            let values = values_for(&ctx, policy.name(), rule, &res_name);
            let op_name = r
                .get("operation")
                .and_then(Value::as_str)
                .or_else(|| values.get("request.operation").and_then(Value::as_str));
            let operation = match op_name {
                Some("UPDATE") => Operation::Update,
                Some("DELETE") => Operation::Delete,
                Some("CONNECT") => Operation::Connect,
                _ => Operation::Create,
            };
            // Values may override fields of the object itself (`request.object.metadata.labels.x`).
            let mut object = object.clone();
            for (k, v) in &values {
                if let Some(rest) = k.strip_prefix("request.object.") {
                    super::variables::set_path(&mut object, rest, v.clone());
                }
            }
            let mut subject = subject(&object, operation, &ctx);
            if let Some((parent, sub)) = parent_of(kind, &ctx) {
                subject.admission.sub_resource = Some(sub);
                subject.admission.request = Some(json!({"kind": {"kind": parent}}));
            }
            let got = outcome(policy, rule, &subject, &budget, &values);
            if got.0 == "error" && got.1.contains("needs a live cluster") {
                results.push(skipped(path, name, got.1.trim().trim_matches(['(', ')']).to_string()));
                continue;
            }
            if got.0 == "missing-rule" {
                let why = load_errors.iter().find(|e| e.message.contains(&format!("rule {rule}:")));
                results.push(TestResult {
                    suite: path.to_path_buf(),
                    name,
                    passed: false,
                    message: why
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| format!("policy {policy_name:?} has no rule {rule:?}")),
                    skipped: why.is_some_and(|e| e.unsupported),
                });
                continue;
            }
            let passed = got.0 == expected;
            let message =
                if passed { String::new() } else { format!("expected {expected}, got {}{}", got.0, got.1) };
            results.push(TestResult { suite: path.to_path_buf(), name, passed, message, skipped: false });
        }
    }
    results
}

/// Compile the test's policy documents with every engine that has a per-rule view.
fn compile(
    docs: &[(SourceLocation, Value)],
    data: &[Value],
    errors: &mut Vec<LoadError>,
) -> Vec<Box<dyn Explain>> {
    let is_cel = |v: &Value| {
        let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        api.starts_with("admissionregistration.k8s.io/") || api.starts_with("policies.kyverno.io/")
    };
    let cel_docs: Vec<Source> = docs
        .iter()
        .filter(|(_, v)| is_cel(v))
        .map(|(l, v)| Source { location: l.clone(), value: v, node: None })
        .collect();
    let mut out = cel::compile(&cel_docs, data, errors);
    // verifyImages rules check signatures in a live registry: test files run without one, so those rules
    // are left out and reported as unsupported (their results are skipped with that reason).
    let kyverno_values: Vec<(SourceLocation, Value)> = docs
        .iter()
        .filter(|(_, v)| !is_cel(v))
        .map(|(l, v)| {
            let mut v = v.clone();
            if let Some(rules) = v.pointer_mut("/spec/rules").and_then(Value::as_array_mut) {
                rules.retain(|r| {
                    if r.get("verifyImages").is_none() {
                        return true;
                    }
                    let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                    errors.push(LoadError {
                        location: l.clone(),
                        message: format!(
                            "rule {name}: verifyImages rules need a live registry; Kyverno test files do not run them"
                        ),
                        unsupported: true,
                    });
                    false
                });
            }
            (l.clone(), v)
        })
        .collect();
    let kyverno_docs: Vec<Source> =
        kyverno_values.iter().map(|(l, v)| Source { location: l.clone(), value: v, node: None }).collect();
    out.extend(super::compile(&kyverno_docs, data, errors));
    out
}

/// The policy a result names: `name`, or `namespace/name` for a namespaced Policy.
fn find_policy<'a>(policies: &'a [Box<dyn Explain>], name: &str) -> Option<&'a dyn Explain> {
    let found = policies.iter().find(|p| p.name() == name).or_else(|| {
        let (_, short) = name.split_once('/')?;
        policies.iter().find(|p| p.name() == short)
    });
    found.map(|p| p.as_ref())
}

/// The subject for a test resource: its namespace (default `default`) with the labels the values file
/// gives, the test's user, the result's operation.
fn subject(object: &Value, operation: Operation, ctx: &TestContext) -> Subject {
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let namespace_object = if cel::matching::is_cluster_scoped(kind) {
        None
    } else {
        let ns = object.at("/metadata/namespace").and_then(Value::as_str).unwrap_or("default");
        let labels = ctx.namespace_labels.get(ns).cloned().unwrap_or(json!({}));
        Some(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}))
    };
    let (value, old_object) = if operation == Operation::Delete {
        (Value::Null, Some(object.clone()))
    } else {
        (object.clone(), None)
    };
    let mut subject = Subject::object(value, Origin::default());
    subject.admission = AdmissionContext {
        operation,
        old_object,
        namespace_object,
        user_info: ctx.user.clone(),
        request: None,
        ..AdmissionContext::default()
    };
    subject
}

/// The parent kind and subresource of a subresource kind: `PodExecOptions` is `Pod/exec`; others come
/// from the values file's `subresources` list (`Scale` of `Deployment` is `deployments/scale`).
fn parent_of(kind: &str, ctx: &TestContext) -> Option<(String, String)> {
    match kind {
        "PodExecOptions" => return Some(("Pod".into(), "exec".into())),
        "PodAttachOptions" => return Some(("Pod".into(), "attach".into())),
        "PodPortForwardOptions" => return Some(("Pod".into(), "portforward".into())),
        "Eviction" => return Some(("Pod".into(), "eviction".into())),
        _ => {}
    }
    ctx.values
        .iter()
        .flat_map(|v| v.get("subresources").and_then(Value::as_array).cloned().unwrap_or_default())
        .find_map(|s| {
            (s.at("/subresource/kind").and_then(Value::as_str) == Some(kind)).then(|| {
                let parent = s.at("/parentResource/kind").and_then(Value::as_str).unwrap_or("").to_string();
                let name = s.at("/subresource/name").and_then(Value::as_str).unwrap_or("");
                (parent, name.rsplit('/').next().unwrap_or(name).to_string())
            })
        })
}

/// The flat variable values a `Values` document gives one policy, rule and resource: `globalValues`, then
/// the policy's resource values, then its rule values.
fn values_for(ctx: &TestContext, policy: &str, rule: &str, resource: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if !ctx.roles.is_null() {
        out.insert("request.roles".to_string(), ctx.roles.clone());
        out.insert("request.clusterRoles".to_string(), ctx.cluster_roles.clone());
    }
    let mut add = |v: Option<&Value>| {
        for (k, v) in v.and_then(Value::as_object).into_iter().flatten() {
            out.insert(k.clone(), v.clone());
        }
    };
    for values in &ctx.values {
        add(values.get("globalValues"));
        for p in values.get("policies").and_then(Value::as_array).into_iter().flatten() {
            if p.get("name").and_then(Value::as_str) != Some(policy) {
                continue;
            }
            for r in p.get("resources").and_then(Value::as_array).into_iter().flatten() {
                if r.get("name").and_then(Value::as_str) == Some(resource) {
                    add(r.get("values"));
                }
            }
            for r in p.get("rules").and_then(Value::as_array).into_iter().flatten() {
                if rule.is_empty() || r.get("name").and_then(Value::as_str) == Some(rule) {
                    add(r.get("values"));
                }
            }
        }
    }
    out
}

/// `pass`, `fail`, `warn` (every violation has action `Warn`), `skip` or `error` for `rule` of `policy`
/// (the whole policy when `rule` is empty), with the error's message.
fn outcome(
    policy: &dyn Explain,
    rule: &str,
    subject: &Subject,
    budget: &Budget,
    values: &BTreeMap<String, Value>,
) -> (&'static str, String) {
    let outcomes = policy.explain_with(subject, budget, values);
    let selected: Vec<_> = outcomes
        .iter()
        .filter(|o| {
            rule.is_empty()
                || o.rule.is_empty()
                || o.rule == rule
                || o.rule
                    .strip_prefix("autogen-")
                    .is_some_and(|r| r == rule || r.strip_prefix("cronjob-") == Some(rule))
        })
        .collect();
    if selected.is_empty() {
        return ("missing-rule", String::new());
    }
    let mut got = "skip";
    let mut detail = String::new();
    for o in selected {
        let this = match &o.status {
            RuleStatus::Error(d) => {
                detail = format!(" ({})", d.message);
                "error"
            }
            RuleStatus::Fail(ds) if ds.iter().all(|d| d.action == Action::Warn) => "warn",
            RuleStatus::Fail(_) => "fail",
            RuleStatus::Pass => "pass",
            RuleStatus::Skip => "skip",
        };
        let rank = |s: &str| match s {
            "error" => 4,
            "fail" | "warn" => 3,
            "pass" => 2,
            _ => 1,
        };
        if rank(this) > rank(got) {
            got = this;
        }
    }
    (got, detail)
}
