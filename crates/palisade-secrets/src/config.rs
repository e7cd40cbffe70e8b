//! Scanner configuration: limits, user rules and overrides, read from TOML.
//!
//! ```toml
//! max_file_size = 10485760          # bytes; larger files are skipped (default 10 MiB)
//! require_checksums = true          # drop GitHub/npm tokens whose CRC-32 does not verify (default true)
//! disable = ["generic-api-key"]     # rule ids to turn off
//! allow_paths = ["**/testdata/**"]  # globs: matching files are not scanned at all
//! allow_patterns = ["^dummy"]       # regexes: a secret (or its whole match) matching one is dropped
//! scan_examples = false             # broad rules in docs, examples and test data too (default false)
//!
//! [severity]                        # per-rule severity overrides
//! jwt = "low"
//!
//! [[rules]]                         # user rules (same fields as built-in ones)
//! id = "acme-token"
//! title = "ACME internal token"
//! pattern = 'acme_(?P<s>[a-z0-9]{32})'
//! keywords = ["acme_"]              # optional; without keywords the regex runs over the whole file
//! severity = "high"                 # default high
//! entropy = 3.0                     # optional
//! allow = ["^acme_0+$"]             # optional regexes on the secret
//! paths = ["*.env"]                 # optional globs limiting the rule to some files
//! multiline = false
//! ```
//!
//! A user rule with the id of a built-in rule replaces it.

use crate::SecretsError;
use palisade_core::findings::secret::Severity;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Default for [`Config::max_file_size`]: 10 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// Everything that tunes a [`crate::Scanner`].
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Files larger than this many bytes are skipped.
    pub max_file_size: u64,
    /// Drop matches of checksum-carrying formats whose checksum does not verify.
    pub require_checksums: bool,
    /// Rule ids to disable.
    pub disable: Vec<String>,
    /// Per-rule severity overrides (`rule id -> severity`).
    pub severity: BTreeMap<String, String>,
    /// Glob patterns of paths never scanned.
    pub allow_paths: Vec<String>,
    /// Regexes; a secret (or the whole match) matching one is not reported.
    pub allow_patterns: Vec<String>,
    /// Run the broad (assignment) rules in documentation, examples and test data too (see
    /// [`crate::context`]); by default they do not report there.
    pub scan_examples: bool,
    /// Additional rules, or replacements of built-in ones (same id).
    pub rules: Vec<UserRule>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            require_checksums: true,
            disable: Vec::new(),
            severity: BTreeMap::new(),
            allow_paths: Vec::new(),
            allow_patterns: Vec::new(),
            scan_examples: false,
            rules: Vec::new(),
        }
    }
}

/// A rule defined in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRule {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    pub pattern: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub entropy: Option<f32>,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub multiline: bool,
}

impl Config {
    /// Parse a TOML config.
    pub fn from_toml(text: &str) -> Result<Config, SecretsError> {
        toml::from_str(text).map_err(|e| SecretsError::Config(e.to_string()))
    }

    /// Read and parse a TOML config file.
    pub fn from_file(path: &Path) -> Result<Config, SecretsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SecretsError::Config(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml(&text).map_err(|e| SecretsError::Config(format!("{}: {e}", path.display())))
    }

    pub(crate) fn parse_severity(rule: &str, s: &str) -> Result<Severity, SecretsError> {
        s.parse::<Severity>().map_err(|e| SecretsError::Config(format!("rule {rule}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_config() {
        let c = Config::from_toml(
            r#"
max_file_size = 100
disable = ["jwt"]
allow_paths = ["**/fixtures/**"]
[severity]
generic-password = "low"
[[rules]]
id = "acme"
pattern = 'acme_[a-z]{8}'
keywords = ["acme_"]
"#,
        );
        let c = match c {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(c.max_file_size, 100);
        assert_eq!(c.disable, vec!["jwt".to_string()]);
        assert_eq!(c.rules.len(), 1);
        assert!(c.require_checksums);
    }

    #[test]
    fn rejects_unknown_keys() {
        let e = Config::from_toml("max_size = 3").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("max_size"), "{e}");
    }
}
