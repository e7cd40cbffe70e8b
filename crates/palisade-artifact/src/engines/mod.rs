//! Images by name: local container engines first, then the registry (what `scan image NAME` does).
//!
//! [`Options::image_sources`] lists the sources to try, in order (default: [`ImageSource::DEFAULT_ORDER`]):
//! - [`ImageSource::Docker`]: a Docker Engine API daemon (`$DOCKER_HOST`, else `/var/run/docker.sock`);
//!   the image is exported with `GET /images/{name}/get` (a docker-archive stream) into a private temp
//!   file and read like `--input` (module `docker_api`);
//! - [`ImageSource::Podman`]: podman's Docker-compatible API socket, the same way; when no podman socket
//!   answers, `podman save --format docker-archive` into a private temp file (module `podman_cli`);
//! - [`ImageSource::Containerd`]: containerd's images service names the image, its content service serves
//!   the manifest, config and layer blobs, streamed layer by layer over gRPC (module `containerd`);
//! - [`ImageSource::Remote`]: the registry (module `registry`).
//!
//! Each source answers in one of four ways. Absent (no socket, no binary): skipped, a debug line.
//! Not found: a debug line, next source. Failed (the socket exists but refuses, answers with an error or
//! is not an engine at all): a warning naming the source and the reason, next source. Found: scanned,
//! and [`ArtifactInfo::source`] says which. When no source has the image, one error lists what each said.
//!
//! Where the engines are is taken from [`Engines`] (explicit endpoints, for tests and embedding), else from
//! the environment variables the engines' own clients read. Nothing here runs anything from the image: the
//! only program ever started is the `podman` binary itself, for the fallback.

mod containerd;
mod containerd_api;
mod docker_api;
mod podman_cli;

use crate::tree::FileTree;
use crate::{ArtifactError, FileSink, Options, registry};
use palisade_core::{ArtifactInfo, Warnings};
use std::path::PathBuf;
use std::time::Duration;

/// A place `scan image NAME` looks for NAME (`--image-src`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageSource {
    /// A Docker Engine API daemon.
    Docker,
    /// podman: its Docker-compatible API socket, else the `podman` binary.
    Podman,
    /// containerd's images and content services (gRPC).
    Containerd,
    /// The registry named in the reference.
    Remote,
}

impl ImageSource {
    /// The order used when none is given: local engines first, the registry last.
    pub const DEFAULT_ORDER: [ImageSource; 4] =
        [ImageSource::Docker, ImageSource::Podman, ImageSource::Containerd, ImageSource::Remote];

    /// The `--image-src` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ImageSource::Docker => "docker",
            ImageSource::Podman => "podman",
            ImageSource::Containerd => "containerd",
            ImageSource::Remote => "remote",
        }
    }

    /// What [`ArtifactInfo::source`] says for an image found here.
    pub fn artifact_source(self) -> &'static str {
        match self {
            ImageSource::Remote => "registry",
            other => other.as_str(),
        }
    }

    /// Parse a comma-separated list (`docker,remote`); duplicates are dropped, order is kept.
    pub fn parse_list(s: &str) -> Result<Vec<ImageSource>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let src: ImageSource = part.parse()?;
            if !out.contains(&src) {
                out.push(src);
            }
        }
        if out.is_empty() {
            return Err("no image source given; use docker, podman, containerd and/or remote".into());
        }
        Ok(out)
    }
}

impl std::fmt::Display for ImageSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ImageSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "docker" => Ok(ImageSource::Docker),
            "podman" => Ok(ImageSource::Podman),
            "containerd" => Ok(ImageSource::Containerd),
            "remote" | "registry" => Ok(ImageSource::Remote),
            other => {
                Err(format!("unknown image source `{other}`; expected docker, podman, containerd or remote"))
            }
        }
    }
}

/// The `podman` program used when no podman API socket answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PodmanCli {
    /// `podman` found on `$PATH` (skipped silently when there is none).
    #[default]
    FromPath,
    /// This binary.
    Binary(PathBuf),
    /// Never run podman; only its API socket is used.
    Disabled,
}

/// Where the local engines are. Every field left `None` is taken from the environment as the engine's own
/// client would: see the field docs. Endpoints are `unix:///path` (or a bare `/path`) or, for Docker-API
/// daemons, `tcp://host:port` (plain HTTP; TLS-protected daemons are not supported).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Engines {
    /// Docker daemon. Unset: `$DOCKER_HOST`, else `unix:///var/run/docker.sock`.
    pub docker_host: Option<String>,
    /// podman API socket. Unset: `$CONTAINER_HOST`, `$XDG_RUNTIME_DIR/podman/podman.sock` and
    /// `/run/podman/podman.sock`, the first that exists.
    pub podman_host: Option<String>,
    /// The podman binary for the fallback.
    pub podman_cli: PodmanCli,
    /// containerd socket. Unset: `$CONTAINERD_ADDRESS`, else `/run/containerd/containerd.sock`.
    pub containerd_address: Option<String>,
    /// containerd namespace. Unset: `$CONTAINERD_NAMESPACE`, else `default`.
    pub containerd_namespace: Option<String>,
    /// How long an engine may take to accept a connection or answer a metadata request. Unset: 30 s.
    /// Streams (an export, a layer blob) may pause for up to [`STREAM_IDLE`] between chunks.
    pub timeout: Option<Duration>,
}

/// Longest pause between two chunks of an image export or a layer blob.
pub const STREAM_IDLE: Duration = Duration::from_secs(300);

impl Engines {
    fn env(name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(Duration::from_secs(30))
    }

    pub(crate) fn docker_endpoint(&self) -> String {
        self.docker_host
            .clone()
            .or_else(|| Self::env("DOCKER_HOST"))
            .unwrap_or_else(|| "unix:///var/run/docker.sock".into())
    }

    /// podman API endpoints to look at, in order.
    pub(crate) fn podman_endpoints(&self) -> Vec<String> {
        if let Some(h) = &self.podman_host {
            return vec![h.clone()];
        }
        let mut v = Vec::new();
        if let Some(h) = Self::env("CONTAINER_HOST") {
            v.push(h);
        }
        if let Some(x) = Self::env("XDG_RUNTIME_DIR") {
            v.push(format!("unix://{}/podman/podman.sock", x.trim_end_matches('/')));
        }
        v.push("unix:///run/podman/podman.sock".into());
        v
    }

    pub(crate) fn containerd_endpoint(&self) -> String {
        self.containerd_address
            .clone()
            .or_else(|| Self::env("CONTAINERD_ADDRESS"))
            .unwrap_or_else(|| "/run/containerd/containerd.sock".into())
    }

    pub(crate) fn containerd_ns(&self) -> String {
        self.containerd_namespace
            .clone()
            .or_else(|| Self::env("CONTAINERD_NAMESPACE"))
            .unwrap_or_else(|| "default".into())
    }
}

/// Why a source did not give the image.
#[derive(Debug)]
pub(crate) enum Miss {
    /// The engine is not there (no socket, no binary): skipped silently.
    Absent(String),
    /// The engine answered that it does not have the image.
    NotFound(String),
    /// The engine is there but could not be used: a warning.
    Failed(String),
}

type Found = (ArtifactInfo, FileTree);

/// Scan the image `reference` from the first source in `opts.image_sources` that has it.
pub(crate) fn scan_image(
    reference: &str,
    opts: &Options,
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> Result<Found, ArtifactError> {
    let sources = if opts.image_sources.is_empty() {
        ImageSource::DEFAULT_ORDER.to_vec()
    } else {
        opts.image_sources.clone()
    };
    if reference.trim().is_empty() || reference.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ArtifactError::BadReference {
            target: reference.escape_debug().to_string(),
            reason: "empty, or contains spaces or control characters".into(),
        });
    }
    let mut said: Vec<(ImageSource, String)> = Vec::new();
    let mut tried_endpoints: Vec<String> = Vec::new();
    for (i, &src) in sources.iter().enumerate() {
        opts.stage(format!("looking for {reference} in {src}"));
        let outcome = match src {
            ImageSource::Docker => {
                let ep = opts.engines.docker_endpoint();
                tried_endpoints.push(ep.clone());
                docker_api::scan(src, &ep, reference, opts, sink, warnings)
            }
            ImageSource::Podman => scan_podman(reference, opts, &tried_endpoints, sink, warnings),
            ImageSource::Containerd => containerd::scan(reference, opts, sink, warnings),
            ImageSource::Remote => match registry::scan_registry(reference, opts, sink, warnings) {
                Ok(found) => Ok(found),
                // The registry alone: its own error, with its own advice.
                Err(e) if sources.len() == 1 => return Err(e),
                Err(e) => {
                    let text = e.to_string();
                    let text = text.strip_prefix(&format!("{reference}: ")).unwrap_or(&text).to_string();
                    tracing::debug!("{reference}: registry: {text}");
                    said.push((src, text));
                    continue;
                }
            },
        };
        match outcome {
            Ok(mut found) => {
                found.0.source = Some(src.artifact_source().into());
                found.0.name = reference.to_string();
                return Ok(found);
            }
            Err(Miss::Absent(why)) => {
                tracing::debug!("{reference}: {src}: skipped: {why}");
                said.push((src, why));
            }
            Err(Miss::NotFound(why)) => {
                tracing::debug!("{reference}: not found in {src}: {why}");
                said.push((src, why));
            }
            Err(Miss::Failed(why)) => {
                let next =
                    sources.get(i + 1).map_or("no other source".to_string(), |n| format!("trying {n}"));
                // In the report, and on stderr through the CLI's warning summary (once, not also logged).
                crate::warn(warnings, None, None, format!("{reference}: {src}: {why}; {next}"));
                said.push((src, why));
            }
        }
    }
    let tried = said.iter().map(|(s, why)| format!("{s}: {why}")).collect::<Vec<_>>().join("; ");
    Err(ArtifactError::ImageNotFound { target: reference.into(), tried })
}

/// podman: the first API socket that exists; the `podman` binary when none exists or the socket failed.
fn scan_podman(
    reference: &str,
    opts: &Options,
    tried: &[String],
    sink: &dyn FileSink,
    warnings: &Warnings,
) -> Result<Found, Miss> {
    let mut socket_failure = None;
    let mut looked = Vec::new();
    for ep in opts.engines.podman_endpoints() {
        if tried.iter().any(|t| docker_api::same_endpoint(t, &ep)) {
            tracing::debug!("{reference}: podman: {ep} was already asked as the docker daemon");
            return Err(Miss::NotFound(format!("{ep} is the docker endpoint, already asked")));
        }
        match docker_api::scan(ImageSource::Podman, &ep, reference, opts, sink, warnings) {
            Err(Miss::Absent(why)) => {
                tracing::debug!("{reference}: podman: {why}");
                looked.push(why);
            }
            Err(Miss::Failed(why)) => {
                socket_failure = Some(why);
                break;
            }
            other => return other,
        }
    }
    match podman_cli::scan(reference, opts, sink, warnings) {
        Err(Miss::Absent(why)) => match socket_failure {
            Some(f) => Err(Miss::Failed(f)),
            None => {
                looked.push(why);
                Err(Miss::Absent(looked.join("; ")))
            }
        },
        Err(other) => {
            if let Some(f) = socket_failure {
                // Said once here; the fallback's own outcome follows.
                crate::warn(
                    warnings,
                    None,
                    None,
                    format!("{reference}: podman: {f}; trying the podman binary"),
                );
            }
            Err(other)
        }
        Ok(found) => {
            if let Some(f) = socket_failure {
                crate::warn(
                    warnings,
                    None,
                    None,
                    format!("{reference}: podman: {f}; used the podman binary"),
                );
            }
            Ok(found)
        }
    }
}

/// A blocking runtime for one engine conversation. containerd needs a worker thread because layers are
/// read from several rayon threads, each driving its own stream through [`tokio::runtime::Handle`].
pub(crate) fn runtime(workers: bool) -> Result<tokio::runtime::Runtime, Miss> {
    let mut b = if workers {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(1);
        b
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    b.enable_all().build().map_err(|e| Miss::Failed(format!("cannot start the async runtime: {e}")))
}

/// The repository part of a reference (`repo:tag` or `repo@digest` → `repo`).
pub(crate) fn repository(name: &str) -> &str {
    let no_digest = name.split_once('@').map_or(name, |(r, _)| r);
    match no_digest.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => no_digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_source_lists() {
        assert_eq!(
            ImageSource::parse_list("containerd, remote,containerd").ok(),
            Some(vec![ImageSource::Containerd, ImageSource::Remote])
        );
        assert_eq!("registry".parse::<ImageSource>().ok(), Some(ImageSource::Remote));
        let e = ImageSource::parse_list("docker,kubelet").unwrap_err();
        assert!(e.contains("`kubelet`") && e.contains("containerd"), "{e}");
        assert!(ImageSource::parse_list(" , ").is_err());
        assert_eq!(ImageSource::Remote.artifact_source(), "registry");
    }

    #[test]
    fn repository_of_references() {
        assert_eq!(repository("docker.io/library/alpine:3.19"), "docker.io/library/alpine");
        assert_eq!(repository("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(repository("localhost:5000/app:1@sha256:ab"), "localhost:5000/app");
        assert_eq!(repository("alpine"), "alpine");
    }

    #[test]
    fn explicit_endpoints_win() {
        let e = Engines {
            docker_host: Some("unix:///d.sock".into()),
            podman_host: Some("unix:///p.sock".into()),
            containerd_address: Some("/c.sock".into()),
            containerd_namespace: Some("ns".into()),
            ..Default::default()
        };
        assert_eq!(e.docker_endpoint(), "unix:///d.sock");
        assert_eq!(e.podman_endpoints(), vec!["unix:///p.sock".to_string()]);
        assert_eq!(e.containerd_endpoint(), "/c.sock");
        assert_eq!(e.containerd_ns(), "ns");
        assert_eq!(e.timeout(), Duration::from_secs(30));
    }

    fn nowhere(d: &std::path::Path) -> Engines {
        Engines {
            docker_host: Some(format!("unix://{}", d.join("d.sock").display())),
            podman_host: Some(d.join("p.sock").display().to_string()),
            podman_cli: PodmanCli::Disabled,
            containerd_address: Some(d.join("c.sock").display().to_string()),
            containerd_namespace: None,
            timeout: Some(Duration::from_secs(5)),
        }
    }

    #[test]
    fn every_absent_source_is_listed_without_warnings() {
        let d = tempfile::tempdir().expect("tempdir");
        let opts = Options {
            image_sources: vec![ImageSource::Docker, ImageSource::Podman, ImageSource::Containerd],
            engines: nowhere(d.path()),
            ..Options::default()
        };
        let w = Warnings::new();
        let e = scan_image("app:1", &opts, &crate::testutil::Recorder::all(), &w);
        match e {
            Err(ArtifactError::ImageNotFound { tried, .. }) => {
                assert!(tried.contains("docker: no socket at unix://"), "{tried}");
                assert!(tried.contains("podman: no socket at unix://"), "{tried}");
                assert!(tried.contains("containerd: no socket at"), "{tried}");
            }
            other => panic!("expected ImageNotFound, got {:?}", other.map(|f| f.0)),
        }
        assert!(w.is_empty(), "absent engines are not warnings");
    }

    #[test]
    fn a_socket_that_is_not_an_engine_is_a_warning_then_the_next_source() {
        use std::io::Write;
        let d = tempfile::tempdir().expect("tempdir");
        let sock = d.path().join("junk.sock");
        let l = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
        std::thread::spawn(move || {
            for mut c in l.incoming().flatten() {
                let _ = c.write_all(b"SSH-2.0-not-docker\r\n");
            }
        });
        let opts = Options {
            image_sources: vec![ImageSource::Docker, ImageSource::Containerd],
            engines: Engines { docker_host: Some(sock.display().to_string()), ..nowhere(d.path()) },
            ..Options::default()
        };
        let w = Warnings::new();
        let e = scan_image("app:1", &opts, &crate::testutil::Recorder::all(), &w);
        assert!(matches!(e, Err(ArtifactError::ImageNotFound { .. })), "{:?}", e.map(|f| f.0));
        let w = w.into_vec();
        assert_eq!(w.len(), 1, "{w:#?}");
        let m = &w[0].message;
        assert!(m.starts_with("app:1: docker: ") && m.contains("not a Docker API server"), "{m}");
        assert!(m.ends_with("trying containerd"), "{m}");
    }

    #[test]
    fn bad_names_are_refused_before_any_engine_is_asked() {
        let sink = crate::testutil::Recorder::all();
        let e = scan_image("a b", &Options::default(), &sink, &Warnings::new());
        assert!(matches!(e, Err(ArtifactError::BadReference { .. })), "{e:?}");
    }
}
