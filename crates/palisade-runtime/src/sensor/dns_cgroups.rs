//! The DNS answer programs (`dns_ingress`, `dns_egress` of `bpf/sensor.bpf.c`) attached to container
//! cgroups only ([`DnsScope::Containers`](super::interest::DnsScope)), so host processes' packets do not go
//! through the kernel's cgroup-BPF hook at all.
//!
//! Owned by the eBPF reader thread, which holds the loaded programs:
//! - at start, every cgroup v2 directory that is a container's (by the runtimes' path conventions or
//!   their state, [`Attributor::is_container_cgroup`]) gets both programs (BPF links; a link on a cgroup
//!   applies to the cgroups below it too);
//! - an inotify watch on every cgroup directory reports new ones as the runtime creates them (`mkdir`),
//!   before the container's process runs: a directory whose path may be a container's (anything but the
//!   root's own) gets the programs at once, provisionally, and keeps them only if the runtimes confirm a
//!   container within [`CONFIRM`];
//! - a record attributed to a container whose cgroup has no programs yet (a container the two steps
//!   above missed) attaches them to that record's cgroup;
//! - every second, cgroups that are gone (the container exited) have their links released, and an
//!   unconfirmed one's are released after [`CONFIRM`] (the containers below it then get their own);
//! - a cgroup below one that has the programs is left alone (a link applies below its cgroup, and two
//!   would capture each answer twice).
//!
//! Answers sent before a container's cgroup got the programs are not seen; the watch makes that window
//! the runtime's own setup time.

use crate::attribution::Attributor;
use aya::Ebpf;
use aya::programs::cgroup_skb::CgroupSkbLinkId;
use aya::programs::{CgroupAttachMode, CgroupSkb, CgroupSkbAttachType};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use std::collections::{HashMap, HashSet};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a new cgroup keeps the programs without the runtimes confirming it is a container's.
const CONFIRM: Duration = Duration::from_secs(5);
/// How long a cgroup an attach failed for is left alone.
const RETRY: Duration = Duration::from_secs(10);
/// Directory levels watched below the cgroup root (kubepods.slice/…/pod…/cri-containerd-….scope is 4).
const MAX_DEPTH: usize = 8;
/// Watches at most (a node's cgroup count is in the hundreds to low thousands).
const MAX_WATCHES: usize = 20_000;
/// The programs, by name.
const PROGRAMS: [(&str, CgroupSkbAttachType); 2] =
    [("dns_ingress", CgroupSkbAttachType::Ingress), ("dns_egress", CgroupSkbAttachType::Egress)];

struct Attached {
    path: PathBuf,
    links: Vec<(&'static str, CgroupSkbLinkId)>,
    /// Attached on sight of a new directory and not confirmed yet: detached after [`CONFIRM`].
    provisional: Option<Instant>,
}

/// The container cgroups that have the DNS programs.
pub struct DnsCgroups {
    root: PathBuf,
    inotify: Option<Inotify>,
    watches: HashMap<WatchDescriptor, (PathBuf, usize)>,
    /// By cgroup id (the directory's inode).
    attached: HashMap<u64, Attached>,
    /// Cgroup ids an attach failed for, and when (retried after [`RETRY`]).
    failed: HashMap<u64, Instant>,
    /// Cgroup ids below a cgroup that has the programs (they apply there already).
    covered: HashSet<u64>,
    last_sweep: Instant,
    /// Problems worth one line each in the agent's log.
    pub notes: Vec<String>,
}

impl DnsCgroups {
    /// Load both programs, attach them to the containers' cgroups that exist and watch for new ones.
    pub fn start(bpf: &mut Ebpf, attributor: &mut Attributor) -> Result<DnsCgroups, String> {
        let root = attributor.cgroup2_root().ok_or("no cgroup v2 hierarchy mounted")?.to_path_buf();
        for (name, _) in PROGRAMS {
            program(bpf, name)?.load().map_err(|e| format!("{name}: {}", super::ebpf::imp::chain(&e)))?;
        }
        let mut notes = Vec::new();
        let inotify = match Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) {
            Ok(i) => Some(i),
            Err(e) => {
                notes.push(format!(
                    "DNS: no inotify ({e}): a container's answers are seen from its first event on"
                ));
                None
            }
        };
        let mut me = DnsCgroups {
            root: root.clone(),
            inotify,
            watches: HashMap::new(),
            attached: HashMap::new(),
            failed: HashMap::new(),
            covered: HashSet::new(),
            last_sweep: Instant::now(),
            notes,
        };
        me.add_tree(bpf, attributor, &root, 0, true);
        Ok(me)
    }

    /// The inotify descriptor to poll with the ring buffer.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.inotify.as_ref().map(|i| i.as_fd())
    }

    /// Cgroups that have the programs now.
    pub fn attached(&self) -> usize {
        self.attached.len()
    }

    /// Watch `dir` and the directories below it; attach to those that are containers' (`existing`: the
    /// tree as found at start, confirmed now; otherwise new directories, attached provisionally).
    fn add_tree(
        &mut self,
        bpf: &mut Ebpf,
        attributor: &mut Attributor,
        dir: &Path,
        depth: usize,
        existing: bool,
    ) {
        if let Some(inotify) = &self.inotify
            && self.watches.len() < MAX_WATCHES
            && let Ok(wd) = inotify.add_watch(dir, AddWatchFlags::IN_CREATE | AddWatchFlags::IN_ONLYDIR)
        {
            self.watches.insert(wd, (dir.to_path_buf(), depth));
        }
        if depth > 0 {
            let rel = self.rel(dir);
            let candidate = !matches!(
                crate::attribution::cgroup::classify(&rel),
                crate::attribution::cgroup::Candidate::Host
            );
            if existing && attributor.is_container_cgroup(&rel) {
                self.attach(bpf, dir, None);
            } else if !existing && candidate {
                self.attach(bpf, dir, Some(Instant::now()));
            }
        }
        if depth >= MAX_DEPTH {
            return;
        }
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for entry in rd.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                self.add_tree(bpf, attributor, &entry.path(), depth + 1, existing);
            }
        }
    }

    fn rel(&self, dir: &Path) -> String {
        dir.strip_prefix(&self.root).map(|r| format!("/{}", r.display())).unwrap_or_else(|_| "/".into())
    }

    /// Whether `dir` or a cgroup above it has the programs (a link applies below its cgroup: attaching
    /// again would run them twice for the same packet).
    fn covered(&self, dir: &Path) -> bool {
        self.attached.values().any(|a| dir.starts_with(&a.path))
    }

    /// Attach both programs to the cgroup directory `dir` (no-op when it or a parent has them).
    fn attach(&mut self, bpf: &mut Ebpf, dir: &Path, provisional: Option<Instant>) {
        if self.covered(dir) {
            return;
        }
        let Ok(file) = std::fs::File::open(dir) else { return };
        let Ok(ino) = file.metadata().map(|m| m.ino()) else { return };
        if self.attached.contains_key(&ino) || self.failed.contains_key(&ino) {
            return;
        }
        let mut links = Vec::new();
        for (name, kind) in PROGRAMS {
            let res = program(bpf, name).and_then(|p| {
                p.attach(&file, kind, CgroupAttachMode::Single).map_err(|e| super::ebpf::imp::chain(&e))
            });
            match res {
                Ok(id) => links.push((name, id)),
                Err(e) => {
                    tracing::debug!("DNS programs on {}: {e}", dir.display());
                    detach(bpf, links);
                    self.failed.insert(ino, Instant::now());
                    return;
                }
            }
        }
        self.attached.insert(ino, Attached { path: dir.to_path_buf(), links, provisional });
    }

    /// A record attributed (`container`) or not to a container, from cgroup `cgroup_id`.
    pub fn on_record(
        &mut self,
        bpf: &mut Ebpf,
        attributor: &mut Attributor,
        pid: u32,
        cgroup_id: u64,
        container: bool,
    ) {
        if !container
            || cgroup_id == 0
            || self.attached.contains_key(&cgroup_id)
            || self.covered.contains(&cgroup_id)
            || self.failed.contains_key(&cgroup_id)
        {
            return;
        }
        match attributor.cgroup_path(pid, cgroup_id) {
            Some(rel) => {
                let dir = self.root.join(rel.trim_start_matches('/'));
                if self.covered(&dir) {
                    self.covered.insert(cgroup_id);
                } else {
                    if dir == self.root {
                        // a container with no cgroup v2 of its own (v1 runtimes on a hybrid host): its
                        // names need the programs on the root, for every process
                        tracing::warn!(
                            "DNS: a container runs in the cgroup v2 root: DNS programs on the root"
                        );
                    }
                    self.attach(bpf, &dir, None);
                }
            }
            None => {
                self.failed.insert(cgroup_id, Instant::now());
            }
        }
    }

    /// New cgroup directories (inotify), then, every second, confirmations and removals.
    pub fn poll(&mut self, bpf: &mut Ebpf, attributor: &mut Attributor) {
        let mut new_dirs = Vec::new();
        if let Some(inotify) = &self.inotify {
            while let Ok(events) = inotify.read_events() {
                if events.is_empty() {
                    break;
                }
                for ev in events {
                    if ev.mask.contains(AddWatchFlags::IN_IGNORED) {
                        self.watches.remove(&ev.wd);
                        continue;
                    }
                    if let (Some((dir, depth)), Some(name)) = (self.watches.get(&ev.wd), ev.name)
                        && ev.mask.contains(AddWatchFlags::IN_ISDIR)
                    {
                        new_dirs.push((dir.join(name), depth + 1));
                    }
                }
            }
        }
        for (dir, depth) in new_dirs {
            self.add_tree(bpf, attributor, &dir, depth, false);
        }
        if self.last_sweep.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.last_sweep = Instant::now();
        let mut gone = Vec::new();
        for (ino, a) in self.attached.iter_mut() {
            if std::fs::metadata(&a.path).map(|m| m.ino()).ok() != Some(*ino) {
                gone.push(*ino);
                continue;
            }
            if let Some(since) = a.provisional {
                let rel =
                    a.path.strip_prefix(&self.root).map(|r| format!("/{}", r.display())).unwrap_or_default();
                if attributor.is_container_cgroup(&rel) {
                    a.provisional = None;
                } else if since.elapsed() > CONFIRM {
                    gone.push(*ino);
                }
            }
        }
        if !gone.is_empty() {
            self.covered.clear();
        }
        for ino in gone {
            let Some(a) = self.attached.remove(&ino) else { continue };
            detach(bpf, a.links);
            // an unconfirmed cgroup (a pod's, say) covered the containers below it: they get their own
            if a.path.is_dir() {
                let depth = a.path.strip_prefix(&self.root).map_or(0, |r| r.components().count());
                self.add_tree(bpf, attributor, &a.path, depth, true);
            }
        }
        self.failed.retain(|_, at| at.elapsed() < RETRY);
    }
}

fn program<'a>(bpf: &'a mut Ebpf, name: &str) -> Result<&'a mut CgroupSkb, String> {
    bpf.program_mut(name)
        .ok_or_else(|| format!("eBPF object has no program {name}"))?
        .try_into()
        .map_err(|e| format!("{name}: {e}"))
}

/// Release links (closing a link's descriptor detaches it; a removed cgroup's links are already
/// inactive).
fn detach(bpf: &mut Ebpf, links: Vec<(&'static str, CgroupSkbLinkId)>) {
    for (name, id) in links {
        if let Ok(p) = program(bpf, name)
            && let Err(e) = p.detach(id)
        {
            tracing::debug!("detaching {name}: {e}");
        }
    }
}
