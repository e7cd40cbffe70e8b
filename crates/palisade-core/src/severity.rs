//! The one severity scale shared by every kind of finding.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Severity of a finding (vulnerability, secret, misconfiguration). Ordered from least to most severe, so
/// `severity >= Severity::High` gates. `Info` is for findings that are worth showing but not a risk by themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No source gave a severity.
    #[default]
    Unknown,
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 6] = [
        Severity::Unknown,
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Severity of a CVSS base score (v3.x and v4.0 qualitative scale; 0.0 counts as `Low`).
    pub fn from_cvss_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score >= 0.0 {
            Severity::Low
        } else {
            Severity::Unknown
        }
    }

    /// Parse a comma-separated list such as `critical,high` (spaces allowed, empty items ignored).
    pub fn parse_list(s: &str) -> Result<Vec<Severity>, ParseSeverityError> {
        let mut out = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let sev: Severity = item.parse()?;
            if !out.contains(&sev) {
                out.push(sev);
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`Severity::from_str`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSeverityError(pub String);

impl fmt::Display for ParseSeverityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown severity {:?} (expected one of critical, high, medium, low, info, unknown)",
            self.0
        )
    }
}

impl std::error::Error for ParseSeverityError {}

impl FromStr for Severity {
    type Err = ParseSeverityError;

    /// Accepts the Palisade names and the vendor spellings met in feeds (case-insensitive): GHSA `moderate`,
    /// Red Hat `important`, Debian `unimportant`/`negligible`, `none`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "info" | "informational" => Ok(Severity::Info),
            "high" | "important" => Ok(Severity::High),
            "medium" | "moderate" => Ok(Severity::Medium),
            "low" | "negligible" | "unimportant" | "none" => Ok(Severity::Low),
            "unknown" | "not yet assigned" | "undetermined" => Ok(Severity::Unknown),
            _ => Err(ParseSeverityError(s.to_string())),
        }
    }
}

impl Severity {
    /// Parse one name; `None` when it is not a severity.
    pub fn parse(s: &str) -> Option<Severity> {
        s.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_parse_and_serde() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert!(Severity::Info > Severity::Unknown);
        assert_eq!("MODERATE".parse::<Severity>(), Ok(Severity::Medium));
        assert_eq!(Severity::parse(" HIGH "), Some(Severity::High));
        assert_eq!(Severity::parse("urgent"), None);
        assert_eq!(Severity::parse_list("critical, high,,"), Ok(vec![Severity::Critical, Severity::High]));
        assert!(Severity::parse_list("critical,severe").is_err());
        assert_eq!(serde_json::to_string(&Severity::Medium).ok().as_deref(), Some("\"medium\""));
    }

    #[test]
    fn cvss_scale() {
        assert_eq!(Severity::from_cvss_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_cvss_score(5.3), Severity::Medium);
        assert_eq!(Severity::from_cvss_score(0.0), Severity::Low);
    }
}
