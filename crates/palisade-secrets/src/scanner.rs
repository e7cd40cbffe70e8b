//! The scan engine.
//!
//! One ASCII-case-insensitive keyword pass ([`crate::keywords`]) finds every rule keyword in a file. Each hit opens a
//! window for the rules of that keyword (the hit's line, at most 256 bytes back and 1 KiB forward; for
//! multi-line rules up to 64 KiB forward); a rule's overlapping windows are merged and its regex runs
//! once per merged window. Candidates then pass the filters: entropy, checksum, the rule's allow
//! regexes, placeholder detection, variable-name checks for generic rules, and the config's allow
//! patterns. Files with a NUL byte in their first 8 KiB are binary and skipped (file-name rules still
//! apply), as are files above the size limit.
//!
//! Rule regexes (built-in and user) are compiled with ASCII classes (`\w`, `\d`, `\b`, `(?i)` are
//! ASCII-only, as secrets are ASCII): this cuts compile time from ~0.45 s to ~0.05 s and the compiled
//! rule set from ~85 MB to ~14 MB; lazy-DFA caches are capped per regex (`DFA_CACHE`, `DFA_CACHE_BROAD`).
//!
//! Inline suppression: a line containing `palisade:allow-secret` keeps its findings but marks them
//! suppressed; the text after the marker is the reason (default `inline palisade:allow-secret`).

use crate::config::Config;
use crate::keywords::{Hit, KeywordIndex};
use crate::rule::{Checksum, Detector, Redact, Rule};
use crate::rules::RULES;
use crate::util;
use crate::{SecretsError, k8s};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use memchr::memmem;
use palisade_core::findings::secret::Severity;
use regex::bytes::Regex;
use std::collections::HashMap;
use std::sync::Arc;

/// Bytes inspected for NUL to decide that a file is binary.
pub const BINARY_SNIFF: usize = 8 * 1024;
/// Overlap of two windows of a file larger than `max_file_size` (more than any multi-line secret, such as a
/// PEM private key, spans).
pub const WINDOW_OVERLAP: usize = 64 * 1024;
/// Inline suppression marker.
pub const ALLOW_MARKER: &str = "palisade:allow-secret";
/// Other tools' inline markers, honoured the same way so that existing suppressions keep working.
pub const FOREIGN_ALLOW_MARKERS: [&str; 2] = ["pragma: allowlist secret", "gitleaks:allow"];

const BACK: usize = 256;
const FWD: usize = 1024;
const FWD_MULTILINE: usize = 64 * 1024;

/// One candidate secret found by [`Scanner::scan_bytes`]. It does not hold the secret: only its
/// redacted preview and fingerprint (its `Debug` output is therefore safe to log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMatch {
    pub rule_id: Arc<str>,
    pub title: Arc<str>,
    pub severity: Severity,
    /// 1-based line of the start of the secret.
    pub line: u32,
    /// 1-based byte column of the start of the secret.
    pub column: u32,
    /// Byte range of the secret in the scanned data.
    pub start: usize,
    pub end: usize,
    pub redacted: String,
    pub fingerprint: String,
    /// Set when an inline `palisade:allow-secret` marker suppresses the match.
    pub suppressed: Option<String>,
}

struct Compiled {
    id: Arc<str>,
    title: Arc<str>,
    severity: Severity,
    detector: Detector,
    regex: Option<Regex>,
    secret_group: Option<usize>,
    key_group: Option<usize>,
    entropy: Option<f32>,
    max_len: Option<usize>,
    checksum: Option<Checksum>,
    allow: Vec<Regex>,
    paths: Option<GlobSet>,
    multiline: bool,
    redact: Redact,
    /// Generic/contextual rule that yields to a specific rule matching the same bytes.
    broad: bool,
}

/// A compiled rule set plus limits; cheap to share between threads (`&Scanner` is `Sync`).
pub struct Scanner {
    rules: Vec<Compiled>,
    keywords: KeywordIndex,
    /// Per keyword: the rules it triggers.
    kw_rules: Vec<Vec<usize>>,
    /// Regex rules without keywords: run over the whole file.
    unanchored: Vec<usize>,
    filename_rules: Vec<usize>,
    allow_paths: GlobSet,
    allow_patterns: Vec<Regex>,
    max_file_size: u64,
    require_checksums: bool,
}

/// The rule source common to built-in and user rules.
struct Spec {
    id: String,
    title: String,
    severity: Severity,
    keywords: Vec<String>,
    pattern: String,
    entropy: Option<f32>,
    max_len: Option<usize>,
    checksum: Option<Checksum>,
    allow: Vec<String>,
    paths: Vec<String>,
    multiline: bool,
    detector: Detector,
    redact: Redact,
}

impl From<&Rule> for Spec {
    fn from(r: &Rule) -> Self {
        Spec {
            id: r.id.to_string(),
            title: r.title.to_string(),
            severity: r.severity,
            keywords: r.keywords.iter().map(|s| s.to_string()).collect(),
            pattern: r.pattern.to_string(),
            entropy: r.entropy,
            max_len: r.max_len,
            checksum: r.checksum,
            allow: r.allow.iter().map(|s| s.to_string()).collect(),
            paths: r.paths.iter().map(|s| s.to_string()).collect(),
            multiline: r.multiline,
            detector: r.detector,
            redact: r.redact,
        }
    }
}

/// Lazy-DFA cache per regex and thread: the broad rules' patterns (assignments with optional name parts)
/// build many states on source code, and thrash (rebuild states on every search) below ~4 MiB; the
/// provider rules' patterns need far less. The caps bound memory on hostile input to about
/// 11 x 4 + 190 x 1 MiB per thread; on real trees they stay well under.
const DFA_CACHE_BROAD: usize = 4 * 1024 * 1024;
const DFA_CACHE: usize = 1024 * 1024;

/// Compile a rule's regex; `dfa_cache` is [`DFA_CACHE`] or, for a broad rule's pattern, [`DFA_CACHE_BROAD`].
fn compile_regex(rule: &str, what: &str, pattern: &str, dfa_cache: usize) -> Result<Regex, SecretsError> {
    regex::bytes::RegexBuilder::new(pattern)
        .size_limit(50 * 1024 * 1024)
        .dfa_size_limit(dfa_cache)
        .unicode(false)
        .build()
        .map_err(|e| SecretsError::Rule { rule: rule.to_string(), message: format!("bad {what} regex: {e}") })
}

fn glob_set(rule: &str, globs: &[String]) -> Result<GlobSet, SecretsError> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let glob =
            GlobBuilder::new(g).case_insensitive(true).literal_separator(false).build().map_err(|e| {
                SecretsError::Rule { rule: rule.to_string(), message: format!("bad glob {g:?}: {e}") }
            })?;
        b.add(glob);
    }
    b.build().map_err(|e| SecretsError::Rule { rule: rule.to_string(), message: e.to_string() })
}

impl Scanner {
    /// Compile the built-in rules plus the config's user rules and overrides.
    pub fn new(config: &Config) -> Result<Scanner, SecretsError> {
        let mut specs: Vec<Spec> = RULES.iter().map(Spec::from).collect();
        for u in &config.rules {
            if u.id.trim().is_empty() {
                return Err(SecretsError::Config("a user rule has an empty id".into()));
            }
            let severity = match &u.severity {
                Some(s) => Config::parse_severity(&u.id, s)?,
                None => Severity::High,
            };
            let spec = Spec {
                id: u.id.clone(),
                title: u.title.clone().unwrap_or_else(|| u.id.clone()),
                severity,
                keywords: u
                    .keywords
                    .iter()
                    .map(|k| k.to_ascii_lowercase())
                    .filter(|k| !k.is_empty())
                    .collect(),
                pattern: u.pattern.clone(),
                entropy: u.entropy,
                max_len: None,
                checksum: None,
                allow: u.allow.clone(),
                paths: u.paths.clone(),
                multiline: u.multiline,
                detector: Detector::Regex,
                redact: Redact::Prefix,
            };
            match specs.iter_mut().find(|s| s.id == u.id) {
                Some(existing) => *existing = spec,
                None => specs.push(spec),
            }
        }
        for d in &config.disable {
            if !specs.iter().any(|s| &s.id == d) {
                return Err(SecretsError::Config(format!("disable: unknown rule id {d:?}")));
            }
        }
        specs.retain(|s| !config.disable.contains(&s.id));
        for (id, sev) in &config.severity {
            let sev = Config::parse_severity(id, sev)?;
            match specs.iter_mut().find(|s| &s.id == id) {
                Some(s) => s.severity = sev,
                None => return Err(SecretsError::Config(format!("severity: unknown rule id {id:?}"))),
            }
        }

        let mut rules = Vec::with_capacity(specs.len());
        let mut keywords: Vec<String> = Vec::new();
        let mut kw_index: HashMap<String, usize> = HashMap::new();
        let mut kw_rules: Vec<Vec<usize>> = Vec::new();
        let mut unanchored = Vec::new();
        let mut filename_rules = Vec::new();
        for (idx, s) in specs.iter().enumerate() {
            let regex = match s.detector {
                Detector::K8sSecret => None,
                _ => {
                    let cache =
                        if crate::rules::BROAD.contains(&s.id.as_str()) || s.pattern.contains("(?P<k>") {
                            DFA_CACHE_BROAD
                        } else {
                            DFA_CACHE
                        };
                    Some(compile_regex(&s.id, "pattern", &s.pattern, cache)?)
                }
            };
            let (secret_group, key_group) = match &regex {
                Some(r) => {
                    let names: Vec<Option<&str>> = r.capture_names().collect();
                    (names.iter().position(|n| *n == Some("s")), names.iter().position(|n| *n == Some("k")))
                }
                None => (None, None),
            };
            let allow = s
                .allow
                .iter()
                .map(|a| compile_regex(&s.id, "allow", a, DFA_CACHE))
                .collect::<Result<Vec<_>, _>>()?;
            let paths = if s.paths.is_empty() { None } else { Some(glob_set(&s.id, &s.paths)?) };
            match s.detector {
                Detector::FileName => filename_rules.push(idx),
                _ if s.keywords.is_empty() => unanchored.push(idx),
                _ => {
                    for k in &s.keywords {
                        let k = k.to_ascii_lowercase();
                        let slot = *kw_index.entry(k.clone()).or_insert_with(|| {
                            keywords.push(k);
                            kw_rules.push(Vec::new());
                            kw_rules.len() - 1
                        });
                        if let Some(v) = kw_rules.get_mut(slot)
                            && !v.contains(&idx)
                        {
                            v.push(idx);
                        }
                    }
                }
            }
            rules.push(Compiled {
                id: Arc::from(s.id.as_str()),
                title: Arc::from(s.title.as_str()),
                severity: s.severity,
                detector: s.detector,
                regex,
                secret_group,
                key_group,
                entropy: s.entropy,
                max_len: s.max_len,
                checksum: s.checksum,
                allow,
                paths,
                multiline: s.multiline,
                redact: s.redact,
                broad: key_group.is_some() || crate::rules::BROAD.contains(&s.id.as_str()),
            });
        }
        let keywords = KeywordIndex::new(&keywords);
        let allow_paths = glob_set("allow_paths", &config.allow_paths)?;
        let allow_patterns = config
            .allow_patterns
            .iter()
            .map(|p| compile_regex("allow_patterns", "allow", p, DFA_CACHE))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Scanner {
            rules,
            keywords,
            kw_rules,
            unanchored,
            filename_rules,
            allow_paths,
            allow_patterns,
            max_file_size: config.max_file_size,
            require_checksums: config.require_checksums,
        })
    }

    /// Number of active rules.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The size limit from the config: larger files are scanned in windows of this size.
    pub fn max_file_size(&self) -> u64 {
        self.max_file_size
    }

    /// True when the config's `allow_paths` exclude this path.
    pub fn path_allowed(&self, path: &str) -> bool {
        self.allow_paths.is_match(path)
    }

    /// True when some file-name rule matches the path (such files are wanted whatever their content).
    pub fn path_is_secret_file(&self, path: &str) -> bool {
        self.filename_rules
            .iter()
            .filter_map(|&i| self.rules.get(i))
            .any(|r| r.regex.as_ref().is_some_and(|re| re.is_match(path.as_bytes())))
    }

    /// Scan one file's content. `path` is used for path-restricted rules, file-name rules, allow paths
    /// and fingerprints. Returns matches sorted by position.
    pub fn scan_bytes(&self, path: &str, data: &[u8]) -> Vec<RawMatch> {
        let mut out = Vec::new();
        if self.path_allowed(path) {
            return out;
        }
        let file_name = path.rsplit('/').next().unwrap_or(path);
        let code = is_source_code(file_name);
        for &i in &self.filename_rules {
            let Some(r) = self.rules.get(i) else { continue };
            if r.regex.as_ref().is_some_and(|re| re.is_match(path.as_bytes())) {
                let digest = util::fingerprint("", "", data);
                out.push(RawMatch {
                    rule_id: r.id.clone(),
                    title: r.title.clone(),
                    severity: r.severity,
                    line: 1,
                    column: 1,
                    start: 0,
                    end: 0,
                    redacted: format!("<file {file_name}>"),
                    fingerprint: util::fingerprint(&r.id, path, digest.as_bytes()),
                    suppressed: None,
                });
            }
        }
        let sniff = data.get(..data.len().min(BINARY_SNIFF)).unwrap_or_default();
        if memchr::memchr(0, sniff).is_some() {
            return out;
        }
        let window = usize::try_from(self.max_file_size).unwrap_or(usize::MAX).max(WINDOW_OVERLAP * 2);
        if data.len() <= window {
            out.extend(self.scan_window(path, code, data));
            return out;
        }
        // A file larger than `max_file_size` is scanned in windows of that size that start at line starts
        // and overlap by WINDOW_OVERLAP bytes; a window keeps the matches that start before the next
        // window does, so each secret is reported once, with its line in the whole file.
        let (mut start, mut line_base) = (0usize, 0u32);
        while start < data.len() {
            let mut end = (start + window).min(data.len());
            if end < data.len() {
                // End the window at a line end when there is one in its last half.
                if let Some(nl) =
                    memchr::memrchr(b'\n', data.get(start + window / 2..end).unwrap_or_default())
                {
                    end = start + window / 2 + nl + 1;
                }
            }
            let next = if end >= data.len() {
                data.len()
            } else {
                let back = end.saturating_sub(WINDOW_OVERLAP).max(start + 1);
                // The next window starts at the first line start at or after `back`.
                match memchr::memchr(b'\n', data.get(back - 1..end).unwrap_or_default()) {
                    Some(i) => back + i,
                    None => end,
                }
            };
            let chunk = data.get(start..end).unwrap_or_default();
            for mut m in self.scan_window(path, code, chunk) {
                if start + m.start >= next && end < data.len() {
                    continue;
                }
                m.start += start;
                m.end += start;
                m.line = m.line.saturating_add(line_base);
                out.push(m);
            }
            let skipped = data.get(start..next).unwrap_or_default();
            line_base = line_base.saturating_add(
                u32::try_from(memchr::memchr_iter(b'\n', skipped).count()).unwrap_or(u32::MAX),
            );
            start = next;
        }
        out
    }

    /// Scan one window of a file (the whole file when it is under `max_file_size`).
    fn scan_window(&self, path: &str, code: bool, data: &[u8]) -> Vec<RawMatch> {
        let mut out = Vec::new();
        let file_name = path.rsplit('/').next().unwrap_or(path);

        // Keyword pass: windows per rule.
        let mut windows: Vec<(usize, usize, usize)> = Vec::new(); // (rule, start, end)
        let mut k8s_hits: Vec<(usize, usize)> = Vec::new(); // (rule, pos)
        let mut hits: Vec<Hit> = Vec::new();
        self.keywords.find_all(data, &mut hits);
        for m in hits {
            let Some(rs) = self.kw_rules.get(m.keyword) else { continue };
            // The hit's line window, shared by the single-line rules of its keyword.
            let mut line: Option<(usize, usize)> = None;
            for &ri in rs {
                let Some(r) = self.rules.get(ri) else { continue };
                if r.detector == Detector::K8sSecret {
                    k8s_hits.push((ri, m.start));
                    continue;
                }
                let (ws, we) = if r.multiline {
                    window(data, m.start, m.end, true)
                } else {
                    *line.get_or_insert_with(|| window(data, m.start, m.end, false))
                };
                windows.push((ri, ws, we));
            }
        }
        for &ri in &self.unanchored {
            windows.push((ri, 0, data.len()));
        }
        windows.sort_unstable();
        let mut pending: Vec<(usize, usize, usize)> = Vec::new(); // (start, end, rule)
        let mut iter = windows.into_iter().peekable();
        while let Some((ri, mut ws, mut we)) = iter.next() {
            while let Some(&(nr, ns, ne)) = iter.peek() {
                if nr == ri && ns <= we {
                    we = we.max(ne);
                    iter.next();
                } else {
                    break;
                }
            }
            ws = ws.min(we);
            let Some(r) = self.rules.get(ri) else { continue };
            if !self.rule_applies(r, path, file_name) {
                continue;
            }
            self.run_regex(ri, r, data, (ws, we), code, &mut pending);
        }
        // Kubernetes Secret documents, once per document.
        let mut seen_docs: Vec<(usize, usize)> = Vec::new();
        for (ri, pos) in k8s_hits {
            let Some(r) = self.rules.get(ri) else { continue };
            if !self.rule_applies(r, path, file_name) {
                continue;
            }
            let (doc, spans) = k8s::secret_values(data, pos);
            if seen_docs.contains(&(ri, doc)) {
                continue;
            }
            seen_docs.push((ri, doc));
            for (s, e) in spans {
                if self.global_allowed(data.get(s..e).unwrap_or_default(), None) {
                    continue;
                }
                pending.push((s, e, ri));
            }
        }

        pending.sort_unstable();
        pending.dedup();
        // A broad rule's match that overlaps a specific rule's match is the same secret: keep the specific.
        let specific: Vec<(usize, usize)> = pending
            .iter()
            .filter(|p| self.rules.get(p.2).is_some_and(|r| !r.broad))
            .map(|p| (p.0, p.1))
            .collect();
        if specific.len() < pending.len() {
            pending.retain(|&(s, e, ri)| {
                !self.rules.get(ri).is_some_and(|r| r.broad) || !specific.iter().any(|&(a, b)| a < e && s < b)
            });
        }
        let mut line = 1u32;
        let mut line_pos = 0usize; // offset where we counted lines up to
        let mut line_start = 0usize;
        for (s, e, ri) in pending {
            let Some(r) = self.rules.get(ri) else { continue };
            let seg = data.get(line_pos..s).unwrap_or_default();
            for nl in memchr::memchr_iter(b'\n', seg) {
                line = line.saturating_add(1);
                line_start = line_pos + nl + 1;
            }
            line_pos = s.max(line_pos);
            let secret = data.get(s..e).unwrap_or_default();
            let column = u32::try_from(s - line_start.min(s) + 1).unwrap_or(u32::MAX);
            let line_end =
                memchr::memchr(b'\n', data.get(s..).unwrap_or_default()).map_or(data.len(), |i| s + i);
            let line_text = data.get(line_start.min(s)..line_end).unwrap_or_default();
            let suppressed = inline_allow(line_text);
            out.push(RawMatch {
                rule_id: r.id.clone(),
                title: r.title.clone(),
                severity: r.severity,
                line,
                column,
                start: s,
                end: e,
                redacted: match r.redact {
                    Redact::Prefix => util::redact_prefix(secret),
                    Redact::Header => util::redact_header(secret),
                },
                fingerprint: util::fingerprint(&r.id, path, secret),
                suppressed,
            });
        }
        out
    }

    /// True when `value` starts with the prefix of a provider's token format (`xoxp-`, `ghp_`, ...): that
    /// provider's rule decides about it, not a generic assignment rule.
    fn has_provider_prefix(&self, value: &[u8]) -> bool {
        let mut hits = Vec::new();
        self.keywords.find_all(value.get(..value.len().min(32)).unwrap_or_default(), &mut hits);
        hits.iter().any(|h| {
            h.start == 0
                && h.end >= 4
                && self
                    .kw_rules
                    .get(h.keyword)
                    .is_some_and(|rs| rs.iter().any(|&ri| self.rules.get(ri).is_some_and(|r| !r.broad)))
        })
    }

    fn rule_applies(&self, r: &Compiled, path: &str, file_name: &str) -> bool {
        match &r.paths {
            None => true,
            Some(g) => g.is_match(path) || g.is_match(file_name),
        }
    }

    fn global_allowed(&self, secret: &[u8], whole: Option<&[u8]>) -> bool {
        self.allow_patterns.iter().any(|re| re.is_match(secret) || whole.is_some_and(|w| re.is_match(w)))
    }

    fn run_regex(
        &self,
        ri: usize,
        r: &Compiled,
        data: &[u8],
        (ws, we): (usize, usize),
        code: bool,
        out: &mut Vec<(usize, usize, usize)>,
    ) {
        let Some(re) = &r.regex else { return };
        let Some(hay) = data.get(ws..we) else { return };
        for caps in re.captures_iter(hay) {
            let m = match r.secret_group.and_then(|g| caps.get(g)) {
                Some(m) => Some(m),
                None => (1..caps.len()).filter(|&g| Some(g) != r.key_group).find_map(|g| caps.get(g)),
            };
            let Some(m) = m.or_else(|| caps.get(0)) else { continue };
            let secret = m.as_bytes();
            if secret.is_empty() || r.max_len.is_some_and(|max| secret.len() > max) {
                continue;
            }
            if let Some(min) = r.entropy
                && util::shannon_entropy(secret) < min
            {
                continue;
            }
            if let (Some(Checksum::Crc32Base62 { prefix_len }), true) = (r.checksum, self.require_checksums)
                && !util::verify_crc32_base62(secret, prefix_len)
            {
                continue;
            }
            if r.allow.iter().any(|a| a.is_match(secret)) || crate::known_public::is_known_public(secret) {
                continue;
            }
            if r.redact == Redact::Prefix && is_placeholder(secret) {
                continue;
            }
            if let Some(kg) = r.key_group {
                let key = caps.get(kg).map(|k| k.as_bytes()).unwrap_or_default();
                let quoted = ws + m.start() > 0 && matches!(data.get(ws + m.start() - 1), Some(b'"' | b'\''));
                if !generic_key_ok(key)
                    || !generic_value_ok(secret, code && !quoted)
                    || self.has_provider_prefix(secret)
                {
                    continue;
                }
            }
            if self.global_allowed(secret, caps.get(0).map(|w| w.as_bytes())) {
                continue;
            }
            out.push((ws + m.start(), ws + m.end(), ri));
        }
    }
}

/// The window searched for a keyword hit at `[s, e)`.
fn window(data: &[u8], s: usize, e: usize, multiline: bool) -> (usize, usize) {
    let lo = s.saturating_sub(BACK);
    let back = data.get(lo..s).unwrap_or_default();
    let ws = memchr::memrchr(b'\n', back).map_or(lo, |i| lo + i + 1);
    let we = if multiline {
        e.saturating_add(FWD_MULTILINE).min(data.len())
    } else {
        let hi = e.saturating_add(FWD).min(data.len());
        let fwd = data.get(e..hi).unwrap_or_default();
        memchr::memchr(b'\n', fwd).map_or(hi, |i| e + i)
    };
    (ws, we.max(ws))
}

/// The reason of an inline `palisade:allow-secret [reason]` marker on this line.
fn inline_allow(line: &[u8]) -> Option<String> {
    let Some(i) = memmem::find(line, ALLOW_MARKER.as_bytes()) else {
        return FOREIGN_ALLOW_MARKERS
            .iter()
            .find(|m| memmem::find(line, m.as_bytes()).is_some())
            .map(|m| format!("inline {m}"));
    };
    let rest = line.get(i + ALLOW_MARKER.len()..).unwrap_or_default();
    let rest = String::from_utf8_lossy(rest);
    let reason = rest
        .trim()
        .trim_start_matches([':', '-', ' '])
        .trim_end_matches("*/")
        .trim_end_matches("-->")
        .trim()
        .to_string();
    Some(if reason.is_empty() { "inline palisade:allow-secret".to_string() } else { reason })
}

/// Obvious placeholders: masked, templated or repeated filler values.
fn is_placeholder(secret: &[u8]) -> bool {
    let lower = secret.to_ascii_lowercase();
    const FILLERS: [&[u8]; 6] = [b"xxxxx", b"*****", b"#####", b".....", b"00000000", b"<your"];
    if FILLERS.iter().any(|f| memmem::find(&lower, f).is_some()) {
        return true;
    }
    secret.ends_with(b"...")
        || [&b"${"[..], b"{{", b"$(", b"%(", b"#{", b"<"].iter().any(|p| secret.starts_with(p))
        || periodic_tail(&lower)
}

/// The value ends in 12 or more characters that repeat a unit of at most four (`AKIATESTTESTTESTTEST`,
/// `abababababab`): a filler, never random (a random tail does so with probability below 10^-19).
fn periodic_tail(v: &[u8]) -> bool {
    const TAIL: usize = 12;
    let Some(tail) = v.len().checked_sub(TAIL).and_then(|start| v.get(start..)) else { return false };
    (1..=4).any(|p| tail.iter().zip(tail.iter().skip(p)).all(|(a, b)| a == b))
}

/// Variable names that mention a secret word but hold something else.
fn generic_key_ok(key: &[u8]) -> bool {
    let k = key.to_ascii_lowercase();
    let k = k.as_slice();
    const DENY_PART: [&[u8]; 20] = [
        b"public",
        // Hashes and digests of secrets are not secrets (`hashed_secret`, `hash_of_token`; `passwordHash`
        // is a suffix below). Plain `hash` would catch `hashicorp_token`.
        b"hashed",
        b"hash_",
        b"digest",
        b"checksum",
        b"fingerprint",
        b"csrf",
        b"xsrf",
        b"_name",
        b"name_",
        b"url",
        b"uri",
        b"file",
        b"path",
        b"length",
        b"size",
        b"format",
        b"placeholder",
        b"author",
        b"oauth2",
    ];
    if DENY_PART.iter().any(|d| memmem::find(k, d).is_some()) {
        return false;
    }
    const DENY_SUFFIX: [&[u8]; 13] = [
        b"hash",
        b"id",
        b"ids",
        b"name",
        b"type",
        b"version",
        b"mode",
        b"field",
        b"label",
        b"header",
        b"count",
        b"endpoint",
        b"timeout",
    ];
    !DENY_SUFFIX.iter().any(|d| k.ends_with(d))
}

/// Source files by extension: in these, a value that is not a string literal is an expression.
fn is_source_code(file_name: &str) -> bool {
    const EXT: [&str; 30] = [
        "rs", "c", "h", "cc", "cpp", "cxx", "hpp", "hh", "go", "java", "kt", "kts", "scala", "cs", "fs",
        "swift", "m", "mm", "js", "mjs", "cjs", "jsx", "ts", "tsx", "py", "rb", "php", "dart", "zig", "lua",
    ];
    file_name.rsplit_once('.').is_some_and(|(_, ext)| EXT.iter().any(|e| ext.eq_ignore_ascii_case(e)))
}

/// Values that are code or prose, not secrets. `code_expr`: the value is an unquoted expression in a
/// source file, where a bare name is an identifier or a type, never a literal.
fn generic_value_ok(v: &[u8], code_expr: bool) -> bool {
    let lower = v.to_ascii_lowercase();
    const DENY: [&[u8]; 17] = [
        b"example",
        b"placeholder",
        b"your_",
        b"your-",
        b"changeme",
        b"change_me",
        b"dummy",
        b"sample",
        b"redacted",
        b"replace",
        b"password",
        b"secret",
        b"undefined",
        b"process.env",
        b"abcdefgh",
        b"12345678",
        b"qwerty",
    ];
    if DENY.iter().any(|d| memmem::find(&lower, d).is_some()) {
        return false;
    }
    // Dotted identifier paths (`self.password`, `config.db.token`) and bare CONSTANT_NAMES.
    let ident_path = v.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        && v.contains(&b'.')
        && v.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
        && v.split(|&b| b == b'.').all(|p| p.first().is_some_and(|b| !b.is_ascii_digit()));
    let constant = v.iter().all(|&b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
        && v.iter().any(|b| b.is_ascii_uppercase())
        && v.contains(&b'_');
    let lower_word = v.iter().all(|&b| b.is_ascii_lowercase() || b == b'_' || b == b'-');
    // Rust/C++ paths in type annotations (`token: super::super::Foundation::HANDLE`).
    let code_path = memmem::find(v, b"::").is_some()
        && v.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
        && v.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
    // In source code, unquoted names are identifiers or types (`name: ::core::HRESULT`, `KeyState`).
    let bare_name = code_expr
        && v.first().is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && v.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b':' || b == b'.');
    !(ident_path || constant || lower_word || code_path || bare_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner() -> Scanner {
        match Scanner::new(&Config::default()) {
            Ok(s) => s,
            Err(e) => panic!("built-in rules must compile: {e}"),
        }
    }

    fn ids(s: &Scanner, path: &str, text: &str) -> Vec<String> {
        s.scan_bytes(path, text.as_bytes()).iter().map(|m| m.rule_id.to_string()).collect()
    }

    #[test]
    fn line_and_column() {
        let s = scanner();
        let text = "a\nb\n  key = AKIAZ7Y6X5W4V3U2T3S4\n";
        let m = s.scan_bytes("x", text.as_bytes());
        let aws: Vec<_> = m.iter().filter(|m| &*m.rule_id == "aws-access-key-id").collect();
        assert_eq!(aws.len(), 1, "{m:?}");
        assert_eq!((aws[0].line, aws[0].column), (3, 9));
        assert_eq!(&text[aws[0].start..aws[0].end], "AKIAZ7Y6X5W4V3U2T3S4");
        assert_eq!(aws[0].redacted, "AKIA*****");
    }

    #[test]
    fn binary_and_oversized_are_skipped() {
        let s = scanner();
        let mut data = b"\0\0\0 AKIAZ7Y6X5W4V3U2T3S4".to_vec();
        assert!(s.scan_bytes("x", &data).is_empty());
        data.retain(|&b| b != 0);
        assert!(!s.scan_bytes("x", &data).is_empty());
        let small = Scanner::new(&Config { max_file_size: 4, ..Config::default() });
        let small = match small {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        // Over the size limit is no longer skipped: scanned in windows.
        assert!(!small.scan_bytes("x", &data).is_empty());
    }

    /// A file larger than `max_file_size` is scanned in overlapping windows: a key on line 1, keys around
    /// every window boundary and a key on the last line are each found once, with the line in the whole file.
    #[test]
    fn oversized_files_are_scanned_in_windows() {
        let s = match Scanner::new(&Config { max_file_size: 200_000, ..Config::default() }) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let mut text = String::from("key = AKIAZ7Y6X5W4V3U2T3S4\n");
        let mut want = vec![1u32];
        let mut line = 1u32;
        while text.len() < 1_500_000 {
            line += 1;
            if line.is_multiple_of(997) {
                // AWS key ids are base32: a distinct suffix per line from its letters.
                let b32 = |i: u32| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[(i % 32) as usize]);
                let suffix: String = [line, line / 32, line / 1024, line / 32768].map(b32).iter().collect();
                text.push_str(&format!("id{line} = AKIAZ7Y6X5W4V3U2{suffix}\n"));
                want.push(line);
            } else {
                text.push_str("filler filler filler filler filler filler filler filler filler filler\n");
            }
        }
        text.push_str("last = AKIAZ7Y6X5W4V3U2T3S7\n");
        want.push(line + 1);
        let m = s.scan_bytes("big.txt", text.as_bytes());
        let got: Vec<u32> = m.iter().filter(|m| &*m.rule_id == "aws-access-key-id").map(|m| m.line).collect();
        assert_eq!(got, want);
        for m in &m {
            assert!(text[m.start..m.end].starts_with("AKIA"), "{m:?}");
        }
    }

    #[test]
    fn inline_allow_keeps_finding_as_suppressed() {
        let s = scanner();
        let m = s.scan_bytes(
            "x",
            b"k = AKIAZ7Y6X5W4V3U2T3S4 # palisade:allow-secret test fixture\nAKIAZ7Y6X5W4V3U2T3S5\n",
        );
        let sup: Vec<_> = m.iter().map(|m| m.suppressed.clone()).collect();
        assert_eq!(sup, vec![Some("test fixture".to_string()), None]);
        let m = s.scan_bytes("x", b"AKIAZ7Y6X5W4V3U2T3S4 // palisade:allow-secret");
        assert_eq!(
            m.first().and_then(|m| m.suppressed.clone()).as_deref(),
            Some("inline palisade:allow-secret")
        );
        // detect-secrets' and gitleaks' markers are honoured too.
        for (line, reason) in [
            ("k = 'AKIAZ7Y6X5W4V3U2T3S4'  # pragma: allowlist secret", "inline pragma: allowlist secret"),
            ("k = 'AKIAZ7Y6X5W4V3U2T3S4'  // gitleaks:allow", "inline gitleaks:allow"),
        ] {
            let m = s.scan_bytes("x", line.as_bytes());
            assert_eq!(m.first().and_then(|m| m.suppressed.clone()).as_deref(), Some(reason), "{line}");
        }
    }

    #[test]
    fn config_overrides() {
        let cfg = Config::from_toml(
            r#"
disable = ["aws-access-key-id"]
allow_paths = ["**/fixtures/**"]
allow_patterns = ["^dop_v1_0"]
[severity]
jwt = "low"
[[rules]]
id = "acme-token"
pattern = 'acme_(?P<s>[a-z0-9]{16})'
keywords = ["ACME_"]
severity = "critical"
"#,
        );
        let cfg = match cfg {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let s = match Scanner::new(&cfg) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert!(ids(&s, "a", "AKIAZ7Y6X5W4V3U2T3S4").is_empty());
        let m = s.scan_bytes("a", b"token acme_0123456789abcdef");
        assert_eq!(m.len(), 1);
        assert_eq!((&*m[0].rule_id, m[0].severity), ("acme-token", Severity::Critical));
        assert!(ids(&s, "src/fixtures/a.txt", "acme_0123456789abcdef").is_empty());
        let dop0 = format!("dop_v1_0{}", "a1b2c3d4".repeat(8).get(1..).unwrap_or_default());
        assert!(ids(&s, "a", &dop0).is_empty());
        let dop1 = format!("dop_v1_1{}", "a1b2c3d4".repeat(8).get(1..).unwrap_or_default());
        assert_eq!(ids(&s, "a", &dop1), vec!["digitalocean-pat"]);
        let jwt =
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let m = s.scan_bytes("a", jwt.as_bytes());
        assert_eq!(m.first().map(|m| m.severity), Some(Severity::Low));
    }

    #[test]
    fn config_errors_are_reported() {
        let bad = |t: &str| Config::from_toml(t).and_then(|c| Scanner::new(&c)).err().map(|e| e.to_string());
        assert!(bad("disable = [\"nope\"]").unwrap_or_default().contains("nope"));
        assert!(bad("[[rules]]\nid = \"x\"\npattern = \"(\"").unwrap_or_default().contains("x"));
        assert!(bad("[severity]\njwt = \"urgent\"").unwrap_or_default().contains("urgent"));
    }

    #[test]
    fn generic_filters() {
        assert!(!generic_key_ok(b"public_key"));
        assert!(!generic_key_ok(b"credentialsId"));
        assert!(generic_key_ok(b"client_secret"));
        assert!(!generic_key_ok(b"hashed_secret") && !generic_key_ok(b"password_sha256_digest"));
        assert!(!generic_key_ok(b"passwordHash") && generic_key_ok(b"HASHICORP_TOKEN"));
        assert!(!generic_value_ok(b"self.password", false));
        assert!(!generic_value_ok(b"DB_PASSWORD_VAR", false));
        assert!(!generic_value_ok(b"super::super::super::Win32::Foundation::HANDLE", false));
        assert!(generic_value_ok(b"p4ss::w0rd!9", false));
        assert!(generic_value_ok(b"s3cr3T-v4lue!", false));
        // Unquoted names in source code are identifiers; the same text in a config file is a value.
        assert!(!generic_value_ok(b"::windows_sys::core::HRESULT", true));
        assert!(!generic_value_ok(b"KeyCredentialManagerOperationErrorStates", true));
        assert!(!generic_value_ok(b"H256Hasher", true));
        assert!(generic_value_ok(b"KeyCredentialManagerOperationErrorStates", false));
        assert!(is_source_code("src/Main.RS") && is_source_code("a.py") && !is_source_code("app.yaml"));
        assert!(!is_source_code(".env") && !is_source_code("Dockerfile"));
        assert!(is_placeholder(b"ghp_xxxxxxxxxxxxxxxxxxxx"));
        assert!(is_placeholder(b"${TOKEN}"));
        assert!(!is_placeholder(b"a8Fk2lPq9"));
        assert!(is_placeholder(b"AKIATESTTESTTESTTEST") && is_placeholder(b"tok_abababababab"));
        assert!(!is_placeholder(b"AKIAZ7Y6X5W4V3U2T3S4") && !is_placeholder(b"abababababa"));
    }

    #[test]
    fn generic_rules_defer_to_formats_and_code() {
        let s = scanner();
        // A value with a provider's prefix is judged by that provider's rule (this one is malformed).
        assert!(
            ids(&s, "a.json", r#""token3": "xoxp-1234-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d""#)
                .is_empty()
        );
        // An unquoted name in source code is a type or identifier; in a config file it is a value.
        let line = "    pub auth_token: AuthTokenProviderConfiguration,\n";
        assert!(ids(&s, "src/config.rs", line).is_empty());
        assert_eq!(ids(&s, "config.yaml", "auth_token: Xk9pQ2mV7rT4wZ8bN3cF6hJ1\n"), vec!["generic-api-key"]);
        assert_eq!(
            ids(&s, "src/main.rs", r#"let auth_token = "Xk9pQ2mV7rT4wZ8bN3cF6hJ1";"#),
            vec!["generic-api-key"]
        );
        // Keys that vendors publish in their own SDK tests are not leaks.
        assert!(ids(&s, "a.txt", "AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIs").is_empty());
        assert_eq!(ids(&s, "a.txt", "AIzaSyAnLA7NfeLquW1tJFpx_eQCxoX-oo6YyIt"), vec!["gcp-api-key"]);
    }

    #[test]
    fn filename_rule_reports_keystores() {
        let s = scanner();
        let m = s.scan_bytes("certs/client.p12", b"\0\x01binary");
        assert_eq!(m.len(), 1);
        assert_eq!(&*m[0].rule_id, "pkcs12-file");
        assert!(s.path_is_secret_file("a/b.PFX"));
        assert!(!s.path_is_secret_file("a/b.p126.html"));
    }
}
