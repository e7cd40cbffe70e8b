//! Cluster scan (`palisade scan cluster --from DUMP`): what the manifest checks cannot see one object at a
//! time ([`checks`]: relational checks that use the RBAC analysis and the cluster's version), and the
//! versions of the cluster's own components ([`components`]) as packages for the vulnerability matcher and
//! the cluster BOM. The manifest checks themselves run in `palisade-checks` on the same files.

pub mod checks;
pub mod components;
pub mod images;

use crate::rbac::{analyze, model::Rbac};
use components::Component;
use palisade_checks::dump::Dump;
use palisade_core::findings::misconfig::{Misconfiguration, ResourceRef};

/// What the cluster scan adds to the manifest checks' report.
#[derive(Debug)]
pub struct ClusterScan {
    pub findings: Vec<Misconfiguration>,
    pub components: Vec<Component>,
    /// `1.33`, from the API server's image or the newest kubelet.
    pub version: Option<String>,
    /// Objects that could not be read (RBAC objects named and skipped).
    pub errors: Vec<String>,
}

/// Judge a dump. `version` overrides the version read from the dump.
pub fn scan(dump: &Dump, version: Option<&str>) -> ClusterScan {
    let components = components::components(dump);
    let version = version.map(str::to_string).or_else(|| components::cluster_version(&components));
    let minor = version.as_deref().and_then(|v| v.trim_start_matches('v').split('.').nth(1)?.parse().ok());
    let rbac = Rbac::from_dump(dump);
    let analysis = analyze(&rbac, false);
    let cx = checks::Cx { dump, rbac: &rbac, analysis: &analysis, minor };
    let mut findings = checks::run(&cx);
    findings.extend(analysis.findings.iter().map(rbac_misconfiguration));
    ClusterScan { findings, components, version, errors: rbac.errors }
}

/// An RBAC risk as a report finding: on the (first) binding that grants it, the whole chain in the message.
fn rbac_misconfiguration(f: &crate::rbac::RbacFinding) -> Misconfiguration {
    let first = f.chains.first();
    let (file, line) = first
        .and_then(|c| c.binding_at.rsplit_once(':'))
        .map(|(file, line)| (file.to_string(), line.parse().unwrap_or(0)))
        .unwrap_or_default();
    let resource = first.map(|c| {
        let parts: Vec<&str> = c.binding.split('/').collect();
        match parts.as_slice() {
            [kind, ns, name] => ResourceRef {
                kind: kind.to_string(),
                namespace: Some(ns.to_string()),
                name: name.to_string(),
            },
            [kind, name] => ResourceRef { kind: kind.to_string(), namespace: None, name: name.to_string() },
            _ => ResourceRef { kind: c.binding.clone(), namespace: None, name: String::new() },
        }
    });
    let via: Vec<String> = f.chains.iter().map(ToString::to_string).collect();
    Misconfiguration {
        check_id: f.id.to_string(),
        title: f.title.to_string(),
        severity: f.severity,
        file,
        line,
        column: 0,
        resource,
        container: None,
        message: format!("{} ({}) via {}", f.subject, f.scope, via.join("; ")),
        remediation: f.remediation.to_string(),
        references: Vec::new(),
        layer: None,
        suppressed: None,
    }
}
