//! `--notify*` options shared by `registry scan`, `rescan` and `watch`: where notifications of new findings
//! go (`palisade_watch::notify`).

use super::GlobalOpts;
use anyhow::{Context, Result};
use clap::Args;
use palisade_core::Severity;
use palisade_store::RematchSummary;
use palisade_watch::Notifier;
use std::path::PathBuf;

#[derive(Args, Debug, Clone, Default)]
pub struct NotifyOpts {
    /// POST new findings at or above --notify-min-severity as JSON to this URL (repeatable).
    #[arg(long = "notify", value_name = "URL")]
    pub notify: Vec<String>,
    /// Send new findings to a Slack-compatible incoming webhook (repeatable).
    #[arg(long = "notify-slack", value_name = "URL")]
    pub notify_slack: Vec<String>,
    /// Print the notification (one JSON line) on stdout, for CI.
    #[arg(long)]
    pub notify_stdout: bool,
    /// Only findings at or above this severity are notified.
    #[arg(long, value_name = "SEVERITY", default_value = "high")]
    pub notify_min_severity: Severity,
    /// Attempts per webhook delivery (backoff 1 s, doubling, at most 30 s between attempts).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub notify_attempts: u32,
    /// Seconds one webhook request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub notify_timeout: u64,
    /// Where undelivered notifications are appended (JSON lines) [default: <cache
    /// dir>/notify/dead-letter.jsonl].
    #[arg(long, value_name = "FILE")]
    pub notify_dead_letter: Option<PathBuf>,
}

impl NotifyOpts {
    pub fn notifier(&self, global: &GlobalOpts) -> Result<Notifier> {
        let dead_letter = self.notify_dead_letter.clone().unwrap_or_else(|| {
            global
                .cache_dir
                .clone()
                .unwrap_or_else(palisade_core::default_cache_dir)
                .join("notify")
                .join("dead-letter.jsonl")
        });
        let mut n = Notifier::new(
            &self.notify,
            &self.notify_slack,
            self.notify_stdout,
            self.notify_min_severity,
            dead_letter,
        )?;
        n.attempts = self.notify_attempts;
        n.timeout = std::time::Duration::from_secs(self.notify_timeout);
        Ok(n)
    }
}

/// Send what is new in `summary`; each undelivered target is an `error:` line naming the dead-letter log.
/// Returns whether every target got it.
pub fn send(notifier: &Notifier, summary: &RematchSummary, source: &str, quiet: bool) -> bool {
    let mut ok = true;
    for d in notifier.notify(summary, source) {
        match &d.error {
            None if !quiet && d.target != "stdout" => {
                eprintln!(
                    "notified {} ({} attempt{})",
                    d.target,
                    d.attempts,
                    if d.attempts == 1 { "" } else { "s" }
                )
            }
            None => {}
            Some(e) => {
                ok = false;
                eprintln!(
                    "error: notification to {} not delivered after {} attempt{}: {e}; kept in {}",
                    d.target,
                    d.attempts,
                    if d.attempts == 1 { "" } else { "s" },
                    notifier.dead_letter.display()
                );
            }
        }
    }
    ok
}

/// `registry redeliver`: the dead-letter log sent again; exit 2 while anything is left in it.
pub fn redeliver(opts: &NotifyOpts, global: &GlobalOpts) -> Result<std::process::ExitCode> {
    let notifier = opts.notifier(global)?;
    if notifier.targets.iter().all(|t| matches!(t, palisade_watch::Target::Stdout)) {
        anyhow::bail!("give the targets to send to again: --notify URL and/or --notify-slack URL");
    }
    let log = notifier.dead_letter.display().to_string();
    let r = notifier.redeliver().with_context(|| format!("dead-letter log {log}"))?;
    for e in &r.errors {
        eprintln!("error: {e}");
    }
    if !global.quiet {
        eprintln!("{log}: {} delivered, {} kept, {} unreadable", r.delivered, r.kept, r.unreadable);
    }
    Ok(if r.kept + r.unreadable == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(2)
    })
}

/// `watch`: the dead-letter log sent again after each poll; one line per outcome worth saying.
/// One attempt per entry, so an unreachable target does not hold the poll up.
pub fn redeliver_quietly(notifier: &Notifier) -> Option<String> {
    let once = Notifier { attempts: 1, ..notifier.clone() };
    match once.redeliver() {
        Ok(r) if r.delivered == 0 => None,
        Ok(r) => Some(format!(
            "re-sent {} notification(s) from the dead-letter log, {} still undelivered",
            r.delivered, r.kept
        )),
        Err(e) => Some(format!("warning: dead-letter log {}: {e}", notifier.dead_letter.display())),
    }
}
