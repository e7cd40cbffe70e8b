//! Alerts on standard output: one JSON object per line, or Falco's text line.

use super::{Alert, OutputError, Sink};
use std::io::Write;

pub struct Stdout {
    pub json: bool,
}

impl Sink for Stdout {
    fn name(&self) -> &str {
        "stdout"
    }

    fn send(&mut self, alert: &Alert) -> Result<(), OutputError> {
        let line = if self.json { alert.to_json() } else { alert.output.clone() };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").map_err(|e| OutputError::new("stdout", e))
    }
}
