//! A watcher on the runtimes' state directories that learns each container as soon as its runtime
//! writes its state, so the container stays attributable after the state is gone ([`super::recent`]).
//!
//! One thread holds an inotify instance with watches on every state root, its namespace directories and
//! the container directories below them (containerd's task directories too). When a `state.json` or
//! `config.json` is written (or renamed into place, as runc does) in a container directory, the
//! container's metadata is read through [`super::runtimes`] and its cgroup id is taken from the inode of
//! its cgroup v2 directory (runc's `cgroup_paths`, else the bundle's `linux.cgroupsPath`). The watcher has
//! no backlog of its own (it reacts to a few file events per container), so it reads a short-lived
//! container's state while the sensor's reader may still be behind. Roots that do not exist yet (a
//! containerd started after the agent) are looked for again every second.

use super::recent::SharedRecent;
use super::runtimes;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use serde_json::Value;
use std::collections::HashMap;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Directory levels watched below a root: `<root>/<ns>/<id>`, and containerd's
/// `<root>/io.containerd.runtime.v2.task/<ns>/<id>`.
const MAX_DEPTH: usize = 3;

/// The running watcher; stops (and closes its inotify instance) when dropped.
pub struct StateWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StateWatcher {
    /// Watch `roots` and fill `recent`. `cgroup2` is the cgroup v2 mount (for `linux.cgroupsPath`).
    pub fn start(
        roots: Vec<PathBuf>,
        cgroup2: Option<PathBuf>,
        recent: SharedRecent,
    ) -> Result<StateWatcher, String> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .map_err(|e| format!("inotify for the runtime state directories: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("state-watcher".into())
            .spawn(move || {
                let mut w = Watches { inotify, roots, cgroup2, recent, dirs: HashMap::new() };
                w.run(&flag);
            })
            .map_err(|e| format!("starting the state watcher: {e}"))?;
        Ok(StateWatcher { stop, thread: Some(thread) })
    }
}

impl Drop for StateWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Watches {
    inotify: Inotify,
    roots: Vec<PathBuf>,
    cgroup2: Option<PathBuf>,
    recent: SharedRecent,
    /// Watched directory and its depth below its root, by watch descriptor.
    dirs: HashMap<WatchDescriptor, (PathBuf, usize)>,
}

impl Watches {
    fn run(&mut self, stop: &AtomicBool) {
        let mut last_scan: Option<Instant> = None;
        while !stop.load(Ordering::Relaxed) {
            if last_scan.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
                last_scan = Some(Instant::now());
                for root in self.roots.clone() {
                    if !self.dirs.values().any(|(d, _)| *d == root) {
                        self.add(&root, 0);
                    }
                }
            }
            let mut fds = [PollFd::new(self.inotify.as_fd(), PollFlags::POLLIN)];
            if !matches!(poll(&mut fds, PollTimeout::from(200u16)), Ok(n) if n > 0) {
                continue;
            }
            let Ok(events) = self.inotify.read_events() else { continue };
            for ev in events {
                if ev.mask.contains(AddWatchFlags::IN_IGNORED) {
                    self.dirs.remove(&ev.wd);
                    continue;
                }
                let (Some((dir, depth)), Some(name)) = (self.dirs.get(&ev.wd).cloned(), ev.name) else {
                    continue;
                };
                let path = dir.join(&name);
                if ev.mask.contains(AddWatchFlags::IN_ISDIR) {
                    if depth < MAX_DEPTH {
                        self.add(&path, depth + 1);
                    }
                } else if name == "state.json" || name == "config.json" {
                    self.learn(&dir);
                }
            }
        }
    }

    /// Watch `dir` and what is already below it (a container created before the watch was in place).
    fn add(&mut self, dir: &Path, depth: usize) {
        let mask = AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_ONLYDIR;
        let Ok(wd) = self.inotify.add_watch(dir, mask) else { return };
        self.dirs.insert(wd, (dir.to_path_buf(), depth));
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for entry in rd.flatten() {
            let name = entry.file_name();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                if depth < MAX_DEPTH {
                    self.add(&entry.path(), depth + 1);
                }
            } else if name == "state.json" || name == "config.json" {
                self.learn(dir);
            }
        }
    }

    /// A container directory got its state: read the container and remember it.
    fn learn(&self, dir: &Path) {
        if let Some(container) = learn(&self.roots, dir, self.cgroup2.as_deref())
            && let Ok(mut recent) = self.recent.lock()
        {
            recent.remember(&container);
        }
    }
}

/// The container whose state directory (or containerd task directory) is `dir`, with its cgroup id.
pub fn learn(roots: &[PathBuf], dir: &Path, cgroup2: Option<&Path>) -> Option<crate::event::Container> {
    let id = dir.file_name()?.to_str()?;
    let namespace = dir.parent().and_then(Path::file_name).and_then(|n| n.to_str());
    let (config, runtime) =
        runtimes::find_config(roots, id, namespace).or_else(|| runtimes::find_config(roots, id, None))?;
    let mut container = runtimes::container_from_config(&config, id, runtime).ok()?;
    container.cgroup_id = cgroup_id(dir, &config, cgroup2);
    Some(container)
}

/// The inode of the container's cgroup v2 directory: from runc's `state.json` (`cgroup_paths[""]`), else
/// the bundle's `linux.cgroupsPath` under the cgroup v2 mount.
fn cgroup_id(dir: &Path, config: &Path, cgroup2: Option<&Path>) -> Option<u64> {
    let read = |p: &Path| -> Option<Value> { serde_json::from_slice(&std::fs::read(p).ok()?).ok() };
    let from_state = read(&dir.join("state.json"))
        .and_then(|s| s.pointer("/cgroup_paths")?.get("")?.as_str().map(PathBuf::from));
    let from_spec = || {
        let rel = read(config)?.pointer("/linux/cgroupsPath")?.as_str()?.to_string();
        // systemd-style `slice:prefix:name` paths are not directories: left to the hierarchy walk
        if !rel.starts_with('/') || rel.contains(':') {
            return None;
        }
        Some(cgroup2?.join(rel.trim_start_matches('/')))
    };
    let path = from_state.or_else(from_spec)?;
    std::fs::metadata(path).ok().map(|m| m.ino())
}
