//! Signing and verification of container images and attestations, stored the way cosign stores them.
//!
//! - [`keys`]: ECDSA P-256 keys; cosign's encrypted private-key format ([`cosign_key`]) and plain PKCS#8.
//! - [`payload`]: the simple-signing payload cosign signs for an image (`.sig` tags).
//! - [`dsse`] and [`statement`]: in-toto Statements in DSSE envelopes (`.att` tags, bundles).
//! - [`bundle`]: Sigstore bundles (v0.3) as OCI 1.1 referrers.
//! - [`registry`]: the few OCI distribution calls needed, over `oci-client` with `palisade-artifact`'s
//!   credentials.
//! - [`store`]: reading and writing both storage formats.
//! - [`keyless_sign`]: keyless signing (Fulcio certificate, Rekor entry, optional timestamp).
//! - [`verify`]: [`verify_image`], the one entry point the CLI, the policy gates and the webhook use, with
//!   its cache.
//!
//! The choice of RustCrypto over the `sigstore` crate is explained in `docs/signing.md`.

pub mod blob;
pub mod bundle;
pub mod cosign_key;
pub mod dsse;
pub mod error;
pub mod keyless;
pub mod keyless_sign;
pub mod keys;
pub mod payload;
pub mod registry;
pub mod sign;
pub mod statement;
pub mod store;
pub mod verify;

pub use error::{SignError, VerifyError};
pub use keys::{PrivateKey, PublicKey};
pub use sign::{SignOptions, Signed, attest_image, sign_image};
pub use store::Format;
pub use verify::{Requirement, Verified, VerifyCache, VerifyPolicy, verify_image};
