//! Images pulled from a registry over the OCI distribution API (oci-client).
//!
//! The public API stays synchronous: a current-thread tokio runtime is created inside the scan. Steps:
//! 1. credentials for the registry host from `~/.docker/config.json` or `$DOCKER_CONFIG` (plain `auth`
//!    entries and credential helpers, via `docker_credential`); none means anonymous. oci-client performs the
//!    basic or bearer-token exchange the registry asks for;
//! 2. the manifest or index named by the reference; from there [`image::resolve`] (shared with OCI layouts
//!    and containerd) follows nested indexes, picks the platform and reads the manifest and config, which
//!    [`RegistryBlobs`] fetches (manifests from the manifest endpoint, the config as a bounded blob);
//! 3. each layer blob is streamed to a temp file (oci-client checks the digest while downloading; up to 3 at
//!    once), then read like a local layer, so memory stays flat whatever the image size. Temp files live in
//!    a private temp directory removed at the end. A layer whose results the layer cache holds is not
//!    downloaded; should its entry turn out unusable when it is read, the layer is downloaded then.
//!
//! `insecure` allows plain HTTP to the registry named in the reference. Only one rustls crypto provider
//! (aws-lc-rs, through reqwest) is compiled in, so no provider needs installing.

use crate::image::{self, BlobSource, Descriptor, DocKind, MAX_JSON, PlannedLayer, TopDocument};
use crate::layer::Blob;
use crate::tree::FileTree;
use crate::{ArtifactError, FileSink, Options, warn};
use futures_util::{StreamExt, TryStreamExt};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use palisade_core::{ArtifactInfo, Warnings};
use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const ACCEPT: &[&str] =
    &[image::MT_OCI_MANIFEST, image::MT_DOCKER_MANIFEST, image::MT_OCI_INDEX, image::MT_DOCKER_LIST];

/// Scan an image reference from a registry.
pub(crate) fn scan_registry(
    reference: &str,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> Result<(ArtifactInfo, FileTree), ArtifactError> {
    let r: Reference = reference.parse().map_err(|e: oci_client::ParseError| {
        ArtifactError::BadReference { target: reference.into(), reason: e.to_string() }
    })?;
    let tmp = tempfile::tempdir().map_err(|e| ArtifactError::io("temporary directory", &e))?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        ArtifactError::Registry {
            target: reference.into(),
            reason: format!("cannot start the async runtime: {e}"),
        }
    })?;
    let protocol = if opts.insecure {
        ClientProtocol::HttpsExcept(vec![r.registry().to_string(), r.resolve_registry().to_string()])
    } else {
        ClientProtocol::Https
    };
    let client = Client::new(ClientConfig { protocol, platform_resolver: None, ..Default::default() });
    let auth = credentials(r.resolve_registry(), warnings);
    opts.stage(format!("pulling manifest of {reference}"));
    let (bytes, top_digest) =
        rt.block_on(client.pull_manifest_raw(&r, &auth, ACCEPT)).map_err(|e| map_err(reference, e))?;
    let src = RegistryBlobs {
        rt: &rt,
        client: &client,
        auth: &auth,
        reference: &r,
        dir: tmp.path(),
        limited: Mutex::new(None),
    };
    let names = if r.tag().is_some() { vec![r.whole()] } else { Vec::new() };
    let top = TopDocument { bytes: bytes.to_vec(), digest: Some(top_digest.clone()), names };
    let (mut info, layers, _) =
        image::resolve(&src, top, reference, reference, opts, warnings).map_err(|e| {
            // A document refused with 429 is a rate limit (retried by the caller), not a bad image.
            src.limited.lock().ok().and_then(|mut l| l.take()).unwrap_or(e)
        })?;
    info.source = Some("registry".into());
    info.repo_digests = vec![format!("{}/{}@{}", r.registry(), r.repository(), top_digest)];
    let cached = image::cached_blobs(&layers, opts, sink);
    rt.block_on(src.download(&layers, &cached, &info, opts, reference, warnings))?;
    // The manifest lists the blobs: a cached layer's blob is known to be there without downloading it.
    let open = |d: &str| src.open_layer(d);
    let tree = image::read_layers_with(open, |_: &str| true, &layers, &mut info, opts, sink, warnings);
    Ok((info, tree))
}

/// The blobs of one repository of a registry; layers are downloaded to `dir` before they are read.
struct RegistryBlobs<'a> {
    rt: &'a tokio::runtime::Runtime,
    client: &'a Client,
    auth: &'a RegistryAuth,
    reference: &'a Reference,
    dir: &'a Path,
    /// The rate-limit error a document read met (`read_document` can only return text).
    limited: Mutex<Option<ArtifactError>>,
}

impl RegistryBlobs<'_> {
    /// The error's text; a rate limit is also kept for [`scan_registry`] to return.
    fn note(&self, e: OciDistributionError) -> String {
        let e = map_err(&self.reference.whole(), e);
        let text = e.to_string();
        if matches!(e, ArtifactError::RateLimited { .. })
            && let Ok(mut l) = self.limited.lock()
        {
            *l = Some(e);
        }
        text
    }

    fn by_digest(&self, digest: &str) -> Reference {
        Reference::with_digest(
            self.reference.registry().to_string(),
            self.reference.repository().to_string(),
            digest.to_string(),
        )
    }

    /// Temp file of a layer blob (digests are validated by [`image::resolve`]).
    fn layer_path(&self, digest: &str) -> PathBuf {
        self.dir.join(digest.replace([':', '/'], "-"))
    }

    /// Download every layer not over `max_layer_bytes` and not in `cached` (the layer cache holds its
    /// results), each once, up to 3 at a time.
    async fn download(
        &self,
        layers: &[PlannedLayer],
        cached: &HashSet<String>,
        info: &ArtifactInfo,
        opts: &Options,
        target: &str,
        warnings: &Warnings,
    ) -> Result<(), ArtifactError> {
        let total = layers.len();
        let mut jobs: Vec<(usize, String, PathBuf)> = Vec::new();
        for (i, l) in layers.iter().enumerate() {
            let size = info.layers.get(l.spec.index as usize).and_then(|li| li.size);
            if size.is_some_and(|s| s > opts.limits.max_layer_bytes) {
                warn(
                    warnings,
                    None,
                    Some(l.spec.index),
                    format!(
                        "layer {i} ({}) is {} bytes compressed, over max_layer_bytes; not pulled",
                        l.blob,
                        size.unwrap_or_default()
                    ),
                );
            } else if cached.contains(&l.blob) {
                tracing::debug!("layer {i} ({}): in the layer cache, not pulled", l.blob);
            } else if !jobs.iter().any(|(_, d, _)| *d == l.blob) {
                jobs.push((i, l.blob.clone(), self.layer_path(&l.blob)));
            }
        }
        let (client, repo) = (self.client, self.reference);
        futures_util::stream::iter(jobs)
            .map(|(i, digest, path)| async move {
                opts.stage(format!("pulling layer {}/{total}", i + 1));
                let file = tokio::fs::File::create(&path)
                    .await
                    .map_err(|e| ArtifactError::io("temporary file", &e))?;
                client.pull_blob(repo, digest.as_str(), file).await.map_err(|e| map_err(target, e))
            })
            .buffer_unordered(3)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}

impl RegistryBlobs<'_> {
    /// Download a layer that was left out because the layer cache held it, now that its entry could not be
    /// used (removed or corrupt since): into a file of its own, renamed into place, so that two readers of
    /// the same blob never see half of it.
    fn fetch_late(&self, digest: &str, path: &Path) -> io::Result<()> {
        tracing::debug!("layer {digest}: its layer cache entry is unusable, pulling it");
        let part = tempfile::NamedTempFile::new_in(self.dir)?;
        let (part, part_path) = part.into_parts();
        self.rt
            .block_on(self.client.pull_blob(self.reference, digest, tokio::fs::File::from_std(part)))
            .map_err(|e| io::Error::other(format!("pulling layer {digest}: {e}")))?;
        part_path.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

impl BlobSource for RegistryBlobs<'_> {
    fn read_document(&self, desc: &Descriptor, kind: DocKind) -> Result<Vec<u8>, String> {
        if kind == DocKind::Manifest {
            let (b, _) = self
                .rt
                .block_on(self.client.pull_manifest_raw(&self.by_digest(&desc.digest), self.auth, ACCEPT))
                .map_err(|e| self.note(e))?;
            return Ok(b.to_vec());
        }
        self.rt.block_on(async {
            let mut stream = self
                .client
                .pull_blob_stream(self.reference, desc.digest.as_str())
                .await
                .map_err(|e| self.note(e))?;
            let mut out = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| e.to_string())?;
                if (out.len() + chunk.len()) as u64 > MAX_JSON {
                    return Err(format!("blob {} is over {MAX_JSON} bytes", desc.digest));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(out)
        })
    }

    fn open_layer(&self, digest: &str) -> io::Result<Blob> {
        let path = self.layer_path(digest);
        if !path.exists() {
            self.fetch_late(digest, &path)?;
        }
        // A stream, so that the downloaded blob's digest is verified as it is read.
        Ok(Blob::Stream(Box::new(std::fs::File::open(path)?)))
    }
}

/// The manifest (or index) digest a reference names today: the reference's own digest when it has one (no
/// network), else the registry's answer to a manifest HEAD (a GET when the registry sends no
/// `Docker-Content-Digest`), within `timeout`. Credentials as for pulls. The admission webhook and the
/// signing commands resolve tags through this, so what they check is a digest, never a tag.
pub fn resolve_digest(
    reference: &str,
    insecure: bool,
    timeout: std::time::Duration,
) -> Result<String, ArtifactError> {
    // `name@sha256:<64 hex>` names its digest: no parse. The reference grammar is one large regex whose
    // matcher keeps about 5 MB of scratch per thread that ever ran it, which a webhook judging images by
    // digest never needs.
    if let Some((name, digest)) = reference.rsplit_once('@')
        && !name.is_empty()
        && !name.contains(char::is_whitespace)
        && digest.strip_prefix("sha256:").is_some_and(|h| {
            h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
    {
        return Ok(digest.to_string());
    }
    let r: Reference = reference.parse().map_err(|e: oci_client::ParseError| {
        ArtifactError::BadReference { target: reference.into(), reason: e.to_string() }
    })?;
    if let Some(digest) = r.digest() {
        return Ok(digest.to_string());
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        ArtifactError::Registry {
            target: reference.into(),
            reason: format!("cannot start the async runtime: {e}"),
        }
    })?;
    let protocol = if insecure {
        ClientProtocol::HttpsExcept(vec![r.registry().to_string(), r.resolve_registry().to_string()])
    } else {
        ClientProtocol::Https
    };
    let client = Client::new(ClientConfig { protocol, platform_resolver: None, ..Default::default() });
    let auth = credentials(r.resolve_registry(), &Warnings::new());
    let lookup = async { tokio::time::timeout(timeout, client.fetch_manifest_digest(&r, &auth)).await };
    match rt.block_on(lookup) {
        Ok(Ok(digest)) => Ok(digest),
        Ok(Err(e)) => Err(map_err(reference, e)),
        Err(_) => Err(ArtifactError::Registry {
            target: reference.into(),
            reason: format!("no answer within {} ms", timeout.as_millis()),
        }),
    }
}

/// Credentials for a registry host from the docker config; anonymous when there are none.
pub fn credentials(registry: &str, warnings: &Warnings) -> RegistryAuth {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")));
    if !dir.is_some_and(|d| d.join("config.json").is_file()) {
        return RegistryAuth::Anonymous;
    }
    let mut keys = vec![registry.to_string(), format!("https://{registry}"), format!("http://{registry}")];
    if matches!(registry, "docker.io" | "index.docker.io" | "registry-1.docker.io") {
        keys.insert(0, "https://index.docker.io/v1/".into());
    }
    for k in keys {
        match docker_credential::get_credential(&k) {
            Ok(docker_credential::DockerCredential::UsernamePassword(u, p)) => {
                return RegistryAuth::Basic(u, p);
            }
            Ok(docker_credential::DockerCredential::IdentityToken(t)) => return RegistryAuth::Bearer(t),
            Err(
                docker_credential::CredentialRetrievalError::NoCredentialConfigured
                | docker_credential::CredentialRetrievalError::ConfigNotFound,
            ) => {}
            Err(e) => {
                warn(
                    warnings,
                    None,
                    None,
                    format!("docker credentials for {registry} unusable ({e}); pulling anonymously"),
                );
                return RegistryAuth::Anonymous;
            }
        }
    }
    RegistryAuth::Anonymous
}

pub(crate) fn map_err(target: &str, e: OciDistributionError) -> ArtifactError {
    let limited = |url: &str, reason: String| ArtifactError::RateLimited {
        target: target.into(),
        url: url.to_string(),
        reason,
    };
    match e {
        OciDistributionError::ServerError { code: 429, url, message } => limited(&url, message),
        OciDistributionError::RegistryError { envelope, url }
            if envelope
                .errors
                .iter()
                .any(|e| e.code == oci_client::errors::OciErrorCode::Toomanyrequests) =>
        {
            let reason = envelope.errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
            limited(&url, reason)
        }
        OciDistributionError::RequestError(e) if e.status().is_some_and(|s| s.as_u16() == 429) => {
            limited(e.url().map(|u| u.as_str()).unwrap_or_default(), e.to_string())
        }
        OciDistributionError::AuthenticationFailure(m) => {
            ArtifactError::Auth { target: target.into(), reason: m }
        }
        OciDistributionError::UnauthorizedError { url } => {
            ArtifactError::Auth { target: target.into(), reason: format!("unauthorized at {url}") }
        }
        other => {
            let s = other.to_string();
            if s.contains("401") || s.contains("UNAUTHORIZED") || s.contains("DENIED") {
                ArtifactError::Auth { target: target.into(), reason: s }
            } else {
                ArtifactError::Registry { target: target.into(), reason: s }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_references_resolve_without_the_network() {
        let t = std::time::Duration::from_millis(1);
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(resolve_digest(&format!("registry.example:5000/shop/web@{d}"), false, t).unwrap(), d);
        assert_eq!(resolve_digest(&format!("web:1@{d}"), false, t).unwrap(), d);
        // not a digest: parsed (and refused here, as before)
        let short = format!("web@sha256:{}", "ab".repeat(31));
        assert!(matches!(resolve_digest(&short, false, t), Err(ArtifactError::BadReference { .. })));
        assert!(matches!(
            resolve_digest("UPPER/Case::bad", false, t),
            Err(ArtifactError::BadReference { .. })
        ));
    }

    #[test]
    fn bad_reference_is_reported() {
        let sink = crate::testutil::Recorder::all();
        let e = scan_registry("UPPER/Case::bad", &Options::default(), &sink, &Warnings::new());
        assert!(matches!(e, Err(ArtifactError::BadReference { .. })), "{e:?}");
    }

    #[test]
    fn credentials_from_docker_config() {
        // DOCKER_CONFIG is process-global; this is the only test in the crate that sets it.
        let d = tempfile::tempdir().expect("tempdir");
        // "user:pass" in base64
        std::fs::write(
            d.path().join("config.json"),
            r#"{"auths":{"reg.example:5000":{"auth":"dXNlcjpwYXNz"}}}"#,
        )
        .expect("write");
        // SAFETY-free: set_var is unsafe in edition 2024, so run a child process instead.
        let exe = std::env::current_exe().expect("exe");
        let out = std::process::Command::new(exe)
            .args(["--exact", "registry::tests::credentials_child", "--nocapture", "--include-ignored"])
            .env("DOCKER_CONFIG", d.path())
            .env("PALISADE_CRED_CHILD", "1")
            .output()
            .expect("run child");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("CRED basic user pass"), "{text}");
        assert!(text.contains("CRED other anonymous"), "{text}");
    }

    #[test]
    #[ignore = "run by credentials_from_docker_config in a child process"]
    fn credentials_child() {
        if std::env::var_os("PALISADE_CRED_CHILD").is_none() {
            return;
        }
        let w = Warnings::new();
        match credentials("reg.example:5000", &w) {
            RegistryAuth::Basic(u, p) => println!("CRED basic {u} {p}"),
            other => println!("CRED got {other:?}"),
        }
        if matches!(credentials("other.example", &w), RegistryAuth::Anonymous) {
            println!("CRED other anonymous");
        }
    }
}
