//! A policy bundle as an OCI artifact: `palisade policy push/pull`, and `--bundle oci://REF@sha256:…`.
//!
//! The artifact is an OCI image manifest with its own `artifactType` ([`ARTIFACT_TYPE`]), the empty config
//! (`application/vnd.oci.empty.v1+json`) and one layer ([`LAYER_MEDIA_TYPE`]): the bundle directory as a
//! tar+gzip ([`super::archive`]). The manifest carries the bundle's name and version
//! (`palisade-policy.yaml`'s `metadata`) as annotations ([`ANNOTATION_VERSION`], [`ANNOTATION_NAME`], and
//! `org.opencontainers.image.version`).
//!
//! Pulls are by digest: a reference without one is refused unless the caller allows tags. What is pulled is
//! verified before it is used: the manifest's digest (computed, never taken from a header), its artifact and
//! media types, exactly one layer, the layer's size and digest, a safe unpack, and the version annotation
//! against the unpacked manifest. Verified bundles are cached by manifest digest under
//! `<cache>/policy-bundles/sha256-<hex>/`; a cached digest is used without contacting the registry.
//!
//! Registry access goes through `palisade_signing::registry::Registry` (oci-client, with the credentials
//! `palisade-artifact` uses for pulls).

use super::archive;
use palisade_signing::registry::{MT_OCI_MANIFEST, Registry, parse_reference};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The manifest's `artifactType`.
pub const ARTIFACT_TYPE: &str = "application/vnd.palisade.policy.bundle.v1";
/// The one layer's media type.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.palisade.policy.bundle.layer.v1.tar+gzip";
/// The OCI empty descriptor's media type, used for the config.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// Annotation carrying `metadata.version` of the bundle manifest.
pub const ANNOTATION_VERSION: &str = "dev.palisade.policy.bundle.version";
/// Annotation carrying `metadata.name` of the bundle manifest.
pub const ANNOTATION_NAME: &str = "dev.palisade.policy.bundle.name";
/// The URL scheme `--bundle` accepts for a bundle in a registry.
pub const SCHEME: &str = "oci://";
/// Largest layer accepted (the registry client reads at most this much of a blob).
pub const MAX_LAYER: u64 = palisade_signing::registry::MAX_DOCUMENT as u64;

/// Registry and cache options of a push or a pull.
#[derive(Debug, Clone)]
pub struct OciOptions {
    /// Allow plain HTTP to the registry.
    pub insecure: bool,
    /// Accept a reference without a digest (it is resolved to one, and the bundle cached by that digest).
    pub allow_tag: bool,
    /// Where verified bundles are cached (`<cache_dir>/policy-bundles/`).
    pub cache_dir: PathBuf,
    /// Bound on each registry request.
    pub timeout: Duration,
}

impl Default for OciOptions {
    fn default() -> Self {
        OciOptions {
            insecure: false,
            allow_tag: false,
            cache_dir: palisade_core::default_cache_dir(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Why a push or a pull failed; the message names the reference (or directory).
#[derive(Debug, thiserror::Error)]
#[error("{target}: {message}")]
pub struct OciError {
    pub target: String,
    pub message: String,
}

fn fail(target: impl std::fmt::Display, message: impl Into<String>) -> OciError {
    OciError { target: target.to_string(), message: message.into() }
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// `registry/repository@sha256:…`: what to pull, and what to give `--bundle oci://`.
    pub pinned: String,
    pub digest: String,
    pub files: usize,
    pub name: String,
    pub version: String,
    /// Entries of the directory left out (links, special files).
    pub warnings: Vec<String>,
}

/// What a pull produced.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The directory holding the verified bundle.
    pub dir: PathBuf,
    pub digest: String,
    pub version: String,
    /// Whether the bundle came from the cache (no registry request).
    pub cached: bool,
}

/// Push the bundle directory `dir` to `reference` (a tag, or a repository: tag `latest`).
pub fn push(dir: &Path, reference: &str, opts: &OciOptions) -> Result<Pushed, OciError> {
    let bundle = super::Bundle::read(dir).map_err(|e| fail(dir.display(), e.to_string()))?;
    if !std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        return Err(fail(dir.display(), "a bundle to push must be a directory"));
    }
    let packed = archive::pack(dir).map_err(|e| fail(dir.display(), e.to_string()))?;
    if packed.bytes.len() as u64 > MAX_LAYER {
        return Err(fail(
            dir.display(),
            format!("the archive is {} bytes, over the {MAX_LAYER}-byte layer limit", packed.bytes.len()),
        ));
    }
    let r = parse_reference(reference).map_err(|e| fail(reference, e.to_string()))?;
    if r.digest().is_some() {
        return Err(fail(reference, "push to a tag (or a repository), not a digest"));
    }
    let reg = Registry::for_reference(&r, opts.insecure)
        .map_err(|e| fail(reference, e.to_string()))?
        .with_timeout(opts.timeout);
    let layer_digest = reg.push_blob(&r, &packed.bytes).map_err(|e| fail(reference, e.to_string()))?;
    let config_digest = reg.push_blob(&r, b"{}").map_err(|e| fail(reference, e.to_string()))?;
    let (name, version) = (bundle.manifest.name.clone(), bundle.manifest.version.clone());
    let mut annotations = serde_json::Map::new();
    annotations.insert(ANNOTATION_VERSION.into(), json!(version));
    annotations.insert(ANNOTATION_NAME.into(), json!(name));
    if !version.is_empty() {
        annotations.insert("org.opencontainers.image.version".into(), json!(version));
    }
    if !name.is_empty() {
        annotations.insert("org.opencontainers.image.title".into(), json!(name));
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MT_OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": config_digest, "size": 2, "data": "e30="},
        "layers": [{
            "mediaType": LAYER_MEDIA_TYPE,
            "digest": layer_digest,
            "size": packed.bytes.len(),
            "annotations": {"org.opencontainers.image.title": "bundle.tar.gz"},
        }],
        "annotations": annotations,
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| fail(reference, e.to_string()))?;
    let digest =
        reg.push_manifest(&r, &bytes, MT_OCI_MANIFEST).map_err(|e| fail(reference, e.to_string()))?;
    Ok(Pushed {
        pinned: format!("{}/{}@{digest}", r.registry(), r.repository()),
        digest,
        files: packed.files,
        name,
        version,
        warnings: packed.warnings,
    })
}

/// Pull `reference` (see the module documentation) into the cache, or use the cached copy of its digest.
pub fn pull(reference: &str, opts: &OciOptions) -> Result<Pulled, OciError> {
    let reference = reference.strip_prefix(SCHEME).unwrap_or(reference);
    let r = parse_reference(reference).map_err(|e| fail(reference, e.to_string()))?;
    if r.digest().is_none() && !opts.allow_tag {
        return Err(fail(
            reference,
            "a policy bundle is pulled by digest (REF@sha256:…); a tag can move, so it is refused unless \
             --allow-tag is given",
        ));
    }
    let root = opts.cache_dir.join("policy-bundles");
    if let Some(d) = r.digest()
        && let Some(dir) = cached(&root, d)
    {
        return Ok(Pulled { version: read_version(&dir), dir, digest: d.to_string(), cached: true });
    }
    let reg = Registry::for_reference(&r, opts.insecure)
        .map_err(|e| fail(reference, e.to_string()))?
        .with_timeout(opts.timeout);
    // `manifest` computes the digest and checks it against the one pinned in the reference.
    let m = reg.resolve(&r).map_err(|e| fail(reference, e.to_string()))?;
    if let Some(dir) = cached(&root, &m.digest) {
        return Ok(Pulled { version: read_version(&dir), dir, digest: m.digest, cached: true });
    }
    let doc: Value = serde_json::from_slice(&m.bytes)
        .map_err(|e| fail(reference, format!("the manifest is not JSON: {e}")))?;
    let (layer_digest, annotated) = check_manifest(&doc).map_err(|msg| fail(reference, msg))?;
    let layer = reg.blob(&r, &layer_digest).map_err(|e| fail(reference, e.to_string()))?;
    std::fs::create_dir_all(&root).map_err(|e| fail(root.display(), e.to_string()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(&root)
        .map_err(|e| fail(root.display(), e.to_string()))?;
    archive::unpack(&layer, tmp.path()).map_err(|e| fail(reference, e.to_string()))?;
    let version = read_version(tmp.path());
    if version != annotated {
        return Err(fail(
            reference,
            format!(
                "the bundle's palisade-policy.yaml says version {version:?} but the artifact is annotated \
                 {annotated:?}"
            ),
        ));
    }
    let dir = root.join(m.digest.replace(':', "-"));
    let kept = tmp.keep();
    if let Err(e) = std::fs::rename(&kept, &dir) {
        let _ = std::fs::remove_dir_all(&kept);
        // Another process cached the same digest meanwhile: its copy was verified as well.
        if cached(&root, &m.digest).is_none() {
            return Err(fail(dir.display(), format!("cannot store the pulled bundle: {e}")));
        }
    }
    Ok(Pulled { dir, digest: m.digest, version, cached: false })
}

/// Pull `reference` and copy the verified bundle into `out` (which must not exist, or be empty).
pub fn pull_to(reference: &str, out: &Path, opts: &OciOptions) -> Result<Pulled, OciError> {
    if out.exists() && std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(fail(out.display(), "the output directory exists and is not empty"));
    }
    let pulled = pull(reference, opts)?;
    copy_tree(&pulled.dir, out).map_err(|e| fail(out.display(), e.to_string()))?;
    Ok(Pulled { dir: out.to_path_buf(), ..pulled })
}

/// `--bundle` as given: an `oci://` reference is pulled (or taken from the cache) and its directory
/// returned; anything else is a local path, returned unchanged.
pub fn resolve(bundle: &Path, opts: &OciOptions) -> Result<PathBuf, OciError> {
    match bundle.to_str().and_then(|s| s.strip_prefix(SCHEME)) {
        Some(reference) => pull(reference, opts).map(|p| p.dir),
        None => Ok(bundle.to_path_buf()),
    }
}

/// The cached directory of `digest`, when present (directories are only ever renamed in complete).
fn cached(root: &Path, digest: &str) -> Option<PathBuf> {
    let hex = digest.strip_prefix("sha256:")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let dir = root.join(format!("sha256-{hex}"));
    dir.is_dir().then_some(dir)
}

/// `metadata.version` of the bundle manifest in `dir` (empty without one).
fn read_version(dir: &Path) -> String {
    if !dir.join(super::MANIFEST).is_file() {
        return String::new();
    }
    super::Bundle::read(dir).map(|b| b.manifest.version).unwrap_or_default()
}

/// Check the artifact manifest; returns the layer digest and the version annotation.
fn check_manifest(doc: &Value) -> Result<(String, String), String> {
    let s = |p: &str| doc.pointer(p).and_then(Value::as_str);
    if s("/mediaType").is_some_and(|m| m != MT_OCI_MANIFEST) {
        return Err(format!("not an OCI image manifest (mediaType {})", s("/mediaType").unwrap_or("")));
    }
    let artifact_type = s("/artifactType").or_else(|| s("/config/mediaType")).unwrap_or("");
    if artifact_type != ARTIFACT_TYPE {
        return Err(format!(
            "not a Palisade policy bundle (artifactType {artifact_type:?}, expected {ARTIFACT_TYPE})"
        ));
    }
    let layers = doc.get("layers").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let [layer] = layers else {
        return Err(format!("a policy bundle has exactly one layer, this artifact has {}", layers.len()));
    };
    let media = layer.get("mediaType").and_then(Value::as_str).unwrap_or("");
    if media != LAYER_MEDIA_TYPE {
        return Err(format!("layer media type {media:?}, expected {LAYER_MEDIA_TYPE}"));
    }
    let size = layer.get("size").and_then(Value::as_u64).unwrap_or(u64::MAX);
    if size > MAX_LAYER {
        return Err(format!("the layer is {size} bytes, over the {MAX_LAYER}-byte limit"));
    }
    let digest = layer.get("digest").and_then(Value::as_str).unwrap_or("");
    if !digest.starts_with("sha256:") {
        return Err(format!("layer digest {digest:?} is not a sha256 digest"));
    }
    let version = s("/annotations/dev.palisade.policy.bundle.version").unwrap_or("").to_string();
    Ok((digest.to_string(), version))
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_refused_without_allow_tag_and_local_paths_pass_through() {
        let opts = OciOptions { cache_dir: PathBuf::from("/nonexistent"), ..OciOptions::default() };
        let e = pull("oci://127.0.0.1:9/policies:v1", &opts).expect_err("tag").to_string();
        assert!(e.contains("--allow-tag") && e.starts_with("127.0.0.1:9/policies:v1"), "{e}");
        let local = Path::new("bundles/main");
        assert_eq!(resolve(local, &opts).expect("local"), local);
    }

    #[test]
    fn manifests_that_are_not_bundles_are_refused() {
        let layer = json!({"mediaType": LAYER_MEDIA_TYPE, "digest": format!("sha256:{}", "a".repeat(64)), "size": 10});
        let ok = json!({"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST, "artifactType": ARTIFACT_TYPE,
            "layers": [layer], "annotations": {ANNOTATION_VERSION: "1.2.0"}});
        assert_eq!(check_manifest(&ok).expect("ok").1, "1.2.0");
        let mut image = ok.clone();
        image["artifactType"] = json!("application/vnd.oci.image.config.v1+json");
        assert!(check_manifest(&image).expect_err("image").contains("not a Palisade policy bundle"));
        let mut two = ok.clone();
        two["layers"] = json!([layer, layer]);
        assert!(check_manifest(&two).expect_err("two").contains("exactly one layer"));
        let mut big = ok.clone();
        big["layers"][0]["size"] = json!(MAX_LAYER + 1);
        assert!(check_manifest(&big).expect_err("big").contains("limit"));
    }
}
