//! Palisade's runtime side (shift right): what the node agent sees and what it makes of it.
//!
//! Data flows one way here too: a sensor (eBPF, or the proc connector where BPF is not available)
//! produces records, enriched from `/proc` and attributed to a container into [`Event`]s; the rule engine
//! ([`rules`]) matches them against Falco-compatible rules, and alerts ([`output`]) go to the configured
//! outputs. Recorded events are the same [`Event`]s as JSON lines, so a test run can be replayed against
//! rules and profiles in CI.
//!
//! - [`sensor`]: sources, the kernel record, the reader thread and its bounded queue, `/proc` enrichment;
//! - [`attribution`]: cgroup → container id → runtime metadata and pod;
//! - [`agent`]: the node agent's loop, its metrics and health endpoints;
//! - [`rules`], [`output`]: the Falco-compatible rule engine and the alert outputs;
//! - [`profile`]: behavioural profiles per workload (learned, reviewed as YAML, replayed in CI), global
//!   rules and modes, and the decider over them;
//! - [`netenforce`]: a container's network policy installed as its nftables firewall;
//! - [`netflow`]: connect/accept events → observations for the connection graph;
//! - [`response`]: response rules run on the agent's alerts (alert, quarantine, capture, kill);
//! - [`verdict`]: the seam between deciding (profiles) and enforcing (fanotify, kill, cgroup BPF, nftables).

pub mod agent;
pub mod attribution;
pub mod caps;
pub mod enforce;
pub mod event;
pub mod netenforce;
pub mod netflow;
pub mod output;
pub mod profile;
pub mod response;
pub mod rules;
pub mod sensor;
pub mod verdict;

pub use event::{Connection, Container, Event, EventKind, FileOpen, Pod, Process, ProcessRef};
