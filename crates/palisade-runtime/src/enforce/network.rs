//! Connections: each watched container's [`NetworkPolicy`] (the decider's answer for it) installed as its
//! firewall with [`crate::netenforce`], and kept current.
//!
//! A container gets its firewall when enforcement first watches it. Its policy can change afterwards (a
//! mode switched by command or annotation, a profile reloaded, a DNS name resolving to new addresses), so
//! [`Network::refresh`] asks the decider again, at most every [`REFRESH`], and re-installs only what
//! changed; a container whose process is gone is forgotten (its namespace, and the rules in it, went with
//! it). [`Network::release_all`] removes the firewalls on a clean stop, so a stopped agent leaves no
//! container filtered; after a crash they stay, as the policy they carry.
//!
//! Ingress refusals happen in the kernel before any process of the container sees the connection, so
//! the sensor cannot report them: [`Network::ingress_refusals`] reads each firewall's violations set (at
//! most every [`REFUSALS_POLL`]) and returns the ingress entries not seen before, for an alert each.

use crate::event::Container;
use crate::netenforce::{self, Installed};
use crate::verdict::{Decider, Mode, NetworkPolicy};
use palisade_network::firewall::status::{Status, Violation};
use palisade_network::netns::Netns;
use palisade_network::rules::Direction;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// How often policies are asked for again.
pub const REFRESH: Duration = Duration::from_secs(2);
/// How often the firewalls' violations sets are read for ingress refusals.
pub const REFUSALS_POLL: Duration = Duration::from_secs(5);
/// Violations remembered per container (the set itself holds 65,536 for an hour).
const MAX_SEEN: usize = 4096;

struct Entry {
    pid: u32,
    container: Container,
    policy: Option<NetworkPolicy>,
    /// Ingress violations already reported.
    seen: BTreeSet<Violation>,
}

/// An ingress connection a container's firewall kept out of policy (refused in protect mode).
pub struct Refusal {
    pub container: Container,
    pub pid: u32,
    pub mode: Mode,
    pub violation: Violation,
}

/// The firewalls this agent installed.
#[derive(Default)]
pub struct Network {
    installed: HashMap<String, Entry>,
    last_refresh: Option<Instant>,
    last_poll: Option<Instant>,
}

impl Network {
    /// Install the policy of a container seen for the first time, through its process `pid` (nothing
    /// when it has none). Returns a line for the log when something was installed or failed.
    pub fn watch(&mut self, pid: u32, container: &Container, decider: &dyn Decider) -> Option<String> {
        let policy = decider.network(container);
        // a container with no policy is left alone: its namespace may hold another agent's firewall
        let line = policy.as_ref().and_then(|p| apply(pid, container, Some(p)));
        self.installed.insert(
            container.id.clone(),
            Entry { pid, container: container.clone(), policy, seen: BTreeSet::new() },
        );
        line
    }

    /// Ingress flows outside the policy recorded by the firewalls since the last call (at most every
    /// [`REFUSALS_POLL`]): one per new (protocol, peer, port) of a container; the set keeps an entry an
    /// hour, so a peer retrying the same port is reported once.
    pub fn ingress_refusals(&mut self) -> Vec<Refusal> {
        if self.last_poll.is_some_and(|t| t.elapsed() < REFUSALS_POLL) {
            return Vec::new();
        }
        self.last_poll = Some(Instant::now());
        let mut out = Vec::new();
        for e in self.installed.values_mut() {
            let Some(policy) = &e.policy else { continue };
            let table = match palisade_network::nft::list_table(
                &Netns::Pid(e.pid),
                palisade_network::firewall::compile::TABLE,
            ) {
                Ok(Some(t)) => t,
                Ok(None) => continue,
                Err(err) => {
                    tracing::debug!("container {}: reading its firewall: {err}", e.container.id);
                    continue;
                }
            };
            if e.seen.len() > MAX_SEEN {
                e.seen.clear();
            }
            for v in Status::from_table(&table).violations {
                if v.direction == Direction::Ingress && e.seen.insert(v.clone()) {
                    out.push(Refusal {
                        container: e.container.clone(),
                        pid: e.pid,
                        mode: policy.mode,
                        violation: v,
                    });
                }
            }
        }
        out
    }

    /// Ask again for every watched container's policy (at most every [`REFRESH`]) and re-install those
    /// that changed. Returns the log lines.
    pub fn refresh(&mut self, decider: &dyn Decider) -> Vec<String> {
        if self.last_refresh.is_some_and(|t| t.elapsed() < REFRESH) {
            return Vec::new();
        }
        self.last_refresh = Some(Instant::now());
        self.installed.retain(|_, e| std::path::Path::new(&format!("/proc/{}/ns/net", e.pid)).exists());
        let mut lines = Vec::new();
        for e in self.installed.values_mut() {
            let policy = decider.network(&e.container);
            if policy != e.policy {
                lines.extend(apply(e.pid, &e.container, policy.as_ref()));
                e.policy = policy;
                // a re-applied table starts with an empty violations set
                e.seen.clear();
            }
        }
        lines
    }

    /// Remove every firewall installed here (a clean stop).
    pub fn release_all(&mut self) {
        for (id, e) in self.installed.drain() {
            if e.policy.is_some()
                && let Err(err) = netenforce::release(e.pid)
            {
                tracing::warn!("container {id}: removing its firewall: {err}");
            }
        }
    }
}

fn apply(pid: u32, container: &Container, policy: Option<&NetworkPolicy>) -> Option<String> {
    let name = container.name.as_deref().unwrap_or(&container.id);
    match netenforce::install(pid, policy) {
        Ok(Installed::Firewall { mode, .. }) => Some(format!(
            "enforcement: container {name}: firewall in {mode:?} mode, {} rules",
            policy.map_or(0, |p| p.rules.len())
        )),
        Ok(Installed::Nothing { removed: true }) => {
            Some(format!("enforcement: container {name}: firewall removed"))
        }
        Ok(Installed::Nothing { removed: false }) => None,
        Err(e) => Some(format!("enforcement: container {name}: installing its firewall: {e}")),
    }
}
