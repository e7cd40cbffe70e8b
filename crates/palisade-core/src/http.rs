//! The one HTTP(S) client configuration of Palisade's outbound calls (DB downloads, alert webhooks):
//! rustls with the aws-lc-rs provider and the platform's roots, a global timeout, HTTP error statuses
//! returned as responses (callers decide), and a `palisade/VERSION` user agent.

use std::sync::Arc;
use std::time::Duration;

/// An agent whose every request ends within `timeout`.
pub fn agent(timeout: Duration) -> ureq::Agent {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .unversioned_rustls_crypto_provider(provider)
        .build();
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .tls_config(tls)
        .user_agent(format!("palisade/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}
