//! Fatal errors: the target as a whole cannot be scanned. Everything smaller is a warning.
//!
//! Each message names the target and says what the user can do about it.

/// A target that cannot be scanned at all.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("{target}: not found ({reason}); check the path")]
    NotFound { target: String, reason: String },
    #[error("{target}: cannot read it ({reason}); check permissions or run with access to it")]
    Unreadable { target: String, reason: String },
    #[error(
        "{target}: not a container image ({reason}); expected a docker-archive tar (`docker save`), an OCI \
         layout directory or an oci-archive tar"
    )]
    NotAnImage { target: String, reason: String },
    #[error(
        "{target}: authentication failed ({reason}); log in with `docker login` (credentials are read from \
         ~/.docker/config.json or $DOCKER_CONFIG)"
    )]
    Auth { target: String, reason: String },
    #[error(
        "{target}: no image for platform {requested}; available: {available}. Choose one with --platform"
    )]
    NoMatchingPlatform { target: String, requested: String, available: String },
    #[error(
        "{target}: invalid image reference ({reason}); use e.g. `alpine:3.19` or `registry:5000/app@sha256:...`"
    )]
    BadReference { target: String, reason: String },
    #[error(
        "{target}: registry error ({reason}); check the reference, the network, or use --insecure for a plain-HTTP registry"
    )]
    Registry { target: String, reason: String },
    #[error(
        "{target}: rate limited by the registry (429 Too Many Requests at {url}: {reason}); try again later or \
         with less --concurrency"
    )]
    RateLimited { target: String, url: String, reason: String },
    #[error(
        "{target}: no image source provided it ({tried}); check the name, start or fix the engine that has \
         it, or choose sources with --image-src"
    )]
    ImageNotFound { target: String, tried: String },
    #[error("{target}: not a readable git repository ({reason}); scan it as a directory instead")]
    Repo { target: String, reason: String },
}

impl ArtifactError {
    /// Map an I/O error on opening `target` to NotFound/Unreadable.
    pub(crate) fn io(target: &str, e: &std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::NotFound {
            ArtifactError::NotFound { target: target.to_string(), reason: e.to_string() }
        } else {
            ArtifactError::Unreadable { target: target.to_string(), reason: e.to_string() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_target_and_advise() {
        let e = ArtifactError::io("/nope", &std::io::Error::from(std::io::ErrorKind::NotFound));
        let s = e.to_string();
        assert!(s.starts_with("/nope: not found"), "{s}");
        assert!(s.contains("check the path"));
        let e = ArtifactError::io("/x", &std::io::Error::from(std::io::ErrorKind::PermissionDenied));
        assert!(matches!(e, ArtifactError::Unreadable { .. }));
    }
}
