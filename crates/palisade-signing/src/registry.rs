//! The OCI distribution calls signing needs, over `oci-client` with the credentials `palisade-artifact` uses
//! for pulls (`~/.docker/config.json`, credential helpers, anonymous otherwise).
//!
//! Every call is bounded by [`Registry::with_timeout`] (default 30 s), and all calls together by
//! [`Registry::with_deadline`] when one is set, so an unreachable registry is an error after that time, never
//! a hang: the admission webhook passes what is left of its own budget.

use crate::error::SignError;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub const MT_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MT_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MT_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const MT_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const ACCEPT: &[&str] = &[MT_OCI_MANIFEST, MT_OCI_INDEX, MT_DOCKER_MANIFEST, MT_DOCKER_LIST];
/// Largest manifest or signature blob read (signature payloads, envelopes and bundles are small).
pub const MAX_DOCUMENT: usize = 16 << 20;

/// `sha256:<hex>` of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// A manifest as read from the registry.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub bytes: Vec<u8>,
    pub digest: String,
}

/// A client for one registry host.
pub struct Registry {
    rt: tokio::runtime::Runtime,
    client: Client,
    auth: RegistryAuth,
    timeout: Duration,
    deadline: Option<std::time::Instant>,
}

/// Parse an image reference (`host/repo:tag`, `host/repo@sha256:…`).
pub fn parse_reference(reference: &str) -> Result<Reference, SignError> {
    reference.parse().map_err(|e: oci_client::ParseError| SignError::Reference {
        reference: reference.to_string(),
        reason: e.to_string(),
    })
}

fn is_not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code: 404, .. } => true,
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().any(|x| {
            matches!(
                x.code,
                OciErrorCode::ManifestUnknown | OciErrorCode::NameUnknown | OciErrorCode::BlobUnknown
            )
        }),
        _ => false,
    }
}

impl Registry {
    /// A client for the registry of `reference`; `insecure` allows plain HTTP to it.
    pub fn for_reference(reference: &Reference, insecure: bool) -> Result<Self, SignError> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
            SignError::Registry { reference: reference.whole(), reason: format!("async runtime: {e}") }
        })?;
        let protocol = if insecure {
            ClientProtocol::HttpsExcept(vec![
                reference.registry().to_string(),
                reference.resolve_registry().to_string(),
            ])
        } else {
            ClientProtocol::Https
        };
        let timeout = Duration::from_secs(30);
        let client = Client::new(ClientConfig {
            protocol,
            connect_timeout: Some(Duration::from_secs(5)),
            read_timeout: Some(timeout),
            ..Default::default()
        });
        let warnings = palisade_core::Warnings::new();
        let auth = palisade_artifact::registry_credentials(reference.resolve_registry(), &warnings);
        Ok(Self { rt, client, auth, timeout, deadline: None })
    }

    /// Bound every later call by `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Bound all later calls together: none runs past `deadline`.
    pub fn with_deadline(mut self, deadline: std::time::Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    fn run<T>(
        &self,
        what: &Reference,
        fut: impl Future<Output = Result<T, OciDistributionError>>,
    ) -> Result<Result<T, OciDistributionError>, SignError> {
        let left = self.deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        let limit = left.map_or(self.timeout, |l| l.min(self.timeout));
        if limit.is_zero() {
            return Err(SignError::Registry {
                reference: what.whole(),
                reason: "the time budget for registry requests ran out".to_string(),
            });
        }
        self.rt.block_on(async { tokio::time::timeout(limit, fut).await }).map_err(|_| SignError::Registry {
            reference: what.whole(),
            reason: if left.is_some_and(|l| l <= self.timeout) {
                "the time budget for registry requests ran out".to_string()
            } else {
                format!("no answer within {} ms", self.timeout.as_millis())
            },
        })
    }

    fn err(r: &Reference, e: OciDistributionError) -> SignError {
        SignError::Registry { reference: r.whole(), reason: e.to_string() }
    }

    /// The manifest (or index) `reference` names, or `None` when the registry does not have it.
    pub fn manifest(&self, reference: &Reference) -> Result<Option<Manifest>, SignError> {
        match self.run(reference, self.client.pull_manifest_raw(reference, &self.auth, ACCEPT))? {
            Ok((bytes, digest)) => {
                if bytes.len() > MAX_DOCUMENT {
                    return Err(SignError::Registry {
                        reference: reference.whole(),
                        reason: format!("manifest is {} bytes, over {MAX_DOCUMENT}", bytes.len()),
                    });
                }
                // Never trust a header for the digest: compute it.
                let computed = sha256_digest(&bytes);
                if reference.digest().is_some_and(|d| d != computed) {
                    return Err(SignError::Registry {
                        reference: reference.whole(),
                        reason: format!("the registry returned a manifest whose digest is {computed}"),
                    });
                }
                let _ = digest;
                Ok(Some(Manifest { bytes: bytes.to_vec(), digest: computed }))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(Self::err(reference, e)),
        }
    }

    /// Resolve a reference (tag or digest) to the digest of the manifest or index it names.
    pub fn resolve(&self, reference: &Reference) -> Result<Manifest, SignError> {
        self.manifest(reference)?.ok_or_else(|| SignError::Registry {
            reference: reference.whole(),
            reason: "no such image (manifest unknown)".into(),
        })
    }

    /// A blob of the repository, at most [`MAX_DOCUMENT`] bytes, its digest checked.
    pub fn blob(&self, repo: &Reference, digest: &str) -> Result<Vec<u8>, SignError> {
        let mut out = Vec::new();
        let r = self.run(repo, self.client.pull_blob(repo, digest, &mut out))?;
        r.map_err(|e| Self::err(repo, e))?;
        if out.len() > MAX_DOCUMENT {
            return Err(SignError::Registry {
                reference: repo.whole(),
                reason: format!("blob {digest} is over {MAX_DOCUMENT} bytes"),
            });
        }
        if sha256_digest(&out) != digest {
            return Err(SignError::Registry {
                reference: repo.whole(),
                reason: format!("blob {digest} does not match its digest"),
            });
        }
        Ok(out)
    }

    /// Upload a blob (skipped when the registry has it); returns its digest.
    pub fn push_blob(&self, repo: &Reference, data: &[u8]) -> Result<String, SignError> {
        let digest = sha256_digest(data);
        if matches!(self.run(repo, self.client.blob_exists(repo, &digest))?, Ok(true)) {
            return Ok(digest);
        }
        self.run(repo, self.client.push_blob(repo, data.to_vec(), &digest))?
            .map_err(|e| Self::err(repo, e))?;
        Ok(digest)
    }

    /// Upload a manifest under `reference` (a tag, or its digest); returns its digest.
    pub fn push_manifest(
        &self,
        reference: &Reference,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<String, SignError> {
        let ct = media_type.parse().map_err(|_| SignError::Registry {
            reference: reference.whole(),
            reason: format!("bad media type {media_type:?}"),
        })?;
        self.run(reference, self.client.push_manifest_raw(reference, bytes.to_vec(), ct))?
            .map_err(|e| Self::err(reference, e))?;
        Ok(sha256_digest(bytes))
    }

    /// The referrers of `subject` (a digest reference) as an image index JSON: the referrers API when the
    /// registry has it, else the `sha256-<hex>` tag of the referrers tag schema (oci-client falls back on a
    /// 404); `Ok(empty)` when neither has any.
    pub fn referrers(
        &self,
        subject: &Reference,
        artifact_type: Option<&str>,
    ) -> Result<serde_json::Value, SignError> {
        let index = self
            .run(subject, self.client.pull_referrers(subject, artifact_type))?
            .map_err(|e| Self::err(subject, e))?;
        serde_json::to_value(index)
            .map_err(|e| SignError::Registry { reference: subject.whole(), reason: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_budget_stops_every_call() {
        let r = parse_reference("127.0.0.1:9/repo:tag").expect("ref");
        let reg = Registry::for_reference(&r, true).expect("client").with_deadline(std::time::Instant::now());
        let e = reg.manifest(&r).expect_err("no budget left").to_string();
        assert!(e.contains("time budget for registry requests ran out"), "{e}");
        let e = parse_reference("UPPER/Case::bad").expect_err("bad ref").to_string();
        assert!(e.starts_with("UPPER/Case::bad: invalid image reference"), "{e}");
    }
}

#[cfg(test)]
mod in_async_servers {
    use super::*;

    /// The webhook evaluates in `spawn_blocking`: a registry client made and driven there must work (no
    /// "runtime within a runtime" panic); here the registry is unreachable, so the answer is an error.
    #[test]
    fn usable_from_spawn_blocking() {
        let rt =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
        let e = rt
            .block_on(async {
                tokio::task::spawn_blocking(|| {
                    let r = parse_reference("127.0.0.1:9/repo:tag").expect("ref");
                    let reg = Registry::for_reference(&r, true)
                        .expect("client")
                        .with_timeout(Duration::from_secs(2));
                    reg.manifest(&r).map(|_| ())
                })
                .await
            })
            .expect("no panic in the blocking task");
        let e = e.expect_err("unreachable").to_string();
        assert!(e.starts_with("127.0.0.1:9/repo:tag: registry:"), "{e}");
    }
}
