//! The native JSON report: the [`ScanReport`] serialized as is, pretty-printed, ending in a newline; and
//! [`read`], which reads such a report back (for rendering a saved report in another format).
//!
//! Field order is the declaration order of the core types, maps are sorted, and empty optional sections are
//! left out, so two scans of the same artifact differ only in `created`. The layout is documented in
//! `docs/json-report.md`; [`palisade_core::report::REPORT_SCHEMA_VERSION`] versions it.

use crate::ReportError;
use palisade_core::ScanReport;
use palisade_core::report::REPORT_SCHEMA_VERSION;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::io::{Read, Write};

/// Write `report` as pretty JSON.
pub fn render(report: &ScanReport, out: &mut dyn Write) -> Result<(), ReportError> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The largest report [`read`] accepts: 512 MiB (a root filesystem with every finding kind is tens of MB).
pub const MAX_REPORT_BYTES: u64 = 512 * 1024 * 1024;

/// Why a saved report could not be read. Every message says what is wrong in terms of the file, so the CLI can
/// print it after the file name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("cannot read the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("the report is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the file is empty, not a Palisade JSON report")]
    Empty,
    /// Not JSON, or JSON cut short. `line`/`column` are 1-based.
    #[error("not valid JSON{}: {message} at line {line} column {column}", if *.truncated { " (the file ends early: truncated?)" } else { "" })]
    Syntax { message: String, line: usize, column: usize, truncated: bool },
    /// Valid JSON, but another kind of document; `what` names it (e.g. `a CycloneDX 1.6 SBOM`).
    #[error("not a Palisade JSON report: this is {what}{}", hint.map(|h| format!(" ({h})")).unwrap_or_default())]
    NotAReport { what: String, hint: Option<&'static str> },
    /// A Palisade report in a layout this version does not read.
    #[error(
        "report schema_version {found} is not supported: this Palisade reads schema_version {supported}{}",
        if *found > u64::from(*supported) { " (the report was written by a newer Palisade)" } else { "" }
    )]
    UnsupportedVersion { found: u64, supported: u32 },
    /// The right layout version, but a field is missing or has the wrong type.
    #[error(
        "invalid Palisade report (schema_version {schema_version}): {message} at line {line} column {column}"
    )]
    Invalid { schema_version: u32, message: String, line: usize, column: usize },
}

/// Read a report written by [`render`] (`--format json`), at most [`MAX_REPORT_BYTES`].
///
/// The `schema_version` is checked before the rest: a different layout version, or another kind of JSON
/// document (a CycloneDX or SPDX SBOM, a SARIF log, a Trivy or Grype report, an OpenVEX document) is a clear
/// [`ReadError`] naming what the file is. Unknown fields are ignored (adding a field is not a breaking change
/// of the layout). Never panics, whatever the input.
pub fn read<R: Read>(reader: R) -> Result<ScanReport, ReadError> {
    read_with_limit(reader, MAX_REPORT_BYTES)
}

/// [`read`] with another size limit, in bytes.
pub fn read_with_limit<R: Read>(reader: R, limit: u64) -> Result<ScanReport, ReadError> {
    let mut bytes = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    from_slice(&bytes)
}

/// The top-level fields that tell documents apart; everything else is skipped without being kept.
#[derive(Deserialize)]
struct Probe {
    schema_version: Option<serde_json::Value>,
    tool: Option<serde_json::Value>,
    #[serde(rename = "bomFormat")]
    bom_format: Option<serde_json::Value>,
    #[serde(rename = "specVersion")]
    spec_version: Option<serde_json::Value>,
    #[serde(rename = "spdxVersion")]
    spdx_version: Option<serde_json::Value>,
    #[serde(rename = "$schema")]
    schema: Option<serde_json::Value>,
    runs: Option<IgnoredAny>,
    #[serde(rename = "SchemaVersion")]
    trivy_schema_version: Option<IgnoredAny>,
    #[serde(rename = "ArtifactName")]
    trivy_artifact_name: Option<IgnoredAny>,
    matches: Option<IgnoredAny>,
    descriptor: Option<IgnoredAny>,
    #[serde(rename = "@context")]
    context: Option<serde_json::Value>,
    statements: Option<IgnoredAny>,
    id: Option<IgnoredAny>,
    modified: Option<IgnoredAny>,
    affected: Option<IgnoredAny>,
}

/// A short description of a JSON value's type, for "this is a JSON array".
fn json_kind(bytes: &[u8]) -> &'static str {
    match bytes.iter().copied().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => "a JSON array",
        Some(b'"') => "a JSON string",
        Some(b't' | b'f') => "a JSON boolean",
        Some(b'n') => "JSON null",
        Some(b'{') => "a JSON object",
        _ => "a JSON number",
    }
}

fn syntax(e: &serde_json::Error) -> ReadError {
    ReadError::Syntax {
        message: strip_position(e),
        line: e.line(),
        column: e.column(),
        truncated: e.is_eof(),
    }
}

/// serde_json's message without its trailing ` at line L column C` (the error variants print the position).
fn strip_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_string()
}

fn text_of(v: &Option<serde_json::Value>) -> Option<String> {
    match v {
        Some(serde_json::Value::String(s)) => Some(s.chars().take(40).collect()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// What a JSON object that is not a Palisade report is, when it can be told.
fn identify(p: &Probe) -> Option<(String, Option<&'static str>)> {
    let sbom_hint = Some("scan it with `palisade scan sbom`");
    if p.bom_format.as_ref().and_then(|v| v.as_str()).is_some_and(|f| f.eq_ignore_ascii_case("CycloneDX")) {
        let version = text_of(&p.spec_version).map(|v| format!(" {v}")).unwrap_or_default();
        return Some((format!("a CycloneDX{version} SBOM"), sbom_hint));
    }
    if p.spdx_version.is_some() {
        let version = text_of(&p.spdx_version).map(|v| format!(" ({v})")).unwrap_or_default();
        return Some((format!("an SPDX document{version}"), sbom_hint));
    }
    let schema = text_of(&p.schema).unwrap_or_default().to_ascii_lowercase();
    if schema.contains("sarif") || (p.runs.is_some() && p.schema_version.is_none()) {
        return Some(("a SARIF log".to_string(), None));
    }
    if p.trivy_schema_version.is_some() && p.trivy_artifact_name.is_some() {
        return Some(("a Trivy JSON report".to_string(), None));
    }
    if p.matches.is_some() && p.descriptor.is_some() {
        return Some(("a Grype JSON report".to_string(), None));
    }
    let context = p.context.as_ref().map(|c| c.to_string().to_ascii_lowercase()).unwrap_or_default();
    if context.contains("openvex") || (p.statements.is_some() && p.context.is_some()) {
        return Some(("an OpenVEX document".to_string(), Some("pass it to a scan with `--vex`")));
    }
    if p.id.is_some() && p.modified.is_some() && p.affected.is_some() {
        return Some(("an OSV advisory".to_string(), Some("import it with `palisade db build --from`")));
    }
    None
}

/// [`read`] from bytes already in memory (no size limit beyond what the caller applied).
pub fn from_slice(bytes: &[u8]) -> Result<ScanReport, ReadError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ReadError::Empty);
    }
    // A cheap first pass: only the fields that identify the document are kept.
    let probe: Probe = match serde_json::from_slice(bytes) {
        Ok(p) => p,
        Err(e) if e.is_syntax() || e.is_eof() || e.is_io() => return Err(syntax(&e)),
        Err(e) => {
            // Valid JSON the probe cannot take: not an object, or an object repeating a field.
            if let Err(e) = serde_json::from_slice::<IgnoredAny>(bytes) {
                return Err(syntax(&e));
            }
            let what = match json_kind(bytes) {
                "a JSON object" => format!("a JSON object that cannot be a report ({})", strip_position(&e)),
                kind => kind.to_string(),
            };
            return Err(ReadError::NotAReport { what, hint: None });
        }
    };
    let is_palisade = probe
        .tool
        .as_ref()
        .and_then(|t| t.get("name"))
        .and_then(|n| n.as_str())
        .is_some_and(|n| n == "palisade");
    let version = match &probe.schema_version {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        _ => None,
    };
    let Some(version) = version else {
        if let Some((what, hint)) = identify(&probe) {
            return Err(ReadError::NotAReport { what, hint });
        }
        let what = match (&probe.schema_version, is_palisade) {
            (Some(v), _) => {
                format!("a JSON document whose schema_version is {} (expected an integer)", short(v))
            }
            (None, true) => {
                "a JSON document naming palisade as its tool but without schema_version".to_string()
            }
            (None, false) => "a JSON object without the report's schema_version and tool fields".to_string(),
        };
        return Err(ReadError::NotAReport { what, hint: None });
    };
    if version != u64::from(REPORT_SCHEMA_VERSION) {
        if !is_palisade && let Some((what, hint)) = identify(&probe) {
            return Err(ReadError::NotAReport { what, hint });
        }
        return Err(ReadError::UnsupportedVersion { found: version, supported: REPORT_SCHEMA_VERSION });
    }
    serde_json::from_slice::<ScanReport>(bytes).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            syntax(&e)
        } else {
            ReadError::Invalid {
                schema_version: REPORT_SCHEMA_VERSION,
                message: strip_position(&e),
                line: e.line(),
                column: e.column(),
            }
        }
    })
}

/// A JSON value in at most 40 characters, for messages.
fn short(v: &serde_json::Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 40 { format!("{}...", text.chars().take(40).collect::<String>()) } else { text }
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

    fn rendered(r: &ScanReport) -> Vec<u8> {
        let mut buf = Vec::new();
        render(r, &mut buf).unwrap();
        buf
    }

    #[test]
    fn reads_back_what_it_wrote() {
        for r in [crate::test_fixtures::findings_report(), crate::test_fixtures::hostile_report()] {
            let mut r = r;
            r.warnings.push(palisade_core::Warning::new("artifact", "layer 2 is truncated").at("x", Some(2)));
            let back = read(rendered(&r).as_slice()).unwrap();
            assert_eq!(back, r);
            assert_eq!(rendered(&back), rendered(&r), "byte for byte");
        }
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "proj"), "2026-01-01T00:00:00Z");
        let mut v: serde_json::Value = serde_json::from_slice(&rendered(&r)).unwrap();
        v["added_in_a_later_minor"] = serde_json::json!({"x": 1});
        assert_eq!(from_slice(v.to_string().as_bytes()).unwrap(), r);
    }

    fn err(bytes: &[u8]) -> String {
        from_slice(bytes).unwrap_err().to_string()
    }

    #[test]
    fn truncated_and_broken_json() {
        let r = crate::test_fixtures::findings_report();
        let full = rendered(&r);
        for cut in [1, full.len() / 3, full.len() / 2, full.len() - 3] {
            let e = from_slice(&full[..cut]).unwrap_err();
            assert!(matches!(e, ReadError::Syntax { truncated: true, .. }), "{cut}: {e}");
            assert!(e.to_string().contains("truncated?"), "{e}");
        }
        let e = err(b"{\"schema_version\": 1,, }");
        assert!(e.starts_with("not valid JSON: ") && e.contains("line 1 column"), "{e}");
        assert_eq!(err(b""), "the file is empty, not a Palisade JSON report");
        assert_eq!(err(b" \n"), "the file is empty, not a Palisade JSON report");
        assert!(err(b"\xff\xfe{").starts_with("not valid JSON"));
    }

    #[test]
    fn other_documents_are_named() {
        let cases: [(&str, &str); 9] = [
            (
                r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}"#,
                "this is a CycloneDX 1.6 SBOM (scan it with `palisade scan sbom`)",
            ),
            (
                r#"{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}"#,
                "this is an SPDX document (SPDX-2.3)",
            ),
            (
                r#"{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": []}"#,
                "this is a SARIF log",
            ),
            (
                r#"{"SchemaVersion": 2, "ArtifactName": "alpine", "Results": []}"#,
                "this is a Trivy JSON report",
            ),
            (
                r#"{"matches": [], "source": {}, "descriptor": {"name": "grype"}}"#,
                "this is a Grype JSON report",
            ),
            (
                r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}"#,
                "this is an OpenVEX document",
            ),
            (
                r#"{"schema_version": "1.6.0", "id": "GHSA-x", "modified": "2024-01-01T00:00:00Z", "affected": []}"#,
                "this is an OSV advisory",
            ),
            (r#"[1, 2]"#, "this is a JSON array"),
            (r#"{"name": "x"}"#, "this is a JSON object without the report's schema_version and tool fields"),
        ];
        for (doc, want) in cases {
            let e = err(doc.as_bytes());
            assert!(e.starts_with("not a Palisade JSON report: "), "{e}");
            assert!(e.contains(want), "{doc}: {e}");
        }
        let e = err(br#"{"schema_version": 1, "schema_version": 1}"#);
        assert!(e.contains("JSON object that cannot be a report (duplicate field `schema_version`)"), "{e}");
        let e = err(br#"{"schema_version": "one", "tool": {"name": "palisade"}}"#);
        assert!(e.contains("schema_version is \"one\" (expected an integer)"), "{e}");
    }

    #[test]
    fn other_layout_versions_are_refused_before_parsing_the_rest() {
        let r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "proj"), "2026-01-01T00:00:00Z");
        let mut v: serde_json::Value = serde_json::from_slice(&rendered(&r)).unwrap();
        v["schema_version"] = serde_json::json!(2);
        v["packages"] = serde_json::json!({"renamed": "and retyped"});
        let e = from_slice(v.to_string().as_bytes()).unwrap_err();
        assert!(matches!(e, ReadError::UnsupportedVersion { found: 2, supported: 1 }), "{e}");
        assert_eq!(
            e.to_string(),
            "report schema_version 2 is not supported: this Palisade reads schema_version 1 \
             (the report was written by a newer Palisade)"
        );
        v["schema_version"] = serde_json::json!(0);
        assert!(!err(v.to_string().as_bytes()).contains("newer"));
    }

    #[test]
    fn missing_or_mistyped_fields_are_named() {
        let r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "proj"), "2026-01-01T00:00:00Z");
        let mut v: serde_json::Value = serde_json::from_slice(&rendered(&r)).unwrap();
        v.as_object_mut().unwrap().remove("artifact");
        let e = err(v.to_string().as_bytes());
        assert!(e.starts_with("invalid Palisade report (schema_version 1): missing field `artifact`"), "{e}");
        let mut v: serde_json::Value = serde_json::from_slice(&rendered(&r)).unwrap();
        v["packages"] = serde_json::json!([{"ecosystem": "cobol", "name": "x"}]);
        let e = err(v.to_string().as_bytes());
        assert!(e.contains("unknown variant `cobol`") && e.contains("line 1 column"), "{e}");
    }

    #[test]
    fn size_is_capped() {
        let r = crate::test_fixtures::findings_report();
        let bytes = rendered(&r);
        let e = read_with_limit(bytes.as_slice(), 100).unwrap_err();
        assert_eq!(e.to_string(), "the report is larger than 100 bytes");
        assert_eq!(
            read_with_limit(bytes.as_slice(), bytes.len() as u64).unwrap(),
            r,
            "exactly the limit is fine"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut doc = String::from("{\"schema_version\": 1, \"tool\": {\"name\": \"palisade\"}, \"x\": ");
        doc.push_str(&"[".repeat(100_000));
        doc.push_str(&"]".repeat(100_000));
        doc.push('}');
        assert!(from_slice(doc.as_bytes()).is_err());
    }

    #[test]
    fn read_errors_are_reported() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("device gone"))
            }
        }
        let e = read(Broken).unwrap_err();
        assert_eq!(e.to_string(), "cannot read the report: device gone");
    }
}
