//! Execs: blocked before they run, or killed after.
//!
//! Before: the exec group ([`Group`] with `FAN_OPEN_EXEC_PERM`) on every container's mounts: the kernel
//! stops an `execve` of a file on a marked mount until the agent answers; `FAN_DENY` makes it fail with
//! `EPERM` (a shell reports "Permission denied"/"Operation not permitted", exit 126) and the program never
//! runs.
//!
//! After: an exec the sensor reports that the exec group did not judge (the container's first processes,
//! run before its mounts were marked; every exec when fanotify permission events are unavailable or
//! `--exec-enforcer kill` is chosen) is judged from the event, zero drift from its upper-layer bit. When the decider denies it, the process is
//! killed from user space at once, and its executable is listed for its container in the kernel
//! ([`Killer::kill_execs_of`]): the next exec of the same file there dies of SIGKILL at the exec, before its
//! first instruction.

use crate::enforce::alert::{self, AlertSink, Facts};
use crate::enforce::kill::{Killer, kill_now};
use crate::enforce::stats::{KillLabels, Stats};
use crate::event::{Event, EventKind};
use crate::verdict::{Access, Decider, Request, Verdict};
use std::os::unix::fs::MetadataExt;

pub use crate::enforce::fanotify::Group;

/// Judge an exec the sensor saw after it happened (see the module documentation).
pub fn judge_after(
    event: &Event,
    decider: &dyn Decider,
    killer: &mut Killer,
    stats: &Stats,
    alerts: &AlertSink,
) {
    let (EventKind::Execve, Some(container)) = (&event.kind, event.container.as_ref()) else { return };
    let path = event.process.exe.as_str();
    let pid = event.process.pid;
    let request = Request { pid, container: Some(container), access: Access::Exec { path } };
    let mut verdict = decider.decide(&request);
    // zero drift from the sensor's upper-layer bit (the exec already happened: nothing else to look at)
    if !verdict.is_deny() && event.process.exe_from_upper_layer && decider.checks_drift(container) {
        let reason = format!("{path} was written or modified in the container");
        verdict = verdict.or(decider.drift(&request, &reason));
    }
    match &verdict {
        Verdict::Allow => stats.verdict("exec-after", "allow"),
        Verdict::Alert { rule, .. } => {
            stats.verdict("exec-after", "alert");
            alerts.send(Facts {
                rule: alert::MONITORED,
                priority: "Notice",
                because: rule,
                action: "allowed (exec seen after it ran)",
                pid,
                path,
                container: Some(container),
            });
        }
        Verdict::Deny { rule, .. } => {
            stats.verdict("exec-after", "deny");
            // the executable's inode while the process still has it; only when it is the denied file itself
            // (for a script the process's executable is the interpreter, which must not be listed)
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
            let ino = exe
                .filter(|e| e.as_os_str() == path)
                .and_then(|_| std::fs::metadata(format!("/proc/{pid}/exe")).ok())
                .map(|m| m.ino());
            // listed before the kill: the parent may run the same file again as soon as this one dies
            let listed = match (container.cgroup_id, ino) {
                (Some(cg), Some(ino)) => killer.kill_execs_of(cg, ino).unwrap_or_else(|e| {
                    tracing::warn!("{e}");
                    false
                }),
                _ => false,
            };
            let killed = kill_now(pid);
            if killed.is_ok() {
                stats.kills.get_or_create(&KillLabels { how: "kill".into() }).inc();
            }
            let action = match (&killed, listed) {
                (Ok(()), true) => {
                    "killed; later execs of it in this container are killed in the kernel".to_string()
                }
                (Ok(()), false) => "killed".to_string(),
                (Err(e), _) if e.contains("ESRCH") => {
                    "already gone (an executable listed for this container dies at exec, in the kernel)"
                        .to_string()
                }
                (Err(e), _) => format!("not killed: {e}"),
            };
            alerts.send(Facts {
                rule: alert::KILLED,
                priority: "Warning",
                because: rule,
                action: &action,
                pid,
                path,
                container: Some(container),
            });
        }
    }
}
