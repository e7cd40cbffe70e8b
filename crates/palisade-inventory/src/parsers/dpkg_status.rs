//! `var/lib/dpkg/status`: the dpkg database of installed Debian/Ubuntu packages.
//!
//! The file is a sequence of deb822 stanzas separated by blank lines. Each stanza is `Field: value` lines;
//! a line starting with a space or tab continues the previous field. `Status:` is `<want> <flag> <state>`.
//! A stanza is a package when its files are on disk: state `installed` (`install ok installed`,
//! `hold ok installed`), and also `unpacked`, `half-configured`, `triggers-awaited` and `triggers-pending`
//! (unpacked but not fully configured: the vulnerable files are there all the same). `config-files`,
//! `not-installed` and `half-installed` (an unpack that failed midway) are not.
//!
//! `Source:` is either `name`, meaning the source version equals the binary version, or `name (version)`;
//! when absent the source package is the binary package itself. An epoch (`1:2.3-4`) stays in the version and
//! is also recorded as `metadata["epoch"]`. dpkg keeps no licence field, so licences stay empty.
//!
//! The stanza reader here is shared with [`super::dpkg_status_d`] (distroless `status.d/` files).

use super::prefix::record_prefix;
use crate::{Input, Output, ParseError, Parser};
use palisade_artifact::{FileMeta, Probe};
use palisade_core::{Ecosystem, Package, SourcePackage};

/// Reader of `var/lib/dpkg/status`.
pub struct DpkgStatus;

impl Parser for DpkgStatus {
    fn id(&self) -> &'static str {
        "dpkg-status"
    }

    /// Any size: over [`MAX_STATUS_SIZE`] the stanzas of the first 256 MiB are kept (a warning says so).
    fn wants(&self, meta: &FileMeta) -> bool {
        meta.path == "var/lib/dpkg/status"
    }

    fn parse(&self, input: &Input, out: &mut Output) -> Result<(), ParseError> {
        let (data, cut) = record_prefix(input.data, input.data.len() as u64, MAX_STATUS_SIZE, b"\n\n");
        parse_stanzas(&Input { data, ..*input }, self.id(), StatusRule::Required, out)?;
        out.warnings.extend(cut);
        Ok(())
    }

    /// A file over the limit read from a directory: its first [`MAX_STATUS_SIZE`] bytes by positioned reads,
    /// whatever the size limit of whole reads.
    fn parse_probe(
        &self,
        meta: &FileMeta,
        probe: &dyn Probe,
        out: &mut Output,
    ) -> Option<Result<(), ParseError>> {
        if meta.size <= MAX_STATUS_SIZE {
            return None;
        }
        if let Err(why) = palisade_core::memory::admit(MAX_STATUS_SIZE) {
            return Some(Err(ParseError::new(why)));
        }
        let Some(head) = probe.read_at(0, usize::try_from(MAX_STATUS_SIZE).unwrap_or(usize::MAX)) else {
            return Some(Err(ParseError::new("cannot read the file")));
        };
        let (data, cut) = record_prefix(&head, meta.size, MAX_STATUS_SIZE, b"\n\n");
        let input = Input { path: meta.path, layer: meta.layer, data };
        Some(parse_stanzas(&input, self.id(), StatusRule::Required, out).map(|()| out.warnings.extend(cut)))
    }
}

/// Largest status file read whole (real ones are a few MB); a larger one keeps the stanzas of its first
/// 256 MiB.
pub(crate) const MAX_STATUS_SIZE: u64 = 256 * 1024 * 1024;

/// At most this many warnings per file; the rest are counted in one summary line.
const MAX_WARNINGS: usize = 20;

/// What to do with a stanza that has no `Status:` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusRule {
    /// The main `status` database: every stanza must say whether it is installed.
    Required,
    /// Distroless `status.d/` files: the file's presence means installed; a `Status:` that is present is
    /// still honoured.
    Optional,
}

/// One deb822 stanza: fields in file order, and the 1-based line where it starts.
#[derive(Debug, Default)]
pub(crate) struct Stanza {
    pub line: usize,
    pub fields: Vec<(String, String)>,
}

impl Stanza {
    /// Field value by case-insensitive name (deb822 field names are case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A human name for warnings: `stanza at line 12 (Package: foo)`.
    fn describe(&self) -> String {
        match self.get("Package") {
            Some(p) if !p.is_empty() => {
                // A damaged file (CR line ends only) can make one "value" megabytes long.
                let p: String = p.chars().take(100).collect();
                format!("stanza at line {} (Package: {p})", self.line)
            }
            _ => format!("stanza at line {}", self.line),
        }
    }
}

/// Collects warnings, keeping at most [`MAX_WARNINGS`].
#[derive(Default)]
pub(crate) struct WarningList {
    kept: Vec<String>,
    dropped: usize,
}

impl WarningList {
    pub fn push(&mut self, w: String) {
        if self.kept.len() < MAX_WARNINGS {
            self.kept.push(w);
        } else {
            self.dropped += 1;
        }
    }

    pub fn finish(mut self, out: &mut Output) {
        if self.dropped > 0 {
            self.kept.push(format!("{} more problems not shown", self.dropped));
        }
        out.warnings.extend(self.kept);
    }
}

/// Walk deb822 text stanza by stanza (one in memory at a time). Lines that are neither a field nor a
/// continuation invalidate their stanza (`bad` is set so the caller can warn once and skip it).
pub(crate) fn for_each_stanza(text: &str, mut each: impl FnMut(&Stanza, Option<&str>)) {
    let mut cur: Option<(Stanza, Option<String>)> = None;
    for (idx, raw) in text.split('\n').enumerate() {
        let lineno = idx + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            if let Some((s, bad)) = cur.take() {
                each(&s, bad.as_deref());
            }
            continue;
        }
        let (stanza, bad) = cur.get_or_insert_with(|| (Stanza { line: lineno, fields: Vec::new() }, None));
        if line.contains('\0') {
            if bad.is_none() {
                *bad = Some(format!("line {lineno}: NUL byte"));
            }
            continue;
        }
        if line.starts_with('#') && stanza.fields.is_empty() {
            // Comment lines are allowed by deb822 (not written by dpkg, but harmless).
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            match stanza.fields.last_mut() {
                Some((_, v)) => {
                    v.push('\n');
                    v.push_str(line.trim());
                }
                None => {
                    if bad.is_none() {
                        *bad = Some(format!("line {lineno}: continuation line before any field"));
                    }
                }
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) if !k.is_empty() && !k.contains(char::is_whitespace) => {
                stanza.fields.push((k.to_string(), v.trim().to_string()));
            }
            _ => {
                if bad.is_none() {
                    *bad = Some(format!("line {lineno}: not a `Field: value` line"));
                }
            }
        }
    }
    if let Some((s, bad)) = cur.take() {
        each(&s, bad.as_deref());
    }
}

/// Parse every stanza of `input` into packages found by `found_by`.
pub(crate) fn parse_stanzas(
    input: &Input,
    found_by: &str,
    rule: StatusRule,
    out: &mut Output,
) -> Result<(), ParseError> {
    // A NUL byte spoils its stanza only (for_each_stanza marks it bad); a file with NULs and no package at
    // all is binary data, not a package list.
    let first_nul = input.data.iter().position(|&b| b == 0);
    let before = out.packages.len();
    // Old packages may carry Latin-1 descriptions; the fields we use are ASCII, so decode lossily.
    let text = String::from_utf8_lossy(input.data);
    let mut warnings = WarningList::default();
    for_each_stanza(&text, |stanza, bad| {
        if let Some(why) = bad {
            warnings.push(format!("{}: {why}; stanza skipped", stanza.describe()));
            return;
        }
        match stanza_to_package(stanza, input, found_by, rule) {
            Ok(Some(p)) => out.packages.push(p),
            Ok(None) => {}
            Err(why) => warnings.push(format!("{}: {why}; stanza skipped", stanza.describe())),
        }
    });
    if let Some(pos) = first_nul
        && out.packages.len() == before
    {
        return Err(ParseError::new(format!(
            "binary data (NUL byte at offset {pos}), not a deb822 package list"
        )));
    }
    warnings.finish(out);
    Ok(())
}

/// True when a dpkg `Status:` value (`want flag state`) describes a package whose files are on disk.
pub(crate) fn is_installed(status: &str) -> Result<bool, String> {
    let words: Vec<&str> = status.split_whitespace().collect();
    match words.as_slice() {
        [_want, _flag, state] => match *state {
            "installed" | "unpacked" | "half-configured" | "triggers-awaited" | "triggers-pending" => {
                Ok(true)
            }
            "not-installed" | "config-files" | "half-installed" => Ok(false),
            other => Err(format!("unknown package state `{other}` in Status `{status}`")),
        },
        _ => Err(format!("Status `{status}` is not `<want> <flag> <state>`")),
    }
}

/// Build the package for one stanza: `Ok(None)` for a stanza that is not an installed package.
fn stanza_to_package(
    stanza: &Stanza,
    input: &Input,
    found_by: &str,
    rule: StatusRule,
) -> Result<Option<Package>, String> {
    match (stanza.get("Status"), rule) {
        (Some(status), _) => {
            if !is_installed(status)? {
                return Ok(None);
            }
        }
        (None, StatusRule::Required) => return Err("no Status field".into()),
        (None, StatusRule::Optional) => {}
    }
    let name = stanza.get("Package").filter(|v| !v.is_empty()).ok_or("no Package field")?;
    let version = stanza.get("Version").filter(|v| !v.is_empty()).ok_or("no Version field")?;
    if name.contains(char::is_whitespace) {
        return Err(format!("Package `{name}` contains whitespace"));
    }
    if version.contains(char::is_whitespace) {
        return Err(format!("Version `{version}` contains whitespace"));
    }
    let mut p = Package::new(Ecosystem::Deb, name, version, input.location(), found_by);
    p.arch = stanza.get("Architecture").filter(|a| !a.is_empty()).map(str::to_string);
    p.source = Some(match stanza.get("Source").filter(|s| !s.is_empty()) {
        Some(src) => parse_source(src, version)?,
        None => SourcePackage { name: name.to_string(), version: version.to_string() },
    });
    if let Some((epoch, _)) = version.split_once(':') {
        if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("Version `{version}` has a non-numeric epoch"));
        }
        p.metadata.insert("epoch".into(), epoch.to_string());
    }
    Ok(Some(p))
}

/// `openssl` or `openssl (3.0.11-1)`.
pub(crate) fn parse_source(src: &str, binary_version: &str) -> Result<SourcePackage, String> {
    let src = src.trim();
    match src.split_once('(') {
        None if !src.contains(char::is_whitespace) => {
            Ok(SourcePackage { name: src.to_string(), version: binary_version.to_string() })
        }
        Some((name, rest)) => {
            let name = name.trim();
            let version = rest.strip_suffix(')').map(str::trim).unwrap_or("");
            if name.is_empty() || name.contains(char::is_whitespace) || version.is_empty() {
                return Err(format!("Source `{src}` is not `name` or `name (version)`"));
            }
            Ok(SourcePackage { name: name.to_string(), version: version.to_string() })
        }
        None => Err(format!("Source `{src}` is not `name` or `name (version)`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/dpkg/status");

    fn parse(data: &[u8]) -> Result<Output, ParseError> {
        let mut out = Output::default();
        DpkgStatus.parse(&Input { path: "var/lib/dpkg/status", layer: Some(1), data }, &mut out)?;
        Ok(out)
    }

    fn find<'a>(out: &'a Output, name: &str) -> &'a Package {
        out.packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("{name} not found"))
    }

    #[test]
    fn wants_only_the_status_file() {
        let meta = |path| FileMeta { path, size: 10, mode: 0o644, layer: None };
        assert!(DpkgStatus.wants(&meta("var/lib/dpkg/status")));
        assert!(!DpkgStatus.wants(&meta("var/lib/dpkg/status-old")));
        assert!(!DpkgStatus.wants(&meta("var/lib/dpkg/status.d/foo")));
    }

    #[test]
    fn fixture_installed_packages() {
        let out = parse(FIXTURE.as_bytes()).unwrap();
        let names: Vec<&str> = out.packages.iter().map(|p| p.name.as_str()).collect();
        // removed-pkg is `deinstall ok config-files`, half is `install reinstreq half-installed`.
        assert_eq!(names, ["base-files", "libssl3", "libgcc-s1", "tzdata", "zlib1g"]);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);

        let ssl = find(&out, "libssl3");
        assert_eq!(ssl.version, "3.0.11-1~deb12u2");
        assert_eq!(ssl.arch.as_deref(), Some("amd64"));
        assert_eq!(
            ssl.source,
            Some(SourcePackage { name: "openssl".into(), version: "3.0.11-1~deb12u2".into() })
        );
        assert_eq!(ssl.found_by, "dpkg-status");
        assert_eq!(ssl.locations[0].path, "var/lib/dpkg/status");
        assert_eq!(ssl.locations[0].layer, Some(1));

        let gcc = find(&out, "libgcc-s1");
        assert_eq!(gcc.version, "12.2.0-14");
        assert_eq!(gcc.source, Some(SourcePackage { name: "gcc-12".into(), version: "12.2.0-14".into() }));

        let z = find(&out, "zlib1g");
        assert_eq!(z.version, "1:1.2.13.dfsg-1");
        assert_eq!(z.metadata.get("epoch").map(String::as_str), Some("1"));
        assert_eq!(z.source, Some(SourcePackage { name: "zlib".into(), version: "1:1.2.13.dfsg-1".into() }));

        // `hold ok installed` counts; no Source means the binary package is its own source.
        let tz = find(&out, "tzdata");
        assert_eq!(
            tz.source,
            Some(SourcePackage { name: "tzdata".into(), version: "2024a-0+deb12u1".into() })
        );
        assert_eq!(find(&out, "base-files").arch.as_deref(), Some("amd64"));
    }

    #[test]
    fn crlf_and_continuations() {
        let text = "Package: a\r\nStatus: install ok installed\r\nDescription: x\r\n more\r\n .\r\n\
                    Version: 1.0\r\nArchitecture: all\r\n\r\nPackage: b\r\nStatus: install ok installed\r\n\
                    Version: 2\r\n";
        let out = parse(text.as_bytes()).unwrap();
        assert_eq!(out.packages.len(), 2);
        assert_eq!(out.packages[0].version, "1.0");
        assert_eq!(out.packages[0].arch.as_deref(), Some("all"));
        assert_eq!(out.packages[1].arch, None);
    }

    #[test]
    fn bad_stanzas_are_skipped_with_warnings() {
        let text = "Package: novers\nStatus: install ok installed\n\n\
                    Package: nostatus\nVersion: 1\n\n\
                    garbage line\nPackage: g\nStatus: install ok installed\nVersion: 1\n\n\
                    Package: badstatus\nStatus: installed\nVersion: 1\n\n\
                    Package: badsrc\nStatus: install ok installed\nVersion: 1\nSource: a b c\n\n\
                    Package: badepoch\nStatus: install ok installed\nVersion: x:1\n\n\
                    Package: ok\nStatus: install ok installed\nVersion: 1.2\n";
        let out = parse(text.as_bytes()).unwrap();
        assert_eq!(out.packages.len(), 1);
        assert_eq!(out.packages[0].name, "ok");
        assert_eq!(out.warnings.len(), 6, "{:?}", out.warnings);
        assert!(
            out.warnings[0].contains("line 1 (Package: novers): no Version field"),
            "{}",
            out.warnings[0]
        );
        assert!(out.warnings[1].contains("no Status field"));
        assert!(out.warnings[2].contains("line 7: not a `Field: value` line"), "{}", out.warnings[2]);
        assert!(out.warnings[3].contains("Status `installed`"));
        assert!(out.warnings[4].contains("Source `a b c`"));
        assert!(out.warnings[5].contains("non-numeric epoch"));
    }

    /// One NUL byte spoils one stanza, not the file.
    #[test]
    fn a_nul_byte_drops_its_stanza_only() {
        let text = b"Package: a\nStatus: install ok installed\nVersion: 1\n\n\
                     Package: b\nStatus: install ok installed\nVersion: 2\0\n\n\
                     Package: c\nStatus: install ok installed\nVersion: 3\n";
        let out = parse(text).unwrap();
        let names: Vec<_> = out.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(
            out.warnings[0].contains("Package: b") && out.warnings[0].contains("NUL"),
            "{:?}",
            out.warnings
        );
    }

    #[test]
    fn binary_is_an_error_and_warnings_are_capped() {
        let err = parse(b"Package: a\0\n").unwrap_err();
        assert!(err.0.contains("NUL byte at offset 10"), "{err}");
        let many = "x\n\n".repeat(100);
        let out = parse(many.as_bytes()).unwrap();
        assert_eq!(out.warnings.len(), MAX_WARNINGS + 1);
        assert_eq!(out.warnings[MAX_WARNINGS], "80 more problems not shown");
    }

    #[test]
    fn states_with_files_on_disk() {
        for (status, want) in [
            ("install ok installed", true),
            ("hold ok installed", true),
            ("deinstall ok installed", true),
            ("install ok unpacked", true),
            ("install ok triggers-pending", true),
            ("install ok half-configured", true),
            ("deinstall ok config-files", false),
            ("purge ok not-installed", false),
            ("install reinstreq half-installed", false),
        ] {
            assert_eq!(is_installed(status), Ok(want), "{status}");
        }
        assert!(is_installed("install ok exploded").unwrap_err().contains("unknown package state"));
        assert!(is_installed("install ok").is_err());
    }

    #[test]
    fn source_forms() {
        assert_eq!(parse_source("gcc-12 (12.2.0-14)", "1").unwrap().version, "12.2.0-14");
        assert_eq!(parse_source("zlib", "1:1.2").unwrap().version, "1:1.2");
        assert!(parse_source("x (", "1").is_err());
        assert!(parse_source("(1.0)", "1").is_err());
    }

    /// Parse this machine's dpkg database and compare with `dpkg-query -W`.
    #[test]
    fn this_machine_matches_dpkg_query() {
        let Ok(data) = std::fs::read("/var/lib/dpkg/status") else {
            println!("skipped: /var/lib/dpkg/status not present");
            return;
        };
        // Only packages with a configured state count; dpkg-query -W also lists config-files packages, so
        // ask it for the status and count the installed ones.
        let Ok(q) = std::process::Command::new("dpkg-query")
            .args(["-W", "-f", "${Package}\t${db:Status-Status}\n"])
            .output()
        else {
            println!("skipped: dpkg-query not available");
            return;
        };
        let listed = String::from_utf8_lossy(&q.stdout);
        let expected = listed.lines().filter(|l| l.ends_with("\tinstalled")).count();
        let out = parse(&data).unwrap();
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(out.packages.len(), expected);
        assert!(expected > 0);
    }
}
