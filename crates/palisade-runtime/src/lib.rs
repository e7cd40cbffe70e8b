//! Palisade's runtime side (shift right): what the node agent sees and what it makes of it.
//!
//! Data flows one way here too: a sensor (eBPF, or the proc connector and fanotify where BPF is not
//! available) produces [`Event`]s attributed to a container, the rule engine ([`rules`]) matches them
//! against Falco-compatible rules, and alerts ([`output`]) go to the configured outputs. Recorded events
//! are the same [`Event`]s as JSON lines, so a test run can be replayed against rules and profiles in CI.

pub mod event;
pub mod output;
pub mod rules;

pub use event::{Connection, Container, Event, EventKind, FileOpen, Pod, Process, ProcessRef};
