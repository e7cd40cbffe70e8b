//! The seam between what decides and what enforces.
//!
//! Profiles and global rules (the learning side) answer "may this process do this?" through a
//! [`Decider`]; the enforcement mechanisms (fanotify permission events for exec and open, a kill on
//! violation, cgroup BPF or nftables for connections) ask it and carry the answer out. Neither side knows
//! how the other works: a test can drive an enforcer with a fixed decider, and a profile can be replayed
//! against recorded events with no kernel at all.
//!
//! The mode of a workload turns "outside the profile" into an answer: [`Mode::Discover`] learns it and
//! allows it, [`Mode::Monitor`] allows it with an alert, [`Mode::Protect`] refuses it with an alert.

use crate::event::Container;
use palisade_network::rules::NetRule;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// How a workload's profile is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Learn what the workload does and allow it.
    #[default]
    Discover,
    /// Alert on anything outside the profile, block nothing.
    Monitor,
    /// Refuse anything outside the profile, and alert.
    Protect,
}

/// What a process is about to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access<'a> {
    /// Run the executable at this path (the process's own path as the kernel resolved it).
    Exec { path: &'a str },
    /// Open a file, for writing when `write` is true.
    Open { path: &'a str, write: bool },
    /// Connect to a peer (`tcp` or `udp`).
    Connect { protocol: &'a str, addr: IpAddr, port: u16 },
}

/// One question to the decider.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The host pid of the process asking.
    pub pid: u32,
    /// Its container; `None` for host processes (which enforcement leaves alone).
    pub container: Option<&'a Container>,
    pub access: Access<'a>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Allowed, and reported: outside the profile in monitor mode.
    Alert {
        rule: String,
        reason: String,
    },
    /// Refused, and reported.
    Deny {
        rule: String,
        reason: String,
    },
}

impl Verdict {
    pub fn is_deny(&self) -> bool {
        matches!(self, Verdict::Deny { .. })
    }

    /// The stronger of two answers: a refusal (this one first), else an alert (this one first), else allow.
    pub fn or(self, other: Verdict) -> Verdict {
        match (&self, &other) {
            (Verdict::Deny { .. }, _) => self,
            (_, Verdict::Deny { .. }) => other,
            (Verdict::Alert { .. }, _) => self,
            _ => other,
        }
    }
}

/// The network policy of one container, as the kernel mechanisms install it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPolicy {
    pub mode: Mode,
    /// Allowed flows; DNS and workload peers already resolved into `Cidr` rules by the decider.
    pub rules: Vec<NetRule>,
}

/// Answers enforcement's questions. Implementations must answer fast and never block: permission events
/// stall the process that asked until they are answered.
pub trait Decider: Send + Sync {
    fn decide(&self, request: &Request<'_>) -> Verdict;

    /// The L7 rules `container`'s inspector enforces and in which mode (a profile's `spec.l7`, in the
    /// workload's mode), or `None` for no inspection.
    fn l7(
        &self,
        _container: &Container,
    ) -> Option<(palisade_network::inspect::policy::Mode, palisade_network::inspect::policy::L7Rules)> {
        None
    }

    /// The network policy to install for `container`, or `None` to leave its traffic alone.
    fn network(&self, container: &Container) -> Option<NetworkPolicy>;

    /// Whether zero drift ("only executables from the image's layers may run") applies to `container`,
    /// so that enforcement finds out where each of its executables comes from before it runs.
    fn checks_drift(&self, _container: &Container) -> bool {
        false
    }

    /// The answer for an exec (`request`) whose executable is not from the image's layers, `reason`
    /// saying why (written in the container, on another mount, …).
    fn drift(&self, _request: &Request<'_>, _reason: &str) -> Verdict {
        Verdict::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::Verdict;

    #[test]
    fn or_keeps_the_strongest() {
        let alert = |r: &str| Verdict::Alert { rule: r.into(), reason: String::new() };
        let deny = |r: &str| Verdict::Deny { rule: r.into(), reason: String::new() };
        assert_eq!(Verdict::Allow.or(Verdict::Allow), Verdict::Allow);
        assert_eq!(Verdict::Allow.or(alert("a")), alert("a"));
        assert_eq!(alert("a").or(alert("b")), alert("a"));
        assert_eq!(alert("a").or(deny("d")), deny("d"));
        assert_eq!(deny("d").or(deny("e")), deny("d"));
        assert_eq!(deny("d").or(Verdict::Allow), deny("d"));
    }
}
