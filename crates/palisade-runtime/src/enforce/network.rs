//! Connections: each watched container's [`NetworkPolicy`] (the decider's answer for it) installed as its
//! firewall with [`crate::netenforce`], and kept current.
//!
//! A container gets its firewall when enforcement first watches it. Its policy can change afterwards (a
//! mode switched by command or annotation, a profile reloaded, a DNS name resolving to new addresses), so
//! [`Network::refresh`] asks the decider again, at most every [`REFRESH`], and re-installs only what
//! changed; a container whose process is gone is forgotten (its namespace, and the rules in it, went with
//! it). [`Network::release_all`] removes the firewalls on a clean stop, so a stopped agent leaves no
//! container filtered; after a crash they stay, as the policy they carry.

use crate::event::Container;
use crate::netenforce::{self, Installed};
use crate::verdict::{Decider, NetworkPolicy};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How often policies are asked for again.
pub const REFRESH: Duration = Duration::from_secs(2);

struct Entry {
    pid: u32,
    container: Container,
    policy: Option<NetworkPolicy>,
}

/// The firewalls this agent installed.
#[derive(Default)]
pub struct Network {
    installed: HashMap<String, Entry>,
    last_refresh: Option<Instant>,
}

impl Network {
    /// Install the policy of a container seen for the first time, through its process `pid` (nothing
    /// when it has none). Returns a line for the log when something was installed or failed.
    pub fn watch(&mut self, pid: u32, container: &Container, decider: &dyn Decider) -> Option<String> {
        let policy = decider.network(container);
        // a container with no policy is left alone: its namespace may hold another agent's firewall
        let line = policy.as_ref().and_then(|p| apply(pid, container, Some(p)));
        self.installed.insert(container.id.clone(), Entry { pid, container: container.clone(), policy });
        line
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
