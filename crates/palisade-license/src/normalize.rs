//! Declared licence strings → SPDX expressions.
//!
//! Package metadata says `GPL-2+`, `GPLv2 or later`, `Apache License, Version 2.0`, `MIT/X11`, `BSD`,
//! `LGPLv2.1+`, `PSF`, `Public Domain`, a URL, or a real SPDX expression. [`normalize`] turns each into one
//! SPDX expression (licence list ids, `LicenseRef-` for the few things no list id names, `WITH` for listed
//! exceptions), in this order for every term:
//!
//! 1. an SPDX licence id, any case, with `+` (GNU ids get `-only` / `-or-later`, the SPDX 3 spelling);
//! 2. the alias table `data/aliases.tsv` and the SPDX list's own full names (`MIT License`), compared after
//!    folding case, punctuation and the words `the`, `license`, `version`;
//! 3. GNU family names by rule (`GPLv2+`, `LGPL-2.1 or later`, `GNU General Public License v3`);
//! 4. licence URLs (`opensource.org/licenses/X`, `apache.org/licenses/LICENSE-2.0`, `gnu.org/licenses/...`);
//! 5. a name with its short form in parentheses (`GNU General Public License v2 (GPLv2)`).
//!
//! A string that is no single term is split at its operators, loosest first: `or`, `|`, `and/or`; then `and`,
//! `&`; then `,` and `;` (read as AND, which is the safe reading for a gate); then `/` (OR). `X with Y
//! exception` becomes `X WITH <exception id>`; an exception the SPDX list does not have is left out and said
//! in [`Normalized::note`] (an exception only adds permissions, so leaving it out is the stricter reading).
//! The result is checked with the `spdx` crate's parser (SPDX 2.3 syntax, deprecated ids allowed); what does
//! not normalise keeps only its raw text and is reported as invalid.

use regex::Regex;
use std::collections::HashMap;
use std::sync::LazyLock;

/// One declared licence string, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The text as the package states it.
    pub raw: String,
    /// The SPDX expression it means; `None` when it could not be read.
    pub expression: Option<String>,
    /// What was changed beyond spelling (a dropped exception), if anything.
    pub note: Option<String>,
}

/// The words SPDX uses for "nothing stated" and "no licence"; they normalise to nothing.
pub fn is_no_assertion(s: &str) -> bool {
    let s = s.trim();
    s.is_empty()
        || s.eq_ignore_ascii_case("NOASSERTION")
        || s.eq_ignore_ascii_case("NONE")
        || s.eq_ignore_ascii_case("unknown")
}

/// Normalise one declared licence string. `None` for the empty string and SPDX's `NOASSERTION` / `NONE`.
pub fn normalize(raw: &str) -> Option<Normalized> {
    normalize_mode(raw, false)
}

fn normalize_mode(raw: &str, refs: bool) -> Option<Normalized> {
    if is_no_assertion(raw) {
        return None;
    }
    if !balanced(raw) {
        return Some(Normalized { raw: raw.to_string(), expression: None, note: None });
    }
    let mut cx = Cx { notes: Vec::new(), refs };
    let expression = expr(&clean(raw), &mut cx, 0).map(|e| e.text).filter(|e| is_valid(e));
    Some(Normalized {
        raw: raw.to_string(),
        expression,
        note: (!cx.notes.is_empty()).then(|| cx.notes.join("; ")),
    })
}

/// Normalise a licence of a machine-readable Debian copyright file. DEP-5 lets a file define its own short
/// names in stand-alone `License:` paragraphs (`BSD-variant`, `permissive-fsf`); a name that is neither an
/// SPDX id nor an alias becomes `LicenseRef-<name>`, which is how SPDX names a licence defined in the
/// document, and is categorised `unknown`.
pub fn normalize_dep5(raw: &str) -> Option<Normalized> {
    normalize_mode(raw, true)
}

/// Normalisation state: notes made on the way, and whether unknown single names become `LicenseRef-`s.
struct Cx {
    notes: Vec<String>,
    refs: bool,
}

/// True when `s` is a valid SPDX 2.3 expression (licence list ids, deprecated ones too, `LicenseRef-`).
pub fn is_valid(s: &str) -> bool {
    spdx::Expression::parse_mode(s, MODE).is_ok()
}

/// What [`is_valid`] accepts.
pub(crate) const MODE: spdx::ParseMode = spdx::ParseMode {
    allow_slash_as_or_operator: false,
    allow_imprecise_license_names: false,
    allow_postfix_plus_on_gpl: true,
    allow_deprecated: true,
    allow_unknown: false,
};

/// An expression being built: its text and whether it needs parentheses inside a larger one.
struct Expr {
    text: String,
    /// The loosest operator at its top level.
    top: Top,
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Top {
    Term,
    And,
    Or,
}

impl Expr {
    fn term(text: impl Into<String>) -> Self {
        let text = text.into();
        let top = if text.contains(" OR ") {
            Top::Or
        } else if text.contains(" AND ") {
            Top::And
        } else {
            Top::Term
        };
        Expr { text, top }
    }

    /// The text as an operand of `op`: parenthesised when it binds more loosely.
    fn operand(&self, op: Top) -> String {
        if self.top > op || (self.top == Top::Or && op == Top::And) {
            format!("({})", self.text)
        } else {
            self.text.clone()
        }
    }
}

/// Collapse whitespace, drop quotes and trailing punctuation.
fn clean(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.trim_matches(|c: char| {
        c == '"' || c == '\'' || c == '`' || c == '.' || c == ';' || c == ',' || c == ' '
    })
    .to_string()
}

/// Depth guard against pathological input (each level strips at least one separator or paren pair).
const MAX_DEPTH: usize = 32;

fn expr(s: &str, cx: &mut Cx, depth: usize) -> Option<Expr> {
    let s = s.trim();
    if s.is_empty() || depth > MAX_DEPTH {
        return None;
    }
    if let Some(inner) = strip_outer_parens(s) {
        return expr(inner, cx, depth + 1);
    }
    if let Some(t) = term(s) {
        return Some(Expr::term(t));
    }
    for (seps, op) in [
        // DEP-5: `A or B, and C` is `(A OR B) AND C`: a comma before the operator binds loosest.
        (&[", and "][..], Top::And),
        (&[", or "][..], Top::Or),
        (&OR_SEPARATORS[..], Top::Or),
        (&AND_SEPARATORS[..], Top::And),
        (&LIST_SEPARATORS[..], Top::And),
    ] {
        if let Some(e) = split_top(s, seps).and_then(|parts| join(&parts, op, cx, depth)) {
            return Some(e);
        }
    }
    if let Some((lic, exc)) = split_with(s) {
        let left = expr(lic, cx, depth + 1)?;
        return match (left.top, exception(exc)) {
            (Top::Term, Some(e)) => Some(Expr::term(format!("{} WITH {e}", left.text))),
            _ => {
                cx.notes.push(format!("exception {:?} is not in the SPDX list; left out", exc.trim()));
                Some(left)
            }
        };
    }
    if let Some(e) = split_top(s, &["/"]).and_then(|parts| join(&parts, Top::Or, cx, depth)) {
        return Some(e);
    }
    // A name with its short form after it in parentheses, or with a parenthesised remark.
    if let Some(open) = s.rfind('(')
        && s.ends_with(')')
        && open > 0
    {
        let inside = &s[open + 1..s.len() - 1];
        if let Some(e) = term(inside) {
            return Some(Expr::term(e));
        }
        return expr(&s[..open], cx, depth + 1);
    }
    if cx.refs
        && !s.contains(' ')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.+_".contains(&b))
        && s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
    {
        let id: String = s.replace('+', "-or-later").replace('_', "-");
        return Some(Expr::term(format!("LicenseRef-{id}")));
    }
    None
}

fn join(parts: &[&str], op: Top, cx: &mut Cx, depth: usize) -> Option<Expr> {
    // `v3 or later`, `2 or any later version`: one licence, not two.
    if op == Top::Or
        && parts.iter().any(|p| {
            let p = p.trim_start().to_ascii_lowercase();
            p.starts_with("later") || p.starts_with("any later") || p.starts_with("newer")
        })
    {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    for p in parts {
        let e = expr(p, cx, depth + 1)?;
        let t = e.operand(op);
        if !out.contains(&t) {
            out.push(t);
        }
    }
    let sep = if op == Top::Or { " OR " } else { " AND " };
    Some(Expr { text: out.join(sep), top: if out.len() == 1 { Top::Term } else { op } })
}

const OR_SEPARATORS: [&str; 5] = [" and/or ", " or ", " | ", "||", " OR "];
const AND_SEPARATORS: [&str; 4] = [" and ", " AND ", " & ", "&&"];
const LIST_SEPARATORS: [&str; 2] = [", ", "; "];

/// Parentheses open and close in order.
fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// `(...)` around the whole string.
fn strip_outer_parens(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    let mut depth = 0i32;
    for c in inner.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            _ => {}
        }
    }
    (depth == 0).then_some(inner)
}

/// Split `s` at every separator of `seps` outside parentheses (case-insensitive); `None` if there is none.
fn split_top<'a>(s: &'a str, seps: &[&str]) -> Option<Vec<&'a str>> {
    let lower = s.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut parts = Vec::new();
    let (mut depth, mut start, mut i) = (0i32, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ if depth == 0 => {
                if let Some(sep) = seps.iter().find(|sep| lower[i..].starts_with(&sep.to_ascii_lowercase())) {
                    parts.push(&s[start..i]);
                    i += sep.len();
                    start = i;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if parts.is_empty() {
        return None;
    }
    parts.push(&s[start..]);
    let parts: Vec<&str> = parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect();
    (parts.len() > 1).then_some(parts)
}

/// `X with Y` / `X WITH Y` at the top level.
fn split_with(s: &str) -> Option<(&str, &str)> {
    let parts = split_top(s, &[" with ", " WITH "])?;
    match parts.as_slice() {
        [l, r] => Some((l, r)),
        _ => None,
    }
}

/// One licence term, no operators: an SPDX id, an alias, a GNU family name or a URL.
fn term(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(id) = spdx_id(s) {
        return Some(id);
    }
    if let Some(r) = s.strip_prefix("LicenseRef-")
        && !r.is_empty()
        && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Some(s.to_string());
    }
    let lower = s.to_ascii_lowercase();
    if let Some(e) = TABLES.aliases.get(&lower) {
        return Some(e.clone());
    }
    if lower.starts_with("see license") || lower.starts_with("see licence") {
        return Some("LicenseRef-See-License".into());
    }
    if lower == "unlicensed" {
        // npm's word for "not licensed for use by others".
        return Some("LicenseRef-Proprietary".into());
    }
    if let Some(e) = gnu_family(&lower) {
        return Some(e);
    }
    if let Some(e) = url(&lower) {
        return Some(e);
    }
    let key = fold(&lower);
    TABLES.folded.get(&key).cloned()
}

/// A licence id from the SPDX list, any case, with an optional `+`, in its canonical spelling.
fn spdx_id(s: &str) -> Option<String> {
    let (base, plus) = match s.strip_suffix('+') {
        Some(b) => (b.trim_end(), true),
        None => (s, false),
    };
    let lower = base.to_ascii_lowercase();
    // `Apache-2`, `BSL-1`, `MPL-2`: the version without its `.0`.
    let name = TABLES.ids.get(&lower).or_else(|| {
        lower.ends_with(|c: char| c.is_ascii_digit()).then(|| TABLES.ids.get(&format!("{lower}.0"))).flatten()
    })?;
    let id = spdx::license_id(name)?;
    Some(canonical_id(id, plus))
}

/// GNU ids in the SPDX 3 spelling (`GPL-2.0` → `GPL-2.0-only`, `GPL-2.0+` → `GPL-2.0-or-later`); others as
/// listed, with `+` kept.
fn canonical_id(id: spdx::LicenseId, plus: bool) -> String {
    let name = id.name;
    if id.is_gnu() {
        let base = name.strip_suffix("-only").or_else(|| name.strip_suffix("-or-later")).unwrap_or(name);
        let later = plus || name.ends_with("-or-later");
        let candidate = format!("{base}-{}", if later { "or-later" } else { "only" });
        if spdx::license_id(&candidate).is_some() {
            return candidate;
        }
    }
    if plus { format!("{name}+") } else { name.to_string() }
}

/// An exception id from the SPDX list, or a common way of naming one.
fn exception(s: &str) -> Option<String> {
    let s = clean(s);
    if let Some(e) = TABLES.exceptions.get(&s.to_ascii_lowercase()) {
        return Some(e.to_string());
    }
    let f = fold(&s.to_ascii_lowercase());
    let f = f.strip_suffix(" exception").unwrap_or(&f).to_string();
    let found = match f.as_str() {
        "classpath" | "gnu classpath" => "Classpath-exception-2.0",
        "gcc runtime library" | "gcc runtime" | "gcc" => "GCC-exception-3.1",
        "font" => "Font-exception-2.0",
        "autoconf" => "Autoconf-exception-2.0",
        "bison" => "Bison-exception-2.2",
        "llvm" => "LLVM-exception",
        "libtool" => "Libtool-exception",
        "linux syscall note" | "syscall" => "Linux-syscall-note",
        "openvpn openssl" => "openvpn-openssl-exception",
        "qt lgpl 1.1" => "Qt-LGPL-exception-1.1",
        "u boot" => "u-boot-exception-2.0",
        "wxwindows library 3.1" => "WxWindows-exception-3.1",
        _ => return None,
    };
    Some(found.to_string())
}

/// Fold a name for comparison: drop `the`, `license`/`licence`, `version`, `v` before a digit, punctuation.
fn fold(lower: &str) -> String {
    let spaced: String = lower
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '+' { c } else { ' ' })
        .collect();
    let mut words = Vec::new();
    for w in spaced.split_whitespace() {
        let w = w.trim_matches('.');
        if matches!(w, "the" | "license" | "licence" | "licensed" | "version" | "ver" | "") {
            continue;
        }
        let w = match w.strip_prefix('v') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
            _ => w,
        };
        words.push(w.to_string());
    }
    words.join(" ")
}

/// `GPL-2+`, `GPLv2 or later`, `LGPL-2.1`, `GNU Lesser General Public License v3 or later`, `AGPLv3`,
/// `GFDL-1.2+`, `GPL (>= 2)`.
fn gnu_family(lower: &str) -> Option<String> {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?x)^
            (?:the\s+)?(?:gnu\s+)?
            (?P<fam>agpl|lgpl|gpl|gfdl
               |affero\s+general\s+public|gnu\s+affero\s+general\s+public
               |lesser\s+general\s+public|library\s+general\s+public|library\s+or\s+lesser\s+general\s+public
               |general\s+public|free\s+documentation)
            (?:\s+licen[cs]e)?\s*,?\s*
            (?:version|ver\.?|v)?\s*-?\s*
            (?P<ver>\d+(?:\.\d+)?)?
            \s*-?\s*
            (?P<later>\+|or\s+(?:any\s+)?(?:later|newer)(?:\s+version)?|and\s+later|or-later|later
               |\(\s*>=?\s*(?P<min>[\d.]+)\s*\)|>=?\s*(?P<min2>[\d.]+))?
            \s*(?P<only>only)?$",
        )
        .expect("static regex")
    });
    let c = RE.captures(lower)?;
    let fam = c.name("fam")?.as_str();
    let fam = if fam.contains("affero") || fam == "agpl" {
        "AGPL"
    } else if fam.contains("lesser") || fam.contains("library") || fam == "lgpl" {
        "LGPL"
    } else if fam.contains("documentation") || fam == "gfdl" {
        "GFDL"
    } else {
        "GPL"
    };
    let ver = c.name("ver").or(c.name("min")).or(c.name("min2")).map(|m| m.as_str());
    let later = c.name("later").is_some();
    let (ver, later) = match ver {
        Some(v) => (v.to_string(), later),
        // No version: any version may be chosen (GPL §9 / §14 say so for the GPL family).
        None => match fam {
            "GPL" => ("1.0".into(), true),
            "LGPL" => ("2.0".into(), true),
            "AGPL" => ("3.0".into(), true),
            _ => ("1.1".into(), true),
        },
    };
    let ver = if ver.contains('.') { ver } else { format!("{ver}.0") };
    let id = format!("{fam}-{ver}-{}", if later { "or-later" } else { "only" });
    spdx::license_id(&id).map(|_| id)
}

/// Licence URLs that name one licence.
fn url(lower: &str) -> Option<String> {
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"))?;
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let rest = rest.trim_end_matches('/');
    let strip_ext = |s: &str| {
        let s = s.split(['#', '?']).next().unwrap_or(s);
        s.trim_end_matches(".html")
            .trim_end_matches(".php")
            .trim_end_matches(".txt")
            .trim_end_matches(".json")
            .to_string()
    };
    if let Some(id) =
        rest.strip_prefix("opensource.org/licenses/").or_else(|| rest.strip_prefix("spdx.org/licenses/"))
    {
        let id = strip_ext(id);
        return spdx_id(&id).or_else(|| TABLES.aliases.get(&id).cloned());
    }
    if rest.starts_with("apache.org/licenses/license-2.0") {
        return Some("Apache-2.0".into());
    }
    if rest.starts_with("apache.org/licenses/license-1.1") {
        return Some("Apache-1.1".into());
    }
    if let Some(p) = rest.strip_prefix("gnu.org/licenses/") {
        let p = strip_ext(p);
        let p = p.rsplit('/').next().unwrap_or(&p).replace('-', " ");
        return gnu_family(&p);
    }
    if rest == "mit-license.org" || rest.starts_with("mit-license.org/") {
        return Some("MIT".into());
    }
    if rest.starts_with("eclipse.org/legal/epl-2.0") || rest.starts_with("eclipse.org/legal/epl-v20") {
        return Some("EPL-2.0".into());
    }
    if rest.starts_with("eclipse.org/legal/epl-v10") || rest.starts_with("eclipse.org/org/documents/epl-v10")
    {
        return Some("EPL-1.0".into());
    }
    if rest.starts_with("mozilla.org/mpl/2.0") || rest.starts_with("mozilla.org/en-us/mpl/2.0") {
        return Some("MPL-2.0".into());
    }
    None
}

/// The lookup tables, built once.
struct Tables {
    /// Lower-case SPDX licence id → id.
    ids: HashMap<String, &'static str>,
    /// Lower-case exception id → id.
    exceptions: HashMap<String, &'static str>,
    /// Alias (lower case) → expression.
    aliases: HashMap<String, String>,
    /// Folded alias or SPDX full name → expression.
    folded: HashMap<String, String>,
}

/// The alias table: `alias<TAB>expression`, `#` comments.
pub(crate) const ALIASES: &str = include_str!("../data/aliases.tsv");

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let mut ids = HashMap::new();
    let mut folded = HashMap::new();
    for l in spdx::identifiers::LICENSES {
        ids.insert(l.name.to_ascii_lowercase(), l.name);
    }
    // Full names: listed ids first so a deprecated id never shadows its successor's name.
    for deprecated in [false, true] {
        for l in spdx::identifiers::LICENSES {
            let is_dep = l.flags & spdx::flags::IS_DEPRECATED != 0;
            if is_dep == deprecated
                && let Some(id) = spdx::license_id(l.name)
            {
                folded
                    .entry(fold(&l.full_name.to_ascii_lowercase()))
                    .or_insert_with(|| canonical_id(id, false));
            }
        }
    }
    let exceptions =
        spdx::identifiers::EXCEPTIONS.iter().map(|e| (e.name.to_ascii_lowercase(), e.name)).collect();
    let mut aliases = HashMap::new();
    for line in ALIASES.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((alias, e)) = line.split_once('\t') {
            let alias = alias.trim().to_ascii_lowercase();
            folded.insert(fold(&alias), e.trim().to_string());
            aliases.insert(alias, e.trim().to_string());
        }
    }
    Tables { ids, exceptions, aliases, folded }
});

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<String> {
        normalize(s).and_then(|n| n.expression)
    }

    #[test]
    fn the_names_projects_write() {
        let cases = [
            ("GPL-2+", "GPL-2.0-or-later"),
            ("GPLv2 or later", "GPL-2.0-or-later"),
            ("GPL-2", "GPL-2.0-only"),
            ("GPL", "GPL-1.0-or-later"),
            ("Apache 2.0", "Apache-2.0"),
            ("Apache License, Version 2.0", "Apache-2.0"),
            ("The Apache Software License, Version 2.0", "Apache-2.0"),
            ("MIT/X11", "MIT"),
            ("BSD", "BSD-3-Clause"),
            ("BSD-3-clause", "BSD-3-Clause"),
            ("LGPLv2.1+", "LGPL-2.1-or-later"),
            ("LGPL-2.1+", "LGPL-2.1-or-later"),
            ("PSF", "PSF-2.0"),
            ("Public Domain", "LicenseRef-Public-Domain"),
            ("Expat", "MIT"),
            ("MIT License", "MIT"),
            ("mit", "MIT"),
            ("GNU General Public License v2 (GPLv2)", "GPL-2.0-only"),
            ("GNU Lesser General Public License v3 or later (LGPLv3+)", "LGPL-3.0-or-later"),
            ("GPL (>= 2)", "GPL-2.0-or-later"),
            ("AGPLv3", "AGPL-3.0-only"),
            ("GFDL-1.2+", "GFDL-1.2-or-later"),
            ("Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0"),
            ("Eclipse Public License - v 1.0", "EPL-1.0"),
            ("https://opensource.org/licenses/MIT", "MIT"),
            ("http://www.apache.org/licenses/LICENSE-2.0.txt", "Apache-2.0"),
            ("https://www.gnu.org/licenses/gpl-3.0.html", "GPL-3.0-only"),
            ("GPL-2.0", "GPL-2.0-only"),
            ("GPL-2.0+", "GPL-2.0-or-later"),
            ("Artistic", "Artistic-1.0-Perl"),
            ("CC0", "CC0-1.0"),
            ("zlib", "Zlib"),
        ];
        for (raw, want) in cases {
            assert_eq!(n(raw).as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn compound_expressions() {
        let cases = [
            ("(MIT OR Apache-2.0) AND BSD-3-Clause", "(MIT OR Apache-2.0) AND BSD-3-Clause"),
            ("MIT OR Apache-2.0", "MIT OR Apache-2.0"),
            ("GPL-2+ or Artistic", "GPL-2.0-or-later OR Artistic-1.0-Perl"),
            ("GPLv2+ and LGPLv2+", "GPL-2.0-or-later AND LGPL-2.0-or-later"),
            ("BSD-3-Clause/MIT", "BSD-3-Clause OR MIT"),
            ("MIT, Apache-2.0", "MIT AND Apache-2.0"),
            ("Perl", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
            ("Perl and MIT", "(Artistic-1.0-Perl OR GPL-1.0-or-later) AND MIT"),
            ("GPL-2.0-only WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"),
            ("GPL-2 with classpath exception", "GPL-2.0-only WITH Classpath-exception-2.0"),
            ("GPL-3+ with GCC runtime library exception", "GPL-3.0-or-later WITH GCC-exception-3.1"),
            ("LGPL-2.1+ | MPL-1.1", "LGPL-2.1-or-later OR MPL-1.1"),
            ("MIT or MIT", "MIT"),
            ("GPL-1+ or Artistic, and Expat", "(GPL-1.0-or-later OR Artistic-1.0-Perl) AND MIT"),
            ("Apache-2", "Apache-2.0"),
            ("GFDL-NIV-1.3+", "GFDL-1.3-no-invariants-or-later"),
        ];
        for (raw, want) in cases {
            assert_eq!(n(raw).as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn unknown_exceptions_are_left_out_with_a_note() {
        let r = normalize("GPL-2+ with OpenSSL exception").unwrap();
        assert_eq!(r.expression.as_deref(), Some("GPL-2.0-or-later"));
        assert!(r.note.unwrap().contains("OpenSSL exception"));
    }

    #[test]
    fn invalid_strings_keep_their_raw_text() {
        for s in ["same-as-rest-of-p11kit", "My Own Licence v7", "(MIT", "GPL-7"] {
            let r = normalize(s).unwrap();
            assert_eq!(r.expression, None, "{s}");
            assert_eq!(r.raw, s);
        }
        assert_eq!(normalize("NOASSERTION"), None);
        assert_eq!(normalize("  "), None);
    }

    #[test]
    fn dep5_names_become_license_refs() {
        let r = normalize_dep5("GPL-2+ or BSD-variant").unwrap();
        assert_eq!(r.expression.as_deref(), Some("GPL-2.0-or-later OR LicenseRef-BSD-variant"));
        assert_eq!(normalize_dep5("GPL-3+ or weird name").unwrap().expression, None);
        assert_eq!(normalize("BSD-variant").unwrap().expression, None);
    }

    #[test]
    fn every_alias_is_a_valid_expression() {
        for line in ALIASES.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let (alias, e) = line.split_once('\t').unwrap_or_else(|| panic!("no tab: {line}"));
            assert!(is_valid(e), "{alias} → {e}");
        }
    }

    #[test]
    fn pathological_input_ends() {
        let deep = "(".repeat(500) + "MIT" + &")".repeat(500);
        let _ = normalize(&deep);
        let long = "MIT and ".repeat(2000);
        let _ = normalize(&long);
    }
}
