//! The Docker distribution notification webhook: the envelope a registry configured with
//! `notifications.endpoints` POSTs (`application/vnd.docker.distribution.events.v1+json`), reduced to the
//! manifest pushes `palisade watch` scans: (registry host, repository, tag or digest).

use serde::Deserialize;

/// The media type of the envelope.
pub const MEDIA_TYPE: &str = "application/vnd.docker.distribution.events.v1+json";

#[derive(Debug, Deserialize)]
struct Envelope {
    events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: Target,
    #[serde(default)]
    request: Request,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    repository: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    tag: String,
}

#[derive(Debug, Default, Deserialize)]
struct Request {
    #[serde(default)]
    host: String,
}

/// One manifest push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// `host[:port]` of the registry, from the target URL (else the request's Host).
    pub host: String,
    pub repository: String,
    /// The tag pushed; `None` for a push by digest.
    pub tag: Option<String>,
    pub digest: String,
    pub media_type: String,
}

/// Why an envelope was refused.
#[derive(Debug, thiserror::Error)]
#[error("not a registry notification envelope: {0}")]
pub struct EventsError(String);

const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// The manifest pushes of an envelope (pulls, deletes, blob pushes and other media types are left out).
pub fn pushes(body: &[u8]) -> Result<Vec<Push>, EventsError> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| EventsError(e.to_string()))?;
    Ok(env
        .events
        .into_iter()
        .filter(|e| e.action == "push" && MANIFEST_TYPES.contains(&e.target.media_type.as_str()))
        .filter(|e| !e.target.repository.is_empty() && !e.target.digest.is_empty())
        .map(|e| {
            let host = e
                .target
                .url
                .split_once("://")
                .and_then(|(_, rest)| rest.split('/').next())
                .filter(|h| !h.is_empty())
                .unwrap_or(&e.request.host)
                .to_string();
            Push {
                host,
                repository: e.target.repository,
                tag: Some(e.target.tag).filter(|t| !t.is_empty()),
                digest: e.target.digest,
                media_type: e.target.media_type,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_pushes_are_kept() {
        let body = include_bytes!("../tests/fixtures/events.json");
        let p = pushes(body).expect("envelope");
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].host, "registry.internal:5000");
        assert_eq!(p[0].repository, "team/app");
        assert_eq!(p[0].tag.as_deref(), Some("v2"));
        assert_eq!(p[1].tag, None);
        assert!(pushes(b"{\"nope\": 1}").is_err());
        assert!(pushes(b"not json").is_err());
    }
}
