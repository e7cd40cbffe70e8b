//! Palisade's network side, used by the node agent: what a container may talk to and what its traffic
//! carries.
//!
//! - [`rules`]: the L3/L4 allow rules of one workload, the form learned profiles and hand-written
//!   firewall policies share, and the one every enforcement mechanism (cgroup BPF, nftables) compiles.
//! - [`protocol`]: application protocol detection on the first bytes of a flow, one detector per file.

pub mod protocol;
pub mod rules;
