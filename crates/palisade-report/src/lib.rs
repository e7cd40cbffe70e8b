//! Report rendering: one [`ScanReport`] in, one document out.
//!
//! Every output format is a module with a `render` function taking the report and a writer; [`render`]
//! dispatches on [`Format`]. Renderers never fail on odd report content (a bad licence string, a
//! non-RFC 3339 timestamp, repeated purls): they degrade to a valid document and only I/O or serialization
//! errors are returned.
//!
//! - [`Format::Table`]: a human summary ([`table`]).
//! - [`Format::Json`]: the report as is ([`json`]; layout in `docs/json-report.md`).
//! - [`Format::CycloneDx`]: CycloneDX 1.6 JSON ([`cyclonedx`]): components with licences, vulnerabilities.
//! - [`Format::SpdxJson`]: SPDX 2.3 JSON ([`spdx`]): packages with licences, vulnerabilities as security
//!   references and review annotations.
//! - [`Format::Sarif`]: SARIF 2.1.0 JSON of the findings ([`sarif`]).
//! - [`Format::Junit`]: JUnit XML of the findings ([`junit`]).

pub mod cyclonedx;
mod cyclonedx_license_ids;
mod findings;
pub mod json;
pub mod junit;
mod license;
pub mod sarif;
mod sbom_vuln;
pub mod spdx;
pub mod table;
mod util;

/// Reports with findings for the unit tests (shared with the integration tests).
#[cfg(test)]
#[path = "../tests/common/findings.rs"]
pub(crate) mod test_fixtures;

use palisade_core::ScanReport;
use std::io::Write;

/// Text from scanned content with control characters escaped, safe to print on a terminal.
pub use findings::clean as printable;
pub use table::{ScannersRan, TableOptions};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Human readable tables.
    Table,
    /// The [`ScanReport`] as pretty JSON.
    Json,
    /// CycloneDX 1.6 JSON.
    CycloneDx,
    /// SPDX 2.3 JSON.
    SpdxJson,
    /// SARIF 2.1.0 JSON (vulnerabilities, secrets, misconfigurations).
    Sarif,
    /// JUnit XML (one test case per finding).
    Junit,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [Format; 6] =
        [Format::Table, Format::Json, Format::CycloneDx, Format::SpdxJson, Format::Sarif, Format::Junit];

    /// The canonical name, as accepted by [`std::str::FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::CycloneDx => "cyclonedx",
            Format::SpdxJson => "spdx-json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
        }
    }

    /// True for the SBOM formats: they carry the package inventory (and the vulnerabilities found in it,
    /// but no secrets or misconfigurations).
    pub fn is_sbom(self) -> bool {
        matches!(self, Format::CycloneDx | Format::SpdxJson)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = ReportError;

    /// Accepts the canonical names (`table`, `json`, `cyclonedx`, `spdx-json`, `sarif`, `junit`),
    /// case-insensitively, and the aliases `cdx`, `cyclonedx-json`, `spdx` and `junit-xml`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "cyclonedx" | "cyclonedx-json" | "cdx" => Ok(Format::CycloneDx),
            "spdx-json" | "spdx" => Ok(Format::SpdxJson),
            "sarif" => Ok(Format::Sarif),
            "junit" | "junit-xml" => Ok(Format::Junit),
            _ => Err(ReportError::UnknownFormat(s.to_string())),
        }
    }
}

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("unknown report format {0:?} (expected one of: table, json, cyclonedx, spdx-json, sarif, junit)")]
    UnknownFormat(String),
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("serializing the report: {0}")]
    Json(#[from] serde_json::Error),
}

/// Render `report` in `format` to `out`. The table has no colour (use [`table::render`] with
/// [`TableOptions`] for a terminal).
pub fn render(report: &ScanReport, format: Format, out: &mut dyn Write) -> Result<(), ReportError> {
    match format {
        Format::Table => table::render(report, &TableOptions::default(), out),
        Format::Json => json::render(report, out),
        Format::CycloneDx => cyclonedx::render(report, out),
        Format::SpdxJson => spdx::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Junit => junit::render(report, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
            assert_eq!(f.to_string(), f.name());
        }
        assert_eq!("CycloneDX".parse::<Format>().unwrap(), Format::CycloneDx);
        assert_eq!("spdx".parse::<Format>().unwrap(), Format::SpdxJson);
        assert_eq!("SARIF".parse::<Format>().unwrap(), Format::Sarif);
        assert_eq!("junit-xml".parse::<Format>().unwrap(), Format::Junit);
        assert!(!Format::Sarif.is_sbom() && !Format::Junit.is_sbom());
    }

    #[test]
    fn unknown_format_is_an_error_naming_it() {
        let err = "xml".parse::<Format>().unwrap_err();
        assert!(err.to_string().contains("\"xml\""), "{err}");
    }
}
