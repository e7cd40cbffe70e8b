//! Licence texts in files, identified against the SPDX licence list texts.
//!
//! The matcher is askalono's (word-bigram Dice similarity against the SPDX licence texts and standard
//! headers), as carried inside the `spdx` crate (`detection` module, Apache-2.0). The SPDX texts come from
//! that crate's store, turned at compile time into the compact form of [`crate::texts`]: nothing is
//! downloaded, read from disk or decoded at start; each file is compared with the few texts that share
//! most of its word pairs. A text seen before (Debian ships hundreds of identical copyright files) is not
//! matched again: results are kept by text.
//!
//! A whole-text match at or above [`THRESHOLD`] names the licence with its score (above 0.9 the search
//! stops there); below 0.9 the file is also searched for licence texts inside a larger text (a NOTICE with several licences, a README with a licence
//! section); what still scores below the threshold is reported as unknown, with its best score.
//! `SPDX-License-Identifier:` lines are read directly (confidence 1.0).

use spdx::detection::TextData;
use spdx::detection::scan::Scanner;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Lowest Dice score that names a licence (askalono's default).
pub const THRESHOLD: f32 = 0.8;

/// Largest text matched whole; longer files are cut here (licence texts are far shorter).
pub const MAX_TEXT: usize = 256 * 1024;

/// What a licence file or header says.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Detected {
    /// SPDX ids found, best first; empty when nothing scored above the threshold.
    pub licenses: Vec<String>,
    /// Best score (0 … 1).
    pub confidence: f32,
}

/// Results of the text matcher by (kind, text): identical texts are matched once per process.
fn memo(kind: u8, text: &str, compute: impl FnOnce() -> Option<Detected>) -> Option<Detected> {
    type Memo = Mutex<HashMap<(u8, Box<str>), Option<Detected>>>;
    static MEMO: OnceLock<Memo> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    let key = (kind, Box::<str>::from(text));
    if let Some(hit) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return hit.clone();
    }
    let r = compute();
    memo.lock().unwrap_or_else(|e| e.into_inner()).insert(key, r.clone());
    r
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
    memo(0, text, || Some(match_text(text)))
}

fn match_text(text: &str) -> Detected {
    let candidates = crate::texts::candidates(text);
    if candidates.is_empty() {
        return Detected { licenses: Vec::new(), confidence: 0.0 };
    }
    scan_with(&crate::texts::store_for(&candidates), text)
}

/// Match `text` against the licence texts of `store`: the best match above [`THRESHOLD`] and the licences
/// it contains.
fn scan_with(store: &spdx::detection::Store, text: &str) -> Detected {
    let data = TextData::new(text);
    let scanner =
        Scanner::new(store).confidence_threshold(THRESHOLD).shallow_limit(0.9).optimize(true).max_passes(4);
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
    Detected { licenses, confidence }
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
    // A one-line statement (`MIT Licensed`, `Licensed under the Apache License, Version 2.0`), normalised;
    // else the header text against the standard licence headers. A header that says nothing readable is no
    // finding: most headers are not licence texts.
    if let Some(e) = named_in_header(&head) {
        return Some(Detected { licenses: vec![e], confidence: 1.0 });
    }
    memo(1, &head, || {
        let candidates = crate::texts::candidates(&head);
        if candidates.is_empty() {
            return None;
        }
        let store = crate::texts::store_for(&candidates);
        let m = store.analyze(&TextData::new(&head));
        (m.score >= THRESHOLD).then(|| Detected { licenses: vec![canonical(m.name)], confidence: m.score })
    })
}

/// `X Licensed`, `Licensed under the X`, `License: X` in a header, when X normalises to SPDX.
fn named_in_header(head: &str) -> Option<String> {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?im)(?:^\s*licen[cs]e:\s*(?P<a>[^\n]{2,60}?)\s*$|licen[cs]ed under (?:the )?(?P<b>[^\n.;]{2,60}?)(?:\s+licen[cs]e)?(?:[.;,]|$)|^\s*(?P<c>[A-Za-z0-9.+-]{2,20}) licen[cs]ed\b)",
        )
        .expect("static regex")
    });
    for c in RE.captures_iter(head) {
        let name = c.name("a").or(c.name("b")).or(c.name("c"))?.as_str().trim();
        if let Some(e) =
            crate::normalize(name).and_then(|n| n.expression).filter(|e| !e.contains("LicenseRef-"))
        {
            return Some(e);
        }
    }
    None
}

/// The SPDX list names some licences twice (`GPL-2.0` deprecated, `GPL-2.0-only`); report the current id.
fn canonical(name: &str) -> String {
    crate::normalize(name).and_then(|n| n.expression).unwrap_or_else(|| name.to_string())
}

/// The values of `SPDX-License-Identifier:` lines, normalised; `None` when there is none.
fn spdx_identifiers(text: &str) -> Option<Vec<String>> {
    const TAG: &str = "SPDX-License-Identifier:";
    // One search over the text first: most files have no tag, and searching line by line costs more.
    if !text.contains(TAG) {
        return None;
    }
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

    /// Matching against the candidate texts gives what matching against the whole SPDX store gives (the
    /// same licences, with the same scores): on the fixture texts, and on every licence and copyright file of the fixture trees when they are built
    /// (`.ci/fixtures.sh`).
    #[test]
    fn same_as_the_full_store() {
        let full = spdx::detection::Store::load_inline().expect("full store");
        let whole = |text: &str| scan_with(&full, cut(text, MAX_TEXT));
        let mut texts: Vec<(String, String)> = vec![
            ("LICENSE-MIT".into(), include_str!("../tests/fixtures/LICENSE-MIT").into()),
            ("copyright-free".into(), include_str!("../tests/fixtures/copyright-free").into()),
            ("copyright-dep5".into(), include_str!("../tests/fixtures/copyright-dep5").into()),
        ];
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.fixtures");
        for dir in ["app-src", "rootfs-bookworm/usr/share/doc"] {
            collect(&fixtures.join(dir), &mut texts);
        }
        if texts.len() == 3 {
            eprintln!(
                "fixture trees absent (.ci/fixtures.sh builds them): only the 3 fixture texts compared"
            );
        }
        let mut same = 0;
        let mut differ = Vec::new();
        for (path, text) in &texts {
            let a = match_text(cut(text, MAX_TEXT));
            let b = whole(text);
            // Scores that name a licence are the same; below the threshold (unknown) the best score among
            // the candidates may be a little lower than the best over every text (noise, 0.1 against 0.13).
            let close = (a.confidence - b.confidence).abs() < 1e-4
                || (a.confidence < THRESHOLD && b.confidence < THRESHOLD);
            if a.licenses == b.licenses && close {
                same += 1;
            } else {
                differ.push(format!("{path}: {a:?} vs {b:?}"));
            }
        }
        eprintln!("{same} of {} texts matched as with the full store", texts.len());
        assert!(differ.is_empty(), "{differ:#?}");
    }

    fn collect(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                collect(&p, out);
            } else if ft.is_file() {
                let name = e.file_name().to_string_lossy().to_string();
                if crate::sink::is_license_file(&name)
                    && let Ok(t) = std::fs::read_to_string(&p)
                {
                    out.push((p.display().to_string(), t));
                }
            }
        }
    }

    #[test]
    fn gpl_header() {
        let src = include_str!("../tests/fixtures/header-gpl2.c");
        let d = source_header(src).unwrap();
        assert_eq!(d.licenses.len(), 1, "{d:?}");
        assert!(d.licenses[0].starts_with("GPL-2.0"), "{d:?}");
        assert_eq!(source_header("int main(void) { return 0; }\n"), None);
        let express = "/*!\n * express\n * Copyright(c) 2009-2013 TJ Holowaychuk\n * Copyright(c) 2013 Roman Shtylman\n \
                       * MIT Licensed\n */\n\n'use strict';\n";
        assert_eq!(source_header(express).map(|d| d.licenses), Some(vec!["MIT".to_string()]));
        let apache = "// Copyright 2020 The Authors.\n//\n// Licensed under the Apache License, Version 2.0 (the \"License\");\n\
                      // you may not use this file except in compliance with the License.\npackage x\n";
        assert_eq!(source_header(apache).map(|d| d.licenses), Some(vec!["Apache-2.0".to_string()]));
        let chatter = "// Copyright 2020 someone. All rights reserved. Do not redistribute this file without asking.\n\
                       // More words here about nothing in particular.\nint x;\n";
        assert_eq!(source_header(chatter), None);
    }
}
