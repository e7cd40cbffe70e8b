//! Palisade's Kubernetes admission webhook (`palisade admission serve`): `AdmissionReview` requests over
//! HTTPS, decided by the same policy bundle that gates CI (`palisade-policy`).
//!
//! - [`review`]: one request body in, one `AdmissionReview` response out, no I/O.
//! - [`server`]: HTTPS with rustls (aws-lc-rs), `/validate`, `/healthz`, `/readyz`, `/metrics`; bounded
//!   connections and bodies, a time budget per review, certificate and bundle reloads that keep the last
//!   good configuration, graceful shutdown.
//! - [`tls`]: certificates from files, or a CA and serving certificate made at start.

pub mod images;
pub mod metrics;
pub mod namespaces;
pub mod review;
pub mod server;
pub mod tls;

pub use review::{OnError, Settings};
pub use server::{Config, Running, ServeError, serve};
