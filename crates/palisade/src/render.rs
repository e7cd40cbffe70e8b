//! Writing a report: the format, the table's presentation, and the destination (see
//! [`palisade_core::output`] for how files, devices, FIFOs and symlinks are treated).

use anyhow::Result;
use palisade_core::ScanReport;
use palisade_core::output::OutputFile;
use palisade_report::table::TableOptions;
use palisade_report::{Format, ScannersRan};
use std::io::Write;
use std::path::Path;

/// Check the destination before a scan, so that a bad path fails in a second rather than after the scan.
pub fn check(path: Option<&Path>) -> Result<()> {
    if let Some(p) = path {
        OutputFile::check(p)?;
    }
    Ok(())
}

/// Open the destination: `None` or `-` is stdout.
pub fn open(path: Option<&Path>) -> Result<OutputFile> {
    Ok(match path {
        Some(p) => OutputFile::create(p)?,
        None => OutputFile::stdout(),
    })
}

/// Render `report` into `out` and complete it (a file is renamed into place only when the whole report was
/// written). The table lists packages only when the scan asked for them (`--scanners package`), and shows a
/// section for every scanner that ran (the report records which).
pub fn emit(report: &ScanReport, format: Format, mut out: OutputFile) -> Result<()> {
    match format {
        Format::Table => {
            let terminal = out.is_terminal();
            let opts = TableOptions {
                color: terminal && console::colors_enabled(),
                width: if terminal { console::Term::stdout().size_checked().map(|(_, w)| w) } else { None },
                hide_packages: !report.ran("package"),
                scanners: ScannersRan {
                    vuln: report.ran("vuln"),
                    secret: report.ran("secret"),
                    misconfig: report.ran("misconfig"),
                    license: report.ran("license"),
                },
            };
            palisade_report::table::render(report, &opts, &mut out)?;
        }
        _ => palisade_report::render(report, format, &mut out)?,
    }
    out.flush()?;
    out.finish()?;
    Ok(())
}
