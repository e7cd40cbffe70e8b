//! Events against profiles: `palisade profile test` in CI, and the alerts both it and the agent raise.
//!
//! Each event is judged by the [`ProfileDecider`] (global rules, then the workload's profile, answered by
//! its mode); each judgement that is not "allow" is a [`Finding`] and becomes an [`Alert`] in Falco's
//! shape, so profile alerts go to the same outputs as rule alerts. Events of workloads with no profile
//! are judged by the global rules only and counted apart.

use crate::event::Event;
use crate::output::Alert;
use crate::profile::decider::{Judgement, ProfileDecider};
use crate::rules::fields::{evt_time, iso_time};
use crate::verdict::{Mode, Verdict};
use serde_json::Value;
use std::collections::BTreeMap;

/// Alerts of profiles and global rules carry this `source`.
pub const SOURCE: &str = "palisade-profile";

/// One judgement of one event.
#[derive(Debug, Clone)]
pub struct Finding {
    /// 1-based line of the events file (0 when live).
    pub line: usize,
    pub event: Event,
    pub judgement: Judgement,
}

/// The alert of a judgement, in Falco's JSON shape: `Warning` in discover and monitor mode, `Critical` in
/// protect mode (where an enforcer refuses what it can; an observed event has already happened).
pub fn alert(event: &Event, j: &Judgement, hostname: &str) -> Alert {
    let priority = if j.verdict.is_deny() { "Critical" } else { "Warning" };
    let c = event.container.as_ref();
    let s = |v: Option<&str>| v.map_or(Value::Null, |v| Value::String(v.to_string()));
    let mode = match j.mode {
        Mode::Discover => "discover",
        Mode::Monitor => "monitor",
        Mode::Protect => "protect",
    };
    let cmdline = std::iter::once(event.process.comm.as_str())
        .chain(event.process.args.iter().skip(1).map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    let short: Option<String> = c.map(|c| c.id.chars().take(12).collect());
    let repo = c.and_then(|c| c.image.as_deref()).map(crate::profile::workload::repository);
    let mut fields = BTreeMap::new();
    fields.insert("container.id".into(), s(short.as_deref()));
    fields.insert("container.name".into(), s(c.and_then(|c| c.name.as_deref())));
    fields.insert("container.image.repository".into(), s(repo));
    fields.insert("k8s.ns.name".into(), s(c.and_then(|c| c.pod.as_ref()).map(|p| p.namespace.as_str())));
    fields.insert("k8s.pod.name".into(), s(c.and_then(|c| c.pod.as_ref()).map(|p| p.name.as_str())));
    fields.insert("proc.exepath".into(), s(Some(&event.process.exe)));
    fields.insert("proc.cmdline".into(), s(Some(&cmdline)));
    fields.insert("proc.pid".into(), Value::from(event.process.pid));
    fields.insert("evt.type".into(), s(Some(event.syscall())));
    fields.insert("palisade.workload".into(), s(Some(&j.workload)));
    fields.insert("palisade.mode".into(), s(Some(mode)));
    Alert {
        time: iso_time(event.time_ns),
        rule: j.violation.rule.to_string(),
        priority: priority.into(),
        output: format!(
            "{}: {priority} {} ({mode} mode; workload={} container={} cmdline={cmdline})",
            evt_time(event.time_ns),
            j.violation.reason,
            j.workload,
            short.as_deref().unwrap_or("<NA>"),
        ),
        output_fields: fields,
        tags: if j.global {
            vec!["global".into(), "palisade".into()]
        } else {
            vec!["palisade".into(), "profile".into()]
        },
        hostname: hostname.to_string(),
        source: SOURCE.into(),
    }
}

/// What a replay saw.
#[derive(Debug, Default)]
pub struct Replay {
    pub events: u64,
    pub unreadable: Vec<String>,
    /// Events of workloads that have no profile, by workload key.
    pub unprofiled: BTreeMap<String, u64>,
    pub findings: Vec<Finding>,
}

impl Replay {
    /// Judge recorded events (JSON lines); `name` heads messages about bad lines.
    pub fn run(decider: &ProfileDecider, text: impl std::io::BufRead, name: &str) -> Result<Replay, String> {
        let mut out = Replay::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.map_err(|e| format!("reading {name}: {e}"))?;
            if line.trim().is_empty() {
                continue;
            }
            let event: Event = match serde_json::from_str(&line) {
                Ok(e) => e,
                Err(e) => {
                    out.unreadable.push(format!("{name}:{}: not an event: {e}", i + 1));
                    continue;
                }
            };
            out.events += 1;
            decider.observe(&event);
            if let Some(c) = &event.container {
                let key = decider.workload_key(c);
                if !decider.has_profile(&key) {
                    *out.unprofiled.entry(key.to_string()).or_default() += 1;
                }
            }
            for j in decider.judge(&event) {
                if j.verdict != Verdict::Allow {
                    out.findings.push(Finding { line: i + 1, event: event.clone(), judgement: j });
                }
            }
        }
        Ok(out)
    }
}
