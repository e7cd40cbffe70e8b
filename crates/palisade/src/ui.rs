//! Terminal side: logging, the progress line, the summary on stderr, the error chain, the time budget.
//! stdout carries only the report.

use crate::gate::Outcome;
use indicatif::{ProgressBar, ProgressStyle};
use palisade_core::{Progress, ScanReport};
use palisade_report::printable;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub fn init_logging(debug: bool, quiet: bool) {
    let level = if debug {
        "debug"
    } else if quiet {
        "error"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PALISADE_LOG")
        // kube-client logs the errors it also returns (`scan cluster` reports them with the kubeconfig and
        // context); they show with --debug.
        .unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(if debug {
                level.into()
            } else {
                format!("{level},kube_client=off")
            })
        });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// A progress line redrawn from the shared counters, shown only when asked for and stderr is a terminal.
pub struct ProgressUi {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ProgressUi {
    pub fn start(progress: Arc<Progress>, show: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        if !show || !std::io::stderr().is_terminal() {
            return ProgressUi { stop, handle: None };
        }
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            while !flag.load(Ordering::Relaxed) {
                bar.set_message(line(&progress));
                bar.tick();
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        ProgressUi { stop, handle: Some(handle) }
    }

    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn line(p: &Progress) -> String {
    let mut s = p.stage();
    let layers = Progress::get(&p.layers_total);
    if layers > 0 {
        s.push_str(&format!(" | layers {}/{}", Progress::get(&p.layers_done), layers));
    }
    s.push_str(&format!(
        " | files {} | {:.1} MB | packages {}",
        Progress::get(&p.files_seen),
        Progress::get(&p.bytes_read) as f64 / 1e6,
        Progress::get(&p.packages_found)
    ));
    s
}

/// How many warnings are printed without `--debug`.
const WARNINGS_SHOWN: usize = 10;

/// The scan's epilogue on stderr, printed once after the policy step: what could not be checked, an
/// end-of-life OS, the warnings (the policy's included), what the policy did, and why the gate fails.
pub fn summarize(report: &ScanReport, outcome: &Outcome) {
    for g in &report.gaps {
        eprintln!("incomplete: {}", printable(&g.to_string()));
    }
    if let Some(os) = &report.os
        && let Some(eol) = os.end_of_life.as_ref().filter(|e| e.ended)
    {
        eprintln!(
            "warning: {} {} reached its end of life on {}: it gets no more security fixes ({})",
            printable(&os.id),
            printable(&os.version_id),
            eol.date,
            eol.source
        );
    }
    let all = tracing::enabled!(tracing::Level::DEBUG);
    for w in report.warnings.iter().take(if all { usize::MAX } else { WARNINGS_SHOWN }) {
        eprintln!("warning: {}", printable(&w.to_string()));
    }
    if !all && report.warnings.len() > WARNINGS_SHOWN {
        eprintln!(
            "warning: ... and {} more (all are in the JSON report; --debug prints them here)",
            report.warnings.len() - WARNINGS_SHOWN
        );
    }
    if outcome.suppressed > 0 || outcome.filtered > 0 {
        eprintln!(
            "policy: {} findings suppressed (kept in the report with their reason), {} filtered out",
            outcome.suppressed, outcome.filtered
        );
    }
    for r in &outcome.verdict.reasons {
        eprintln!("gate: exit {}: {r}", outcome.verdict.code);
    }
}

/// An error and its causes on one line, leaving out a cause whose text the message before it already
/// contains (many errors print their source themselves: `x.db: No such file (os error 2)`).
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        // Causes may quote scanned content (a 100 MB corrupt record): each is capped.
        let text = palisade_core::warning::bounded(&cause.to_string(), 4 * palisade_core::warning::MAX_TEXT);
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    printable(&out)
}

/// `--timeout`: ends the process with exit 2 when the scan runs past its budget. Dropping it disarms it.
/// Outputs are written to a temporary file and renamed at the end, so a timed-out scan leaves no partial
/// report behind.
pub struct Watchdog {
    done: Option<std::sync::mpsc::Sender<()>>,
}

impl Watchdog {
    pub fn start(budget: Duration) -> Watchdog {
        if budget.is_zero() {
            return Watchdog { done: None };
        }
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(budget) {
                eprintln!(
                    "palisade: error: the scan did not finish within --timeout {}s; raise it (e.g. --timeout 30m) \
                     or narrow the target",
                    budget.as_secs()
                );
                std::process::exit(i32::from(crate::commands::EXIT_ERROR));
            }
        });
        Watchdog { done: Some(tx) }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(tx) = self.done.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_chain_leaves_out_causes_already_printed() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let e = anyhow::Error::new(io)
            .context("x.db: No such file or directory (os error 2)")
            .context("opening DB");
        assert_eq!(error_chain(&e), "opening DB: x.db: No such file or directory (os error 2)");
        let e = anyhow::anyhow!("bad \u{1b}[31mname");
        assert_eq!(error_chain(&e), "bad \\u{1b}[31mname");
    }
}
