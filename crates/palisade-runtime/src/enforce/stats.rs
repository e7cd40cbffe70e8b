//! Enforcement's counters, exported on the agent's `/metrics` under `palisade_runtime_enforce_*`.

use crate::enforce::responder::{Job, Kind};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabels {
    /// `exec`, `open`, or `exec-after` (an exec judged after it ran: it escaped the pre-exec block).
    pub mechanism: String,
    /// `allow`, `alert` or `deny`.
    pub verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MechanismLabels {
    pub mechanism: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExemptLabels {
    pub mechanism: String,
    /// `agent`, `agent-binary`, `critical`, `host`.
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChosenLabels {
    /// `exec-block`, `open-deny`, `kill`.
    pub need: String,
    /// `fanotify`, `kill-after-exec`, `none`, `bpf_send_signal`, `kill`.
    pub mechanism: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AvailableLabels {
    /// `fanotify`, `bpf_send_signal`, `bpf_lsm`, `kprobe`, `bpf_override_return`.
    pub facility: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DriftLabels {
    /// `image` (from the image's layers), `drift` (not), `unknown` (cannot be told: not judged).
    pub origin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KillLabels {
    /// `bpf_send_signal` (in the kernel, at exec) or `kill` (from user space).
    pub how: String,
}

/// Cheap to clone (the families are shared).
#[derive(Clone, Default)]
pub struct Stats {
    pub verdicts: Family<VerdictLabels, Counter>,
    pub deadline: Family<MechanismLabels, Counter>,
    pub queue_full: Family<MechanismLabels, Counter>,
    pub late: Family<MechanismLabels, Counter>,
    pub exempt: Family<ExemptLabels, Counter>,
    pub chosen: Family<ChosenLabels, Gauge>,
    pub available: Family<AvailableLabels, Gauge>,
    pub kills: Family<KillLabels, Counter>,
    pub drift: Family<DriftLabels, Counter>,
    pub overflow: Counter,
    pub marked: Counter,
    pub mark_errors: Counter,
}

impl Stats {
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("enforce");
        r.register("verdicts", "Enforcement decisions, by mechanism and verdict", self.verdicts.clone());
        r.register(
            "deadline_exceeded",
            "Permission events allowed because no decision came within the deadline",
            self.deadline.clone(),
        );
        r.register(
            "queue_full",
            "Permission events allowed at once because the deciders' queue was full",
            self.queue_full.clone(),
        );
        r.register("late_verdicts", "Decisions that came after the deadline (ignored)", self.late.clone());
        r.register("exempt", "Permission events allowed without asking, by reason", self.exempt.clone());
        r.register("mechanism", "The mechanism in use for each need (1)", self.chosen.clone());
        r.register(
            "available",
            "What the start-up probe found working (1) or not (0)",
            self.available.clone(),
        );
        r.register("kills", "Processes killed on a violation, by how", self.kills.clone());
        r.register(
            "drift_checks",
            "Executables checked for zero drift before they ran, by origin",
            self.drift.clone(),
        );
        r.register("overflow", "fanotify queue overflow notices", self.overflow.clone());
        r.register("containers_marked", "Containers whose mounts were marked", self.marked.clone());
        r.register("mark_errors", "Mounts that could not be marked", self.mark_errors.clone());
    }

    pub fn exempt(&self, kind: Kind, reason: &str) {
        self.exempt
            .get_or_create(&ExemptLabels { mechanism: kind.name().into(), reason: reason.into() })
            .inc();
    }

    pub fn queue_full(&self, job: &Job) {
        self.queue_full.get_or_create(&MechanismLabels { mechanism: job.kind.name().into() }).inc();
    }

    /// One zero-drift check: `image`, `drift` or `unknown`.
    pub fn drift_check(&self, origin: &str) {
        self.drift.get_or_create(&DriftLabels { origin: origin.into() }).inc();
    }

    pub fn verdict(&self, mechanism: &str, verdict: &str) {
        self.verdicts
            .get_or_create(&VerdictLabels { mechanism: mechanism.into(), verdict: verdict.into() })
            .inc();
    }
}
