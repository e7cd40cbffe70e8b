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

pub mod capture;
pub mod firewall;
pub mod graph;
pub mod netns;
pub mod nft;
pub mod quarantine;
pub mod rules;
