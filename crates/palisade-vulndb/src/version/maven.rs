//! Maven version order: an own port of the rules of Maven 3.9 `ComparableVersion`.
//!
//! A version is split at `.`, `-` and digit/letter transitions into numbers, qualifiers and sub-lists (a `-`
//! or a transition opens a sub-list). Known qualifiers order `alpha` < `beta` < `milestone` < `rc` = `cr` <
//! `snapshot` < (release: ``, `ga`, `final`, `release`) < `sp`; other qualifiers come after `sp`, in
//! lexical order. Trailing "null" items (`0`, release qualifiers, empty lists) are dropped, so
//! `1.0.0` = `1` = `1-ga`. `a1`/`b1`/`m1` are `alpha-1`/`beta-1`/`milestone-1`.

use super::VersionError;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// A number, leading zeros removed (arbitrary length, compared by length then digits).
    Int(String),
    /// A qualifier, already mapped to its comparable form.
    Str(String),
    List(Vec<Item>),
}

/// A parsed Maven version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MavenVersion {
    items: Vec<Item>,
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|k| *k == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn string_item(s: &str, followed_by_digit: bool) -> Item {
    let mut v = s;
    if followed_by_digit && s.len() == 1 {
        v = match s {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            _ => s,
        };
    }
    let v = match v {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Item::Str(v.to_string())
}

fn int_item(s: &str) -> Item {
    let t = s.trim_start_matches('0');
    Item::Int(t.to_string())
}

fn parse_item(s: &str, is_digit: bool, followed_by_digit: bool) -> Item {
    if is_digit { int_item(s) } else { string_item(s, followed_by_digit) }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n.is_empty(),
            Item::Str(s) => s.is_empty(),
            Item::List(l) => l.is_empty(),
        }
    }

    /// Compare with an absent item (the shorter version's padding).
    fn cmp_null(&self) -> Ordering {
        match self {
            Item::Int(n) => {
                if n.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            Item::Str(s) => comparable_qualifier(s).cmp(&comparable_qualifier("")),
            Item::List(l) => match l.first() {
                None => Ordering::Equal,
                Some(first) => first.cmp_null(),
            },
        }
    }

    fn cmp_item(&self, other: &Item) -> Ordering {
        match (self, other) {
            (Item::Int(a), Item::Int(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Item::Int(_), _) => Ordering::Greater,
            (Item::Str(_), Item::Int(_)) => Ordering::Less,
            (Item::Str(a), Item::Str(b)) => comparable_qualifier(a).cmp(&comparable_qualifier(b)),
            (Item::Str(_), Item::List(_)) => Ordering::Less,
            (Item::List(_), Item::Int(_)) => Ordering::Less,
            (Item::List(_), Item::Str(_)) => Ordering::Greater,
            (Item::List(a), Item::List(b)) => cmp_lists(a, b),
        }
    }
}

fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let ord = match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => x.cmp_item(y),
            (Some(x), None) => x.cmp_null(),
            (None, Some(y)) => y.cmp_null().reverse(),
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// Builder state: a stack of open lists; closing one appends it to its parent.
struct Builder {
    stack: Vec<Vec<Item>>,
}

impl Builder {
    fn push(&mut self, item: Item) {
        if let Some(top) = self.stack.last_mut() {
            top.push(item);
        }
    }
    fn open(&mut self) {
        self.stack.push(Vec::new());
    }
    fn finish(mut self) -> Vec<Item> {
        while self.stack.len() > 1 {
            let mut list = self.stack.pop().unwrap_or_default();
            normalize(&mut list);
            self.push(Item::List(list));
        }
        let mut root = self.stack.pop().unwrap_or_default();
        normalize(&mut root);
        root
    }
}

impl MavenVersion {
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(VersionError::new("maven", s, "contains whitespace"));
        }
        let v = s.to_lowercase();
        let chars: Vec<char> = v.chars().collect();
        let mut b = Builder { stack: vec![Vec::new()] };
        let mut is_digit = false;
        let mut start = 0;
        let text = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
        for i in 0..chars.len() {
            let c = chars[i];
            if c == '.' || c == '-' {
                if i == start {
                    b.push(Item::Int(String::new()));
                } else {
                    let followed = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
                    b.push(parse_item(&text(start, i), is_digit, followed));
                }
                start = i + 1;
                if c == '-' {
                    b.open();
                }
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    // Letter to digit: `a1` is `alpha-1`.
                    b.push(string_item(&text(start, i), true));
                    start = i;
                    b.open();
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    b.push(int_item(&text(start, i)));
                    start = i;
                    b.open();
                }
                is_digit = false;
            }
        }
        if chars.len() > start {
            b.push(parse_item(&text(start, chars.len()), is_digit, false));
        }
        Ok(MavenVersion { items: b.finish() })
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, assert_equal, assert_order};

    #[test]
    fn tricky_order() {
        // Order of the Maven 3.9 ComparableVersionTest "versions qualifier" list, plus usual release lines.
        assert_order(
            Scheme::Maven,
            &[
                "1-alpha2snapshot",
                "1-alpha2",
                "1-alpha-123",
                "1-beta-2",
                "1-beta123",
                "1-m2",
                "1-m11",
                "1-rc",
                "1-cr2",
                "1-rc123",
                "1-SNAPSHOT",
                "1",
                "1-sp",
                "1-sp2",
                "1-sp123",
                "1-abc",
                "1-def",
                "1-pom-1",
                "1-1-snapshot",
                "1-1",
                "1-2",
                "1-123",
            ],
        );
        assert_order(Scheme::Maven, &["2.13.0", "2.14.1", "2.15.0", "2.16.0", "2.17.0", "2.17.1"]);
        assert_order(Scheme::Maven, &["2.9.10.7", "2.9.10.8", "2.10.0", "2.12.6.1"]);
        // Maven puts unknown qualifiers after the release, even `pr` (Jackson's pre-releases).
        assert_order(Scheme::Maven, &["2.10.0", "2.10.0.pr1", "2.10.1"]);
        assert_order(Scheme::Maven, &["5.3.17", "5.3.18", "5.3.18.RELEASE.1"]);
        assert_equal(Scheme::Maven, "1", "1.0.0");
        assert_equal(Scheme::Maven, "1-ga", "1.0-final");
        assert_equal(Scheme::Maven, "1.0.RELEASE", "1.0");
        assert_equal(Scheme::Maven, "1-cr1", "1-rc1");
        assert_equal(Scheme::Maven, "1a1", "1-alpha-1");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Scheme::Maven.parse("1.0 beta").is_err());
    }
}
