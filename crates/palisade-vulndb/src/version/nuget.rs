//! NuGet version order: SemVer 2.0 extended to four numbers (`1.2.3.4`), missing numbers count as 0, release
//! labels compare case-insensitively (numeric identifiers numerically), build metadata is ignored.

use super::VersionError;
use std::cmp::Ordering;

/// A parsed NuGet version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NuGetVersion {
    nums: [u64; 4],
    pre: Vec<String>,
}

impl NuGetVersion {
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        let err = |why: &str| VersionError::new("nuget", s, why);
        let t = s.trim().trim_start_matches(['v', 'V']);
        let t = t.split_once('+').map_or(t, |(a, _)| a);
        let (core, pre) = match t.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (t, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 4 {
            return Err(err("expected one to four numbers"));
        }
        let mut nums = [0u64; 4];
        for (slot, p) in nums.iter_mut().zip(&parts) {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("number expected"));
            }
            *slot = p.parse().map_err(|_| err("number too large"))?;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(p) => {
                let ids: Vec<String> = p.split('.').map(|i| i.to_ascii_lowercase()).collect();
                if ids
                    .iter()
                    .any(|i| i.is_empty() || !i.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                {
                    return Err(err("invalid release label"));
                }
                ids
            }
        };
        Ok(NuGetVersion { nums, pre })
    }
}

/// SemVer identifier precedence: numbers numerically and before words; words in ASCII order.
pub(crate) fn cmp_identifiers(a: &[String], b: &[String]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    for (x, y) in a.iter().zip(b) {
        let xn = x.bytes().all(|c| c.is_ascii_digit());
        let yn = y.bytes().all(|c| c.is_ascii_digit());
        let ord = match (xn, yn) {
            (true, true) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

impl Ord for NuGetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nums.cmp(&other.nums).then_with(|| cmp_identifiers(&self.pre, &other.pre))
    }
}

impl PartialOrd for NuGetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Scheme, assert_equal, assert_order};

    #[test]
    fn tricky_order() {
        assert_order(
            Scheme::NuGet,
            &[
                "1.0.0-alpha",
                "1.0.0-Alpha.2",
                "1.0.0-beta",
                "1.0.0-rc.1",
                "1.0.0",
                "1.0.0.1",
                "1.0.1",
                "13.0.1",
            ],
        );
        assert_equal(Scheme::NuGet, "1.0", "1.0.0.0");
        assert_equal(Scheme::NuGet, "1.0.0-RC", "1.0.0-rc");
        assert_equal(Scheme::NuGet, "1.0.0+abc", "1.0.0");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Scheme::NuGet.parse("1.2.3.4.5").is_err());
        assert!(Scheme::NuGet.parse("1.x").is_err());
        assert!(Scheme::NuGet.parse("1.0-").is_err());
    }
}
