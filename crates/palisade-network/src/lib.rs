//! Palisade's network side, used by the node agent: what a container may talk to and what its traffic
//! carries.
//!
//! - [`rules`]: the L3/L4 allow rules of one workload, the form learned profiles and hand-written
//!   firewall policies share, and the one every enforcement mechanism (cgroup BPF, nftables) compiles.
//! - [`netns`]: naming a container's network namespace and running work inside it; [`nft`]: `nft` there.
//! - [`firewall`]: the rules compiled into nftables in the container's namespace (monitor or protect).
//! - [`quarantine`]: all of one container's traffic dropped while it keeps running, until released.
//! - [`capture`]: packet capture in a container's namespace into pcap files, bounded and rotated.
//! - [`graph`]: who talked to whom (workloads, external peers, ports, bytes) as JSON and Graphviz DOT.
//! - [`dlp`]: DLP and WAF sensors (card numbers, SSNs, IBANs, e-mail, credentials, SQL injection, XSS).
//! - [`inspect`]: the NFQUEUE L7 inspector: flows, L7 rules per workload, DLP actions, verdicts.
//! - [`protocol`]: application protocol detection on the first bytes of a flow, one detector per file.
//! - [`response`]: response rules as code (condition → alert, capture, quarantine, kill) and their engine.

pub mod capture;
pub mod conntrack;
pub mod dlp;
pub mod firewall;
pub mod graph;
pub mod inspect;
pub mod netns;
pub mod nft;
pub mod protocol;
pub mod quarantine;
pub mod response;
pub mod rules;
