//! What a registry holds, over the OCI distribution API: the catalog and each repository's tags (pages of
//! [`PAGE`] entries, `n`/`last` pagination), and the platform manifests a tag stands for. `palisade registry
//! scan` uses it to decide what to pull; pulling is [`crate::Target::Registry`]'s job.
//!
//! Credentials come from the docker config as for pulls ([`crate::registry`]); oci-client performs the basic
//! or bearer exchange the registry asks for.

use crate::ArtifactError;
use crate::image::{self, Candidate, IndexDoc, PlatformSpec};
use crate::ratelimit::{RetryPolicy, Waited};
use crate::registry::{credentials, map_err};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use palisade_core::Warnings;
use std::sync::Mutex;

/// Entries asked for per page.
pub const PAGE: usize = 100;

/// Most entries read from one listing (a registry that ignores `last` would otherwise loop forever).
const MAX_ENTRIES: usize = 1_000_000;

const ACCEPT: &[&str] =
    &[image::MT_OCI_MANIFEST, image::MT_DOCKER_MANIFEST, image::MT_OCI_INDEX, image::MT_DOCKER_LIST];

/// One image a tag stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedImage {
    pub repository: String,
    pub tag: String,
    /// The platform's image manifest digest (never an index).
    pub digest: String,
    /// The platform the index gives for it; `None` for a tag naming a manifest directly.
    pub platform: Option<String>,
    /// The index the manifest was picked from.
    pub index_digest: Option<String>,
}

/// A connection to one registry for listing.
pub struct RegistryLister {
    rt: tokio::runtime::Runtime,
    client: Client,
    auth: RegistryAuth,
    host: String,
    /// Requests refused with 429 are retried within these bounds ([`RetryPolicy`]).
    retry: RetryPolicy,
    waits: Mutex<Vec<Waited>>,
}

impl RegistryLister {
    /// `host` is `name[:port]`; `insecure` allows plain HTTP to it.
    pub fn new(host: &str, insecure: bool, warnings: &Warnings) -> Result<Self, ArtifactError> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
            ArtifactError::Registry {
                target: host.into(),
                reason: format!("cannot start the async runtime: {e}"),
            }
        })?;
        let probe = Reference::with_tag(host.to_string(), "x".into(), "latest".into());
        let protocol = if insecure {
            ClientProtocol::HttpsExcept(vec![host.to_string(), probe.resolve_registry().to_string()])
        } else {
            ClientProtocol::Https
        };
        let client = Client::new(ClientConfig { protocol, platform_resolver: None, ..Default::default() });
        let auth = credentials(probe.resolve_registry(), warnings);
        Ok(RegistryLister {
            rt,
            client,
            auth,
            host: host.to_string(),
            retry: RetryPolicy::default(),
            waits: Mutex::default(),
        })
    }

    /// Retry rate-limited requests within `retry` instead of the default bounds.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The waits made so far after a 429 (taken: a second call returns only newer ones).
    pub fn take_waits(&self) -> Vec<Waited> {
        self.waits.lock().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default()
    }

    /// `op` retried after rate limits, each wait recorded.
    fn retried<T>(&self, op: impl FnMut() -> Result<T, ArtifactError>) -> Result<T, ArtifactError> {
        self.retry.run(op, |w| {
            if let Ok(mut waits) = self.waits.lock() {
                waits.push(w.clone());
            }
        })
    }

    /// Every repository of the catalog.
    pub fn repositories(&self) -> Result<Vec<String>, ArtifactError> {
        let probe = Reference::with_tag(self.host.clone(), "x".into(), "latest".into());
        let target = format!("{}/v2/_catalog", self.host);
        paginate(|last| {
            self.retried(|| {
                self.rt
                    .block_on(self.client.catalog(&probe, &self.auth, Some(PAGE), last))
                    .map(|r| r.repositories)
                    .map_err(|e| map_err(&target, e))
            })
        })
    }

    /// Every tag of one repository.
    pub fn tags(&self, repository: &str) -> Result<Vec<String>, ArtifactError> {
        let r = Reference::with_tag(self.host.clone(), repository.to_string(), "latest".into());
        let target = format!("{}/{repository}", self.host);
        paginate(|last| {
            self.retried(|| {
                self.rt
                    .block_on(self.client.list_tags(&r, &self.auth, Some(PAGE), last))
                    .map(|r| r.tags)
                    .map_err(|e| map_err(&target, e))
            })
        })
    }

    /// The image manifests `repository:tag` stands for: the manifest itself, or from an index the entries
    /// for `platforms` (`all` for every platform; empty: `linux/amd64`). Attestation manifests are skipped.
    pub fn resolve(
        &self,
        repository: &str,
        tag: &str,
        platforms: &[String],
    ) -> Result<Vec<ResolvedImage>, ArtifactError> {
        let r = Reference::with_tag(self.host.clone(), repository.to_string(), tag.to_string());
        let target = format!("{}/{repository}:{tag}", self.host);
        let (bytes, digest) = self.retried(|| {
            self.rt
                .block_on(self.client.pull_manifest_raw(&r, &self.auth, ACCEPT))
                .map_err(|e| map_err(&target, e))
        })?;
        let bad = |reason: String| ArtifactError::NotAnImage { target: target.clone(), reason };
        let doc: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("manifest is not JSON: {e}")))?;
        let media_type = doc.get("mediaType").and_then(|m| m.as_str()).unwrap_or("");
        let one = |digest: String, platform: Option<String>, index: Option<String>| ResolvedImage {
            repository: repository.to_string(),
            tag: tag.to_string(),
            digest,
            platform,
            index_digest: index,
        };
        if !image::is_index(media_type) && doc.get("manifests").is_none() {
            if doc.get("config").is_none() || doc.get("layers").is_none() {
                return Err(bad("the manifest has no config or layers".into()));
            }
            return Ok(vec![one(digest, None, None)]);
        }
        let index: IndexDoc =
            serde_json::from_value(doc).map_err(|e| bad(format!("malformed index: {e}")))?;
        let usable: Vec<_> = index
            .manifests
            .into_iter()
            .filter(|d| {
                d.annotations.get("vnd.docker.reference.type").map(String::as_str)
                    != Some("attestation-manifest")
                    && d.platform.as_ref().is_none_or(|p| p.os != "unknown")
                    && !image::is_index(&d.media_type)
            })
            .collect();
        if platforms.iter().any(|p| p == "all") {
            return Ok(usable
                .into_iter()
                .map(|d| one(d.digest, d.platform.map(|p| p.to_string()), Some(digest.clone())))
                .collect());
        }
        let wanted: Vec<&str> = if platforms.is_empty() {
            vec!["linux/amd64"]
        } else {
            platforms.iter().map(String::as_str).collect()
        };
        let mut out = Vec::new();
        for want in wanted {
            let cands = usable.iter().map(|d| Candidate { desc: d.clone(), names: Vec::new() }).collect();
            // A platform the index does not have is not an error for a whole-registry scan: other tags may.
            let quiet = Warnings::new();
            match image::choose(&target, cands, Some(want), &quiet) {
                Ok(c) => {
                    let platform = c
                        .desc
                        .platform
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| PlatformSpec::parse(want).to_string());
                    if !out.iter().any(|o: &ResolvedImage| o.digest == c.desc.digest) {
                        out.push(one(c.desc.digest, Some(platform), Some(digest.clone())));
                    }
                }
                Err(ArtifactError::NoMatchingPlatform { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

/// Read pages until one comes back short; `last` is the last entry of the previous page.
fn paginate(
    mut page: impl FnMut(Option<&str>) -> Result<Vec<String>, ArtifactError>,
) -> Result<Vec<String>, ArtifactError> {
    let mut all: Vec<String> = Vec::new();
    loop {
        let last = all.last().cloned();
        let got = page(last.as_deref())?;
        let n = got.len();
        let before = all.len();
        all.extend(got.into_iter().filter(|e| last.as_ref().is_none_or(|l| e > l)));
        if n < PAGE || all.len() == before || all.len() >= MAX_ENTRIES {
            break;
        }
    }
    all.sort();
    all.dedup();
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_until_short() {
        let items: Vec<String> = (0..250).map(|i| format!("r{i:04}")).collect();
        let mut calls = 0;
        let got = paginate(|last| {
            calls += 1;
            let from = last.map_or(0, |l| items.iter().position(|i| i == l).map_or(0, |p| p + 1));
            Ok(items.iter().skip(from).take(PAGE).cloned().collect())
        })
        .unwrap();
        assert_eq!(got, items);
        assert_eq!(calls, 3);
    }

    #[test]
    fn a_registry_ignoring_last_does_not_loop() {
        let page: Vec<String> = (0..PAGE).map(|i| format!("t{i:03}")).collect();
        let got = paginate(|_| Ok(page.clone())).unwrap();
        assert_eq!(got.len(), PAGE);
    }
}
