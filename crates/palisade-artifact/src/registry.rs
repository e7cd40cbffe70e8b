//! Images pulled from a registry over the OCI distribution API (oci-client).
//!
//! The public API stays synchronous: a current-thread tokio runtime is created inside the scan. Steps:
//! 1. credentials for the registry host from `~/.docker/config.json` or `$DOCKER_CONFIG` (plain `auth`
//!    entries and credential helpers, via `docker_credential`); none means anonymous. oci-client performs the
//!    basic or bearer-token exchange the registry asks for;
//! 2. the manifest (or index, resolved by platform like local layouts, nested indexes followed), then the
//!    config blob (digest checked);
//! 3. each layer blob is streamed to a temp file (oci-client checks the digest while downloading; up to 3 at
//!    once), then read like a local layer, so memory stays flat whatever the image size. Temp files live in
//!    a private temp directory removed at the end.
//!
//! `insecure` allows plain HTTP to the registry named in the reference. Only one rustls crypto provider
//! (aws-lc-rs, through reqwest) is compiled in, so no provider needs installing.

use crate::image::{self, Candidate, IndexDoc, ManifestDoc, PlannedLayer};
use crate::tree::FileTree;
use crate::{ArtifactError, FileSink, Options, warn};
use futures_util::{StreamExt, TryStreamExt};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use palisade_core::{ArtifactInfo, Warnings};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest manifest/index/config accepted from a registry.
const MAX_JSON: i64 = 16 << 20;
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
    let (mut info, layers) = rt.block_on(pull(reference, &r, opts, tmp.path(), warnings))?;
    let dir = tmp.path().to_path_buf();
    let open = |blob: &str| -> std::io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(std::fs::File::open(dir.join(blob))?))
    };
    let tree = image::read_layers(open, &layers, &mut info, opts, sink, warnings);
    Ok((info, tree))
}

/// Credentials for a registry host from the docker config; anonymous when there are none.
pub(crate) fn credentials(registry: &str, warnings: &Warnings) -> RegistryAuth {
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

fn map_err(target: &str, e: OciDistributionError) -> ArtifactError {
    match e {
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

async fn pull(
    target: &str,
    r: &Reference,
    opts: &Options,
    dir: &Path,
    warnings: &Warnings,
) -> Result<(ArtifactInfo, Vec<PlannedLayer>), ArtifactError> {
    let protocol = if opts.insecure {
        ClientProtocol::HttpsExcept(vec![r.registry().to_string(), r.resolve_registry().to_string()])
    } else {
        ClientProtocol::Https
    };
    let client = Client::new(ClientConfig { protocol, platform_resolver: None, ..Default::default() });
    let auth = credentials(r.resolve_registry(), warnings);
    let bad = |reason: String| ArtifactError::NotAnImage { target: target.into(), reason };
    opts.stage(format!("pulling manifest of {target}"));
    let (bytes, top_digest) =
        client.pull_manifest_raw(r, &auth, ACCEPT).await.map_err(|e| map_err(target, e))?;
    let mut doc: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("manifest is not JSON: {e}")))?;
    let mut mref = r.clone();
    let mut names = Vec::new();
    if r.tag().is_some() {
        names.push(r.whole());
    }
    // Resolve (possibly nested) indexes.
    let mut depth = 0;
    while doc.get("manifests").is_some() {
        depth += 1;
        if depth > 8 {
            return Err(bad("indexes nested too deep".into()));
        }
        let index: IndexDoc =
            serde_json::from_value(doc).map_err(|e| bad(format!("index is not valid: {e}")))?;
        let cands = index.manifests.into_iter().map(|desc| Candidate { desc, names: Vec::new() }).collect();
        let chosen = image::choose(target, cands, opts.platform.as_deref(), warnings)?;
        mref = Reference::with_digest(
            r.registry().to_string(),
            r.repository().to_string(),
            chosen.desc.digest.clone(),
        );
        let (b, _) = client.pull_manifest_raw(&mref, &auth, ACCEPT).await.map_err(|e| map_err(target, e))?;
        image::check_digest(&chosen.desc.digest, &b, "manifest", target, warnings);
        doc = serde_json::from_slice(&b).map_err(|e| bad(format!("manifest is not JSON: {e}")))?;
    }
    let manifest: ManifestDoc =
        serde_json::from_value(doc).map_err(|e| bad(format!("manifest is not valid: {e}")))?;
    image::check_config_type(&manifest.config.media_type, target)?;
    if manifest.config.size > MAX_JSON {
        return Err(bad(format!("config blob is {} bytes, too large", manifest.config.size)));
    }
    let mut config = Vec::new();
    client
        .pull_blob(&mref, manifest.config.digest.as_str(), &mut config)
        .await
        .map_err(|e| map_err(target, e))?;
    image::check_digest(&manifest.config.digest, &config, "config", target, warnings);

    let total = manifest.layers.len();
    let mut layers = Vec::new();
    let mut jobs = Vec::new();
    for (i, l) in manifest.layers.iter().enumerate() {
        let blob = format!("layer-{i}");
        let size = u64::try_from(l.size).ok();
        if size.is_some_and(|s| s > opts.limits.max_layer_bytes) {
            warn(
                warnings,
                None,
                u32::try_from(i).ok(),
                format!(
                    "layer {i} ({}) is {} bytes compressed, over max_layer_bytes; not pulled",
                    l.digest, l.size
                ),
            );
        } else {
            jobs.push((i, l.digest.clone(), dir.join(&blob)));
        }
        layers.push((Some(l.digest.clone()), size, blob));
    }
    let (mut info, planned) = image::build_info(
        target,
        target,
        &config,
        manifest.config.digest.clone(),
        &layers,
        opts.platform.as_deref(),
        warnings,
    )?;
    info.repo_tags = names;
    info.repo_digests = vec![format!("{}/{}@{}", r.registry(), r.repository(), top_digest)];

    let client = &client;
    let mref = &mref;
    futures_util::stream::iter(jobs)
        .map(|(i, digest, path): (usize, String, PathBuf)| async move {
            opts.stage(format!("pulling layer {}/{total}", i + 1));
            let file =
                tokio::fs::File::create(&path).await.map_err(|e| ArtifactError::io("temporary file", &e))?;
            client.pull_blob(mref, digest.as_str(), file).await.map_err(|e| map_err(target, e))
        })
        .buffer_unordered(3)
        .try_collect::<Vec<()>>()
        .await?;
    Ok((info, planned))
}

#[cfg(test)]
mod tests {
    use super::*;

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
