//! Reading a live cluster for `palisade scan cluster` (no `--from`), with kube-rs: the kubeconfig's context,
//! discovery of the kinds the checks and the posture analysis read ([`KINDS`]; kinds the server does not
//! serve are skipped), then each kind listed page by page (`limit`/`continue`), every request bounded by
//! `--request-timeout` and the whole read by `--read-budget`. A kind the user may not list (403), that does
//! not answer in time or fails is a warning and is left out whole (half a kind would make relational checks
//! lie); progress goes to stderr.
//!
//! Every object becomes one pretty-printed JSON document of the one [`Dump`] the `--from` path loads, named
//! `cluster://<context>/<namespace>/<Kind>/<name>` (cluster-scoped objects without the namespace), so
//! everything after loading is one code path. `--save-dump DIR` writes the same texts under
//! `DIR/<namespace>/<Kind>/<name>.json`, so `--from DIR` reads back the same objects at the same lines.

use super::cluster::ClusterArgs;
use anyhow::{Context, Result, anyhow, bail};
use kube::Client;
use kube::api::ListParams;
use kube::config::{KubeConfigOptions, Kubeconfig};
use palisade_checks::dump::Dump;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The kinds read, by API group: what the manifest checks (workloads, Services, Ingresses,
/// NetworkPolicies, PodDisruptionBudgets, autoscalers, service accounts), the RBAC analysis and the cluster
/// checks (Nodes, Namespaces, webhooks) judge. Secrets and ConfigMaps are never read.
pub const KINDS: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "Pod"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("apps", "Deployment"),
    ("apps", "DaemonSet"),
    ("apps", "StatefulSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
];

/// What a live read produced.
pub struct LiveRead {
    /// The kubeconfig context read.
    pub context: String,
    pub dump: Dump,
    /// Each object's dump-relative path (`NS/Kind/name.json`, `Kind/name.json`) and text, as `--save-dump`
    /// writes them.
    pub texts: Vec<(String, String)>,
    /// Kinds skipped, forbidden, timed out or failed; the budget running out.
    pub warnings: Vec<String>,
}

/// A kind as the server serves it.
#[derive(Debug, Clone)]
struct Served {
    kind: &'static str,
    /// `v1`, `apps/v1`.
    api_version: String,
    /// `/api/v1` or `/apis/GROUP/VERSION`.
    base: String,
    plural: String,
    namespaced: bool,
}

/// The kubeconfig files, as kubectl finds them: `--kubeconfig`, else `$KUBECONFIG` (a path list), else
/// `~/.kube/config`.
fn kubeconfig_paths(given: Option<&Path>) -> Result<Vec<PathBuf>> {
    if let Some(p) = given {
        return Ok(vec![p.to_path_buf()]);
    }
    if let Some(v) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let paths: Vec<PathBuf> = std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect();
        if !paths.is_empty() {
            return Ok(paths);
        }
    }
    match std::env::var_os("HOME") {
        Some(home) => Ok(vec![Path::new(&home).join(".kube").join("config")]),
        None => bail!("no kubeconfig: give --kubeconfig FILE or set KUBECONFIG (or read a dump with --from)"),
    }
}

/// Read the cluster `args` names. Fails only when the kubeconfig, its context or the server cannot be used
/// at all; each kind that cannot be read is a warning.
pub fn read(args: &ClusterArgs, quiet: bool) -> Result<LiveRead> {
    // kube's TLS client takes the process's rustls provider: the one the workspace builds (aws-lc-rs).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let paths = kubeconfig_paths(args.kubeconfig.as_deref())?;
    let files = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":");
    let mut kubeconfig: Option<Kubeconfig> = None;
    for p in &paths {
        let one = Kubeconfig::read_from(p).map_err(|e| match e {
            kube::config::KubeconfigError::ReadConfig(io, _) => {
                anyhow!("{}: cannot read the kubeconfig: {io} (or read a dump with --from)", p.display())
            }
            // Parse errors carry a rendered snippet on more lines: the first line says it.
            e => anyhow!("{}: {}", p.display(), e.to_string().split('\n').next().unwrap_or_default()),
        })?;
        kubeconfig = Some(match kubeconfig {
            None => one,
            Some(k) => k.merge(one).map_err(|e| anyhow!("{files}: {e}"))?,
        });
    }
    let kubeconfig = kubeconfig.ok_or_else(|| anyhow!("no kubeconfig file"))?;
    let context = match args.context.clone().or_else(|| kubeconfig.current_context.clone()) {
        Some(c) => c,
        None => bail!("{files}: no current-context; give --context ({})", contexts(&kubeconfig)),
    };
    if !kubeconfig.contexts.iter().any(|c| c.name == context) {
        bail!("{files}: no context named {context:?} ({})", contexts(&kubeconfig));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let at = format!("{files}: context {context}");
    rt.block_on(read_async(kubeconfig, context, at, args, quiet))
}

fn contexts(k: &Kubeconfig) -> String {
    if k.contexts.is_empty() {
        return "it defines no contexts".into();
    }
    let names: Vec<&str> = k.contexts.iter().map(|c| c.name.as_str()).collect();
    format!("contexts: {}", names.join(", "))
}

/// A deadline for the whole read and a timeout for each request.
struct Clock {
    deadline: Instant,
    per_request: Duration,
}

enum Failed {
    /// The budget ran out before or during the request.
    Budget,
    /// The request took longer than `--request-timeout`.
    Timeout,
    Api(kube::Error),
}

impl Clock {
    async fn run<T>(&self, f: impl std::future::Future<Output = kube::Result<T>>) -> Result<T, Failed> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failed::Budget);
        }
        let limit = left.min(self.per_request);
        match tokio::time::timeout(limit, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Failed::Api(e)),
            Err(_) if limit < self.per_request => Err(Failed::Budget),
            Err(_) => Err(Failed::Timeout),
        }
    }
}

async fn read_async(
    kubeconfig: Kubeconfig,
    context: String,
    at: String,
    args: &ClusterArgs,
    quiet: bool,
) -> Result<LiveRead> {
    let say = |s: String| {
        if !quiet {
            eprintln!("{s}");
        }
    };
    let options = KubeConfigOptions { context: Some(context.clone()), cluster: None, user: None };
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &options).await.map_err(|e| anyhow!("{at}: {e}"))?;
    // Each whole request is bounded by `Clock::run`, which tells a slow kind from a failing one.
    config.connect_timeout = Some(args.request_timeout);
    config.read_timeout = None;
    config.write_timeout = None;
    let server = config.cluster_url.to_string();
    let client = Client::try_from(config).map_err(|e| anyhow!("{at}: server {server}: {e}"))?;
    let clock = Clock { deadline: Instant::now() + args.read_budget, per_request: args.request_timeout };
    let mut warnings = Vec::new();

    say(format!("reading {server} (context {context})"));
    let served = discover(&client, &clock, &mut warnings)
        .await
        .map_err(|e| anyhow!("{at}: cannot read the API of {server}: {e}"))?;

    let mut read = LiveRead { context: context.clone(), dump: Dump::default(), texts: Vec::new(), warnings };
    let namespaces: Vec<&str> = args.namespaces.iter().map(String::as_str).collect();
    for s in &served {
        let started = Instant::now();
        match list_kind(&client, &clock, s, &namespaces, args.page_size).await {
            Ok((items, pages)) => {
                let mut n = 0;
                for item in items {
                    if s.kind == "Namespace"
                        && !namespaces.is_empty()
                        && !namespaces.contains(&name_of(&item).as_str())
                    {
                        continue;
                    }
                    let (rel, text) = document(s, item);
                    read.dump.add_text(&format!("cluster://{context}/{}", rel.trim_end_matches(".json")), &text);
                    read.texts.push((rel, text));
                    n += 1;
                }
                say(format!(
                    "  {}: {n} objects ({pages} page{}, {:.1} s)",
                    s.kind,
                    if pages == 1 { "" } else { "s" },
                    started.elapsed().as_secs_f64()
                ));
            }
            Err(Failed::Budget) => {
                read.warnings.push(format!(
                    "{at}: the read budget ({} s) ran out at {}: it and the kinds after it were not read",
                    args.read_budget.as_secs(),
                    s.kind
                ));
                break;
            }
            Err(Failed::Timeout) => read.warnings.push(format!(
                "{at}: {} ({}): no answer within {} s (--request-timeout): not read",
                s.kind,
                s.api_version,
                args.request_timeout.as_secs_f64()
            )),
            Err(Failed::Api(e)) => read.warnings.push(match &e {
                kube::Error::Api(st) if st.code == 403 => format!(
                    "{at}: {} ({}): forbidden (403) for this user: not read, so nothing that needs it is judged",
                    s.kind, s.api_version
                ),
                _ => format!("{at}: {} ({}): not read: {}", s.kind, s.api_version, chain(&e)),
            }),
        }
    }
    Ok(read)
}

/// Which of [`KINDS`] the server serves, at the group's preferred version (another version when the
/// preferred one lacks the kind). A group version whose resources cannot be listed is a warning.
async fn discover(client: &Client, clock: &Clock, warnings: &mut Vec<String>) -> Result<Vec<Served>> {
    let failed = |f: Failed| match f {
        Failed::Budget => anyhow!("the read budget ran out"),
        Failed::Timeout => anyhow!("no answer within {} s", clock.per_request.as_secs_f64()),
        Failed::Api(e) => anyhow!("{}", chain(&e)),
    };
    let core = clock.run(client.list_core_api_versions()).await.map_err(failed)?;
    let groups = clock.run(client.list_api_groups()).await.map_err(failed)?;
    let mut served: Vec<Served> = Vec::new();
    let mut group_names: Vec<&str> = KINDS.iter().map(|(g, _)| *g).collect();
    group_names.dedup();
    for group in group_names {
        // Versions to look at, preferred first.
        let versions: Vec<String> = if group.is_empty() {
            let mut v = core.versions.clone();
            v.sort_by_key(|v| v != "v1");
            v
        } else {
            match groups.groups.iter().find(|g| g.name == group) {
                Some(g) => {
                    let preferred = g.preferred_version.as_ref().map(|p| p.group_version.clone());
                    let mut v: Vec<String> = g.versions.iter().map(|v| v.group_version.clone()).collect();
                    v.sort_by_key(|v| Some(v) != preferred.as_ref());
                    v
                }
                None => Vec::new(),
            }
        };
        for gv in versions {
            let wanted: Vec<&'static str> = KINDS
                .iter()
                .filter(|(g, k)| *g == group && !served.iter().any(|s| s.kind == *k))
                .map(|(_, k)| *k)
                .collect();
            if wanted.is_empty() {
                break;
            }
            let listed = if group.is_empty() {
                clock.run(client.list_core_api_resources(&gv)).await
            } else {
                clock.run(client.list_api_group_resources(&gv)).await
            };
            let resources = match listed {
                Ok(r) => r,
                Err(f) => {
                    warnings.push(format!("discovery of {gv}: {}", failed(f)));
                    continue;
                }
            };
            for kind in wanted {
                let found = resources
                    .resources
                    .iter()
                    .find(|r| r.kind == kind && !r.name.contains('/') && r.verbs.iter().any(|v| v == "list"));
                if let Some(r) = found {
                    let base = if group.is_empty() { format!("/api/{gv}") } else { format!("/apis/{gv}") };
                    served.push(Served {
                        kind,
                        api_version: gv.clone(),
                        base,
                        plural: r.name.clone(),
                        namespaced: r.namespaced,
                    });
                }
            }
        }
    }
    for (group, kind) in KINDS {
        if !served.iter().any(|s| s.kind == *kind) {
            let group = if group.is_empty() { "core" } else { group };
            warnings.push(format!("the server does not serve {kind} ({group} API group): skipped"));
        }
    }
    // Read in the order of KINDS.
    served.sort_by_key(|s| KINDS.iter().position(|(_, k)| *k == s.kind));
    Ok(served)
}

/// Every object of one kind (in `namespaces`, or all), page by page; and the number of pages.
async fn list_kind(
    client: &Client,
    clock: &Clock,
    s: &Served,
    namespaces: &[&str],
    page_size: u32,
) -> Result<(Vec<Value>, usize), Failed> {
    let urls: Vec<String> = if s.namespaced && !namespaces.is_empty() {
        namespaces.iter().map(|ns| format!("{}/namespaces/{ns}/{}", s.base, s.plural)).collect()
    } else {
        vec![format!("{}/{}", s.base, s.plural)]
    };
    let mut items = Vec::new();
    let mut pages = 0;
    for url in urls {
        let mut token: Option<String> = None;
        loop {
            let mut lp = ListParams::default().limit(page_size);
            if let Some(t) = &token {
                lp = lp.continue_token(t);
            }
            let request = kube::core::Request::new(&url)
                .list(&lp)
                .map_err(|e| Failed::Api(kube::Error::BuildRequest(e)))?;
            let page: Value = clock.run(client.request::<Value>(request)).await?;
            pages += 1;
            token = page
                .pointer("/metadata/continue")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if let Some(Value::Array(v)) = page.get("items") {
                items.extend(v.iter().cloned());
            }
            if token.is_none() {
                break;
            }
        }
    }
    Ok((items, pages))
}

/// An error and its causes (`client error (Connect): Connection refused`).
fn chain(e: &kube::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(c) = source {
        let c_text = c.to_string();
        if !s.contains(&c_text) {
            s.push_str(": ");
            s.push_str(&c_text);
        }
        source = c.source();
    }
    s
}

fn name_of(item: &Value) -> String {
    item.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string()
}

/// One object as a dump document: `apiVersion` and `kind` filled in (list items omit them),
/// `metadata.managedFields` dropped (as `kubectl get -o yaml` does); its relative path and its text.
fn document(s: &Served, mut item: Value) -> (String, String) {
    if let Value::Object(map) = &mut item {
        map.entry("apiVersion").or_insert_with(|| Value::String(s.api_version.clone()));
        map.entry("kind").or_insert_with(|| Value::String(s.kind.to_string()));
        if let Some(Value::Object(meta)) = map.get_mut("metadata") {
            meta.remove("managedFields");
        }
    }
    let name = path_part(&name_of(&item));
    let namespace = item.pointer("/metadata/namespace").and_then(Value::as_str).filter(|n| !n.is_empty());
    let rel = match namespace {
        Some(ns) => format!("{}/{}/{name}.json", path_part(ns), s.kind),
        None => format!("{}/{name}.json", s.kind),
    };
    let text = serde_json::to_string_pretty(&item).unwrap_or_default();
    (rel, text)
}

/// A name as one path component: Kubernetes names are DNS-like (RBAC names may hold `:`), but a hostile
/// server could send anything; `/`, NUL, leading dots and control characters become `_`.
fn path_part(s: &str) -> String {
    let mut out: String =
        s.chars().map(|c| if c == '/' || c == '\\' || c.is_control() { '_' } else { c }).collect();
    if out.is_empty() || out.starts_with('.') {
        out.insert(0, '_');
    }
    out
}

/// Write a live read under `dir` (`--save-dump`): one JSON file per object.
pub fn save(dir: &Path, texts: &[(String, String)]) -> Result<()> {
    for (rel, text) in texts {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_stay_one_path_component() {
        assert_eq!(path_part("system:controller:job"), "system:controller:job");
        assert_eq!(path_part("../etc"), "_.._etc");
        assert_eq!(path_part(".hidden"), "_.hidden");
        assert_eq!(path_part(""), "_");
    }

    #[test]
    fn list_items_get_their_kind_and_lose_managed_fields() {
        let s = Served {
            kind: "Deployment",
            api_version: "apps/v1".into(),
            base: "/apis/apps/v1".into(),
            plural: "deployments".into(),
            namespaced: true,
        };
        let item =
            serde_json::json!({"metadata": {"name": "web", "namespace": "shop", "managedFields": [{}]}});
        let (rel, text) = document(&s, item);
        assert_eq!(rel, "shop/Deployment/web.json");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["kind"], "Deployment");
        assert_eq!(v["apiVersion"], "apps/v1");
        assert!(v["metadata"].get("managedFields").is_none());
    }
}
