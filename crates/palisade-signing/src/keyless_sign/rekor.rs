//! Rekor's `POST /api/v1/log/entries` with a `dsse` v0.0.1 entry (the envelope as proposed content and the
//! signing certificate as its verifier; Rekor stores the envelope and payload hashes and the signature with
//! its verifier, which is what verifiers compare); the answer (`{uuid: {body, integratedTime, logID,
//! logIndex, verification: {signedEntryTimestamp, inclusionProof}}}`) becomes a bundle `tlogEntries[]` item
//! (protobuf-specs JSON).

use crate::dsse::Envelope;
use crate::error::SignError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

fn error(url: &str, reason: String) -> SignError {
    SignError::Keyless { service: format!("Rekor {url}"), reason }
}

/// PEM text of a DER certificate.
pub(super) fn cert_pem(der: &[u8]) -> String {
    let b = B64.encode(der);
    let lines: Vec<&str> =
        b.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

/// Log the envelope signed by the key of `leaf` (DER); returns the bundle's tlog entry.
pub fn log_dsse(
    agent: &ureq::Agent,
    base: &str,
    envelope: &Envelope,
    leaf: &[u8],
) -> Result<Value, SignError> {
    let url = format!("{}/api/v1/log/entries", base.trim_end_matches('/'));
    let proposed = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {"proposedContent": {
            "envelope": serde_json::to_string(envelope).unwrap_or_default(),
            "verifiers": [B64.encode(cert_pem(leaf))],
        }},
    });
    let bytes = super::post_json(agent, "Rekor", &url, &proposed, None)?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| error(&url, format!("response is not JSON: {e}")))?;
    to_bundle_entry(&v, "dsse", "0.0.1").map_err(|e| error(&url, e))
}

/// Log a message signature (`signature` over `message` by the key of `leaf`) as a `hashedrekord` v0.0.1
/// entry; returns the raw v1 answer (for cosign's tag-scheme bundle annotation) and the bundle entry.
pub fn log_hashedrekord(
    agent: &ureq::Agent,
    base: &str,
    message: &[u8],
    signature: &[u8],
    leaf: &[u8],
) -> Result<(Value, Value), SignError> {
    use sha2::{Digest, Sha256};
    let url = format!("{}/api/v1/log/entries", base.trim_end_matches('/'));
    let proposed = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(message))}},
            "signature": {"content": B64.encode(signature), "publicKey": {"content": B64.encode(cert_pem(leaf))}},
        },
    });
    let bytes = super::post_json(agent, "Rekor", &url, &proposed, None)?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| error(&url, format!("response is not JSON: {e}")))?;
    let entry = to_bundle_entry(&v, "hashedrekord", "0.0.1").map_err(|e| error(&url, e))?;
    Ok((v, entry))
}

/// cosign's `dev.sigstore.cosign/bundle` annotation from a Rekor v1 answer: `{"SignedEntryTimestamp",
/// "Payload": {body, integratedTime, logIndex, logID}}`.
pub fn cosign_bundle_annotation(v: &Value) -> Result<String, String> {
    let (_, e) = v.as_object().and_then(|m| m.iter().next()).ok_or("no entry in the response")?;
    let set =
        e.pointer("/verification/signedEntryTimestamp").ok_or("the entry has no signed entry timestamp")?;
    Ok(json!({
        "SignedEntryTimestamp": set,
        "Payload": {
            "body": e.get("body"),
            "integratedTime": e.get("integratedTime"),
            "logIndex": e.get("logIndex"),
            "logID": e.get("logID"),
        },
    })
    .to_string())
}

/// A Rekor v1 API answer as a bundle `tlogEntries[]` item.
pub fn to_bundle_entry(v: &Value, kind: &str, version: &str) -> Result<Value, String> {
    let (_, e) = v.as_object().and_then(|m| m.iter().next()).ok_or("no entry in the response")?;
    let int = |p: &str| e.pointer(p).and_then(Value::as_i64).ok_or_else(|| format!("no {p} in the entry"));
    let text = |p: &str| e.pointer(p).and_then(Value::as_str).ok_or_else(|| format!("no {p} in the entry"));
    let hex_b64 =
        |h: &str, what: &str| hex::decode(h).map(|b| B64.encode(b)).map_err(|_| format!("{what}: not hex"));
    let mut out = json!({
        "logIndex": int("/logIndex")?.to_string(),
        "logId": {"keyId": hex_b64(text("/logID")?, "logID")?},
        "kindVersion": {"kind": kind, "version": version},
        "integratedTime": int("/integratedTime")?.to_string(),
        "canonicalizedBody": text("/body")?,
    });
    if let Ok(set) = text("/verification/signedEntryTimestamp") {
        out["inclusionPromise"] = json!({"signedEntryTimestamp": set});
    }
    if let Some(p) = e.pointer("/verification/inclusionProof").filter(|p| p.is_object()) {
        let hashes: Result<Vec<String>, String> = p
            .get("hashes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|h| hex_b64(h.as_str().unwrap_or_default(), "inclusionProof.hashes"))
            .collect();
        let n = |k: &str| {
            p.get(k).and_then(Value::as_i64).map(|x| x.to_string()).ok_or(format!("no inclusionProof.{k}"))
        };
        out["inclusionProof"] = json!({
            "logIndex": n("logIndex")?,
            "rootHash": hex_b64(p.get("rootHash").and_then(Value::as_str).unwrap_or_default(), "inclusionProof.rootHash")?,
            "treeSize": n("treeSize")?,
            "hashes": hashes?,
            "checkpoint": {"envelope": p.get("checkpoint").and_then(Value::as_str).unwrap_or_default()},
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_answers_become_bundle_entries() {
        let v = json!({"ab": {"body": "Ym9keQ==", "integratedTime": 1700000000, "logID": "00ff", "logIndex": 7,
            "verification": {"signedEntryTimestamp": "c2V0", "inclusionProof": {"logIndex": 7, "treeSize": 8,
            "rootHash": "0102", "hashes": ["0a"], "checkpoint": "cp\n"}}}});
        let e = to_bundle_entry(&v, "dsse", "0.0.1").expect("entry");
        assert_eq!(e["logId"]["keyId"], "AP8=");
        assert_eq!(e["logIndex"], "7");
        assert_eq!(e["inclusionProof"]["rootHash"], "AQI=");
        assert_eq!(e["inclusionProof"]["hashes"][0], "Cg==");
        assert_eq!(e["inclusionPromise"]["signedEntryTimestamp"], "c2V0");
        let parsed = crate::keyless::tlog::Entry::from_bundle(&e, "e").expect("reads back");
        assert_eq!(parsed.log_index, 7);
        assert!(to_bundle_entry(&json!({}), "dsse", "0.0.1").is_err());
        assert!(to_bundle_entry(&json!({"x": {"logID": "zz"}}), "dsse", "0.0.1").is_err());
    }
}
