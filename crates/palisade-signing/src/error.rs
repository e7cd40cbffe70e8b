//! Errors. [`SignError`] is everything that stops a command from running (a key file, the registry, a
//! predicate file); [`VerifyError`] is a verification that ran and failed, one variant per reason, each with
//! its own exit code so that scripts can tell them apart.

/// A key, registry or input problem: the operation could not be carried out.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SignError {
    /// A key file that cannot be read, decrypted or parsed.
    #[error("{path}: {reason}")]
    Key { path: String, reason: String },
    /// The image reference is not valid.
    #[error("{reference}: invalid image reference: {reason}")]
    Reference { reference: String, reason: String },
    /// The registry could not be reached or refused the request.
    #[error("{reference}: registry: {reason}")]
    Registry { reference: String, reason: String },
    /// An input file (predicate, trusted root) that cannot be used.
    #[error("{path}: {reason}")]
    Input { path: String, reason: String },
    /// A Sigstore service (Fulcio, Rekor, a timestamp authority) of keyless signing failed or refused.
    #[error("keyless signing: {service}: {reason}")]
    Keyless { service: String, reason: String },
}

/// Why an image or attestation did not verify. `image` is `repository@digest` (the reference as given for
/// [`VerifyError::NotFound`]), so every message names the digest that was checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Nothing signed this digest (no `.sig`/`.att` tag, no matching referrer).
    #[error("{image}: no {what} found for {digest}{moved}", moved = moved_hint(resolved_from))]
    NotFound { image: String, digest: String, what: String, resolved_from: Option<String> },
    /// A signature exists but does not verify over its payload with the given key, and the signature manifest
    /// names that same key: the payload (or the signature) was modified after signing.
    #[error(
        "{image}@{digest}: the signature does not match its payload ({detail}): the payload or the signature was modified after signing"
    )]
    Tampered { image: String, digest: String, detail: String },
    /// The signatures present were made with another key.
    #[error("{image}: signed, but not by key {expected} ({detail})")]
    WrongKey { image: String, digest: String, expected: String, detail: String },
    /// A valid signature, but over another image digest (a signature copied from another image).
    #[error("{image}: the signature is valid but names digest {signed}, not {digest}")]
    DigestMismatch { image: String, digest: String, signed: String },
    /// The signature manifest, payload or envelope cannot be parsed.
    #[error("{image}: malformed {what}: {detail}")]
    Malformed { image: String, digest: String, what: String, detail: String },
    /// A valid attestation exists, but it is of another predicate type, too old or fails its condition.
    #[error("{image}: attestation check failed: {detail}")]
    Attestation { image: String, digest: String, detail: String },
    /// Keyless: a valid certificate, issued to another identity.
    #[error("{image}: signed by another identity: {detail}")]
    WrongIdentity { image: String, digest: String, detail: String },
    /// Keyless: a valid certificate, for an identity of another OIDC issuer.
    #[error("{image}: identity from another OIDC issuer: {detail}")]
    WrongIssuer { image: String, digest: String, detail: String },
    /// Keyless: the certificate does not chain to a CA of the trusted root (or is no code-signing certificate).
    #[error("{image}: untrusted certificate: {detail}")]
    UntrustedChain { image: String, digest: String, detail: String },
    /// Keyless: the signing time (log or timestamp) is outside the certificate's validity.
    #[error("{image}: certificate not valid at signing time: {detail}")]
    CertificateExpired { image: String, digest: String, detail: String },
    /// Keyless: the embedded signed certificate timestamp is missing or does not verify with a CT log key.
    #[error("{image}: bad certificate-transparency proof: {detail}")]
    BadSct { image: String, digest: String, detail: String },
    /// Keyless: no transparency-log entry or timestamp, or one that does not verify.
    #[error("{image}: missing or bad transparency-log proof: {detail}")]
    TlogProof { image: String, digest: String, detail: String },
    /// The verification could not run (registry unreachable, bad key, ...).
    #[error("{0}")]
    Setup(String),
}

fn moved_hint(resolved_from: &Option<String>) -> String {
    match resolved_from {
        Some(tag) => format!(
            " (resolved from {tag}; a signature made for another digest this tag named before does not count)"
        ),
        None => String::new(),
    }
}

impl VerifyError {
    /// Exit code of `palisade verify` / `verify-attestation` for this failure (0 is verified, 2 a usage or
    /// setup error, as for every command).
    pub fn exit_code(&self) -> u8 {
        match self {
            VerifyError::Setup(_) => 2,
            VerifyError::NotFound { .. } => 10,
            VerifyError::Tampered { .. } => 11,
            VerifyError::WrongKey { .. } => 12,
            VerifyError::DigestMismatch { .. } => 13,
            VerifyError::Malformed { .. } => 14,
            VerifyError::Attestation { .. } => 15,
            VerifyError::WrongIdentity { .. } => 16,
            VerifyError::WrongIssuer { .. } => 17,
            VerifyError::UntrustedChain { .. } => 18,
            VerifyError::CertificateExpired { .. } => 19,
            VerifyError::BadSct { .. } => 20,
            VerifyError::TlogProof { .. } => 21,
        }
    }

    /// Which failure is more telling when several signatures fail differently: the one reported.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            VerifyError::Tampered { .. } => 7,
            VerifyError::DigestMismatch { .. } => 6,
            VerifyError::Attestation { .. } => 5,
            VerifyError::UntrustedChain { .. }
            | VerifyError::CertificateExpired { .. }
            | VerifyError::BadSct { .. }
            | VerifyError::TlogProof { .. } => 4,
            VerifyError::WrongIdentity { .. } | VerifyError::WrongIssuer { .. } => 4,
            VerifyError::WrongKey { .. } => 3,
            VerifyError::Malformed { .. } => 2,
            VerifyError::NotFound { .. } => 1,
            VerifyError::Setup(_) => 0,
        }
    }
}

impl VerifyError {
    /// The failure of a keyless check of `image` (`repository@digest`, or a file for blobs).
    pub fn keyless(image: String, digest: String, e: crate::keyless::KeylessError) -> Self {
        use crate::keyless::KeylessError as K;
        match e {
            K::Signature(detail) => VerifyError::Tampered { image, digest, detail },
            K::Identity(detail) => VerifyError::WrongIdentity { image, digest, detail },
            K::Issuer(detail) => VerifyError::WrongIssuer { image, digest, detail },
            K::Chain(detail) => VerifyError::UntrustedChain { image, digest, detail },
            K::Expired(detail) => VerifyError::CertificateExpired { image, digest, detail },
            K::Sct(detail) => VerifyError::BadSct { image, digest, detail },
            K::Proof(detail) => VerifyError::TlogProof { image, digest, detail },
            K::Malformed(detail) => {
                VerifyError::Malformed { image, digest, what: "certificate material".into(), detail }
            }
        }
    }
}

impl From<SignError> for VerifyError {
    fn from(e: SignError) -> Self {
        VerifyError::Setup(e.to_string())
    }
}
