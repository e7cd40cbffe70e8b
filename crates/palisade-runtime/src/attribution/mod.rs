//! Container attribution: which container (and pod) a process runs in.
//!
//! cgroup id (from the kernel) or `/proc/PID/cgroup` → cgroup path → container id by the runtimes' path
//! conventions ([`cgroup`]) → metadata from the runtime's state and the OCI bundle ([`runtimes`]). Results
//! are cached by cgroup id, so short-lived processes whose `/proc` entry is already gone are still
//! attributed: the cgroup id is resolved to a path by walking the cgroup v2 hierarchy (refreshed at most
//! once a second on a miss). Host processes get `None`.
//!
//! Containers whose state and cgroup are already gone (a sub-second `runc run`) are found in
//! [`recent::Recent`], filled by every successful state read and, in the agent, by the state watcher
//! ([`watch::StateWatcher`]) as soon as a runtime writes a container's state.

pub mod cgroup;
pub mod recent;
pub mod runtimes;
pub mod watch;

use crate::event::Container;
use cgroup::Candidate;
use recent::{Recent, SharedRecent};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long an unconfirmed or metadata-less answer is kept before asking the runtimes again: a container's
/// first processes (`runc init`) run before the runtime has written its state.
const RETRY: Duration = Duration::from_millis(200);
/// How long "no runtime knows this cgroup" is believed: briefly, since the answer is asked as each record
/// arrives and `runc init` runs before the runtime has written its state.
const UNKNOWN_RETRY: Duration = Duration::from_millis(5);

#[derive(Clone)]
struct Cached {
    container: Option<Container>,
    complete: bool,
    at: Instant,
}

impl Cached {
    /// Complete answers are kept; a container without metadata is asked again after [`RETRY`], "no
    /// runtime knows this cgroup" after [`UNKNOWN_RETRY`].
    fn fresh(&self) -> bool {
        self.complete || self.at.elapsed() < if self.container.is_some() { RETRY } else { UNKNOWN_RETRY }
    }
}

/// Resolves processes to containers; owns the caches. One per consumer thread.
pub struct Attributor {
    roots: Vec<PathBuf>,
    proc_root: PathBuf,
    cgroup2: Option<PathBuf>,
    by_cgroup_id: HashMap<u64, Cached>,
    by_path: HashMap<String, Cached>,
    id_to_path: HashMap<u64, String>,
    last_walk: Option<Instant>,
    recent: SharedRecent,
}

impl Attributor {
    /// `extra_roots` are searched before the standard state directories ([`runtimes::default_roots`]).
    pub fn new(extra_roots: &[PathBuf]) -> Self {
        Self::with_recent(extra_roots, Recent::shared())
    }

    /// Like [`Attributor::new`], sharing the cache of recently seen containers with a
    /// [`watch::StateWatcher`] (see [`Attributor::watch`]).
    pub fn with_recent(extra_roots: &[PathBuf], recent: SharedRecent) -> Self {
        Attributor {
            roots: all_roots(extra_roots),
            proc_root: PathBuf::from("/proc"),
            cgroup2: cgroup2_mount(),
            by_cgroup_id: HashMap::new(),
            by_path: HashMap::new(),
            id_to_path: HashMap::new(),
            last_walk: None,
            recent,
        }
    }

    /// Start a watcher on this attributor's state roots that fills its cache of recent containers; the
    /// watcher stops when the returned handle is dropped.
    pub fn watch(&self) -> Result<watch::StateWatcher, String> {
        watch::StateWatcher::start(self.roots.clone(), self.cgroup2.clone(), self.recent.clone())
    }

    /// The container of process `pid`, whose kernel cgroup id is `cgroup_id` (0: unknown). `exec`: the
    /// record is an exec, a moment when the runtime's state is complete (a cached "unknown" is asked
    /// again).
    pub fn attribute(&mut self, pid: u32, cgroup_id: u64, exec: bool) -> Option<Container> {
        if cgroup_id != 0
            && let Some(c) = self.by_cgroup_id.get(&cgroup_id)
            && c.fresh()
            && (c.complete || !exec)
        {
            return c.container.clone();
        }
        let path = std::fs::read_to_string(self.proc_root.join(pid.to_string()).join("cgroup"))
            .ok()
            .and_then(|t| cgroup::select_path(&t))
            .or_else(|| (cgroup_id != 0).then(|| self.path_of_cgroup_id(cgroup_id)).flatten());
        let Some(path) = path else {
            // process and cgroup gone: a container seen (or watched) recently
            let found = (cgroup_id != 0).then(|| self.recent_by_cgroup_id(cgroup_id)).flatten()?;
            self.by_cgroup_id.insert(
                cgroup_id,
                Cached { container: Some(found.clone()), complete: true, at: Instant::now() },
            );
            return Some(found);
        };
        let cached = match self.by_path.get(&path) {
            Some(c) if (c.complete || !exec) && c.fresh() => c.clone(),
            _ => {
                let c = self.resolve(&path, cgroup_id);
                self.by_path.insert(path, c.clone());
                c
            }
        };
        let mut cached = cached;
        if let Some(c) = cached.container.as_mut()
            && cgroup_id != 0
        {
            c.cgroup_id = Some(cgroup_id);
        }
        if cached.complete
            && let Some(c) = &cached.container
            && let Ok(mut recent) = self.recent.lock()
        {
            recent.remember(c);
        }
        if cgroup_id != 0 {
            if self.by_cgroup_id.len() > 65536 {
                self.by_cgroup_id.clear();
            }
            self.by_cgroup_id.insert(cgroup_id, cached.clone());
        }
        cached.container
    }

    /// The cgroup v2 mount.
    pub fn cgroup2_root(&self) -> Option<&Path> {
        self.cgroup2.as_deref()
    }

    /// Whether the cgroup at `path` (relative to the cgroup v2 mount, `/x/y`) is a container's, by the
    /// runtimes' path conventions or their state directories.
    pub fn is_container_cgroup(&self, path: &str) -> bool {
        self.resolve(path, 0).container.is_some()
    }

    /// The path (relative to the cgroup v2 mount) of cgroup `cgroup_id` where process `pid` runs, from
    /// `/proc/PID/cgroup` when that directory's inode is `cgroup_id`; `None` once the process is gone
    /// (the caches and the hierarchy walk are left to [`Attributor::attribute`]).
    pub fn cgroup_path(&self, pid: u32, cgroup_id: u64) -> Option<String> {
        let root = self.cgroup2.as_deref()?;
        std::fs::read_to_string(self.proc_root.join(pid.to_string()).join("cgroup"))
            .ok()
            .and_then(|t| cgroup::select_path(&t))
            .filter(|p| {
                std::fs::metadata(root.join(p.trim_start_matches('/'))).is_ok_and(|m| m.ino() == cgroup_id)
            })
    }

    fn recent_by_cgroup_id(&self, cgroup_id: u64) -> Option<Container> {
        self.recent.lock().ok()?.by_cgroup_id(cgroup_id)
    }

    /// A container whose state is gone, from the cache of recent ones: by the record's cgroup id, else by
    /// the id the cgroup path names.
    fn recent(&self, id: &str, cgroup_id: u64) -> Option<Container> {
        let recent = self.recent.lock().ok()?;
        (cgroup_id != 0).then(|| recent.by_cgroup_id(cgroup_id)).flatten().or_else(|| recent.by_id(id))
    }

    fn resolve(&self, path: &str, cgroup_id: u64) -> Cached {
        let at = Instant::now();
        match cgroup::classify(path) {
            Candidate::Host => Cached { container: None, complete: true, at },
            Candidate::Container { id, runtime, pod_uid } => {
                let found = runtimes::find_config(&self.roots, &id, None);
                let mut container = match &found {
                    Some((config, rt)) => runtimes::container_from_config(config, &id, runtime.unwrap_or(rt))
                        .unwrap_or_else(|e| {
                            tracing::warn!("container {id}: {e}");
                            bare(&id, runtime.unwrap_or("unknown"))
                        }),
                    None => match self.recent(&id, cgroup_id) {
                        Some(c) => return Cached { container: Some(c), complete: true, at },
                        None => bare(&id, runtime.unwrap_or("unknown")),
                    },
                };
                if let (Some(pod), Some(uid)) = (container.pod.as_mut(), pod_uid) {
                    pod.uid.get_or_insert(uid);
                }
                Cached { container: Some(container), complete: found.is_some(), at }
            }
            Candidate::Unconfirmed { id, namespace } => {
                match runtimes::find_config(&self.roots, &id, namespace.as_deref()) {
                    Some((config, rt)) => {
                        let container =
                            runtimes::container_from_config(&config, &id, rt).unwrap_or_else(|e| {
                                tracing::warn!("container {id}: {e}");
                                bare(&id, rt)
                            });
                        Cached { container: Some(container), complete: true, at }
                    }
                    // a container whose state is already gone, if seen recently
                    None => match self.recent(&id, cgroup_id) {
                        Some(c) => Cached { container: Some(c), complete: true, at },
                        // not a container as far as any runtime knows: a host cgroup (or state not yet
                        // written)
                        None => Cached { container: None, complete: false, at },
                    },
                }
            }
        }
    }

    /// The cgroup v2 path whose directory inode is `id` (the kernel's cgroup id).
    fn path_of_cgroup_id(&mut self, id: u64) -> Option<String> {
        if let Some(p) = self.id_to_path.get(&id) {
            return Some(p.clone());
        }
        let root = self.cgroup2.clone()?;
        if self.last_walk.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return None;
        }
        self.last_walk = Some(Instant::now());
        self.id_to_path.clear();
        walk(&root, &root, &mut self.id_to_path, 0);
        self.id_to_path.get(&id).cloned()
    }
}

/// The roots searched: `extra` first, then the standard state directories.
fn all_roots(extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut roots = extra.to_vec();
    roots.extend(runtimes::default_roots());
    roots
}

fn bare(id: &str, runtime: &str) -> Container {
    Container { id: id.to_string(), runtime: runtime.to_string(), ..Container::default() }
}

fn walk(root: &Path, dir: &Path, out: &mut HashMap<u64, String>, depth: usize) {
    if depth > 16 || out.len() > 100_000 {
        return;
    }
    let Ok(meta) = std::fs::metadata(dir) else { return };
    let rel = dir.strip_prefix(root).map(|r| format!("/{}", r.display())).unwrap_or_else(|_| "/".into());
    out.insert(meta.ino(), rel);
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for entry in rd.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(root, &entry.path(), out, depth + 1);
        }
    }
}

/// The cgroup v2 mount point (`/sys/fs/cgroup` on unified hosts, `/sys/fs/cgroup/unified` on hybrid ones).
pub(crate) fn cgroup2_mount() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        Some(PathBuf::from(left.split_whitespace().nth(4)?))
    })
}
