//! Keyless (Fulcio certificate) verification, fully offline against a pinned Sigstore trusted root. One file
//! per step, in the order [`verify`] runs them:
//!
//! 1. [`cert`]: the signing certificate; the signature must verify with its key (else: modified);
//! 2. [`tlog`] (with [`merkle`]) or [`tsa`]: proof of when it was signed: a transparency-log entry with a
//!    signed checkpoint or SET, or an RFC 3161 timestamp; the signing time must fall in the certificate's
//!    validity;
//! 3. [`chain`]: the certificate chains to a CA of the [`trust_root`] valid at signing time;
//! 4. [`sct`]: its embedded SCT verifies with a CT log of the root;
//! 5. the code-signing extended key usage, the OIDC issuer and the identity match the policy.
//!
//! Each failure is its own [`KeylessError`] class, and its own exit code through `VerifyError`.

pub mod cert;
pub mod chain;
pub mod merkle;
pub mod pubkey;
pub mod sct;
pub mod tlog;
pub mod tlv;
pub mod trust_root;
pub mod tsa;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use cert::Leaf;
use std::sync::Arc;
pub use trust_root::TrustedRoot;
use x509_cert::Certificate;
use x509_cert::der::Decode;

/// How the certificate's identity (an e-mail or URI subject alternative name) must look.
#[derive(Debug, Clone)]
pub enum IdentityMatch {
    Exact(String),
    /// Matched anywhere in the identity, as cosign's `--certificate-identity-regexp` (anchor with `^…$`).
    Regexp(regex::Regex),
}

impl IdentityMatch {
    pub fn regexp(re: &str) -> Result<Self, String> {
        regex::Regex::new(re).map(IdentityMatch::Regexp).map_err(|e| format!("identity regexp {re:?}: {e}"))
    }

    fn matches(&self, id: &str) -> bool {
        match self {
            IdentityMatch::Exact(s) => s == id,
            IdentityMatch::Regexp(r) => r.is_match(id),
        }
    }

    fn describe(&self) -> String {
        match self {
            IdentityMatch::Exact(s) => s.clone(),
            IdentityMatch::Regexp(r) => format!("/{}/", r.as_str()),
        }
    }
}

/// Who may have signed, and the trust root to check it with.
#[derive(Debug, Clone)]
pub struct KeylessPolicy {
    pub identity: IdentityMatch,
    /// The OIDC issuer, compared exactly.
    pub issuer: String,
    pub root: Arc<TrustedRoot>,
}

impl KeylessPolicy {
    /// A stable identity of the policy, for cache keys.
    pub fn fingerprint(&self) -> String {
        format!("{}@{}#{}", self.identity.describe(), self.issuer, self.root.digest.get(..16).unwrap_or(""))
    }
}

/// The verification material of a keyless signature.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Material {
    /// DER certificates, the signing certificate first.
    pub certificates: Vec<Vec<u8>>,
    pub tlog_entries: Vec<tlog::Entry>,
    /// DER RFC 3161 `TimeStampResp`/`TimeStampToken`s over the signature.
    pub timestamps: Vec<Vec<u8>>,
}

impl Material {
    /// From a bundle's `verificationMaterial` (v0.1/v0.2 `x509CertificateChain`, v0.3 `certificate`).
    pub fn from_bundle(vm: &crate::bundle::VerificationMaterial) -> Result<Option<Self>, String> {
        let mut certificates = Vec::new();
        let raw = |v: &serde_json::Value, f: &str| -> Result<Vec<u8>, String> {
            let s =
                v.get("rawBytes").and_then(|r| r.as_str()).ok_or_else(|| format!("{f}.rawBytes: missing"))?;
            B64.decode(s).map_err(|e| format!("{f}.rawBytes: not base64 ({e})"))
        };
        if let Some(c) = &vm.certificate {
            certificates.push(raw(c, "verificationMaterial.certificate")?);
        } else if let Some(chain) = &vm.x509_certificate_chain {
            for (i, c) in
                chain.get("certificates").and_then(|c| c.as_array()).into_iter().flatten().enumerate()
            {
                certificates
                    .push(raw(c, &format!("verificationMaterial.x509CertificateChain.certificates[{i}]"))?);
            }
        }
        if certificates.is_empty() {
            return Ok(None);
        }
        let tlog_entries = vm
            .tlog_entries
            .iter()
            .enumerate()
            .map(|(i, e)| tlog::Entry::from_bundle(e, &format!("verificationMaterial.tlogEntries[{i}]")))
            .collect::<Result<_, _>>()?;
        let mut timestamps = Vec::new();
        if let Some(tvd) = &vm.timestamp_verification_data {
            for (i, t) in
                tvd.get("rfc3161Timestamps").and_then(|t| t.as_array()).into_iter().flatten().enumerate()
            {
                let s = t.get("signedTimestamp").and_then(|s| s.as_str()).unwrap_or_default();
                timestamps.push(B64.decode(s).map_err(|e| {
                    format!("verificationMaterial.timestampVerificationData.rfc3161Timestamps[{i}]: not base64 ({e})")
                })?);
            }
        }
        Ok(Some(Self { certificates, tlog_entries, timestamps }))
    }

    /// From cosign's tag-scheme annotations: the PEM certificate, the PEM chain and the Rekor bundle.
    pub fn from_cosign_annotations(
        cert: &str,
        chain: Option<&str>,
        bundle: Option<&str>,
    ) -> Result<Self, String> {
        let pems = |text: &str, what: &str| -> Result<Vec<Vec<u8>>, String> {
            let blocks = cert::pem_blocks(text).map_err(|e| format!("{what}: {e}"))?;
            let out: Vec<Vec<u8>> =
                blocks.into_iter().filter(|(l, _)| l == "CERTIFICATE").map(|(_, d)| d).collect();
            if out.is_empty() {
                return Err(format!("{what}: no PEM certificate"));
            }
            Ok(out)
        };
        let mut certificates = pems(cert, "dev.sigstore.cosign/certificate")?;
        if let Some(c) = chain.filter(|c| !c.trim().is_empty()) {
            certificates.extend(pems(c, "dev.sigstore.cosign/chain")?);
        }
        let tlog_entries = match bundle.filter(|b| !b.trim().is_empty()) {
            Some(b) => vec![tlog::Entry::from_cosign_annotation(b)?],
            None => Vec::new(),
        };
        Ok(Self { certificates, tlog_entries, timestamps: Vec::new() })
    }
}

/// What a keyless verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// The identity that matched.
    pub identity: String,
    pub issuer: String,
    /// Unix seconds, from the log or the timestamp authority.
    pub signed_at: i64,
    /// What proved the time (`log https://rekor… entry 123`, `timestamp authority …`).
    pub proof: String,
}

/// Why a keyless signature was refused; one class per exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeylessError {
    /// The signature does not verify with the certificate's key.
    Signature(String),
    Identity(String),
    Issuer(String),
    Chain(String),
    /// The certificate was not valid at signing time.
    Expired(String),
    Sct(String),
    /// Missing or bad transparency-log entry / timestamp.
    Proof(String),
    Malformed(String),
}

/// What the signature signs, and with which hash.
pub enum Signed<'a> {
    /// The bytes themselves (DSSE PAE, a simple-signing payload, a blob).
    Message(&'a [u8]),
}

/// Verify a keyless signature over `signed` with `material` under `policy`.
pub fn verify(
    material: &Material,
    signature: &[u8],
    signed: Signed<'_>,
    policy: &KeylessPolicy,
) -> Result<Signer, KeylessError> {
    let root = &policy.root;
    let leaf_der = material
        .certificates
        .first()
        .ok_or_else(|| KeylessError::Malformed("no signing certificate".into()))?;
    let leaf = Leaf::parse(leaf_der).map_err(KeylessError::Malformed)?;
    let Signed::Message(msg) = signed;
    if !leaf.key.verify(msg, signature, leaf.key.default_hash()) {
        return Err(KeylessError::Signature(format!(
            "the signature does not verify with the key of the certificate issued to {}",
            leaf.identity_list()
        )));
    }
    // When was it signed? Every proof present must hold; at least one is required.
    if material.tlog_entries.is_empty() && material.timestamps.is_empty() {
        return Err(KeylessError::Proof(
            "no transparency-log entry and no signed timestamp: the signing time cannot be established"
                .into(),
        ));
    }
    let mut times = Vec::new();
    let leaf_spki = leaf.spki().map_err(KeylessError::Malformed)?;
    let mut v2_entries = Vec::new();
    for e in &material.tlog_entries {
        match tlog::verify(e, root, signature, &leaf.der, &leaf_spki)
            .map_err(|e| KeylessError::Proof(format!("transparency log: {e}")))?
        {
            Some(t) => {
                times.push((t, format!("transparency-log entry {} (integrated {})", e.log_index, rfc3339(t))))
            }
            None => v2_entries.push(e.log_index),
        }
    }
    for ts in &material.timestamps {
        let (t, tsa) = tsa::verify(ts, root, signature)
            .map_err(|e| KeylessError::Proof(format!("RFC 3161 timestamp: {e}")))?;
        times.push((t, format!("timestamp by {tsa} ({})", rfc3339(t))));
    }
    if times.is_empty() {
        // Only Rekor v2 entries: logged, but nothing says when.
        return Err(KeylessError::Proof(format!(
            "the Rekor v2 entry {} proves inclusion but records no signing time, and there is no signed timestamp",
            v2_entries.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        )));
    }
    if let Some((t, what)) = times.first()
        && !v2_entries.is_empty()
    {
        // The proof text names the v2 entry too.
        let what = format!(
            "{what}, Rekor v2 entry {}",
            v2_entries.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        );
        times[0] = (*t, what);
    }
    for (t, what) in &times {
        if *t < leaf.not_before || *t > leaf.not_after {
            return Err(KeylessError::Expired(format!(
                "signed at {} ({what}), outside the certificate's validity {} – {}",
                rfc3339(*t),
                rfc3339(leaf.not_before),
                rfc3339(leaf.not_after)
            )));
        }
    }
    let (signed_at, proof) = times.into_iter().next().unwrap_or_default();
    let intermediates: Vec<Certificate> =
        material.certificates.iter().skip(1).filter_map(|d| Certificate::from_der(d).ok()).collect();
    let path = chain::verify(&leaf, &intermediates, root, signed_at).map_err(KeylessError::Chain)?;
    if !leaf.code_signing {
        return Err(KeylessError::Chain(
            "the signing certificate lacks the code-signing extended key usage".into(),
        ));
    }
    sct::verify(&leaf, &path.issuer, root).map_err(KeylessError::Sct)?;
    let issuer = leaf.issuer.clone().unwrap_or_default();
    if issuer != policy.issuer {
        return Err(KeylessError::Issuer(format!(
            "the certificate's OIDC issuer is {}, not {}",
            if issuer.is_empty() { "absent" } else { issuer.as_str() },
            policy.issuer
        )));
    }
    let Some(identity) = leaf.identities.iter().find(|i| policy.identity.matches(i)) else {
        return Err(KeylessError::Identity(format!(
            "the certificate was issued to {}, not {}",
            leaf.identity_list(),
            policy.identity.describe()
        )));
    };
    Ok(Signer { identity: identity.clone(), issuer, signed_at, proof })
}

pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| t.to_string())
}
