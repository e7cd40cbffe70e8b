//! Debian `/usr/share/doc/<package>/copyright` files.
//!
//! Machine-readable files (DEP-5, `Format:` naming the copyright-format 1.0 spec) are read as paragraphs:
//! every `License:` field of the header and of each `Files:` paragraph gives its first line, the licence
//! short name or expression (`GPL-2+ or Artistic`); stand-alone `License:` paragraphs only hold texts and
//! are skipped. Other files are read by their text: references to `/usr/share/common-licenses/<NAME>` name
//! the licence (`or later` when the file says "any later version"); when there is none the caller runs the
//! text matcher on the file.

/// What one copyright file declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copyright {
    /// True for a machine-readable (DEP-5) file.
    pub machine_readable: bool,
    /// The licence names as written, each once, in file order.
    pub licenses: Vec<String>,
}

/// The Debian package a copyright file documents: `usr/share/doc/<package>/copyright`.
pub fn package_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("usr/share/doc/")?;
    let (pkg, file) = rest.split_once('/')?;
    (file == "copyright" && !pkg.is_empty()).then_some(pkg)
}

/// Read one copyright file.
pub fn parse(text: &str) -> Copyright {
    if is_dep5(text) { dep5(text) } else { Copyright { machine_readable: false, licenses: references(text) } }
}

fn is_dep5(text: &str) -> bool {
    text.lines().take(5).any(|l| {
        let l = l.trim_start_matches('\u{feff}');
        let Some((k, v)) = l.split_once(':') else { return false };
        k.trim().eq_ignore_ascii_case("format")
            && (v.contains("copyright-format") || v.contains("dep5") || v.contains("dep-5"))
    })
}

fn dep5(text: &str) -> Copyright {
    let paras = paragraphs(text);
    // Stand-alone License paragraphs: short name → text, to read the version of an unversioned `GPL`.
    let mut texts: Vec<(String, String)> = Vec::new();
    for para in &paras {
        if !para.iter().any(|(k, _, _)| k.eq_ignore_ascii_case("files"))
            && let Some((_, name, body)) = para.iter().find(|(k, _, _)| k.eq_ignore_ascii_case("license"))
        {
            texts.push((name.clone(), body.clone()));
        }
    }
    let mut licenses: Vec<String> = Vec::new();
    let mut first = true;
    for para in &paras {
        let mut has_files = false;
        let mut license = None;
        for (k, v, body) in para {
            if k.eq_ignore_ascii_case("files") {
                has_files = true;
            } else if k.eq_ignore_ascii_case("license") {
                let body = if body.trim().is_empty() {
                    texts.iter().find(|(n, _)| n == v).map(|(_, b)| b.as_str()).unwrap_or("")
                } else {
                    body.as_str()
                };
                license = Some(versioned(v, body));
            }
        }
        // The header may carry a License for the whole package; after it, only Files paragraphs declare.
        if (first || has_files)
            && let Some(l) = license
            && !l.is_empty()
            && !licenses.contains(&l)
        {
            licenses.push(l);
        }
        first = false;
    }
    Copyright { machine_readable: true, licenses }
}

/// An unversioned GNU licence name (`GPL`, `LGPL`, `GPL+`) with the version its licence text states
/// (`either version 2 of the License, or (at your option) any later version` → `GPL-2+`); other names as
/// they are. Without a stated version the name stays, and normalises to "any version".
fn versioned(name: &str, body: &str) -> String {
    let base = name.trim().trim_end_matches('+');
    if !["gpl", "lgpl", "agpl"].iter().any(|g| base.eq_ignore_ascii_case(g)) {
        return name.to_string();
    }
    let lower = body.to_ascii_lowercase();
    let Some(at) = lower.find("version ") else { return name.to_string() };
    let ver: String = lower[at + 8..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let ver = ver.trim_end_matches('.');
    if ver.is_empty() {
        return name.to_string();
    }
    let later = lower.contains("any later version") || name.trim().ends_with('+');
    format!("{base}-{ver}{}", if later { "+" } else { "" })
}

/// The paragraphs of a deb822 file: fields as (name, first line of the value, continuation lines).
fn paragraphs(text: &str) -> Vec<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    let mut cur: Vec<(String, String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = cur.last_mut() {
                last.2.push_str(line.trim());
                last.2.push('\n');
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_string(), v.trim().to_string(), String::new()));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Licences named by reference to `/usr/share/common-licenses/NAME` in a free-form file.
fn references(text: &str) -> Vec<String> {
    const DIR: &str = "/usr/share/common-licenses/";
    let later = text.to_ascii_lowercase().contains("any later version");
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(DIR) {
        rest = &rest[at + DIR.len()..];
        let name: String =
            rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.').collect();
        let name = name.trim_end_matches('.').to_string();
        if name.is_empty() {
            continue;
        }
        let gnu = name.starts_with("GPL") || name.starts_with("LGPL") || name.starts_with("GFDL");
        let name = if gnu && later && !name.ends_with('+') { format!("{name}+") } else { name };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP5: &str = include_str!("../tests/fixtures/copyright-dep5");
    const FREE: &str = include_str!("../tests/fixtures/copyright-free");

    #[test]
    fn machine_readable_files() {
        let c = parse(DEP5);
        assert!(c.machine_readable);
        assert_eq!(c.licenses, ["GPL-2+", "BSD-3-clause", "GPL-2+ or Artistic", "public-domain"]);
    }

    #[test]
    fn unversioned_gpl_takes_the_version_of_its_text() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\n\
                    Copyright: x\nLicense: GPL\n\nLicense: GPL\n This program is free software; either version 2 \
                    of the License, or\n (at your option) any later version.\n";
        assert_eq!(parse(text).licenses, ["GPL-2+"]);
        assert_eq!(versioned("GPL", "no version here"), "GPL");
        assert_eq!(versioned("LGPL", " version 2.1 of the License only"), "LGPL-2.1");
        assert_eq!(versioned("MIT", "version 7"), "MIT");
    }

    #[test]
    fn free_form_files_by_reference() {
        let c = parse(FREE);
        assert!(!c.machine_readable);
        assert_eq!(c.licenses, ["GPL-2+"]);
    }

    #[test]
    fn paths() {
        assert_eq!(package_of("usr/share/doc/bash/copyright"), Some("bash"));
        assert_eq!(package_of("usr/share/doc/bash/changelog.gz"), None);
        assert_eq!(package_of("usr/share/doc/bash/x/copyright"), None);
    }
}
