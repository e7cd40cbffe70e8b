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
use crate::{SecretsError, context, k8s};
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
    /// Run the broad rules in documentation, examples and test data too ([`crate::context`]).
    scan_examples: bool,
    /// SHA-256 of the configuration the scanner was built from.
    fingerprint: String,
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
            scan_examples: config.scan_examples,
            fingerprint: {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(format!("{config:?}").as_bytes()))
            },
        })
    }

    /// Identifies the configuration (user rules, overrides, allow lists, limits): two scanners with the same
    /// fingerprint in the same build find the same secrets. The layer cache keys on it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
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
                let value = data.get(s..e).unwrap_or_default();
                // `"{gcp_sa_key}"`, `{{ .Values.token }}`: a template that renders the manifest, not a value.
                let value = value.trim_ascii();
                let value = match (value.first(), value.last()) {
                    (Some(b'"'), Some(b'"')) | (Some(b'\''), Some(b'\'')) if value.len() >= 2 => {
                        value.get(1..value.len() - 1).unwrap_or_default()
                    }
                    _ => value,
                };
                if is_template(value) || is_placeholder(value) || self.global_allowed(value, None) {
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
        // Documentation inside the file (docstrings, POD), computed once a broad match needs it.
        let mut docs: Option<Vec<(usize, usize)>> = None;
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
            if r.broad && !self.scan_examples {
                let before = data.get(line_start.min(s)..s).unwrap_or_default();
                let spans = docs.get_or_insert_with(|| context::doc_spans(file_name, data));
                let cmd = context::command_start(data, line_start.min(s));
                let first_line = data
                    .get(cmd..)
                    .map(|t| t.split(|&b| b == b'\n').next().unwrap_or_default())
                    .unwrap_or_default();
                // The command rules (`curl --user`, URLs) exist to find credentials typed in commands, shown
                // with a prompt or not; the prompt marks an example for the assignment rules only.
                let assignment = r.key_group.is_some();
                if (assignment && context::example_line(first_line, before))
                    || spans.iter().any(|&(a, b)| a <= s && s < b)
                {
                    continue;
                }
            }
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
        if r.broad
            && (is_hash_manifest(path, file_name) || (!self.scan_examples && context::example_path(path)))
        {
            return false;
        }
        // A kubeconfig is YAML; `token: Type` in a source file is an annotation.
        if &*r.id == "kubeconfig-token" && is_source_code(file_name) {
            return false;
        }
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
            let mut secret = m.as_bytes();
            let mut m_end = m.end();
            // `token=45ghiukldjahdnhzdauz&token_type_hint=refresh_token`: an unquoted value ends at the next
            // parameter of its query string.
            if r.key_group.is_some()
                && let Some(cut) = query_cut(secret)
            {
                secret = secret.get(..cut).unwrap_or_default();
                m_end = m.start() + cut;
                if secret.len() < 8 {
                    continue;
                }
            }
            if secret.is_empty() || r.max_len.is_some_and(|max| secret.len() > max) {
                continue;
            }
            // A service-account key file is JSON; in source code `"type": "service_account"` is the tag
            // that code compares or writes (`json.dumps({"type": "service_account"})` in a test), unless a
            // private key is there too.
            if &*r.id == "gcp-service-account" && code && memmem::find(data, b"private_key").is_none() {
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
            // `-----BEGIN RSA PRIVATE KEY-----EXAMPLEBAAKCAQEA...`: a documentation's marked example key.
            if r.redact == Redact::Header && memmem::find(secret, b"EXAMPLE").is_some() {
                continue;
            }
            // Example credentials: a URL's for a documentation host or with a placeholder password, an HTTP
            // Basic header whose base64 spells a placeholder.
            if r.broad {
                let whole = caps.get(0).map(|w| w.as_bytes()).unwrap_or_default();
                let host = whole.rsplit(|&b| b == b'@').next().unwrap_or_default();
                let example_url = &*r.id == "url-credentials"
                    && (documentation_host(host) || placeholder_word(secret) || is_template(secret));
                // `Bearer your_api_key_here`, `Bearer dummy-token`: placeholders in any broad rule.
                let lower = secret.to_ascii_lowercase();
                let filler = [&b"your_"[..], b"your-", b"dummy", b"placeholder", b"example", b"changeme", b"environ", b"password"]
                    .iter()
                    .any(|w| memmem::find(&lower, w).is_some())
                    || placeholder_word(secret)
                    // `Bearer LITELLM_VIRTUAL_KEY`: the name of a variable, not its value.
                    || (secret.contains(&b'_')
                        && secret.iter().all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'));
                if example_url || filler || encodes_placeholder(secret) {
                    continue;
                }
            }
            if let Some(kg) = r.key_group {
                let key = caps.get(kg);
                let quoted = ws + m.start() > 0 && matches!(data.get(ws + m.start() - 1), Some(b'"' | b'\''));
                // `'a', 'b'`: the two are items of a list, not a name and its value.
                let list = key
                    .and_then(|k| hay.get(k.end()..m.start()))
                    .is_some_and(|sep| sep.contains(&b',') && !sep.iter().any(|b| matches!(b, b'=' | b':')));
                // `"Password:"),x=...("`: the key and its colon are a label in a string, and the quote that
                // seems to open the value closes that string.
                let label = key.is_some_and(|k| {
                    let q = if ws + k.start() > 0 { data.get(ws + k.start() - 1).copied() } else { None };
                    let sep = hay.get(k.end()..m.start()).unwrap_or_default();
                    matches!(q, Some(b'"' | b'\'' | b'`'))
                        && sep.last() == q.as_ref()
                        && !sep
                            .get(..sep.len().saturating_sub(1))
                            .unwrap_or_default()
                            .iter()
                            .any(|b| Some(b) == q.as_ref())
                });
                // `Depends: gir1.2-secret-1, gir1.2-webkit-6.0`, `authentication, PostgreSQL/MySQL databases`:
                // unquoted items of an enumeration in prose or a package list.
                let prose_list = list
                    && !quoted
                    && key
                        .and_then(|k| hay.get(k.end()..m.start()))
                        .is_some_and(|sep| memmem::find(sep, b", ").is_some());
                let key = key.map(|k| k.as_bytes()).unwrap_or_default();
                if label || prose_list || debian_relationship(data, ws + m.start()) {
                    continue;
                }
                // `"thinking-token-count-2026-05-13": "thinking-token-count-2026-05-13"`: an enum, not a secret.
                if key.eq_ignore_ascii_case(secret) {
                    continue;
                }
                if !generic_key_ok(key)
                    || !generic_value_ok(secret, code && !quoted)
                    || ((list || &*r.id == "generic-api-key") && is_identifier(secret))
                    // `f(credentials, timeout=60)`: unquoted list items in source code are arguments.
                    || (list && code && !quoted)
                    || self.has_provider_prefix(secret)
                {
                    continue;
                }
            }
            if self.global_allowed(secret, caps.get(0).map(|w| w.as_bytes())) {
                continue;
            }
            out.push((ws + m.start(), ws + m_end, ri));
        }
    }
}

/// True when the line holding `pos` is a Debian package relationship field (`Depends:`, `Suggests:`,
/// `Provides:`, ... of `debian/control`, dpkg's `status` and apt's `Packages` lists): package names.
fn debian_relationship(data: &[u8], pos: usize) -> bool {
    const FIELDS: [&[u8]; 13] = [
        b"Depends:",
        b"Pre-Depends:",
        b"Recommends:",
        b"Suggests:",
        b"Enhances:",
        b"Breaks:",
        b"Conflicts:",
        b"Replaces:",
        b"Provides:",
        b"Build-Depends:",
        b"Build-Depends-Indep:",
        b"Build-Depends-Arch:",
        b"Built-Using:",
    ];
    let before = data.get(..pos).unwrap_or_default();
    let start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let line = data.get(start..).unwrap_or_default();
    FIELDS.iter().any(|f| line.starts_with(f))
}

/// The end of the first parameter of an unquoted query string (`abc123&token_type_hint=x` -> 6): `&`
/// followed by a parameter name and `=`.
fn query_cut(v: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'&', v).find(|&i| {
        let rest = v.get(i + 1..).unwrap_or_default();
        let name = rest.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
        name > 0 && rest.get(name) == Some(&b'=')
    })
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
    if DENY_PART.iter().any(|d| memmem::find(k, d).is_some()) || is_file_name(k) {
        return false;
    }
    // Pagination cursors and idempotency keys of cloud APIs (`NextContinuationToken`, `ClientRequestToken`,
    // `next_page_token`): opaque, but no credential.
    let bare: Vec<u8> = k.iter().copied().filter(|&b| b != b'_' && b != b'-').collect();
    const NOT_CREDENTIAL: [&[u8]; 9] = [
        b"continuationtoken",
        b"nexttoken",
        b"pagetoken",
        b"clientrequesttoken",
        b"changetoken",
        b"actiontoken",
        b"idempotencytoken",
        b"paginationtoken",
        b"synctoken",
    ];
    if NOT_CREDENTIAL.iter().any(|d| bare.ends_with(d)) {
        return false;
    }
    const DENY_SUFFIX: [&[u8]; 15] = [
        b"hash",
        b"handler",
        b"warning",
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

/// Files that list other files with their digests and nothing else (a wheel's `*.dist-info/RECORD`, Go's
/// `go.sum`, `SHA256SUMS`, dpkg's `*.md5sums`): a file name beside a hash is not a name and its secret, so the
/// broad (assignment) rules do not run there. Provider token rules still do.
fn is_hash_manifest(path: &str, file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    (file_name == "RECORD" && path.rsplit('/').nth(1).is_some_and(|d| d.ends_with(".dist-info")))
        || lower.ends_with(".sum")
        || lower.ends_with("sums")
        || [".md5", ".sha1", ".sha256", ".sha512"].iter().any(|e| lower.ends_with(e))
}

/// Extensions that mark a word as a file name (`tokens.py`, `mozilla/Actalis_Authentication_Root_CA.crt`).
const FILE_EXTENSIONS: [&str; 40] = [
    "py", "pyc", "pyi", "js", "mjs", "cjs", "ts", "json", "yaml", "yml", "toml", "ini", "cfg", "conf", "txt",
    "md", "rst", "html", "htm", "xml", "c", "h", "cc", "cpp", "rs", "go", "java", "class", "jar", "so", "rb",
    "php", "sh", "crt", "cer", "der", "png", "svg", "css", "gz",
];

/// `a/b/name.ext` with a known extension: a file name or path.
fn is_file_name(v: &[u8]) -> bool {
    let Ok(v) = std::str::from_utf8(v) else { return false };
    let Some((stem, ext)) = v.rsplit_once('.') else { return false };
    !stem.is_empty()
        && FILE_EXTENSIONS.iter().any(|e| ext.eq_ignore_ascii_case(e))
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'+' | b'@'))
}

/// A name made of words (`ProxyBasicAuthHandler`, `HTTP_BASIC_AUTH`, `V1LocalObjectReference`,
/// `roles/iam.serviceAccountTokenCreator`, `google_oauth2_credentials`): letters, at most two digits, and
/// `_ - . / : [ ]` between words; the words (split at those, at digits and where a lower-case letter meets
/// an upper-case one) are three letters long on average, and no single lower-case letter stands between
/// two capitals (`WJjE`), which random mixed-case text has every few characters. Random tokens of 16 or
/// more characters almost always hold three digits or such a pattern.
fn is_identifier(v: &[u8]) -> bool {
    let sep = |b: u8| matches!(b, b'_' | b'-' | b'.' | b'/' | b':' | b'[' | b']');
    if v.len() < 8
        || !v.iter().all(|&b| b.is_ascii_alphanumeric() || sep(b))
        || v.iter().filter(|b| b.is_ascii_digit()).count() > 2
    {
        return false;
    }
    let mut words = 0usize;
    let mut letters = 0usize;
    let mut prev: Option<u8> = None;
    for &b in v {
        if b.is_ascii_alphabetic() {
            letters += 1;
            let starts = match prev {
                None => true,
                Some(p) => !p.is_ascii_alphabetic() || (b.is_ascii_uppercase() && p.is_ascii_lowercase()),
            };
            words += usize::from(starts);
        }
        prev = Some(b);
    }
    // `IdxToTokenIdx`: one-letter lower-case parts that are English words do occur in names.
    let lone_lower = v.windows(3).any(|w| {
        matches!(w, [a, b, c] if a.is_ascii_uppercase() && b.is_ascii_lowercase() && c.is_ascii_uppercase())
            && ![
                &b"To"[..],
                b"Of",
                b"In",
                b"On",
                b"By",
                b"As",
                b"At",
                b"Is",
                b"If",
                b"Or",
                b"Id",
                b"Up",
                b"No",
                b"Do",
            ]
            .iter()
            .any(|word| w.get(..2) == Some(*word))
    });
    words > 0 && letters >= 3 * words && !lone_lower
}

/// A URL or URN (`https://reauth.googleapis.com/v2/sessions`, `urn:mace:shibboleth:authmethod`): an address,
/// not a secret. Credentials inside a URL are the `url-credentials` rule's.
fn is_address(v: &[u8]) -> bool {
    let lower = v.to_ascii_lowercase();
    if lower.starts_with(b"urn:") {
        return true;
    }
    let Some(i) = memmem::find(&lower, b"://") else { return false };
    let scheme = lower.get(..i).unwrap_or_default();
    !scheme.is_empty()
        && scheme.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
        && !v.contains(&b'@')
}

/// An absolute or home-relative file path of ordinary names (`/Users/maciej`, `/build/fuse-overlayfs`).
fn is_path(v: &[u8]) -> bool {
    (v.starts_with(b"/") || v.starts_with(b"~/") || v.starts_with(b"./"))
        && v.iter().filter(|&&b| b == b'/').count() >= 2
        && v.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
        && v.split(|&b| b == b'/').all(|part| part.len() <= 40)
}

/// A template with `{name}` parts (`users/{userKey}/tokens/{clientId}`).
fn is_template(v: &[u8]) -> bool {
    memchr::memchr(b'{', v).is_some_and(|i| v.get(i..).is_some_and(|r| r.contains(&b'}')))
}

/// Base64 of `user:password` whose text is a placeholder (`dXNlcm5hbWU6cGFzc3dvcmQ=` is `username:password`).
fn encodes_placeholder(v: &[u8]) -> bool {
    use base64::Engine as _;
    if v.len() < 8 || !v.len().is_multiple_of(4) {
        return false;
    }
    let Ok(text) = base64::engine::general_purpose::STANDARD.decode(v) else { return false };
    let lower = text.to_ascii_lowercase();
    const WORDS: [&[u8]; 8] =
        [b"password", b"username", b"example", b"placeholder", b"changeme", b"your_", b"your-", b"dummy"];
    text.contains(&b':')
        && text.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
        && (WORDS.iter().any(|w| memmem::find(&lower, w).is_some())
            || text.split(|&b| b == b':').any(placeholder_word))
}

/// Words used as example credentials (`user:pass`, `abc:xyz`, `joe:password`, `john.doe:p4ssw0rd`).
fn placeholder_word(v: &[u8]) -> bool {
    const WORDS: [&[u8]; 18] = [
        b"pass",
        b"password",
        b"passwd",
        b"pwd",
        b"secret",
        b"xyz",
        b"bar",
        b"foo",
        b"p4ssw0rd",
        b"p@ssw0rd",
        b"changeme",
        b"tiger",
        b"token",
        b"hunter2",
        b"xyzzy",
        b"letmein",
        b"***",
        b"...",
    ];
    let lower = v.to_ascii_lowercase();
    // `proxypass`, `mypassword`, `dbsecret`: a word naming what it stands for.
    let named = v.iter().all(u8::is_ascii_alphabetic)
        && [&b"pass"[..], b"password", b"passwd", b"pwd", b"secret"].iter().any(|w| lower.ends_with(w));
    named || WORDS.iter().any(|w| lower == *w) || (!v.is_empty() && v.iter().all(|&b| b == b'*' || b == b'x'))
}

/// Host names reserved for documentation and testing (RFC 2606, RFC 6761): `example.com`/`.net`/`.org` and
/// their subdomains, `*.example`, `*.test`, `*.invalid`, `localhost`. Credentials for them are examples.
fn documentation_host(host: &[u8]) -> bool {
    let h = host.to_ascii_lowercase();
    let h = h.strip_suffix(b".").unwrap_or(&h);
    ["example.com", "example.net", "example.org", "example", "test", "invalid", "localhost"].iter().any(|d| {
        h == d.as_bytes()
            || (h.len() > d.len() && h.ends_with(d.as_bytes()) && h.get(h.len() - d.len() - 1) == Some(&b'.'))
    })
}

/// A lower-case host name (`wijiji.santafe.edu`), possibly followed by `:` as in a mail header's text.
fn is_host_name(v: &[u8]) -> bool {
    let v = v.strip_suffix(b":").unwrap_or(v);
    let labels: Vec<&[u8]> = v.split(|&b| b == b'.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty() && l.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && labels.last().is_some_and(|t| t.len() >= 2 && t.iter().all(u8::is_ascii_lowercase))
}

/// `sha256=...`, `sha512-...`, `sha1:...`, `h1:...`: a digest as hash manifests, lockfile `integrity` fields
/// and Go sums write them.
fn is_digest(v: &[u8]) -> bool {
    let lower = v.to_ascii_lowercase();
    const ALGOS: [&[u8]; 9] =
        [b"sha1", b"sha224", b"sha256", b"sha384", b"sha512", b"md5", b"blake2b", b"blake2s", b"h1"];
    ALGOS.iter().any(|a| {
        lower.strip_prefix(*a).and_then(|r| r.first()).is_some_and(|&c| matches!(c, b'=' | b':' | b'-'))
    })
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
    const DENY: [&[u8]; 19] = [
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
        // Sequential filler (`abcd12f2-...` in SDK examples); four random hex digits spell it 1 in 65536.
        b"abcd",
        b"environ",
    ];
    if DENY.iter().any(|d| memmem::find(&lower, d).is_some()) {
        return false;
    }
    // A label (`"one_time_password": "Engangskode:"`), a digest, a file name, a host name.
    // Code: JavaScript operators in minified bundles (`e.usage?.total_tokens`, `a??b`, `(e)=>x`).
    let operators =
        [&b"?."[..], b"??", b"=>", b"&&", b"||", b"==="].iter().any(|o| memmem::find(v, o).is_some());
    // `!!node.flag`, `~mask`, `?Name`, `$text-secondary`, `&Kernel::f`: an expression or a reference.
    // `*all_children_are`, `@list`: Perl typeglobs and arrays.
    let sigil = v.first().is_some_and(|b| matches!(b, b'!' | b'~' | b'?' | b'$' | b'&' | b'#' | b'*' | b'@'))
        && v.get(1..).is_some_and(|rest| {
            let rest = rest.strip_prefix(b"!").unwrap_or(rest);
            is_identifier(rest)
                || rest.starts_with(b"/")
                || rest.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
        });
    // `registry().credentials(id)`: a call.
    let call = memmem::find(v, b"()").is_some() || (v.ends_with(b")") && v.contains(&b'('));
    // `2016-09-08T21:47:36Z`: a date.
    let date = v.len() >= 10
        && v.iter()
            .take(10)
            .enumerate()
            .all(|(i, &b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    // `c128_cur_max_seq_len`, `0002_alter_permission_name_max_length` (a Django migration): snake_case names
    // of three or more parts, two of them words.
    let parts: Vec<&[u8]> = v.split(|&b| b == b'_').collect();
    let snake = parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.iter().filter(|p| p.first().is_some_and(u8::is_ascii_lowercase)).count() >= 2;
    // `t?e.total_tokens:e.api_requests`, `t.total_tokens+s.metrics.total_tokens`: a ternary or a sum of member
    // accesses in minified JavaScript (base64 has `+` and `/` but no `.` or `_` in its pieces).
    let pieces: Vec<&[u8]> = v.split(|&b| matches!(b, b'?' | b':' | b'+')).collect();
    let expression = pieces.len() >= 2
        && pieces.iter().all(|p| {
            p.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                && p.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        })
        && pieces.iter().filter(|p| p.contains(&b'.')).count() >= 2;
    // `s:netrw_passwd`, `a:dict.tmpdir`: Vim script variables with their scope.
    let vim_var = v.len() > 2
        && v.get(1) == Some(&b':')
        && v.first().is_some_and(|b| b"gslabvwt".contains(b))
        && v.get(2..).is_some_and(|r| {
            r.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                && r.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        });
    // `true|false`, `scram-sha-256`: a list of choices, an algorithm's name.
    let choices = v.contains(&b'|')
        && v.split(|&b| b == b'|').all(|w| !w.is_empty() && w.iter().all(u8::is_ascii_lowercase));
    let algorithm =
        [&b"sha-256"[..], b"sha-512", b"sha256", b"sha512", b"md5"].iter().any(|a| lower.ends_with(a))
            && v.iter().all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    // Prose in another script (`"Unexpected_token_1012": "予期しないトークンです。"`): secrets are ASCII.
    let prose = v.iter().filter(|b| !b.is_ascii()).count() * 3 >= v.len();
    // `h*w*seconds*24/1024`: a product of names and numbers (no token alphabet has `*`).
    let product = v.contains(&b'*')
        && v.split(|&b| matches!(b, b'*' | b'/' | b'+' | b'-'))
            .all(|p| !p.is_empty() && p.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.'));
    // `prompt_tokens_details,cached_tokens`: a list of names.
    let names = v.contains(&b',')
        && v.split(|&b| b == b',').all(|p| {
            let p = p.trim_ascii();
            !p.is_empty() && (is_identifier(p) || p.iter().all(|&b| b.is_ascii_lowercase() || b == b'_'))
        });
    // `\x11legacy_token_unit\x18\x1c`: an escaped byte string (a serialized descriptor), not text.
    let escaped = memmem::find_iter(v, b"\\x").count() >= 2;
    // `InvalidToken:%s:%s`: a format string.
    let format = memmem::find(v, b"%s").is_some() || memmem::find(v, b"%(").is_some();
    // `google-oauth-client:1.34.1`, `left-pad@1.3.0`: a package with its version.
    let versioned = v.iter().rposition(|&b| b == b':' || b == b'@').is_some_and(|i| {
        let (name, ver) = (v.get(..i).unwrap_or_default(), v.get(i + 1..).unwrap_or_default());
        name.first().is_some_and(u8::is_ascii_alphabetic)
            && name.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && ver.first().is_some_and(u8::is_ascii_digit)
            && ver.contains(&b'.')
            && ver.iter().all(|&b| b.is_ascii_digit() || b == b'.')
    });
    if v.ends_with(b":")
        || prose
        || product
        || names
        || escaped
        || format
        || versioned
        || vim_var
        || choices
        || algorithm
        || expression
        || sigil
        || call
        || date
        || snake
        || operators
        || is_digest(v)
        || is_file_name(v)
        || is_host_name(v)
        || is_address(v)
        || is_path(v)
        || is_template(v)
    {
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
    fn words_digests_file_and_host_names_are_not_secrets() {
        assert!(is_identifier(b"ProxyBasicAuthHandler") && is_identifier(b"HTTPBasicAuthHandler"));
        assert!(is_identifier(b"HTTP_BASIC_AUTH_HANDLER") && is_identifier(b"authHeaderValue"));
        assert!(!is_identifier(b"ntmqgcYgtruH38RlCsexeOuwYQIjscBL") && !is_identifier(b"qWeRtYaSdFgHjKlZ"));
        assert!(
            is_digest(b"sha256=kyOBDn3Ujj3oGU_h7pLfJmOH7n1Lk9tSYr3OQV1fj6k") && is_digest(b"sha512-RdJU==")
        );
        assert!(
            is_digest(b"h1:abc=") && !is_digest(b"sha256sumXk9pQ2mV7rT4") && !is_digest(b"shadow-Xk9pQ2")
        );
        assert!(is_file_name(b"mozilla/AffirmTrust_Commercial.crt") && is_file_name(b"tokens.py"));
        assert!(!is_file_name(b"Xk9pQ2mV7rT4wZ8bN3cF6hJ1") && !is_file_name(b"config.api_key"));
        assert!(is_host_name(b"wijiji.santafe.edu:") && !is_host_name(b"Xk9pQ2mV7rT4.wZ8bN3cF6hJ1"));
        assert!(is_hash_manifest("site-packages/a-1.dist-info/RECORD", "RECORD"));
        assert!(is_hash_manifest("go.sum", "go.sum") && is_hash_manifest("x/SHA256SUMS", "SHA256SUMS"));
        assert!(is_hash_manifest("var/lib/dpkg/info/bash.md5sums", "bash.md5sums"));
        assert!(!is_hash_manifest("src/RECORD", "RECORD") && !is_hash_manifest("a/.env", ".env"));
    }

    #[test]
    fn named_false_alarms_and_misses() {
        let s = scanner();
        // An npm auth line is reported in the files npm reads it from; Python constants are not `_auth=`.
        assert!(
            ids(&s, "cryptography/x509/oid.py", "    OID_CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH\n")
                .is_empty()
        );
        let npm = "//registry.npmjs.org/:_authToken=28eda45b032e3a5a4e16432cbf2a54fa897e\n";
        assert_eq!(ids(&s, "app/.npmrc", npm), vec!["npmrc-auth-token"]);
        assert!(!ids(&s, "app/.npmrc.txt", npm).contains(&"npmrc-auth-token".to_string()));
        // A wheel's RECORD lists file names and their digests.
        let record = "requests/auth.py,sha256=kyOBDn3Ujj3oGU_h7pLfJmOH7n1Lk9tSYr3OQV1fj6k,10186\n";
        assert!(ids(&s, "lib/requests-2.32.3.dist-info/RECORD", record).is_empty());
        assert!(ids(&s, "lib/files.txt", record).is_empty());
        // A list of class names, a list of certificate files, a mail header, an i18n label.
        let all = "    'HTTPBasicAuthHandler', 'ProxyBasicAuthHandler', 'AbstractDigestAuthHandler',\n";
        assert!(ids(&s, "urllib/request.py", all).is_empty());
        assert!(ids(&s, "urllib/request.txt", all).is_empty());
        let certs = "Value: mozilla/ACCVRAIZ1.crt, mozilla/Actalis_Authentication_Root_CA.crt, mozilla/AffirmTrust_Commercial.crt\n";
        assert!(ids(&s, "var/cache/debconf/config.dat", certs).is_empty());
        let mail = "X-Authentication-Warning: wijiji.santafe.edu: rms set sender to rms@gnu.org using -f\n";
        assert!(ids(&s, "usr/share/doc/libreadline8/USAGE", mail).is_empty());
        assert!(ids(&s, "locale/nb.json", r#""one_time_password": "Engangskode:","#).is_empty());
        // `*_pass` names hold passwords.
        assert_eq!(ids(&s, ".env", "PG_PASS=Mla0NkAKY12iE2\n"), vec!["generic-password"]);
        assert_eq!(ids(&s, "app.yaml", "db_pass: \"r7Tq2LwX9zKp\"\n"), vec!["generic-password"]);
        assert!(ids(&s, "app.yaml", "db_passive: \"r7Tq2LwX9zKp\"\n").is_empty());
        // A secret in a list beside its name is still one.
        let hdr = r#"req.add_header("X-Auth-Token", "Xk9pQ2mV7rT4wZ8bN3cF6hJ1")"#;
        assert_eq!(ids(&s, "client.py", hdr), vec!["generic-api-key"]);
    }

    /// False alarms met on this machine's /usr (Google Cloud SDK, Python and Node documentation).
    #[test]
    fn clean_corpus_false_alarms() {
        // The values themselves must be recognised, wherever they stand: run the broad rules in
        // documentation and tests too (several of these paths are such files).
        let s = scanner_with(&Config { scan_examples: true, ..Config::default() });
        let clean = [
            ("models/v1_rbd_volume_source.py", "        'secret_ref': 'V1LocalObjectReference',"),
            ("oauth2client/contrib/reauth.py", "REAUTH_API = 'https://reauth.googleapis.com/v2/sessions'"),
            (
                "daisy_utils.py",
                "ROLE_IAM_SERVICE_ACCOUNT_TOKEN_CREATOR = 'roles/iam.serviceAccountTokenCreator'",
            ),
            ("flask_util.py", "_CREDENTIALS_KEY = 'google_oauth2_credentials'"),
            ("boto_config.py", "    ('Credentials', 'gs_oauth2_refresh_token', None),"),
            ("external_account.py", r#"        "subject_token": "subject_token_0","#),
            (
                "_default.py",
                "            os.environ[environment_vars.CREDENTIALS], quota_project_id=quota_project_id",
            ),
            ("creds.py", "    credentials, access_token_file=None, cache_only_rapt=False"),
            ("resources.py", "    TOKENS = ('tokens', 'users/{userKey}/tokens/{clientId}', {},"),
            (
                "verify4-res.xml",
                r#"<AuthenticationStatement AuthenticationMethod="urn:mace:shibboleth:authmethod">"#,
            ),
            ("report.md", "  PWD: '/Users/maciej',"),
            ("test_auth.py", r#"BASIC_AUTH_ENCODING = "dXNlcm5hbWU6cGFzc3dvcmQ=""#),
            ("url.md", "const myURL = new URL('https://abc:xyz@sub.example.com:8080/p/a/t/h?query=string');"),
            ("request.py", ">>> _parse_proxy('http://joe:password@proxy.internal:3128')"),
            ("api.md", r#"  "Authorization": "Basic dXNlcm5hbWU6cGFzc3dvcmQ=","#),
            // Found in the PyPI/npm corpus: SDK examples, placeholders, sample databases, enums, bundles.
            ("waf/examples-1.json", r#"        "ChangeToken": "abcd12f2-46da-4fdb-b8d5-fbd4c466928f","#),
            ("README.md", "  --header 'Authorization: Bearer your_api_key_here'"),
            ("engines.rst", r#"engine = create_engine("postgresql+psycopg2://scott:tiger@host/dbname")"#),
            ("s3.py", r#"uri = f"s3://{access_key}:{secret_key}@mybucket/foo/bar""#),
            ("models.json", r#""thinking-token-count-2026-05-13": "thinking-token-count-2026-05-13","#),
            ("config.yaml", "api_key: os.environ/E2B_API_KEY"),
            ("kernel.py", "routingData.mPtrPermutedIdxToTokenIdx = permutedIdxToTokenIdx;"),
            ("ui.txt", "totalTokens:e.usage?.total_tokens,reasoningTokens:e.usage?.output_tokens"),
            ("oauthlib/parameters.py", r#"    "access_token":"2YotnFZFEjr1zCsicMWpAA","#),
            ("s3/examples-1.json", r#""NextContinuationToken": "1w41l63U0xa8q7smH50vCxyTQqdxo69O3EmK28Bi""#),
            ("iam/examples-1.json", r#""PasswordLastUsed": "2016-09-08T21:47:36Z","#),
            ("convert.js", "const hasExclamationToken = !!node.exclamationToken;"),
            ("js-tokens/index.js", r#"nextLastSignificantToken = "?NonExpressionParenKeyword";"#),
            ("highlight.py", r#"    Token.Name.Variable: "$text-secondary","#),
            ("router.py", r#"_note("get_deployment_credentials", "registry().credentials(id)")"#),
            (
                "kernel.py",
                r#"@triton.jit(do_not_specialize=["bs", "num_write_tokens", "c128_cur_max_seq_len"])"#,
            ),
            ("model_management.py", "  -H 'Authorization: Bearer LITELLM_VIRTUAL_KEY' \\"),
            ("spec_tp_sync.py", "    token: SpecTpSyncSite.DSPARK_DRAFT"),
            ("pyodbc.py", "DSN=some_dsn;UID=scott;PWD=tiger"),
            ("netrw.vim", "  let s:netrw_hup[host].passwd = s:netrw_passwd"),
            ("rust.vim", "    let pwd = a:dict.istemp ? a:dict.tmpdir : ''"),
            ("management.properties", "# com.sun.management.jmxremote.password.toHashes = true|false"),
            ("postgresql.conf.sample", "#password_encryption = scram-sha-256\t# scram-sha-256 or md5"),
            (
                "chunks/00f.js",
                r#"u=(e,t)=>"spend"===t?e.spend:"tokens"===t?e.total_tokens:e.api_requests,m=1"#,
            ),
            (
                "chunks/21h.js",
                "requests:t.api_requests,total_tokens:t.total_tokens+s.metrics.total_tokens,x=1",
            ),
            (
                "auth/migrations/0003_alter_user_email_max_length.py",
                r#"        ("auth", "0002_alter_permission_name_max_length"),"#,
            ),
        ];
        for (path, line) in clean {
            assert!(ids(&s, path, line).is_empty(), "{path}: {line}: {:?}", ids(&s, path, line));
        }
        // Real-looking values beside them are still reported.
        assert_eq!(ids(&s, "a.py", "'secret_ref': 'Xk9pQ2mV7rT4wZ8bN3cF6hJ1',"), vec!["generic-api-key"]);
        assert_eq!(
            ids(&s, "a.yaml", "url: https://deploy:Z9kQ2xP7vL4m@git.corp.io/x"),
            vec!["url-credentials"]
        );
        assert_eq!(
            ids(&s, "a.txt", "Authorization: Basic ZGVwbG95Olo5a1EyeFA3dkw0bQ=="),
            vec!["basic-auth-header"]
        );
        assert!(
            !is_identifier(b"lucWJjEhlxZW01cXI3YmVlcYnpxNGhzk") && !is_identifier(b"XT_Mafv_aUCGheuCaKY8P")
        );
        assert!(documentation_host(b"sub.example.com") && documentation_host(b"localhost"));
        assert!(!documentation_host(b"example.com.evil.io") && !documentation_host(b"myexample.com"));
    }

    fn scanner_with(config: &Config) -> Scanner {
        match Scanner::new(config) {
            Ok(s) => s,
            Err(e) => panic!("built-in rules must compile: {e}"),
        }
    }

    /// The second round of the clean corpus (PyPI top 130, npm top 150, trixie, this machine's `/usr`):
    /// minimal reproductions of each false alarm's shape, each beside a real-looking value that is still
    /// reported.
    #[test]
    fn clean_corpus_values_round_two() {
        let s = scanner_with(&Config { scan_examples: true, ..Config::default() });
        let clean = [
            // Messages in another script (TypeScript's localised diagnostics).
            ("lib/ja/messages.json", r#"  "Invalid_token_1012": "無効なトークンです。","#),
            // A formula in a JSON description, a list of names, an escaped byte string, a format string.
            ("prices.json", r#""note": "with tokens = h*w*seconds*24/1024; 4k rate derived""#),
            ("sql.py", r#"X = _sql("cache_read_input_tokens", "prompt_tokens_details,cached_tokens")"#),
            ("desc_pb2.py", r"_b = b'\x11legacy_token_unit\x18\x1c \x01(\x0e\x32\x1f.p.TokenUnit'"),
            ("stub.py", "    access_token = 'InvalidToken:%s:%s' % (token, now)"),
            // Maven coordinates with a version in a licence list.
            (
                "THIRD-PARTY.txt",
                "  * OAuth Client (com.acme.oauth-client:acme-oauth-client:1.34.1 - https://x.io/)",
            ),
            // A label in a string of a minified bundle: the next quote closes it.
            (
                "ui.js",
                r#"e("label",{htmlFor:"auth_password"},"Password:"),o?e("code",null," ** "):e("input")"#,
            ),
            // Enumerations in prose and Debian package relationship fields.
            (
                "pkgs.tsv",
                "appwrite\t1.0\tBuild backends. Add authentication, PostgreSQL/MySQL databases, storage",
            ),
            (
                "lists/x_Packages",
                "Depends: gir1.2-adw-1 (>= 1.7~alpha), gir1.2-secret-1, gir1.2-webkit-6.0, python3",
            ),
            (
                "var/lib/dpkg/status",
                "Suggests: libroot-net-auth5.34, libroot-net-bonjour5.34, libroot-net5.34",
            ),
            // Perl typeglobs, a placeholder proxy password.
            ("XML/Twig.pm", "    *all_children_pass = *all_children_are;"),
            ("LWP/http.pm", "\t# export http_proxy=\"http://proxyuser:proxypass@proxyhost:port\"."),
            // A query string: the value ends at `&`, and this one is RFC 7009's example token.
            ("revoke.txt", "token=45ghiukldjahdnhzdauz&token_type_hint=refresh_token"),
            // A Kubernetes Secret in a template that code fills in.
            (
                "agent_util.py",
                "T = '''apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ndata:\n  project_id: \"{project_id}\"\n  key.json: {gcp_sa_key}\n'''",
            ),
            // `"type": "service_account"` as a tag in source code, with no private key.
            ("test_default.py", r#"    f.write(json.dumps({"type": "service_account"}))"#),
            // Documentation's example keys marked EXAMPLE.
            ("create-upload.rst", "X-Amz-Credential=AKIAEXAMPLEPBUMBC3GA%2F20170824%2Fus-west-2"),
            (
                "key-pair.rst",
                "\"privateKey\": \"-----BEGIN RSA PRIVATE KEY-----\\nEXAMPLEBAAKCAQEA+AD3qeU2toBzHk8JnR5tqo1wZDs4cZ3q\\n-----END RSA PRIVATE KEY-----\"",
            ),
            // Values their vendors publish: gcloud's installed-app client, Jetty's default keystore password.
            ("core/config.py", "CLOUDSDK_CLIENT_NOTSOSECRET = 'ZmssLNjJy2998hD4CTg2ejr2'"),
            ("modules/ssl.mod", "# jetty.sslContext.keyStorePassword=OBF:1vny1zlo1x8e1vnw1vn61x8g1zlu1vn4"),
        ];
        for (path, text) in clean {
            assert!(ids(&s, path, text).is_empty(), "{path}: {text}: {:?}", ids(&s, path, text));
        }
        // Real-looking values of the same shapes are still reported.
        let found = [
            ("a.json", r#""token": "Zq8fK2pLm9Xw4Rt7Yb3N","#, "generic-api-key"),
            ("a.env", "API_TOKEN=Zq8fK2pLm9Xw4Rt7Yb3N", "generic-api-key"),
            ("cb.txt", "access_token=Zq8fK2pLm9Xw4Rt7Yb3N&expires_in=3600", "generic-api-key"),
            ("a.py", r#"AUTH = ("api_token", "Zq8fK2pLm9Xw4Rt7Yb3N")"#, "generic-api-key"),
            ("a.yaml", "db_password: \"Kx7#mQ2pL9vR\"", "generic-password"),
            ("sa.json", "{\"type\": \"service_account\", \"project_id\": \"p\"}", "gcp-service-account"),
            ("up.rst", "X-Amz-Credential=AKIA32P3D2JDNMVAJLGF%2F20190814%2F", "aws-access-key-id"),
        ];
        for (path, text, rule) in found {
            assert_eq!(ids(&s, path, text), vec![rule], "{path}: {text}");
        }
        // The query-string value is cut at `&`: the finding covers the token only.
        let m = s.scan_bytes("cb.txt", b"access_token=Zq8fK2pLm9Xw4Rt7Yb3N&expires_in=3600");
        assert_eq!(m.iter().map(|m| (m.start, m.end)).collect::<Vec<_>>(), vec![(13, 33)]);
    }

    /// Documentation, examples and tests: the broad rules stay silent, provider rules report, and
    /// `scan_examples = true` brings the broad rules back.
    #[test]
    fn documentation_and_test_contexts() {
        let s = scanner();
        let all = scanner_with(&Config { scan_examples: true, ..Config::default() });
        let assignment = r#"'oauth_token_secret': '2kjshdfp92i34asdasd',"#;
        for path in [
            "awscli/examples/iam/change-password.rst",
            "botocore/data/iam/2010-05-08/examples-1.json",
            "websocket/tests/test_url.py",
            "src/net/url/url_test.go",
            "pkg-1.0.dist-info/METADATA",
            "usr/share/doc/pkg/README",
        ] {
            assert!(ids(&s, path, assignment).is_empty(), "{path}");
            assert_eq!(ids(&all, path, assignment), vec!["generic-api-key"], "{path}");
        }
        assert_eq!(ids(&s, "app/settings.py", assignment), vec!["generic-api-key"]);
        // A provider format is reported in test data too.
        let aws = "key = AKIAZ7Y6X5W4V3U2T3S4";
        assert_eq!(ids(&s, "app/settings.py", aws), vec!["aws-access-key-id"]);
        assert_eq!(ids(&s, "tests/data/creds.py", aws), vec!["aws-access-key-id"]);

        // Python docstrings and Perl POD are documentation; other strings are not.
        let py = "def fetch():\n    \"\"\"Fetch a token.\n\n    >>> s.fetch(resource_owner_secret='2kjshdfp92i34asdasd')\n    \"\"\"\n    SECRET = '2kjshdfp92i34asdasd'\n";
        let m = s.scan_bytes("oauth1_session.py", py.as_bytes());
        let found: Vec<(String, u32)> = m.iter().map(|m| (m.rule_id.to_string(), m.line)).collect();
        assert_eq!(found, vec![("generic-api-key".to_string(), 6)]);
        let pm = "=head1 SYNOPSIS\n\n  $ua->credentials(password => 'geheimXparole7');\n\n=cut\nmy %c = (password => 'geheimXparole7');\n";
        let m = s.scan_bytes("Agent.pm", pm.as_bytes());
        assert_eq!(m.iter().map(|m| m.line).collect::<Vec<_>>(), vec![6]);

        // A command shown with a prompt, continued over lines, and a value introduced as an example.
        let yaml =
            "examples: |\n  $ {command} db create \\\n      --admin-password=123Abpassdord \\\n      --x=1\n";
        assert!(ids(&s, "surface/create.yaml", yaml).is_empty());
        assert_eq!(
            ids(&s, "create.sh", "db create --admin-password=123Abpassdord"),
            vec!["generic-password"]
        );
        assert!(ids(&s, "spend.py", r#"  "Example api_key='d5345c0ecc68ae6295c69f91926b2bd3'""#).is_empty());
        assert_eq!(
            ids(&s, "spend.py", r#"  api_key='d5345c0ecc68ae6295c69f91926b2bd3'"#),
            vec!["generic-api-key"]
        );
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
