//! CIS Kubernetes Benchmark controls (ids and titles of v1.10, the version kube-bench's `cis-1.10` checks),
//! one file per section, registered in [`GROUPS`]. Most controls are declarations ([`Check`]) evaluated by
//! one engine; the few that need more are functions. Controls the benchmark marks *Manual* are reported as
//! `warn` with what the node shows, as kube-bench does.

mod apiserver;
mod controller_manager;
mod cp_files;
mod etcd;
mod kube_proxy;
mod kubelet;
mod policies;
mod runtime;
mod scheduler;
mod worker_files;

use super::components::{Components, Flags, StaticPod};
use super::tree::NodeTree;
use super::{ControlResult, Status};

/// Which static Pod a flag check reads.
#[derive(Debug, Clone, Copy)]
pub enum Comp {
    ApiServer,
    ControllerManager,
    Scheduler,
    Etcd,
}

impl Comp {
    pub fn of(self, c: &Components) -> Option<&StaticPod> {
        match self {
            Comp::ApiServer => c.apiserver.as_ref(),
            Comp::ControllerManager => c.controller_manager.as_ref(),
            Comp::Scheduler => c.scheduler.as_ref(),
            Comp::Etcd => c.etcd.as_ref(),
        }
    }
}

/// A test on one setting's value (`None`: not set; then `default` below applies).
#[derive(Debug, Clone, Copy)]
pub enum Test {
    /// Set to anything (a file path, say).
    Set,
    /// Not set (or empty).
    NotSet,
    Eq(&'static str),
    NotEq(&'static str),
    /// A comma-separated list that contains the item.
    Has(&'static str),
    /// A comma-separated list that does not contain the item.
    Lacks(&'static str),
    /// A number at least this.
    AtLeast(i64),
}

impl Test {
    fn holds(self, v: Option<&str>) -> bool {
        let list = |v: &str, x: &str| v.split(',').any(|i| i.trim() == x);
        match (self, v) {
            (Test::Set, v) => v.is_some_and(|v| !v.is_empty()),
            (Test::NotSet, v) => v.is_none_or(str::is_empty),
            (Test::Eq(x), Some(v)) => v.eq_ignore_ascii_case(x),
            (Test::NotEq(x), Some(v)) => !v.eq_ignore_ascii_case(x),
            (Test::NotEq(_), None) => true,
            (Test::Has(x), Some(v)) => list(v, x),
            (Test::Lacks(x), Some(v)) => !list(v, x),
            (Test::Lacks(_), None) => true,
            (Test::AtLeast(n), Some(v)) => v.trim().parse::<i64>().is_ok_and(|v| v >= n),
            _ => false,
        }
    }
}

/// Files a file check looks at.
#[derive(Debug, Clone, Copy)]
pub enum Files {
    Fixed(&'static str),
    /// Computed from the node (a flag's file, a directory's contents).
    Of(fn(&NodeTree, &Components) -> Vec<String>),
}

/// What a control checks.
#[derive(Clone, Copy)]
pub enum Check {
    /// Mode no more permissive than `max` (no bit outside it).
    Mode(Files, u32),
    /// Owner and group, by name in the node's own passwd/group.
    Owner(Files, &'static str, &'static str),
    /// Flags of a static Pod; every flag listed must pass; `default` is the value when not set.
    Flag { comp: Comp, flags: &'static [&'static str], test: Test, default: Option<&'static str> },
    /// A kubelet setting, by flag or config key.
    Kubelet { flag: &'static str, key: &'static [&'static str], test: Test, default: Option<&'static str> },
    /// Anything else.
    Fn(fn(&NodeTree, &Components) -> (Status, Vec<String>)),
    /// Needs a person: the benchmark's audit steps cannot be read from files.
    Manual,
}

/// One control.
#[derive(Clone, Copy)]
pub struct Control {
    pub id: &'static str,
    pub title: &'static str,
    /// The benchmark marks it Manual: reported as `warn` (with the evidence read).
    pub manual: bool,
    pub check: Check,
    pub remediation: &'static str,
}

/// A section of controls.
pub struct Group {
    pub id: &'static str,
    pub title: &'static str,
    pub controls: &'static [Control],
}

/// Every group, in benchmark order.
pub static GROUPS: &[&Group] = &[
    &cp_files::GROUP,
    &apiserver::GROUP,
    &controller_manager::GROUP,
    &scheduler::GROUP,
    &etcd::GROUP,
    &policies::AUTH,
    &policies::LOGGING,
    &worker_files::GROUP,
    &kubelet::GROUP,
    &kube_proxy::GROUP,
    &runtime::GROUP,
];

fn flag_evidence(pod: &StaticPod, flags: &Flags, name: &str) -> String {
    match flags.get(name) {
        Some(v) => format!("{}: --{name}={v}", pod.manifest),
        None => format!("{}: --{name} not set", pod.manifest),
    }
}

fn mode_str(m: u32) -> String {
    format!("{m:o}")
}

/// Evaluate one control on a node.
pub fn evaluate(c: &Control, tree: &NodeTree, comps: &Components) -> (Status, Vec<String>) {
    let (status, evidence) = match c.check {
        Check::Mode(files, max) => {
            let stats = stats(files, tree, comps);
            if stats.is_empty() {
                return (Status::NotApplicable, vec![not_present(files)]);
            }
            let mut ok = true;
            let ev = stats
                .iter()
                .map(|s| {
                    let good = s.mode & !max == 0;
                    ok &= good;
                    format!(
                        "{}: mode {}{}",
                        s.shown,
                        mode_str(s.mode),
                        if good { "" } else { " (too permissive)" }
                    )
                })
                .collect();
            (if ok { Status::Pass } else { Status::Fail }, ev)
        }
        Check::Owner(files, user, group) => {
            let stats = stats(files, tree, comps);
            if stats.is_empty() {
                return (Status::NotApplicable, vec![not_present(files)]);
            }
            let mut ok = true;
            let ev = stats
                .iter()
                .map(|s| {
                    let (u, g) = (tree.user_name(s.uid), tree.group_name(s.gid));
                    ok &= u == user && g == group;
                    format!("{}: owner {u}:{g}", s.shown)
                })
                .collect();
            (if ok { Status::Pass } else { Status::Fail }, ev)
        }
        Check::Flag { comp, flags, test, default } => {
            let Some(pod) = comp.of(comps) else {
                return (
                    Status::NotApplicable,
                    vec![format!("no {comp:?} static Pod manifest on this node")],
                );
            };
            let mut ok = true;
            let ev = flags
                .iter()
                .map(|f| {
                    ok &= test.holds(pod.flags.get(f).or(default));
                    flag_evidence(pod, &pod.flags, f)
                })
                .collect();
            (if ok { Status::Pass } else { Status::Fail }, ev)
        }
        Check::Kubelet { flag, key, test, default } => {
            let Some(k) = &comps.kubelet else {
                return (Status::NotApplicable, vec!["no kubelet unit or config file on this node".into()]);
            };
            let (v, ev) = k.setting(flag, key);
            let ok = test.holds(v.as_deref().or(default));
            (if ok { Status::Pass } else { Status::Fail }, vec![ev])
        }
        Check::Fn(f) => f(tree, comps),
        Check::Manual => (Status::Warn, vec!["needs a manual check".into()]),
    };
    if c.manual && status != Status::NotApplicable {
        return (Status::Warn, evidence);
    }
    (status, evidence)
}

fn stats(files: Files, tree: &NodeTree, comps: &Components) -> Vec<super::tree::FileStat> {
    let paths = match files {
        Files::Fixed(p) => vec![p.to_string()],
        Files::Of(f) => f(tree, comps),
    };
    paths.iter().filter_map(|p| tree.stat(p)).collect()
}

fn not_present(files: Files) -> String {
    match files {
        Files::Fixed(p) => format!("{p}: not present"),
        Files::Of(_) => "no such file on this node".into(),
    }
}

/// Evaluate every control.
pub fn run(tree: &NodeTree, comps: &Components) -> Vec<ControlResult> {
    let mut out = Vec::new();
    for g in GROUPS {
        for c in g.controls {
            let (status, evidence) = evaluate(c, tree, comps);
            out.push(ControlResult {
                id: c.id.to_string(),
                section: format!("{} {}", g.id, g.title),
                title: c.title.to_string(),
                status,
                evidence,
                remediation: c.remediation.to_string(),
            });
        }
    }
    out
}
