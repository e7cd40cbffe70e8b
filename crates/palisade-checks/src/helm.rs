//! Helm charts: found during a walk, rendered with a `helm` binary, checked as the objects they render to.
//!
//! A directory holding `Chart.yaml` is a chart. Its `templates/` are Go templates, not YAML, so they are
//! never parsed as manifests; `values*.yaml`, `Chart.yaml`, `Chart.lock`, `requirements.*`,
//! `values.schema.json`, `charts/` (subcharts, rendered with their parent) and `ci/` (chart-testing values)
//! are not Kubernetes objects either. Everything else under a chart (`crds/`, examples) is checked as usual.
//!
//! Rendering runs the one program Palisade ever starts on behalf of what it scans, so it is fenced in:
//!
//! - `helm template release-name CHART [--kube-version V]`: the chart's own `values.yaml`, no `--set`, no
//!   `--dependency-update` (missing dependencies make the render fail with a warning, they are never
//!   fetched), no DNS lookups (helm's default), no post-renderers;
//! - a cleared environment: `HOME`, every `HELM_*` config/cache/data/plugin path, `TMPDIR` and `KUBECONFIG`
//!   point into a private temporary directory that is deleted afterwards, so no user repository, registry
//!   credential, plugin or kubeconfig is visible; the proxy variables point at a closed local port, so any
//!   network access helm might attempt fails;
//! - the working directory is that temporary directory, stdin is closed;
//! - a time budget ([`RENDER_TIMEOUT`]) after which the process is killed, and an output cap
//!   ([`MAX_RENDER_OUTPUT`]) past which it is killed too; stderr is kept (capped) for the warning;
//! - a chart holding a symbolic link that leads outside the chart is not rendered (helm follows links).
//!
//! Findings point at the template file named by the `# Source: CHART/templates/x.yaml` comment helm
//! writes before each document. A finding's line is the template line when the rendered line occurs exactly
//! once in the template (`kind: Deployment`); otherwise the template line cannot be known (the value came
//! from `values.yaml` or a helper), and the finding gives the line within the document rendered from that
//! template and says so in its message.

use crate::ChecksError;
use crate::check::Hit;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longest a chart may take to render.
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(30);
/// Most rendered output accepted from one chart.
pub const MAX_RENDER_OUTPUT: usize = 32 << 20;
/// Most of helm's stderr kept for a warning.
const MAX_STDERR: usize = 16 << 10;
/// Most directory entries looked at when checking a chart for links leading out of it.
const MAX_CHART_ENTRIES: usize = 100_000;
/// Environment variable naming the helm binary.
pub const HELM_ENV: &str = "PALISADE_HELM";

/// Which `helm` renders charts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HelmBinary {
    /// `$PALISADE_HELM` when set, else `helm` on `PATH`, else none (charts are reported as not rendered).
    #[default]
    Discover,
    /// This binary (`--helm PATH`).
    Path(PathBuf),
    /// Never render charts.
    Disabled,
}

impl HelmBinary {
    /// The binary to run, if any. A path given explicitly (or in `$PALISADE_HELM`) that is not a file is an
    /// error; no helm on `PATH` is not.
    pub fn resolve(&self) -> Result<Option<PathBuf>, ChecksError> {
        // Absolute: helm runs in a temporary working directory.
        let explicit = |p: &Path, what: &str| {
            if p.is_file() {
                Ok(Some(std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())))
            } else {
                Err(ChecksError::Config(format!("{what} {}: no such file", p.display())))
            }
        };
        match self {
            HelmBinary::Disabled => Ok(None),
            HelmBinary::Path(p) => explicit(p, "--helm"),
            HelmBinary::Discover => match std::env::var_os(HELM_ENV).filter(|v| !v.is_empty()) {
                Some(v) => explicit(Path::new(&v), HELM_ENV),
                None => Ok(find_on_path("helm")),
            },
        }
    }
}

/// `name` in a directory of `$PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .and_then(|p| std::path::absolute(p).ok())
}

/// `--kube-version` for helm from a `k8s_version` option (`1.30`, `v1.30.2`); `None` for `latest`.
pub fn kube_version_arg(v: &str) -> Option<String> {
    let t = v.trim();
    let t = t.strip_prefix('v').unwrap_or(t);
    let parts: Vec<u32> = t.split('.').map(str::parse).collect::<Result<_, _>>().ok()?;
    match parts.as_slice() {
        [major, minor] => Some(format!("v{major}.{minor}.0")),
        [major, minor, patch] => Some(format!("v{major}.{minor}.{patch}")),
        _ => None,
    }
}

/// Is `rel`, a path relative to a chart's directory, a part of the chart that is not a manifest of its own
/// (see the module documentation)?
pub fn is_chart_part(rel: &str) -> bool {
    if let Some((dir, _)) = rel.split_once('/') {
        return matches!(dir, "templates" | "charts" | "ci");
    }
    matches!(
        rel,
        "Chart.yaml" | "Chart.lock" | "requirements.yaml" | "requirements.lock" | "values.schema.json"
    ) || (rel.starts_with("values") && (rel.ends_with(".yaml") || rel.ends_with(".yml")))
}

/// Could `path` be a chart part of a chart in some directory above it? Decided from the path alone, before
/// the walk has shown where the charts are.
pub fn maybe_chart_part(path: &str) -> bool {
    let mut rest = path;
    loop {
        if is_chart_part(rest) {
            return true;
        }
        match rest.split_once('/') {
            Some((_, r)) => rest = r,
            None => return false,
        }
    }
}

/// Why a chart was not rendered.
#[derive(Debug)]
pub enum RenderError {
    /// The temporary directory could not be made or helm could not be started.
    Start(String),
    /// Helm ran longer than the time budget.
    Timeout(Duration),
    /// Helm wrote more than the output cap.
    TooLarge(usize),
    /// Helm failed: exit status and its stderr.
    Failed { status: String, stderr: String },
    /// The output is not UTF-8.
    NotUtf8,
    /// A symbolic link in the chart leads out of it.
    LinkOut(PathBuf),
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderError::Start(e) => write!(f, "{e}"),
            RenderError::Timeout(d) => {
                write!(f, "helm did not finish within {} s and was stopped", d.as_secs())
            }
            RenderError::TooLarge(n) => write!(f, "helm's output exceeds {} MiB and was cut off", n >> 20),
            RenderError::Failed { status, stderr } => {
                // One line: helm's stderr lines joined, cut at about 1000 characters.
                let mut s =
                    stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" / ");
                if let Some((cut, _)) = s.char_indices().nth(1000) {
                    s.truncate(cut);
                    s.push_str(" ...");
                }
                if s.is_empty() { write!(f, "helm {status}") } else { write!(f, "helm {status}: {s}") }
            }
            RenderError::NotUtf8 => write!(f, "helm's output is not UTF-8"),
            RenderError::LinkOut(p) => {
                write!(
                    f,
                    "{} is a symbolic link leading outside the chart; charts with such links are not rendered",
                    p.display()
                )
            }
        }
    }
}

/// Runs `helm template` under the restrictions of the module documentation.
#[derive(Debug, Clone)]
pub struct Renderer {
    pub binary: PathBuf,
    /// `--kube-version`.
    pub kube_version: Option<String>,
    pub timeout: Duration,
    pub max_output: usize,
}

impl Renderer {
    pub fn new(binary: PathBuf, kube_version: Option<String>) -> Renderer {
        Renderer { binary, kube_version, timeout: RENDER_TIMEOUT, max_output: MAX_RENDER_OUTPUT }
    }

    /// Render the chart in `chart_dir` (on disk) to its multi-document YAML.
    pub fn render(&self, chart_dir: &Path) -> Result<String, RenderError> {
        let chart = chart_dir
            .canonicalize()
            .map_err(|e| RenderError::Start(format!("{}: {e}", chart_dir.display())))?;
        links_stay_inside(&chart)?;
        let home = tempfile::Builder::new()
            .prefix("palisade-helm-")
            .tempdir()
            .map_err(|e| RenderError::Start(format!("cannot make a temporary directory for helm: {e}")))?;
        let h = home.path();
        let mut cmd = Command::new(&self.binary);
        cmd.arg("template").arg("release-name").arg(&chart);
        if let Some(v) = &self.kube_version {
            cmd.arg("--kube-version").arg(v);
        }
        cmd.env_clear()
            .env("HOME", h)
            .env("TMPDIR", h)
            .env("KUBECONFIG", h.join("kubeconfig"))
            .env("HELM_CONFIG_HOME", h.join("config"))
            .env("HELM_CACHE_HOME", h.join("cache"))
            .env("HELM_DATA_HOME", h.join("data"))
            .env("HELM_PLUGINS", h.join("plugins"))
            .env("HELM_REGISTRY_CONFIG", h.join("registry.json"))
            .env("HELM_REPOSITORY_CONFIG", h.join("repositories.yaml"))
            .env("HELM_REPOSITORY_CACHE", h.join("repository"))
            .env("HELM_CONTENT_CACHE", h.join("content"));
        for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] {
            cmd.env(proxy, "http://127.0.0.1:9");
        }
        cmd.current_dir(h).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| RenderError::Start(format!("cannot run {}: {e}", self.binary.display())))?;
        let overflow = Arc::new(AtomicBool::new(false));
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let (cap, flag) = (self.max_output, overflow.clone());
        let out_reader =
            std::thread::spawn(move || stdout.map(|s| read_capped(s, cap, false, &flag)).unwrap_or_default());
        let err_flag = Arc::new(AtomicBool::new(false));
        let err_reader = std::thread::spawn(move || {
            stderr.map(|s| read_capped(s, MAX_STDERR, true, &err_flag)).unwrap_or_default()
        });
        let deadline = Instant::now() + self.timeout;
        let mut stopped = None;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) => {}
                Err(e) => {
                    stopped = Some(RenderError::Start(format!("waiting for helm: {e}")));
                    break None;
                }
            }
            if overflow.load(Ordering::Relaxed) {
                stopped = Some(RenderError::TooLarge(self.max_output));
                break None;
            }
            if Instant::now() >= deadline {
                stopped = Some(RenderError::Timeout(self.timeout));
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if status.is_none() {
            // Ours to stop: the child we started, by its handle.
            let _ = child.kill();
            let _ = child.wait();
        }
        let out = out_reader.join().unwrap_or_default();
        let err = err_reader.join().unwrap_or_default();
        if let Some(e) = stopped {
            return Err(e);
        }
        if overflow.load(Ordering::Relaxed) {
            return Err(RenderError::TooLarge(self.max_output));
        }
        match status {
            Some(s) if s.success() => String::from_utf8(out).map_err(|_| RenderError::NotUtf8),
            Some(s) => Err(RenderError::Failed {
                status: match s.code() {
                    Some(c) => format!("exited with status {c}"),
                    None => "was killed by a signal".to_string(),
                },
                stderr: String::from_utf8_lossy(&err).into_owned(),
            }),
            None => Err(RenderError::Start("helm stopped".into())),
        }
    }
}

/// Read at most `cap` bytes. Past the cap: set `overflow` and stop (`drain`: keep reading and discard, so
/// the writer never blocks on a full pipe).
fn read_capped(mut r: impl Read, cap: usize, drain: bool, overflow: &AtomicBool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => {
                let room = cap.saturating_sub(out.len());
                out.extend_from_slice(&buf[..n.min(room)]);
                if n > room {
                    overflow.store(true, Ordering::Relaxed);
                    if !drain {
                        return out;
                    }
                }
            }
        }
    }
}

/// Fail when a symbolic link under `root` (canonical) resolves outside it.
fn links_stay_inside(root: &Path) -> Result<(), RenderError> {
    let mut stack = vec![root.to_path_buf()];
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| RenderError::Start(format!("{}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_CHART_ENTRIES {
                return Err(RenderError::Start(format!("the chart has more than {MAX_CHART_ENTRIES} files")));
            }
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            if meta.file_type().is_symlink() {
                // A dangling link makes helm fail on its own; a link resolving outside is refused.
                if let Ok(target) = path.canonicalize()
                    && !target.starts_with(root)
                {
                    return Err(RenderError::LinkOut(path));
                }
            } else if meta.is_dir() {
                stack.push(path);
            }
        }
    }
    Ok(())
}

/// One document of helm's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedDoc {
    /// The template it came from, as helm names it: `CHART/templates/x.yaml` (empty when helm named none).
    pub source: String,
    /// The document, without its `---` and `# Source:` lines: line 1 is the first line after them.
    pub text: String,
}

/// Split `helm template` output into its documents.
pub fn split_rendered(out: &str) -> Vec<RenderedDoc> {
    let mut docs = Vec::new();
    let mut cur = RenderedDoc { source: String::new(), text: String::new() };
    let mut at_start = true;
    for line in out.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == "---" || bare.starts_with("--- ") {
            let source = cur.source.clone();
            push_doc(&mut docs, std::mem::replace(&mut cur, RenderedDoc { source, text: String::new() }));
            at_start = true;
            continue;
        }
        if at_start && let Some(src) = bare.strip_prefix("# Source: ") {
            cur.source = src.trim().to_string();
            at_start = false;
            continue;
        }
        at_start = false;
        cur.text.push_str(line);
    }
    push_doc(&mut docs, cur);
    docs
}

fn push_doc(docs: &mut Vec<RenderedDoc>, doc: RenderedDoc) {
    if !doc.text.trim().is_empty() {
        docs.push(doc);
    }
}

/// `CHART/templates/x.yaml` -> `templates/x.yaml` (the path inside the chart directory).
pub fn source_in_chart(source: &str) -> Option<&str> {
    source.split_once('/').map(|(_, rest)| rest).filter(|r| !r.is_empty())
}

/// Where each line of one rendered document comes from in its template file.
///
/// A rendered line is placed on a template line when the template has exactly one line that is either the
/// same text (`kind: Deployment`) or, at the same indentation, the same text up to a template action
/// (`replicas: {{ .Values.replicaCount }}` for `replicas: 1`, `image: "{{ .Values.image }}"`). Lines
/// produced wholly by an action (`{{ toYaml .Values.securityContext | nindent 12 }}`, helpers) cannot be
/// placed.
#[derive(Debug, Clone, Default)]
pub struct LineMap {
    /// Per rendered line (index = line - 1): the template line and the column shift, when known.
    lines: Vec<Option<(u32, i64)>>,
}

impl LineMap {
    /// Map the lines of `rendered` to `template` (nothing maps without a template).
    pub fn new(rendered: &str, template: Option<&str>) -> LineMap {
        let indent_of = |l: &str| l.len() - l.trim_start().len();
        // Literal lines: text -> (line, indent), or None when the text occurs more than once.
        let mut literal: HashMap<&str, Option<(u32, usize)>> = HashMap::new();
        // Lines with an action after literal text: (indent, text before the action, line).
        let mut prefixed: Vec<(usize, &str, u32)> = Vec::new();
        for (i, l) in template.unwrap_or("").lines().enumerate() {
            let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let t = l.trim();
            match t.find("{{") {
                None if t.len() >= 3 => {
                    literal.entry(t).and_modify(|v| *v = None).or_insert(Some((line, indent_of(l))));
                }
                Some(at) if t[..at].contains(':') => prefixed.push((indent_of(l), &t[..at], line)),
                _ => {}
            }
        }
        let lines = rendered
            .lines()
            .map(|l| {
                let (t, indent) = (l.trim(), indent_of(l));
                if let Some(hit) = literal.get(t) {
                    return hit.map(|(tl, ti)| (tl, ti as i64 - indent as i64));
                }
                let mut candidates = prefixed.iter().filter(|(pi, p, _)| *pi == indent && t.starts_with(p));
                match (candidates.next(), candidates.next()) {
                    (Some(&(_, _, tl)), None) => Some((tl, 0)),
                    _ => None,
                }
            })
            .collect();
        LineMap { lines }
    }

    /// A hit's position in the template, or (when unknown) its rendered position with a note.
    pub fn apply(&self, mut hit: Hit) -> Hit {
        let known = hit.line.checked_sub(1).and_then(|i| self.lines.get(i as usize)).copied().flatten();
        match known {
            Some((line, shift)) => {
                hit.line = line;
                hit.col = u32::try_from((i64::from(hit.col) + shift).max(1)).unwrap_or(1);
            }
            None => hit.message.push_str(&format!(
                " (Helm: line {} of the output rendered from this template; the template line is not known)",
                hit.line
            )),
        }
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_parts() {
        for p in [
            "Chart.yaml",
            "values.yaml",
            "values-prod.yml",
            "templates/d.yaml",
            "charts/sub/templates/x.yaml",
            "ci/ci-values.yaml",
            "values.schema.json",
        ] {
            assert!(is_chart_part(p), "{p}");
        }
        for p in ["crds/crd.yaml", "examples/pod.yaml", "deploy.yaml"] {
            assert!(!is_chart_part(p), "{p}");
        }
        assert!(maybe_chart_part("a/b/templates/x.yaml") && maybe_chart_part("a/values.yaml"));
        assert!(!maybe_chart_part("a/b/deploy.yaml") && !maybe_chart_part("templates"));
    }

    #[test]
    fn kube_versions() {
        assert_eq!(kube_version_arg("1.30").as_deref(), Some("v1.30.0"));
        assert_eq!(kube_version_arg("v1.29.4").as_deref(), Some("v1.29.4"));
        assert_eq!(kube_version_arg("latest"), None);
    }

    #[test]
    fn rendered_output_splits_at_source_comments() {
        let out = "---\n# Source: web/templates/a.yaml\napiVersion: v1\nkind: A\n---\n# Source: web/templates/b.yaml\nkind: B\n---\nkind: C\n";
        let docs = split_rendered(out);
        assert_eq!(docs.len(), 3);
        assert_eq!(
            (docs[0].source.as_str(), docs[0].text.as_str()),
            ("web/templates/a.yaml", "apiVersion: v1\nkind: A\n")
        );
        assert_eq!(docs[1].source, "web/templates/b.yaml");
        // A document without its own comment keeps the last source.
        assert_eq!((docs[2].source.as_str(), docs[2].text.as_str()), ("web/templates/b.yaml", "kind: C\n"));
        assert_eq!(source_in_chart("web/charts/db/templates/s.yaml"), Some("charts/db/templates/s.yaml"));
    }

    #[test]
    fn lines_map_back_when_unique() {
        let template = "{{/* c */}}\napiVersion: v1\nkind: Pod\nspec:\n  {{- toYaml .Values.spec | nindent 2 }}\n  restartPolicy: Always\n  priority: {{ .Values.p }}\n";
        let rendered =
            "apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: true\n  restartPolicy: Always\n  priority: 3\n";
        let map = LineMap::new(rendered, Some(template));
        let h = map.apply(Hit::pos(5, 3, "m"));
        assert_eq!((h.line, h.col, h.message.as_str()), (6, 3, "m"));
        let h = map.apply(Hit::pos(6, 13, "m"));
        assert_eq!((h.line, h.col, h.message.as_str()), (7, 13, "m"));
        let h = map.apply(Hit::pos(4, 3, "m"));
        assert_eq!(h.line, 4);
        assert!(h.message.contains("line 4 of the output rendered"), "{}", h.message);
        // Without the template nothing maps.
        assert!(LineMap::new(rendered, None).apply(Hit::pos(1, 1, "m")).message.contains("not known"));
    }

    #[test]
    fn explicit_helm_paths_must_exist_and_become_absolute() {
        assert!(HelmBinary::Path("/nonexistent/helm".into()).resolve().is_err());
        let manifest = PathBuf::from("Cargo.toml");
        let resolved = HelmBinary::Path(manifest).resolve().ok().flatten();
        assert!(resolved.is_some_and(|p| p.is_absolute()));
        assert!(matches!(HelmBinary::Disabled.resolve(), Ok(None)));
    }

    #[cfg(unix)]
    fn fake_helm(dir: &Path, script: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join("helm");
        std::fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
        p
    }

    #[cfg(unix)]
    #[test]
    fn renders_under_a_clean_environment_with_a_time_budget_and_output_cap() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let chart = dir.path().join("chart");
        std::fs::create_dir(&chart).unwrap_or_else(|e| panic!("{e}"));
        // The environment helm sees: only what the renderer set.
        let env = fake_helm(dir.path(), "echo \"$1 $2 $4 $5\"; env | sort");
        let out = Renderer::new(env, Some("v1.30.0".into())).render(&chart).unwrap_or_else(|e| panic!("{e}"));
        assert!(out.starts_with("template release-name --kube-version v1.30.0\n"), "{out}");
        assert!(out.contains("HELM_PLUGINS=") && out.contains("HTTPS_PROXY=http://127.0.0.1:9"), "{out}");
        assert!(!out.contains("PATH=/"), "PATH leaked: {out}");
        let failing = fake_helm(dir.path(), "printf 'Error: boom\\n  at x\\n' >&2; exit 3");
        let e = Renderer::new(failing, None).render(&chart).err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("helm exited with status 3: Error: boom / at x"));
        let slow = fake_helm(dir.path(), "exec sleep 5");
        let r = Renderer { timeout: Duration::from_millis(200), ..Renderer::new(slow, None) };
        let t = Instant::now();
        assert!(matches!(r.render(&chart), Err(RenderError::Timeout(_))));
        assert!(t.elapsed() < Duration::from_secs(4));
        let big = fake_helm(dir.path(), "exec yes kind: Pod");
        let r = Renderer { max_output: 1 << 20, ..Renderer::new(big, None) };
        assert!(matches!(r.render(&chart), Err(RenderError::TooLarge(_))));
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_chart_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let chart = dir.path().join("chart");
        std::fs::create_dir_all(chart.join("templates")).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink("/etc/hostname", chart.join("templates/x.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
        let helm = fake_helm(dir.path(), "echo never");
        let e = Renderer::new(helm, None).render(&chart).err();
        assert!(matches!(e, Some(RenderError::LinkOut(_))), "{e:?}");
    }
}
