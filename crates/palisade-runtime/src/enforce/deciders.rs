//! The decider threads: take a [`Job`] from the bounded queue, leave exempt and host processes alone,
//! attribute the thread to its container, ask the [`Decider`] (for an exec the decider did not refuse,
//! also where the executable comes from when zero drift applies: [`crate::enforce::drift`]), answer through the
//! [`Responder`], count and alert.

use crate::attribution::Attributor;
use crate::enforce::alert::{self, AlertSink, Facts};
use crate::enforce::drift::{Layers, Origin};
use crate::enforce::exempt::Exempt;
use crate::enforce::open::write_intent;
use crate::enforce::responder::{Answered, Job, Kind, Responder};
use crate::enforce::stats::{MechanismLabels, Stats};
use crate::verdict::{Access, Decider, Request, Verdict};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Shared {
    pub responder: Arc<Responder>,
    pub decider: Arc<dyn Decider>,
    pub stats: Arc<Stats>,
    pub alerts: Arc<AlertSink>,
    pub runtime_roots: Vec<PathBuf>,
}

pub fn run(jobs: Arc<Mutex<Receiver<Job>>>, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    let mut attributor = Attributor::new(&shared.runtime_roots);
    let exempt = Exempt::new();
    let mut layers = Layers::default();
    loop {
        let next = match jobs.lock() {
            Ok(rx) => rx.recv_timeout(Duration::from_millis(100)),
            Err(_) => return,
        };
        match next {
            Ok(job) => handle(&job, &shared, &exempt, &mut attributor, &mut layers),
            Err(RecvTimeoutError::Timeout) if !stop.load(Ordering::Relaxed) => {}
            Err(_) => return,
        }
    }
}

fn handle(job: &Job, shared: &Shared, exempt: &Exempt, attributor: &mut Attributor, layers: &mut Layers) {
    let stats = &shared.stats;
    if let Some(reason) = exempt.why(job.tid) {
        shared.responder.answer(job.seq, true);
        stats.exempt(job.kind, reason);
        return;
    }
    let Some(container) = attributor.attribute(job.tid, 0, job.kind == Kind::Exec) else {
        shared.responder.answer(job.seq, true);
        stats.exempt(job.kind, "host");
        return;
    };
    let access = match job.kind {
        Kind::Exec => Access::Exec { path: &job.path },
        Kind::Open => Access::Open { path: &job.path, write: write_intent(job.tid).unwrap_or(true) },
    };
    // `pid` is the thread that waits (fanotify reports thread ids here): `/proc/TID` reads the same
    // process, and a signal to it reaches the whole thread group
    let request = Request { pid: job.tid, container: Some(&container), access };
    let mut verdict = shared.decider.decide(&request);
    if job.kind == Kind::Exec && !verdict.is_deny() && shared.decider.checks_drift(&container) {
        match layers.origin(&container.id, job.tid, &job.path, job.file.as_ref()) {
            Origin::Drift(reason) => {
                stats.drift_check("drift");
                verdict = verdict.or(shared.decider.drift(&request, &reason));
            }
            Origin::Unknown(why) => {
                stats.drift_check("unknown");
                tracing::debug!("zero drift: {} in {}: not judged: {why}", job.path, container.id);
            }
            Origin::Image { .. } => stats.drift_check("image"),
        }
    }
    if shared.responder.answer(job.seq, !verdict.is_deny()) == Answered::Late {
        stats.late.get_or_create(&MechanismLabels { mechanism: job.kind.name().into() }).inc();
        return;
    }
    let (name, rule) = match &verdict {
        Verdict::Allow => ("allow", None),
        Verdict::Alert { rule, .. } => ("alert", Some((alert::MONITORED, "Notice", "allowed", rule))),
        Verdict::Deny { rule, .. } => {
            let r = if job.kind == Kind::Exec { alert::EXEC_DENIED } else { alert::OPEN_DENIED };
            ("deny", Some((r, "Warning", "denied", rule)))
        }
    };
    stats.verdict(job.kind.name(), name);
    if let Some((rule_name, priority, action, because)) = rule {
        let what = match access {
            Access::Open { write: true, .. } => format!("{action} (write open)"),
            Access::Open { write: false, .. } => format!("{action} (read open)"),
            _ => format!("{action} (exec)"),
        };
        shared.alerts.send(Facts {
            rule: rule_name,
            priority,
            because,
            action: &what,
            pid: job.tid,
            path: &job.path,
            container: Some(&container),
        });
    }
}
