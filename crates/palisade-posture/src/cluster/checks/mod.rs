//! Relational checks across a whole cluster dump (Palisade ids `PAL-CLU-nnn`), one file each, registered in
//! [`ALL`]. They add to the manifest checks `palisade scan config` runs, which `scan cluster` also runs on
//! every object (Services selecting nothing and namespaces without a NetworkPolicy are among those).

mod deprecated_api;
mod no_pdb;
mod powerful_sa;
mod webhook_ignore;

use crate::rbac::Analysis;
use crate::rbac::model::Rbac;
use palisade_checks::dump::{Dump, DumpObject};
use palisade_core::Severity;
use palisade_core::findings::misconfig::{Misconfiguration, ResourceRef};

/// What a check sees.
pub struct Cx<'a> {
    pub dump: &'a Dump,
    pub rbac: &'a Rbac,
    pub analysis: &'a Analysis,
    /// Cluster minor version (`33` for 1.33), when known.
    pub minor: Option<u32>,
}

/// One finding of a check: the object, the line of the offending field and what is wrong.
pub struct Hit<'a> {
    pub object: &'a DumpObject,
    pub line: u32,
    pub message: String,
    pub severity: Option<Severity>,
}

/// A cluster check.
pub struct ClusterCheck {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub remediation: &'static str,
    pub run: for<'a> fn(&Cx<'a>) -> Vec<Hit<'a>>,
}

pub static ALL: &[&ClusterCheck] =
    &[&no_pdb::CHECK, &powerful_sa::CHECK, &webhook_ignore::CHECK, &deprecated_api::CHECK];

/// Run every check; findings in the report's misconfiguration form.
pub fn run(cx: &Cx) -> Vec<Misconfiguration> {
    let mut out = Vec::new();
    for c in ALL {
        for h in (c.run)(cx) {
            let o = &h.object.object;
            out.push(Misconfiguration {
                check_id: c.id.to_string(),
                title: c.title.to_string(),
                severity: h.severity.unwrap_or(c.severity),
                file: h.object.file.clone(),
                line: h.line,
                column: 0,
                resource: Some(ResourceRef {
                    kind: o.kind.clone(),
                    namespace: o.namespace.clone(),
                    name: o.name.clone(),
                }),
                container: None,
                message: h.message,
                remediation: c.remediation.to_string(),
                references: Vec::new(),
                layer: None,
                suppressed: None,
            });
        }
    }
    out
}

/// Namespaces Kubernetes runs itself.
pub fn system_namespace(ns: &str) -> bool {
    matches!(ns, "kube-system" | "kube-public" | "kube-node-lease")
}

/// Test helper: the check ids the cluster checks raise on a dump given as YAML text, at the cluster
/// version `version`.
#[cfg(test)]
pub(crate) fn ids(text: &str, version: Option<&str>) -> Vec<String> {
    let mut d = Dump::default();
    d.add_text("t.yaml", text);
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    let mut v: Vec<String> = crate::cluster::scan(&d, version)
        .findings
        .into_iter()
        .map(|f| f.check_id)
        .filter(|i| i.starts_with("PAL-CLU"))
        .collect();
    v.sort();
    v
}
