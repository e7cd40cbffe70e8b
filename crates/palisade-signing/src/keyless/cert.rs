//! The signer's (leaf) certificate as Fulcio issues it: its key, validity, code-signing extended key usage,
//! identity (the subject alternative name: e-mail or URI) and OIDC issuer (Fulcio extension
//! 1.3.6.1.4.1.57264.1.8, a DER UTF8String, or the older 1.3.6.1.4.1.57264.1.1 holding the raw string).

use super::pubkey::EcKey;
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode, asn1::Utf8StringRef};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};

const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const OID_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";

/// A parsed leaf certificate.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub cert: Certificate,
    pub der: Vec<u8>,
    pub key: EcKey,
    /// Unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// E-mail addresses and URIs of the subject alternative name.
    pub identities: Vec<String>,
    /// The OIDC issuer from the Fulcio extension.
    pub issuer: Option<String>,
    pub code_signing: bool,
}

impl Leaf {
    pub fn parse(der: &[u8]) -> Result<Self, String> {
        let cert =
            Certificate::from_der(der).map_err(|e| format!("signing certificate: not DER X.509 ({e})"))?;
        let tbs = cert.tbs_certificate();
        let spki =
            tbs.subject_public_key_info().to_der().map_err(|e| format!("signing certificate key: {e}"))?;
        let key = EcKey::from_spki(&spki).map_err(|e| format!("signing certificate key: {e}"))?;
        let validity = tbs.validity();
        let identities = match tbs.get_extension::<SubjectAltName>() {
            Ok(Some((_, san))) => san
                .0
                .iter()
                .filter_map(|n| match n {
                    GeneralName::Rfc822Name(s) | GeneralName::UniformResourceIdentifier(s) => {
                        Some(s.to_string())
                    }
                    _ => None,
                })
                .collect(),
            Ok(None) => Vec::new(),
            Err(e) => return Err(format!("signing certificate: bad subjectAltName ({e})")),
        };
        let code_signing = match tbs.get_extension::<ExtendedKeyUsage>() {
            Ok(Some((_, eku))) => eku.0.iter().any(|o| o.to_string() == OID_CODE_SIGNING),
            Ok(None) => false,
            Err(e) => return Err(format!("signing certificate: bad extendedKeyUsage ({e})")),
        };
        let mut issuer_v1 = None;
        let mut issuer_v2 = None;
        for ext in tbs.extensions().into_iter().flatten() {
            let value = ext.extn_value.as_bytes();
            match ext.extn_id.to_string().as_str() {
                OID_ISSUER_V2 => {
                    let s = Utf8StringRef::from_der(value).map_err(|e| {
                        format!("signing certificate: extension {OID_ISSUER_V2} is not a UTF8String ({e})")
                    })?;
                    issuer_v2 = Some(s.as_str().to_string());
                }
                OID_ISSUER_V1 => issuer_v1 = Some(String::from_utf8_lossy(value).into_owned()),
                _ => {}
            }
        }
        Ok(Self {
            der: der.to_vec(),
            key,
            not_before: validity.not_before.to_unix_duration().as_secs() as i64,
            not_after: validity.not_after.to_unix_duration().as_secs() as i64,
            identities,
            issuer: issuer_v2.or(issuer_v1),
            code_signing,
            cert,
        })
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki(&self) -> Result<Vec<u8>, String> {
        self.cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| format!("signing certificate key: {e}"))
    }

    /// The identities, for messages.
    pub fn identity_list(&self) -> String {
        if self.identities.is_empty() {
            "no e-mail or URI identity".into()
        } else {
            self.identities.join(", ")
        }
    }
}

/// Every PEM block of `text` as (label, DER), read leniently (any line length, CR LF, surrounding text), as
/// PEM comes from Rekor bodies, cosign annotations and policy files. Blocks whose body is not base64 are
/// errors naming the label.
pub fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    use base64::Engine as _;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after.find("-----").ok_or("PEM: unterminated BEGIN line")?;
        let label = after[..label_end].to_string();
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let body_end = body_start.find(&end_marker).ok_or_else(|| format!("PEM: no {end_marker}"))?;
        let b64: String = body_start[..body_end].chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| format!("PEM {label}: not base64 ({e})"))?;
        out.push((label, der));
        rest = &body_start[body_end + end_marker.len()..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::pem_blocks;

    #[test]
    fn pem_blocks_are_read_leniently_and_refused_clearly() {
        let text = "junk\r\n-----BEGIN CERTIFICATE-----\r\nAAEC\r\nAwQF\r\n-----END CERTIFICATE-----\nmore\n-----BEGIN PUBLIC KEY-----\nBgcICQ==\n-----END PUBLIC KEY-----";
        let b = pem_blocks(text).expect("blocks");
        assert_eq!(
            b,
            vec![("CERTIFICATE".into(), vec![0, 1, 2, 3, 4, 5]), ("PUBLIC KEY".into(), vec![6, 7, 8, 9])]
        );
        assert!(
            pem_blocks("-----BEGIN X-----\n!!\n-----END X-----")
                .expect_err("b64")
                .contains("PEM X: not base64")
        );
        assert!(pem_blocks("-----BEGIN X-----\nAAAA\n").expect_err("end").contains("no -----END X-----"));
        assert_eq!(pem_blocks("no pem here"), Ok(Vec::new()));
    }
}
