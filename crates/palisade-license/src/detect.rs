//! Licence texts in files, identified against the SPDX licence list texts.
//!
//! The matcher is askalono's (word-bigram Dice similarity against every SPDX licence text and standard
//! header), as carried inside the `spdx` crate (`detection` module, Apache-2.0), with the crate's embedded
//! pre-built store of the SPDX list texts: nothing is downloaded or read from disk. The store is loaded on
//! the first file that needs it (about 50 ms), so scans without licence files never pay for it.
//!
//! A whole-text match at or above [`THRESHOLD`] names the licence with its score; below it the file is
//! searched for licence texts inside a larger text (a NOTICE with several licences, a README with a licence
//! section); what still scores below the threshold is reported as unknown, with its best score.
//! `SPDX-License-Identifier:` lines are read directly (confidence 1.0).

use spdx::detection::scan::Scanner;
use spdx::detection::{Store, TextData};
use std::sync::OnceLock;

/// Lowest Dice score that names a licence (askalono's default).
pub const THRESHOLD: f32 = 0.8;

/// Largest text matched whole; longer files are cut here (licence texts are far shorter).
pub const MAX_TEXT: usize = 256 * 1024;

/// What a licence file or header says.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    /// SPDX ids found, best first; empty when nothing scored above the threshold.
    pub licenses: Vec<String>,
    /// Best score (0 … 1).
    pub confidence: f32,
}

fn store() -> Option<&'static Store> {
    static STORE: OnceLock<Option<Store>> = OnceLock::new();
    STORE.get_or_init(|| Store::load_inline().ok()).as_ref()
}

/// Match a whole licence file (`LICENSE`, `COPYING`, `NOTICE`, a non-DEP-5 Debian copyright file).
pub fn license_file(text: &str) -> Option<Detected> {
    if let Some(ids) = spdx_identifiers(text) {
        return Some(Detected { licenses: ids, confidence: 1.0 });
    }
    let text = cut(text, MAX_TEXT);
    if text.trim().is_empty() {
        return None;
    }
    let store = store()?;
    let data = TextData::new(text);
    let scanner =
        Scanner::new(store).confidence_threshold(THRESHOLD).shallow_limit(0.99).optimize(true).max_passes(4);
    let r = scanner.scan(&data);
    let mut licenses = Vec::new();
    let mut confidence = r.score;
    if let Some(l) = r.license.filter(|_| r.score >= THRESHOLD) {
        licenses.push(canonical(l.name));
    }
    for c in &r.containing {
        let id = canonical(c.license.name);
        if !licenses.contains(&id) {
            licenses.push(id);
            confidence = confidence.max(c.score);
        }
    }
    Some(Detected { licenses, confidence })
}

/// Match the header of a source file (`--license-full`): its `SPDX-License-Identifier:` line, else its
/// first comment block against the standard licence headers.
pub fn source_header(text: &str) -> Option<Detected> {
    if let Some(ids) = spdx_identifiers(cut(text, 8 * 1024)) {
        return Some(Detected { licenses: ids, confidence: 1.0 });
    }
    let head = header_comment(cut(text, 16 * 1024));
    // A header that does not mention a licence is not matched: most source files have none.
    let lower = head.to_ascii_lowercase();
    if head.len() < 80
        || !(lower.contains("licen") || lower.contains("permission") || lower.contains("copyright"))
    {
        return None;
    }
    let store = store()?;
    let m = store.analyze(&TextData::new(&head));
    let licenses = if m.score >= THRESHOLD { vec![canonical(m.name)] } else { Vec::new() };
    Some(Detected { licenses, confidence: m.score })
}

/// The SPDX list names some licences twice (`GPL-2.0` deprecated, `GPL-2.0-only`); report the current id.
fn canonical(name: &str) -> String {
    crate::normalize(name).and_then(|n| n.expression).unwrap_or_else(|| name.to_string())
}

/// The values of `SPDX-License-Identifier:` lines, normalised; `None` when there is none.
fn spdx_identifiers(text: &str) -> Option<Vec<String>> {
    const TAG: &str = "SPDX-License-Identifier:";
    let mut out = Vec::new();
    for line in text.lines().take(200) {
        let Some(at) = line.find(TAG) else { continue };
        let v = line[at + TAG.len()..].trim().trim_end_matches("*/").trim_end_matches("-->").trim();
        if let Some(e) = crate::normalize(v).and_then(|n| n.expression)
            && !out.contains(&e)
        {
            out.push(e);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The first comment block of a source file, comment markers removed.
fn header_comment(text: &str) -> String {
    let mut out = String::new();
    let mut started = false;
    let mut in_block = false;
    for line in text.lines().take(120) {
        let t = line.trim();
        if !started
            && (t.is_empty()
                || t.starts_with("#!")
                || t.starts_with("// +build")
                || t.starts_with("//go:build"))
        {
            continue;
        }
        let body = if in_block || t.starts_with("/*") {
            in_block = !t.contains("*/") || (t.starts_with("/*") && t.len() > 2 && !t[2..].contains("*/"));
            t.trim_start_matches("/*").trim_end_matches("*/").trim_start_matches('*')
        } else if let Some(r) =
            t.strip_prefix("//").or_else(|| t.strip_prefix('#')).or_else(|| t.strip_prefix("--"))
        {
            r
        } else if t.is_empty() && started {
            if in_block {
                ""
            } else {
                break;
            }
        } else {
            break;
        };
        started = true;
        out.push_str(body.trim());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licence_texts_from_the_spdx_list() {
        let mit = include_str!("../tests/fixtures/LICENSE-MIT");
        let d = license_file(mit).unwrap();
        assert_eq!(d.licenses, ["MIT"], "{d:?}");
        assert!(d.confidence >= THRESHOLD);
    }

    #[test]
    fn below_the_threshold_is_unknown() {
        let d =
            license_file("This software may be used by anyone who sends the author a postcard.\n").unwrap();
        assert!(d.licenses.is_empty() && d.confidence < THRESHOLD, "{d:?}");
    }

    #[test]
    fn spdx_identifier_lines() {
        let d = source_header("// SPDX-License-Identifier: Apache-2.0 OR MIT\nfn main() {}\n").unwrap();
        assert_eq!(d.licenses, ["Apache-2.0 OR MIT"]);
        assert_eq!(d.confidence, 1.0);
    }

    #[test]
    fn gpl_header() {
        let src = include_str!("../tests/fixtures/header-gpl2.c");
        let d = source_header(src).unwrap();
        assert_eq!(d.licenses.len(), 1, "{d:?}");
        assert!(d.licenses[0].starts_with("GPL-2.0"), "{d:?}");
        assert_eq!(source_header("int main(void) { return 0; }\n"), None);
    }
}
