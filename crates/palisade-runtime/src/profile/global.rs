//! Global rules: what no workload may do, whatever its profile says, with exceptions by workload.
//!
//! - **no shell**: a shell (`sh`, `bash`, `dash`, `ash`, `zsh`, `ksh`, `mksh`, `csh`, `tcsh`, `fish`, by
//!   command name or executable name) started in a container. The container's entrypoint (pid 1 of its
//!   pid namespace) is exempt, so images whose command is a shell script are not flagged; every shell
//!   they or anyone else start is.
//! - **no SSH**: an SSH client or server (`ssh`, `sshd`, `scp`, `sftp`, `dropbear`, `dbclient`) runs, or
//!   a connection is made to or accepted on port 22.
//! - **zero drift**: an executable that is not from the image's layers runs (the sensor's
//!   `exe_from_upper_layer`: written or copied up in the container).
//! - **no writes below** (default `/usr`): a file below one of the paths is opened for writing, created,
//!   renamed or removed.
//!
//! Exceptions are workload keys or globs over them (`shop/Deployment/debug`, `kube-system/*`). The rules
//! are read from a `PalisadeGlobalRules` document:
//!
//! ```yaml
//! apiVersion: palisade.io/v1alpha1
//! kind: PalisadeGlobalRules
//! metadata: {name: cluster}
//! spec:
//!   noShell: {exceptions: ["shop/Deployment/debug"]}
//!   noSsh: {}
//!   zeroDrift: {enabled: true}
//!   noWritesBelow: {paths: ["/usr", "/etc"], exceptions: ["*/DaemonSet/node-agent"]}
//! ```
//!
//! A rule left out of `spec` is enabled with no exceptions: the defaults are all four rules.

use crate::profile::check::Violation;
use crate::profile::facts::{Fact, comm_of};
use crate::profile::glob::PathSet;
use crate::profile::model::API_VERSION;
use serde::{Deserialize, Serialize};

pub const KIND: &str = "PalisadeGlobalRules";
pub const SHELL: &str = "Shell in container";
pub const SSH: &str = "SSH in container";
pub const DRIFT: &str = "Drift: executable not from the image";
pub const WRITE_BELOW: &str = "Write below a protected directory";

const SHELLS: [&str; 10] = ["sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish"];
const SSH_PROGRAMS: [&str; 6] = ["ssh", "sshd", "scp", "sftp", "dropbear", "dbclient"];

/// One rule's switch and exceptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Workload keys or globs the rule does not apply to.
    #[serde(default)]
    pub exceptions: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig { enabled: true, exceptions: Vec::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteBelowConfig {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "usr")]
    pub paths: Vec<String>,
    #[serde(default)]
    pub exceptions: Vec<String>,
}

fn usr() -> Vec<String> {
    vec!["/usr".into()]
}

impl Default for WriteBelowConfig {
    fn default() -> Self {
        WriteBelowConfig { enabled: true, paths: usr(), exceptions: Vec::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GlobalSpec {
    #[serde(default)]
    pub no_shell: RuleConfig,
    #[serde(default)]
    pub no_ssh: RuleConfig,
    #[serde(default)]
    pub zero_drift: RuleConfig,
    #[serde(default)]
    pub no_writes_below: WriteBelowConfig,
}

/// The `PalisadeGlobalRules` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GlobalRulesDoc {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: crate::profile::model::Metadata,
    #[serde(default)]
    pub spec: GlobalSpec,
}

impl GlobalRulesDoc {
    pub fn parse(text: &str, name: &str) -> Result<GlobalRulesDoc, String> {
        let doc: GlobalRulesDoc = serde_saphyr::from_str(text).map_err(|e| {
            let line = e.location().map(|l| format!(":{}", l.line())).unwrap_or_default();
            format!("{name}{line}: {}", e.to_string().lines().next().unwrap_or(""))
        })?;
        if doc.api_version != API_VERSION || doc.kind != KIND {
            return Err(format!(
                "{name}: expected apiVersion {API_VERSION} and kind {KIND}, found {} {}",
                doc.api_version, doc.kind
            ));
        }
        Ok(doc)
    }

    pub fn from_value(value: &serde_json::Value, at: &str) -> Result<GlobalRulesDoc, String> {
        serde_json::from_value(value.clone()).map_err(|e| format!("{at}: {e}"))
    }
}

#[derive(Debug, Clone)]
struct Compiled {
    enabled: bool,
    exceptions: PathSet,
}

impl Compiled {
    fn new(enabled: bool, exceptions: &[String], field: &str) -> Result<Compiled, String> {
        Ok(Compiled {
            enabled,
            exceptions: PathSet::args(exceptions.iter().map(String::as_str))
                .map_err(|e| format!("spec.{field}.exceptions: {e}"))?,
        })
    }

    fn applies(&self, workload_key: &str) -> bool {
        self.enabled && !self.exceptions.matches(workload_key)
    }
}

/// The global rules, compiled.
#[derive(Debug, Clone)]
pub struct GlobalRules {
    shell: Compiled,
    ssh: Compiled,
    drift: Compiled,
    write_below: Compiled,
    below: Vec<String>,
}

impl Default for GlobalRules {
    fn default() -> Self {
        GlobalRules::new(&GlobalSpec::default()).unwrap_or_else(|_| GlobalRules::disabled())
    }
}

/// Whether `path` is `dir` or below it.
fn under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    path == dir || (path.starts_with(dir) && path.as_bytes().get(dir.len()) == Some(&b'/'))
}

pub fn is_shell(name: &str) -> bool {
    SHELLS.contains(&name)
}

pub fn is_ssh(name: &str) -> bool {
    SSH_PROGRAMS.contains(&name)
}

impl GlobalRules {
    pub fn new(spec: &GlobalSpec) -> Result<GlobalRules, String> {
        Ok(GlobalRules {
            shell: Compiled::new(spec.no_shell.enabled, &spec.no_shell.exceptions, "noShell")?,
            ssh: Compiled::new(spec.no_ssh.enabled, &spec.no_ssh.exceptions, "noSsh")?,
            drift: Compiled::new(spec.zero_drift.enabled, &spec.zero_drift.exceptions, "zeroDrift")?,
            write_below: Compiled::new(
                spec.no_writes_below.enabled,
                &spec.no_writes_below.exceptions,
                "noWritesBelow",
            )?,
            below: spec.no_writes_below.paths.clone(),
        })
    }

    /// No global rule at all.
    pub fn disabled() -> GlobalRules {
        let off = Compiled { enabled: false, exceptions: PathSet::default() };
        GlobalRules {
            shell: off.clone(),
            ssh: off.clone(),
            drift: off.clone(),
            write_below: off,
            below: Vec::new(),
        }
    }

    /// Exec by path alone (what a permission event knows): shell and SSH programs by executable name.
    /// `entrypoint` says whether the process is its container's pid 1.
    pub fn exec_path(&self, workload: &str, path: &str, entrypoint: bool) -> Option<Violation> {
        let base = comm_of(path);
        if is_shell(base) && !entrypoint && self.shell.applies(workload) {
            return Some(Violation { rule: SHELL, reason: format!("shell {path} started in the container") });
        }
        if is_ssh(base) && self.ssh.applies(workload) {
            return Some(Violation {
                rule: SSH,
                reason: format!("SSH program {path} started in the container"),
            });
        }
        None
    }

    /// Whether zero drift applies to `workload` (enabled, not excepted).
    pub fn drift_applies(&self, workload: &str) -> bool {
        self.drift.applies(workload)
    }

    /// Zero drift broken by an executable that is not from the image's layers (`reason`: why).
    pub fn drift(&self, workload: &str, reason: &str) -> Option<Violation> {
        self.drift.applies(workload).then(|| Violation { rule: DRIFT, reason: reason.to_string() })
    }

    /// A write by path alone.
    pub fn write(&self, workload: &str, path: &str) -> Option<Violation> {
        let dir = self.below.iter().find(|d| under(path, d))?;
        self.write_below
            .applies(workload)
            .then(|| Violation { rule: WRITE_BELOW, reason: format!("write of {path} below {dir}") })
    }

    /// A connection by port alone.
    pub fn port(&self, workload: &str, port: u16) -> Option<Violation> {
        (port == 22 && self.ssh.applies(workload))
            .then(|| Violation { rule: SSH, reason: "connection on the SSH port 22".into() })
    }

    /// The global rule a fact breaks. `entrypoint`: the process is its container's pid 1.
    pub fn check(&self, workload: &str, fact: &Fact<'_>, entrypoint: bool) -> Option<Violation> {
        match fact {
            Fact::Exec { path, name, upper_layer, .. } => {
                if *upper_layer && self.drift.applies(workload) {
                    return Some(Violation {
                        rule: DRIFT,
                        reason: format!("{path} is not from the image's layers (written in the container)"),
                    });
                }
                if let Some(n) = name
                    && !entrypoint
                    && is_shell(n)
                    && self.shell.applies(workload)
                {
                    return Some(Violation {
                        rule: SHELL,
                        reason: format!("shell {n} ({path}) started in the container"),
                    });
                }
                if let Some(n) = name
                    && is_ssh(n)
                    && self.ssh.applies(workload)
                {
                    return Some(Violation {
                        rule: SSH,
                        reason: format!("SSH program {n} ({path}) started in the container"),
                    });
                }
                // a program running under another name (a busybox applet) is judged by that name
                match name {
                    Some(_) => None,
                    None => self.exec_path(workload, path, entrypoint),
                }
            }
            Fact::File { path, write: true } => self.write(workload, path),
            Fact::Flow { port, .. } | Fact::Listen { port, .. } => self.port(workload, *port),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec<'a>(path: &'a str, name: Option<&'a str>, upper: bool) -> Fact<'a> {
        Fact::Exec { path, name, args: &[], parent: None, upper_layer: upper }
    }

    #[test]
    fn defaults_and_exceptions() {
        let g = GlobalRules::default();
        let w = "shop/Deployment/web";
        assert_eq!(g.check(w, &exec("/bin/bash", None, false), false).unwrap().rule, SHELL);
        assert_eq!(g.check(w, &exec("/bin/busybox", Some("sh"), false), false).unwrap().rule, SHELL);
        assert_eq!(
            g.check(w, &exec("/bin/sh", Some("nc"), false), false),
            None,
            "an applet run by the shell"
        );
        assert_eq!(g.check(w, &exec("/bin/sh", None, false), true), None, "entrypoint");
        assert_eq!(g.check(w, &exec("/usr/bin/ssh", None, false), false).unwrap().rule, SSH);
        assert_eq!(g.check(w, &exec("/tmp/x", None, true), false).unwrap().rule, DRIFT);
        assert_eq!(
            g.check(w, &Fact::File { path: "/usr/bin/x", write: true }, false).unwrap().rule,
            WRITE_BELOW
        );
        assert_eq!(g.check(w, &Fact::File { path: "/usr/bin/x", write: false }, false), None);
        assert_eq!(g.check(w, &Fact::File { path: "/usrx", write: true }, false), None);
        assert_eq!(g.check(w, &exec("/bin/cat", None, false), false), None);
        let doc = GlobalRulesDoc::parse(
            "apiVersion: palisade.io/v1alpha1\nkind: PalisadeGlobalRules\nmetadata: {name: c}\nspec:\n  noShell: {exceptions: ['shop/*']}\n  zeroDrift: {enabled: false}\n  noWritesBelow: {paths: [/etc]}\n",
            "g.yaml",
        )
        .unwrap();
        let g = GlobalRules::new(&doc.spec).unwrap();
        assert_eq!(g.check(w, &exec("/bin/bash", None, false), false), None);
        assert_eq!(g.check("other/Image/x", &exec("/bin/bash", None, false), false).unwrap().rule, SHELL);
        assert_eq!(g.check(w, &exec("/tmp/x", None, true), false), None);
        assert!(g.check(w, &Fact::File { path: "/usr/bin/x", write: true }, false).is_none());
        assert!(g.check(w, &Fact::File { path: "/etc/x", write: true }, false).is_some());
        let e = GlobalRulesDoc::parse(
            "apiVersion: palisade.io/v1alpha1\nkind: PalisadeGlobalRules\nspec: {noShel: {}}\n",
            "g.yaml",
        )
        .unwrap_err();
        assert!(e.starts_with("g.yaml") && e.contains("noShel"), "{e}");
    }
}
