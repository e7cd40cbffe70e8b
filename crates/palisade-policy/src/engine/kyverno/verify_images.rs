//! Kyverno `verifyImages` rules, checked with Palisade's signature verification ([`palisade_signing`]):
//! every container, init container and ephemeral container image of the Pod matching `imageReferences`
//! (and not `skipImageReferences`) must carry a signature by one of the `attestors` keys, and each listed
//! attestation (`type`/`predicateType`) must verify and satisfy its `conditions` (Kyverno conditions
//! evaluated on the predicate, e.g. `{{ time_since('', '{{ metadata.scanFinishedOn }}', '') }}`).
//!
//! Mapping and limits:
//! - `attestors[].entries[].keys.publicKeys` (PEM, one or several) are the trusted keys; `count` is not
//!   honoured beyond "one of the keys"; `certificates` and KMS entries are unsupported load errors.
//! - `attestors[].entries[].keyless: {subject | subjectRegExp, issuer, roots, rekor: {pubkey}, ctlog:
//!   {pubkey}}` is the same keyless check as `palisade verify --certificate-identity …`, offline, with a
//!   trust root made of `roots` (Fulcio CA PEMs), the Rekor key and the CT log key. Without them (Kyverno
//!   would fetch the public Sigstore root over TUF) the attestor is refused at load; `issuerRegExp`,
//!   `rekor.ignoreTlog` and `ctlog.ignoreSCT` are refused too (the log proof and the SCT are always
//!   required).
//! - `verifyDigest: true` (Kyverno's default) requires the image to be given by digest; since the webhook
//!   does not mutate, `mutateDigest` cannot pin a tag: a tag is verified at the digest it names now.
//! - `required: false` turns a missing signature into a pass; a signature that fails still fails.
//! - A registry on a loopback address (`localhost`, `127.*`, `[::1]`) is spoken to over plain HTTP, as the
//!   Docker daemon does by default; every other one over HTTPS.
//! - Results come from the process-wide (digest, policy) cache of the gate engine, so a webhook verifies
//!   each image once per TTL.

use super::conditions;
use super::jmespath_fns::wildcard;
use palisade_core::json::JsonPointer;
use palisade_signing::keyless::{IdentityMatch, KeylessPolicy, TrustedRoot};
use palisade_signing::keys::PublicKey;
use palisade_signing::{Requirement, VerifyCache, VerifyError, VerifyPolicy};
use serde_json::Value;
use std::sync::LazyLock;
use std::time::Duration;

static CACHE: LazyLock<VerifyCache> = LazyLock::new(|| VerifyCache::new(Duration::from_secs(300)));
const TIMEOUT: Duration = Duration::from_secs(10);

/// One `verifyImages` entry.
#[derive(Debug, Clone)]
pub struct Entry {
    references: Vec<String>,
    skip: Vec<String>,
    keys: Vec<PublicKey>,
    keyless: Vec<KeylessPolicy>,
    attestations: Vec<(String, Value)>,
    verify_digest: bool,
    required: bool,
}

/// The compiled `verifyImages` list of a rule.
#[derive(Debug, Clone)]
pub struct VerifyImages {
    entries: Vec<Entry>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

/// Every `-----BEGIN PUBLIC KEY-----` block of a `publicKeys` string.
fn pem_blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN PUBLIC KEY-----") {
        let tail = &rest[start..];
        let Some(end) = tail.find("-----END PUBLIC KEY-----") else { break };
        let end = end + "-----END PUBLIC KEY-----".len();
        out.push(tail[..end].to_string());
        rest = &tail[end..];
    }
    out
}

/// A `keyless` attestor entry as a keyless policy; `Err((message, unsupported))`.
fn keyless_attestor(k: &Value, at: &str) -> Result<KeylessPolicy, (String, bool)> {
    let at = format!("{at}.keyless");
    let s = |p: &str| k.pointer(p).and_then(Value::as_str).filter(|v| !v.is_empty());
    if s("/issuerRegExp").is_some() {
        return Err((format!("{at}.issuerRegExp: not supported (give issuer)"), true));
    }
    if k.pointer("/rekor/ignoreTlog").and_then(Value::as_bool) == Some(true)
        || k.pointer("/ctlog/ignoreSCT").and_then(Value::as_bool) == Some(true)
    {
        return Err((
            format!("{at}: ignoreTlog / ignoreSCT are not supported: the log proof and the SCT are required"),
            true,
        ));
    }
    let identity = match (s("/subject"), s("/subjectRegExp")) {
        (Some(v), None) => IdentityMatch::Exact(v.to_string()),
        (None, Some(r)) => {
            IdentityMatch::regexp(r).map_err(|e| (format!("{at}.subjectRegExp: {e}"), false))?
        }
        _ => return Err((format!("{at}: give exactly one of subject and subjectRegExp"), false)),
    };
    let issuer = s("/issuer").ok_or((format!("{at}.issuer: missing"), false))?;
    let (Some(roots), Some(rekor), Some(ctlog)) = (s("/roots"), s("/rekor/pubkey"), s("/ctlog/pubkey"))
    else {
        return Err((
            format!(
                "{at}: roots, rekor.pubkey and ctlog.pubkey are needed (verification is offline: the public Sigstore root is not fetched)"
            ),
            true,
        ));
    };
    let root = TrustedRoot::from_pems(roots, rekor, ctlog, &at).map_err(|e| (e, false))?;
    Ok(KeylessPolicy { identity, issuer: issuer.to_string(), root: std::sync::Arc::new(root) })
}

/// The keys and keyless signers of an `attestors` list; `Err((message, unsupported))`.
fn attestor_keys(
    attestors: Option<&Value>,
    what: &str,
) -> Result<(Vec<PublicKey>, Vec<KeylessPolicy>), (String, bool)> {
    let mut keys = Vec::new();
    let mut keyless = Vec::new();
    for (i, a) in attestors.and_then(Value::as_array).into_iter().flatten().enumerate() {
        for (j, e) in a.get("entries").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let at = format!("{what}.attestors[{i}].entries[{j}]");
            if let Some(k) = e.get("keys") {
                let text = k.get("publicKeys").and_then(Value::as_str).unwrap_or("");
                let blocks = pem_blocks(text);
                if blocks.is_empty() {
                    let why = if k.get("kms").is_some() || k.get("secret").is_some() {
                        return Err((format!("{at}.keys: KMS and Secret keys are not supported"), true));
                    } else {
                        "no PEM public key in publicKeys"
                    };
                    return Err((format!("{at}.keys: {why}"), false));
                }
                for b in blocks {
                    keys.push(
                        PublicKey::from_pem(&b, &format!("{at}.keys.publicKeys"))
                            .map_err(|e| (e.to_string(), false))?,
                    );
                }
            } else if let Some(k) = e.get("keyless") {
                keyless.push(keyless_attestor(k, &at)?);
            } else {
                let kind = e.as_object().and_then(|m| m.keys().next().cloned()).unwrap_or_default();
                return Err((
                    format!("{at}: {kind} attestors are not supported (only keys.publicKeys and keyless)"),
                    true,
                ));
            }
        }
    }
    Ok((keys, keyless))
}

fn fingerprints(k: &[KeylessPolicy]) -> Vec<String> {
    k.iter().map(KeylessPolicy::fingerprint).collect()
}

impl VerifyImages {
    /// Compile a rule's `verifyImages` list; `Err((message, unsupported))`.
    pub fn compile(list: &Value, rule: &str) -> Result<Self, (String, bool)> {
        let Some(items) = list.as_array() else {
            return Err((format!("rule {rule}: verifyImages must be a list"), false));
        };
        let mut entries = Vec::new();
        for (i, v) in items.iter().enumerate() {
            let what = format!("rule {rule}: verifyImages[{i}]");
            if v.get("type").and_then(Value::as_str).is_some_and(|t| t != "Cosign") {
                return Err((format!("{what}: only type Cosign is supported"), true));
            }
            let mut references = strings(v.get("imageReferences"));
            references.extend(strings(v.get("image")));
            if references.is_empty() {
                return Err((format!("{what}: imageReferences is empty"), false));
            }
            let (keys, keyless) = attestor_keys(v.get("attestors"), &what)?;
            let mut attestations = Vec::new();
            for (j, a) in v.get("attestations").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let ty = a
                    .get("type")
                    .or_else(|| a.get("predicateType"))
                    .and_then(Value::as_str)
                    .ok_or((format!("{what}.attestations[{j}]: no type (predicateType)"), false))?;
                let conds = a.get("conditions").cloned().unwrap_or(Value::Null);
                let (own, own_keyless) =
                    attestor_keys(a.get("attestors"), &format!("{what}.attestations[{j}]"))?;
                if (!own.is_empty() || !own_keyless.is_empty())
                    && (own != keys || fingerprints(&own_keyless) != fingerprints(&keyless))
                {
                    return Err((
                        format!(
                            "{what}.attestations[{j}].attestors: keys other than the rule's attestors are not supported"
                        ),
                        true,
                    ));
                }
                attestations.push((ty.to_string(), conds));
            }
            if keys.is_empty() && keyless.is_empty() {
                return Err((format!("{what}: no attestors with keys or keyless identities"), false));
            }
            entries.push(Entry {
                references,
                skip: strings(v.get("skipImageReferences")),
                keys,
                keyless,
                attestations,
                verify_digest: v.get("verifyDigest").and_then(Value::as_bool).unwrap_or(true),
                required: v.get("required").and_then(Value::as_bool).unwrap_or(true),
            });
        }
        Ok(Self { entries })
    }

    /// The failures for the Pod `pod` (empty: every matching image verified).
    /// Registry calls stop at `deadline` (the evaluation's budget) when it comes before 10 s.
    pub fn violations(
        &self,
        pod: &Value,
        deadline: Option<std::time::Instant>,
    ) -> Result<Vec<String>, String> {
        let mut images = Vec::new();
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            for c in pod.at(&format!("/spec/{list}")).and_then(Value::as_array).into_iter().flatten() {
                if let Some(i) = c.get("image").and_then(Value::as_str) {
                    images.push(i.to_string());
                }
            }
        }
        let mut out = Vec::new();
        for image in &images {
            for e in &self.entries {
                let matches = |globs: &[String]| globs.iter().any(|g| wildcard(g, image));
                if !matches(&e.references) || matches(&e.skip) {
                    continue;
                }
                if e.verify_digest && !image.contains("@sha256:") {
                    out.push(format!("{image}: not given by digest (verifyDigest)"));
                    continue;
                }
                out.extend(e.check(image, deadline)?);
            }
        }
        Ok(out)
    }
}

fn loopback(image: &str) -> bool {
    let host = image.split('/').next().unwrap_or("");
    let host =
        host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    host == "localhost" || host.starts_with("127.") || host == "[::1]"
}

impl Entry {
    fn check(&self, image: &str, deadline: Option<std::time::Instant>) -> Result<Vec<String>, String> {
        let policy = |requirement| {
            VerifyPolicy {
                keys: self.keys.clone(),
                keyless: self.keyless.clone(),
                requirement,
                insecure: loopback(image),
                timeout: TIMEOUT,
                budget: Some(TIMEOUT),
            }
            .within(deadline)
        };
        let mut out = Vec::new();
        match CACHE.verify(image, &policy(Requirement::Signature)) {
            Ok(_) => {}
            Err(VerifyError::NotFound { .. }) if !self.required => {}
            Err(VerifyError::Setup(m)) => return Err(m),
            Err(e) => out.push(e.to_string()),
        }
        for (ty, conds) in &self.attestations {
            let predicate_type =
                palisade_signing::statement::predicate_type(ty).unwrap_or_else(|| ty.clone());
            match CACHE.verify(image, &policy(Requirement::Attestation { predicate_type, max_age: None })) {
                Ok(v) => {
                    // The same check as a Palisade gate's `attestations[].conditions`: each failing
                    // condition named, with the value its key had.
                    let predicate = v.statement.map(|s| s.predicate).unwrap_or(Value::Null);
                    let list = match conds {
                        Value::Array(l) => l.clone(),
                        Value::Null => Vec::new(),
                        other => vec![other.clone()],
                    };
                    for c in &list {
                        let failing = conditions::failing(c, &predicate)?;
                        if !failing.is_empty() {
                            out.push(format!(
                                "{image}: attestation {ty}: conditions do not hold: {} ({})",
                                failing.join("; "),
                                v.source
                            ));
                        }
                    }
                }
                Err(VerifyError::Setup(m)) => return Err(m),
                Err(e) => out.push(e.to_string()),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compile_errors_name_the_entry() {
        let e = VerifyImages::compile(&json!([{"imageReferences": ["r/*"], "attestors": [{"entries": [{"keyless": {"subject": "x", "issuer": "https://i"}}]}]}]), "r1")
            .expect_err("keyless without roots");
        assert!(
            e.1 && e.0.contains(
                "verifyImages[0].attestors[0].entries[0].keyless: roots, rekor.pubkey and ctlog.pubkey are needed"
            ),
            "{e:?}"
        );
        let e = VerifyImages::compile(&json!([{"imageReferences": ["r/*"], "attestors": [{"entries": [{"keyless": {"subject": "x", "issuer": "https://i", "rekor": {"ignoreTlog": true}}}]}]}]), "r1")
            .expect_err("ignoreTlog");
        assert!(e.1 && e.0.contains("ignoreTlog / ignoreSCT are not supported"), "{e:?}");
        let e = VerifyImages::compile(&json!([{"imageReferences": ["r/*"], "attestors": [{"entries": [{"keyless": {"issuer": "https://i"}}]}]}]), "r1")
            .expect_err("no subject");
        assert!(!e.1 && e.0.contains("exactly one of subject and subjectRegExp"), "{e:?}");
        let e = VerifyImages::compile(&json!([{"imageReferences": ["r/*"], "attestors": [{"entries": [{"keys": {"publicKeys": "nope"}}]}]}]), "r1")
            .expect_err("no pem");
        assert!(!e.1 && e.0.contains("no PEM public key"), "{e:?}");
        assert!(loopback("127.0.0.1:5000/app:1") && loopback("localhost/app") && !loopback("ghcr.io/a/b:1"));
        assert_eq!(pem_blocks("x-----BEGIN PUBLIC KEY-----\nA\n-----END PUBLIC KEY-----\n-----BEGIN PUBLIC KEY-----\nB\n-----END PUBLIC KEY-----").len(), 2);
    }
}
