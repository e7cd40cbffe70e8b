//! Behavioural profiles: what each workload was seen doing, reviewed as code, and the decisions made
//! from them.
//!
//! - [`model`]: the `PalisadeProfile` resource (one per workload: [`workload`] says which);
//! - [`facts`]: what an event means for a profile, shared by learning and checking;
//! - [`learn`]: folds events into profiles, generalising paths and arguments ([`generalize`]);
//! - [`yaml`]: export with comments, parse back; [`diff`]: what changed between two sets of profiles;
//! - [`check`]: a compiled profile judging facts; [`global`]: rules for every workload (no shell, no
//!   SSH, zero drift, no writes below `/usr`) with exceptions by workload;
//! - [`modes`]: discover/monitor/protect per workload, the state file, annotations and promotion;
//! - [`decider`]: [`crate::verdict::Decider`] over profiles, global rules and modes;
//! - [`replay`]: events against profiles (CI) and the alerts of violations; [`live`]: the agent's side;
//! - [`convert`]: NeuVector `NvSecurityRule` and Kubernetes `NetworkPolicy` from profiles.

pub mod check;
pub mod convert;
pub mod decider;
pub mod diff;
pub mod facts;
pub mod generalize;
pub mod glob;
pub mod global;
pub mod learn;
pub mod live;
pub mod model;
pub mod modes;
pub mod replay;
pub mod workload;
pub mod yaml;

pub use decider::ProfileDecider;
pub use learn::Learner;
pub use model::{PalisadeProfile, Workload, WorkloadKind};

/// A peer as profiles write it (`any`, `{cidr: …}`), for messages.
pub fn diff_peer(peer: &palisade_network::rules::Peer) -> String {
    serde_json::to_string(peer).unwrap_or_default().replace('"', "")
}
