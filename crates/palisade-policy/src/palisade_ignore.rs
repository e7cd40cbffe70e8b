//! `.palisadeignore`: Palisade's own ignore file, YAML (documented in `docs/ignore-file.md`).
//!
//! ```yaml
//! ignore:
//!   - id: CVE-2023-4863              # vuln id or any alias, secret rule id or fingerprint, check id
//!     purl: pkg:npm/sharp            # optional: exact purl, or without version/qualifiers for all versions
//!     paths: ["app/**"]              # optional globs over package locations, secret paths, check files
//!     expires: 2026-06-30            # optional: last day the entry applies
//!     reason: not reachable, only used at build time   # required
//! ```
//!
//! Unknown keys are errors (a typo such as `expire:` must not silently make an entry permanent), and so is an
//! entry without `reason`. Every error names the file and the line.

use crate::PolicyError;
use crate::purl::PurlPattern;
use crate::rule::{IgnoreRule, Kind, compile_glob, parse_date};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    ignore: Vec<Spanned<RawEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: Option<String>,
    purl: Option<String>,
    #[serde(default)]
    paths: Vec<String>,
    expires: Option<String>,
    reason: Option<String>,
}

/// Parse the text of a `.palisadeignore` file named `path`.
pub(crate) fn parse(path: &Path, text: &str) -> Result<Vec<IgnoreRule>, PolicyError> {
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(Vec::new());
    }
    let raw: RawFile = serde_saphyr::from_str(text).map_err(|e| crate::yaml_error(path, &e))?;
    let mut rules = Vec::with_capacity(raw.ignore.len());
    for (index, entry) in raw.ignore.into_iter().enumerate() {
        let line = entry.referenced.line() as usize;
        let e = entry.value;
        let err = |message: String| PolicyError::Entry { path: path.to_path_buf(), line, message };
        let id = match e.id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => return Err(err(format!("entry {} has no `id`", index + 1))),
        };
        let reason = match e.reason.as_deref().map(str::trim) {
            Some(r) if !r.is_empty() => r.to_string(),
            _ => {
                return Err(err(format!(
                    "entry {} ({id}) has no `reason`; say why it is accepted",
                    index + 1
                )));
            }
        };
        let purls = match &e.purl {
            Some(p) => vec![PurlPattern::parse(p).map_err(|m| err(format!("entry {id}: {m}")))?],
            None => Vec::new(),
        };
        let paths = e
            .paths
            .iter()
            .map(|p| compile_glob(p).map_err(|m| err(format!("entry {id}: {m}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let expires = match &e.expires {
            Some(d) => Some(parse_date(d).map_err(|m| err(format!("entry {id}: `expires`: {m}")))?),
            None => None,
        };
        rules.push(IgnoreRule {
            id,
            kind: Kind::Any,
            purls,
            paths,
            expires,
            reason,
            origin: format!("{}:{line}", path.display()),
        });
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new(".palisadeignore")
    }

    #[test]
    fn parses_full_entries() {
        let text = "# accepted risks\nignore:\n  - id: CVE-2023-4863\n    purl: pkg:npm/sharp\n    paths: [\"app/**\"]\n    expires: 2026-06-30\n    reason: build-time only\n  - id: github-pat\n    reason: test token\n";
        let rules = parse(p(), text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].id, "CVE-2023-4863");
        assert_eq!(rules[0].purls.len(), 1);
        assert_eq!(rules[0].paths.len(), 1);
        assert_eq!(rules[0].expires.map(|d| d.to_string()).as_deref(), Some("2026-06-30"));
        assert_eq!(rules[0].origin, ".palisadeignore:3");
        assert_eq!(rules[1].origin, ".palisadeignore:8");
        assert!(rules[1].expires.is_none());
    }

    #[test]
    fn empty_or_comment_only_file_has_no_rules() {
        assert!(parse(p(), "").map(|r| r.is_empty()).unwrap_or(false));
        assert!(parse(p(), "# nothing yet\n\n").map(|r| r.is_empty()).unwrap_or(false));
        assert!(parse(p(), "ignore: []\n").map(|r| r.is_empty()).unwrap_or(false));
    }

    #[test]
    fn missing_reason_names_file_line_and_entry() {
        let text = "ignore:\n  - id: CVE-1\n    reason: ok\n  - id: CVE-2\n";
        let msg = parse(p(), text).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with(".palisadeignore:4:"), "{msg}");
        assert!(msg.contains("CVE-2") && msg.contains("reason"), "{msg}");
    }

    #[test]
    fn bad_values_are_errors_with_line() {
        let cases = [
            ("ignore:\n  - reason: x\n", ".palisadeignore:2:", "no `id`"),
            ("ignore:\n  - id: A\n    reason: x\n    expires: soon\n", ".palisadeignore:2:", "invalid date"),
            ("ignore:\n  - id: A\n    reason: x\n    purl: lodash\n", ".palisadeignore:2:", "invalid purl"),
            (
                "ignore:\n  - id: A\n    reason: x\n    paths: [\"a[\"]\n",
                ".palisadeignore:2:",
                "invalid path glob",
            ),
        ];
        for (text, prefix, needle) in cases {
            let msg = parse(p(), text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(msg.starts_with(prefix) && msg.contains(needle), "{text:?} -> {msg}");
        }
    }

    #[test]
    fn malformed_yaml_and_unknown_keys_name_the_line() {
        let msg = parse(p(), "ignore:\n  - id: A\n    reason: [unclosed\n").err().map(|e| e.to_string());
        let msg = msg.unwrap_or_default();
        assert!(msg.starts_with(".palisadeignore:"), "{msg}");
        assert!(!msg.starts_with(".palisadeignore:0"), "{msg}");
        let msg = parse(p(), "ignore:\n  - id: A\n    reason: x\n    expire: 2020-01-01\n")
            .err()
            .map(|e| e.to_string());
        let msg = msg.unwrap_or_default();
        assert!(msg.starts_with(".palisadeignore:4:") && msg.contains("expire"), "{msg}");
    }
}
