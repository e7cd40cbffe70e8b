//! The Sigstore trusted root (`trusted_root.json`, protobuf-specs `TrustedRoot` in its JSON form): the Fulcio
//! certificate authorities, the transparency logs (Rekor), the certificate-transparency logs and the
//! timestamp authorities, each with its validity window. What `cosign trusted-root create` writes and what
//! the Sigstore TUF repository distributes; read once, verified against fully offline.
//!
//! Keys are ECDSA P-256/P-384 or Ed25519 (public-good Rekor v2 logs); entries with other key types are kept
//! by name but cannot verify anything; a root without a single usable CA is refused.

use super::pubkey::EcKey;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};

/// A validity window (`validFor`); an absent end is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl Window {
    pub fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }
}

/// A certificate authority (Fulcio) or timestamp authority: its chain, issuing certificate first.
#[derive(Debug, Clone)]
pub struct Authority {
    pub name: String,
    pub chain: Vec<Certificate>,
    pub chain_der: Vec<Vec<u8>>,
    pub valid: Window,
}

/// A transparency log or CT log.
#[derive(Debug, Clone)]
pub struct Log {
    pub name: String,
    /// The log id (SHA-256 of the key's SubjectPublicKeyInfo for Rekor and CT logs).
    pub log_id: Vec<u8>,
    /// `None` for key types we cannot verify with.
    pub key: Option<EcKey>,
    pub valid: Window,
}

#[derive(Debug, Clone)]
pub struct TrustedRoot {
    pub cas: Vec<Authority>,
    pub tlogs: Vec<Log>,
    pub ctlogs: Vec<Log>,
    pub tsas: Vec<Authority>,
    /// SHA-256 of the file, part of a verification policy's identity (its cache key).
    pub digest: String,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(rename = "certificateAuthorities", default)]
    certificate_authorities: Vec<RawCa>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
    #[serde(rename = "timestampAuthorities", default)]
    timestamp_authorities: Vec<RawCa>,
}

#[derive(Deserialize)]
struct RawLog {
    #[serde(rename = "baseUrl", default)]
    base_url: String,
    #[serde(rename = "publicKey")]
    public_key: RawKey,
    #[serde(rename = "logId")]
    log_id: RawLogId,
}

#[derive(Deserialize)]
struct RawLogId {
    #[serde(rename = "keyId")]
    key_id: String,
}

#[derive(Deserialize)]
struct RawKey {
    #[serde(rename = "rawBytes", default)]
    raw_bytes: Option<String>,
    #[serde(rename = "validFor", default)]
    valid_for: Option<RawWindow>,
}

#[derive(Deserialize, Default)]
struct RawWindow {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    end: Option<String>,
}

#[derive(Deserialize)]
struct RawCa {
    #[serde(default)]
    uri: String,
    #[serde(rename = "certChain")]
    cert_chain: RawChain,
    #[serde(rename = "validFor", default)]
    valid_for: Option<RawWindow>,
}

#[derive(Deserialize)]
struct RawChain {
    #[serde(default)]
    certificates: Vec<RawCert>,
}

#[derive(Deserialize)]
struct RawCert {
    #[serde(rename = "rawBytes")]
    raw_bytes: String,
}

fn window(w: Option<&RawWindow>, field: &str) -> Result<Window, String> {
    let parse = |s: &Option<String>, which: &str| -> Result<Option<i64>, String> {
        s.as_deref()
            .map(|t| {
                OffsetDateTime::parse(t, &Rfc3339)
                    .map(|d| d.unix_timestamp())
                    .map_err(|e| format!("{field}.validFor.{which}: not an RFC 3339 time ({t:?}: {e})"))
            })
            .transpose()
    };
    let w = match w {
        Some(w) => w,
        None => return Ok(Window { start: None, end: None }),
    };
    Ok(Window { start: parse(&w.start, "start")?, end: parse(&w.end, "end")? })
}

fn b64(s: &str, field: &str) -> Result<Vec<u8>, String> {
    B64.decode(s.trim()).map_err(|e| format!("{field}: not base64 ({e})"))
}

fn authority(ca: &RawCa, field: &str) -> Result<Authority, String> {
    let mut chain = Vec::new();
    let mut chain_der = Vec::new();
    for (i, c) in ca.cert_chain.certificates.iter().enumerate() {
        let f = format!("{field}.certChain.certificates[{i}]");
        let der = b64(&c.raw_bytes, &f)?;
        let cert = Certificate::from_der(&der).map_err(|e| format!("{f}: not a DER certificate ({e})"))?;
        chain.push(cert);
        chain_der.push(der);
    }
    if chain.is_empty() {
        return Err(format!("{field}.certChain: no certificates"));
    }
    let name =
        if ca.uri.is_empty() { chain[0].tbs_certificate().subject().to_string() } else { ca.uri.clone() };
    Ok(Authority { name, chain, chain_der, valid: window(ca.valid_for.as_ref(), field)? })
}

fn log(l: &RawLog, field: &str) -> Result<Log, String> {
    let log_id = b64(&l.log_id.key_id, &format!("{field}.logId.keyId"))?;
    let key = match &l.public_key.raw_bytes {
        Some(raw) => EcKey::from_spki(&b64(raw, &format!("{field}.publicKey.rawBytes"))?).ok(),
        None => None,
    };
    Ok(Log {
        name: if l.base_url.is_empty() { hex::encode(&log_id) } else { l.base_url.clone() },
        log_id,
        key,
        valid: window(l.public_key.valid_for.as_ref(), &format!("{field}.publicKey"))?,
    })
}

impl TrustedRoot {
    /// Parse a trusted root; errors name the field.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let raw: Raw = serde_json::from_slice(bytes).map_err(|e| format!("trusted root JSON: {e}"))?;
        let cas = raw
            .certificate_authorities
            .iter()
            .enumerate()
            .map(|(i, c)| authority(c, &format!("certificateAuthorities[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        if cas.is_empty() {
            return Err("no certificateAuthorities: nothing to verify a signing certificate with".into());
        }
        let tsas = raw
            .timestamp_authorities
            .iter()
            .enumerate()
            .map(|(i, c)| authority(c, &format!("timestampAuthorities[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let logs = |v: &[RawLog], name: &str| {
            v.iter().enumerate().map(|(i, l)| log(l, &format!("{name}[{i}]"))).collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            cas,
            tlogs: logs(&raw.tlogs, "tlogs")?,
            ctlogs: logs(&raw.ctlogs, "ctlogs")?,
            tsas,
            digest: hex::encode(Sha256::digest(bytes)),
        })
    }

    /// A root from PEM parts, as Kyverno's keyless attestors give them: Fulcio root (and intermediate)
    /// certificates, the Rekor public key and the CT log public key; every window open, log ids the
    /// SHA-256 of the keys. `what` names the source in errors.
    pub fn from_pems(roots: &str, rekor_key: &str, ctlog_key: &str, what: &str) -> Result<Self, String> {
        let blocks = |text: &str, field: &str| -> Result<Vec<(String, Vec<u8>)>, String> {
            let out = super::cert::pem_blocks(text).map_err(|e| format!("{what}.{field}: {e}"))?;
            if out.is_empty() {
                return Err(format!("{what}.{field}: no PEM block"));
            }
            Ok(out)
        };
        let open = Window { start: None, end: None };
        let mut chain = Vec::new();
        let mut chain_der = Vec::new();
        for (label, der) in blocks(roots, "roots")? {
            if label != "CERTIFICATE" {
                return Err(format!("{what}.roots: {label} PEM, expected CERTIFICATE"));
            }
            chain.push(
                Certificate::from_der(&der).map_err(|e| format!("{what}.roots: not a certificate ({e})"))?,
            );
            chain_der.push(der);
        }
        // Each certificate is an anchor of its own (a root and its intermediates may come in any order).
        let cas = chain
            .iter()
            .zip(&chain_der)
            .map(|(c, d)| Authority {
                name: c.tbs_certificate().subject().to_string(),
                chain: vec![c.clone()],
                chain_der: vec![d.clone()],
                valid: open,
            })
            .collect();
        let log = |text: &str, field: &str| -> Result<Log, String> {
            let (_, der) =
                blocks(text, field)?.into_iter().next().ok_or_else(|| format!("{what}.{field}: no key"))?;
            let key = EcKey::from_spki(&der).map_err(|e| format!("{what}.{field}: {e}"))?;
            Ok(Log {
                name: format!("{what}.{field}"),
                log_id: Sha256::digest(&der).to_vec(),
                key: Some(key),
                valid: open,
            })
        };
        let digest = hex::encode(Sha256::digest(format!("{roots}\0{rekor_key}\0{ctlog_key}").as_bytes()));
        Ok(Self {
            cas,
            tlogs: vec![log(rekor_key, "rekor.pubkey")?],
            ctlogs: vec![log(ctlog_key, "ctlog.pubkey")?],
            tsas: Vec::new(),
            digest,
        })
    }

    /// Read a trusted root file; the error names the file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Self::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// DER of a certificate (re-encoded; equal to the input for DER-encoded certificates).
pub fn cert_der(c: &Certificate) -> Vec<u8> {
    c.to_der().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_field() {
        let e = TrustedRoot::parse(b"{}").expect_err("empty");
        assert!(e.contains("no certificateAuthorities"), "{e}");
        let e = TrustedRoot::parse(
            br#"{"certificateAuthorities":[{"certChain":{"certificates":[{"rawBytes":"!!"}]}}]}"#,
        )
        .expect_err("b64");
        assert!(e.contains("certificateAuthorities[0].certChain.certificates[0]: not base64"), "{e}");
        let e = TrustedRoot::parse(
            br#"{"certificateAuthorities":[{"certChain":{"certificates":[{"rawBytes":"AAAA"}]}}]}"#,
        )
        .expect_err("der");
        assert!(e.contains("not a DER certificate"), "{e}");
        let w = Window { start: Some(10), end: None };
        assert!(w.contains(10) && !w.contains(9) && w.contains(i64::MAX));
    }
}
