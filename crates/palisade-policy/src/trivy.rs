//! Trivy's ignore files, read for compatibility so projects moving from Trivy keep their accepted risks.
//!
//! * `.trivyignore` (plain): one finding id per line, `#` starts a comment, an optional `exp:YYYY-MM-DD`
//!   after the id ends the entry's validity. Ids apply to every kind of finding.
//! * `.trivyignore.yaml`: top-level `vulnerabilities`, `misconfigurations`, `secrets` and `licenses` (the
//!   id a licence: `GPL-3.0` waives `GPL-3.0-only` and `GPL-3.0-or-later`) lists of entries with `id`,
//!   `paths`, `purls` (vulnerabilities), `expired_at` and `statement`.
//!
//! Unlike `.palisadeignore`, a reason is optional here because Trivy does not require one.

use crate::PolicyError;
use crate::purl::PurlPattern;
use crate::rule::{IgnoreRule, Kind, compile_glob, parse_date};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::path::Path;

/// Parse a plain `.trivyignore`. Unknown tokens after the id are reported in `warnings`.
pub(crate) fn parse_plain(
    path: &Path,
    text: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<IgnoreRule>, PolicyError> {
    let mut rules = Vec::new();
    for (n, raw_line) in text.lines().enumerate() {
        let line = n + 1;
        let content = raw_line.split_once('#').map_or(raw_line, |(before, _)| before).trim();
        let mut tokens = content.split_whitespace();
        let Some(id) = tokens.next() else {
            continue;
        };
        let mut expires = None;
        for tok in tokens {
            if let Some(date) = tok.strip_prefix("exp:") {
                let d = parse_date(date).map_err(|message| PolicyError::Entry {
                    path: path.to_path_buf(),
                    line,
                    message: format!("{id}: `exp:`: {message}"),
                })?;
                expires = Some(d);
            } else {
                warnings
                    .push(format!("{}:{line}: ignoring unknown token {tok:?} after {id}", path.display()));
            }
        }
        rules.push(IgnoreRule {
            id: id.to_string(),
            kind: Kind::Any,
            purls: Vec::new(),
            paths: Vec::new(),
            expires,
            reason: String::new(),
            origin: format!("{}:{line}", path.display()),
        });
    }
    Ok(rules)
}

#[derive(Debug, Default, Deserialize)]
struct RawFile {
    #[serde(default)]
    vulnerabilities: Option<Vec<Spanned<RawEntry>>>,
    #[serde(default)]
    misconfigurations: Option<Vec<Spanned<RawEntry>>>,
    #[serde(default)]
    secrets: Option<Vec<Spanned<RawEntry>>>,
    #[serde(default)]
    licenses: Option<Vec<Spanned<RawEntry>>>,
}

#[derive(Debug, Deserialize)]
struct RawEntry {
    id: Option<String>,
    #[serde(default)]
    paths: Option<Vec<String>>,
    #[serde(default)]
    purls: Option<Vec<String>>,
    expired_at: Option<String>,
    statement: Option<String>,
}

/// Parse a `.trivyignore.yaml`.
pub(crate) fn parse_yaml(
    path: &Path,
    text: &str,
    _warnings: &mut Vec<String>,
) -> Result<Vec<IgnoreRule>, PolicyError> {
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(Vec::new());
    }
    let raw: RawFile = serde_saphyr::from_str(text).map_err(|e| crate::yaml_error(path, &e))?;
    let mut rules = Vec::new();
    let sections = [
        (Kind::Vuln, "vulnerabilities", raw.vulnerabilities),
        (Kind::Misconfig, "misconfigurations", raw.misconfigurations),
        (Kind::Secret, "secrets", raw.secrets),
        (Kind::License, "licenses", raw.licenses),
    ];
    for (kind, section, entries) in sections {
        for entry in entries.unwrap_or_default() {
            let line = entry.referenced.line() as usize;
            let e = entry.value;
            let err = |message: String| PolicyError::Entry { path: path.to_path_buf(), line, message };
            let id = match e.id.as_deref().map(str::trim) {
                Some(id) if !id.is_empty() => id.to_string(),
                _ => return Err(err(format!("`{section}` entry has no `id`"))),
            };
            let purls = e.purls.unwrap_or_default();
            if !purls.is_empty() && kind != Kind::Vuln {
                return Err(err(format!("{id}: `purls` only applies to vulnerabilities, not {section}")));
            }
            let purls = purls
                .iter()
                .map(|p| PurlPattern::parse(p).map_err(|m| err(format!("{id}: {m}"))))
                .collect::<Result<Vec<_>, _>>()?;
            let paths = e
                .paths
                .unwrap_or_default()
                .iter()
                .map(|p| compile_glob(p).map_err(|m| err(format!("{id}: {m}"))))
                .collect::<Result<Vec<_>, _>>()?;
            let expires = match &e.expired_at {
                Some(d) => Some(parse_date(d).map_err(|m| err(format!("{id}: `expired_at`: {m}")))?),
                None => None,
            };
            rules.push(IgnoreRule {
                id,
                kind,
                purls,
                paths,
                expires,
                reason: e.statement.unwrap_or_default(),
                origin: format!("{}:{line}", path.display()),
            });
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_comments_and_expiry() {
        let text = "# accepted\nCVE-2019-14697\n\nCVE-2022-0001 exp:2023-01-31  # until the rebuild\n  github-pat\nAVD-DS-0002 foo\n";
        let mut warnings = Vec::new();
        let rules =
            parse_plain(Path::new(".trivyignore"), text, &mut warnings).unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2019-14697", "CVE-2022-0001", "github-pat", "AVD-DS-0002"]);
        assert_eq!(rules[1].expires.map(|d| d.to_string()).as_deref(), Some("2023-01-31"));
        assert_eq!(rules[1].origin, ".trivyignore:4");
        assert!(rules[0].expires.is_none());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains(".trivyignore:6") && warnings[0].contains("foo"));
    }

    #[test]
    fn plain_bad_expiry_names_file_and_line() {
        let text = "CVE-1\nCVE-2 exp:2023-02-30\n";
        let msg =
            parse_plain(Path::new("x/.trivyignore"), text, &mut Vec::new()).err().map(|e| e.to_string());
        let msg = msg.unwrap_or_default();
        assert!(msg.starts_with("x/.trivyignore:2:") && msg.contains("CVE-2"), "{msg}");
    }

    #[test]
    fn yaml_sections_map_to_kinds() {
        let text = "vulnerabilities:\n  - id: CVE-2022-40897\n    paths:\n      - \"usr/local/lib/python3.9/site-packages/setuptools-58.1.0.dist-info/METADATA\"\n    statement: Accept the risk\n  - id: CVE-2023-0001\n    purls:\n      - \"pkg:npm/lodash\"\n    expired_at: 2023-09-01\nmisconfigurations:\n  - id: AVD-DS-0001\n  - id: AVD-K8S-0005\n    paths: [\"deploy/*.yaml\"]\nsecrets:\n  - id: aws-access-key-id\n    paths: [\"tests/**\"]\nlicenses:\n  - id: GPL-3.0\n";
        let mut warnings = Vec::new();
        let rules =
            parse_yaml(Path::new(".trivyignore.yaml"), text, &mut warnings).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rules.len(), 6);
        assert_eq!(rules[0].kind, Kind::Vuln);
        assert_eq!(rules[0].reason, "Accept the risk");
        assert_eq!(rules[0].origin, ".trivyignore.yaml:2");
        assert_eq!(rules[1].purls.len(), 1);
        assert_eq!(rules[1].expires.map(|d| d.to_string()).as_deref(), Some("2023-09-01"));
        assert_eq!(rules[2].kind, Kind::Misconfig);
        assert_eq!(rules[4].kind, Kind::Secret);
        assert_eq!(rules[4].origin, ".trivyignore.yaml:15");
        assert_eq!(rules[5].kind, Kind::License);
        assert_eq!(rules[5].id, "GPL-3.0");
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn yaml_errors_name_file_and_line() {
        let p = Path::new(".trivyignore.yaml");
        let cases = [
            ("vulnerabilities:\n  - id: CVE-1\n  - paths: [a]\n", ".trivyignore.yaml:3:", "no `id`"),
            ("secrets:\n  - id: x\n    purls: [\"pkg:npm/a\"]\n", ".trivyignore.yaml:2:", "only applies"),
            (
                "vulnerabilities:\n  - id: CVE-1\n    expired_at: tomorrow\n",
                ".trivyignore.yaml:2:",
                "invalid date",
            ),
            (
                "vulnerabilities:\n  - id: CVE-1\n    purls: [\"npm/x\"]\n",
                ".trivyignore.yaml:2:",
                "invalid purl",
            ),
        ];
        for (text, prefix, needle) in cases {
            let msg = parse_yaml(p, text, &mut Vec::new()).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(msg.starts_with(prefix) && msg.contains(needle), "{text:?} -> {msg}");
        }
        let msg =
            parse_yaml(p, "vulnerabilities:\n  - id: [x\n", &mut Vec::new()).err().map(|e| e.to_string());
        let msg = msg.unwrap_or_default();
        assert!(msg.starts_with(".trivyignore.yaml:") && !msg.starts_with(".trivyignore.yaml:0"), "{msg}");
    }
}
