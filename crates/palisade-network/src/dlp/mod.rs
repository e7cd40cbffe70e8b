//! DLP and WAF sensors on inspected plaintext.
//!
//! Each sensor is one file and registered once in [`SENSORS`]: card numbers ([`card`], Luhn and issuer
//! prefixes), US social security numbers ([`ssn`], valid area/group/serial ranges), IBANs ([`iban`],
//! country length and ISO 7064 mod-97), e-mail addresses ([`email`]), cloud keys and other credentials
//! ([`secret`], palisade-secrets' rules), SQL injection ([`sqli`]) and cross-site scripting ([`xss`])
//! signatures.
//!
//! Speed: the pattern sensors (card, SSN, IBAN, e-mail) are one combined regex, run once over the data
//! (the regex crate's lazy DFA: one pass, no backtracking); each candidate is then confirmed by its
//! sensor's validator. The WAF sensors are a second combined regex, run once over the data after one
//! round of percent-decoding when the data has `%` escapes, so `%27%20OR%201%3D1` is seen as `' OR 1=1`.
//! The secret sensor is palisade-secrets' scanner (its keyword prefilter first, rule regexes only
//! around keyword hits). A [`Finding`] never holds the matched value, only a redacted preview.

pub mod card;
pub mod email;
pub mod iban;
pub mod secret;
pub mod sqli;
pub mod ssn;
pub mod xss;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A sensor's name, as policies write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SensorId {
    Card,
    Ssn,
    Iban,
    Email,
    Secret,
    Sqli,
    Xss,
}

impl SensorId {
    pub const ALL: [SensorId; 7] = [
        SensorId::Card,
        SensorId::Ssn,
        SensorId::Iban,
        SensorId::Email,
        SensorId::Secret,
        SensorId::Sqli,
        SensorId::Xss,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SensorId::Card => "card",
            SensorId::Ssn => "ssn",
            SensorId::Iban => "iban",
            SensorId::Email => "email",
            SensorId::Secret => "secret",
            SensorId::Sqli => "sqli",
            SensorId::Xss => "xss",
        }
    }

    pub fn parse(name: &str) -> Option<SensorId> {
        SensorId::ALL.into_iter().find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for SensorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One pattern of a sensor: a regex fragment (Rust `regex` syntax, bytes, ASCII) and what confirms a
/// candidate and redacts it (`None`: not confirmed, no finding).
pub struct Pattern {
    /// Signature name, shown in findings (`luhn`, `union-select`, `script-tag`, …).
    pub name: &'static str,
    pub regex: &'static str,
    pub confirm: fn(&[u8]) -> Option<String>,
}

/// One sensor.
pub struct Sensor {
    pub id: SensorId,
    pub title: &'static str,
    /// What it finds and how a candidate is confirmed.
    pub doc: &'static str,
    pub kind: Kind,
}

/// How a sensor looks at data.
pub enum Kind {
    /// Patterns of the data pass (raw bytes). A pattern may match one byte of context before the value
    /// (the regex crate has no look-behind); it is trimmed from the finding.
    Data(&'static [Pattern]),
    /// Patterns of the WAF pass (percent-decoded text, case-insensitive).
    Waf(&'static [Pattern]),
    /// palisade-secrets' scanner.
    Secrets,
}

/// Every sensor.
pub const SENSORS: &[Sensor] =
    &[card::SENSOR, ssn::SENSOR, iban::SENSOR, email::SENSOR, secret::SENSOR, sqli::SENSOR, xss::SENSOR];

/// One confirmed match. `start..end` is the byte range in the scanned data (for WAF matches, in the
/// percent-decoded text when the data was decoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub sensor: SensorId,
    /// The pattern or secret rule that matched.
    pub signature: String,
    pub start: usize,
    pub end: usize,
    /// Redacted value (never the value itself).
    pub preview: String,
}

/// One combined regex over several sensors' patterns: group `g<i>` is pattern `i`.
struct Combined {
    regex: Regex,
    trim: bool,
    /// Capture group index → pattern index (patterns' own groups map to `None`).
    group_of: Vec<Option<usize>>,
    patterns: Vec<(SensorId, &'static Pattern)>,
}

impl Combined {
    fn build(patterns: Vec<(SensorId, &'static Pattern)>, flags: &str) -> Result<Option<Combined>, String> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let alternation: Vec<String> =
            patterns.iter().enumerate().map(|(i, (_, p))| format!("(?P<g{i}>{})", p.regex)).collect();
        let source = format!("(?{flags}){}", alternation.join("|"));
        let regex = regex::bytes::RegexBuilder::new(&source)
            .size_limit(64 << 20)
            .dfa_size_limit(64 << 20)
            .build()
            .map_err(|e| format!("DLP patterns do not compile: {e}"))?;
        let group_of = regex
            .capture_names()
            .map(|n| n.and_then(|n| n.strip_prefix('g')).and_then(|i| i.parse::<usize>().ok()))
            .collect();
        Ok(Some(Combined { regex, trim: flags == "-u", group_of, patterns }))
    }

    fn scan(&self, data: &[u8], out: &mut Vec<Finding>) {
        for caps in self.regex.captures_iter(data) {
            let Some((i, m)) = caps
                .iter()
                .enumerate()
                .skip(1)
                .find_map(|(g, m)| Some((self.group_of.get(g).copied().flatten()?, m?)))
            else {
                continue;
            };
            let Some((sensor, pattern)) = self.patterns.get(i) else { continue };
            if let Some(preview) = (pattern.confirm)(m.as_bytes()) {
                let (mut start, mut end) = (m.start(), m.end());
                if self.trim {
                    // Data patterns may match one byte of context before the value.
                    let b = m.as_bytes();
                    start += b.iter().take_while(|c| !c.is_ascii_alphanumeric()).count();
                    end -= b.iter().rev().take_while(|c| !c.is_ascii_alphanumeric()).count().min(end - start);
                }
                out.push(Finding {
                    sensor: *sensor,
                    signature: pattern.name.to_string(),
                    start,
                    end,
                    preview,
                });
            }
        }
    }
}

/// The enabled sensors, compiled.
pub struct Dlp {
    data: Option<Combined>,
    waf: Option<Combined>,
    secrets: Option<palisade_secrets::Scanner>,
}

impl Dlp {
    /// Compile the given sensors (each at most once).
    pub fn new(enabled: &[SensorId]) -> Result<Dlp, String> {
        let (mut data, mut waf, mut secrets) = (Vec::new(), Vec::new(), None);
        for s in SENSORS.iter().filter(|s| enabled.contains(&s.id)) {
            match &s.kind {
                Kind::Data(ps) => data.extend(ps.iter().map(|p| (s.id, p))),
                Kind::Waf(ps) => waf.extend(ps.iter().map(|p| (s.id, p))),
                Kind::Secrets => secrets = Some(secret::scanner()?),
            }
        }
        Ok(Dlp { data: Combined::build(data, "-u")?, waf: Combined::build(waf, "i-u")?, secrets })
    }

    /// Every sensor.
    pub fn all() -> Result<Dlp, String> {
        Dlp::new(&SensorId::ALL)
    }

    /// Confirmed matches in `data`, data sensors first, then WAF, then secrets.
    pub fn scan(&self, data: &[u8]) -> Vec<Finding> {
        self.scan_with(data, true)
    }

    /// As [`Dlp::scan`]; the WAF sensors only when `waf` (requests, not responses).
    pub fn scan_with(&self, data: &[u8], waf: bool) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Some(c) = &self.data {
            c.scan(data, &mut out);
        }
        if let Some(c) = self.waf.as_ref().filter(|_| waf) {
            match percent_decoded(data) {
                Some(decoded) => c.scan(&decoded, &mut out),
                None => c.scan(data, &mut out),
            }
        }
        if let Some(s) = &self.secrets {
            secret::scan(s, data, &mut out);
        }
        out
    }
}

/// The first `%XX` escape: found by the regex crate's memchr-based search, so that data without escapes
/// (most of it) costs a fast scan.
static ESCAPE: std::sync::LazyLock<Option<Regex>> =
    std::sync::LazyLock::new(|| Regex::new("%[0-9A-Fa-f]{2}").ok());

/// `data` with `%XX` escapes decoded and `+` read as a space, when it has any escape.
pub fn percent_decoded(data: &[u8]) -> Option<Vec<u8>> {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let first = match ESCAPE.as_ref() {
        Some(re) => re.find(data)?.start(),
        None => data.windows(3).position(|w| w[0] == b'%' && hex(w[1]).is_some() && hex(w[2]).is_some())?,
    };
    let mut out = Vec::with_capacity(data.len());
    out.extend(data[..first].iter().map(|&c| if c == b'+' { b' ' } else { c }));
    let mut i = first;
    while i < data.len() {
        let c = data[i];
        if c == b'%'
            && let (Some(h), Some(l)) =
                (data.get(i + 1).and_then(|&c| hex(c)), data.get(i + 2).and_then(|&c| hex(c)))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(if c == b'+' { b' ' } else { c });
        i += 1;
    }
    Some(out)
}

/// Digits of `s`, or `None` when it has anything but digits, spaces and dashes.
pub(crate) fn digits(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        match c {
            b'0'..=b'9' => out.push(c - b'0'),
            b' ' | b'-' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// A WAF match as a finding preview: the matched text, escaped and cut at 48 bytes.
pub(crate) fn snippet(m: &[u8]) -> Option<String> {
    Some(crate::protocol::bytes::text(m, 48))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = include_bytes!("../../fixtures/dlp/mixed.txt");

    #[test]
    fn registry_has_each_sensor_once_with_docs() {
        for id in SensorId::ALL {
            let n = SENSORS.iter().filter(|s| s.id == id).count();
            assert_eq!(n, 1, "{id}");
            assert_eq!(SensorId::parse(id.name()), Some(id));
        }
        assert!(SENSORS.iter().all(|s| !s.doc.is_empty() && !s.title.is_empty()));
    }

    #[test]
    fn mixed_fixture_finds_each_sensor_and_no_decoys() {
        let dlp = Dlp::all().unwrap();
        let found = dlp.scan(BODY);
        let mut sensors: Vec<SensorId> = found.iter().map(|f| f.sensor).collect();
        sensors.sort();
        sensors.dedup();
        assert_eq!(sensors, SensorId::ALL.to_vec(), "{found:#?}");
        // The fixture's decoys (Luhn-failing card, SSN area 666, IBAN with a wrong check) are not found.
        assert_eq!(found.iter().filter(|f| f.sensor == SensorId::Card).count(), 2, "{found:#?}");
        assert_eq!(found.iter().filter(|f| f.sensor == SensorId::Ssn).count(), 1, "{found:#?}");
        assert_eq!(found.iter().filter(|f| f.sensor == SensorId::Iban).count(), 1, "{found:#?}");
        let text = String::from_utf8_lossy(BODY);
        for f in &found {
            assert!(
                !text.contains(&f.preview) || matches!(f.sensor, SensorId::Sqli | SensorId::Xss),
                "{f:?} leaks"
            );
        }
    }

    #[test]
    fn only_enabled_sensors_run() {
        let dlp = Dlp::new(&[SensorId::Ssn]).unwrap();
        assert!(dlp.scan(BODY).iter().all(|f| f.sensor == SensorId::Ssn));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decoded(b"a%27+OR%201%3D1").unwrap(), b"a' OR 1=1");
        assert_eq!(percent_decoded(b"plain"), None);
        assert_eq!(percent_decoded(b"%zz%4").map(|v| v.is_empty()), None);
    }

    #[test]
    fn hostile_input_never_panics() {
        let dlp = Dlp::all().unwrap();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in [0usize, 1, 7, 100, 4096] {
            for _ in 0..50 {
                let data: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        b"0123456789 -%<>'\"=@.aZ\x00\xff"[(x % 22) as usize]
                    })
                    .collect();
                let _ = dlp.scan(&data);
            }
        }
    }
}
