//! [`verify_image`]: is this image signed (or attested) as the policy requires? The one entry point for
//! `palisade verify`, `verify-attestation`, the policy gates and the admission webhook ([`VerifyCache`]).
//!
//! A tag is resolved to its digest first and the digest is what is verified (and reported). Every signature
//! found in either storage format is checked; the image verifies when one of them does. When none does, the
//! most telling failure is reported: a modified payload, then a signature over another digest, then an
//! attestation that fails its condition, then another key, then an unreadable signature, then none at all.

use crate::bundle;
use crate::dsse::{Envelope, INTOTO_PAYLOAD_TYPE};
use crate::error::VerifyError;
use crate::keyless::{self, KeylessPolicy, Material, Signed, Signer};
use crate::keys::PublicKey;
use crate::payload::SimpleSigning;
use crate::registry::{self, Registry};
use crate::statement::Statement;
use crate::store::{self, Format, Found, Kind, Subject};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What must be present.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// An image signature (`.sig` or a bundle with the sign predicate).
    Signature,
    /// An attestation of `predicate_type` (URI), at most `max_age` old (by the predicate's own time).
    Attestation { predicate_type: String, max_age: Option<Duration> },
}

/// A verification policy: trusted keys and keyless identities (any one suffices), and what must be present.
#[derive(Debug, Clone)]
pub struct VerifyPolicy {
    pub keys: Vec<PublicKey>,
    /// Keyless signers: identity and issuer under a trusted root.
    pub keyless: Vec<KeylessPolicy>,
    pub requirement: Requirement,
    /// Plain HTTP to the registry.
    pub insecure: bool,
    /// Bound on every registry call.
    pub timeout: Duration,
    /// Bound on all registry calls of one verification together (the webhook's time budget); `None`: only
    /// `timeout` per call.
    pub budget: Option<Duration>,
}

impl VerifyPolicy {
    pub fn signature(key: PublicKey) -> Self {
        Self {
            keys: vec![key],
            keyless: Vec::new(),
            requirement: Requirement::Signature,
            insecure: false,
            timeout: Duration::from_secs(30),
            budget: None,
        }
    }

    /// This policy with its registry budget cut to what is left before `deadline` (a policy engine's
    /// wall-clock deadline, the webhook's time budget); unchanged when `None`.
    pub fn within(&self, deadline: Option<Instant>) -> VerifyPolicy {
        let mut p = self.clone();
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            p.budget = Some(p.budget.map_or(left, |b| b.min(left)));
        }
        p
    }

    /// A stable identity of the policy, for the cache key.
    pub fn fingerprint(&self) -> String {
        let ids: Vec<&str> = self.keys.iter().map(PublicKey::id).collect();
        let keyless: Vec<String> = self.keyless.iter().map(KeylessPolicy::fingerprint).collect();
        format!("{}|{}|{:?}|{}", ids.join(","), keyless.join(","), self.requirement, self.insecure)
    }
}

/// A successful verification.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// `registry/repository`.
    pub repository: String,
    /// The digest that was verified.
    pub digest: String,
    /// The tag it was resolved from, if any.
    pub resolved_from: Option<String>,
    /// The key that verified it (for keyless signatures: the identity and issuer).
    pub key_id: String,
    /// The keyless signer, when a certificate signature verified.
    pub keyless: Option<Signer>,
    /// Where the signature was found (`tag sha256-….sig layer 0`, `referrer sha256:…`).
    pub source: String,
    /// The simple-signing payload (tag-format image signatures).
    pub payload: Option<SimpleSigning>,
    /// The verified statement (attestations, and image signatures stored as bundles).
    pub statement: Option<Statement>,
}

fn client(r: &oci_client::Reference, policy: &VerifyPolicy) -> Result<Registry, VerifyError> {
    let reg = Registry::for_reference(r, policy.insecure)?.with_timeout(policy.timeout);
    Ok(match policy.budget {
        Some(b) => reg.with_deadline(Instant::now() + b),
        None => reg,
    })
}

/// Verify `reference` against `policy`, going to the registry.
pub fn verify_image(reference: &str, policy: &VerifyPolicy) -> Result<Verified, VerifyError> {
    let r = registry::parse_reference(reference)?;
    let reg = client(&r, policy)?;
    let subject = store::resolve(&reg, reference)?;
    verify_subject(&reg, &subject, policy)
}

/// Verify an already resolved subject.
pub fn verify_subject(
    reg: &Registry,
    subject: &Subject,
    policy: &VerifyPolicy,
) -> Result<Verified, VerifyError> {
    if policy.keys.is_empty() && policy.keyless.is_empty() {
        return Err(VerifyError::Setup("no trusted key or keyless identity given".into()));
    }
    let (kind, what) = match &policy.requirement {
        Requirement::Signature => (Kind::Signature, "signature".to_string()),
        Requirement::Attestation { predicate_type, .. } => {
            (Kind::Attestation, format!("attestation of type {predicate_type}"))
        }
    };
    let mut best: Option<VerifyError> = None;
    let mut other_types: Vec<String> = Vec::new();
    // The tag scheme first (one request when present), the referrers only when it did not verify.
    for format in [Format::Tag, Format::Referrers] {
        for f in store::read(reg, subject, format, kind)? {
            match check(subject, policy, f, &mut other_types) {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => {}
                Err(e) => {
                    if best.as_ref().is_none_or(|b| e.rank() > b.rank()) {
                        best = Some(e);
                    }
                }
            }
        }
    }
    Err(best.unwrap_or_else(|| {
        let mut what = what;
        if !other_types.is_empty() {
            other_types.sort();
            other_types.dedup();
            what.push_str(&format!(" (verified attestations of other types: {})", other_types.join(", ")));
        }
        VerifyError::NotFound {
            image: subject.given.clone(),
            digest: subject.digest.clone(),
            what,
            resolved_from: subject.resolved_from.clone(),
        }
    }))
}

/// Which key verifies, or the failure: tampered when the (unsigned) hint names one of our keys.
fn key_failure(subject: &Subject, policy: &VerifyPolicy, hint: Option<&str>, source: &str) -> VerifyError {
    let (image, digest) = (subject.pinned(), subject.digest.clone());
    match hint {
        Some(h) if policy.keys.iter().any(|k| k.id() == h) => {
            VerifyError::Tampered { image, digest, detail: format!("{source}, made with key {}", short(h)) }
        }
        Some(h) => VerifyError::WrongKey {
            image,
            digest,
            expected: keys_list(policy),
            detail: format!("{source} names key {}", short(h)),
        },
        None => VerifyError::WrongKey {
            image,
            digest,
            expected: keys_list(policy),
            detail: format!("{source} does not verify: made with another key, or modified"),
        },
    }
}

fn short(id: &str) -> &str {
    id.get(..16).unwrap_or(id)
}

fn keys_list(policy: &VerifyPolicy) -> String {
    policy.keys.iter().map(|k| short(k.id())).collect::<Vec<_>>().join(", ")
}

fn malformed(subject: &Subject, what: &str, detail: String) -> VerifyError {
    VerifyError::Malformed {
        image: subject.pinned(),
        digest: subject.digest.clone(),
        what: what.into(),
        detail,
    }
}

fn check(
    subject: &Subject,
    policy: &VerifyPolicy,
    found: Found,
    other_types: &mut Vec<String>,
) -> Result<Option<Verified>, VerifyError> {
    let verified =
        |(key_id, keyless): (String, Option<Signer>), source: String, payload, statement| Verified {
            repository: subject.repository.clone(),
            digest: subject.digest.clone(),
            resolved_from: subject.resolved_from.clone(),
            key_id,
            keyless,
            source,
            payload,
            statement,
        };
    match found {
        Found::Malformed { what, detail, source } => {
            Err(malformed(subject, &what, format!("{detail} ({source})")))
        }
        Found::Simple { payload, signature, key_hint, source, material } => {
            let who = signer(subject, policy, &payload, &signature, material.as_deref(), &source, || {
                Ok(policy.keys.iter().find(|k| k.verify(&payload, &signature)))
            })
            .map_err(|e| e.unwrap_or_else(|| key_failure(subject, policy, key_hint.as_deref(), &source)))?;
            let p = SimpleSigning::parse(&payload)
                .map_err(|e| malformed(subject, "payload", format!("{e} ({source})")))?;
            if p.digest() != subject.digest {
                return Err(VerifyError::DigestMismatch {
                    image: subject.pinned(),
                    digest: subject.digest.clone(),
                    signed: p.digest().to_string(),
                });
            }
            Ok(Some(verified(who, source, Some(p), None)))
        }
        Found::Dsse { envelope, key_hint, source, material, .. } => {
            let body =
                envelope.body().map_err(|e| malformed(subject, "envelope", format!("{e} ({source})")))?;
            let sig = envelope
                .signatures
                .first()
                .and_then(|s| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &s.sig).ok())
                .unwrap_or_default();
            let pae = crate::dsse::pae(&envelope.payload_type, &body);
            let who = signer(subject, policy, &pae, &sig, material.as_deref(), &source, || {
                dsse_key(subject, policy, &envelope, key_hint.as_deref(), &source).map(Some)
            })
            .map_err(|e| e.unwrap_or_else(|| key_failure(subject, policy, key_hint.as_deref(), &source)))?;
            if envelope.payload_type != INTOTO_PAYLOAD_TYPE {
                return Err(malformed(
                    subject,
                    "envelope",
                    format!(
                        "payload type {:?}, expected {INTOTO_PAYLOAD_TYPE} ({source})",
                        envelope.payload_type
                    ),
                ));
            }
            let st = Statement::parse(&body)
                .map_err(|e| malformed(subject, "statement", format!("{e} ({source})")))?;
            let wanted = match &policy.requirement {
                Requirement::Signature => bundle::SIGN_PREDICATE_TYPE,
                Requirement::Attestation { predicate_type, .. } => predicate_type.as_str(),
            };
            if st.predicate_type != wanted {
                if st.predicate_type != bundle::SIGN_PREDICATE_TYPE {
                    other_types.push(st.predicate_type.clone());
                }
                return Ok(None);
            }
            if !st.covers(&subject.digest) {
                return Err(VerifyError::DigestMismatch {
                    image: subject.pinned(),
                    digest: subject.digest.clone(),
                    signed: st.subject_digests().join(", "),
                });
            }
            if let Requirement::Attestation { max_age: Some(max), .. } = &policy.requirement {
                let fail = |detail: String| VerifyError::Attestation {
                    image: subject.pinned(),
                    digest: subject.digest.clone(),
                    detail,
                };
                let Some(created) = st.created() else {
                    return Err(fail(format!(
                        "the {wanted} predicate carries no creation time, so its age cannot be checked ({source})"
                    )));
                };
                let age = time::OffsetDateTime::now_utc() - created;
                if age > time::Duration::try_from(*max).unwrap_or(time::Duration::MAX) {
                    return Err(fail(format!(
                        "the {wanted} attestation was made {} ago, older than the {} allowed ({source})",
                        human(age.whole_seconds()),
                        human(max.as_secs() as i64)
                    )));
                }
            }
            Ok(Some(verified(who, source, None, Some(st))))
        }
    }
}

/// Who made `signature` over `signed`: a keyless signer when the signature carries a certificate and the
/// policy names identities, else one of the policy's keys (`by_key`). `Err(None)`: no key verifies (the
/// caller words that failure).
#[allow(clippy::too_many_arguments)]
fn signer<'a>(
    subject: &Subject,
    policy: &'a VerifyPolicy,
    signed: &[u8],
    signature: &[u8],
    material: Option<&Material>,
    source: &str,
    by_key: impl FnOnce() -> Result<Option<&'a PublicKey>, VerifyError>,
) -> Result<(String, Option<Signer>), Option<VerifyError>> {
    if let Some(m) = material.filter(|_| !policy.keyless.is_empty()) {
        let mut best: Option<VerifyError> = None;
        for p in &policy.keyless {
            match keyless::verify(m, signature, Signed::Message(signed), p) {
                Ok(s) => return Ok((format!("{} (issuer {})", s.identity, s.issuer), Some(s))),
                Err(e) => {
                    let e = VerifyError::keyless(subject.pinned(), subject.digest.clone(), e);
                    let e = with_source(e, source);
                    if best.as_ref().is_none_or(|b| e.rank() > b.rank()) {
                        best = Some(e);
                    }
                }
            }
        }
        return Err(best);
    }
    if policy.keys.is_empty() {
        return Err(Some(VerifyError::UntrustedChain {
            image: subject.pinned(),
            digest: subject.digest.clone(),
            detail: format!("{source} carries no signing certificate: not a keyless signature"),
        }));
    }
    match by_key() {
        Ok(Some(k)) => Ok((k.id().to_string(), None)),
        Ok(None) => Err(None),
        Err(e) => Err(Some(e)),
    }
}

/// The keyless failure's detail with where the signature was found.
fn with_source(e: VerifyError, source: &str) -> VerifyError {
    match e {
        VerifyError::WrongIdentity { image, digest, detail } => {
            VerifyError::WrongIdentity { image, digest, detail: format!("{detail} ({source})") }
        }
        VerifyError::WrongIssuer { image, digest, detail } => {
            VerifyError::WrongIssuer { image, digest, detail: format!("{detail} ({source})") }
        }
        VerifyError::UntrustedChain { image, digest, detail } => {
            VerifyError::UntrustedChain { image, digest, detail: format!("{detail} ({source})") }
        }
        VerifyError::CertificateExpired { image, digest, detail } => {
            VerifyError::CertificateExpired { image, digest, detail: format!("{detail} ({source})") }
        }
        VerifyError::BadSct { image, digest, detail } => {
            VerifyError::BadSct { image, digest, detail: format!("{detail} ({source})") }
        }
        VerifyError::TlogProof { image, digest, detail } => {
            VerifyError::TlogProof { image, digest, detail: format!("{detail} ({source})") }
        }
        VerifyError::Tampered { image, digest, detail } => {
            VerifyError::Tampered { image, digest, detail: format!("{detail}, {source}") }
        }
        other => other,
    }
}

fn dsse_key<'a>(
    subject: &Subject,
    policy: &'a VerifyPolicy,
    env: &Envelope,
    hint: Option<&str>,
    source: &str,
) -> Result<&'a PublicKey, VerifyError> {
    for k in &policy.keys {
        match env.verify(k) {
            Ok(true) => return Ok(k),
            Ok(false) => {}
            Err(e) => return Err(malformed(subject, "envelope", format!("{e} ({source})"))),
        }
    }
    Err(key_failure(subject, policy, hint, source))
}

fn human(secs: i64) -> String {
    match secs {
        s if s >= 86_400 => format!("{}d{}h", s / 86_400, (s % 86_400) / 3600),
        s if s >= 3600 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s => format!("{s}s"),
    }
}

/// Results of [`verify_image`] cached by (digest, policy) for a time-to-live: what the admission webhook
/// calls for every image of every pod. Only definite answers are cached (verified, or a verification that
/// ran and failed); a registry that could not be reached is asked again next time.
pub struct VerifyCache {
    ttl: Duration,
    entries: Mutex<HashMap<(String, String), Entry>>,
}

/// Most results a [`VerifyCache`] keeps.
const MAX_ENTRIES: usize = 10_000;

/// When a result was stored, and the result.
type Entry = (Instant, Result<Verified, VerifyError>);

impl VerifyCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Mutex::new(HashMap::new()) }
    }

    fn get(&self, digest: &str, fp: &str) -> Option<Result<Verified, VerifyError>> {
        let map = self.entries.lock().ok()?;
        let (at, r) = map.get(&(digest.to_string(), fp.to_string()))?;
        (at.elapsed() < self.ttl).then(|| r.clone())
    }

    fn put(&self, digest: &str, fp: &str, r: &Result<Verified, VerifyError>) {
        if matches!(r, Err(VerifyError::Setup(_))) {
            return;
        }
        if let Ok(mut map) = self.entries.lock() {
            map.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if map.len() >= MAX_ENTRIES {
                // Bounded memory whatever the number of images seen within a TTL: drop the oldest.
                if let Some(oldest) = map.iter().min_by_key(|(_, (at, _))| *at).map(|(k, _)| k.clone()) {
                    map.remove(&oldest);
                }
            }
            map.insert((digest.to_string(), fp.to_string()), (Instant::now(), r.clone()));
        }
    }

    /// [`verify_image`] through the cache. A reference pinned by digest is answered from the cache without
    /// any registry call; a tag is resolved first (one manifest request) and its digest looked up.
    pub fn verify(&self, reference: &str, policy: &VerifyPolicy) -> Result<Verified, VerifyError> {
        let r = registry::parse_reference(reference)?;
        let fp = policy.fingerprint();
        if let Some(d) = r.digest()
            && let Some(hit) = self.get(d, &fp)
        {
            return hit;
        }
        let reg = client(&r, policy)?;
        let subject = store::resolve(&reg, reference)?;
        if let Some(hit) = self.get(&subject.digest, &fp) {
            return hit.map(|mut v| {
                v.resolved_from = subject.resolved_from.clone();
                v
            });
        }
        let result = verify_subject(&reg, &subject, policy);
        self.put(&subject.digest, &fp, &result);
        result
    }

    /// Number of live entries.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|m| m.values().filter(|(at, _)| at.elapsed() < self.ttl).count()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::PrivateKey;

    #[test]
    fn keyless_identities_issuers_and_roots_are_part_of_the_cache_key() {
        use crate::keyless::{IdentityMatch, KeylessPolicy, TrustedRoot};
        let root = |name: &str| {
            let p =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keyless").join(name);
            std::sync::Arc::new(TrustedRoot::load(&p).expect("root"))
        };
        let mut p = VerifyPolicy::signature(PrivateKey::generate().expect("key").public());
        p.keys.clear();
        let kl = |id: &str, issuer: &str, r: &str| KeylessPolicy {
            identity: IdentityMatch::Exact(id.into()),
            issuer: issuer.into(),
            root: root(r),
        };
        let fp = |k: KeylessPolicy| {
            let mut q = p.clone();
            q.keyless = vec![k];
            q.fingerprint()
        };
        let base = fp(kl("a@x", "https://i", "trusted_root.json"));
        assert_eq!(base, fp(kl("a@x", "https://i", "trusted_root.json")));
        assert_ne!(base, fp(kl("b@x", "https://i", "trusted_root.json")));
        assert_ne!(base, fp(kl("a@x", "https://j", "trusted_root.json")));
        assert_ne!(base, fp(kl("a@x", "https://i", "other_root.json")));
        let mut re = kl("a@x", "https://i", "trusted_root.json");
        re.identity = IdentityMatch::regexp("a@x").expect("re");
        assert_ne!(base, fp(re));
    }

    #[test]
    fn deadlines_cut_the_budget_and_do_not_change_the_cache_key() {
        let p = VerifyPolicy::signature(PrivateKey::generate().expect("key").public());
        assert_eq!(p.within(None).budget, None);
        let cut = p.within(Some(Instant::now()));
        assert_eq!(cut.budget, Some(Duration::ZERO));
        assert_eq!(cut.fingerprint(), p.fingerprint());
        let mut q = p.clone();
        q.budget = Some(Duration::from_secs(1));
        assert_eq!(
            q.within(Some(Instant::now() + Duration::from_secs(60))).budget,
            Some(Duration::from_secs(1))
        );
        // A spent budget is a setup error at the first registry call, not a hang and not a cached answer.
        let cache = VerifyCache::new(Duration::from_secs(60));
        let e = cache
            .verify(
                "127.0.0.1:9/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                &cut.clone(),
            )
            .expect_err("no budget");
        assert!(matches!(&e, VerifyError::Setup(m) if m.contains("time budget")), "{e:?}");
        assert!(cache.is_empty());
    }
}
