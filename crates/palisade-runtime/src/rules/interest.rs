//! Which events the loaded rules can read, so the sensor can drop the others in the kernel.
//!
//! Two questions, both answered conservatively (an answer may include events no rule matches, never leave
//! out one a rule could match):
//! - event types: [`Ruleset::can_match_type`] (the rule index);
//! - read-only opens: the path prefixes a rule's condition requires of `fd.name`/`fd.nameraw`/
//!   `fd.directory` when it matches a read-only open ([`ReadPaths`]). A rule that can match a read-only
//!   open without such a requirement (`fd.name contains x`, `fd.filename = y`, a negation, no path check
//!   at all) makes every read-only open interesting. The kernel always sends paths it cannot judge by
//!   their text (relative, or with `//`, `/.` or `..` in them), so `fd.nameraw contains '../'` needs no
//!   prefix.

use super::Ruleset;
use super::ast::{Expr, Operand, Rhs};
use super::compile::{self, EvtTypes};
use std::collections::BTreeSet;

/// The event type of the sensor's opens (`Event::syscall`).
const OPEN_TYPE: &str = "openat";

/// Paths of read-only opens a condition can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadPaths {
    /// No read-only open.
    Never,
    /// Only paths starting with one of these.
    Prefixes(BTreeSet<String>),
    /// Any path.
    Any,
}

impl ReadPaths {
    fn or(self, o: ReadPaths) -> ReadPaths {
        match (self, o) {
            (ReadPaths::Any, _) | (_, ReadPaths::Any) => ReadPaths::Any,
            (ReadPaths::Never, x) | (x, ReadPaths::Never) => x,
            (ReadPaths::Prefixes(mut a), ReadPaths::Prefixes(b)) => {
                a.extend(b);
                ReadPaths::Prefixes(a)
            }
        }
    }
}

impl Ruleset {
    /// The enabled rules that can match a read-only open of any path (they switch the kernel's path
    /// filter off), for the agent's start message.
    pub fn rules_reading_any_path(&self) -> Vec<&str> {
        self.rules()
            .iter()
            .filter(|r| r.enabled && r.source == "syscall" && read_paths(&r.expanded) == ReadPaths::Any)
            .map(|r| r.name.as_str())
            .collect()
    }

    /// The path prefixes of read-only opens the enabled rules can match: `None` when any read-only open
    /// may match (or a prefix is empty), an empty set when no rule matches read-only opens.
    pub fn read_open_prefixes(&self) -> Option<BTreeSet<String>> {
        let mut all = ReadPaths::Never;
        for r in self.rules().iter().filter(|r| r.enabled && r.source == "syscall") {
            all = all.or(read_paths(&r.expanded));
            if all == ReadPaths::Any {
                return None;
            }
        }
        match all {
            ReadPaths::Never => Some(BTreeSet::new()),
            ReadPaths::Prefixes(p) if p.iter().any(|p| p.is_empty()) => None,
            ReadPaths::Prefixes(p) => Some(p),
            ReadPaths::Any => None,
        }
    }
}

/// The read-only opens an expanded condition can match.
pub fn read_paths(e: &Expr) -> ReadPaths {
    if let EvtTypes::Only(types) = compile::evt_types(e)
        && !types.contains(OPEN_TYPE)
    {
        return ReadPaths::Never;
    }
    match e {
        Expr::And(children) => {
            // every child must hold: the narrowest requirement of any child is a sound answer
            let mut best = ReadPaths::Any;
            for c in children {
                match read_paths(c) {
                    ReadPaths::Never => return ReadPaths::Never,
                    ReadPaths::Any => {}
                    ReadPaths::Prefixes(p) => {
                        if !matches!(&best, ReadPaths::Prefixes(b) if b.len() <= p.len()) {
                            best = ReadPaths::Prefixes(p);
                        }
                    }
                }
            }
            best
        }
        Expr::Or(children) => children.iter().map(read_paths).fold(ReadPaths::Never, ReadPaths::or),
        Expr::Binary { lhs: Operand::Field { name, arg: None }, op, rhs, .. } => check(name, op, rhs),
        _ => ReadPaths::Any,
    }
}

fn values(rhs: &Rhs) -> Option<Vec<&str>> {
    match rhs {
        Rhs::Value(v) => Some(vec![v.as_str()]),
        Rhs::List(items) => Some(items.iter().map(String::as_str).collect()),
        Rhs::ListRef(_) | Rhs::Operand(_) => None,
    }
}

fn prefixes<'a>(items: impl IntoIterator<Item = &'a str>, f: impl Fn(&str) -> Option<String>) -> ReadPaths {
    let mut out = BTreeSet::new();
    for i in items {
        match f(i) {
            Some(p) => {
                out.insert(p);
            }
            None => return ReadPaths::Any,
        }
    }
    ReadPaths::Prefixes(out)
}

/// The literal start of a glob pattern (up to its first wildcard).
fn glob_prefix(pattern: &str) -> Option<String> {
    let end = pattern.find(['*', '?', '[', '\\']).unwrap_or(pattern.len());
    (end > 0).then(|| pattern[..end].to_string())
}

/// One `field op value` check.
fn check(field: &str, op: &str, rhs: &Rhs) -> ReadPaths {
    match (field, op, rhs) {
        ("evt.is_open_write", "=" | "==", Rhs::Value(v)) if v == "true" => return ReadPaths::Never,
        ("evt.is_open_read", "=" | "==", Rhs::Value(v)) if v == "false" => return ReadPaths::Never,
        _ => {}
    }
    // the kernel sends every path with a `..` in it, so such a check needs no prefix
    if let ("fd.nameraw" | "fd.name", "contains", Rhs::Value(v)) = (field, op, rhs)
        && v.contains("..")
    {
        return ReadPaths::Prefixes(BTreeSet::new());
    }
    let Some(items) = values(rhs) else { return ReadPaths::Any };
    match (field, op) {
        ("fd.name" | "fd.nameraw", "=" | "==" | "startswith" | "in" | "pmatch") => {
            prefixes(items, |v| Some(v.to_string()))
        }
        ("fd.name" | "fd.nameraw", "glob") => prefixes(items, glob_prefix),
        // fd.directory is fd.name's parent: `/etc` holds for `/etc/x`
        ("fd.directory", "=" | "==" | "in") => {
            prefixes(items, |v| Some(if v.ends_with('/') { v.to_string() } else { format!("{v}/") }))
        }
        ("fd.directory", "startswith" | "pmatch") => prefixes(items, |v| Some(v.to_string())),
        ("fd.directory", "glob") => prefixes(items, glob_prefix),
        _ => ReadPaths::Any,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ruleset(rules: &str) -> Ruleset {
        Ruleset::from_sources(&[("test.yaml", rules)]).unwrap()
    }

    fn rule(cond: &str) -> String {
        format!("- rule: r\n  desc: d\n  condition: {cond}\n  output: o\n  priority: WARNING\n")
    }

    #[test]
    fn prefixes_of_path_checks() {
        let rs = ruleset(&rule(
            "evt.type = openat and (fd.name startswith /etc or fd.directory in (/root, /srv/x/))",
        ));
        assert_eq!(rs.read_open_prefixes(), Some(["/etc".into(), "/root/".into(), "/srv/x/".into()].into()));
        let rs = ruleset(&rule("evt.type in (open, openat) and fd.name glob '/var/run/secrets/*/token'"));
        assert_eq!(rs.read_open_prefixes(), Some(["/var/run/secrets/".into()].into()));
    }

    #[test]
    fn unconstrained_or_negated_paths_are_any() {
        for cond in [
            "evt.type = openat and fd.name contains id_rsa",
            "evt.type = openat and not fd.name startswith /etc",
            "evt.type = openat and fd.filename = shadow",
            "evt.type = openat",
            "proc.name = cat",
        ] {
            assert_eq!(ruleset(&rule(cond)).read_open_prefixes(), None, "{cond}");
        }
    }

    #[test]
    fn write_only_and_other_types_need_no_read_opens() {
        let rs = ruleset(&rule("evt.type = openat and evt.is_open_write = true and fd.name contains x"));
        assert_eq!(rs.read_open_prefixes(), Some(BTreeSet::new()));
        let rs = ruleset(&rule("evt.type = execve and proc.name = sh"));
        assert_eq!(rs.read_open_prefixes(), Some(BTreeSet::new()));
        assert!(rs.can_match_type("execve"));
        assert!(!rs.can_match_type("openat"));
        // Falco's directory traversal rule: a `..` in the raw path is always sent
        let rs =
            ruleset(&rule("evt.type = openat and fd.name contains id_rsa and fd.nameraw contains '../'"));
        assert_eq!(rs.read_open_prefixes(), Some(BTreeSet::new()));
        // an `or` with a branch for another type keeps the open branch's prefixes
        let rs = ruleset(&rule(
            "(evt.type = execve and proc.name = sh) or (evt.type = openat and fd.name = /etc/shadow)",
        ));
        assert_eq!(rs.read_open_prefixes(), Some(["/etc/shadow".into()].into()));
    }

    #[test]
    fn disabled_rules_do_not_widen() {
        let rs = ruleset(&format!("{}  enabled: false\n", rule("evt.type = openat")));
        assert_eq!(rs.read_open_prefixes(), Some(BTreeSet::new()));
    }
}
