//! The signing certificate must chain to a certificate authority of the trusted root that was valid at
//! signing time: each link's issuer name matches the next certificate's subject and its signature
//! (ECDSA P-256/P-384, SHA-256/SHA-384) verifies with that certificate's key; intermediates sent along in
//! the bundle are used but not trusted; every certificate on the path must be valid at signing time.

use super::cert::Leaf;
use super::pubkey::{EcKey, Hash};
use super::trust_root::{Authority, TrustedRoot};
use x509_cert::Certificate;
use x509_cert::der::Encode;

/// Whether `child` is issued by `parent` (names and signature).
fn issued_by(child: &Certificate, parent: &Certificate) -> bool {
    if child.tbs_certificate().issuer() != parent.tbs_certificate().subject() {
        return false;
    }
    let Ok(hash) = Hash::of_signature_oid(&child.signature_algorithm().oid.to_string()) else { return false };
    let Ok(spki) = parent.tbs_certificate().subject_public_key_info().to_der() else { return false };
    let Ok(key) = EcKey::from_spki(&spki) else { return false };
    let Ok(tbs) = child.tbs_certificate().to_der() else { return false };
    let Some(sig) = child.signature().as_bytes() else { return false };
    key.verify(&tbs, sig, hash)
}

fn valid_at(c: &Certificate, t: i64) -> bool {
    let v = c.tbs_certificate().validity();
    let (nb, na) =
        (v.not_before.to_unix_duration().as_secs() as i64, v.not_after.to_unix_duration().as_secs() as i64);
    t >= nb && t <= na
}

/// The path found: the authority and the certificate that issued the leaf (whose key hash the SCT names).
pub struct Path<'a> {
    pub authority: &'a Authority,
    pub issuer: Certificate,
}

/// Build and check the path from `leaf` (with the bundle's `intermediates`) to an authority of `root`.
pub fn verify<'a>(
    leaf: &Leaf,
    intermediates: &[Certificate],
    root: &'a TrustedRoot,
    signed_at: i64,
) -> Result<Path<'a>, String> {
    let mut reasons = Vec::new();
    for ca in &root.cas {
        if !ca.valid.contains(signed_at) {
            reasons.push(format!("{} was not valid at signing time", ca.name));
            continue;
        }
        let mut current = leaf.cert.clone();
        let mut issuer_of_leaf: Option<Certificate> = None;
        // At most a few links: leaf -> (bundle intermediates)* -> trusted chain certificate.
        for _ in 0..6 {
            if let Some(anchor) = ca.chain.iter().find(|c| issued_by(&current, c)) {
                if !valid_at(anchor, signed_at) {
                    reasons.push(format!("{}: its certificate was not valid at signing time", ca.name));
                    break;
                }
                return Ok(Path { authority: ca, issuer: issuer_of_leaf.unwrap_or_else(|| anchor.clone()) });
            }
            match intermediates.iter().find(|c| issued_by(&current, c) && valid_at(c, signed_at)) {
                Some(next) => {
                    if issuer_of_leaf.is_none() {
                        issuer_of_leaf = Some(next.clone());
                    }
                    current = next.clone();
                }
                None => {
                    reasons.push(format!(
                        "not issued by {} ({})",
                        ca.name,
                        ca.chain[0].tbs_certificate().subject()
                    ));
                    break;
                }
            }
        }
    }
    Err(format!(
        "the signing certificate (issuer {}) does not chain to a certificate authority of the trusted root: {}",
        leaf.cert.tbs_certificate().issuer(),
        reasons.join("; ")
    ))
}
