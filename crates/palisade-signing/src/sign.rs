//! Signing an image and attaching an attestation: resolve the reference to its digest first (a signature
//! binds a digest, never a tag), sign, store in the chosen format.

use crate::bundle::{self, Bundle};
use crate::dsse::{Envelope, INTOTO_PAYLOAD_TYPE};
use crate::error::SignError;
use crate::keys::PrivateKey;
use crate::payload::SimpleSigning;
use crate::registry::{self, Registry};
use crate::statement::Statement;
use crate::store::{self, Format, Subject};
use std::collections::BTreeMap;

/// How to sign.
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    pub format: Format,
    /// Plain HTTP to the image's registry.
    pub insecure: bool,
    /// Annotations for the simple-signing payload's `optional` (tag format only).
    pub annotations: BTreeMap<String, String>,
}

/// What was signed and where the signature went.
#[derive(Debug, Clone)]
pub struct Signed {
    pub subject: Subject,
    /// The `.sig`/`.att` tag or the referrer's digest.
    pub location: String,
}

fn open(reference: &str, insecure: bool) -> Result<(Registry, Subject), SignError> {
    let r = registry::parse_reference(reference)?;
    let reg = Registry::for_reference(&r, insecure)?;
    let subject = store::resolve(&reg, reference)?;
    Ok((reg, subject))
}

/// Sign the image `reference` (resolved to its digest first) with `key`.
pub fn sign_image(reference: &str, key: &PrivateKey, opts: &SignOptions) -> Result<Signed, SignError> {
    let (reg, subject) = open(reference, opts.insecure)?;
    sign_subject(&reg, &subject, key, opts)
}

/// Sign an already resolved subject.
pub fn sign_subject(
    reg: &Registry,
    subject: &Subject,
    key: &PrivateKey,
    opts: &SignOptions,
) -> Result<Signed, SignError> {
    let key_id = key.public().id().to_string();
    let location = match opts.format {
        Format::Tag => {
            let optional = (!opts.annotations.is_empty()).then(|| {
                opts.annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect()
            });
            let payload = SimpleSigning::new(&subject.repository, &subject.digest, optional).to_bytes();
            let sig = key.sign(&payload);
            store::write_signature_tag(reg, subject, &payload, &sig, &key_id)?
        }
        Format::Referrers => {
            let st = Statement::new(
                &subject.repository,
                &subject.digest,
                bundle::SIGN_PREDICATE_TYPE,
                serde_json::json!({}),
            );
            let env = Envelope::sign(INTOTO_PAYLOAD_TYPE, &st.to_bytes(), key);
            let b = Bundle::for_key(env, &key_id);
            store::write_bundle_referrer(reg, subject, &b, bundle::SIGN_PREDICATE_TYPE)?
        }
    };
    Ok(Signed { subject: subject.clone(), location })
}

/// Attach an in-toto statement with `predicate` of `predicate_type` (a URI) to the image, signed with `key`.
pub fn attest_image(
    reference: &str,
    key: &PrivateKey,
    predicate_type: &str,
    predicate: serde_json::Value,
    opts: &SignOptions,
) -> Result<Signed, SignError> {
    let (reg, subject) = open(reference, opts.insecure)?;
    attest_subject(&reg, &subject, key, predicate_type, predicate, opts.format)
}

/// Attest an already resolved subject.
pub fn attest_subject(
    reg: &Registry,
    subject: &Subject,
    key: &PrivateKey,
    predicate_type: &str,
    predicate: serde_json::Value,
    format: Format,
) -> Result<Signed, SignError> {
    let key_id = key.public().id().to_string();
    let st = Statement::new(&subject.repository, &subject.digest, predicate_type, predicate);
    let env = Envelope::sign(INTOTO_PAYLOAD_TYPE, &st.to_bytes(), key);
    let location = match format {
        Format::Tag => store::write_attestation_tag(reg, subject, &env, predicate_type, &key_id)?,
        Format::Referrers => {
            store::write_bundle_referrer(reg, subject, &Bundle::for_key(env, &key_id), predicate_type)?
        }
    };
    Ok(Signed { subject: subject.clone(), location })
}

/// Open a registry and resolve a reference (for callers that sign and attest the same image).
pub fn open_subject(reference: &str, insecure: bool) -> Result<(Registry, Subject), SignError> {
    open(reference, insecure)
}
