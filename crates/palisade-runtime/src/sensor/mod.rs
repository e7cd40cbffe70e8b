//! The sensor: an event source probed at start, a reader thread and a bounded queue to the consumer.
//!
//! Sources, in the order [`Sensor::start`] tries them with [`SourceChoice::Auto`]:
//! 1. [`ebpf`]: the kernel programs of `bpf/sensor.bpf.c` (exec, fork, exit, opens, renames, unlinks,
//!    mkdir, connect/accept/listen/bind, set*id, capset, ptrace, mount, module load; DNS answers from two
//!    `cgroup_skb` programs, parsed by [`dns`]);
//! 2. [`proc_connector`]: fork, exec, uid/gid changes and exit only.
//!
//! Each failure is kept as a note ("eBPF unavailable: <reason>") for the agent to print; no source at all
//! is an error. The reader never blocks: when the queue is full the record is dropped and counted
//! ([`SensorStats::queue_drops`]), so the workload is never slowed by a slow consumer. The kernel's own
//! drops (ring buffer full) are counted separately.

pub mod dns;
#[cfg(palisade_bpf)]
pub mod dns_cgroups;
pub mod ebpf;
pub mod enrich;
pub mod interest;
pub mod proc_connector;
pub mod procfs;
pub mod quiet_dirs;
pub mod record;

use crate::attribution::Attributor;
use record::Record;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;
use thiserror::Error;

/// Which source to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceChoice {
    /// eBPF, else the proc connector.
    #[default]
    Auto,
    Ebpf,
    ProcConnector,
}

/// The source that is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Ebpf,
    ProcConnector,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Ebpf => "ebpf",
            Source::ProcConnector => "proc-connector",
        }
    }
}

/// Counters shared by the reader thread and whoever exports them.
#[derive(Debug, Default)]
pub struct SensorStats {
    /// Records read from the source.
    pub received: AtomicU64,
    /// Records dropped because the queue to the consumer was full.
    pub queue_drops: AtomicU64,
    /// Records the kernel could not write (ring buffer full); read from the `counters` map.
    pub kernel_drops: AtomicU64,
    /// Proc connector overruns (`ENOBUFS`: an unknown number of events lost each).
    pub source_drops: AtomicU64,
    /// Syscall records the kernel did not send because nothing loaded reads them ([`interest`]).
    pub kernel_filtered: AtomicU64,
    /// Records that did not parse.
    pub malformed: AtomicU64,
    /// Records waiting in the queue.
    pub queue_depth: AtomicU64,
    /// Cgroups the DNS answer programs are attached to.
    pub dns_cgroups: AtomicU64,
    /// Directories whose relative opens the kernel judges ([`quiet_dirs`]).
    pub quiet_dirs: AtomicU64,
}

/// How to start.
#[derive(Debug, Clone)]
pub struct SensorConfig {
    pub source: SourceChoice,
    /// Records the queue holds before the reader starts dropping.
    pub queue_capacity: usize,
    /// Runtime state directories searched before the standard ones (e.g. a containerd `--state` dir).
    pub runtime_roots: Vec<PathBuf>,
    /// What the kernel side sends (eBPF only; the default sends everything).
    pub interest: interest::Interest,
}

impl Default for SensorConfig {
    fn default() -> Self {
        SensorConfig {
            source: SourceChoice::Auto,
            queue_capacity: 65536,
            runtime_roots: Vec::new(),
            interest: interest::Interest::everything(),
        }
    }
}

#[derive(Debug, Error)]
pub enum SensorError {
    #[error("no event source available: {}", .0.join("; "))]
    NoSource(Vec<String>),
}

/// A running sensor.
pub struct Sensor {
    pub source: Source,
    /// Why better sources were not used, and what the running one lacks.
    pub notes: Vec<String>,
    pub stats: Arc<SensorStats>,
    rx: Receiver<Record>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    /// Learns containers from the runtimes' state directories as they are written (kept after the state
    /// is gone); `None` when inotify was not available (noted).
    _watcher: Option<crate::attribution::watch::StateWatcher>,
}

/// The producer side of the queue, owned by a source's reader thread: attributes each record to its
/// container as it arrives (cached by cgroup id, so this is a hash lookup for all but a container's first
/// records), then queues it without ever blocking.
pub struct Queue {
    tx: SyncSender<Record>,
    pub stats: Arc<SensorStats>,
    attributor: Attributor,
}

impl Queue {
    /// Attribute and queue a record; whether it is a container's.
    pub fn push(&mut self, mut r: Record) -> bool {
        let exec = r.kind == Some(record::RecordKind::Exec);
        r.container = self.attributor.attribute(r.pid, r.cgroup_id, exec);
        let container = r.container.is_some();
        match self.tx.try_send(r) {
            Ok(()) => {
                self.stats.queue_depth.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.stats.queue_drops.fetch_add(1, Ordering::Relaxed);
            }
        }
        container
    }

    /// The attributor (the DNS programs' container cgroups use its answers).
    pub fn attributor(&mut self) -> &mut Attributor {
        &mut self.attributor
    }
}

impl Sensor {
    /// Probe the sources and start the first that works.
    pub fn start(config: &SensorConfig) -> Result<Sensor, SensorError> {
        let stats = Arc::new(SensorStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let mut notes = Vec::new();
        let (tx, rx) = sync_channel(config.queue_capacity.max(1));
        let recent = crate::attribution::recent::Recent::shared();
        let queue = || Queue {
            tx: tx.clone(),
            stats: stats.clone(),
            attributor: Attributor::with_recent(&config.runtime_roots, recent.clone()),
        };
        let watcher = match queue().attributor.watch() {
            Ok(w) => Some(w),
            Err(e) => {
                notes.push(format!(
                    "{e}: containers that exit before their events are read stay unattributed"
                ));
                None
            }
        };
        if matches!(config.source, SourceChoice::Auto | SourceChoice::Ebpf) {
            match ebpf::start(queue(), stop.clone(), &config.interest) {
                Ok((reader, attached)) => {
                    notes.extend(attached.notes.iter().cloned());
                    if !attached.skipped.is_empty() {
                        notes.push(format!(
                            "eBPF: {} programs attached; this kernel lacks {}",
                            attached.programs,
                            attached.skipped.join(", ")
                        ));
                    }
                    return Ok(Sensor {
                        source: Source::Ebpf,
                        notes,
                        stats,
                        rx,
                        stop,
                        reader: Some(reader),
                        _watcher: watcher,
                    });
                }
                Err(e) => notes.push(format!("eBPF unavailable: {e}")),
            }
        }
        if matches!(config.source, SourceChoice::Auto | SourceChoice::ProcConnector) {
            match proc_connector::start(queue(), stop.clone()) {
                Ok(reader) => {
                    notes.push(
                        "proc connector: process events only (exec, fork, exit, uid/gid); no file or network events"
                            .into(),
                    );
                    return Ok(Sensor {
                        source: Source::ProcConnector,
                        notes,
                        stats,
                        rx,
                        stop,
                        reader: Some(reader),
                        _watcher: watcher,
                    });
                }
                Err(e) => notes.push(format!("proc connector unavailable: {e}")),
            }
        }
        Err(SensorError::NoSource(notes))
    }

    /// The next record, waiting at most `timeout`; `None` on timeout or when the reader has ended.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Record> {
        match self.rx.recv_timeout(timeout) {
            Ok(r) => {
                self.stats.queue_depth.fetch_sub(1, Ordering::Relaxed);
                Some(r)
            }
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Stop reading and detach. Records already queued stay readable with [`Sensor::drain`].
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }

    /// Records still queued (after [`Sensor::stop`]).
    pub fn drain(&self) -> Vec<Record> {
        let out: Vec<Record> = self.rx.try_iter().collect();
        self.stats.queue_depth.fetch_sub(out.len() as u64, Ordering::Relaxed);
        out
    }
}

impl Drop for Sensor {
    fn drop(&mut self) {
        self.stop();
    }
}
