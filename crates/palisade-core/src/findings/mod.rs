//! Finding types of the matchers. Each matcher owns one file here so the report crate can render them all.

pub mod license;
pub mod misconfig;
pub mod policy;
pub mod secret;
pub mod vuln;
