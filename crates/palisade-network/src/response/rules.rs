//! Response rules as code: a YAML document of kind `ResponseRules`, carried in the policy bundle (any
//! file of the bundle with that kind) or given as a file.
//!
//! ```yaml
//! apiVersion: palisade.dev/v1
//! kind: ResponseRules
//! dedup: 60s                          # identical alerts within this window are sent once
//! rules:
//!   - name: card-leak
//!     when:
//!       rule: "DLP card"              # alert rule name; glob (`DLP *`, `L7 *`, a Falco rule name)
//!       priority: critical            # at least this severe (Falco priority names)
//!       workload: "shop/*"            # glob on the workload name
//!       count: 3                      # this many matching alerts …
//!       within: 5m                    # … within this window (per workload)
//!     actions: [alert, capture, quarantine]   # alert | capture | quarantine | kill
//!     capture: { duration: 30s, max_bytes: 10485760 }
//! ```
//!
//! Every condition is optional (`count` defaults to 1). Durations are `<n>ms`, `<n>s`, `<n>m` or `<n>h`.

use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use std::time::Duration;

pub const KIND: &str = "ResponseRules";

/// What a rule does when its condition holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Send a response alert to the outputs (webhook, Slack, syslog, stdout).
    Alert,
    /// Start a bounded packet capture of the workload.
    Capture,
    /// Cut all of the workload's traffic (it keeps running).
    Quarantine,
    /// Kill the workload's process or container.
    Kill,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Alert => "alert",
            Action::Capture => "capture",
            Action::Quarantine => "quarantine",
            Action::Kill => "kill",
        }
    }
}

/// Falco priorities, most severe first.
pub const PRIORITIES: [&str; 8] =
    ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"];

/// Rank of a priority name (0 = emergency); `info` is `informational`.
pub fn priority_rank(name: &str) -> Option<usize> {
    let n = name.to_ascii_lowercase();
    let n = if n == "info" { "informational".to_string() } else { n };
    PRIORITIES.iter().position(|p| *p == n)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "apiVersion")]
    _api_version: Option<String>,
    kind: String,
    dedup: Option<String>,
    rules: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    #[serde(default)]
    when: WhenSpec,
    actions: Vec<Action>,
    capture: Option<CaptureSpecRaw>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WhenSpec {
    rule: Option<String>,
    priority: Option<String>,
    workload: Option<String>,
    count: Option<u32>,
    within: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaptureSpecRaw {
    duration: Option<String>,
    max_bytes: Option<u64>,
}

/// Bounds of a triggered packet capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSpec {
    pub duration: Duration,
    pub max_bytes: u64,
}

impl Default for CaptureSpec {
    fn default() -> Self {
        CaptureSpec { duration: Duration::from_secs(60), max_bytes: 64 * 1024 * 1024 }
    }
}

/// One compiled response rule.
#[derive(Debug, Clone)]
pub struct ResponseRule {
    pub name: String,
    pub rule: Option<GlobMatcher>,
    /// Rank of the least severe priority that matches.
    pub priority: Option<usize>,
    pub workload: Option<GlobMatcher>,
    pub count: u32,
    pub within: Duration,
    pub actions: Vec<Action>,
    pub capture: CaptureSpec,
}

/// A set of response rules.
#[derive(Debug, Clone, Default)]
pub struct ResponseRules {
    pub dedup: Duration,
    pub rules: Vec<ResponseRule>,
}

/// Whether a YAML text is a response rules document (a top-level `kind: ResponseRules` line).
pub fn is_response_file(text: &str) -> bool {
    text.lines().any(|l| l.trim_end() == format!("kind: {KIND}"))
}

/// `30s`, `5m`, `250ms`, `1h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("duration {s:?}: expected <number><ms|s|m|h>"))?;
    let ms = match unit {
        "ms" => n,
        "s" | "" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        _ => return Err(format!("duration {s:?}: unit must be ms, s, m or h")),
    };
    Ok(Duration::from_millis(ms))
}

fn glob(field: &str, pattern: Option<String>) -> Result<Option<GlobMatcher>, String> {
    pattern
        .map(|p| Glob::new(&p).map(|g| g.compile_matcher()).map_err(|e| format!("{field}: {p:?}: {e}")))
        .transpose()
}

impl ResponseRules {
    /// Parse one document; errors name the rule (and the line, for YAML errors). The caller adds the
    /// file name.
    pub fn parse(text: &str) -> Result<ResponseRules, String> {
        let file: File = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        if file.kind != KIND {
            return Err(format!("kind is {:?}, expected {KIND}", file.kind));
        }
        let dedup = file.dedup.as_deref().map(parse_duration).transpose()?.unwrap_or(Duration::from_secs(60));
        let mut rules = Vec::new();
        for (i, r) in file.rules.into_iter().enumerate() {
            let at = format!("rules[{i}] ({})", r.name);
            rules.push(compile(r).map_err(|e| format!("{at}: {e}"))?);
        }
        Ok(ResponseRules { dedup, rules })
    }

    /// Read a file.
    pub fn load(path: &std::path::Path) -> Result<ResponseRules, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        ResponseRules::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Rules of several documents in order; the shortest dedup window wins.
    pub fn merge(sets: Vec<ResponseRules>) -> ResponseRules {
        let mut out = ResponseRules { dedup: Duration::MAX, rules: Vec::new() };
        for s in sets {
            out.dedup = out.dedup.min(s.dedup);
            out.rules.extend(s.rules);
        }
        if out.dedup == Duration::MAX {
            out.dedup = Duration::from_secs(60);
        }
        out
    }
}

fn compile(r: RuleSpec) -> Result<ResponseRule, String> {
    if r.actions.is_empty() {
        return Err("actions: at least one of alert, capture, quarantine, kill".into());
    }
    let priority = match r.when.priority.as_deref() {
        Some(p) => Some(priority_rank(p).ok_or_else(|| format!("when.priority: unknown priority {p:?}"))?),
        None => None,
    };
    let count = r.when.count.unwrap_or(1);
    if count == 0 {
        return Err("when.count: must be at least 1".into());
    }
    let within =
        r.when.within.as_deref().map(parse_duration).transpose().map_err(|e| format!("when.within: {e}"))?;
    if count > 1 && within.is_none() {
        return Err("when.count above 1 needs when.within".into());
    }
    let mut capture = CaptureSpec::default();
    if let Some(c) = r.capture {
        if let Some(d) = c.duration {
            capture.duration = parse_duration(&d).map_err(|e| format!("capture.duration: {e}"))?;
        }
        if let Some(b) = c.max_bytes {
            capture.max_bytes = b;
        }
    }
    let mut actions = r.actions;
    actions.sort();
    actions.dedup();
    Ok(ResponseRule {
        name: r.name,
        rule: glob("when.rule", r.when.rule)?,
        priority,
        workload: glob("when.workload", r.when.workload)?,
        count,
        within: within.unwrap_or(Duration::ZERO),
        actions,
        capture,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_compiles() {
        let r = ResponseRules::parse(include_str!("../../fixtures/response/rules.yaml")).unwrap();
        assert_eq!(r.dedup, Duration::from_secs(60));
        assert_eq!(r.rules.len(), 3);
        assert_eq!(r.rules[0].actions, [Action::Alert, Action::Capture, Action::Quarantine]);
        assert_eq!(r.rules[0].within, Duration::from_secs(300));
        assert_eq!(r.rules[0].capture.duration, Duration::from_secs(30));
        assert!(is_response_file(include_str!("../../fixtures/response/rules.yaml")));
    }

    #[test]
    fn errors_name_the_rule() {
        let base = "kind: ResponseRules\nrules:\n  - name: r\n";
        let e = ResponseRules::parse(&format!("{base}    actions: [reboot]\n")).unwrap_err();
        assert!(e.contains("reboot") && e.contains("line"), "{e}");
        let e = ResponseRules::parse(&format!("{base}    when: {{ count: 3 }}\n    actions: [kill]\n"))
            .unwrap_err();
        assert!(e.contains("rules[0] (r)") && e.contains("within"), "{e}");
        let e = ResponseRules::parse(&format!("{base}    when: {{ priority: loud }}\n    actions: [kill]\n"))
            .unwrap_err();
        assert!(e.contains("loud"), "{e}");
        assert!(ResponseRules::parse("kind: Other\nrules: []\n").is_err());
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("5 parsecs").is_err());
    }
}
