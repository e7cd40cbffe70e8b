//! The transparency-log (Rekor) entry of a keyless signature: an inclusion proof to a checkpoint signed by
//! the log's key (a signed note: body lines, a blank line, `— NAME base64(keyhint || signature)`), or the
//! signed entry timestamp (SET: the log's signature over the canonical JSON of body, integratedTime, logID
//! and logIndex). The entry's body must carry the signature being verified, so an entry cannot be
//! borrowed from another signature. The integrated time is the signing time.
//!
//! Rekor v2 entries (`kindVersion.version` `0.0.2`: `hashedrekord` and `dsse` v0.0.2, bodies
//! `spec.hashedRekordV002` / `spec.dsseV002` with the verifier as raw DER) have no SET and no trusted
//! integrated time: they are proven only by an inclusion proof to a signed checkpoint, and the signing time
//! must come from an RFC 3161 timestamp ([`verify`] returns `None` for them).

use super::merkle;
use super::pubkey::Hash;
use super::trust_root::{Log, TrustedRoot};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

/// One log entry, from a bundle's `tlogEntries[]` or cosign's `dev.sigstore.cosign/bundle` annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub log_index: i64,
    pub log_id: Vec<u8>,
    pub integrated_time: i64,
    /// The canonicalized body.
    pub body: Vec<u8>,
    pub set: Option<Vec<u8>>,
    pub proof: Option<Proof>,
    /// `kindVersion.version` (`0.0.1`, or `0.0.2` for Rekor v2), when known.
    pub version: Option<String>,
}

impl Entry {
    /// A Rekor v2 entry (v0.0.2 kinds): checkpoint-only, no signing time of its own.
    pub fn is_rekor_v2(&self) -> bool {
        self.version.as_deref() == Some("0.0.2")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Proof {
    pub log_index: u64,
    pub tree_size: u64,
    pub root_hash: Vec<u8>,
    pub hashes: Vec<Vec<u8>>,
    pub checkpoint: Option<String>,
}

/// A protobuf-JSON integer (a number or a decimal string); absent is proto3's default, 0.
fn int(v: &Value, field: &str) -> Result<i64, String> {
    match v {
        Value::Null => Some(0),
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| format!("{field}: not an integer"))
}

fn b64(v: Option<&Value>, field: &str) -> Result<Vec<u8>, String> {
    let s = v.and_then(Value::as_str).ok_or_else(|| format!("{field}: missing"))?;
    B64.decode(s).map_err(|e| format!("{field}: not base64 ({e})"))
}

impl Entry {
    /// From a bundle's `tlogEntries[i]` (protobuf-specs JSON; 64-bit integers as strings).
    pub fn from_bundle(v: &Value, field: &str) -> Result<Self, String> {
        let f = |n: &str| format!("{field}.{n}");
        let proof = match v.get("inclusionProof") {
            Some(p) => Some(Proof {
                log_index: int(p.get("logIndex").unwrap_or(&Value::Null), &f("inclusionProof.logIndex"))?
                    as u64,
                tree_size: int(p.get("treeSize").unwrap_or(&Value::Null), &f("inclusionProof.treeSize"))?
                    as u64,
                root_hash: b64(p.get("rootHash"), &f("inclusionProof.rootHash"))?,
                hashes: p
                    .get("hashes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, h)| b64(Some(h), &f(&format!("inclusionProof.hashes[{i}]"))))
                    .collect::<Result<_, _>>()?,
                checkpoint: p.pointer("/checkpoint/envelope").and_then(Value::as_str).map(str::to_string),
            }),
            None => None,
        };
        let set = match v.pointer("/inclusionPromise/signedEntryTimestamp") {
            Some(s) => Some(b64(Some(s), &f("inclusionPromise.signedEntryTimestamp"))?),
            None => None,
        };
        Ok(Self {
            log_index: int(v.get("logIndex").unwrap_or(&Value::Null), &f("logIndex"))?,
            log_id: b64(v.pointer("/logId/keyId"), &f("logId.keyId"))?,
            integrated_time: int(v.get("integratedTime").unwrap_or(&Value::Null), &f("integratedTime"))?,
            body: b64(v.get("canonicalizedBody"), &f("canonicalizedBody"))?,
            set,
            proof,
            version: v.pointer("/kindVersion/version").and_then(Value::as_str).map(str::to_string),
        })
    }

    /// From cosign's `dev.sigstore.cosign/bundle` annotation (`{"SignedEntryTimestamp", "Payload": {body,
    /// integratedTime, logIndex, logID (hex)}}`).
    pub fn from_cosign_annotation(text: &str) -> Result<Self, String> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| format!("cosign bundle annotation: not JSON ({e})"))?;
        let p = v.get("Payload").ok_or("cosign bundle annotation: no Payload")?;
        let log_id = p
            .get("logID")
            .and_then(Value::as_str)
            .and_then(|h| hex::decode(h).ok())
            .ok_or("cosign bundle annotation: Payload.logID is not hex")?;
        Ok(Self {
            log_index: int(p.get("logIndex").unwrap_or(&Value::Null), "Payload.logIndex")?,
            log_id,
            integrated_time: int(p.get("integratedTime").unwrap_or(&Value::Null), "Payload.integratedTime")?,
            body: b64(p.get("body"), "Payload.body")?,
            set: Some(b64(v.get("SignedEntryTimestamp"), "SignedEntryTimestamp")?),
            proof: None,
            version: None,
        })
    }

    /// The canonical JSON the SET signs (RFC 8785: keys sorted, no spaces; the values need no escaping).
    fn set_payload(&self) -> Vec<u8> {
        format!(
            r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
            B64.encode(&self.body),
            self.integrated_time,
            hex::encode(&self.log_id),
            self.log_index
        )
        .into_bytes()
    }
}

/// Whether the entry's body names `signature` (hashedrekord `spec.signature.content`, dsse
/// `spec.signatures[].signature` or, as proposed, `spec.proposedContent.envelope`, intoto
/// `spec.content.envelope.signatures[].sig`, once or twice base64) and, when it records one, the signing
/// certificate (or its key) as the verifier.
fn body_names_signature(
    body: &[u8],
    signature: &[u8],
    leaf_der: &[u8],
    leaf_spki: &[u8],
) -> Result<(), String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("the entry body is not JSON ({e})"))?;
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("?").to_string();
    let spec = v.get("spec").ok_or("the entry body has no spec")?;
    let mut candidates: Vec<&str> = Vec::new();
    candidates.extend(spec.pointer("/signature/content").and_then(Value::as_str));
    for s in spec.get("signatures").and_then(Value::as_array).into_iter().flatten() {
        candidates.extend(s.get("signature").and_then(Value::as_str));
    }
    for s in spec.pointer("/content/envelope/signatures").and_then(Value::as_array).into_iter().flatten() {
        candidates.extend(s.get("sig").and_then(Value::as_str));
    }
    // Rekor v2: hashedrekord v0.0.2 (`hashedRekordV002.signature`), dsse v0.0.2 (`dsseV002.signatures[]`).
    let v2_sigs: Vec<&Value> = spec
        .pointer("/hashedRekordV002/signature")
        .into_iter()
        .chain(spec.pointer("/dsseV002/signatures").and_then(Value::as_array).into_iter().flatten())
        .collect();
    for s in &v2_sigs {
        candidates.extend(s.get("content").and_then(Value::as_str));
    }
    // A dsse entry as proposed (what @sigstore/mock records): the envelope itself, as a JSON string.
    let proposed: Option<Value> = spec
        .pointer("/proposedContent/envelope")
        .and_then(Value::as_str)
        .and_then(|e| serde_json::from_str(e).ok());
    for s in
        proposed.as_ref().and_then(|e| e.get("signatures")).and_then(Value::as_array).into_iter().flatten()
    {
        candidates.extend(s.get("sig").and_then(Value::as_str));
    }
    let matches = |c: &str| {
        let once = B64.decode(c).ok();
        once.as_deref() == Some(signature)
            || once.and_then(|o| String::from_utf8(o).ok()).and_then(|s| B64.decode(s.trim()).ok()).as_deref()
                == Some(signature)
    };
    if !candidates.iter().any(|c| matches(c)) {
        return Err(format!("the {kind} log entry records another signature than this one"));
    }
    // The certificate (or key) it records must be the signing certificate.
    let mut verifiers: Vec<&str> = Vec::new();
    verifiers.extend(spec.pointer("/signature/publicKey/content").and_then(Value::as_str));
    for s in spec.get("signatures").and_then(Value::as_array).into_iter().flatten() {
        verifiers.extend(s.get("verifier").and_then(Value::as_str));
    }
    for s in spec.pointer("/content/envelope/signatures").and_then(Value::as_array).into_iter().flatten() {
        verifiers.extend(s.get("publicKey").and_then(Value::as_str));
    }
    for v in spec.pointer("/proposedContent/verifiers").and_then(Value::as_array).into_iter().flatten() {
        verifiers.extend(v.as_str());
    }
    let is_leaf = |v: &str| {
        let Some(pem) = B64.decode(v).ok().and_then(|b| String::from_utf8(b).ok()) else { return false };
        super::cert::pem_blocks(&pem)
            .is_ok_and(|b| b.iter().any(|(_, der)| der.as_slice() == leaf_der || der.as_slice() == leaf_spki))
    };
    // Rekor v2 verifiers are raw DER: the certificate, or the key's SubjectPublicKeyInfo.
    let mut raw_verifiers: Vec<Vec<u8>> = Vec::new();
    for s in &v2_sigs {
        for p in ["/verifier/x509Certificate/rawBytes", "/verifier/publicKey/rawBytes"] {
            if let Some(b) = s.pointer(p).and_then(Value::as_str) {
                raw_verifiers
                    .push(B64.decode(b).map_err(|e| format!("the entry's verifier is not base64 ({e})"))?);
            }
        }
    }
    if !raw_verifiers.is_empty()
        && !raw_verifiers.iter().any(|d| d.as_slice() == leaf_der || d.as_slice() == leaf_spki)
    {
        return Err(format!("the {kind} log entry records another certificate than the signing certificate"));
    }
    if !verifiers.is_empty() && !verifiers.iter().any(|v| is_leaf(v)) {
        return Err(format!("the {kind} log entry records another certificate than the signing certificate"));
    }
    Ok(())
}

/// Verify a signed-note checkpoint with the log's key and return (tree size, root hash).
fn checkpoint(note: &str, log: &Log) -> Result<(u64, Vec<u8>), String> {
    let key =
        log.key.as_ref().ok_or_else(|| format!("log {} has a key type that cannot be verified", log.name))?;
    let (body, sigs) = note.split_once("\n\n").ok_or("checkpoint: no blank line before the signatures")?;
    let signed = format!("{body}\n");
    let mut lines = body.lines();
    let _origin = lines.next().ok_or("checkpoint: empty")?;
    let size: u64 =
        lines.next().and_then(|l| l.parse().ok()).ok_or("checkpoint: line 2 is not the tree size")?;
    let root = lines
        .next()
        .and_then(|l| B64.decode(l).ok())
        .ok_or("checkpoint: line 3 is not the base64 root hash")?;
    for line in sigs.lines().filter(|l| l.starts_with('\u{2014}')) {
        let Some(b) = line.rsplit(' ').next().and_then(|s| B64.decode(s).ok()) else { continue };
        if b.len() > 4 && key.verify(signed.as_bytes(), &b[4..], Hash::Sha256) {
            return Ok((size, root));
        }
    }
    Err(format!("the checkpoint is not signed by log {}", log.name))
}

/// Verify the entry for `signature` by the certificate `leaf_der` (whose SubjectPublicKeyInfo is
/// `leaf_spki`) against the logs of `root`; returns the integrated time, or `None` for a Rekor v2 entry
/// (which proves inclusion, not time).
pub fn verify(
    entry: &Entry,
    root: &TrustedRoot,
    signature: &[u8],
    leaf_der: &[u8],
    leaf_spki: &[u8],
) -> Result<Option<i64>, String> {
    let log = root.tlogs.iter().find(|l| l.log_id == entry.log_id).ok_or_else(|| {
        format!("the entry is from log {}, which the trusted root does not list", hex::encode(&entry.log_id))
    })?;
    let v2 = entry.is_rekor_v2();
    if !v2 && !log.valid.contains(entry.integrated_time) {
        return Err(format!("log {}'s key was not valid at the entry's integrated time", log.name));
    }
    body_names_signature(&entry.body, signature, leaf_der, leaf_spki)?;
    if v2 && entry.proof.as_ref().is_none_or(|p| p.checkpoint.is_none()) {
        return Err(
            "a Rekor v2 entry without an inclusion proof to a signed checkpoint proves nothing".into()
        );
    }
    let mut proved = false;
    if let Some(set) = entry.set.as_ref().filter(|_| !v2) {
        let key = log
            .key
            .as_ref()
            .ok_or_else(|| format!("log {} has a key type that cannot be verified", log.name))?;
        if !key.verify(&entry.set_payload(), set, Hash::Sha256) {
            return Err(format!("the signed entry timestamp does not verify with log {}'s key", log.name));
        }
        proved = true;
    }
    if let Some(p) = &entry.proof {
        let root_hash =
            merkle::root_from_proof(p.log_index, p.tree_size, merkle::leaf_hash(&entry.body), &p.hashes)
                .map_err(|e| format!("inclusion proof: {e}"))?;
        if root_hash.as_slice() != p.root_hash.as_slice() {
            return Err("inclusion proof: the entry does not hash to the proof's root".into());
        }
        if let Some(note) = &p.checkpoint {
            let (size, signed_root) = checkpoint(note, log)?;
            if size != p.tree_size || signed_root != p.root_hash {
                return Err("inclusion proof: the checkpoint is for another tree".into());
            }
            proved = true;
        }
    }
    if !proved {
        return Err("the log entry has neither a signed entry timestamp nor a signed checkpoint".into());
    }
    Ok((!v2).then_some(entry.integrated_time))
}
