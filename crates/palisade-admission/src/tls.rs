//! Serving certificates: read from PEM files and reloaded when they change (a rotated Secret), or made at
//! start (`--self-signed`: a CA and a serving certificate for the Service's DNS names, written to a
//! directory so the CA can be put in the webhook configuration's `caBundle`). One crypto provider,
//! aws-lc-rs, is named explicitly, so no process-wide default has to be installed.

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

/// Why a certificate could not be used; names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn file_err(path: &Path, message: impl std::fmt::Display) -> TlsError {
    TlsError::File { path: path.to_path_buf(), message: message.to_string() }
}

/// Build a server configuration from PEM files (certificate chain, private key).
pub fn load(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file_err(cert, format!("cannot read certificates: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(cert, format!("invalid PEM certificate: {e}")))?;
    if certs.is_empty() {
        return Err(file_err(cert, "no CERTIFICATE block"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| file_err(key, format!("no usable private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| file_err(cert, format!("certificate and key do not form a usable pair: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Files written by [`self_signed`].
#[derive(Debug, Clone)]
pub struct SelfSigned {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The CA certificate, base64 of its PEM, as `caBundle` wants it.
    pub ca_bundle: String,
}

/// Make a CA and a serving certificate for `names` (DNS names or IP addresses) in `dir`: `ca.crt`,
/// `tls.crt`, `tls.key` (mode 0600).
pub fn self_signed(dir: &Path, names: &[String]) -> Result<SelfSigned, TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let gen_err = |e: rcgen::Error| TlsError::Config(format!("generating certificates: {e}"));
    std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "palisade admission CA");
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(gen_err)?).map_err(gen_err)?;
    let mut params = CertificateParams::new(names.to_vec()).map_err(gen_err)?;
    params.distinguished_name.push(DnType::CommonName, names.first().cloned().unwrap_or_default());
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    let key = KeyPair::generate().map_err(gen_err)?;
    let cert = params.signed_by(&key, &ca).map_err(gen_err)?;
    let out = SelfSigned {
        ca: dir.join("ca.crt"),
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
        ca_bundle: String::new(),
    };
    write_private(&out.key, key.serialize_pem().as_bytes())?;
    std::fs::write(&out.cert, format!("{}{}", cert.pem(), ca.pem())).map_err(|e| file_err(&out.cert, e))?;
    std::fs::write(&out.ca, ca.pem()).map_err(|e| file_err(&out.ca, e))?;
    Ok(SelfSigned { ca_bundle: base64_encode(ca.pem().as_bytes()), ..out })
}

fn write_private(path: &Path, data: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| file_err(path, e))?;
    f.write_all(data).map_err(|e| file_err(path, e))
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// The current server configuration, swapped when the certificate files change. A new pair that does not
/// load is logged and the last good one stays in use.
pub struct Reloading {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<(Arc<ServerConfig>, Option<SystemTime>)>,
}

impl Reloading {
    pub fn new(cert: &Path, key: &Path) -> Result<Reloading, TlsError> {
        let config = load(cert, key)?;
        Ok(Reloading {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: RwLock::new((Arc::new(config), stamp(cert, key))),
        })
    }

    /// The configuration for the next connection.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.current.read().map(|c| c.0.clone()).unwrap_or_else(|p| p.into_inner().0.clone())
    }

    /// Reload if either file changed since the last load. `Ok(true)` when a new pair is in use.
    pub fn refresh(&self) -> Result<bool, TlsError> {
        let now = stamp(&self.cert, &self.key);
        let last = self.current.read().map(|c| c.1).unwrap_or(None);
        if now.is_none() || now == last {
            return Ok(false);
        }
        let config = load(&self.cert, &self.key)?;
        if let Ok(mut c) = self.current.write() {
            *c = (Arc::new(config), now);
        }
        Ok(true)
    }
}

/// The later modification time of the two files (a Secret update replaces both through a symlink swap).
fn stamp(cert: &Path, key: &Path) -> Option<SystemTime> {
    let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    m(cert).max(m(key))
}
