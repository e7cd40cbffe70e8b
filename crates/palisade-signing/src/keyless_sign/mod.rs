//! Keyless signing (Sigstore's "sign with an OIDC identity"): an ephemeral ECDSA P-256 key, a short-lived
//! Fulcio certificate for the identity of an OIDC token, the signature logged in Rekor (and optionally
//! timestamped by an RFC 3161 authority), all carried in a Sigstore bundle v0.3 with the certificate and the
//! log entry (SET and inclusion proof). One file per step: [`token`] (the identity the token claims),
//! [`fulcio`] (certificate request with proof of possession), [`rekor`] (dsse entry), [`tsa`].
//!
//! The key never leaves the process and is dropped after signing. Verification is the offline keyless
//! verifier ([`crate::keyless`]) with the deployment's trusted root.

pub mod fulcio;
pub mod rekor;
pub mod token;
pub mod tsa;

use crate::bundle::{self, Bundle, MEDIA_TYPE, VerificationMaterial};
use crate::dsse::{Envelope, INTOTO_PAYLOAD_TYPE};
use crate::error::SignError;
use crate::keys::PrivateKey;
use crate::statement::Statement;
use crate::store::{self, Subject};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::time::Duration;

/// Where to sign: the OIDC token and the Sigstore services.
#[derive(Debug, Clone)]
pub struct KeylessOptions {
    /// The raw OIDC identity token (a JWT).
    pub identity_token: String,
    /// Fulcio's base URL (`https://fulcio.sigstore.dev`).
    pub fulcio_url: String,
    /// Rekor's base URL (`https://rekor.sigstore.dev`).
    pub rekor_url: String,
    /// An RFC 3161 timestamp authority's base URL, when a signed timestamp is wanted too.
    pub tsa_url: Option<String>,
    /// Bound on each request to the services.
    pub timeout: Duration,
}

/// A keyless signature: the bundle and who it was issued to.
#[derive(Debug, Clone)]
pub struct KeylessSigned {
    pub bundle: Bundle,
    /// The certificate's identity (the token's e-mail or subject) and issuer.
    pub identity: String,
    pub issuer: String,
}

/// Sign `payload` (of DSSE `payload_type`) keylessly: certificate, envelope, log entry, timestamp.
pub fn sign_dsse(
    payload_type: &str,
    payload: &[u8],
    opts: &KeylessOptions,
) -> Result<KeylessSigned, SignError> {
    let claims = token::claims(&opts.identity_token)?;
    let key = PrivateKey::generate()?;
    let agent = palisade_core::http::agent(opts.timeout);
    let chain = fulcio::certificate(&agent, opts, &key, &claims)?;
    let leaf =
        chain.first().ok_or_else(|| fulcio::error(&opts.fulcio_url, "no certificate in the response"))?;
    let envelope = Envelope::sign(payload_type, payload, &key);
    let signature = envelope.signatures.first().and_then(|s| B64.decode(&s.sig).ok()).unwrap_or_default();
    let entry = rekor::log_dsse(&agent, &opts.rekor_url, &envelope, leaf)?;
    let timestamp = match &opts.tsa_url {
        Some(url) => Some(tsa::timestamp(&agent, url, &signature)?),
        None => None,
    };
    let bundle = Bundle {
        media_type: MEDIA_TYPE.to_string(),
        verification_material: VerificationMaterial {
            certificate: Some(serde_json::json!({"rawBytes": B64.encode(leaf)})),
            tlog_entries: vec![entry],
            timestamp_verification_data: timestamp
                .map(|t| serde_json::json!({"rfc3161Timestamps": [{"signedTimestamp": B64.encode(t)}]})),
            ..Default::default()
        },
        dsse_envelope: Some(envelope),
        message_signature: None,
    };
    Ok(KeylessSigned { bundle, identity: claims.identity, issuer: claims.issuer })
}

/// Sign the resolved image `subject` keylessly (cosign v3's sign statement) and attach the bundle as a
/// referrer; returns the signature and the referrer's digest.
pub fn sign_subject(
    reg: &crate::registry::Registry,
    subject: &Subject,
    opts: &KeylessOptions,
) -> Result<(KeylessSigned, String), SignError> {
    attest_subject(reg, subject, bundle::SIGN_PREDICATE_TYPE, serde_json::json!({}), opts)
}

/// Attest the resolved image `subject` keylessly: an in-toto statement with `predicate` of
/// `predicate_type`, attached as a referrer.
pub fn attest_subject(
    reg: &crate::registry::Registry,
    subject: &Subject,
    predicate_type: &str,
    predicate: serde_json::Value,
    opts: &KeylessOptions,
) -> Result<(KeylessSigned, String), SignError> {
    let st = Statement::new(&subject.repository, &subject.digest, predicate_type, predicate);
    let signed = sign_dsse(INTOTO_PAYLOAD_TYPE, &st.to_bytes(), opts)?;
    let location = store::write_bundle_referrer(reg, subject, &signed.bundle, predicate_type)?;
    Ok((signed, location))
}

/// Sign the resolved image `subject` keylessly in cosign v2's tag scheme: the simple-signing payload signed
/// with a Fulcio certificate, logged in Rekor as a hashedrekord entry, stored in the `.sig` tag with the
/// certificate, chain and SET annotations. Returns the signature and the tag.
pub fn sign_subject_tag(
    reg: &crate::registry::Registry,
    subject: &Subject,
    opts: &KeylessOptions,
) -> Result<(KeylessSigned, String), SignError> {
    let claims = token::claims(&opts.identity_token)?;
    let key = PrivateKey::generate()?;
    let agent = palisade_core::http::agent(opts.timeout);
    let chain = fulcio::certificate(&agent, opts, &key, &claims)?;
    let leaf =
        chain.first().ok_or_else(|| fulcio::error(&opts.fulcio_url, "no certificate in the response"))?;
    let payload = crate::payload::SimpleSigning::new(&subject.repository, &subject.digest, None).to_bytes();
    let signature = key.sign(&payload);
    let (answer, entry) = rekor::log_hashedrekord(&agent, &opts.rekor_url, &payload, &signature, leaf)?;
    let annotation = rekor::cosign_bundle_annotation(&answer)
        .map_err(|e| SignError::Keyless { service: format!("Rekor {}", opts.rekor_url), reason: e })?;
    let chain_pem: String = chain.iter().skip(1).map(|c| rekor::cert_pem(c)).collect();
    let location = store::write_keyless_signature_tag(
        reg,
        subject,
        &payload,
        &signature,
        &rekor::cert_pem(leaf),
        &chain_pem,
        &annotation,
    )?;
    let bundle = Bundle {
        media_type: MEDIA_TYPE.to_string(),
        verification_material: VerificationMaterial {
            certificate: Some(serde_json::json!({"rawBytes": B64.encode(leaf)})),
            tlog_entries: vec![entry],
            ..Default::default()
        },
        dsse_envelope: None,
        message_signature: Some(serde_json::json!({"signature": B64.encode(&signature)})),
    };
    Ok((KeylessSigned { bundle, identity: claims.identity, issuer: claims.issuer }, location))
}

/// POST `body` (JSON) to `url`; the response body, or an error naming the service and the status.
pub(crate) fn post_json(
    agent: &ureq::Agent,
    service: &str,
    url: &str,
    body: &serde_json::Value,
    auth: Option<&str>,
) -> Result<Vec<u8>, SignError> {
    let fail = |reason: String| SignError::Keyless { service: format!("{service} {url}"), reason };
    let mut req =
        agent.post(url).header("Content-Type", "application/json").header("Accept", "application/json");
    if let Some(t) = auth {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = req.send(serde_json::to_vec(body).unwrap_or_default()).map_err(|e| fail(e.to_string()))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| fail(format!("reading the response: {e}")))?;
    if !(200..300).contains(&status) {
        let text = String::from_utf8_lossy(&bytes);
        return Err(fail(format!("HTTP {status}: {}", text.chars().take(300).collect::<String>())));
    }
    Ok(bytes)
}
