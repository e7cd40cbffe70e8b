//! The licence gate: allow and deny lists, category gates and what to do with unknown licences, judged
//! with SPDX expression semantics.
//!
//! Each requirement of an expression (`ID`, `ID+`, `ID WITH EXCEPTION`, `LicenseRef-x`) is judged in this
//! order; the first rule that decides wins:
//!
//! 1. an allow entry naming the licence *with* this exception (`GPL-2.0-only WITH Classpath-exception-2.0`)
//!    passes it: the exact pair is the most specific rule;
//! 2. a deny entry naming the licence fails it (with or without an exception; `GPL-3.0`, `GPL-3.0-only` and
//!    `GPL-3.0-or-later` all name the licence GPL-3.0);
//! 3. with an allow list, an allow entry naming the licence passes it (an exception only adds permissions)
//!    and anything else fails it;
//! 4. a licence whose category is in the fail-on list fails it;
//! 5. an unknown licence (category `unknown`) follows the unknown action.
//!
//! `A OR B` passes when either passes, `A AND B` when both do. An expression that could not be read at all
//! is unknown. `X-or-later` is judged as the licence `X` names (the version the user may choose).

use crate::category::{self, Category, addition_name, base_id, license_name};

/// What to do with a licence that is not known (not in the category table, not normalised).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownAction {
    /// Report it, do not fail.
    #[default]
    Warn,
    /// Fail the gate.
    Fail,
    /// Pass it silently.
    Ignore,
}

impl std::str::FromStr for UnknownAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "warn" => Ok(UnknownAction::Warn),
            "fail" => Ok(UnknownAction::Fail),
            "ignore" => Ok(UnknownAction::Ignore),
            _ => Err(format!("unknown licence action {s:?} (one of: warn, fail, ignore)")),
        }
    }
}

/// The licence policy: `--license-allow`, `--license-deny`, `--license-fail-on`, `--license-unknown`.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    allow: Vec<Entry>,
    deny: Vec<Entry>,
    fail_on: Vec<Category>,
    unknown: UnknownAction,
}

/// One list entry: a licence (by its base id) and, optionally, one exception.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// Base id (`GPL-2.0`, `MIT`, `LicenseRef-x`).
    base: String,
    exception: Option<String>,
    /// As the user wrote it, for messages.
    text: String,
}

impl Entry {
    fn parse(s: &str) -> Result<Entry, String> {
        let text = s.trim().to_string();
        let (lic, exc) = match text.split_once(" WITH ").or_else(|| text.split_once(" with ")) {
            Some((l, e)) => (l.trim(), Some(e.trim())),
            None => (text.as_str(), None),
        };
        let norm = crate::normalize(lic)
            .and_then(|n| n.expression)
            .filter(|e| !e.contains(' '))
            .ok_or_else(|| format!("{lic:?} is not an SPDX licence id"))?;
        let exception = match exc {
            Some(e) => Some(
                spdx::exception_id(e)
                    .map(|x| x.name.to_string())
                    .ok_or_else(|| format!("{e:?} is not an SPDX exception id"))?,
            ),
            None => None,
        };
        Ok(Entry { base: canonical_base(&norm), exception, text })
    }
}

/// The base id used to compare licences: `GPL-2.0-or-later`, `GPL-2.0-only`, `GPL-2.0+`, `GPL-2.0` are all
/// `GPL-2.0`.
fn canonical_base(id: &str) -> String {
    base_id(id).to_string()
}

/// Why a requirement or expression failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The rule, as a user would name it: `--license-deny GPL-3.0-only`, `--license-fail-on restricted`,
    /// `not in --license-allow`, `--license-unknown fail`.
    pub rule: String,
}

/// The gate's view of one expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Pass,
    /// Passes, but a requirement is unknown and the action is `warn`.
    Warn(String),
    Fail(Failure),
}

impl Policy {
    /// Build from the CLI lists. Every entry must be an SPDX id (or alias) with an optional `WITH` exception.
    pub fn new(
        allow: &[String],
        deny: &[String],
        fail_on: &[Category],
        unknown: UnknownAction,
    ) -> Result<Policy, String> {
        let parse = |list: &[String], flag: &str| {
            list.iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| Entry::parse(s).map_err(|e| format!("{flag}: {e}")))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Policy {
            allow: parse(allow, "--license-allow")?,
            deny: parse(deny, "--license-deny")?,
            fail_on: fail_on.to_vec(),
            unknown,
        })
    }

    /// True when the policy can fail anything.
    pub fn is_active(&self) -> bool {
        !self.allow.is_empty()
            || !self.deny.is_empty()
            || !self.fail_on.is_empty()
            || self.unknown == UnknownAction::Fail
    }

    /// Judge one requirement: `Ok(warning)` when it passes, `Err` with the rule when it fails.
    fn judge(&self, license: &str, exception: Option<&str>) -> Result<Option<String>, Failure> {
        let base = canonical_base(license);
        let exact =
            |e: &Entry| e.base == base && e.exception.is_some() && e.exception.as_deref() == exception;
        if self.allow.iter().any(exact) {
            return Ok(None);
        }
        if let Some(d) = self.deny.iter().find(|e| e.base == base && (e.exception.is_none() || exact(e))) {
            return Err(Failure { rule: format!("--license-deny {}", d.text) });
        }
        if !self.allow.is_empty() {
            return if self.allow.iter().any(|e| e.base == base && e.exception.is_none()) {
                Ok(None)
            } else {
                Err(Failure { rule: "not in --license-allow".into() })
            };
        }
        let cat = category::of_requirement(license, exception);
        if self.fail_on.contains(&cat) {
            return Err(Failure { rule: format!("--license-fail-on {cat}") });
        }
        if cat == Category::Unknown {
            return match self.unknown {
                UnknownAction::Fail => Err(Failure { rule: "--license-unknown fail".into() }),
                UnknownAction::Warn => Ok(Some(format!("unknown licence {license}"))),
                UnknownAction::Ignore => Ok(None),
            };
        }
        Ok(None)
    }

    /// Judge an expression; `None` (an expression that could not be read) is an unknown licence.
    pub fn decide(&self, expression: Option<&str>) -> Decision {
        let Some(e) = expression.and_then(|s| spdx::Expression::parse_mode(s, crate::normalize::MODE).ok())
        else {
            return self.decide_unknown();
        };
        let mut failures: Vec<Failure> = Vec::new();
        let mut warnings: Vec<String> = Vec::new();
        let passed =
            e.evaluate(|req| match self.judge(&license_name(&req.license), addition_name(req).as_deref()) {
                Ok(w) => {
                    warnings.extend(w);
                    true
                }
                Err(f) => {
                    if !failures.contains(&f) {
                        failures.push(f);
                    }
                    false
                }
            });
        if !passed {
            let rule = failures.into_iter().map(|f| f.rule).collect::<Vec<_>>().join("; ");
            return Decision::Fail(Failure { rule });
        }
        match warnings.into_iter().next() {
            Some(w) => Decision::Warn(w),
            None => Decision::Pass,
        }
    }

    fn decide_unknown(&self) -> Decision {
        if self.fail_on.contains(&Category::Unknown) {
            return Decision::Fail(Failure { rule: "--license-fail-on unknown".into() });
        }
        if !self.allow.is_empty() {
            return Decision::Fail(Failure { rule: "not in --license-allow".into() });
        }
        match self.unknown {
            UnknownAction::Fail => Decision::Fail(Failure { rule: "--license-unknown fail".into() }),
            UnknownAction::Warn => Decision::Warn("licence could not be read".into()),
            UnknownAction::Ignore => Decision::Pass,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str], deny: &[&str], fail_on: &[Category], unknown: UnknownAction) -> Policy {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Policy::new(&v(allow), &v(deny), fail_on, unknown).unwrap_or_else(|e| panic!("{e}"))
    }

    fn fails(p: &Policy, e: &str) -> bool {
        matches!(p.decide(Some(e)), Decision::Fail(_))
    }

    #[test]
    fn gpl3_fails_a_category_gate_and_a_deny_list() {
        let p = policy(&[], &[], &[Category::Forbidden, Category::Restricted], UnknownAction::Warn);
        assert_eq!(
            p.decide(Some("GPL-3.0-only")),
            Decision::Fail(Failure { rule: "--license-fail-on restricted".into() })
        );
        assert!(!fails(&p, "MIT"));
        let p = policy(&[], &["GPL-3.0"], &[], UnknownAction::Warn);
        assert!(fails(&p, "GPL-3.0-only") && fails(&p, "GPL-3.0-or-later") && fails(&p, "GPL-3.0+"));
        assert!(!fails(&p, "GPL-2.0-or-later"));
    }

    #[test]
    fn or_passes_if_either_is_allowed_and_needs_both() {
        let p = policy(&["MIT"], &[], &[], UnknownAction::Warn);
        assert_eq!(p.decide(Some("MIT OR GPL-3.0-only")), Decision::Pass);
        assert!(fails(&p, "MIT AND GPL-3.0-only"));
        assert!(fails(&p, "GPL-3.0-only"));
        let p = policy(&[], &[], &[Category::Restricted], UnknownAction::Warn);
        assert_eq!(p.decide(Some("MIT OR GPL-3.0-only")), Decision::Pass);
        assert!(fails(&p, "MIT AND GPL-3.0-only"));
        assert!(fails(&p, "(MIT OR GPL-3.0-only) AND LGPL-2.1-only"));
    }

    #[test]
    fn with_exceptions_are_honoured() {
        // The linking exception lowers GPL to reciprocal: a restricted gate lets it through.
        let p = policy(&[], &[], &[Category::Restricted], UnknownAction::Warn);
        assert!(!fails(&p, "GPL-2.0-only WITH Classpath-exception-2.0"));
        assert!(fails(&p, "GPL-2.0-only"));
        // Denying GPL-2.0 denies it with any exception, unless the exact pair is allowed.
        let p = policy(
            &["GPL-2.0-only WITH Classpath-exception-2.0"],
            &["GPL-2.0-only"],
            &[],
            UnknownAction::Warn,
        );
        assert!(!fails(&p, "GPL-2.0-only WITH Classpath-exception-2.0"));
        assert!(fails(&p, "GPL-2.0-only"));
        assert!(fails(&p, "GPL-2.0-only WITH GCC-exception-2.0"));
        // Allowing a licence allows it with an exception too.
        let p = policy(&["Apache-2.0"], &[], &[], UnknownAction::Warn);
        assert!(!fails(&p, "Apache-2.0 WITH LLVM-exception"));
    }

    #[test]
    fn unknown_follows_the_configured_action() {
        for (action, unread, refd) in [
            (UnknownAction::Fail, true, true),
            (UnknownAction::Warn, false, false),
            (UnknownAction::Ignore, false, false),
        ] {
            let p = policy(&[], &[], &[], action);
            assert_eq!(matches!(p.decide(None), Decision::Fail(_)), unread, "{action:?}");
            assert_eq!(fails(&p, "LicenseRef-acme"), refd, "{action:?}");
        }
        assert!(matches!(policy(&[], &[], &[], UnknownAction::Warn).decide(None), Decision::Warn(_)));
        assert_eq!(policy(&[], &[], &[], UnknownAction::Ignore).decide(None), Decision::Pass);
        let p = policy(&[], &[], &[Category::Unknown], UnknownAction::Warn);
        assert!(fails(&p, "LicenseRef-acme") && matches!(p.decide(None), Decision::Fail(_)));
    }

    #[test]
    fn entries_are_checked() {
        assert!(Policy::new(&["not a licence".into()], &[], &[], UnknownAction::Warn).is_err());
        assert!(Policy::new(&[], &["GPL-2.0 WITH nonsense".into()], &[], UnknownAction::Warn).is_err());
        // Aliases are accepted in lists.
        let p = policy(&["Apache 2.0", "GPLv2+"], &[], &[], UnknownAction::Warn);
        assert!(!fails(&p, "Apache-2.0") && !fails(&p, "GPL-2.0-only"));
    }
}
