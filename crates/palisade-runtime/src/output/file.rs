//! Alerts appended to a file, one JSON object (or text line) per line.

use super::{Alert, OutputError, Sink};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub struct FileOutput {
    path: PathBuf,
    out: BufWriter<File>,
    json: bool,
}

impl FileOutput {
    /// Open `path` for appending (created if missing).
    pub fn open(path: &Path, json: bool) -> Result<FileOutput, OutputError> {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| OutputError::new("file", format!("{}: {e}", path.display())))?;
        Ok(FileOutput { path: path.to_path_buf(), out: BufWriter::new(f), json })
    }
}

impl Sink for FileOutput {
    fn name(&self) -> &str {
        "file"
    }

    fn send(&mut self, alert: &Alert) -> Result<(), OutputError> {
        let line = if self.json { alert.to_json() } else { alert.output.clone() };
        writeln!(self.out, "{line}")
            .and_then(|()| self.out.flush())
            .map_err(|e| OutputError::new("file", format!("{}: {e}", self.path.display())))
    }
}
