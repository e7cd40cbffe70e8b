//! The signed certificate timestamp (SCT) embedded in the signing certificate (extension
//! 1.3.6.1.4.1.11129.2.4.2) must verify with the key of a CT log of the trusted root. The signed data is
//! RFC 6962's precertificate entry: the leaf's TBS certificate with the SCT list (and any poison)
//! extension removed, re-encoded, after the SHA-256 hash of the issuer's SubjectPublicKeyInfo.

use super::cert::Leaf;
use super::pubkey::Hash;
use super::tlv;
use super::trust_root::TrustedRoot;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::der::Encode;

const OID_SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";
/// DER of the OIDs removed from the precertificate TBS: the SCT list and the CT poison.
const SCT_OID_DER: &[u8] = &[0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];
const POISON_OID_DER: &[u8] = &[0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x03];

/// The TBS certificate as the CT log saw it.
fn precert_tbs(leaf: &Leaf) -> Result<Vec<u8>, String> {
    let tbs = leaf.cert.tbs_certificate().to_der().map_err(|e| format!("TBS: {e}"))?;
    let (outer, _) = tlv::read(&tbs)?;
    let mut content = Vec::new();
    for field in tlv::children(outer.content)? {
        if field.tag != 0xa3 {
            content.extend_from_slice(field.whole);
            continue;
        }
        let (exts, _) = tlv::read(field.content)?;
        let mut kept = Vec::new();
        for ext in tlv::children(exts.content)? {
            let oid = tlv::children(ext.content)?.first().map(|t| t.whole).unwrap_or_default();
            if oid != SCT_OID_DER && oid != POISON_OID_DER {
                kept.extend_from_slice(ext.whole);
            }
        }
        content.extend(tlv::encode(0xa3, &tlv::encode(0x30, &kept)));
    }
    Ok(tlv::encode(0x30, &content))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("SCT: truncated".into());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u16(&mut self) -> Result<usize, String> {
        let b = self.take(2)?;
        Ok(((b[0] as usize) << 8) | b[1] as usize)
    }
    fn vec16(&mut self) -> Result<&'a [u8], String> {
        let n = self.u16()?;
        self.take(n)
    }
}

/// Verify the embedded SCTs: at least one must verify with a CT log of the root.
pub fn verify(leaf: &Leaf, issuer: &Certificate, root: &TrustedRoot) -> Result<String, String> {
    let ext = leaf
        .cert
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .find(|e| e.extn_id.to_string() == OID_SCT_LIST)
        .ok_or("the signing certificate carries no embedded SCT (detached SCTs are not supported)")?;
    // The extension value is an OCTET STRING holding the TLS-encoded list.
    let (inner, _) = tlv::read(ext.extn_value.as_bytes())?;
    if inner.tag != 0x04 {
        return Err("SCT list extension: not an OCTET STRING".into());
    }
    let mut list = Reader(inner.content);
    let mut scts = Reader(list.vec16()?);
    let issuer_spki =
        issuer.tbs_certificate().subject_public_key_info().to_der().map_err(|e| e.to_string())?;
    let issuer_hash = Sha256::digest(&issuer_spki);
    let tbs = precert_tbs(leaf)?;
    let mut reasons = Vec::new();
    while !scts.0.is_empty() {
        let raw = scts.vec16()?;
        let mut r = Reader(raw);
        let version = r.take(1)?[0];
        let log_id = r.take(32)?;
        let timestamp = r.take(8)?;
        let extensions = r.vec16()?;
        let (hash_alg, sig_alg) = (r.take(1)?[0], r.take(1)?[0]);
        let sig = r.vec16()?;
        let Some(log) = root.ctlogs.iter().find(|l| l.log_id == log_id) else {
            reasons.push(format!("SCT from unknown CT log {}", hex::encode(log_id)));
            continue;
        };
        let Some(key) = &log.key else {
            reasons.push(format!("CT log {} has a key type that cannot be verified", log.name));
            continue;
        };
        let hash = match (hash_alg, sig_alg) {
            (4, 3) => Hash::Sha256,
            (5, 3) => Hash::Sha384,
            _ => {
                reasons.push(format!("SCT algorithm ({hash_alg},{sig_alg}) is not ECDSA with SHA-256/384"));
                continue;
            }
        };
        let ts_ms = u64::from_be_bytes(timestamp.try_into().unwrap_or([0; 8]));
        if !log.valid.contains((ts_ms / 1000) as i64) {
            reasons.push(format!("CT log {} key was not valid at the SCT's time", log.name));
            continue;
        }
        let mut signed = vec![version, 0];
        signed.extend_from_slice(timestamp);
        signed.extend_from_slice(&[0, 1]);
        signed.extend_from_slice(&issuer_hash);
        let n = tbs.len();
        signed.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        signed.extend_from_slice(&tbs);
        signed.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        signed.extend_from_slice(extensions);
        if key.verify(&signed, sig, hash) {
            return Ok(log.name.clone());
        }
        reasons.push(format!("the SCT of CT log {} does not verify over the certificate", log.name));
    }
    Err(if reasons.is_empty() { "the SCT list is empty".into() } else { reasons.join("; ") })
}
