//! CIS Kubernetes Benchmark node checks (`palisade scan node [ROOT]`), as kube-bench runs them: the node's
//! components are found from its files ([`components`]), every control of [`controls`] is judged on them,
//! and each result carries its evidence (file, flag, value). Nothing runs on the node: processes are not
//! inspected, only the files that configure them, so a node's tree can be checked offline (an image of it,
//! a mounted disk).

pub mod components;
pub mod controls;
pub mod tree;

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The verdict on one control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Needs a person (the benchmark's Manual controls).
    Warn,
    /// The component or file is not on this node.
    #[serde(rename = "not-applicable")]
    NotApplicable,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::NotApplicable => "N/A",
        }
    }
}

/// One control's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ControlResult {
    pub id: String,
    pub section: String,
    pub title: String,
    pub status: Status,
    pub evidence: Vec<String>,
    pub remediation: String,
}

/// `palisade scan node` output.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeReport {
    pub benchmark: String,
    pub root: String,
    /// Components found on the node.
    pub components: Vec<String>,
    pub results: Vec<ControlResult>,
    pub summary: Summary,
    /// Files that could not be read or parsed.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    #[serde(rename = "notApplicable")]
    pub not_applicable: usize,
}

pub const BENCHMARK: &str =
    "CIS Kubernetes Benchmark v1.10 (control plane, etcd, worker) + Palisade runtime checks";

/// Check the node whose root directory is `root`.
pub fn scan(root: &Path) -> NodeReport {
    let tree = tree::NodeTree::new(root);
    let comps = components::Components::discover(&tree);
    let results = controls::run(&tree, &comps);
    let mut summary = Summary::default();
    for r in &results {
        match r.status {
            Status::Pass => summary.pass += 1,
            Status::Fail => summary.fail += 1,
            Status::Warn => summary.warn += 1,
            Status::NotApplicable => summary.not_applicable += 1,
        }
    }
    let mut found = Vec::new();
    for (name, present) in [
        ("kube-apiserver", comps.apiserver.is_some()),
        ("kube-controller-manager", comps.controller_manager.is_some()),
        ("kube-scheduler", comps.scheduler.is_some()),
        ("etcd", comps.etcd.is_some()),
        ("kubelet", comps.kubelet.is_some()),
    ] {
        if present {
            found.push(name.to_string());
        }
    }
    NodeReport {
        benchmark: BENCHMARK.to_string(),
        root: root.display().to_string(),
        components: found,
        results,
        summary,
        errors: comps.errors,
    }
}
