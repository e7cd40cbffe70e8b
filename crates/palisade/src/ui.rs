//! Terminal side: logging and the progress line on stderr. stdout carries only the report.

use indicatif::{ProgressBar, ProgressStyle};
use palisade_core::{Progress, Warning};
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
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// A progress line redrawn from the shared counters, shown only when stderr is a terminal and not `--quiet`.
pub struct ProgressUi {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ProgressUi {
    pub fn start(progress: Arc<Progress>, quiet: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        if quiet || !std::io::stderr().is_terminal() {
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

/// Print the warnings on stderr: all of them with `--debug`, else the first few and a count.
pub fn summarize_warnings(warnings: &[Warning]) {
    const SHOWN: usize = 10;
    let all = tracing::enabled!(tracing::Level::DEBUG);
    for w in warnings.iter().take(if all { usize::MAX } else { SHOWN }) {
        eprintln!("warning: {w}");
    }
    if !all && warnings.len() > SHOWN {
        eprintln!(
            "warning: ... and {} more (all are in the JSON report; --debug prints them here)",
            warnings.len() - SHOWN
        );
    }
}
