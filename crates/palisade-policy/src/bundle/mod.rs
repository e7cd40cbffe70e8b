//! Policy bundles: a directory with one manifest, `palisade-policy.yaml`, and the policy files it includes.
//!
//! ```yaml
//! apiVersion: palisade.dev/v1
//! kind: PolicyBundle
//! metadata:
//!   name: platform-policies
//!   version: 1.4.0
//! spec:
//!   include: ["gates/", "rego/", "kyverno/"]   # default: the whole directory
//!   exclude: ["**/testdata/**"]
//! ```
//!
//! Files are recognised by what they hold, so existing policy repositories load as they are: `*.rego`
//! (conftest policies, Gatekeeper Rego libraries), and YAML/JSON documents by `apiVersion`/`kind`
//! (Gatekeeper `ConstraintTemplate` and constraints, `ValidatingAdmissionPolicy` and bindings, Kyverno
//! `ClusterPolicy`/`Policy`/`ValidatingPolicy`/`PolicyException`, Palisade `Gate`). Runtime profiles
//! (`palisade.io/v1alpha1` `PalisadeProfile` and `PalisadeGlobalRules`, conventionally under `profiles/`)
//! are kept for the node agent ([`Role::Profile`]; `palisade_runtime::profile` reads them). Test files (gator
//! `Suite`, Kyverno `Test`, Rego `*_test.rego`) and data documents are kept for `policy test` and as
//! inventory. A directory without a manifest is loaded as a bundle of everything in it.
//!
//! Loading never stops at the first bad file: each problem becomes a [`LoadError`] naming the file, line
//! and column, and the rest of the bundle loads ([`Bundle::errors`]; `policy lint` fails on them).

pub mod archive;
pub mod oci;

use crate::engine::{Language, LoadError, Policy, SourceLocation, TestResult};
use globset::{Glob, GlobSet, GlobSetBuilder};
use palisade_checks::yaml;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The manifest's file name.
pub const MANIFEST: &str = "palisade-policy.yaml";
/// Largest policy file read (a bundle is source code; anything bigger is a mistake or an attack).
pub const MAX_FILE_SIZE: u64 = 8 * 1024 * 1024;
/// Most files a bundle may hold.
pub const MAX_FILES: usize = 20_000;

/// The manifest, `palisade-policy.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    /// Paths or globs relative to the bundle root; empty = everything.
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// `spec.regoVersion`: `v0` or `v1` reads every conftest `.rego` file in that dialect only; `None`
    /// (the default) tries v1, then v0, for each file. `policy eval/test --rego-version` set it too.
    pub rego_version: Option<String>,
}

/// One YAML/JSON document of a bundle file, with the line it starts on.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub line: usize,
    /// The document with positions, for messages that point inside it.
    pub node: yaml::Node,
}

impl Document {
    pub fn api_version(&self) -> &str {
        self.value.get("apiVersion").and_then(Value::as_str).unwrap_or("")
    }
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
    }
    /// Line and column of the value at `path` (map keys and list indexes as text), or of the deepest part of
    /// it that exists: messages about a field point at the field.
    pub fn locate<S: AsRef<str>>(&self, path: &[S]) -> (usize, usize) {
        let mut node = &self.node;
        let mut at = (node.line as usize, node.col as usize);
        for seg in path {
            let seg = seg.as_ref();
            let next = match &node.value {
                yaml::Value::Map(entries) => entries.iter().find(|(k, _)| k.name == seg).map(|(k, v)| {
                    at = (k.line as usize, k.col as usize);
                    v
                }),
                yaml::Value::Seq(items) => {
                    seg.parse::<usize>().ok().and_then(|i| items.get(i)).inspect(|v| {
                        at = (v.line as usize, v.col as usize);
                    })
                }
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        at
    }

    /// The API group: `apiVersion` before the `/` (empty for the core group).
    pub fn group(&self) -> &str {
        self.api_version().rsplit_once('/').map(|(g, _)| g).unwrap_or("")
    }
}

/// What a file (or document) of a bundle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A policy in one of the engines' languages.
    Policy(Language),
    /// A test definition (`*_test.rego`, gator `Suite`, Kyverno `Test`, Palisade cases).
    Test,
    /// A runtime profile or global-rules document (`palisade.io`), for the node agent.
    Profile,
    /// Anything else: Kubernetes objects used as inventory or context, parameters, test inputs.
    Data,
}

/// A file of the bundle, read once and shared by every engine's loader.
#[derive(Debug, Clone)]
pub struct BundleFile {
    /// The path as given (under the bundle root).
    pub path: PathBuf,
    /// The path relative to the bundle root, `/`-separated.
    pub rel: String,
    pub text: String,
    /// For YAML/JSON files, the documents that loaded (errors are in the bundle's errors).
    pub documents: Vec<Document>,
}

impl BundleFile {
    pub fn is_rego(&self) -> bool {
        self.rel.ends_with(".rego")
    }

    /// A location in this file.
    pub fn at(&self, line: usize, column: usize) -> SourceLocation {
        SourceLocation { path: self.path.clone(), line, column }
    }
}

/// The role of a YAML/JSON document, by `apiVersion` and `kind`.
pub fn document_role(doc: &Document) -> Role {
    let (group, kind) = (doc.group(), doc.kind());
    match (group, kind) {
        ("templates.gatekeeper.sh", "ConstraintTemplate") | ("constraints.gatekeeper.sh", _) => {
            Role::Policy(Language::Rego)
        }
        (
            "admissionregistration.k8s.io",
            "ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding",
        )
        | ("policies.kyverno.io", _) => Role::Policy(Language::Cel),
        ("kyverno.io", "ClusterPolicy" | "Policy" | "PolicyException") => Role::Policy(Language::Kyverno),
        ("palisade.dev", "Gate") => Role::Policy(Language::Gate),
        ("palisade.io", "PalisadeProfile" | "PalisadeGlobalRules") => Role::Profile,
        ("test.gatekeeper.sh", "Suite")
        | ("cli.kyverno.io" | "kyverno.io", "Test")
        | ("palisade.dev", "PolicyTest") => Role::Test,
        ("", "Test") if doc.value.get("results").is_some() => Role::Test,
        _ => Role::Data,
    }
}

/// A bundle, read and split into files; engines compile it with [`Bundle::compile`].
#[derive(Debug, Default)]
pub struct Bundle {
    pub root: PathBuf,
    pub manifest: Manifest,
    /// Whether `palisade-policy.yaml` was present.
    pub has_manifest: bool,
    pub files: Vec<BundleFile>,
    /// Problems found so far: unreadable files, YAML errors, then each engine's compile errors.
    pub errors: Vec<LoadError>,
}

/// A bundle compiled by every engine: the policies to evaluate, and what could not be loaded.
#[derive(Debug, Default)]
pub struct Compiled {
    pub name: String,
    pub version: String,
    pub policies: Vec<Box<dyn Policy>>,
    pub errors: Vec<LoadError>,
}

/// An engine's loader: compile the policies of its language from the bundle's files.
pub type Loader = fn(&Bundle, &mut Vec<Box<dyn Policy>>, &mut Vec<LoadError>);

/// Every engine's loader, registered here once.
pub fn loaders() -> &'static [(Language, Loader)] {
    &[
        (Language::Gate, crate::engine::gate::load),
        (Language::Rego, crate::engine::rego::load),
        (Language::Cel, crate::engine::cel::load),
        (Language::Kyverno, crate::engine::kyverno::load),
    ]
}

/// A test runner for `palisade policy test`: finds its test files in the bundle (gator `Suite`, Kyverno
/// `Test`, Rego `test_*` rules, Palisade cases), runs them against the compiled policies, one result per case.
pub type TestRunner = fn(&Bundle, &Compiled) -> Vec<TestResult>;

/// Every test runner, registered here once.
pub fn test_runners() -> &'static [(&'static str, TestRunner)] {
    &[
        ("rego", crate::engine::rego::tests::run_rego_tests),
        ("gator", crate::engine::rego::tests::run_gator_suites),
        ("kyverno", crate::engine::kyverno::test_runner::run),
    ]
}

/// Why a bundle could not be read at all (a problem in one file is a [`LoadError`] instead).
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{}: cannot read the policy bundle: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Manifest { path: PathBuf, message: String },
}

impl Bundle {
    /// Read the bundle at `root`: a directory (with or without a manifest), a manifest file, or one policy
    /// file. Symbolic links are not followed; files over [`MAX_FILE_SIZE`] and non-UTF-8 files are errors.
    pub fn read(root: &Path) -> Result<Bundle, BundleError> {
        let io = |source| BundleError::Io { path: root.to_path_buf(), source };
        let meta = std::fs::symlink_metadata(root).map_err(io)?;
        let mut bundle = Bundle { root: root.to_path_buf(), ..Bundle::default() };
        let (dir, single) = if meta.is_dir() {
            (root.to_path_buf(), None)
        } else if root.file_name().is_some_and(|n| n == MANIFEST) {
            (root.parent().unwrap_or(Path::new(".")).to_path_buf(), None)
        } else {
            (root.parent().unwrap_or(Path::new(".")).to_path_buf(), Some(root.to_path_buf()))
        };
        bundle.root = dir.clone();
        let manifest_path = dir.join(MANIFEST);
        if single.is_none() && manifest_path.is_file() {
            bundle.manifest = read_manifest(&manifest_path)?;
            bundle.has_manifest = true;
        }
        let paths = match single {
            Some(p) => vec![p],
            None => walk(&dir, &bundle.manifest, &mut bundle.errors)?,
        };
        for path in paths {
            if let Some(file) = read_file(&dir, &path, &mut bundle.errors) {
                bundle.files.push(file);
            }
        }
        Ok(bundle)
    }

    /// Compile with every registered engine. Errors from one file never stop the others.
    pub fn compile(&self) -> Compiled {
        let mut compiled = Compiled {
            name: self.manifest.name.clone(),
            version: self.manifest.version.clone(),
            errors: self.errors.clone(),
            ..Compiled::default()
        };
        for (_, load) in loaders() {
            load(self, &mut compiled.policies, &mut compiled.errors);
        }
        compiled
    }

    /// The YAML/JSON documents of the bundle with the given role, with their file.
    pub fn documents(&self, role: Role) -> impl Iterator<Item = (&BundleFile, &Document)> {
        self.files.iter().flat_map(move |f| {
            f.documents.iter().filter(move |d| document_role(d) == role).map(move |d| (f, d))
        })
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    #[serde(default)]
    metadata: RawMeta,
    #[serde(default)]
    spec: RawSpec,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default, rename = "regoVersion")]
    rego_version: Option<String>,
}

fn read_manifest(path: &Path) -> Result<Manifest, BundleError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| BundleError::Io { path: path.to_path_buf(), source })?;
    let raw: RawManifest = serde_saphyr::from_str(&text).map_err(|e| {
        let line = e.location().map(|l| l.line()).unwrap_or(0);
        let first = e.to_string().lines().next().unwrap_or("").to_string();
        BundleError::Manifest { path: path.to_path_buf(), message: format!("line {line}: {first}") }
    })?;
    if let Some(v) = raw.spec.rego_version.as_deref()
        && v != "v0"
        && v != "v1"
    {
        return Err(BundleError::Manifest {
            path: path.to_path_buf(),
            message: format!("spec.regoVersion must be v0 or v1, found {v:?}"),
        });
    }
    if raw.api_version != "palisade.dev/v1" || raw.kind != "PolicyBundle" {
        return Err(BundleError::Manifest {
            path: path.to_path_buf(),
            message: format!(
                "expected apiVersion palisade.dev/v1 and kind PolicyBundle, found {} {}",
                raw.api_version, raw.kind
            ),
        });
    }
    Ok(Manifest {
        name: raw.metadata.name,
        version: raw.metadata.version,
        include: raw.spec.include,
        exclude: raw.spec.exclude,
        rego_version: raw.spec.rego_version,
    })
}

/// Glob set of include/exclude entries: a directory entry (`rego/`) matches everything under it.
fn globs(entries: &[String], path: &Path) -> Result<GlobSet, BundleError> {
    let mut b = GlobSetBuilder::new();
    for e in entries {
        let e = e.trim_start_matches("./");
        let pattern = if e.ends_with('/') { format!("{e}**") } else { e.to_string() };
        for p in [pattern.clone(), format!("{}/**", pattern.trim_end_matches('/'))] {
            let g = Glob::new(&p).map_err(|err| BundleError::Manifest {
                path: path.join(MANIFEST),
                message: format!("invalid include/exclude pattern {e:?}: {err}"),
            })?;
            b.add(g);
        }
    }
    b.build().map_err(|err| BundleError::Manifest { path: path.join(MANIFEST), message: err.to_string() })
}

/// The policy files under `dir`: `.rego`, `.yaml`, `.yml`, `.json`, sorted, hidden entries and symbolic links
/// skipped, filtered by the manifest's include/exclude lists.
fn walk(dir: &Path, manifest: &Manifest, errors: &mut Vec<LoadError>) -> Result<Vec<PathBuf>, BundleError> {
    let include = globs(&manifest.include, dir)?;
    let exclude = globs(&manifest.exclude, dir)?;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if d == dir => return Err(BundleError::Io { path: d, source: e }),
            Err(e) => {
                errors.push(LoadError {
                    location: SourceLocation { path: d.clone(), line: 0, column: 0 },
                    message: format!("cannot read directory: {e}"),
                    unsupported: false,
                });
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(ft) = entry.file_type() else { continue };
            let path = entry.path();
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() {
                let rel = rel_path(dir, &path);
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                if !matches!(ext, "rego" | "yaml" | "yml" | "json") || rel == MANIFEST {
                    continue;
                }
                if (!manifest.include.is_empty() && !include.is_match(&rel)) || exclude.is_match(&rel) {
                    continue;
                }
                out.push(path);
                if out.len() > MAX_FILES {
                    return Err(BundleError::Manifest {
                        path: dir.to_path_buf(),
                        message: format!("more than {MAX_FILES} policy files: narrow spec.include"),
                    });
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn rel_path(dir: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

fn read_file(dir: &Path, path: &Path, errors: &mut Vec<LoadError>) -> Option<BundleFile> {
    let at = |message: String| LoadError {
        location: SourceLocation { path: path.to_path_buf(), line: 0, column: 0 },
        message,
        unsupported: false,
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.len() > MAX_FILE_SIZE => {
            errors.push(at(format!(
                "{} bytes is over the {MAX_FILE_SIZE}-byte limit for a policy file",
                m.len()
            )));
            return None;
        }
        Ok(m) if !m.is_file() => {
            errors.push(at("not a regular file".into()));
            return None;
        }
        Ok(_) => {}
        Err(e) => {
            errors.push(at(format!("cannot read: {e}")));
            return None;
        }
    }
    let text = match std::fs::read(path).map(String::from_utf8) {
        Ok(Ok(t)) => t,
        Ok(Err(_)) => {
            errors.push(at("not UTF-8 text".into()));
            return None;
        }
        Err(e) => {
            errors.push(at(format!("cannot read: {e}")));
            return None;
        }
    };
    let mut file =
        BundleFile { path: path.to_path_buf(), rel: rel_path(dir, path), text, documents: Vec::new() };
    if !file.is_rego() {
        for doc in load_yaml(&file.text) {
            match doc {
                Ok(node) => {
                    let value = node.to_json();
                    if value.is_null() {
                        continue;
                    }
                    file.documents.push(Document { value, line: node.line as usize, node });
                }
                Err(e) => errors.push(LoadError {
                    location: file.at(e.line as usize, e.col as usize),
                    message: e.message.clone(),
                    unsupported: false,
                }),
            }
        }
    }
    Some(file)
}

/// Largest number of quoted-scalar continuation lines [`load_yaml`] re-indents in one file.
const MAX_REINDENTS: usize = 64;

/// Load YAML documents as Kubernetes does. `palisade_checks::yaml` follows YAML 1.2 in rejecting a
/// multi-line quoted scalar whose continuation line is not indented deeper than its key; libyaml (and so
/// kubectl, Gatekeeper and the upstream policy libraries) accepts it. Leading spaces of a continuation line
/// are folded away, so such a line is indented two more spaces and the file read again; values and line
/// numbers are unchanged.
pub fn load_yaml(text: &str) -> Vec<yaml::DocResult> {
    let mut docs = yaml::load_all(text);
    let mut owned: Option<String> = None;
    for _ in 0..MAX_REINDENTS {
        let Some((line, col)) = docs.iter().find_map(|d| match d {
            Err(e) if e.message.contains("indentation in quoted scalar") && e.line > 0 => {
                Some((e.line as usize, e.col as usize))
            }
            _ => None,
        }) else {
            break;
        };
        let current = owned.as_deref().unwrap_or(text);
        let mut lines: Vec<String> = current.split('\n').map(str::to_owned).collect();
        // The error points at the opening quote; indent the scalar's continuation lines up to the closing one.
        let quote = lines.get(line - 1).and_then(|l| l.chars().nth(col.saturating_sub(1))).unwrap_or('"');
        let quote = if quote == '\'' { '\'' } else { '"' };
        let mut changed = false;
        for l in lines.iter_mut().skip(line) {
            l.insert_str(0, "  ");
            changed = true;
            if l.contains(quote) {
                break;
            }
        }
        if !changed {
            break;
        }
        let next = lines.join("\n");
        docs = yaml::load_all(&next);
        owned = Some(next);
    }
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_scalars_continued_at_the_key_indentation_load() {
        let text = "a:\n  description: \"one\n  two\"\n  b: 1\n";
        let docs: Vec<_> = load_yaml(text).into_iter().map(|d| d.unwrap().to_json()).collect();
        assert_eq!(docs, [serde_json::json!({"a": {"description": "one two", "b": 1}})]);
    }

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn reads_manifest_include_exclude_and_roles() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            MANIFEST,
            "apiVersion: palisade.dev/v1\nkind: PolicyBundle\nmetadata: {name: p, version: 1.2.0}\n\
             spec: {include: [rego/, k8s/], exclude: ['**/skip/**']}\n",
        );
        write(d.path(), "rego/a.rego", "package a\n");
        write(d.path(), "rego/skip/b.rego", "package b\n");
        write(d.path(), "other/c.rego", "package c\n");
        write(
            d.path(),
            "k8s/t.yaml",
            "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: x}\n---\n\
             apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: y}\n---\nkind: [\n",
        );
        let b = Bundle::read(d.path()).unwrap();
        assert!(b.has_manifest);
        assert_eq!((b.manifest.name.as_str(), b.manifest.version.as_str()), ("p", "1.2.0"));
        let rels: Vec<_> = b.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["k8s/t.yaml", "rego/a.rego"]);
        let roles: Vec<_> = b.files[0].documents.iter().map(document_role).collect();
        assert_eq!(roles, [Role::Policy(Language::Rego), Role::Policy(Language::Kyverno)]);
        assert_eq!(b.errors.len(), 1, "{:?}", b.errors);
        assert!(b.errors[0].location.path.ends_with("k8s/t.yaml"));
        assert_eq!(b.documents(Role::Policy(Language::Kyverno)).count(), 1);
    }

    #[test]
    fn runtime_profiles_have_their_own_role() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "profiles/web.yaml",
            "apiVersion: palisade.io/v1alpha1\nkind: PalisadeProfile\nmetadata: {name: web}\n\
             spec: {workload: {kind: Image, name: web}}\n",
        );
        let b = Bundle::read(d.path()).unwrap();
        assert!(b.errors.is_empty(), "{:?}", b.errors);
        assert_eq!(b.documents(Role::Profile).count(), 1);
        assert_eq!(b.documents(Role::Data).count(), 0);
    }

    #[test]
    fn bad_manifest_names_the_file() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), MANIFEST, "apiVersion: v1\nkind: ConfigMap\n");
        let e = Bundle::read(d.path()).unwrap_err().to_string();
        assert!(e.contains(MANIFEST) && e.contains("PolicyBundle"), "{e}");
        write(d.path(), MANIFEST, "apiVersion: palisade.dev/v1\nkind: PolicyBundle\nspec: {includes: []}\n");
        let e = Bundle::read(d.path()).unwrap_err().to_string();
        assert!(e.contains("includes"), "{e}");
    }

    #[test]
    fn directory_without_manifest_and_single_file() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "p.rego", "package p\n");
        write(d.path(), "notes.txt", "x");
        let b = Bundle::read(d.path()).unwrap();
        assert!(!b.has_manifest);
        assert_eq!(b.files.len(), 1);
        let b = Bundle::read(&d.path().join("p.rego")).unwrap();
        assert_eq!(b.files.len(), 1);
        assert!(Bundle::read(&d.path().join("absent")).is_err());
    }
}
