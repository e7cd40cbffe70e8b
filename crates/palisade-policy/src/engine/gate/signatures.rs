//! `spec.signatures` of a gate: the image must be signed by one of the keys or keyless identities, and
//! carry attestations of the listed types no older than their `maxAge`, checked with
//! [`palisade_signing::VerifyCache`] against the registry digest the scan pulled (never a tag).
//!
//! ```yaml
//! spec:
//!   scope: {images: ["registry.acme.io/**"]}
//!   signatures:
//!     keys: [keys/ci.pub]           # PEM files, relative to this gate file (or inline PEM)
//!     identities:                   # keyless (Fulcio certificates), checked offline against trustedRoot
//!       - {subject: "https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main",
//!          issuer: "https://token.actions.githubusercontent.com"}
//!       - {subjectRegExp: "^.*@acme\\.io$", issuer: "https://accounts.google.com"}
//!     trustedRoot: sigstore/trusted_root.json   # relative to this gate file
//!     signature: true               # default: an image signature is required
//!     attestations:                 # each: verified, no older than maxAge, its predicate passing
//!       - {type: vuln, maxAge: 7d, gate: no-critical}    # another gate (see predicate.rs)
//!       - {type: cyclonedx}
//!       - {type: "https://acme.io/review/v1", conditions: {all: [{key: "{{ approved }}", operator: Equals, value: true}]}}
//!     insecure: false               # plain HTTP to the registry
//!     timeout: 10s                  # per registry request
//! ```
//!
//! Results are cached by (digest, policy) for five minutes. An image without a registry digest (an archive
//! or a local engine) cannot be checked: that is a violation, not a pass.

use super::duration::parse_age;
use super::predicate::PredicateCheck;
use super::view::ReportView;
use palisade_signing::keys::PublicKey;
use palisade_signing::statement::predicate_type;
use palisade_signing::{Requirement, VerifyCache, VerifyPolicy};
use serde::Deserialize;
use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

/// One cache for every gate of the process (the webhook evaluates the same images again and again).
static CACHE: LazyLock<VerifyCache> = LazyLock::new(|| VerifyCache::new(Duration::from_secs(300)));

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawSignatures {
    #[serde(default)]
    pub keys: Vec<String>,
    #[serde(default)]
    pub signature: Option<bool>,
    #[serde(default)]
    pub attestations: Vec<RawAttestation>,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub timeout: Option<String>,
    #[serde(default)]
    pub identities: Vec<RawIdentity>,
    #[serde(default)]
    pub trusted_root: Option<String>,
}

/// A keyless signer: `subject` (exact) or `subjectRegExp`, and the OIDC `issuer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawIdentity {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default, rename = "subjectRegExp")]
    pub subject_reg_exp: Option<String>,
    pub issuer: String,
}

/// Keyless policies from `identities` and `trusted_root` (a path relative to `base`); `what` names the
/// field in errors. Shared with Kyverno's keyless attestors.
pub fn keyless_policies(
    identities: &[(Option<String>, Option<String>, String)],
    trusted_root: Option<&Path>,
    what: &str,
) -> Result<Vec<palisade_signing::keyless::KeylessPolicy>, String> {
    use palisade_signing::keyless::{IdentityMatch, KeylessPolicy, TrustedRoot};
    if identities.is_empty() {
        return Ok(Vec::new());
    }
    let Some(root_path) = trusted_root else {
        return Err(format!(
            "{what}: keyless identities need a trusted root (trustedRoot: a Sigstore trusted_root.json)"
        ));
    };
    let root = std::sync::Arc::new(TrustedRoot::load(root_path)?);
    let mut out = Vec::new();
    for (i, (subject, re, issuer)) in identities.iter().enumerate() {
        let identity = match (subject, re) {
            (Some(s), None) => IdentityMatch::Exact(s.clone()),
            (None, Some(r)) => IdentityMatch::regexp(r).map_err(|e| format!("{what}[{i}]: {e}"))?,
            _ => return Err(format!("{what}[{i}]: give exactly one of subject and subjectRegExp")),
        };
        if issuer.is_empty() {
            return Err(format!("{what}[{i}].issuer: empty"));
        }
        out.push(KeylessPolicy { identity, issuer: issuer.clone(), root: root.clone() });
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawAttestation {
    #[serde(rename = "type")]
    pub predicate_type: String,
    #[serde(default)]
    pub max_age: Option<String>,
    /// Another gate of the bundle the predicate must pass.
    #[serde(default)]
    pub gate: Option<String>,
    /// Kyverno conditions the predicate must meet.
    #[serde(default)]
    pub conditions: Option<serde_json::Value>,
}

#[derive(Debug)]
pub(super) struct SignatureRule {
    signature: Option<VerifyPolicy>,
    attestations: Vec<(VerifyPolicy, Option<PredicateCheck>)>,
}

impl SignatureRule {
    /// Compile; key paths are relative to `base` (the gate file's directory).
    pub fn compile(raw: RawSignatures, base: &Path) -> Result<Self, String> {
        const W: &str = "spec.signatures";
        if raw.keys.is_empty() && raw.identities.is_empty() {
            return Err(format!(
                "{W}: give at least one public key (keys: a PEM file or inline PEM) or keyless identity (identities + trustedRoot)"
            ));
        }
        let ids: Vec<_> = raw
            .identities
            .iter()
            .map(|i| (i.subject.clone(), i.subject_reg_exp.clone(), i.issuer.clone()))
            .collect();
        let root = raw.trusted_root.as_deref().map(|r| base.join(r));
        let keyless = keyless_policies(&ids, root.as_deref(), &format!("{W}.identities"))?;
        let mut keys = Vec::new();
        for (i, k) in raw.keys.iter().enumerate() {
            let key = if k.contains("-----BEGIN") {
                PublicKey::from_pem(k, &format!("{W}.keys[{i}]"))
            } else {
                PublicKey::load(&base.join(k))
            };
            keys.push(key.map_err(|e| format!("{W}.keys[{i}]: {e}"))?);
        }
        let timeout = match raw.timeout.as_deref() {
            Some(t) => parse_age(t, &format!("{W}.timeout"))?
                .try_into()
                .map_err(|_| format!("{W}.timeout: {t:?} is negative"))?,
            None => Duration::from_secs(10),
        };
        let policy = |requirement| VerifyPolicy {
            keys: keys.clone(),
            keyless: keyless.clone(),
            requirement,
            insecure: raw.insecure,
            timeout,
            budget: Some(timeout),
        };
        let mut attestations = Vec::new();
        for (i, a) in raw.attestations.iter().enumerate() {
            let Some(uri) = predicate_type(&a.predicate_type) else {
                return Err(format!(
                    "{W}.attestations[{i}].type: {:?} is not cyclonedx, spdxjson, vuln, openvex, slsaprovenance, custom or a URI",
                    a.predicate_type
                ));
            };
            let max_age = a
                .max_age
                .as_deref()
                .map(|m| {
                    parse_age(m, &format!("{W}.attestations[{i}].maxAge")).and_then(|d| {
                        d.try_into().map_err(|_| format!("{W}.attestations[{i}].maxAge: negative"))
                    })
                })
                .transpose()?;
            let check = PredicateCheck::compile(
                a.gate.as_deref(),
                a.conditions.as_ref(),
                &uri,
                &format!("{W}.attestations[{i}]"),
            )?;
            attestations.push((policy(Requirement::Attestation { predicate_type: uri, max_age }), check));
        }
        let signature = raw.signature.unwrap_or(true).then(|| policy(Requirement::Signature));
        if signature.is_none() && attestations.is_empty() {
            return Err(format!("{W}: `signature: false` and no attestations: nothing to check"));
        }
        Ok(Self { signature, attestations })
    }

    /// The violations for the image of `report`: `(rule, message)`.
    /// Registry calls stop at `deadline` (the evaluation budget's) if it comes before the gate's timeout.
    pub fn violations(
        &self,
        report: &ReportView,
        deadline: Option<std::time::Instant>,
    ) -> Vec<(&'static str, String)> {
        if report.artifact.kind != "image" {
            return Vec::new();
        }
        let Some(pinned) = report.artifact.repo_digests.first() else {
            return vec![(
                "signature",
                format!(
                    "{} was not pulled from a registry, so there is no registry digest whose signature could be checked",
                    report.artifact.name
                ),
            )];
        };
        let mut out = Vec::new();
        if let Some(p) = &self.signature
            && let Err(e) = CACHE.verify(pinned, &p.within(deadline))
        {
            out.push(("signature", e.to_string()));
        }
        for (p, check) in &self.attestations {
            match CACHE.verify(pinned, &p.within(deadline)) {
                Err(e) => out.push(("attestation", e.to_string())),
                Ok(v) => {
                    if let (Some(check), Some(st)) = (check, &v.statement) {
                        for m in check.failures(&st.predicate_type, &st.predicate, pinned) {
                            out.push(("attestation", format!("{pinned}: {m} ({})", v.source)));
                        }
                    }
                }
            }
        }
        out
    }

    /// The gates the attestation entries name, to resolve once the bundle's gates are compiled.
    pub fn gate_references(
        &self,
    ) -> impl Iterator<Item = (&str, &std::sync::OnceLock<std::sync::Arc<super::Gate>>)> {
        self.attestations.iter().filter_map(|(_, c)| c.as_ref()?.gate_reference())
    }
}
