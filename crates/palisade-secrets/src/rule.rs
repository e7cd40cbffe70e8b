//! The shape of a detection rule. The built-in rules live in [`mod@crate::rules`]; user rules come from the
//! config file ([`crate::config`]) and are turned into the same shape.

use palisade_core::findings::secret::Severity;
use serde::Serialize;

/// A checksum that a token format carries and that is verified before a match is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`) and npm (`npm_`) tokens: `prefix` characters, then 30
    /// random base62 characters, then the CRC-32 of those 30 characters in base62, left-padded with `0`
    /// to 6 characters.
    Crc32Base62 { prefix_len: usize },
}

/// How a rule finds candidates in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detector {
    /// `pattern` is a regex run on a window around each keyword hit.
    Regex,
    /// `pattern` is a regex on the file path; the file itself is the finding (e.g. a PKCS#12 keystore).
    FileName,
    /// Kubernetes `Secret` manifests (YAML): every non-empty entry under `data:`/`stringData:`.
    K8sSecret,
}

/// How the matched secret is shown in findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Redact {
    /// The first few characters followed by `*****`.
    Prefix,
    /// Only the first line of the match (the `-----BEGIN ...-----` header of a key block).
    Header,
}

/// One detection rule.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Stable id, e.g. `github-pat`; used in config overrides, ignore files and reports.
    pub id: &'static str,
    /// Short human title.
    pub title: &'static str,
    /// What the rule finds and which published format facts it is based on.
    pub doc: &'static str,
    pub severity: Severity,
    /// Lower-case literals of which at least one occurs in or right next to every match: the cheap
    /// prefilter (one Aho-Corasick pass for all rules, ASCII case-insensitive).
    pub keywords: &'static [&'static str],
    /// The regex (Rust `regex` syntax, bytes). The secret is the capture group named `s`, else the first
    /// capture group that participated, else the whole match.
    pub pattern: &'static str,
    /// Minimum Shannon entropy (bits per byte) of the secret.
    pub entropy: Option<f32>,
    /// Longest secret reported (longer candidates are data, not credentials). Checked after the match so
    /// that patterns can use unbounded repetition, which keeps their automata small.
    pub max_len: Option<usize>,
    /// Checksum to verify when the format has one.
    pub checksum: Option<Checksum>,
    /// Regexes on the secret that mark a placeholder or known example value (never reported).
    pub allow: &'static [&'static str],
    /// Glob patterns: when non-empty the rule only runs on matching paths (matched on the full path and
    /// on the file name, case-insensitively).
    pub paths: &'static [&'static str],
    /// The match may span lines (key blocks); the search window reaches up to 64 KiB past the keyword.
    pub multiline: bool,
    pub detector: Detector,
    pub redact: Redact,
}

impl Rule {
    /// Defaults that rule definitions override with struct-update syntax.
    pub const BASE: Rule = Rule {
        id: "",
        title: "",
        doc: "",
        severity: Severity::High,
        keywords: &[],
        pattern: "",
        entropy: None,
        max_len: None,
        checksum: None,
        allow: &[],
        paths: &[],
        multiline: false,
        detector: Detector::Regex,
        redact: Redact::Prefix,
    };
}
