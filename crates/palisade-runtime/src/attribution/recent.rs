//! Recently seen containers, kept after their runtime state is gone.
//!
//! `runc run` removes a container's state (and its cgroup) as soon as the container exits, so a record
//! of a sub-second container that reaches the reader late cannot be attributed from the runtime's state
//! any more. This cache keeps what was learnt of each container (from the state watcher, [`super::watch`],
//! and from every successful read of a runtime's state) by container id and by cgroup id. It is bounded in
//! size ([`Recent::CAPACITY`] containers, the least recently refreshed evicted first) and in time: an
//! entry not refreshed for [`Recent::TTL`] is forgotten.

use crate::event::Container;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The cache, shared by the watcher thread and the attributors.
pub type SharedRecent = Arc<Mutex<Recent>>;

#[derive(Debug, Clone)]
struct Entry {
    container: Container,
    refreshed: Instant,
}

/// Containers by id, and container ids by cgroup id.
#[derive(Debug)]
pub struct Recent {
    by_id: HashMap<String, Entry>,
    by_cgroup: HashMap<u64, String>,
    capacity: usize,
    ttl: Duration,
}

impl Default for Recent {
    fn default() -> Self {
        Recent::new(Recent::CAPACITY, Recent::TTL)
    }
}

impl Recent {
    /// Containers kept at most.
    pub const CAPACITY: usize = 4096;
    /// How long an entry is kept after it was last refreshed.
    pub const TTL: Duration = Duration::from_secs(60);

    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Recent { by_id: HashMap::new(), by_cgroup: HashMap::new(), capacity: capacity.max(1), ttl }
    }

    pub fn shared() -> SharedRecent {
        Arc::new(Mutex::new(Recent::default()))
    }

    /// Remember (or refresh) `container`; its `cgroup_id`, when known, indexes it too.
    pub fn remember(&mut self, container: &Container) {
        let now = Instant::now();
        if !self.by_id.contains_key(&container.id) {
            self.expire(now);
            if self.by_id.len() >= self.capacity
                && let Some(oldest) =
                    self.by_id.iter().min_by_key(|(_, e)| e.refreshed).map(|(id, _)| id.clone())
            {
                self.forget(&oldest);
            }
        }
        let mut kept = container.clone();
        // a cgroup id learnt earlier (by the watcher) stays when a later answer lacks it
        if kept.cgroup_id.is_none() {
            kept.cgroup_id = self.by_id.get(&container.id).and_then(|e| e.container.cgroup_id);
        }
        if let Some(cg) = kept.cgroup_id {
            self.by_cgroup.insert(cg, kept.id.clone());
        }
        self.by_id.insert(kept.id.clone(), Entry { container: kept, refreshed: now });
    }

    /// The container with this id, if seen within the TTL.
    pub fn by_id(&self, id: &str) -> Option<Container> {
        self.by_id.get(id).filter(|e| e.refreshed.elapsed() < self.ttl).map(|e| e.container.clone())
    }

    /// The container whose cgroup has this id, if seen within the TTL.
    pub fn by_cgroup_id(&self, cgroup_id: u64) -> Option<Container> {
        self.by_id(self.by_cgroup.get(&cgroup_id)?)
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn forget(&mut self, id: &str) {
        if let Some(e) = self.by_id.remove(id)
            && let Some(cg) = e.container.cgroup_id
            && self.by_cgroup.get(&cg).is_some_and(|owner| owner == id)
        {
            self.by_cgroup.remove(&cg);
        }
    }

    fn expire(&mut self, now: Instant) {
        let ttl = self.ttl;
        let old: Vec<String> = self
            .by_id
            .iter()
            .filter(|(_, e)| now.duration_since(e.refreshed) >= ttl)
            .map(|(id, _)| id.clone())
            .collect();
        for id in old {
            self.forget(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, cg: Option<u64>) -> Container {
        Container { id: id.into(), runtime: "runc".into(), cgroup_id: cg, ..Container::default() }
    }

    #[test]
    fn found_by_id_and_cgroup_until_evicted() {
        let mut r = Recent::new(2, Duration::from_secs(60));
        r.remember(&c("a", Some(1)));
        r.remember(&c("a", None)); // a later answer without the cgroup id keeps it
        assert_eq!(r.by_cgroup_id(1).map(|c| c.id), Some("a".into()));
        std::thread::sleep(Duration::from_millis(2));
        r.remember(&c("b", Some(2)));
        std::thread::sleep(Duration::from_millis(2));
        r.remember(&c("c", Some(3))); // over capacity: "a", the least recently refreshed, goes
        assert_eq!(r.len(), 2);
        assert!(r.by_id("a").is_none() && r.by_cgroup_id(1).is_none());
        assert_eq!(r.by_cgroup_id(3).map(|c| c.id), Some("c".into()));
    }

    #[test]
    fn entries_expire() {
        let mut r = Recent::new(10, Duration::from_millis(20));
        r.remember(&c("a", Some(1)));
        assert!(r.by_id("a").is_some());
        std::thread::sleep(Duration::from_millis(30));
        assert!(r.by_id("a").is_none() && r.by_cgroup_id(1).is_none());
        r.remember(&c("b", None)); // expiry runs on insert
        assert_eq!(r.len(), 1);
    }
}
