//! Palisade's network side, used by the node agent: what a container may talk to and what its traffic
//! carries.
//!
//! - [`rules`]: the L3/L4 allow rules of one workload, the form learned profiles and hand-written
//!   firewall policies share, and the one every enforcement mechanism (cgroup BPF, nftables) compiles.
//! - [`dlp`]: DLP and WAF sensors (card numbers, SSNs, IBANs, e-mail, credentials, SQL injection, XSS).
//! - [`inspect`]: the NFQUEUE L7 inspector: flows, L7 rules per workload, DLP actions, verdicts.
//! - [`protocol`]: application protocol detection on the first bytes of a flow, one detector per file.
//! - [`response`]: response rules as code (condition → alert, capture, quarantine, kill) and their engine.

pub mod dlp;
pub mod inspect;
pub mod protocol;
pub mod response;
pub mod rules;
