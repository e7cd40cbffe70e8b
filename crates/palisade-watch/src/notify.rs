//! Notifications of new findings: after `registry scan`, `rescan` or a `watch` cycle, the findings new since
//! the last match at or above a severity threshold are sent to every configured target:
//!
//! * a generic JSON webhook (the [`Notification`] document, `POST`ed as `application/json`);
//! * a Slack-compatible incoming webhook (`{"text": …, "blocks": […]}`, also accepted by Mattermost and
//!   Rocket.Chat);
//! * stdout (the JSON document on one line, for CI).
//!
//! Each HTTP delivery is retried on a connection error, a time-out, a 5xx or a 429 answer, with exponential
//! backoff (a 429's `Retry-After` is honoured up to the largest wait). What could not be delivered is
//! appended to a dead-letter log (JSON lines: time, target, error, attempts and the payload) so that nothing
//! is lost silently. All HTTP goes through the one shared client, [`palisade_core::http::agent`].

use palisade_core::Severity;
use palisade_store::RematchSummary;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// One finding in a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifiedFinding {
    pub vulnerability: String,
    pub purl: String,
    pub severity: String,
}

/// One image's new findings.
#[derive(Debug, Clone, Serialize)]
pub struct NotifiedImage {
    pub repository: String,
    pub digest: String,
    pub platform: String,
    pub findings: Vec<NotifiedFinding>,
}

/// The generic JSON webhook payload.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    /// Always `palisade.new_findings`.
    pub event: &'static str,
    /// What produced it: `registry scan`, `rescan` or `watch`.
    pub source: String,
    pub db_version: String,
    /// The threshold: findings below it are left out.
    pub min_severity: String,
    /// Findings in all images.
    pub total: usize,
    pub images: Vec<NotifiedImage>,
}

impl Notification {
    /// The new findings of `summary` at or above `min`; `None` when there are none.
    pub fn from_summary(summary: &RematchSummary, min: Severity, source: &str) -> Option<Notification> {
        let mut images = Vec::new();
        for c in &summary.changed {
            let findings: Vec<NotifiedFinding> = c
                .new
                .iter()
                .filter(|(_, _, sev)| sev.parse::<Severity>().unwrap_or(Severity::Unknown) >= min)
                .map(|(id, purl, sev)| NotifiedFinding {
                    vulnerability: id.clone(),
                    purl: purl.clone(),
                    severity: sev.clone(),
                })
                .collect();
            if !findings.is_empty() {
                images.push(NotifiedImage {
                    repository: c.repository.clone(),
                    digest: c.digest.clone(),
                    platform: c.platform.clone(),
                    findings,
                });
            }
        }
        if images.is_empty() {
            return None;
        }
        let total = images.iter().map(|i| i.findings.len()).sum();
        Some(Notification {
            event: "palisade.new_findings",
            source: source.to_string(),
            db_version: summary.db_version.clone(),
            min_severity: min.as_str().to_string(),
            total,
            images,
        })
    }

    /// One line for people: how many findings in how many images.
    pub fn headline(&self) -> String {
        format!(
            "Palisade: {} new finding{} at {} or above in {} image{} (DB {}, {})",
            self.total,
            if self.total == 1 { "" } else { "s" },
            self.min_severity,
            self.images.len(),
            if self.images.len() == 1 { "" } else { "s" },
            self.db_version,
            self.source
        )
    }

    /// The Slack incoming-webhook payload: a headline and one line per image (the first 20; Slack caps a
    /// section's text at 3,000 characters).
    pub fn slack(&self) -> serde_json::Value {
        let mut lines = Vec::new();
        for i in self.images.iter().take(20) {
            let mut ids: Vec<String> =
                i.findings.iter().map(|f| format!("{} ({})", f.vulnerability, f.severity)).collect();
            ids.dedup();
            let more = ids.len().saturating_sub(5);
            ids.truncate(5);
            let mut line = format!("• `{}@{}` {}", i.repository, short(&i.digest), ids.join(", "));
            if more > 0 {
                line.push_str(&format!(" and {more} more"));
            }
            lines.push(line);
        }
        if self.images.len() > 20 {
            lines.push(format!("… and {} more images", self.images.len() - 20));
        }
        let mut body = lines.join("\n");
        if body.len() > 2900 {
            let mut cut = 2900;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            body.push('…');
        }
        serde_json::json!({
            "text": self.headline(),
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", self.headline())}},
                {"type": "section", "text": {"type": "mrkdwn", "text": body}},
            ]
        })
    }
}

fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

/// Where notifications go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The [`Notification`] JSON `POST`ed to a URL.
    Json(String),
    /// A Slack-compatible incoming webhook.
    Slack(String),
    /// One JSON line on stdout.
    Stdout,
}

impl Target {
    /// The target as named in messages and the dead-letter log: a webhook URL's path often is its secret
    /// (Slack), so only the scheme and host are shown.
    pub fn describe(&self) -> String {
        match self {
            Target::Json(u) => format!("webhook {}", redact(u)),
            Target::Slack(u) => format!("slack {}", redact(u)),
            Target::Stdout => "stdout".into(),
        }
    }
}

/// `scheme://host[:port]/…` with the path, query and any credentials removed.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return "<invalid URL>".into() };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let tail = if rest.len() > authority.len() { "/…" } else { "" };
    format!("{scheme}://{host}{tail}")
}

/// Delivery settings.
#[derive(Debug, Clone)]
pub struct Notifier {
    pub targets: Vec<Target>,
    pub min_severity: Severity,
    /// Attempts per HTTP target (1 = no retry).
    pub attempts: u32,
    /// First retry delay, doubled after each failed attempt.
    pub backoff: Duration,
    /// The longest wait between two attempts (also caps a 429's `Retry-After`).
    pub max_wait: Duration,
    /// Per request.
    pub timeout: Duration,
    /// JSON lines of what could not be delivered.
    pub dead_letter: PathBuf,
}

/// Why a notifier cannot be made.
#[derive(Debug, thiserror::Error)]
#[error("{flag} {value:?}: {reason}")]
pub struct NotifyConfigError {
    pub flag: &'static str,
    pub value: String,
    pub reason: String,
}

impl Notifier {
    /// A notifier with the default retry settings (4 attempts, 1 s backoff doubling to at most 30 s, 10 s
    /// per request). URLs must be `http://` or `https://`.
    pub fn new(
        json: &[String],
        slack: &[String],
        stdout: bool,
        min_severity: Severity,
        dead_letter: PathBuf,
    ) -> Result<Notifier, NotifyConfigError> {
        let mut targets = Vec::new();
        for (flag, urls, make) in [
            ("--notify", json, Target::Json as fn(String) -> Target),
            ("--notify-slack", slack, Target::Slack as fn(String) -> Target),
        ] {
            for u in urls {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(NotifyConfigError {
                        flag,
                        value: u.clone(),
                        reason: "expected an http:// or https:// URL".into(),
                    });
                }
                targets.push(make(u.clone()));
            }
        }
        if stdout {
            targets.push(Target::Stdout);
        }
        Ok(Notifier {
            targets,
            min_severity,
            attempts: 4,
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            dead_letter,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Send what `summary` has that is new and at or above the threshold to every target. Returns what
    /// happened per target (empty when there was nothing to send).
    pub fn notify(&self, summary: &RematchSummary, source: &str) -> Vec<Delivery> {
        if self.targets.is_empty() {
            return Vec::new();
        }
        match Notification::from_summary(summary, self.min_severity, source) {
            Some(n) => self.send(&n),
            None => Vec::new(),
        }
    }

    /// Send one notification to every target.
    pub fn send(&self, n: &Notification) -> Vec<Delivery> {
        let agent = palisade_core::http::agent(self.timeout);
        let mut out = Vec::new();
        for t in &self.targets {
            let (url, payload) = match t {
                Target::Json(u) => (u, serde_json::to_value(n).unwrap_or_default()),
                Target::Slack(u) => (u, n.slack()),
                Target::Stdout => {
                    let line = serde_json::to_string(n).unwrap_or_default();
                    let mut stdout = std::io::stdout().lock();
                    let ok = writeln!(stdout, "{line}").and_then(|_| stdout.flush());
                    out.push(Delivery {
                        target: t.describe(),
                        attempts: 1,
                        error: ok.err().map(|e| format!("writing to stdout: {e}")),
                    });
                    continue;
                }
            };
            let body = payload.to_string();
            let (attempts, error) = self.post(&agent, url, &body);
            if let Some(e) = &error {
                self.dead_letter(t, e, attempts, &payload);
            }
            out.push(Delivery { target: t.describe(), attempts, error });
        }
        out
    }

    /// POST with retries; (attempts made, the last error when never delivered).
    fn post(&self, agent: &ureq::Agent, url: &str, body: &str) -> (u32, Option<String>) {
        let attempts = self.attempts.max(1);
        let mut delay = self.backoff;
        let mut last = String::new();
        for attempt in 1..=attempts {
            let mut wait = delay;
            let retry = match agent.post(url).header("Content-Type", "application/json").send(body) {
                Ok(resp) => {
                    let code = resp.status().as_u16();
                    if (200..300).contains(&code) {
                        return (attempt, None);
                    }
                    last = format!("HTTP {code}");
                    if code == 429
                        && let Some(after) = resp
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(palisade_core::http::retry_after)
                    {
                        wait = after;
                    }
                    code >= 500 || code == 429 || code == 408
                }
                Err(e) => {
                    last = e.to_string();
                    true
                }
            };
            if !retry {
                return (attempt, Some(format!("{last} (not retried)")));
            }
            if attempt < attempts {
                std::thread::sleep(wait.min(self.max_wait));
                delay = delay.saturating_mul(2).min(self.max_wait);
            }
        }
        (attempts, Some(last))
    }

    fn dead_letter(&self, target: &Target, error: &str, attempts: u32, payload: &serde_json::Value) {
        let line = serde_json::json!({
            "time": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "target": target.describe(),
            "error": error,
            "attempts": attempts,
            "payload": payload,
        });
        let write = || -> std::io::Result<()> {
            let _log = LOG.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(dir) = self.dead_letter.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.dead_letter)?;
            // One write per line: concurrent writers (watch replicas on a shared volume) do not interleave.
            f.write_all(format!("{line}\n").as_bytes())
        };
        if let Err(e) = write() {
            tracing::error!(
                file = %self.dead_letter.display(),
                error = %e,
                "cannot write the dead-letter log; the undelivered notification is lost"
            );
        }
    }
}

/// What [`Notifier::redeliver`] did with a dead-letter log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redelivery {
    /// Entries delivered now (removed from the log).
    pub delivered: usize,
    /// Entries that failed again, or whose target is not configured here (kept in the log).
    pub kept: usize,
    /// Lines that are not dead-letter entries (kept as they are, and named in `errors`).
    pub unreadable: usize,
    /// Why entries were kept.
    pub errors: Vec<String>,
}

impl Notifier {
    /// Send the entries of the dead-letter log again, each to the configured target it was meant for
    /// (matched by the redacted name the log keeps, since it never holds a webhook's secret path), and
    /// rewrite the log with what is still undelivered (removed when nothing is). A missing log is
    /// nothing to do. The log is replaced by a rename, so a crash mid-way keeps every entry.
    /// Entries appended while this runs (by a re-match of the same process) are kept.
    pub fn redeliver(&self) -> std::io::Result<Redelivery> {
        let read = |path: &std::path::Path| match std::fs::read_to_string(path) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(e),
        };
        let text = {
            let _log = LOG.lock().unwrap_or_else(|p| p.into_inner());
            read(&self.dead_letter)?
        };
        if text.is_empty() {
            return Ok(Redelivery::default());
        }
        let agent = palisade_core::http::agent(self.timeout);
        let mut out = Redelivery::default();
        let mut keep = String::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let entry: Option<(String, serde_json::Value)> = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| Some((v.get("target")?.as_str()?.to_string(), v.get("payload")?.clone())));
            let Some((target, payload)) = entry else {
                out.unreadable += 1;
                out.errors.push(format!("{}:{}: not a dead-letter entry", self.dead_letter.display(), n + 1));
                keep.push_str(line);
                keep.push('\n');
                continue;
            };
            let url = self.targets.iter().find_map(|t| match t {
                Target::Json(u) | Target::Slack(u) if t.describe() == target => Some(u),
                _ => None,
            });
            let error = match url {
                None => Some(format!("{target}: not among the configured targets")),
                Some(url) => self.post(&agent, url, &payload.to_string()).1.map(|e| format!("{target}: {e}")),
            };
            match error {
                None => out.delivered += 1,
                Some(e) => {
                    out.kept += 1;
                    out.errors.push(e);
                    keep.push_str(line);
                    keep.push('\n');
                }
            }
        }
        if out.delivered == 0 {
            return Ok(out);
        }
        let _log = LOG.lock().unwrap_or_else(|p| p.into_inner());
        let now = read(&self.dead_letter)?;
        keep.push_str(now.strip_prefix(text.as_str()).unwrap_or(""));
        if keep.is_empty() {
            std::fs::remove_file(&self.dead_letter)?;
        } else {
            let tmp = self.dead_letter.with_extension("jsonl.tmp");
            std::fs::write(&tmp, keep)?;
            std::fs::rename(&tmp, &self.dead_letter)?;
        }
        Ok(out)
    }
}

/// Serialises this process's appends to dead-letter logs with [`Notifier::redeliver`]'s rewrite.
static LOG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What happened to one target.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub target: String,
    pub attempts: u32,
    /// `None`: delivered.
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_store::ImageChange;

    fn summary() -> RematchSummary {
        RematchSummary {
            db_version: "2026-12-06".into(),
            changed: vec![
                ImageChange {
                    digest: "sha256:aaaa".into(),
                    platform: "linux/amd64".into(),
                    repository: "r:5000/app".into(),
                    first_match: false,
                    new: vec![
                        ("CVE-1".into(), "pkg:deb/debian/a@1".into(), "critical".into()),
                        ("CVE-2".into(), "pkg:deb/debian/b@1".into(), "low".into()),
                    ],
                    fixed: vec![],
                    unchanged: 3,
                },
                ImageChange {
                    digest: "sha256:bbbb".into(),
                    platform: "linux/amd64".into(),
                    repository: "r:5000/lib".into(),
                    first_match: false,
                    new: vec![("CVE-3".into(), "pkg:npm/x@1".into(), "medium".into())],
                    fixed: vec![],
                    unchanged: 0,
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn threshold_filters_findings_and_images() {
        let n = Notification::from_summary(&summary(), Severity::High, "rescan").expect("one finding");
        assert_eq!(n.total, 1);
        assert_eq!(n.images.len(), 1);
        assert_eq!(n.images[0].findings[0].vulnerability, "CVE-1");
        let n = Notification::from_summary(&summary(), Severity::Low, "rescan").expect("three");
        assert_eq!(n.total, 3);
        assert!(Notification::from_summary(&RematchSummary::default(), Severity::Low, "x").is_none());
    }

    #[test]
    fn slack_payload_has_text_and_blocks() {
        let n = Notification::from_summary(&summary(), Severity::Medium, "rescan").expect("some");
        let s = n.slack();
        assert!(s["text"].as_str().is_some_and(|t| t.contains("2 new findings")), "{s}");
        assert!(s["blocks"][1]["text"]["text"].as_str().is_some_and(|t| t.contains("CVE-3 (medium)")));
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact("https://hooks.slack.com/services/T0/B0/secret"), "https://hooks.slack.com/…");
        assert_eq!(redact("http://u:p@h:8080"), "http://h:8080");
        assert_eq!(redact("nonsense"), "<invalid URL>");
    }

    /// A receiver on a free port answering each request with the next status of `statuses`, recording the
    /// bodies it got.
    fn receiver(statuses: Vec<u16>) -> (String, std::sync::mpsc::Receiver<String>) {
        use std::io::{BufRead, BufReader, Read};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook/secret", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for status in statuses {
                let Ok((stream, _)) = listener.accept() else { return };
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = tx.send(String::from_utf8_lossy(&body).into_owned());
                let _ = reader
                    .get_mut()
                    .write_all(format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n").as_bytes());
            }
        });
        (url, rx)
    }

    #[test]
    fn dead_letters_are_redelivered_and_only_the_undelivered_kept() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("dead.jsonl");
        // Two notifications fail (the receiver answers 400, not retried) and land in the log.
        let (url, bodies) = receiver(vec![400, 400, 200, 400]);
        let mut n = Notifier::new(&[url], &[], false, Severity::Low, log.clone()).unwrap();
        n.attempts = 1;
        let first = Notification::from_summary(&summary(), Severity::Low, "rescan").unwrap();
        let second = Notification::from_summary(&summary(), Severity::High, "rescan").unwrap();
        assert!(n.send(&first)[0].error.is_some());
        assert!(n.send(&second)[0].error.is_some());
        std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(b"garbage\n").unwrap();
        let logged = std::fs::read_to_string(&log).unwrap();
        assert!(!logged.contains("secret"), "the log must not keep the webhook's path: {logged}");
        // The first is delivered now, the second fails again; the garbage line stays, named.
        let r = n.redeliver().unwrap();
        assert_eq!((r.delivered, r.kept, r.unreadable), (1, 1, 1), "{r:?}");
        assert!(r.errors.iter().any(|e| e.ends_with("dead.jsonl:3: not a dead-letter entry")), "{r:?}");
        let got: Vec<String> = bodies.try_iter().collect();
        assert_eq!(got.len(), 4);
        assert_eq!(got[2], got[0], "the payload is sent again as it was");
        let left = std::fs::read_to_string(&log).unwrap();
        assert_eq!(left.lines().count(), 2);
        assert!(left.contains("\"total\":1") && left.contains("garbage"), "{left}");
        // A notifier without that target keeps everything.
        let other =
            Notifier::new(&["http://elsewhere:1/x".into()], &[], false, Severity::Low, log.clone()).unwrap();
        let r = other.redeliver().unwrap();
        assert_eq!((r.delivered, r.kept), (0, 1));
        assert!(r.errors.iter().any(|e| e.contains("not among the configured targets")), "{r:?}");
        assert_eq!(std::fs::read_to_string(&log).unwrap(), left);
        // Nothing to do without a log.
        std::fs::remove_file(&log).unwrap();
        assert_eq!(n.redeliver().unwrap(), Redelivery::default());
    }

    #[test]
    fn bad_urls_are_refused() {
        let e = Notifier::new(&["ftp://x".into()], &[], false, Severity::High, "d".into()).unwrap_err();
        assert!(e.to_string().starts_with("--notify \"ftp://x\""), "{e}");
    }
}
