//! `verify-blob`: a file checked against a Sigstore bundle (v0.1–v0.3), as `cosign verify-blob --bundle`
//! and sigstore-python / sigstore-js `verify` do. A `messageSignature` bundle signs the file's bytes (its
//! `messageDigest` must be the file's SHA-256); a `dsseEnvelope` bundle must carry an in-toto statement
//! with the file's SHA-256 among its subjects. Keyless bundles are checked with [`crate::keyless`], key
//! bundles with the given public keys.

use crate::bundle::Bundle;
use crate::dsse::{INTOTO_PAYLOAD_TYPE, pae};
use crate::error::VerifyError;
use crate::keyless::{self, KeylessPolicy, Material, Signed, Signer};
use crate::keys::PublicKey;
use crate::statement::Statement;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

/// Who may have signed the blob: keys, keyless identities, or both (any one suffices).
#[derive(Debug, Clone, Default)]
pub struct BlobPolicy {
    pub keys: Vec<PublicKey>,
    pub keyless: Vec<KeylessPolicy>,
}

/// A verified blob.
#[derive(Debug, Clone, PartialEq)]
pub struct BlobVerified {
    /// `sha256:…` of the file.
    pub digest: String,
    /// `key <id>` or the keyless signer.
    pub signer: String,
    pub keyless: Option<Signer>,
    /// The statement of a DSSE bundle.
    pub statement: Option<Statement>,
}

/// Verify `file` (named `name` in messages) against the bundle `bundle_bytes`.
pub fn verify_blob(
    name: &str,
    file: &[u8],
    bundle_bytes: &[u8],
    policy: &BlobPolicy,
) -> Result<BlobVerified, VerifyError> {
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(file)));
    let malformed = |what: &str, detail: String| VerifyError::Malformed {
        image: name.to_string(),
        digest: digest.clone(),
        what: what.to_string(),
        detail,
    };
    let bundle = Bundle::parse(bundle_bytes).map_err(|e| malformed("bundle", e))?;
    // What was signed, the signature, and the statement (DSSE).
    let (signed, signature, statement): (Vec<u8>, Vec<u8>, Option<Statement>) =
        match (&bundle.message_signature, &bundle.dsse_envelope) {
            (Some(ms), _) => {
                let sig = ms
                    .get("signature")
                    .and_then(|s| s.as_str())
                    .and_then(|s| B64.decode(s).ok())
                    .ok_or_else(|| {
                        malformed("bundle", "messageSignature.signature: missing or not base64".into())
                    })?;
                if let Some(d) = ms.pointer("/messageDigest/digest").and_then(|d| d.as_str()) {
                    let d = B64
                        .decode(d)
                        .map_err(|e| malformed("bundle", format!("messageDigest.digest: {e}")))?;
                    if d != Sha256::digest(file).as_slice() {
                        return Err(VerifyError::DigestMismatch {
                            image: name.to_string(),
                            digest: digest.clone(),
                            signed: format!("sha256:{}", hex::encode(&d)),
                        });
                    }
                }
                (file.to_vec(), sig, None)
            }
            (None, Some(env)) => {
                let body = env.body().map_err(|e| malformed("envelope", e))?;
                let sig = env
                    .signatures
                    .first()
                    .and_then(|s| B64.decode(&s.sig).ok())
                    .ok_or_else(|| malformed("envelope", "no base64 signature".into()))?;
                if env.payload_type != INTOTO_PAYLOAD_TYPE {
                    return Err(malformed(
                        "envelope",
                        format!("payload type {:?}, expected {INTOTO_PAYLOAD_TYPE}", env.payload_type),
                    ));
                }
                let st = Statement::parse(&body).map_err(|e| malformed("statement", e))?;
                (pae(&env.payload_type, &body), sig, Some(st))
            }
            (None, None) => return Err(malformed("bundle", "no signature".into())),
        };
    let check_subject = |st: &Option<Statement>| -> Result<(), VerifyError> {
        match st {
            Some(st) if !st.covers(&digest) => Err(VerifyError::DigestMismatch {
                image: name.to_string(),
                digest: digest.clone(),
                signed: st.subject_digests().join(", "),
            }),
            _ => Ok(()),
        }
    };
    let material =
        Material::from_bundle(&bundle.verification_material).map_err(|e| malformed("bundle", e))?;
    if let Some(material) = material {
        if policy.keyless.is_empty() {
            return Err(VerifyError::Setup(format!(
                "{name}: the bundle is keyless (a certificate): give --certificate-identity[-regexp], --certificate-oidc-issuer and --trusted-root"
            )));
        }
        let mut best: Option<VerifyError> = None;
        for p in &policy.keyless {
            match keyless::verify(&material, &signature, Signed::Message(&signed), p) {
                Ok(s) => {
                    check_subject(&statement)?;
                    return Ok(BlobVerified {
                        digest: digest.clone(),
                        signer: format!("{} (issuer {})", s.identity, s.issuer),
                        keyless: Some(s),
                        statement,
                    });
                }
                Err(e) => {
                    let e = VerifyError::keyless(name.to_string(), digest.clone(), e);
                    if best.as_ref().is_none_or(|b| e.rank() > b.rank()) {
                        best = Some(e);
                    }
                }
            }
        }
        return Err(best.unwrap_or_else(|| VerifyError::Setup("no keyless policy".into())));
    }
    if policy.keys.is_empty() {
        return Err(VerifyError::Setup(format!("{name}: the bundle is key-signed: give --key")));
    }
    match policy.keys.iter().find(|k| k.verify(&signed, &signature)) {
        Some(k) => {
            check_subject(&statement)?;
            Ok(BlobVerified { digest, signer: format!("key {}", k.id()), keyless: None, statement })
        }
        None => Err(VerifyError::WrongKey {
            image: name.to_string(),
            digest,
            expected: policy
                .keys
                .iter()
                .map(|k| k.id().get(..16).unwrap_or(k.id()).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            detail: "the bundle's signature does not verify: made with another key, or modified".into(),
        }),
    }
}
