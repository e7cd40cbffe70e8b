//! Composer (Packagist) version order: up to four numbers (`v` prefix allowed) and a stability suffix,
//! `dev` < `alpha`/`a` < `beta`/`b` < `RC`/`c` < (stable) < `patch`/`pl`/`p`, each with an optional number
//! (`5.4.1-RC1`, `1.0.0-beta.2`, `2.0-p1`). Branch names (`dev-main`) sort before every release.

use super::VersionError;
use std::cmp::Ordering;

/// A parsed Composer version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposerVersion {
    /// `None` for a `dev-<branch>` version.
    nums: Option<[u64; 4]>,
    /// Stability rank: dev 0, alpha 1, beta 2, rc 3, stable 4, patch 5.
    stability: u8,
    stability_no: u64,
    branch: String,
}

fn stability(word: &str) -> Option<u8> {
    Some(match word {
        "dev" => 0,
        "alpha" | "a" => 1,
        "beta" | "b" => 2,
        "rc" | "c" => 3,
        "stable" => 4,
        "patch" | "pl" | "p" => 5,
        _ => return None,
    })
}

impl ComposerVersion {
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        let err = |why: &str| VersionError::new("composer", s, why);
        let t = s.trim().to_ascii_lowercase();
        if let Some(branch) = t.strip_prefix("dev-") {
            return Ok(ComposerVersion {
                nums: None,
                stability: 0,
                stability_no: 0,
                branch: branch.to_string(),
            });
        }
        let t = t.strip_prefix('v').unwrap_or(&t);
        let t = t.split_once('+').map_or(t, |(a, _)| a);
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (core, rest) = t.split_at(split);
        let core = core.trim_end_matches('.');
        let parts: Vec<&str> = core.split('.').collect();
        if core.is_empty() || parts.len() > 4 {
            return Err(err("expected one to four numbers"));
        }
        let mut nums = [0u64; 4];
        for (slot, p) in nums.iter_mut().zip(&parts) {
            if p.is_empty() {
                return Err(err("empty number"));
            }
            *slot = p.parse().map_err(|_| err("number too large"))?;
        }
        let rest = rest.trim_start_matches(['-', '.', '_']);
        let (stab, no) = if rest.is_empty() {
            (4, 0)
        } else {
            let w = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
            let (word, num) = rest.split_at(w);
            let st = stability(word).ok_or_else(|| err("unknown stability suffix"))?;
            let num = num.trim_start_matches(['.', '-', '_']);
            let no = if num.is_empty() { 0 } else { num.parse().map_err(|_| err("bad suffix number"))? };
            (st, no)
        };
        Ok(ComposerVersion { nums: Some(nums), stability: stab, stability_no: no, branch: String::new() })
    }
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.nums, &other.nums) {
            (None, None) => self.branch.cmp(&other.branch),
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(a), Some(b)) => a
                .cmp(b)
                .then(self.stability.cmp(&other.stability))
                .then(self.stability_no.cmp(&other.stability_no)),
        }
    }
}

impl PartialOrd for ComposerVersion {
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
            Scheme::Composer,
            &[
                "dev-main",
                "1.0.0-dev",
                "1.0.0-alpha1",
                "1.0.0-beta.2",
                "1.0.0-RC1",
                "1.0.0-RC2",
                "1.0.0",
                "1.0.0-p1",
                "1.0.1",
                "v5.4.1",
                "5.4.20",
            ],
        );
        assert_equal(Scheme::Composer, "v1.2", "1.2.0.0");
        assert_equal(Scheme::Composer, "1.0.0-b1", "1.0.0-beta1");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Scheme::Composer.parse("1.0.0-foo").is_err());
        assert!(Scheme::Composer.parse("abc").is_err());
    }
}
