//! A fanotify permission group, the marks on containers' mounts and the group's reader thread.
//!
//! One group per mechanism ([`exec`](crate::enforce::exec): `FAN_OPEN_EXEC_PERM`,
//! [`open`](crate::enforce::open): `FAN_OPEN_PERM`), class `FAN_CLASS_CONTENT`, `FAN_REPORT_TID` (so the
//! event names the thread, whose `/proc/TID/syscall` tells how the file is being opened). Marks are mount
//! marks on the mounts of a container's mount namespace, reached through `/proc/PID/root`: only what
//! happens through a container's mounts produces events, the host's own mounts are never marked.
//! Pseudo-filesystems and `/proc`, `/sys` are left out; `/dev` (with `/dev/shm`) is marked for execs only.
//!
//! The reader only does what cannot wait: it answers at once the events of the agent's own threads and
//! opens of the agent's own executable, resolves the event's path (`/proc/self/fd/N`), holds the event in
//! the [`Responder`] and hands a [`Job`] to the deciders on a bounded queue. When that queue is full the
//! event is allowed at once and counted. When the group's descriptor is closed (the agent stops or dies)
//! the kernel allows every event still pending: no container stays blocked.

use crate::enforce::responder::{Job, Kind, Responder};
use crate::enforce::stats::Stats;
use nix::errno::Errno;
use nix::fcntl::AT_FDCWD;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::fanotify::{EventFFlags, Fanotify, InitFlags, MarkFlags, MaskFlags};
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};

/// File-system types never marked (their files are not programs or data of the workload).
const SKIPPED_FSTYPES: &[&str] =
    &["proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "debugfs", "tracefs", "securityfs", "bpf"];
/// Mount points never marked, with everything below them.
const SKIPPED_MOUNTS: &[&str] = &["/proc", "/sys"];
/// Mount points marked for execs only (`/dev/shm` is a classic place to drop a program; opens of
/// `/dev/null` are too frequent to send through the agent).
const EXEC_ONLY_MOUNTS: &[&str] = &["/dev"];

fn under(point: &str, dirs: &[&str]) -> bool {
    dirs.iter().any(|m| point == *m || point.starts_with(&format!("{m}/")))
}

/// A mount of a container to mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The mount point under `/proc/PID/root`.
    pub path: PathBuf,
    /// Marked by the exec group only.
    pub exec_only: bool,
}

pub struct Group {
    pub fan: Fanotify,
    pub kind: Kind,
    mask: MaskFlags,
}

impl Group {
    /// A new permission group for `kind` (needs `CAP_SYS_ADMIN`).
    pub fn new(kind: Kind) -> nix::Result<Group> {
        let fan = Fanotify::init(
            InitFlags::FAN_CLASS_CONTENT
                | InitFlags::FAN_CLOEXEC
                | InitFlags::FAN_NONBLOCK
                | InitFlags::FAN_REPORT_TID,
            EventFFlags::O_RDONLY | EventFFlags::O_LARGEFILE | EventFFlags::O_CLOEXEC,
        )?;
        let mask = match kind {
            Kind::Exec => MaskFlags::FAN_OPEN_EXEC_PERM,
            Kind::Open => MaskFlags::FAN_OPEN_PERM,
        };
        Ok(Group { fan, kind, mask })
    }

    /// Mark the mount `path` resolves to.
    pub fn mark_mount(&self, path: &Path) -> nix::Result<()> {
        self.fan.mark(MarkFlags::FAN_MARK_ADD | MarkFlags::FAN_MARK_MOUNT, self.mask, AT_FDCWD, Some(path))
    }

    /// Mark one file (the probe and tests; enforcement marks mounts).
    pub fn mark_inode(&self, path: &Path) -> nix::Result<()> {
        self.fan.mark(MarkFlags::FAN_MARK_ADD, self.mask, AT_FDCWD, Some(path))
    }
}

/// The mounts of process `pid`'s mount namespace worth marking.
pub fn container_mounts(pid: u32) -> Result<Vec<Mount>, String> {
    let root = PathBuf::from(format!("/proc/{pid}/root"));
    let text = std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
        .map_err(|e| format!("/proc/{pid}/mountinfo: {e}"))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else { continue };
        let Some(point) = left.split_whitespace().nth(4) else { continue };
        let Some(fstype) = right.split_whitespace().next() else { continue };
        let point = unescape(point);
        if SKIPPED_FSTYPES.contains(&fstype) || under(&point, SKIPPED_MOUNTS) {
            continue;
        }
        out.push(Mount {
            path: root.join(point.trim_start_matches('/')),
            exec_only: under(&point, EXEC_ONLY_MOUNTS),
        });
    }
    Ok(out)
}

/// mountinfo escapes blanks, tabs, newlines and backslashes as octal.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && let Some(v) = s.get(i + 1..i + 4).and_then(|o| u8::from_str_radix(o, 8).ok())
        {
            out.push(v);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// (device, inode) of the agent's own executable.
pub fn own_executable() -> Option<(u64, u64)> {
    let st = nix::sys::stat::stat("/proc/self/exe").ok()?;
    Some((st.st_dev, st.st_ino))
}

/// Read `group` until `stop`: see the module documentation.
pub fn read_loop(
    group: Arc<Group>,
    responder: Arc<Responder>,
    jobs: SyncSender<Job>,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
) {
    let own_exe = own_executable();
    let kind = group.kind;
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(group.fan.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(100u16)) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("fanotify {} group: poll: {e}", kind.name());
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
        }
        let events = match group.fan.read_events() {
            Ok(ev) => ev,
            Err(Errno::EAGAIN) | Err(Errno::EINTR) => continue,
            Err(e) => {
                tracing::warn!("fanotify {} group: read: {e}", kind.name());
                continue;
            }
        };
        for event in events {
            let Some(fd) = event.fd() else {
                // FAN_Q_OVERFLOW: permission events are never dropped by the kernel, but count it
                stats.overflow.inc();
                continue;
            };
            let tid = event.pid().max(0) as u32;
            if is_own_thread(tid) {
                stats.exempt(kind, "agent");
                crate::enforce::responder::respond(&group, &event, true);
                continue;
            }
            if own_exe.is_some() && nix::sys::stat::fstat(fd).ok().map(|s| (s.st_dev, s.st_ino)) == own_exe {
                if kind == Kind::Exec {
                    responder.note_exec(tid);
                }
                stats.exempt(kind, "agent-binary");
                crate::enforce::responder::respond(&group, &event, true);
                continue;
            }
            let path = nix::fcntl::readlink(format!("/proc/self/fd/{}", fd.as_raw_fd()).as_str())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            let file = (kind == Kind::Exec).then(|| crate::enforce::drift::FileFacts::of(fd)).flatten();
            let job = responder.hold(group.clone(), event, Job { seq: 0, kind, tid, path, file });
            match jobs.try_send(job) {
                Ok(()) => {}
                Err(TrySendError::Full(job)) | Err(TrySendError::Disconnected(job)) => {
                    // counted before the answer lets the process go on: whoever
                    // watches the metric sees it by the time the open returns
                    stats.queue_full(&job);
                    responder.answer(job.seq, true);
                }
            }
        }
    }
}

fn is_own_thread(tid: u32) -> bool {
    tid == std::process::id() || Path::new(&format!("/proc/self/task/{tid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn mountinfo_escapes() {
        assert_eq!(unescape(r"/a\040b"), "/a b");
        assert_eq!(unescape(r"/plain"), "/plain");
        assert_eq!(unescape(r"/end\04"), r"/end\04");
    }
}
