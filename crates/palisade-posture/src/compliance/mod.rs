//! Compliance (`palisade compliance`): framework mappings ([`framework`], data files) judged against scan
//! reports (image, config, cluster: misconfigurations, vulnerabilities, secrets, RBAC findings) and node
//! reports (`scan node`). Per control: pass, fail, manual (a person must look) or not assessed (no input
//! covers it), with the evidence.

pub mod framework;
pub mod html;

use crate::node::{NodeReport, Status};
use framework::{ControlMap, Framework};
use palisade_core::{ScanReport, Severity};
use serde::Serialize;

/// The verdict on one control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    Manual,
    /// Automated, but no input given covers it (no node report for a node control, say).
    NotAssessed,
    NotApplicable,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Manual => "MANUAL",
            Verdict::NotAssessed => "NOT ASSESSED",
            Verdict::NotApplicable => "N/A",
        }
    }
}

/// One control's result.
#[derive(Debug, Clone, Serialize)]
pub struct ControlVerdict {
    pub id: String,
    pub title: String,
    pub verdict: Verdict,
    /// What was seen (failing findings first, capped), or why it could not be judged.
    pub evidence: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
}

/// A framework judged.
#[derive(Debug, Clone, Serialize)]
pub struct ComplianceReport {
    pub framework: String,
    pub title: String,
    pub version: String,
    /// The inputs judged (artifact names, node roots).
    pub inputs: Vec<String>,
    pub controls: Vec<ControlVerdict>,
    pub summary: std::collections::BTreeMap<&'static str, usize>,
}

/// Most evidence lines per control (the count of the rest is given).
pub const MAX_EVIDENCE: usize = 20;

/// `PAL-PSS-*` style match (one trailing or inner `*`).
fn id_matches(pattern: &str, id: &str) -> bool {
    match pattern.split_once('*') {
        Some((pre, post)) => id.len() >= pre.len() + post.len() && id.starts_with(pre) && id.ends_with(post),
        None => pattern.eq_ignore_ascii_case(id),
    }
}

fn severity_named(s: &str) -> Option<Severity> {
    Severity::ALL.into_iter().find(|x| format!("{x:?}").eq_ignore_ascii_case(s))
}

/// Judge one control against the inputs.
fn judge(c: &ControlMap, reports: &[ScanReport], nodes: &[NodeReport]) -> ControlVerdict {
    let out = |verdict, evidence| ControlVerdict {
        id: c.id.clone(),
        title: c.title.clone(),
        verdict,
        evidence,
        manual: c.manual.clone(),
    };
    if let Some(why) = &c.not_applicable {
        return out(Verdict::NotApplicable, vec![why.clone()]);
    }
    if !c.has_sources() {
        return out(Verdict::Manual, Vec::new());
    }
    let mut failed: Vec<String> = Vec::new();
    let mut passed: Vec<String> = Vec::new();
    let mut warned: Vec<String> = Vec::new();
    let mut assessed = false;
    let ran = |r: &ScanReport, s: &str| r.scanners.is_empty() || r.scanners.iter().any(|x| x == s);
    for r in reports {
        let subject = &r.artifact.name;
        if !c.checks.is_empty() && ran(r, "misconfig") {
            assessed = true;
            for m in r.misconfigurations.iter().filter(|m| m.is_active()) {
                if c.checks.iter().any(|p| id_matches(p, &m.check_id)) {
                    failed.push(format!("{} {}:{} {}", m.check_id, m.file, m.line, m.message));
                }
            }
        }
        if !c.vulns.is_empty() && ran(r, "vuln") {
            assessed = true;
            let sev: Vec<Severity> = c.vulns.iter().filter_map(|s| severity_named(s)).collect();
            for v in r.vulnerabilities.iter().filter(|v| v.is_active() && sev.contains(&v.severity)) {
                failed.push(format!(
                    "{} {:?} in {} {} ({subject})",
                    v.id, v.severity, v.package_name, v.installed_version
                ));
            }
        }
        if c.running_images && ran(r, "vuln") && subject.starts_with("cluster ") {
            assessed = true;
            let marker = crate::cluster::images::NOT_SCANNED;
            for w in r.warnings.iter().filter(|w| w.source == "cluster" && w.message.contains(marker)) {
                failed.push(format!("{} ({subject})", w.message));
            }
        }
        if c.secrets && ran(r, "secret") {
            assessed = true;
            for s in r.secrets.iter().filter(|s| s.is_active()) {
                failed.push(format!("secret {} at {}:{} ({subject})", s.rule_id, s.path, s.line));
            }
        }
    }
    for n in nodes {
        for id in &c.node {
            let Some(res) = n.results.iter().find(|r| &r.id == id) else { continue };
            let line = format!("node {} {} {}: {}", n.root, id, res.status_label(), res.evidence.join("; "));
            match res.status {
                Status::Fail => failed.push(line),
                Status::Pass => passed.push(line),
                Status::Warn => warned.push(line),
                Status::NotApplicable => {}
            }
            if res.status != Status::NotApplicable {
                assessed = true;
            }
        }
    }
    let cap = |mut v: Vec<String>| {
        if v.len() > MAX_EVIDENCE {
            let more = v.len() - MAX_EVIDENCE;
            v.truncate(MAX_EVIDENCE);
            v.push(format!("… and {more} more"));
        }
        v
    };
    if !failed.is_empty() {
        return out(Verdict::Fail, cap(failed));
    }
    if !assessed {
        let mut need = Vec::new();
        if !c.checks.is_empty() {
            need.push("a scan report with the misconfig scanner (scan config/image/cluster)");
        }
        if !c.node.is_empty() {
            need.push("a node report (scan node -f json)");
        }
        if !c.vulns.is_empty() {
            need.push("a scan report with the vuln scanner");
        }
        if c.secrets {
            need.push("a scan report with the secret scanner");
        }
        if c.running_images {
            need.push("a cluster scan report with the vuln scanner (scan cluster)");
        }
        return out(Verdict::NotAssessed, vec![format!("needs {}", need.join(" or "))]);
    }
    if passed.is_empty() && !warned.is_empty() {
        // Only Manual node controls answered: a person must look at what they show.
        return out(Verdict::Manual, cap(warned));
    }
    passed.extend(warned);
    if passed.is_empty() {
        passed.push("no finding of the mapped checks in the inputs".into());
    }
    out(Verdict::Pass, cap(passed))
}

impl crate::node::ControlResult {
    fn status_label(&self) -> &'static str {
        self.status.label()
    }
}

/// Judge a framework against scan reports and node reports.
pub fn assess(fw: &Framework, reports: &[ScanReport], nodes: &[NodeReport]) -> ComplianceReport {
    let controls: Vec<ControlVerdict> = fw.controls.iter().map(|c| judge(c, reports, nodes)).collect();
    let mut summary = std::collections::BTreeMap::new();
    for v in [Verdict::Pass, Verdict::Fail, Verdict::Manual, Verdict::NotAssessed, Verdict::NotApplicable] {
        summary.insert(v.label(), controls.iter().filter(|c| c.verdict == v).count());
    }
    let mut inputs: Vec<String> =
        reports.iter().map(|r| format!("{} {}", r.artifact.kind, r.artifact.name)).collect();
    inputs.extend(nodes.iter().map(|n| format!("node {}", n.root)));
    ComplianceReport {
        framework: fw.id.clone(),
        title: fw.title.clone(),
        version: fw.version.clone(),
        inputs,
        controls,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_images_not_scanned_fail_the_image_control() {
        use palisade_core::{ArtifactInfo, ArtifactKind, Warning};
        let fw = framework::load("nist-800-190").unwrap();
        let control = fw.controls.iter().find(|c| c.id == "4.1.1").unwrap();
        let mut cluster =
            ScanReport::new(ArtifactInfo::new(ArtifactKind::Fs, "cluster prod"), "2026-12-06T00:00:00Z");
        cluster.scanners = vec!["vuln".into(), "misconfig".into()];
        assert_eq!(judge(control, std::slice::from_ref(&cluster), &[]).verdict, Verdict::Pass);
        cluster.warnings.push(Warning::new(
            "cluster",
            "r.example/app:1: not scanned: not in the image store s.db; run by Deployment a/b (container b)",
        ));
        let v = judge(control, std::slice::from_ref(&cluster), &[]);
        assert_eq!(v.verdict, Verdict::Fail);
        assert!(
            v.evidence[0].contains("r.example/app:1") && v.evidence[0].ends_with("(cluster prod)"),
            "{v:?}"
        );
        // An image scan's warnings are not about running images.
        let mut image = cluster.clone();
        image.artifact.name = "r.example/app:1".into();
        assert_eq!(judge(control, &[image], &[]).verdict, Verdict::Pass);
    }

    #[test]
    fn every_framework_loads_and_maps_to_known_ids() {
        let known_node: Vec<&str> =
            crate::node::controls::GROUPS.iter().flat_map(|g| g.controls.iter().map(|c| c.id)).collect();
        let known_rbac: Vec<&str> = crate::rbac::rules::ALL.iter().map(|r| r.id).collect();
        let known_clu: Vec<&str> = crate::cluster::checks::ALL.iter().map(|c| c.id).collect();
        for fw in framework::all().unwrap() {
            assert!(!fw.controls.is_empty(), "{}", fw.id);
            let mut ids = std::collections::HashSet::new();
            for c in &fw.controls {
                assert!(ids.insert(&c.id), "{}: duplicate control {}", fw.id, c.id);
                assert!(
                    c.has_sources() || c.manual.is_some() || c.not_applicable.is_some(),
                    "{} {}: judged by nothing",
                    fw.id,
                    c.id
                );
                for n in &c.node {
                    assert!(known_node.contains(&n.as_str()), "{} {}: unknown node control {n}", fw.id, c.id);
                }
                for p in &c.checks {
                    let any = palisade_checks::registry().iter().any(|k| id_matches(p, k.meta().id))
                        || known_rbac.iter().any(|k| id_matches(p, k))
                        || known_clu.iter().any(|k| id_matches(p, k));
                    assert!(any, "{} {}: {p} matches no check", fw.id, c.id);
                }
                for s in &c.vulns {
                    assert!(severity_named(s).is_some(), "{} {}: severity {s}", fw.id, c.id);
                }
            }
        }
    }

    #[test]
    fn globs() {
        assert!(id_matches("PAL-PSS-*", "PAL-PSS-002"));
        assert!(!id_matches("PAL-PSS-*", "PAL-K8S-002"));
        assert!(id_matches("pal-k8s-031", "PAL-K8S-031"));
    }
}

#[cfg(test)]
mod docs_tests {
    /// docs/compliance.md's coverage table is what `compliance list` computes.
    #[test]
    fn coverage_table_in_the_docs_is_current() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/compliance.md"))
            .unwrap();
        for fw in super::framework::all().unwrap() {
            let c = fw.coverage();
            let row = format!(
                "| {} | {} | {} | {} | {} | {} |",
                fw.id, fw.version, c.controls, c.automated, c.manual, c.not_applicable
            );
            assert!(doc.contains(&row), "docs/compliance.md lacks the row {row}");
        }
    }
}
