//! ConanCenter versions, ordered as Conan 2 orders them: the main part (`1.2.13`, `1.1.1w`, `cci.20200101`)
//! is split at `.`; items compare as numbers when both are numbers and otherwise as text, a number before
//! text, and when one list is a prefix of the other the longer is newer (`1.2` < `1.2.1`). A pre-release
//! after `-` (`1.0.0-rc1`) comes before the same version without one, pre-releases comparing the same way;
//! build metadata after `+` does not count. A letter suffix glued to a number (OpenSSL's `1.1.1w`) is its own
//! item after the number: `1.1.1` < `1.1.1a` < `1.1.1w` < `1.1.2`.

use super::VersionError;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Num(u64),
    Text(String),
}

impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Item::Num(a), Item::Num(b)) => a.cmp(b),
            (Item::Text(a), Item::Text(b)) => a.cmp(b),
            (Item::Num(_), Item::Text(_)) => Ordering::Less,
            (Item::Text(_), Item::Num(_)) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A Conan version: main items and optional pre-release items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConanVersion {
    main: Vec<Item>,
    pre: Option<Vec<Item>>,
}

fn items(s: &str, whole: &str) -> Result<Vec<Item>, VersionError> {
    let mut out = Vec::new();
    for part in s.split('.') {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(VersionError::new(
                "conan",
                whole,
                format!("item {part:?} is empty or has other characters"),
            ));
        }
        // `1w`: the number, then the letters.
        let digits = part.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let n = part[..digits]
                .parse::<u64>()
                .map_err(|e| VersionError::new("conan", whole, format!("{part:?}: {e}")))?;
            out.push(Item::Num(n));
            if digits < part.len() {
                out.push(Item::Text(part[digits..].to_ascii_lowercase()));
            }
        } else {
            out.push(Item::Text(part.to_ascii_lowercase()));
        }
    }
    Ok(out)
}

impl ConanVersion {
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        let t = s.trim();
        let t = t.split('+').next().unwrap_or(t);
        let (main, pre) = match t.split_once('-') {
            Some((m, p)) => (m, Some(p)),
            None => (t, None),
        };
        Ok(ConanVersion { main: items(main, s)?, pre: pre.map(|p| items(p, s)).transpose()? })
    }
}

impl Ord for ConanVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.main.cmp(&other.main).then_with(|| match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => a.cmp(b),
        })
    }
}

impl PartialOrd for ConanVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, assert_equal, assert_order};

    #[test]
    fn order() {
        assert_order(
            Scheme::Conan,
            &[
                "1.0.0-rc1",
                "1.0.0-rc2",
                "1.0.0",
                "1.1.1",
                "1.1.1a",
                "1.1.1w",
                "1.1.2",
                "1.2",
                "1.2.13",
                "1.10",
                "cci.20200101",
            ],
        );
        assert_equal(Scheme::Conan, "3.0.0+build5", "3.0.0");
        assert!(Scheme::Conan.parse("1..2").is_err());
        assert!(Scheme::Conan.parse("1.2 beta").is_err());
    }
}
