//! The check engine: selects checks from options, runs them on files and image configs, and turns hits into
//! `Misconfiguration` findings with effective severity and suppressions applied.

use crate::ChecksError;
use crate::check::{Check, CheckMeta, DfCx, Hit, K8sCx, Target};
use crate::dockerfile::Dockerfile;
use crate::helm::LineMap;
use crate::image::ImageInput;
use crate::k8s::Object;
use crate::options::{CheckOptions, K8sVersion, Selector, id_matches};
use crate::relate::{Index, Judge};
use crate::yaml::load_all;
use globset::{Glob, GlobMatcher};
use palisade_core::ImageConfig;
use palisade_core::findings::misconfig::{Misconfiguration, ResourceRef};
use serde::Serialize;
use std::sync::Arc;

/// Annotation that suppresses checks on one object: `"PAL-K8S-014: reason; PAL-PSS-0*: other reason"`.
pub const IGNORE_ANNOTATION: &str = "palisade.io/ignore";

/// A file that could not be (fully) checked: what is wrong and where (1-based; 0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

/// Result of checking one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileResult {
    /// Findings, sorted by line, then check id. Suppressed findings are included (see `suppressed`).
    pub findings: Vec<Misconfiguration>,
    /// Parse problems; the rest of the file was still checked where possible.
    pub errors: Vec<FileError>,
}

/// A relational check's judgement of one object, waiting for the index of the whole scan.
pub(crate) struct Pending {
    meta: &'static CheckMeta,
    file: String,
    resource: ResourceRef,
    /// The object's `palisade.io/ignore` reason for this check.
    annotation: Option<String>,
    pub(crate) layer: Option<u32>,
    map: Option<Arc<LineMap>>,
    judge: Judge,
}

/// One file's results while a scan is under way: findings of per-object checks, parse problems, the
/// file's share of the relational index and the judgements waiting for the whole index.
#[derive(Default)]
pub(crate) struct Partial {
    pub(crate) findings: Vec<Misconfiguration>,
    pub(crate) errors: Vec<FileError>,
    pub(crate) index: Index,
    pub(crate) pending: Vec<Pending>,
    /// The file's Kubernetes objects with the index of the document each came from, for consumers of the
    /// same parse (`scan --policy` evaluates them with the policy bundle); dropped unless a sink keeps them.
    pub(crate) objects: Vec<crate::sink::ParsedObject>,
}

impl Partial {
    /// Set the image layer of everything in it.
    pub(crate) fn set_layer(&mut self, layer: Option<u32>) {
        for f in &mut self.findings {
            f.layer = layer;
        }
        for p in &mut self.pending {
            p.layer = layer;
        }
        for o in &mut self.objects {
            o.layer = layer;
        }
    }
}

/// What kind of configuration file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.yaml`, `.yml` or `.json` (Kubernetes manifests; other documents pass quietly).
    Manifest,
    /// `Dockerfile`, `Containerfile`, `Dockerfile.*`, `*.Dockerfile`, `*.dockerfile`.
    Dockerfile,
}

/// Decide from the path alone.
pub fn file_kind(path: &str) -> Option<FileKind> {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_ascii_lowercase();
    if name == "dockerfile"
        || name == "containerfile"
        || name.starts_with("dockerfile.")
        || name.starts_with("containerfile.")
        || name.ends_with(".dockerfile")
        || name.ends_with(".containerfile")
    {
        return Some(FileKind::Dockerfile);
    }
    if name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json") {
        return Some(FileKind::Manifest);
    }
    None
}

/// True when the check runs at this Kubernetes version (PSS checks start at a policy version).
pub fn applies(meta: &CheckMeta, version: K8sVersion) -> bool {
    meta.pss.is_none_or(|p| version.at_least(p.since_minor))
}

struct CompiledSuppression {
    id: String,
    path: Option<GlobMatcher>,
    resource: Option<String>,
    reason: String,
}

/// Runs the selected checks.
pub struct Engine {
    opts: CheckOptions,
    version: K8sVersion,
    enabled: Vec<&'static dyn Check>,
    suppress: Vec<CompiledSuppression>,
    /// The helm binary that renders charts, resolved from the options.
    helm: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("version", &self.version).field("checks", &self.enabled.len()).finish()
    }
}

impl Engine {
    /// Build an engine. Fails on an unknown check/group name, a bad glob or a bad version.
    pub fn new(opts: &CheckOptions) -> Result<Engine, ChecksError> {
        let all = crate::registry();
        let version = match &opts.k8s_version {
            Some(v) => K8sVersion::parse(v)?,
            None => K8sVersion::NEWEST,
        };
        let compile = |list: &[String]| -> Result<Vec<Selector>, ChecksError> {
            list.iter()
                .map(|s| {
                    let sel = Selector::parse(s)?;
                    if sel.known(all) {
                        Ok(sel)
                    } else {
                        Err(ChecksError::Config(format!("no check or group matches {s:?}")))
                    }
                })
                .collect()
        };
        let select = compile(&opts.select)?;
        let skip = compile(&opts.skip)?;
        for id in opts.severity_overrides.keys() {
            if !all.iter().any(|c| id_matches(id, c.meta().id)) {
                return Err(ChecksError::Config(format!("severity override for unknown check {id:?}")));
            }
        }
        let enabled: Vec<&'static dyn Check> = all
            .iter()
            .copied()
            .filter(|c| select.is_empty() || select.iter().any(|s| s.matches(c.meta())))
            .filter(|c| !skip.iter().any(|s| s.matches(c.meta())))
            .filter(|c| applies(c.meta(), version))
            .collect();
        // Every selected check runs: a restricted PSS check never hides the baseline check it extends. Each
        // reports only its own level's part of a control (the restricted seccomp check the unset profile,
        // the baseline one `Unconfined`), so a violation is reported once, at its level.
        let mut suppress = Vec::new();
        for s in &opts.suppress {
            let path = match &s.path {
                Some(p) => Some(
                    Glob::new(p)
                        .map_err(|e| ChecksError::Config(format!("bad suppression path {p:?}: {e}")))?
                        .compile_matcher(),
                ),
                None => None,
            };
            suppress.push(CompiledSuppression {
                id: s.id.clone(),
                path,
                resource: s.resource.clone(),
                reason: s.reason.clone(),
            });
        }
        let helm = opts.helm.resolve()?;
        let mut opts = opts.clone();
        opts.crd_schemas = load_crds(&opts.crds)?;
        Ok(Engine { opts, version, enabled, suppress, helm })
    }

    /// The checks this engine runs.
    pub fn checks(&self) -> &[&'static dyn Check] {
        &self.enabled
    }

    /// The options the engine was built from.
    pub fn options(&self) -> &CheckOptions {
        &self.opts
    }

    /// The helm binary charts are rendered with (see [`crate::HelmBinary`]); `None` when there is none.
    pub fn helm(&self) -> Option<&std::path::Path> {
        self.helm.as_deref()
    }

    /// The Kubernetes version checks are evaluated for.
    pub fn k8s_version(&self) -> K8sVersion {
        self.version
    }

    /// Check one file on its own; the kind is decided from the path (see [`file_kind`]). Unknown kinds give
    /// an empty result. Relational checks see the objects of this file only; to check files as one set, use
    /// a [`crate::ConfigSink`] or [`crate::scan_paths`].
    pub fn check_file(&self, path: &str, data: &[u8]) -> FileResult {
        let Some(kind) = file_kind(path) else { return FileResult::default() };
        self.complete(self.partial(path, kind, data))
    }

    /// Check Kubernetes YAML/JSON text (multi-document, `List` kinds) on its own.
    pub fn check_manifest(&self, path: &str, text: &str) -> FileResult {
        self.complete(self.partial_manifest(path, text, None))
    }

    /// Run the relational judgements of a partial result against its own index.
    fn complete(&self, mut p: Partial) -> FileResult {
        let pending = std::mem::take(&mut p.pending);
        self.judge(pending, &p.index, &mut p.findings);
        sort(&mut p.findings);
        FileResult { findings: p.findings, errors: p.errors }
    }

    /// Check a file as part of a larger scan: per-object findings now, relational checks left pending.
    pub(crate) fn partial(&self, path: &str, kind: FileKind, data: &[u8]) -> Partial {
        // A stray non-UTF-8 byte spoils one value, not the file: it is replaced by U+FFFD, reported, and the
        // rest is checked.
        let bad_utf8 = std::str::from_utf8(data).err().map(|e| FileError {
            file: path.to_string(),
            line: 1 + memchr_lines(&data[..e.valid_up_to()]),
            column: 0,
            message: format!(
                "not UTF-8 text (invalid byte at offset {}); invalid bytes were replaced and the rest checked",
                e.valid_up_to()
            ),
        });
        let text = String::from_utf8_lossy(data);
        let mut p = match kind {
            FileKind::Manifest => self.partial_manifest(path, &text, None),
            FileKind::Dockerfile => {
                let r = self.check_dockerfile(path, &text);
                Partial { findings: r.findings, errors: r.errors, ..Partial::default() }
            }
        };
        p.errors.extend(bad_utf8);
        p
    }

    /// Kubernetes YAML/JSON text as part of a larger scan. `map` moves positions in rendered Helm output
    /// back to the template.
    pub(crate) fn partial_manifest(&self, path: &str, text: &str, map: Option<Arc<LineMap>>) -> Partial {
        let mut res = Partial::default();
        let mut objects = Vec::new();
        let mut documents = Vec::new();
        for (i, doc) in load_all(text).into_iter().enumerate() {
            match doc {
                Ok(node) => {
                    let expanded = Object::expand(node);
                    documents.extend(std::iter::repeat_n(i, expanded.len()));
                    objects.extend(expanded);
                }
                Err(e) => res.errors.push(FileError {
                    file: path.to_string(),
                    line: e.line,
                    column: e.col,
                    message: e.message,
                }),
            }
        }
        self.check_objects(path, &objects, map, &mut res);
        res.objects = documents
            .into_iter()
            .zip(objects)
            .map(|(document, object)| crate::sink::ParsedObject {
                file: path.to_string(),
                document,
                layer: None,
                object,
            })
            .collect();
        res
    }

    /// Check objects already parsed (a cluster dump, [`crate::dump::Dump`]) as one set: per-object checks
    /// now, relational checks against the index of every object given. Findings name each object's file.
    pub fn check_dump<'a>(&self, objects: impl IntoIterator<Item = (&'a str, &'a Object)>) -> FileResult {
        let mut res = Partial::default();
        for (file, obj) in objects {
            self.check_objects(file, std::slice::from_ref(obj), None, &mut res);
        }
        self.complete(res)
    }

    fn check_objects(&self, path: &str, objects: &[Object], map: Option<Arc<LineMap>>, res: &mut Partial) {
        let cx = K8sCx::new(&self.opts, self.version);
        let place = |hit: Hit| match &map {
            Some(m) => m.apply(hit),
            None => hit,
        };
        for obj in objects {
            res.index.add(obj);
            let ignores = annotation_ignores(obj);
            let resource = ResourceRef {
                kind: obj.kind.clone(),
                namespace: obj.namespace.clone(),
                name: obj.name.clone(),
            };
            for check in self.enabled.iter().filter(|c| c.meta().target == Target::Kubernetes) {
                let mut hits = Vec::new();
                check.k8s(obj, &cx, &mut hits);
                let judges = cx.take_judges();
                if hits.is_empty() && judges.is_empty() {
                    continue;
                }
                let ann = ignores
                    .iter()
                    .find(|(id, _)| id_matches(id, check.meta().id))
                    .map(|(_, r)| format!("annotation {IGNORE_ANNOTATION}: {r}"));
                for hit in hits {
                    let mut f = self.finding(check.meta(), place(hit), path, Some(resource.clone()));
                    if f.suppressed.is_none() {
                        f.suppressed.clone_from(&ann);
                    }
                    res.findings.push(f);
                }
                for judge in judges {
                    res.pending.push(Pending {
                        meta: check.meta(),
                        file: path.to_string(),
                        resource: resource.clone(),
                        annotation: ann.clone(),
                        layer: None,
                        map: map.clone(),
                        judge,
                    });
                }
            }
        }
    }

    /// Run relational judgements against the index of the whole scan, appending their findings.
    pub(crate) fn judge(&self, pending: Vec<Pending>, index: &Index, out: &mut Vec<Misconfiguration>) {
        for p in pending {
            let mut hits = Vec::new();
            (p.judge)(index, &mut hits);
            for hit in hits {
                let hit = match &p.map {
                    Some(m) => m.apply(hit),
                    None => hit,
                };
                let mut f = self.finding(p.meta, hit, &p.file, Some(p.resource.clone()));
                if f.suppressed.is_none() {
                    f.suppressed.clone_from(&p.annotation);
                }
                f.layer = p.layer;
                out.push(f);
            }
        }
    }

    /// Check Dockerfile text.
    pub fn check_dockerfile(&self, path: &str, text: &str) -> FileResult {
        let mut res = FileResult::default();
        let df = match Dockerfile::parse(text) {
            Ok(d) => d,
            Err(e) => {
                res.errors.push(FileError {
                    file: path.to_string(),
                    line: e.line,
                    column: e.col,
                    message: e.message,
                });
                return res;
            }
        };
        // Lines the parser skipped are reported, and the rest of the file is still checked.
        for e in &df.skipped {
            res.errors.push(FileError {
                file: path.to_string(),
                line: e.line,
                column: e.col,
                message: format!("{} (line skipped)", e.message),
            });
        }
        let inline = inline_ignores(text);
        let cx = DfCx { opts: &self.opts };
        for check in self.enabled.iter().filter(|c| c.meta().target == Target::Dockerfile) {
            let mut hits = Vec::new();
            check.dockerfile(&df, &cx, &mut hits);
            for hit in hits {
                let stage = df
                    .stages
                    .iter()
                    .rev()
                    .find(|s| s.line <= hit.line)
                    .map(|s| s.alias.clone().unwrap_or_else(|| s.index.to_string()))
                    .unwrap_or_default();
                let line = hit.line;
                let mut f = self.finding(
                    check.meta(),
                    hit,
                    path,
                    Some(ResourceRef { kind: "Dockerfile".into(), namespace: None, name: stage }),
                );
                if f.suppressed.is_none() {
                    f.suppressed = inline
                        .iter()
                        .find(|(l, id, _)| *l + 1 == line && id_matches(id, check.meta().id))
                        .map(|(_, _, r)| format!("inline comment: {r}"));
                }
                res.findings.push(f);
            }
        }
        sort(&mut res.findings);
        res
    }

    /// Check an image's config (user, exposed ports, healthcheck) alone.
    pub fn check_image_config(&self, cfg: &ImageConfig) -> Vec<Misconfiguration> {
        self.check_image(&ImageInput::config(cfg))
    }

    /// Run the image checks (group `image`, `image-hardening`) on what is known of an image or root
    /// filesystem: its config, its final filesystem, the artifact and its OS. Findings about a file carry
    /// its path and the layer that added it.
    pub fn check_image(&self, img: &ImageInput<'_>) -> Vec<Misconfiguration> {
        let cx = DfCx { opts: &self.opts };
        let mut out = Vec::new();
        for check in self.enabled.iter().filter(|c| c.meta().target == Target::Image) {
            let mut hits = Vec::new();
            check.image(img, &cx, &mut hits);
            for mut hit in hits {
                let file = hit.file.take();
                let layer = hit.layer.take();
                let resource = match &file {
                    Some(_) => None,
                    None => {
                        Some(ResourceRef { kind: "ImageConfig".into(), namespace: None, name: String::new() })
                    }
                };
                let mut f = self.finding(check.meta(), hit, file.as_deref().unwrap_or(""), resource);
                f.layer = layer;
                out.push(f);
            }
        }
        out.sort_by(|a, b| (&a.check_id, &a.file).cmp(&(&b.check_id, &b.file)));
        out
    }

    fn finding(
        &self,
        meta: &CheckMeta,
        hit: Hit,
        path: &str,
        resource: Option<ResourceRef>,
    ) -> Misconfiguration {
        let severity = self
            .opts
            .severity_overrides
            .iter()
            .find(|(id, _)| id_matches(id, meta.id))
            .map(|(_, s)| *s)
            .unwrap_or(meta.severity);
        let display = resource.as_ref().map(|r| match &r.namespace {
            Some(ns) => format!("{}/{}/{}", r.kind, ns, r.name),
            None => format!("{}/{}", r.kind, r.name),
        });
        let suppressed = self
            .suppress
            .iter()
            .find(|s| {
                id_matches(&s.id, meta.id)
                    && s.path.as_ref().is_none_or(|g| g.is_match(path))
                    && s.resource.as_ref().is_none_or(|r| {
                        display.as_deref().is_some_and(|d| d == r || resource_short(d) == r.as_str())
                    })
            })
            .map(|s| format!("config: {}", s.reason));
        let mut references: Vec<String> = meta.references.iter().map(|s| s.to_string()).collect();
        references.extend(meta.peers.iter().map(|s| s.to_string()));
        Misconfiguration {
            check_id: meta.id.to_string(),
            title: meta.title.to_string(),
            severity,
            file: path.to_string(),
            line: hit.line,
            column: hit.col,
            resource,
            container: hit.container,
            message: hit.message,
            remediation: meta.remediation.to_string(),
            references,
            layer: None,
            suppressed,
        }
    }
}

/// Read the CustomResourceDefinitions of `--crd` files. A file that cannot be read or parsed, or that holds
/// no CRD with a schema, is an error naming it.
fn load_crds(paths: &[std::path::PathBuf]) -> Result<crate::schema::CrdSchemas, ChecksError> {
    let mut map = std::collections::HashMap::new();
    for p in paths {
        let shown = p.display();
        let text = std::fs::read_to_string(p)
            .map_err(|e| ChecksError::Input(format!("--crd {shown}: cannot read: {e}")))?;
        let before = map.len();
        for doc in load_all(&text) {
            let node = doc.map_err(|e| ChecksError::Input(format!("--crd {shown}: {e}")))?;
            for obj in Object::expand(node) {
                if obj.kind == "CustomResourceDefinition" {
                    map.extend(crate::schema::crd_schemas(&obj.root));
                }
            }
        }
        if map.len() == before {
            return Err(ChecksError::Input(format!(
                "--crd {shown}: no CustomResourceDefinition with a version schema (spec.versions[].schema.openAPIV3Schema)"
            )));
        }
    }
    Ok(crate::schema::CrdSchemas(std::sync::Arc::new(map)))
}

/// `Kind/ns/name` -> `Kind/name`.
fn resource_short(d: &str) -> String {
    let parts: Vec<&str> = d.split('/').collect();
    match parts.as_slice() {
        [k, _, n] => format!("{k}/{n}"),
        _ => d.to_string(),
    }
}

fn sort(f: &mut [Misconfiguration]) {
    f.sort_by(|a, b| (a.line, a.column, &a.check_id).cmp(&(b.line, b.column, &b.check_id)));
}

/// Parse `palisade.io/ignore` on the object and its pod template: entries `ID[: reason]` separated by `;`,
/// `,` or newlines.
fn annotation_ignores(obj: &Object) -> Vec<(String, String)> {
    let mut values: Vec<String> = obj.annotation(IGNORE_ANNOTATION).map(str::to_string).into_iter().collect();
    if let Some(pod) = obj.pod() {
        for (k, v) in pod.annotations() {
            if k.name == IGNORE_ANNOTATION {
                values.extend(v.scalar_text());
            }
        }
    }
    parse_ignore_list(&values.join(";"))
}

/// Parse an ignore list: `PAL-K8S-014: reason; PAL-DF-0*`.
pub fn parse_ignore_list(s: &str) -> Vec<(String, String)> {
    s.split([';', ',', '\n'])
        .filter_map(|e| {
            let e = e.trim();
            if e.is_empty() {
                return None;
            }
            let (id, reason) = match e.split_once(':') {
                Some((i, r)) => (i.trim(), r.trim()),
                None => (e, ""),
            };
            let reason = if reason.is_empty() { "no reason given".to_string() } else { reason.to_string() };
            Some((id.to_string(), reason))
        })
        .collect()
}

/// Dockerfile inline suppressions: a comment line `# palisade:ignore PAL-DF-009: reason` suppresses the
/// named checks on the next line. Returns (comment line, id, reason).
fn inline_ignores(text: &str) -> Vec<(u32, String, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix('#') else { continue };
        let Some(list) = rest.trim_start().strip_prefix("palisade:ignore") else { continue };
        let list = list.trim_start_matches(['=', ' ']);
        for (id, reason) in parse_ignore_list(list) {
            out.push((u32::try_from(i + 1).unwrap_or(u32::MAX), id, reason));
        }
    }
    out
}

/// Number of line ends in `data` (for the line of a byte offset).
fn memchr_lines(data: &[u8]) -> u32 {
    u32::try_from(data.iter().filter(|&&b| b == b'\n').count()).unwrap_or(u32::MAX)
}
