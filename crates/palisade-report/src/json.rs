//! The native JSON report: the [`ScanReport`] serialized as is, pretty-printed, ending in a newline.
//!
//! Field order is the declaration order of the core types, maps are sorted, and empty optional sections are
//! left out, so two scans of the same artifact differ only in `created`. The layout is documented in
//! `docs/json-report.md`; [`palisade_core::report::REPORT_SCHEMA_VERSION`] versions it.

use crate::ReportError;
use palisade_core::ScanReport;
use std::io::Write;

/// Write `report` as pretty JSON.
pub fn render(report: &ScanReport, out: &mut dyn Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{ArtifactInfo, ArtifactKind, Ecosystem, Location, Package};

    #[test]
    fn round_trips_through_serde() {
        let mut r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "proj"), "2026-01-01T00:00:00Z");
        r.packages.push(Package::new(
            Ecosystem::Cargo,
            "serde",
            "1.0.0",
            Location::new("Cargo.lock", None),
            "cargo-lock",
        ));
        let mut buf = Vec::new();
        render(&r, &mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("{\n  \"schema_version\": 1,\n  \"tool\""), "{text}");
        assert!(text.ends_with("}\n"));
        assert!(!text.contains("warnings"), "empty sections are left out");
        let back: ScanReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn write_errors_are_reported() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "proj"), "2026-01-01T00:00:00Z");
        let err = render(&r, &mut Broken).unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}
