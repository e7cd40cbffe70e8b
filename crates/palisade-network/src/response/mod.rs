//! Response: alerts in, actions out.
//!
//! [`rules`] holds the response rules (condition → actions) as they come from the policy bundle.
//! [`Engine::observe`] takes one [`Trigger`] (an L7/DLP event of the inspector, or any runtime alert:
//! its rule name, priority and workload), counts it against every rule whose condition matches (per rule
//! and workload, in a sliding window), and when a rule's count is reached runs its actions through an
//! [`Executor`]. The engine knows nothing of how an action is carried out: the agent's executor sends
//! alerts to the configured outputs and calls the quarantine, capture and kill implementations;
//! [`RecordingExecutor`] records what it is asked to do, for tests and dry runs.
//!
//! Dedup: an action of one response rule for one workload runs at most once per dedup window; the
//! triggers that fired it again inside the window are counted and reported with the next alert after it.

pub mod rules;

pub use rules::{Action, CaptureSpec, ResponseRule, ResponseRules};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Rule and workload windows kept at once; beyond it, the idle ones are dropped.
const MAX_KEYS: usize = 10_000;

/// Who an action is aimed at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Target {
    pub workload: String,
    pub container_id: Option<String>,
    /// A process of the workload (its network namespace is the container's).
    pub pid: Option<u32>,
    /// The workload's address in the flow that triggered (L7 events).
    pub address: Option<String>,
}

/// One alert, reduced to what response rules look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trigger {
    pub rule: String,
    pub priority: String,
    pub message: String,
    pub target: Target,
}

/// The alert a response rule sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseAlert {
    pub response_rule: String,
    pub trigger_rule: String,
    pub priority: String,
    pub workload: String,
    pub message: String,
    /// Matching triggers counted when the rule fired.
    pub count: usize,
    /// Triggers of this rule and workload suppressed by dedup since the last alert.
    pub suppressed: u64,
    pub actions: Vec<&'static str>,
    pub target: Target,
}

/// Carries out actions.
pub trait Executor {
    fn alert(&mut self, alert: &ResponseAlert) -> Result<(), String>;
    fn capture(&mut self, target: &Target, spec: &CaptureSpec) -> Result<(), String>;
    fn quarantine(&mut self, target: &Target) -> Result<(), String>;
    fn kill(&mut self, target: &Target) -> Result<(), String>;
}

/// What the engine did about one trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Executed {
    pub response_rule: String,
    pub action: &'static str,
    pub workload: String,
    /// `ok`, `deduplicated` or the executor's error.
    pub result: String,
}

#[derive(Debug, Default)]
struct Window {
    hits: VecDeque<Instant>,
    last_fired: Option<Instant>,
    suppressed: u64,
}

/// The response engine.
#[derive(Debug)]
pub struct Engine {
    rules: ResponseRules,
    windows: HashMap<(usize, String), Window>,
}

impl Engine {
    pub fn new(rules: ResponseRules) -> Engine {
        Engine { rules, windows: HashMap::new() }
    }

    pub fn rules(&self) -> &ResponseRules {
        &self.rules
    }

    fn matches(r: &ResponseRule, t: &Trigger) -> bool {
        r.rule.as_ref().is_none_or(|g| g.is_match(&t.rule))
            && r.workload.as_ref().is_none_or(|g| g.is_match(&t.target.workload))
            && r.priority.is_none_or(|max| rules::priority_rank(&t.priority).is_some_and(|p| p <= max))
    }

    /// Count `t` against every matching rule and run the actions of those whose condition is reached.
    pub fn observe(&mut self, t: &Trigger, now: Instant, exec: &mut dyn Executor) -> Vec<Executed> {
        if self.windows.len() > MAX_KEYS {
            let keep =
                self.rules.rules.iter().map(|r| r.within).max().unwrap_or_default().max(self.rules.dedup);
            self.windows
                .retain(|_, w| w.hits.back().is_some_and(|&h| now.saturating_duration_since(h) < keep));
        }
        let mut out = Vec::new();
        for (i, r) in self.rules.rules.iter().enumerate() {
            if !Engine::matches(r, t) {
                continue;
            }
            let w = self.windows.entry((i, t.target.workload.clone())).or_default();
            w.hits.push_back(now);
            while w.hits.front().is_some_and(|&h| now.saturating_duration_since(h) > r.within)
                && w.hits.len() > 1
            {
                w.hits.pop_front();
            }
            if w.hits.len() < r.count as usize {
                continue;
            }
            let count = w.hits.len();
            w.hits.clear();
            if w.last_fired.is_some_and(|f| now.saturating_duration_since(f) < self.rules.dedup) {
                w.suppressed += 1;
                out.extend(r.actions.iter().map(|a| executed(r, *a, t, "deduplicated".into())));
                continue;
            }
            w.last_fired = Some(now);
            let suppressed = std::mem::take(&mut w.suppressed);
            for action in &r.actions {
                let result = match action {
                    Action::Alert => exec.alert(&ResponseAlert {
                        response_rule: r.name.clone(),
                        trigger_rule: t.rule.clone(),
                        priority: t.priority.clone(),
                        workload: t.target.workload.clone(),
                        message: t.message.clone(),
                        count,
                        suppressed,
                        actions: r.actions.iter().map(|a| a.name()).collect(),
                        target: t.target.clone(),
                    }),
                    Action::Capture => exec.capture(&t.target, &r.capture),
                    Action::Quarantine => exec.quarantine(&t.target),
                    Action::Kill => exec.kill(&t.target),
                };
                out.push(executed(r, *action, t, result.map(|()| "ok".to_string()).unwrap_or_else(|e| e)));
            }
        }
        out
    }

    /// The dedup window.
    pub fn dedup(&self) -> Duration {
        self.rules.dedup
    }
}

fn executed(r: &ResponseRule, a: Action, t: &Trigger, result: String) -> Executed {
    Executed { response_rule: r.name.clone(), action: a.name(), workload: t.target.workload.clone(), result }
}

/// One call an executor received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Alert(ResponseAlert),
    Capture(Target, CaptureSpec),
    Quarantine(Target),
    Kill(Target),
}

/// An executor that only records what it is asked to do (tests, `--dry-run`).
#[derive(Debug, Default)]
pub struct RecordingExecutor {
    pub calls: Vec<Call>,
}

impl Executor for RecordingExecutor {
    fn alert(&mut self, alert: &ResponseAlert) -> Result<(), String> {
        self.calls.push(Call::Alert(alert.clone()));
        Ok(())
    }
    fn capture(&mut self, target: &Target, spec: &CaptureSpec) -> Result<(), String> {
        self.calls.push(Call::Capture(target.clone(), *spec));
        Ok(())
    }
    fn quarantine(&mut self, target: &Target) -> Result<(), String> {
        self.calls.push(Call::Quarantine(target.clone()));
        Ok(())
    }
    fn kill(&mut self, target: &Target) -> Result<(), String> {
        self.calls.push(Call::Kill(target.clone()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::new(ResponseRules::parse(include_str!("../../fixtures/response/rules.yaml")).unwrap())
    }

    fn trigger(rule: &str, priority: &str, workload: &str) -> Trigger {
        Trigger {
            rule: rule.into(),
            priority: priority.into(),
            message: "m".into(),
            target: Target { workload: workload.into(), ..Target::default() },
        }
    }

    #[test]
    fn third_card_leak_in_the_window_quarantines_and_captures() {
        let (mut e, mut x, t0) = (engine(), RecordingExecutor::default(), Instant::now());
        let t = trigger("DLP card", "Critical", "shop/web");
        assert!(e.observe(&t, t0, &mut x).is_empty());
        assert!(e.observe(&t, t0 + Duration::from_secs(10), &mut x).is_empty());
        let done = e.observe(&t, t0 + Duration::from_secs(20), &mut x);
        let actions: Vec<&str> = done.iter().map(|d| d.action).collect();
        assert_eq!(actions, ["alert", "capture", "quarantine"]);
        assert!(matches!(&x.calls[0], Call::Alert(a) if a.count == 3 && a.response_rule == "card-leak"));
        assert!(matches!(&x.calls[1], Call::Capture(_, s) if s.duration == Duration::from_secs(30)));
        assert!(matches!(&x.calls[2], Call::Quarantine(t) if t.workload == "shop/web"));
    }

    #[test]
    fn hits_outside_the_window_do_not_count_and_other_workloads_are_separate() {
        let (mut e, mut x, t0) = (engine(), RecordingExecutor::default(), Instant::now());
        let t = trigger("DLP card", "Critical", "shop/web");
        e.observe(&t, t0, &mut x);
        e.observe(&t, t0 + Duration::from_secs(1), &mut x);
        e.observe(&trigger("DLP card", "Critical", "shop/api"), t0 + Duration::from_secs(2), &mut x);
        e.observe(&t, t0 + Duration::from_secs(400), &mut x);
        assert!(x.calls.is_empty());
        e.observe(&trigger("DLP card", "Critical", "billing/x"), t0, &mut x);
        e.observe(&trigger("DLP card", "Warning", "shop/web"), t0, &mut x);
        assert!(x.calls.is_empty(), "workload glob and minimum priority");
    }

    #[test]
    fn repeated_alerts_are_deduplicated_then_reported_with_the_count() {
        let (mut e, mut x, t0) = (engine(), RecordingExecutor::default(), Instant::now());
        let t = trigger("L7 HTTP request not allowed", "Warning", "shop/web");
        for s in 0..5 {
            e.observe(&t, t0 + Duration::from_secs(s), &mut x);
        }
        assert_eq!(x.calls.len(), 1);
        e.observe(&t, t0 + Duration::from_secs(61), &mut x);
        assert_eq!(x.calls.len(), 2);
        assert!(matches!(&x.calls[1], Call::Alert(a) if a.suppressed == 4));
    }

    #[test]
    fn runtime_alert_kills() {
        let (mut e, mut x) = (engine(), RecordingExecutor::default());
        let mut t = trigger("Terminal shell in container", "Notice", "shop/web");
        t.target.pid = Some(4242);
        e.observe(&t, Instant::now(), &mut x);
        assert!(matches!(&x.calls[1], Call::Kill(t) if t.pid == Some(4242)));
    }
}
