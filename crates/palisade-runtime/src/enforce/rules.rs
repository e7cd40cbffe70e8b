//! A small decider of its own: deny (or, in monitor mode, alert on) execs and opens by path glob, scoped
//! to containers by id or name. Useful alone (tests, incident response: "nothing runs `/tmp/*` in the
//! `web` containers now") until profiles decide.
//!
//! A rule is `ACTION PATH_GLOB[@CONTAINER_GLOB]`, one per line in a rules file (`#` starts a comment) or
//! given on the command line (`--deny-exec PATH_GLOB[@CONTAINER_GLOB]`, …):
//!
//! - `deny-exec`: running a program whose path (inside the container) matches;
//! - `deny-open`: opening a matching file in any mode;
//! - `deny-write`: opening a matching file for writing (or truncating it).
//!
//! Globs have fnmatch(3) semantics without flags (`*` also matches `/`). The container glob matches the
//! full id, the 12-character short id or the name. Anything not matched is allowed.

use crate::event::Container;
use crate::rules::glob::glob_match;
use crate::verdict::{Access, Decider, Mode, NetworkPolicy, Request, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    DenyExec,
    DenyOpen,
    DenyWrite,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "deny-exec" => Some(Action::DenyExec),
            "deny-open" => Some(Action::DenyOpen),
            "deny-write" => Some(Action::DenyWrite),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::DenyExec => "deny-exec",
            Action::DenyOpen => "deny-open",
            Action::DenyWrite => "deny-write",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    pub path: String,
    pub container: Option<String>,
    /// Where it came from (`FILE:LINE` or `--deny-exec`), named in verdicts.
    pub origin: String,
}

impl Rule {
    /// `PATH_GLOB[@CONTAINER_GLOB]` for `action`.
    pub fn parse(action: Action, spec: &str, origin: String) -> Result<Rule, String> {
        let (path, container) = match spec.rsplit_once('@') {
            Some((p, c)) if !c.is_empty() => (p, Some(c.to_string())),
            Some((_, _)) => return Err(format!("{origin}: empty container after '@' in {spec:?}")),
            None => (spec, None),
        };
        if path.is_empty() {
            return Err(format!("{origin}: empty path glob"));
        }
        if !path.starts_with('/') && !path.starts_with('*') {
            return Err(format!("{origin}: path glob {path:?} must be absolute (start with / or *)"));
        }
        Ok(Rule { action, path: path.to_string(), container, origin })
    }

    fn applies(&self, access: &Access<'_>, container: &Container) -> bool {
        let path = match (self.action, access) {
            (Action::DenyExec, Access::Exec { path }) => path,
            (Action::DenyOpen, Access::Open { path, .. }) => path,
            (Action::DenyWrite, Access::Open { path, write: true }) => path,
            _ => return false,
        };
        glob_match(&self.path, path)
            && self.container.as_deref().is_none_or(|c| {
                glob_match(c, &container.id)
                    || glob_match(c, &container.id.chars().take(12).collect::<String>())
                    || container.name.as_deref().is_some_and(|n| glob_match(c, n))
            })
    }

    pub fn describe(&self) -> String {
        match &self.container {
            Some(c) => format!("{} {}@{} ({})", self.action.name(), self.path, c, self.origin),
            None => format!("{} {} ({})", self.action.name(), self.path, self.origin),
        }
    }
}

/// Rules of a file: the good ones, and an error (naming the file and line) for each bad line.
pub fn parse_file(name: &str, text: &str) -> (Vec<Rule>, Vec<String>) {
    let (mut rules, mut errors) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        let line = line.split_once('#').map_or(line, |(l, _)| l).trim();
        if line.is_empty() {
            continue;
        }
        let origin = format!("{name}:{}", i + 1);
        let mut words = line.split_whitespace();
        let (Some(action), Some(spec), None) = (words.next(), words.next(), words.next()) else {
            errors.push(format!("{origin}: expected `ACTION PATH_GLOB[@CONTAINER_GLOB]`, got {line:?}"));
            continue;
        };
        let Some(action) = Action::parse(action) else {
            errors.push(format!("{origin}: unknown action {action:?} (deny-exec, deny-open, deny-write)"));
            continue;
        };
        match Rule::parse(action, spec, origin) {
            Ok(r) => rules.push(r),
            Err(e) => errors.push(e),
        }
    }
    (rules, errors)
}

/// The decider: the first matching rule refuses (protect) or alerts (monitor).
#[derive(Debug, Clone)]
pub struct RuleDecider {
    pub rules: Vec<Rule>,
    pub mode: Mode,
}

impl RuleDecider {
    /// Whether any rule is about opens (the open mechanism is needed).
    pub fn has_open_rules(&self) -> bool {
        self.rules.iter().any(|r| r.action != Action::DenyExec)
    }
}

impl Decider for RuleDecider {
    fn decide(&self, request: &Request<'_>) -> Verdict {
        let Some(container) = request.container else { return Verdict::Allow };
        let Some(rule) = self.rules.iter().find(|r| r.applies(&request.access, container)) else {
            return Verdict::Allow;
        };
        let reason = match request.access {
            Access::Exec { path } => format!("exec of {path} matches {}", rule.describe()),
            Access::Open { path, write } => {
                format!("{} open of {path} matches {}", if write { "write" } else { "read" }, rule.describe())
            }
            Access::Connect { .. } => return Verdict::Allow,
        };
        match self.mode {
            Mode::Protect => Verdict::Deny { rule: rule.describe(), reason },
            Mode::Monitor => Verdict::Alert { rule: rule.describe(), reason },
            Mode::Discover => Verdict::Allow,
        }
    }

    fn network(&self, _container: &Container) -> Option<NetworkPolicy> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> Container {
        Container { id: "0123456789abcdef".into(), name: Some("web-1".into()), ..Container::default() }
    }

    #[test]
    fn file_rules_and_errors() {
        let text = "# incident 42\ndeny-exec /tmp/*\ndeny-write /etc/*@web-*\nallow-exec /x\ndeny-open relative\n\
                    deny-exec /bin/nc@\ndeny-open /etc/shadow extra\n";
        let (rules, errors) = parse_file("r.txt", text);
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[1].container.as_deref(), Some("web-*"));
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].starts_with("r.txt:4: unknown action"), "{errors:?}");
        assert!(errors[1].starts_with("r.txt:5:") && errors[1].contains("absolute"));
        assert!(errors[2].starts_with("r.txt:6:") && errors[2].contains("empty container"));
        assert!(errors[3].starts_with("r.txt:7:"));
    }

    #[test]
    fn verdicts_by_mode_scope_and_access() {
        let (rules, _) =
            parse_file("r", "deny-exec /tmp/*\ndeny-write /etc/*@web-*\ndeny-open /secret@other\n");
        let mut d = RuleDecider { rules, mode: Mode::Protect };
        let c = web();
        let ask = |d: &RuleDecider, access| d.decide(&Request { pid: 1, container: Some(&c), access });
        assert!(ask(&d, Access::Exec { path: "/tmp/x" }).is_deny());
        assert_eq!(ask(&d, Access::Exec { path: "/bin/sh" }), Verdict::Allow);
        assert!(ask(&d, Access::Open { path: "/etc/passwd", write: true }).is_deny());
        assert_eq!(ask(&d, Access::Open { path: "/etc/passwd", write: false }), Verdict::Allow);
        assert_eq!(
            ask(&d, Access::Open { path: "/secret", write: false }),
            Verdict::Allow,
            "scoped elsewhere"
        );
        assert_eq!(
            d.decide(&Request { pid: 1, container: None, access: Access::Exec { path: "/tmp/x" } }),
            Verdict::Allow
        );
        d.mode = Mode::Monitor;
        assert!(matches!(ask(&d, Access::Exec { path: "/tmp/x" }), Verdict::Alert { .. }));
        assert!(d.has_open_rules());
    }
}
