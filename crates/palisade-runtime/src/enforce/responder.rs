//! The responder: every permission event the fanotify readers take is held here until it is answered, and
//! answered within the deadline whatever the deciders do.
//!
//! A reader [`hold`](Responder::hold)s the event (the process that caused it is stopped in the kernel until
//! an answer is written) and queues a [`Job`] for the decider threads on a bounded queue; a decider
//! [`answer`](Responder::answer)s it. The deadline thread calls [`expire`](Responder::expire): every event
//! held longer than the deadline is answered `FAN_ALLOW` and reported, so a stalled or slow decider delays a
//! workload by at most the deadline and never blocks it. An answer that comes after that is counted as late
//! and dropped (the event was already allowed). Each event is answered exactly once: whoever removes it from
//! the table answers it.

use crate::enforce::alert::{AlertSink, DEADLINE, Facts};
use crate::enforce::fanotify::Group;
use crate::enforce::stats::{MechanismLabels, Stats};
use nix::sys::fanotify::{FanotifyEvent, FanotifyResponse, Response};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an exec held by the exec group is remembered for the sensor's exec event to find.
const EXEC_MEMORY: Duration = Duration::from_secs(10);

/// Which permission event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `FAN_OPEN_EXEC_PERM`: an executable is about to be run.
    Exec,
    /// `FAN_OPEN_PERM`: a file is about to be opened.
    Open,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Exec => "exec",
            Kind::Open => "open",
        }
    }
}

/// One question for the deciders.
#[derive(Debug, Clone)]
pub struct Job {
    pub seq: u64,
    pub kind: Kind,
    /// Thread that caused the event (`FAN_REPORT_TID`), in the host's pid namespace.
    pub tid: u32,
    /// The file as the agent resolves the event's descriptor: for a file in a container's root mount this
    /// is the path inside the container.
    pub path: String,
    /// For an exec: the executable's mount and attributes, for zero drift ([`crate::enforce::drift`]).
    pub file: Option<crate::enforce::drift::FileFacts>,
}

struct Held {
    event: FanotifyEvent,
    group: Arc<Group>,
    at: Instant,
    job: Job,
}

/// What [`Responder::answer`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// The answer was written.
    InTime,
    /// The deadline had passed: the event had already been allowed.
    Late,
}

/// An event answered `FAN_ALLOW` because nobody decided in time.
#[derive(Debug, Clone)]
pub struct Expired {
    pub job: Job,
    pub waited: Duration,
}

pub struct Responder {
    held: Mutex<BTreeMap<u64, Held>>,
    /// Threads whose exec the exec group held recently, so the sensor's exec event is known as judged.
    execs: Mutex<HashMap<u32, Instant>>,
    next: AtomicU64,
    pub deadline: Duration,
}

/// The thread group of thread `tid`.
fn tgid(tid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("Tgid:")).and_then(|v| v.trim().parse().ok())
}

/// Write `allow`/`deny` for `event` on `group`; the event's descriptor is closed when `event` is dropped.
pub fn respond(group: &Group, event: &FanotifyEvent, allow: bool) {
    let Some(fd) = event.fd() else { return };
    let response = if allow { Response::FAN_ALLOW } else { Response::FAN_DENY };
    if let Err(e) = group.fan.write_response(FanotifyResponse::new(fd, response)) {
        // ENOENT: the kernel no longer waits for it (the process was killed); nothing else to do.
        tracing::debug!("fanotify response: {e}");
    }
}

impl Responder {
    pub fn new(deadline: Duration) -> Responder {
        Responder {
            held: Mutex::new(BTreeMap::new()),
            execs: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
            deadline,
        }
    }

    /// Keep `event` until it is answered; `job.seq` is set to its ticket.
    pub fn hold(&self, group: Arc<Group>, event: FanotifyEvent, mut job: Job) -> Job {
        job.seq = self.next.fetch_add(1, Ordering::Relaxed);
        if job.kind == Kind::Exec {
            self.note_exec(job.tid);
            // a thread other than the leader that execs takes the leader's pid, which the exec event names
            if let Some(tgid) = tgid(job.tid).filter(|&t| t != job.tid) {
                self.note_exec(tgid);
            }
        }
        let held = Held { event, group, at: Instant::now(), job: job.clone() };
        match self.held.lock() {
            Ok(mut m) => {
                m.insert(job.seq, held);
            }
            // a poisoned table (a thread panicked holding it): never keep a process waiting
            Err(_) => respond(&held.group, &held.event, true),
        }
        job
    }

    /// Remember that the exec group judged (or exempted) an exec of thread `tid`.
    pub fn note_exec(&self, tid: u32) {
        if let Ok(mut execs) = self.execs.lock() {
            if execs.len() > 4096 {
                execs.retain(|_, t| t.elapsed() < EXEC_MEMORY);
            }
            execs.insert(tid, Instant::now());
        }
    }

    /// Whether the exec group held an exec of `pid` recently (forgotten once asked).
    pub fn take_exec(&self, pid: u32) -> bool {
        self.execs.lock().ok().and_then(|mut e| e.remove(&pid)).is_some_and(|t| t.elapsed() < EXEC_MEMORY)
    }

    /// Answer the event of ticket `seq`, if it still waits.
    pub fn answer(&self, seq: u64, allow: bool) -> Answered {
        let held = self.held.lock().ok().and_then(|mut m| m.remove(&seq));
        match held {
            Some(h) => {
                respond(&h.group, &h.event, allow);
                Answered::InTime
            }
            None => Answered::Late,
        }
    }

    /// Allow every event held past the deadline; what was allowed so. `before` sees each
    /// job before its answer lets the process go on (so a metric is counted by then).
    pub fn expire(&self, mut before: impl FnMut(&Job)) -> Vec<Expired> {
        let mut out = Vec::new();
        let Ok(mut m) = self.held.lock() else { return out };
        // tickets are issued in time order and the deadline is the same for all: the oldest come first
        while let Some((&seq, h)) = m.first_key_value() {
            let waited = h.at.elapsed();
            if waited < self.deadline {
                break;
            }
            if let Some(h) = m.remove(&seq) {
                before(&h.job);
                respond(&h.group, &h.event, true);
                out.push(Expired { job: h.job, waited });
            }
        }
        out
    }

    /// When the oldest held event reaches the deadline (`None`: nothing held).
    pub fn next_expiry(&self) -> Option<Instant> {
        let m = self.held.lock().ok()?;
        m.first_key_value().map(|(_, h)| h.at + self.deadline)
    }

    /// Allow everything still held (shutdown).
    pub fn release_all(&self) -> usize {
        let Ok(mut m) = self.held.lock() else { return 0 };
        let all = std::mem::take(&mut *m);
        for h in all.values() {
            respond(&h.group, &h.event, true);
        }
        all.len()
    }

    /// Events waiting for an answer.
    pub fn held(&self) -> usize {
        self.held.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// The deadline thread: answer `FAN_ALLOW` to what waited past the deadline, with an alert and a metric
/// each, until `stop`.
pub fn run_deadline(responder: &Responder, stats: &Stats, alerts: &AlertSink, stop: &AtomicBool) {
    let tick = (responder.deadline / 10).clamp(Duration::from_millis(1), Duration::from_millis(10));
    while !stop.load(Ordering::Relaxed) {
        let wait = responder
            .next_expiry()
            .map(|t| t.saturating_duration_since(std::time::Instant::now()).min(tick))
            .unwrap_or(tick);
        std::thread::sleep(wait);
        let count = |job: &Job| {
            stats.deadline.get_or_create(&MechanismLabels { mechanism: job.kind.name().into() }).inc();
        };
        for e in responder.expire(count) {
            let because = format!("no decision within {:?} (waited {:?})", responder.deadline, e.waited);
            alerts.send(Facts {
                rule: DEADLINE,
                priority: "Error",
                because: &because,
                action: "allowed",
                pid: e.job.tid,
                path: &e.job.path,
                container: None,
            });
        }
    }
}
