//! The common form every ignore-file entry is turned into, and how an entry is matched against findings.
//!
//! Each ignore format (`.palisadeignore`, `.trivyignore`, `.trivyignore.yaml`) is parsed into a list of
//! [`IgnoreRule`]s; [`crate::apply`] then only deals with this one shape.

use crate::purl::PurlPattern;
use globset::{GlobBuilder, GlobMatcher};
use palisade_core::findings::license::LicenseFinding;
use palisade_core::findings::misconfig::Misconfiguration;
use palisade_core::findings::secret::SecretFinding;
use palisade_core::findings::vuln::VulnFinding;
use time::Date;
use time::macros::format_description;

/// Which kind of finding a rule may suppress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Any,
    Vuln,
    Secret,
    Misconfig,
}

/// One entry of an ignore file.
#[derive(Debug, Clone)]
pub(crate) struct IgnoreRule {
    /// Vulnerability id or alias, secret rule id or fingerprint, or check id.
    pub id: String,
    pub kind: Kind,
    /// Purl scopes (vulnerabilities only); empty = every package.
    pub purls: Vec<PurlPattern>,
    /// Path globs; empty = every path.
    pub paths: Vec<GlobMatcher>,
    /// Last day the entry suppresses; `None` = forever.
    pub expires: Option<Date>,
    /// Why the finding is accepted, as written in the file (may be empty for Trivy's plain format).
    pub reason: String,
    /// `file:line` of the entry.
    pub origin: String,
}

impl IgnoreRule {
    /// True when the entry no longer suppresses on `today` (it expired on a day before today).
    pub(crate) fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|d| d < today)
    }

    /// The text stored in a finding's `suppressed` field.
    pub(crate) fn suppression_reason(&self) -> String {
        if self.reason.trim().is_empty() {
            format!("ignored by {}", self.origin)
        } else {
            format!("ignored by {}: {}", self.origin, self.reason.trim())
        }
    }

    /// One line for `PolicySummary::expired_entries`.
    pub(crate) fn expired_description(&self) -> String {
        let date = self.expires.map(|d| d.to_string()).unwrap_or_default();
        format!("{}: {} (expired {date})", self.origin, self.id)
    }

    fn paths_match<'a>(&self, mut paths: impl Iterator<Item = &'a str>) -> bool {
        if self.paths.is_empty() {
            return true;
        }
        paths.any(|p| {
            let p = p.trim_start_matches('/');
            self.paths.iter().any(|g| g.is_match(p))
        })
    }

    /// Does this entry cover a vulnerability finding (by id or any alias, purl scope and package paths)?
    pub(crate) fn matches_vuln(&self, f: &VulnFinding) -> bool {
        if !matches!(self.kind, Kind::Any | Kind::Vuln) {
            return false;
        }
        let id_ok =
            f.id.eq_ignore_ascii_case(&self.id) || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(&self.id));
        if !id_ok {
            return false;
        }
        if !self.purls.is_empty() && !self.purls.iter().any(|p| p.matches(&f.purl)) {
            return false;
        }
        self.paths_match(f.locations.iter().map(|l| l.path.as_str()))
    }

    /// Does this entry cover a secret (by rule id or fingerprint, and path)?
    pub(crate) fn matches_secret(&self, f: &SecretFinding) -> bool {
        if !matches!(self.kind, Kind::Any | Kind::Secret) || !self.purls.is_empty() {
            return false;
        }
        let id_ok = f.rule_id.eq_ignore_ascii_case(&self.id) || f.fingerprint.eq_ignore_ascii_case(&self.id);
        id_ok && self.paths_match(std::iter::once(f.path.as_str()))
    }

    /// Does this entry cover a failed check (by check id and file)?
    pub(crate) fn matches_misconfig(&self, f: &Misconfiguration) -> bool {
        if !matches!(self.kind, Kind::Any | Kind::Misconfig) || !self.purls.is_empty() {
            return false;
        }
        f.check_id.eq_ignore_ascii_case(&self.id) && self.paths_match(std::iter::once(f.file.as_str()))
    }
}

impl IgnoreRule {
    /// Does this entry waive a licence finding? The id is the licence: the whole expression, the raw text,
    /// or one licence id of the expression; `purl` scopes it to a package, `paths` to files.
    pub(crate) fn matches_license(&self, f: &LicenseFinding) -> bool {
        if self.kind != Kind::Any {
            return false;
        }
        let id = self.id.as_str();
        let id_ok = f.raw.eq_ignore_ascii_case(id)
            || f.expression.as_deref().is_some_and(|e| {
                e.eq_ignore_ascii_case(id) || e.split([' ', '(', ')']).any(|t| t.eq_ignore_ascii_case(id))
            });
        if !id_ok {
            return false;
        }
        if !self.purls.is_empty()
            && !f.purl.as_deref().is_some_and(|p| self.purls.iter().any(|r| r.matches(p)))
        {
            return false;
        }
        self.paths_match(std::iter::once(f.path.as_str()))
    }
}

/// Parse `YYYY-MM-DD`. A full RFC 3339 time (`2024-08-20T00:00:00Z`) is accepted and cut to its date.
pub(crate) fn parse_date(s: &str) -> Result<Date, String> {
    let s = s.trim();
    let day = s.get(..10).unwrap_or(s);
    let rest = s.get(10..).unwrap_or("");
    if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with('t') || rest.starts_with(' ')) {
        return Err(format!("invalid date {s:?} (expected YYYY-MM-DD)"));
    }
    Date::parse(day, format_description!("[year]-[month]-[day]"))
        .map_err(|e| format!("invalid date {s:?} (expected YYYY-MM-DD): {e}"))
}

/// Compile a path glob: `*` and `?` stay inside one path segment, `**` spans segments. A leading `/` is
/// ignored, as finding paths are relative to the artifact root.
pub(crate) fn compile_glob(pattern: &str) -> Result<GlobMatcher, String> {
    let p = pattern.trim().trim_start_matches('/');
    if p.is_empty() {
        return Err("empty path glob".into());
    }
    GlobBuilder::new(p)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("invalid path glob {pattern:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_reject_garbage() {
        assert_eq!(parse_date("2024-08-20").map(|d| d.to_string()), Ok("2024-08-20".to_string()));
        assert_eq!(parse_date("2024-08-20T10:00:00Z").map(|d| d.to_string()), Ok("2024-08-20".to_string()));
        assert!(parse_date("2024-13-01").is_err());
        assert!(parse_date("next year").is_err());
        assert!(parse_date("2024-08-201").is_err());
        assert!(parse_date("").is_err());
    }

    #[test]
    fn globs_keep_star_in_one_segment() {
        let g = compile_glob("config/*.yaml").unwrap_or_else(|e| panic!("{e}"));
        assert!(g.is_match("config/app.yaml"));
        assert!(!g.is_match("config/sub/app.yaml"));
        let g = compile_glob("/**/test/**").unwrap_or_else(|e| panic!("{e}"));
        assert!(g.is_match("src/test/keys.pem"));
        assert!(compile_glob("a[").is_err());
        assert!(compile_glob("  ").is_err());
    }
}
