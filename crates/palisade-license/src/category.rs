//! Licence categories, from the data file `data/categories.tsv` (its header names the source).
//!
//! An id matches its table entry directly, or through its base (`GPL-2.0-or-later`, `GPL-2.0-only`,
//! `GPL-2.0+` and `GPL-2.0` all take `GPL-2.0`'s category). An expression's category is its worst
//! requirement's, where "worst" follows [`Category::rank`]; under `OR` the best option counts, since the user
//! may choose it.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::LazyLock;

/// How much a licence asks of whoever ships the software, most demanding first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Must not be shipped at all in most organisations (AGPL, non-commercial Creative Commons, WTFPL).
    Forbidden,
    /// Strong copyleft (GPL, LGPL, CC-BY-SA, OSL).
    Restricted,
    /// File-level copyleft (MPL, EPL, CDDL).
    Reciprocal,
    /// Keep the notice (MIT, BSD, Apache).
    Notice,
    /// Permissive without even a notice condition beyond what `notice` asks.
    Permissive,
    /// No conditions (CC0, Unlicense, 0BSD, public domain).
    Unencumbered,
    /// Not in the table, or not a licence that could be read.
    Unknown,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Forbidden,
        Category::Restricted,
        Category::Reciprocal,
        Category::Notice,
        Category::Permissive,
        Category::Unencumbered,
        Category::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::Forbidden => "forbidden",
            Category::Restricted => "restricted",
            Category::Reciprocal => "reciprocal",
            Category::Notice => "notice",
            Category::Permissive => "permissive",
            Category::Unencumbered => "unencumbered",
            Category::Unknown => "unknown",
        }
    }

    /// Severity rank for "worst of": forbidden 0 … unencumbered 5; unknown sits between restricted and
    /// reciprocal (it has to be looked at, but is not known to be copyleft).
    pub fn rank(self) -> u8 {
        match self {
            Category::Forbidden => 0,
            Category::Restricted => 1,
            Category::Unknown => 2,
            Category::Reciprocal => 3,
            Category::Notice => 4,
            Category::Permissive => 5,
            Category::Unencumbered => 6,
        }
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Category {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Category::ALL.into_iter().find(|c| c.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            format!("unknown licence category {s:?} (one of: {})", Category::ALL.map(|c| c.name()).join(", "))
        })
    }
}

/// The data file.
pub(crate) const CATEGORIES: &str = include_str!("../data/categories.tsv");

struct Table {
    licenses: HashMap<String, Category>,
    exceptions: HashMap<String, Category>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut licenses = HashMap::new();
    let mut exceptions = HashMap::new();
    for line in CATEGORIES.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let mut cols = line.split('\t');
        let (Some(id), Some(cat)) = (cols.next(), cols.next()) else { continue };
        let Ok(cat) = cat.parse::<Category>() else { continue };
        match id.strip_prefix("exception:") {
            Some(e) => exceptions.insert(e.to_string(), cat),
            None => licenses.insert(id.to_string(), cat),
        };
    }
    Table { licenses, exceptions }
});

/// The base of a licence id: without `+`, `-only`, `-or-later`.
pub fn base_id(id: &str) -> &str {
    let id = id.strip_suffix('+').unwrap_or(id);
    id.strip_suffix("-only").or_else(|| id.strip_suffix("-or-later")).unwrap_or(id)
}

/// The category of one licence id (or `LicenseRef-`), without exception.
pub fn of_id(id: &str) -> Category {
    let t = &*TABLE;
    t.licenses.get(id).or_else(|| t.licenses.get(base_id(id))).copied().unwrap_or(Category::Unknown)
}

/// The category of one requirement: the licence's, lowered from restricted to reciprocal by an exception
/// the table lists as reciprocal (a linking or runtime exception).
pub fn of_requirement(license: &str, exception: Option<&str>) -> Category {
    let c = of_id(license);
    match exception.and_then(|e| TABLE.exceptions.get(e)) {
        Some(Category::Reciprocal) if c == Category::Restricted => Category::Reciprocal,
        _ => c,
    }
}

/// The category of a whole expression: the worst requirement under `AND`, the best option under `OR`.
/// `None` when `expr` is not a valid expression.
pub fn of_expression(expr: &str) -> Option<Category> {
    let e = spdx::Expression::parse_mode(expr, crate::normalize::MODE).ok()?;
    // Evaluate bottom-up over the postfix form the crate keeps.
    let mut stack: Vec<Category> = Vec::new();
    for node in e.iter() {
        match node {
            spdx::expression::ExprNode::Req(r) => {
                stack.push(of_requirement(&license_name(&r.req.license), addition_name(&r.req).as_deref()))
            }
            spdx::expression::ExprNode::Op(op) => {
                let (Some(a), Some(b)) = (stack.pop(), stack.pop()) else { return None };
                let worse = if a.rank() <= b.rank() { a } else { b };
                let better = if a.rank() <= b.rank() { b } else { a };
                stack.push(match op {
                    spdx::expression::Operator::And => worse,
                    spdx::expression::Operator::Or => better,
                });
            }
        }
    }
    stack.pop()
}

/// The licence of a requirement as written in an expression (`GPL-2.0-or-later`, `LicenseRef-x`).
pub(crate) fn license_name(l: &spdx::LicenseItem) -> String {
    match l {
        spdx::LicenseItem::Spdx { id, or_later } => {
            if *or_later && !id.name.ends_with("-or-later") {
                format!("{}+", id.name)
            } else {
                id.name.to_string()
            }
        }
        spdx::LicenseItem::Other(r) => format!("LicenseRef-{}", r.lic_ref),
    }
}

/// The exception of a requirement, if any.
pub(crate) fn addition_name(r: &spdx::LicenseReq) -> Option<String> {
    r.addition.as_ref().map(|a| match a {
        spdx::AdditionItem::Spdx(e) => e.name.to_string(),
        spdx::AdditionItem::Other(o) => format!("AdditionRef-{}", o.add_ref),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_their_variants() {
        assert_eq!(of_id("MIT"), Category::Notice);
        assert_eq!(of_id("GPL-3.0-only"), Category::Restricted);
        assert_eq!(of_id("GPL-2.0-or-later"), Category::Restricted);
        assert_eq!(of_id("AGPL-3.0-or-later"), Category::Forbidden);
        assert_eq!(of_id("MPL-2.0"), Category::Reciprocal);
        assert_eq!(of_id("CC0-1.0"), Category::Unencumbered);
        assert_eq!(of_id("LicenseRef-Public-Domain"), Category::Unencumbered);
        assert_eq!(of_id("LicenseRef-acme"), Category::Unknown);
        assert_eq!(of_id("Glide"), Category::Unknown);
    }

    #[test]
    fn expressions() {
        assert_eq!(of_expression("MIT OR GPL-3.0-only"), Some(Category::Notice));
        assert_eq!(of_expression("MIT AND GPL-3.0-only"), Some(Category::Restricted));
        assert_eq!(of_expression("GPL-2.0-only WITH Classpath-exception-2.0"), Some(Category::Reciprocal));
        assert_eq!(of_expression("(MIT OR Apache-2.0) AND BSD-3-Clause"), Some(Category::Notice));
        assert_eq!(of_expression("not an expression"), None);
    }

    #[test]
    fn every_row_is_well_formed() {
        for line in CATEGORIES.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            assert!(cols.len() >= 3, "{line}");
            assert!(cols[1].parse::<Category>().is_ok(), "{line}");
            assert!(matches!(cols[2], "google" | "palisade"), "{line}");
            if cols[2] == "palisade" {
                assert!(cols.len() == 4 && !cols[3].is_empty(), "palisade rows give a reason: {line}");
            }
            match cols[0].strip_prefix("exception:") {
                Some(e) => assert!(spdx::exception_id(e).is_some(), "{line}"),
                None if cols[0].starts_with("LicenseRef-") => {}
                None => assert!(spdx::license_id(cols[0]).is_some(), "not an SPDX id: {}", cols[0]),
            }
        }
    }
}
