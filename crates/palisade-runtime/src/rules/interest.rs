//! Which events the loaded rules can read, so the sensor can drop the others in the kernel.
//!
//! Questions answered conservatively (an answer may include events no rule matches, never leave out one a
//! rule could match):
//! - event types: [`Ruleset::can_match_type`] (the rule index);
//! - opens, apart for read-only opens and opens that may write (any of `O_WRONLY`, `O_RDWR`, `O_CREAT`,
//!   `O_TRUNC`, `O_TMPFILE`): the paths a rule's condition requires of `fd.name`/`fd.nameraw`/
//!   `fd.directory` (prefixes) or of `fd.name`'s end/`fd.filename` (suffixes) when it matches such an open
//!   ([`OpenPaths`]). A rule that can match an open of that class without such a requirement
//!   (`fd.name contains x`, a negation, no path check at all) makes every open of the class interesting.
//!   The kernel always sends paths it cannot judge by their text (relative, or with `//`, `/.` or `..` in
//!   them), so `fd.nameraw contains '../'` needs no path;
//! - DNS names ([`Ruleset::dns_names_needed`]): whether a rule reads a connection's DNS name
//!   (`fd.sip.name`, `fd.rip.name`, `fd.cip.name`, in its condition or output) or can match the sensor's
//!   `dns` events, and whether every such rule is limited to containers (`container.id != host`).

use super::Ruleset;
use super::ast::{Expr, Operand, Rhs};
use super::compile::{self, EvtTypes};
pub use crate::sensor::interest::PathSet;
use std::collections::BTreeSet;

/// The event type of the sensor's opens (`Event::syscall`).
const OPEN_TYPE: &str = "openat";

/// The class of open a path analysis is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenClass {
    /// No write, create, truncate or tmpfile flag: `evt.is_open_read` holds, `evt.is_open_write` not.
    ReadOnly,
    /// Any of them: `O_RDWR` is both a read and a write, `O_CREAT` alone neither a write nor not a read.
    Writing,
}

/// How loose a requirement is, to pick the narrowest child of an `and`: suffixes (a file name anywhere)
/// are looser than prefixes, then the more entries the looser.
fn looseness(p: &PathSet) -> (bool, usize) {
    (!p.suffixes.is_empty(), p.prefixes.len() + p.suffixes.len())
}

/// Paths of the opens of one class a condition can match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenPaths {
    /// No open of the class.
    Never,
    /// Only paths in this set.
    Paths(PathSet),
    /// Any path.
    Any,
}

impl OpenPaths {
    fn or(self, o: OpenPaths) -> OpenPaths {
        match (self, o) {
            (OpenPaths::Any, _) | (_, OpenPaths::Any) => OpenPaths::Any,
            (OpenPaths::Never, x) | (x, OpenPaths::Never) => x,
            (OpenPaths::Paths(mut a), OpenPaths::Paths(b)) => {
                a.prefixes.extend(b.prefixes);
                a.suffixes.extend(b.suffixes);
                OpenPaths::Paths(a)
            }
        }
    }

    fn prefixes(p: BTreeSet<String>) -> OpenPaths {
        OpenPaths::Paths(PathSet { prefixes: p, suffixes: BTreeSet::new() })
    }

    fn suffixes(s: BTreeSet<String>) -> OpenPaths {
        OpenPaths::Paths(PathSet { prefixes: BTreeSet::new(), suffixes: s })
    }
}

/// Which cgroups the DNS answer programs must watch for the loaded rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DnsNeed {
    /// No rule reads a DNS name.
    None,
    /// Only rules limited to containers do.
    Containers,
    /// A rule that can match a host process does.
    Node,
}

/// Fields holding the DNS name a connection's address was resolved from.
const NAME_FIELDS: [&str; 3] = ["fd.sip.name", "fd.rip.name", "fd.cip.name"];

impl Ruleset {
    /// The enabled rules that can match an open of `class` of any path (they switch the kernel's path
    /// filter for that class off), for the agent's start message.
    pub fn rules_opening_any_path(&self, class: OpenClass) -> Vec<&str> {
        self.syscall_rules()
            .filter(|r| open_paths(&r.expanded, class) == OpenPaths::Any)
            .map(|r| r.name.as_str())
            .collect()
    }

    /// The paths of opens of `class` the enabled rules can match: `None` when any open of the class may
    /// match (or a required prefix or suffix is empty), an empty set when no rule matches such opens.
    pub fn open_paths(&self, class: OpenClass) -> Option<PathSet> {
        let mut all = OpenPaths::Never;
        for r in self.syscall_rules() {
            all = all.or(open_paths(&r.expanded, class));
            if all == OpenPaths::Any {
                return None;
            }
        }
        match all {
            OpenPaths::Never => Some(PathSet::default()),
            OpenPaths::Paths(p) if p.prefixes.iter().chain(&p.suffixes).any(String::is_empty) => None,
            OpenPaths::Paths(p) => Some(p),
            OpenPaths::Any => None,
        }
    }

    /// Whether the enabled rules read DNS names, and where (see [`DnsNeed`]).
    pub fn dns_names_needed(&self) -> DnsNeed {
        let mut need = DnsNeed::None;
        for r in self.syscall_rules() {
            let dns_type = match &r.evt_types {
                EvtTypes::Only(t) => t.contains("dns"),
                EvtTypes::Except(t) => !t.contains("dns"),
            };
            let reads = dns_type
                || NAME_FIELDS
                    .iter()
                    .any(|f| r.compiled_condition.contains(f) || r.template.fields().any(|t| t == *f));
            if reads {
                need = need.max(if requires_container(&r.expanded) {
                    DnsNeed::Containers
                } else {
                    DnsNeed::Node
                });
            }
        }
        need
    }

    fn syscall_rules(&self) -> impl Iterator<Item = &super::Rule> {
        self.rules().iter().filter(|r| r.enabled && r.source == "syscall")
    }
}

/// Whether a condition only holds for processes in a container (`container.id != host`, Falco's
/// `container` macro, required by every way it can hold).
fn requires_container(e: &Expr) -> bool {
    match e {
        Expr::And(children) => children.iter().any(requires_container),
        Expr::Or(children) => !children.is_empty() && children.iter().all(requires_container),
        Expr::Binary { lhs: Operand::Field { name, arg: None }, op, quant: None, rhs: Rhs::Value(v) } => {
            name == "container.id" && op == "!=" && v == "host"
        }
        Expr::Not(inner) => matches!(
            inner.as_ref(),
            Expr::Binary { lhs: Operand::Field { name, arg: None }, op, quant: None, rhs: Rhs::Value(v) }
                if name == "container.id" && (op == "=" || op == "==") && v == "host"
        ),
        _ => false,
    }
}

/// The opens of `class` an expanded condition can match.
pub fn open_paths(e: &Expr, class: OpenClass) -> OpenPaths {
    if let EvtTypes::Only(types) = compile::evt_types(e)
        && !types.contains(OPEN_TYPE)
    {
        return OpenPaths::Never;
    }
    match e {
        Expr::And(children) => {
            // every child must hold: the narrowest requirement of any child is a sound answer
            let mut best = OpenPaths::Any;
            for c in children {
                match open_paths(c, class) {
                    OpenPaths::Never => return OpenPaths::Never,
                    OpenPaths::Any => {}
                    OpenPaths::Paths(p) => {
                        if !matches!(&best, OpenPaths::Paths(b) if looseness(b) <= looseness(&p)) {
                            best = OpenPaths::Paths(p);
                        }
                    }
                }
            }
            best
        }
        Expr::Or(children) => {
            children.iter().map(|c| open_paths(c, class)).fold(OpenPaths::Never, OpenPaths::or)
        }
        Expr::Binary { lhs: Operand::Field { name, arg: None }, op, quant: None, rhs } => {
            check(name, op, rhs, class)
        }
        _ => OpenPaths::Any,
    }
}

fn values(rhs: &Rhs) -> Option<Vec<&str>> {
    match rhs {
        Rhs::Value(v) => Some(vec![v.as_str()]),
        Rhs::List(items) => Some(items.iter().map(String::as_str).collect()),
        Rhs::ListRef(_) | Rhs::Operand(_) => None,
    }
}

/// Each item turned into a path string by `f`; `Any` when one cannot be.
fn paths<'a>(
    items: impl IntoIterator<Item = &'a str>,
    f: impl Fn(&str) -> Option<String>,
) -> Option<BTreeSet<String>> {
    items.into_iter().map(f).collect()
}

/// The literal start of a glob pattern (up to its first wildcard).
fn glob_prefix(pattern: &str) -> Option<String> {
    let end = pattern.find(['*', '?', '[', '\\']).unwrap_or(pattern.len());
    (end > 0).then(|| pattern[..end].to_string())
}

/// One `field op value` check.
fn check(field: &str, op: &str, rhs: &Rhs, class: OpenClass) -> OpenPaths {
    let is = |v: &str| matches!(rhs, Rhs::Value(x) if x == v) && matches!(op, "=" | "==");
    match (class, field) {
        // a read-only open is a read and not a write
        (OpenClass::ReadOnly, "evt.is_open_write") if is("true") => return OpenPaths::Never,
        (OpenClass::ReadOnly, "evt.is_open_read") if is("false") => return OpenPaths::Never,
        _ => {}
    }
    // the kernel sends every path with a `..` in it, so such a check needs no path
    if let ("fd.nameraw" | "fd.name", "contains", Rhs::Value(v)) = (field, op, rhs)
        && v.contains("..")
    {
        return OpenPaths::Paths(PathSet::default());
    }
    let Some(items) = values(rhs) else { return OpenPaths::Any };
    let exact = |v: &str| Some(v.to_string());
    let prefixes = match (field, op) {
        ("fd.name" | "fd.nameraw", "=" | "==" | "startswith" | "in" | "pmatch") => {
            paths(items.clone(), exact)
        }
        ("fd.name" | "fd.nameraw", "glob") => paths(items.clone(), glob_prefix),
        // fd.directory is fd.name's parent: `/etc` holds for `/etc/x`
        ("fd.directory", "=" | "==" | "in") => {
            paths(items.clone(), |v| Some(if v.ends_with('/') { v.to_string() } else { format!("{v}/") }))
        }
        ("fd.directory", "startswith" | "pmatch") => paths(items.clone(), exact),
        ("fd.directory", "glob") => paths(items.clone(), glob_prefix),
        _ => None,
    };
    if let Some(p) = prefixes {
        return OpenPaths::prefixes(p);
    }
    // a file name is the path's end after its last `/` (the kernel only judges plain absolute paths)
    let suffixes = match (field, op) {
        ("fd.name" | "fd.nameraw" | "fd.filename", "endswith") => paths(items, exact),
        ("fd.filename", "=" | "==" | "in") => {
            paths(items, |v| (!v.is_empty() && !v.contains('/')).then(|| format!("/{v}")))
        }
        _ => None,
    };
    match suffixes {
        Some(s) => OpenPaths::suffixes(s),
        None => OpenPaths::Any,
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

    fn set(prefixes: &[&str], suffixes: &[&str]) -> Option<PathSet> {
        Some(PathSet {
            prefixes: prefixes.iter().map(|s| s.to_string()).collect(),
            suffixes: suffixes.iter().map(|s| s.to_string()).collect(),
        })
    }

    const WRITE: &str = "evt.type in (open, openat, openat2) and evt.is_open_write = true";

    #[test]
    fn prefixes_of_path_checks() {
        let rs = ruleset(&rule(
            "evt.type = openat and (fd.name startswith /etc or fd.directory in (/root, /srv/x/))",
        ));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&["/etc", "/root/", "/srv/x/"], &[]));
        let rs = ruleset(&rule("evt.type in (open, openat) and fd.name glob '/var/run/secrets/*/token'"));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&["/var/run/secrets/"], &[]));
    }

    #[test]
    fn unconstrained_or_negated_paths_are_any() {
        for cond in [
            "evt.type = openat and fd.name contains id_rsa",
            "evt.type = openat and not fd.name startswith /etc",
            "evt.type = openat and fd.filename startswith shadow",
            "evt.type = openat",
            "proc.name = cat",
        ] {
            assert_eq!(ruleset(&rule(cond)).open_paths(OpenClass::ReadOnly), None, "{cond}");
            assert_eq!(ruleset(&rule(cond)).open_paths(OpenClass::Writing), None, "{cond}");
        }
    }

    #[test]
    fn write_only_and_other_types_need_no_read_opens() {
        let rs = ruleset(&rule(&format!("{WRITE} and fd.name contains x")));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&[], &[]));
        assert_eq!(rs.open_paths(OpenClass::Writing), None, "a write rule on any path reads every write");
        let rs = ruleset(&rule("evt.type = execve and proc.name = sh"));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&[], &[]));
        assert_eq!(rs.open_paths(OpenClass::Writing), set(&[], &[]));
        assert!(rs.can_match_type("execve"));
        assert!(!rs.can_match_type("openat"));
        // Falco's directory traversal rule: a `..` in the raw path is always sent
        let rs =
            ruleset(&rule("evt.type = openat and fd.name contains id_rsa and fd.nameraw contains '../'"));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&[], &[]));
        // an `or` with a branch for another type keeps the open branch's prefixes
        let rs = ruleset(&rule(
            "(evt.type = execve and proc.name = sh) or (evt.type = openat and fd.name = /etc/shadow)",
        ));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&["/etc/shadow"], &[]));
    }

    #[test]
    fn write_opens_by_prefix() {
        // Falco's "Write below etc" shape: the write table has the prefix, read-only opens need nothing
        let rs = ruleset(&rule(&format!("{WRITE} and fd.name startswith /etc/ and not proc.name = vi")));
        assert_eq!(rs.open_paths(OpenClass::Writing), set(&["/etc/"], &[]));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&[], &[]));
        let rs = ruleset(&rule(&format!("{WRITE} and fd.directory in (/bin, /usr/bin)")));
        assert_eq!(rs.open_paths(OpenClass::Writing), set(&["/bin/", "/usr/bin/"], &[]));
    }

    #[test]
    fn write_opens_by_file_name_and_suffix() {
        // Falco's "Clear Log Activities": log directories or log file names, O_TRUNC
        let rs = ruleset(&rule(&format!(
            "{WRITE} and (fd.directory in (/var/log, /dev/log) or fd.filename in (syslog, auth.log)) \
             and evt.arg.flags contains O_TRUNC"
        )));
        assert_eq!(
            rs.open_paths(OpenClass::Writing),
            set(&["/dev/log/", "/var/log/"], &["/auth.log", "/syslog"])
        );
        // "Detect release_agent File Container Escapes"
        let rs =
            ruleset(&rule(&format!("{WRITE} and container.id != host and fd.name endswith release_agent")));
        assert_eq!(rs.open_paths(OpenClass::Writing), set(&[], &["release_agent"]));
        // a file name with a slash in it never matches, so it cannot be a suffix: no filter
        let rs = ruleset(&rule(&format!("{WRITE} and fd.filename = ''")));
        assert_eq!(rs.open_paths(OpenClass::Writing), None);
    }

    #[test]
    fn read_rules_count_for_writing_opens() {
        // O_RDWR opens are reads too: a read rule's paths are in the write table, not the reverse
        let rs = ruleset(&rule(
            "evt.type = openat and evt.is_open_read = true and fd.name in (/etc/shadow, /etc/sudoers)",
        ));
        assert_eq!(rs.open_paths(OpenClass::Writing), set(&["/etc/shadow", "/etc/sudoers"], &[]));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&["/etc/shadow", "/etc/sudoers"], &[]));
        let rs = ruleset(&rule("evt.type = openat and evt.is_open_read = false and fd.name contains x"));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&[], &[]));
        assert_eq!(rs.open_paths(OpenClass::Writing), None);
    }

    #[test]
    fn an_and_prefers_prefixes_over_file_names() {
        let rs = ruleset(&rule(
            "evt.type = openat and fd.name pmatch (/var/run/secrets, /run/secrets) and fd.filename = token",
        ));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&["/run/secrets", "/var/run/secrets"], &[]));
        let rs = ruleset(&rule("evt.type = openat and fd.filename = token and proc.name = cat"));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&[], &["/token"]));
    }

    #[test]
    fn disabled_rules_do_not_widen() {
        let rs = ruleset(&format!("{}  enabled: false\n", rule("evt.type = openat")));
        assert_eq!(rs.open_paths(OpenClass::ReadOnly), set(&[], &[]));
        assert_eq!(rs.open_paths(OpenClass::Writing), set(&[], &[]));
    }

    #[test]
    fn dns_names_by_rule_scope() {
        assert_eq!(ruleset(&rule("evt.type = connect and fd.sport = 443")).dns_names_needed(), DnsNeed::None);
        let k8s = "evt.type = connect and container.id != host and fd.sip.name = kubernetes.default";
        assert_eq!(ruleset(&rule(k8s)).dns_names_needed(), DnsNeed::Containers);
        let negated = "evt.type = connect and not container.id = host and fd.rip.name = x";
        assert_eq!(ruleset(&rule(negated)).dns_names_needed(), DnsNeed::Containers);
        let host = "evt.type = connect and fd.sip.name = kubernetes.default";
        assert_eq!(ruleset(&rule(host)).dns_names_needed(), DnsNeed::Node);
        let either = "evt.type = connect and (container.id != host or proc.name = x) and fd.sip.name = y";
        assert_eq!(ruleset(&rule(either)).dns_names_needed(), DnsNeed::Node);
        // a name in the output only still needs the name
        let out = "- rule: r\n  desc: d\n  condition: evt.type = connect\n  output: to %fd.sip.name\n  priority: WARNING\n";
        assert_eq!(ruleset(out).dns_names_needed(), DnsNeed::Node);
        // a rule with no type restriction can match the sensor's dns events
        assert_eq!(ruleset(&rule("proc.name = dig")).dns_names_needed(), DnsNeed::Node);
        assert_eq!(
            ruleset(&rule("container.id != host and proc.name = dig")).dns_names_needed(),
            DnsNeed::Containers
        );
    }
}
