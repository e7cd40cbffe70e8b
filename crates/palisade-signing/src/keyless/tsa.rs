//! RFC 3161 signed timestamps over the signature, from a timestamp authority of the trusted root: the
//! `TimeStampResp` (or bare `TimeStampToken`) is a CMS SignedData around a TSTInfo. Checked: the TSTInfo's
//! message imprint is the hash of the signature bytes, the signed attributes' messageDigest is the hash of
//! the TSTInfo, and the signature over the signed attributes verifies with the signing certificate of a
//! timestamp authority (the first certificate of its chain) valid at the timestamp's genTime. Read with the
//! bounds-checked [`tlv`](super::tlv) walker.

use super::pubkey::Hash;
use super::tlv::{self, Tlv};
use super::trust_root::TrustedRoot;
use x509_cert::der::Encode;

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
const OID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const OID_SHA384: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02];
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];

fn kids<'a>(t: &Tlv<'a>, what: &str, tag: u8) -> Result<Vec<Tlv<'a>>, String> {
    if t.tag != tag {
        return Err(format!("{what}: unexpected DER tag 0x{:02x}", t.tag));
    }
    tlv::children(t.content).map_err(|e| format!("{what}: {e}"))
}

fn hash_of_alg(alg: &Tlv<'_>) -> Result<Hash, String> {
    let oid = kids(alg, "algorithm identifier", 0x30)?.first().map(|o| o.content).unwrap_or_default();
    match oid {
        OID_SHA256 | OID_ECDSA_SHA256 => Ok(Hash::Sha256),
        OID_SHA384 | OID_ECDSA_SHA384 => Ok(Hash::Sha384),
        _ => Err("unsupported digest or signature algorithm (SHA-256/384, ECDSA)".into()),
    }
}

/// `YYYYMMDDHHMMSS[.f]Z` to Unix seconds.
fn generalized_time(t: &Tlv<'_>) -> Result<i64, String> {
    if t.tag != 0x18 {
        return Err("genTime is not a GeneralizedTime".into());
    }
    let s = std::str::from_utf8(t.content).map_err(|_| "genTime is not ASCII")?;
    let num =
        |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok()).ok_or("genTime: bad digits");
    let date = time::Date::from_calendar_date(
        num(0..4)? as i32,
        time::Month::try_from(num(4..6)? as u8).map_err(|e| e.to_string())?,
        num(6..8)? as u8,
    )
    .map_err(|e| format!("genTime: {e}"))?;
    let t = time::Time::from_hms(num(8..10)? as u8, num(10..12)? as u8, num(12..14)? as u8)
        .map_err(|e| format!("genTime: {e}"))?;
    if !s.ends_with('Z') {
        return Err("genTime is not in UTC".into());
    }
    Ok(time::PrimitiveDateTime::new(date, t).assume_utc().unix_timestamp())
}

/// Verify a timestamp over `signature`; returns its time and the authority's name.
pub fn verify(token: &[u8], root: &TrustedRoot, signature: &[u8]) -> Result<(i64, String), String> {
    let (outer, _) = tlv::read(token)?;
    let top = kids(&outer, "timestamp", 0x30)?;
    // A TimeStampResp starts with its PKIStatusInfo; a TimeStampToken (ContentInfo) with an OID.
    let content_info = match top.first() {
        Some(status) if status.tag == 0x30 => {
            let code = kids(status, "status", 0x30)?.first().map(|i| i.content.to_vec()).unwrap_or_default();
            if code.iter().any(|b| *b != 0) && code != [1] {
                return Err("the timestamp response's status is not granted".into());
            }
            kids(top.get(1).ok_or("the timestamp response carries no token")?, "timeStampToken", 0x30)?
        }
        _ => top,
    };
    if content_info.first().map(|o| o.content) != Some(OID_SIGNED_DATA) {
        return Err("the token is not a CMS SignedData".into());
    }
    let explicit = content_info.get(1).ok_or("no SignedData")?;
    let (sd, _) = tlv::read(explicit.content)?;
    let sd = kids(&sd, "SignedData", 0x30)?;
    let encap = kids(sd.get(2).ok_or("SignedData: no encapContentInfo")?, "encapContentInfo", 0x30)?;
    let econtent = encap.get(1).ok_or("no TSTInfo")?;
    let (octets, _) = tlv::read(econtent.content)?;
    if octets.tag != 0x04 {
        return Err("TSTInfo is not in an OCTET STRING".into());
    }
    let tst_der = octets.content;
    let (tst, _) = tlv::read(tst_der)?;
    let tst = kids(&tst, "TSTInfo", 0x30)?;
    let imprint = kids(tst.get(2).ok_or("TSTInfo: no messageImprint")?, "messageImprint", 0x30)?;
    let imprint_hash = hash_of_alg(imprint.first().ok_or("messageImprint: no algorithm")?)?;
    let hashed = imprint.get(1).ok_or("messageImprint: no hash")?;
    if hashed.content != imprint_hash.digest(signature).as_slice() {
        return Err("the timestamp is over another signature (message imprint differs)".into());
    }
    let gen_time = generalized_time(tst.get(4).ok_or("TSTInfo: no genTime")?)?;
    let signer_infos = sd.last().ok_or("SignedData: no signerInfos")?;
    let infos = kids(signer_infos, "signerInfos", 0x31)?;
    let si = kids(infos.first().ok_or("no SignerInfo")?, "SignerInfo", 0x30)?;
    let digest_alg = hash_of_alg(si.get(2).ok_or("SignerInfo: no digestAlgorithm")?)?;
    let attrs = si.get(3).filter(|a| a.tag == 0xa0).ok_or("SignerInfo: no signed attributes")?;
    let sig_alg = hash_of_alg(si.get(4).ok_or("SignerInfo: no signatureAlgorithm")?)?;
    let sig = si.get(5).filter(|s| s.tag == 0x04).ok_or("SignerInfo: no signature")?.content;
    let mut digest_ok = false;
    for attr in tlv::children(attrs.content)? {
        let a = kids(&attr, "attribute", 0x30)?;
        if a.first().map(|o| o.content) == Some(OID_MESSAGE_DIGEST) {
            let values = kids(a.get(1).ok_or("messageDigest: no value")?, "messageDigest", 0x31)?;
            digest_ok = values.first().is_some_and(|v| v.content == digest_alg.digest(tst_der).as_slice());
        }
    }
    if !digest_ok {
        return Err("the signed attributes' messageDigest is not the TSTInfo's hash".into());
    }
    let signed_attrs = tlv::encode(0x31, attrs.content);
    for tsa in &root.tsas {
        if !tsa.valid.contains(gen_time) {
            continue;
        }
        let leaf = &tsa.chain[0];
        let v = leaf.tbs_certificate().validity();
        let (nb, na) = (
            v.not_before.to_unix_duration().as_secs() as i64,
            v.not_after.to_unix_duration().as_secs() as i64,
        );
        if gen_time < nb || gen_time > na {
            continue;
        }
        let Ok(spki) = leaf.tbs_certificate().subject_public_key_info().to_der() else { continue };
        let Ok(key) = super::pubkey::EcKey::from_spki(&spki) else { continue };
        if key.verify(&signed_attrs, sig, sig_alg) {
            return Ok((gen_time, tsa.name.clone()));
        }
    }
    Err("the timestamp is not signed by a timestamp authority of the trusted root valid at its time".into())
}
