//! [`ConfigSink`]: runs the check engine over every Kubernetes manifest and Dockerfile of one scan (the
//! files met while walking an artifact for `--scanners misconfig`, or everything given to `scan config`, see
//! [`scan_paths`]).
//!
//! Per-object checks run as each file arrives, and the parsed file is dropped. Relational checks (a
//! NetworkPolicy selecting a Pod, a Service selecting a workload, a binding's role) need the other objects
//! of the scan, which may be in any file: each file adds its few facts to one [`Index`] and leaves the
//! judgements of its objects pending; [`ConfigSink::finish`] runs them once every file has been seen.
//!
//! Helm charts (a directory holding `Chart.yaml`) are not read as YAML: their parts are recognised when the
//! walk is over (a template may arrive before its `Chart.yaml`), and each chart is rendered with helm and
//! its output checked as part of the same scan, or reported in a warning when it cannot be (see
//! [`crate::helm`]).

use crate::ChecksError;
use crate::engine::{Engine, FileKind, Partial, Pending, file_kind};
use crate::helm::{
    LineMap, Renderer, is_chart_part, kube_version_arg, maybe_chart_part, source_in_chart, split_rendered,
};
use crate::relate::Index;
use palisade_artifact::{FileMeta, FileSink, Target};
use palisade_core::findings::misconfig::Misconfiguration;
use palisade_core::{ArtifactKind, Warning, Warnings};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Largest file the sink reads (bigger YAML/JSON files are data, not manifests).
pub const MAX_FILE_SIZE: u64 = 2 * 1024 * 1024;
/// Largest file named to [`scan_paths`] (or stdin) that is read.
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// Checks every config file of one scan as one set. Parse problems become scan warnings (source
/// `misconfig`).
pub struct ConfigSink {
    engine: Engine,
    disk_root: Option<PathBuf>,
    state: Mutex<State>,
}

impl std::fmt::Debug for ConfigSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigSink")
            .field("engine", &self.engine)
            .field("disk_root", &self.disk_root)
            .finish()
    }
}

#[derive(Default)]
struct State {
    findings: Vec<Misconfiguration>,
    index: Index,
    pending: Vec<Pending>,
    /// Warnings not pushed to a walk's collector (files named outside a walk, chart parts, charts).
    warnings: Vec<Warning>,
    /// Results of files that may turn out to be parts of a chart, decided in `finish`.
    held: Vec<Held>,
    charts: Vec<Chart>,
    /// The parsed Kubernetes objects, when the sink was asked to keep them ([`ConfigSink::keep_objects`]).
    objects: Option<Vec<ParsedObject>>,
}

/// A Kubernetes object of the scan as the checks parsed it, kept for other consumers of the same parse.
#[derive(Debug, Clone)]
pub struct ParsedObject {
    /// The file as reported in findings.
    pub file: String,
    /// The index of the YAML document in the file (objects of a `List` share it).
    pub document: usize,
    pub layer: Option<u32>,
    pub object: crate::k8s::Object,
}

struct Held {
    path: String,
    layer: Option<u32>,
    partial: Partial,
}

/// A `Chart.yaml` met during the scan.
#[derive(Debug, Clone)]
struct Chart {
    /// The chart directory as reported (`""` when it is the scan root).
    dir: String,
    /// The chart directory on disk, when the scan reads a directory on disk.
    disk: Option<PathBuf>,
    name: String,
    layer: Option<u32>,
}

/// What a finished scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigOutcome {
    /// Findings of every check, sorted by file, line and check id.
    pub findings: Vec<Misconfiguration>,
    /// Warnings not already pushed to the walk's collector: parse problems of files named outside a walk,
    /// charts that were not rendered, problems in rendered output.
    pub warnings: Vec<Warning>,
}

fn file_warning(e: &crate::FileError, layer: Option<u32>, what: &str) -> Warning {
    let msg = format!("{what}line {}, column {}: {}", e.line, e.column, e.message);
    Warning::new("misconfig", msg).at(e.file.clone(), layer)
}

impl State {
    fn merge(&mut self, mut p: Partial, layer: Option<u32>, live: Option<&Warnings>) {
        if let Some(kept) = &mut self.objects {
            kept.extend(std::mem::take(&mut p.objects).into_iter().map(|o| ParsedObject { layer, ..o }));
        }
        for e in &p.errors {
            let w = file_warning(e, layer, "");
            match live {
                Some(l) => l.push(w),
                None => self.warnings.push(w),
            }
        }
        self.findings.extend(p.findings);
        self.index.extend(p.index);
        self.pending.extend(p.pending);
    }
}

/// `dir/rel` -> `rel` (every path is inside the root `""`).
fn within<'a>(path: &'a str, dir: &str) -> Option<&'a str> {
    if dir.is_empty() { Some(path) } else { path.strip_prefix(dir)?.strip_prefix('/') }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn skipped_dir(path: &str) -> bool {
    path.split('/')
        .any(|c| matches!(c, "node_modules" | ".git" | "vendor" | "site-packages" | "dist-packages"))
}

/// The `name` of a `Chart.yaml`.
fn chart_name(data: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(data).ok()?;
    let doc = crate::yaml::load_all(text).into_iter().next()?.ok()?;
    doc.get("name").and_then(crate::yaml::Node::scalar_text)
}

impl ConfigSink {
    pub fn new(engine: Engine) -> Self {
        ConfigSink { engine, disk_root: None, state: Mutex::new(State::default()) }
    }

    /// Say that the walked artifact is the directory `root` on disk, so Helm charts in it can be rendered
    /// (charts in images and git trees are reported as not rendered).
    pub fn with_disk_root(mut self, root: impl Into<PathBuf>) -> Self {
        self.disk_root = Some(root.into());
        self
    }

    /// Keep the parsed Kubernetes objects for [`ConfigSink::finish_with_objects`] (`scan --policy` evaluates
    /// them with the bundle's policies: one parse serves the checks and the policies).
    pub fn keep_objects(self) -> Self {
        self.lock().objects = Some(Vec::new());
        self
    }

    /// The engine the sink runs, for checks outside the file stream (an image's config).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Check one file named outside a walk (on the command line, stdin) as part of this scan. `disk` is the
    /// file on disk, if it is one (a named `Chart.yaml` makes its chart rendered). The kind is taken from the
    /// name, else guessed from the content (a Dockerfile starts with `FROM` or `ARG`, anything else is read
    /// as YAML).
    pub fn add_file(&self, path: &str, disk: Option<&Path>, data: &[u8]) {
        match file_kind(path) {
            Some(kind) => self.ingest(path, || disk.map(Path::to_path_buf), None, kind, data, None),
            None => {
                let kind =
                    if looks_like_dockerfile(data) { FileKind::Dockerfile } else { FileKind::Manifest };
                let text = String::from_utf8_lossy(data);
                self.ingest(path, || disk.map(Path::to_path_buf), None, kind, text.as_bytes(), None);
            }
        }
    }

    fn ingest(
        &self,
        path: &str,
        disk: impl FnOnce() -> Option<PathBuf>,
        layer: Option<u32>,
        kind: FileKind,
        data: &[u8],
        live: Option<&Warnings>,
    ) {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base == "Chart.yaml" {
            let dir = parent(path).to_string();
            let name = chart_name(data).unwrap_or_else(|| {
                dir.rsplit('/').next().filter(|d| !d.is_empty()).unwrap_or(".").to_string()
            });
            let disk = disk().and_then(|f| f.parent().map(Path::to_path_buf));
            self.lock().charts.push(Chart { dir, disk, name, layer });
            return;
        }
        let mut partial = self.engine.partial(path, kind, data);
        partial.set_layer(layer);
        if maybe_chart_part(path) {
            self.lock().held.push(Held { path: path.to_string(), layer, partial });
        } else if !(partial.findings.is_empty()
            && partial.errors.is_empty()
            && partial.pending.is_empty()
            && partial.index.is_empty()
            && partial.objects.is_empty())
        {
            self.lock().merge(partial, layer, live);
        }
    }

    /// Run the relational checks over everything seen, render the Helm charts (and check what they render
    /// to), and return the findings with the warnings not yet reported.
    pub fn finish(self) -> ConfigOutcome {
        self.finish_with_objects().0
    }

    /// [`ConfigSink::finish`], with the parsed objects when [`ConfigSink::keep_objects`] was asked (in file
    /// order), else none.
    pub fn finish_with_objects(self) -> (ConfigOutcome, Vec<ParsedObject>) {
        let ConfigSink { engine, state, .. } = self;
        let mut st = state.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut charts = std::mem::take(&mut st.charts);
        charts.sort_by(|a, b| a.dir.cmp(&b.dir));
        charts.dedup_by(|a, b| a.dir == b.dir);
        // Subcharts (under another chart's charts/) are rendered with their parent.
        let roots: Vec<Chart> = charts
            .iter()
            .filter(|c| {
                !charts.iter().any(|p| {
                    p.dir != c.dir && within(&c.dir, &p.dir).is_some_and(|r| r.starts_with("charts/"))
                })
            })
            .cloned()
            .collect();
        for h in std::mem::take(&mut st.held) {
            if !roots.iter().any(|r| within(&h.path, &r.dir).is_some_and(is_chart_part)) {
                st.merge(h.partial, h.layer, None);
            }
        }
        for chart in &roots {
            render_chart(&engine, chart, &mut st);
        }
        let pending = std::mem::take(&mut st.pending);
        engine.judge(pending, &st.index, &mut st.findings);
        st.findings.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.check_id).cmp(&(&b.file, b.line, b.column, &b.check_id))
        });
        let mut objects = st.objects.take().unwrap_or_default();
        objects.sort_by(|a, b| (&a.file, a.layer, a.document).cmp(&(&b.file, b.layer, b.document)));
        (ConfigOutcome { findings: st.findings, warnings: st.warnings }, objects)
    }
}

/// Render one chart and check its output as part of the scan, or say why it was not.
fn render_chart(engine: &Engine, chart: &Chart, st: &mut State) {
    let shown = if chart.dir.is_empty() { "." } else { chart.dir.as_str() };
    let warn = |st: &mut State, why: String| {
        let msg =
            format!("Helm chart {:?} was not rendered, so its templates were not checked: {why}", chart.name);
        st.warnings.push(Warning::new("misconfig", msg).at(shown, chart.layer));
    };
    let Some(disk) = &chart.disk else {
        return warn(
            st,
            "charts are rendered only from a directory on disk (scan config, scan fs); render it with `helm \
             template` and pipe the output to `palisade scan config -`"
                .into(),
        );
    };
    let Some(helm) = engine.helm() else {
        return warn(
            st,
            "no helm binary found; pass --helm PATH, set PALISADE_HELM, or put helm on PATH to render charts"
                .into(),
        );
    };
    let kube_version = engine.options().k8s_version.as_deref().and_then(kube_version_arg);
    let out = match Renderer::new(helm.to_path_buf(), kube_version).render(disk) {
        Ok(out) => out,
        Err(e) => return warn(st, e.to_string()),
    };
    let chart_root = disk.canonicalize().ok();
    for doc in split_rendered(&out) {
        // Only plain relative paths inside the chart are trusted from the output (a template can print a
        // `# Source:` line of its own).
        let rel = source_in_chart(&doc.source)
            .filter(|r| !r.starts_with('/') && r.split('/').all(|c| !matches!(c, "" | "." | "..")));
        let file = match rel {
            Some(r) if chart.dir.is_empty() => r.to_string(),
            Some(r) => format!("{}/{r}", chart.dir),
            None => shown.to_string(),
        };
        let template = rel.and_then(|r| read_inside(chart_root.as_deref()?, &disk.join(r)));
        let map = Arc::new(LineMap::new(&doc.text, template.as_deref()));
        let mut p = engine.partial_manifest(&file, &doc.text, Some(map));
        p.set_layer(chart.layer);
        for e in std::mem::take(&mut p.errors) {
            st.warnings.push(file_warning(
                &e,
                chart.layer,
                "in the output helm rendered from this template: ",
            ));
        }
        st.merge(p, chart.layer, None);
    }
}

/// A template file's text, when it is a small file inside the chart.
fn read_inside(root: &Path, file: &Path) -> Option<String> {
    let real = file.canonicalize().ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    if !real.starts_with(root) || !meta.is_file() || meta.len() > MAX_FILE_SIZE {
        return None;
    }
    std::fs::read_to_string(real).ok()
}

impl FileSink for ConfigSink {
    fn wants(&self, meta: &FileMeta) -> bool {
        if file_kind(meta.path).is_none() || skipped_dir(meta.path) {
            return false;
        }
        if meta.size > MAX_FILE_SIZE {
            // Not read, but never silently: a manifest this large is reported (docs/limits.md).
            let w = Warning::new(
                "misconfig",
                format!(
                    "file is {} bytes, over the {MAX_FILE_SIZE} byte limit of config checks; not checked",
                    meta.size
                ),
            )
            .at(meta.path, meta.layer);
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if !st.warnings.contains(&w) {
                st.warnings.push(w);
            }
            return false;
        }
        true
    }

    fn accept(&self, meta: &FileMeta, data: &[u8], warnings: &Warnings) {
        let Some(kind) = file_kind(meta.path) else { return };
        let root = self.disk_root.as_deref();
        self.ingest(meta.path, || root.map(|r| r.join(meta.path)), meta.layer, kind, data, Some(warnings));
    }
}

/// A directory walked as part of a [`scan_paths`] set: paths reported under `prefix`.
struct Walk<'a> {
    sink: &'a ConfigSink,
    prefix: &'a str,
    root: &'a Path,
}

impl FileSink for Walk<'_> {
    fn wants(&self, meta: &FileMeta) -> bool {
        self.sink.wants(meta)
    }

    fn accept(&self, meta: &FileMeta, data: &[u8], warnings: &Warnings) {
        let Some(kind) = file_kind(meta.path) else { return };
        let path = format!("{}/{}", self.prefix, meta.path);
        self.sink.ingest(&path, || Some(self.root.join(meta.path)), meta.layer, kind, data, Some(warnings));
    }
}

/// `palisade scan config PATH...`: every file and directory given (`-` is stdin) is checked as one set, so
/// relational checks see every object given, and Helm charts under the directories are rendered with the
/// engine's helm. Findings are reported under the paths as given. `walk` configures directory walks
/// (progress counters). Fails only when a path cannot be opened at all.
pub fn scan_paths(
    engine: Engine,
    paths: &[String],
    walk: &palisade_artifact::Options,
) -> Result<ConfigOutcome, ChecksError> {
    scan_paths_keeping(ConfigSink::new(engine), paths, walk).map(|(out, _)| out)
}

/// [`scan_paths`] with a sink of the caller's (e.g. one that [keeps the parsed
/// objects](ConfigSink::keep_objects)); returns the outcome and the kept objects.
pub fn scan_paths_keeping(
    sink: ConfigSink,
    paths: &[String],
    walk: &palisade_artifact::Options,
) -> Result<(ConfigOutcome, Vec<ParsedObject>), ChecksError> {
    let mut warnings = Vec::new();
    for p in paths {
        if p == "-" {
            match read_input(std::io::stdin().lock()) {
                Ok(data) => sink.add_file("stdin", None, &data),
                Err(Refused(why)) => warnings.push(Warning::new("misconfig", why).at("stdin", None)),
                Err(Failed(e)) => return Err(ChecksError::Input(format!("reading stdin: {e}"))),
            }
            continue;
        }
        let path = Path::new(p);
        let meta =
            std::fs::metadata(path).map_err(|e| ChecksError::Input(format!("{p}: cannot open: {e}")))?;
        if meta.is_dir() {
            let target = Target::Dir { path: path.into(), kind: ArtifactKind::Fs };
            let prefix = p.trim_end_matches('/');
            let walker = Walk { sink: &sink, prefix, root: path };
            let scanned = palisade_artifact::scan(&target, walk, &walker)
                .map_err(|e| ChecksError::Input(format!("{p}: {e}")))?;
            // The walk names files inside the directory; findings name them under the path as given, and so
            // must its warnings (`DIR/big.yaml`, not `big.yaml`).
            warnings.extend(scanned.warnings.into_iter().map(|mut w| {
                w.path = w.path.map(|inner| match inner.as_str() {
                    "" | "." => prefix.to_string(),
                    _ => format!("{prefix}/{inner}"),
                });
                w
            }));
            continue;
        }
        if let Err(why) = palisade_core::memory::admit(meta.len()) {
            warnings.push(Warning::new("misconfig", why).at(p.as_str(), None));
            continue;
        }
        let file =
            std::fs::File::open(path).map_err(|e| ChecksError::Input(format!("{p}: cannot read: {e}")))?;
        match read_input(file) {
            Ok(data) => sink.add_file(p, Some(path), &data),
            Err(Refused(why)) => warnings.push(Warning::new("misconfig", why).at(p.as_str(), None)),
            Err(Failed(e)) => return Err(ChecksError::Input(format!("{p}: cannot read: {e}"))),
        }
    }
    let (mut out, objects) = sink.finish_with_objects();
    warnings.append(&mut out.warnings);
    out.warnings = warnings;
    Ok((out, objects))
}

/// Why an input named to [`scan_paths`] was not checked.
enum InputError {
    /// Not text, or over [`MAX_INPUT_BYTES`]: a warning naming the input; the other inputs are checked.
    Refused(String),
    /// The read itself failed.
    Failed(std::io::Error),
}
use InputError::{Failed, Refused};

/// Bytes sniffed for a NUL before the rest of an input is read.
const SNIFF: usize = 8 << 10;

/// Read a file or stdin named to `scan config`, bounded: a NUL byte in its first 8 KiB (`/dev/zero`, a
/// binary) stops the read at once, and an input over [`MAX_INPUT_BYTES`] is refused, never silently cut.
fn read_input(r: impl Read) -> Result<Vec<u8>, InputError> {
    let mut r = r.take(MAX_INPUT_BYTES + 1);
    let mut data = Vec::new();
    (&mut r).take(SNIFF as u64).read_to_end(&mut data).map_err(Failed)?;
    if let Some(at) = data.iter().position(|&b| b == 0) {
        return Err(Refused(format!(
            "binary data (NUL byte at offset {at}), not YAML, JSON or a Dockerfile; not checked"
        )));
    }
    r.read_to_end(&mut data).map_err(Failed)?;
    if data.len() as u64 > MAX_INPUT_BYTES {
        return Err(Refused(format!("more than {MAX_INPUT_BYTES} bytes, over the input limit; not checked")));
    }
    Ok(data)
}

/// A file whose first instruction is `FROM` or `ARG` is a Dockerfile.
pub fn looks_like_dockerfile(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&data[..data.len().min(4096)]);
    text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).is_some_and(|l| {
        let upper = l.to_ascii_uppercase();
        upper.starts_with("FROM ") || upper.starts_with("ARG ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckOptions;
    use crate::helm::HelmBinary;

    fn engine() -> Engine {
        let opts = CheckOptions { helm: HelmBinary::Disabled, ..CheckOptions::default() };
        Engine::new(&opts).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn kept_objects_come_from_the_checks_parse_with_file_and_document() {
        let text = b"apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: b}}\n- {apiVersion: v1, kind: Pod, metadata: {name: c}}\n";
        let sink = ConfigSink::new(engine()).keep_objects();
        sink.add_file("k8s/pods.yaml", None, text);
        sink.add_file("Dockerfile", None, b"FROM alpine\n");
        let (out, objects) = sink.finish_with_objects();
        assert!(!out.findings.is_empty());
        let got: Vec<(&str, usize, &str)> =
            objects.iter().map(|o| (o.file.as_str(), o.document, o.object.name.as_str())).collect();
        assert_eq!(got, [("k8s/pods.yaml", 0, "a"), ("k8s/pods.yaml", 1, "b"), ("k8s/pods.yaml", 1, "c")]);
        // Not asked: nothing kept.
        let sink = ConfigSink::new(engine());
        sink.add_file("k8s/pods.yaml", None, text);
        assert!(sink.finish_with_objects().1.is_empty());
    }

    fn meta(path: &str, layer: Option<u32>) -> FileMeta<'_> {
        FileMeta { path, size: 10, mode: 0o644, layer }
    }

    #[test]
    fn sink_collects_findings_and_warnings() {
        let sink = ConfigSink::new(engine());
        let warnings = Warnings::new();
        let pod = crate::testutil::FAIL_POD.as_bytes();
        let m = FileMeta { path: "k8s/pod.yaml", size: pod.len() as u64, mode: 0o644, layer: Some(2) };
        assert!(sink.wants(&m));
        assert!(!sink.wants(&meta("src/main.rs", None)));
        assert!(!sink.wants(&meta("node_modules/x/a.json", None)));
        sink.accept(&m, pod, &warnings);
        sink.accept(&meta("k8s/bad.yaml", None), b"a: [1\n", &warnings);
        assert_eq!(warnings.len(), 1);
        let out = sink.finish();
        assert!(out.warnings.is_empty());
        assert!(out.findings.iter().any(|f| f.check_id == "PAL-PSS-002" && f.layer == Some(2)));
        // Relational findings carry the layer too.
        assert!(out.findings.iter().any(|f| f.check_id == "PAL-K8S-074" && f.layer == Some(2)));
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: NS}\nspec:\n  replicas: 2\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: c, image: registry.example.com/app:1.0}]\n";
    const POLICY: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: NS}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n";

    fn isolated(deploy_ns: &str, policy_ns: &str) -> Vec<Misconfiguration> {
        let sink = ConfigSink::new(engine());
        let w = Warnings::new();
        // The policy arrives first in one order, last in the other: the result must not depend on it.
        let deploy = DEPLOY.replace("NS", deploy_ns);
        let policy = POLICY.replace("NS", policy_ns);
        sink.accept(&meta("a/deploy.yaml", None), deploy.as_bytes(), &w);
        sink.accept(&meta("b/policy.yaml", None), policy.as_bytes(), &w);
        sink.finish().findings.into_iter().filter(|f| f.check_id == "PAL-K8S-074").collect()
    }

    #[test]
    fn a_network_policy_in_another_file_of_the_namespace_counts() {
        assert!(isolated("apps", "apps").is_empty());
        let other = isolated("apps", "other");
        assert_eq!(other.len(), 1);
        assert_eq!((other[0].file.as_str(), other[0].line, other[0].column), ("a/deploy.yaml", 1, 1));
    }

    #[test]
    fn chart_parts_are_held_until_the_chart_is_known() {
        let sink = ConfigSink::new(engine());
        let w = Warnings::new();
        let template =
            b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n{{- if .Values.x }}\n";
        // The template arrives before Chart.yaml; a templates/ dir outside any chart is checked as YAML.
        sink.accept(&meta("web/templates/pod.yaml", None), template, &w);
        sink.accept(&meta("web/values.yaml", None), b"kind: Pod\napiVersion: v1\nmetadata: {name: x}\n", &w);
        sink.accept(&meta("web/Chart.yaml", None), b"apiVersion: v2\nname: webapp\nversion: 1.0.0\n", &w);
        sink.accept(&meta("web/crds/pod.yaml", None), crate::testutil::FAIL_POD.as_bytes(), &w);
        sink.accept(&meta("other/templates/bad.yaml", None), b"a: [1\n", &w);
        let out = sink.finish();
        assert!(w.is_empty());
        assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
        assert_eq!(out.warnings[0].path.as_deref(), Some("other/templates/bad.yaml"));
        let chart = &out.warnings[1];
        assert_eq!(chart.path.as_deref(), Some("web"));
        assert!(
            chart.message.contains("\"webapp\" was not rendered")
                && chart.message.contains("directory on disk"),
            "{chart}"
        );
        assert!(out.findings.iter().all(|f| f.file == "web/crds/pod.yaml"), "{:?}", out.findings);
        assert!(!out.findings.is_empty());
    }

    #[test]
    fn subcharts_render_with_their_parent() {
        let sink = ConfigSink::new(engine()).with_disk_root("/nonexistent");
        let w = Warnings::new();
        sink.accept(&meta("Chart.yaml", None), b"name: top\n", &w);
        sink.accept(&meta("charts/db/Chart.yaml", None), b"name: db\n", &w);
        sink.accept(&meta("charts/db/templates/x.yaml", None), b"{{ x }}\n", &w);
        let out = sink.finish();
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert_eq!(out.warnings[0].path.as_deref(), Some("."));
        assert!(out.warnings[0].message.contains("no helm binary"), "{}", out.warnings[0]);
    }

    #[test]
    fn dockerfiles_are_recognised_by_their_first_instruction() {
        assert!(looks_like_dockerfile(b"# syntax=docker/dockerfile:1\nFROM alpine\n"));
        assert!(!looks_like_dockerfile(b"apiVersion: v1\n"));
    }

    /// Walk warnings (here: a file over the size limit) and findings name files the same way: under the
    /// directory as given on the command line.
    #[test]
    fn walk_warnings_and_findings_share_the_argument_prefix() {
        let dir = std::env::temp_dir().join(format!("palisade-paths-{}", std::process::id()));
        let sub = dir.join("deploy");
        std::fs::create_dir_all(&sub).unwrap_or_else(|e| panic!("{e}"));
        let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec:\n  containers:\n  - {name: c, image: nginx}\n";
        std::fs::write(sub.join("pod.yaml"), pod).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(sub.join("big.yaml"), format!("{pod}# {}\n", "x".repeat(400)))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut walk = palisade_artifact::Options::default();
        walk.limits.max_file_size = 300;
        let arg = format!("{}/", dir.display());
        let out = scan_paths(engine(), &[arg], &walk).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.display().to_string();
        let files: Vec<&str> = out.findings.iter().map(|f| f.file.as_str()).collect();
        assert!(
            !files.is_empty() && files.iter().all(|f| *f == format!("{root}/deploy/pod.yaml")),
            "{files:?}"
        );
        let big: Vec<_> = out.warnings.iter().filter_map(|w| w.path.as_deref()).collect();
        assert_eq!(big, vec![format!("{root}/deploy/big.yaml")], "{:?}", out.warnings);
    }
}
