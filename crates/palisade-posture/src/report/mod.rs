//! The risk report (`palisade report --html`): risk scores per workload and per image from saved scan reports
//! and, when given, a cluster dump (which workload runs which image, and what exposes it), the top risks with
//! their fixes, findings by severity and scanner, and compliance status; rendered by [`html`] as one
//! self-contained page with inline SVG charts.
//!
//! Scores multiply, as the issue asks: severity × exploitability (the DB's exploit data: CISA KEV ≫ high EPSS
//! ≫ nothing known, times the CVSS attack vector) × fixability per vulnerability, summed per image; a workload adds its own misconfigurations and multiplies by exposure (reachable from outside through
//! a LoadBalancer/NodePort Service or an Ingress, host network or ports) and privilege (privileged, host
//! namespaces, host paths). With the image store (`--store`), the page adds the open findings over time.

pub mod graph;
pub mod html;
pub mod svg;

use palisade_checks::dump::Dump;
use palisade_checks::relate::LabelSelector;
use palisade_checks::yaml::Node;
use palisade_core::findings::vuln::{ExploitClass, VulnFinding};
use palisade_core::trend::TrendPoint;
use palisade_core::{ScanReport, Severity};
use serde::Serialize;

/// Weight of a severity.
pub fn severity_weight(s: Severity) -> f64 {
    match s {
        Severity::Critical => 10.0,
        Severity::High => 7.0,
        Severity::Medium => 4.0,
        Severity::Low => 1.0,
        Severity::Info => 0.1,
        Severity::Unknown => 2.0,
    }
}

/// Exploitability: what is known of the vulnerability's exploitation ([`ExploitClass`] weight: in CISA KEV
/// 100, with known ransomware use 200, EPSS ≥ 0.1 10, nothing known 1, as in `registry report`) × how
/// reachable its CVSS attack vector is ([`attack_vector`]).
pub fn exploitability(v: &VulnFinding) -> f64 {
    ExploitClass::of(v.exploit.as_ref()).weight() as f64 * attack_vector(v)
}

/// The CVSS attack vector (the most reachable of the finding's vectors): network 1.0, adjacent 0.7, local
/// 0.5, physical 0.3; 0.8 when no vector is known.
pub fn attack_vector(v: &VulnFinding) -> f64 {
    v.cvss
        .iter()
        .filter_map(|c| {
            c.vector.split('/').find_map(|part| match part {
                "AV:N" => Some(1.0),
                "AV:A" => Some(0.7),
                "AV:L" => Some(0.5),
                "AV:P" => Some(0.3),
                _ => None,
            })
        })
        .fold(None, |acc: Option<f64>, x| Some(acc.map_or(x, |a| a.max(x))))
        .unwrap_or(0.8)
}

/// Fixability: a fix to upgrade to makes the risk removable now (1.0); without one, 0.7.
pub fn fixability(v: &VulnFinding) -> f64 {
    if v.fixed_version.is_some() { 1.0 } else { 0.7 }
}

pub fn vuln_score(v: &VulnFinding) -> f64 {
    severity_weight(v.severity) * exploitability(v) * fixability(v)
}

/// One risk of the top list.
#[derive(Debug, Clone, Serialize)]
pub struct Risk {
    pub score: f64,
    pub severity: Severity,
    /// What is known of its exploitation (vulnerabilities; `none` for other findings).
    pub exploit: ExploitClass,
    pub id: String,
    /// Image or workload it is in.
    pub subject: String,
    pub what: String,
    pub fix: String,
}

/// Score of one image (a scan report).
#[derive(Debug, Clone, Serialize)]
pub struct ImageRisk {
    pub name: String,
    pub score: f64,
    pub vulnerabilities: usize,
    pub secrets: usize,
    pub misconfigurations: usize,
}

/// One image of the image store as `registry report` ranks it (`--store`): Σ severity × exploitability ×
/// fixability over its open findings.
#[derive(Debug, Clone, Serialize)]
pub struct StoredImageRisk {
    /// `repository:tags@digest`.
    pub image: String,
    pub score: i64,
    pub critical: i64,
    pub high: i64,
    /// Open findings listed in CISA KEV.
    pub kev: i64,
    pub fixable: i64,
    pub top_reason: String,
}

/// Score of one workload of the cluster dump.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadRisk {
    pub workload: String,
    pub score: f64,
    pub images: Vec<String>,
    /// Why it is reachable from outside (empty: internal only).
    pub exposure: Vec<String>,
    /// Why a compromise reaches the node.
    pub privilege: Vec<String>,
    pub findings: usize,
}

/// Everything the page shows.
#[derive(Debug, Clone, Serialize)]
pub struct RiskReport {
    pub inputs: Vec<String>,
    pub images: Vec<ImageRisk>,
    pub workloads: Vec<WorkloadRisk>,
    pub top: Vec<Risk>,
    /// Active findings by severity (all scanners).
    pub by_severity: Vec<(Severity, usize)>,
    /// Active findings by scanner (`vulnerability`, `misconfiguration`, `secret`, `license`).
    pub by_scanner: Vec<(String, usize)>,
    /// (framework, pass, fail, manual, not assessed) when compliance was asked for.
    pub compliance: Vec<crate::compliance::ComplianceReport>,
    /// The riskiest images of the image store (`--store`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stored_images: Vec<StoredImageRisk>,
    /// Open findings over time from the image store's findings history (`--store`); `None`: no store given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trends: Option<Vec<TrendPoint>>,
}

/// How many risks the top list holds.
pub const TOP: usize = 15;

fn image_score(r: &ScanReport) -> f64 {
    let v: f64 = r.vulnerabilities.iter().filter(|v| v.is_active()).map(vuln_score).sum();
    let s = r.secrets.iter().filter(|s| s.is_active()).count() as f64 * severity_weight(Severity::Critical);
    let m: f64 =
        r.misconfigurations.iter().filter(|m| m.is_active()).map(|m| 0.5 * severity_weight(m.severity)).sum();
    v + s + m
}

/// Does a scan report's artifact name the image a container runs (`nginx:1.27` vs `docker.io/library/nginx:1.27`)?
fn same_image(artifact: &str, image: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim_start_matches("docker.io/").trim_start_matches("library/").to_string();
        if s.contains(':') || s.contains('@') { s } else { format!("{s}:latest") }
    };
    artifact == image || norm(artifact) == norm(image)
}

fn labels(n: Option<&Node>) -> Vec<(String, String)> {
    n.map(|l| l.as_map().iter().map(|(k, v)| (k.name.clone(), v.scalar_text().unwrap_or_default())).collect())
        .unwrap_or_default()
}

/// Build the report. `reports` are scan reports (images, config and cluster scans); `dump`, when given, names
/// the workloads; `compliance` is what `compliance::assess` gave for the frameworks asked for.
pub fn build(
    reports: &[ScanReport],
    dump: Option<&Dump>,
    compliance: Vec<crate::compliance::ComplianceReport>,
) -> RiskReport {
    let mut top: Vec<Risk> = Vec::new();
    let mut images = Vec::new();
    let mut by_sev = std::collections::BTreeMap::<Severity, usize>::new();
    let mut by_scanner = std::collections::BTreeMap::<String, usize>::new();
    for r in reports {
        let name = r.artifact.name.clone();
        for v in r.vulnerabilities.iter().filter(|v| v.is_active()) {
            *by_sev.entry(v.severity).or_default() += 1;
            *by_scanner.entry("vulnerability".into()).or_default() += 1;
            let exploit = ExploitClass::of(v.exploit.as_ref());
            let known =
                if exploit == ExploitClass::None { String::new() } else { format!("[{}] ", exploit.label()) };
            top.push(Risk {
                score: vuln_score(v),
                severity: v.severity,
                exploit,
                id: v.id.clone(),
                subject: name.clone(),
                what: format!(
                    "{known}{} {}: {}",
                    v.package_name,
                    v.installed_version,
                    v.title.clone().unwrap_or_default()
                ),
                fix: match &v.fixed_version {
                    Some(f) => format!("upgrade {} to {f}", v.package_name),
                    None => "no fixed version yet: mitigate or accept".into(),
                },
            });
        }
        for s in r.secrets.iter().filter(|s| s.is_active()) {
            *by_sev.entry(s.severity).or_default() += 1;
            *by_scanner.entry("secret".into()).or_default() += 1;
            top.push(Risk {
                score: severity_weight(Severity::Critical),
                severity: s.severity,
                exploit: ExploitClass::None,
                id: s.rule_id.clone(),
                subject: name.clone(),
                what: format!("credential in {}:{}", s.path, s.line),
                fix: "revoke the credential and remove it from the artifact and its history".into(),
            });
        }
        for m in r.misconfigurations.iter().filter(|m| m.is_active()) {
            *by_sev.entry(m.severity).or_default() += 1;
            *by_scanner.entry("misconfiguration".into()).or_default() += 1;
            let subject = m.resource.as_ref().map(|x| match &x.namespace {
                Some(ns) => format!("{}/{ns}/{}", x.kind, x.name),
                None => format!("{}/{}", x.kind, x.name),
            });
            top.push(Risk {
                score: 0.5 * severity_weight(m.severity),
                severity: m.severity,
                exploit: ExploitClass::None,
                id: m.check_id.clone(),
                subject: subject.unwrap_or_else(|| name.clone()),
                what: m.message.clone(),
                fix: m.remediation.clone(),
            });
        }
        let licenses = r.licenses.len();
        if licenses > 0 {
            *by_scanner.entry("license".into()).or_default() += licenses;
        }
        images.push(ImageRisk {
            name,
            score: image_score(r),
            vulnerabilities: r.vulnerabilities.iter().filter(|v| v.is_active()).count(),
            secrets: r.secrets.iter().filter(|s| s.is_active()).count(),
            misconfigurations: r.misconfigurations.iter().filter(|m| m.is_active()).count(),
        });
    }
    let workloads = dump.map(|d| workloads(d, reports)).unwrap_or_default();
    top.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    top.truncate(TOP);
    images.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.name.cmp(&b.name)));
    let mut inputs: Vec<String> =
        reports.iter().map(|r| format!("{} {}", r.artifact.kind, r.artifact.name)).collect();
    if dump.is_some() {
        inputs.push("cluster dump (workloads and exposure)".into());
    }
    RiskReport {
        inputs,
        images,
        workloads,
        top,
        by_severity: Severity::ALL.iter().rev().map(|s| (*s, by_sev.get(s).copied().unwrap_or(0))).collect(),
        by_scanner: by_scanner.into_iter().collect(),
        compliance,
        stored_images: Vec::new(),
        trends: None,
    }
}

/// Vulnerabilities of the cluster components a workload runs (a cluster scan's packages say where each
/// component was seen: `… (Deployment/kube-system/coredns image)`).
fn component_part(reports: &[ScanReport], workload: &str) -> f64 {
    let tag = format!("({workload} image)");
    reports
        .iter()
        .flat_map(|r| {
            let purls: Vec<&str> = r
                .packages
                .iter()
                .filter(|p| p.metadata.get("seen").is_some_and(|s| s.contains(&tag)))
                .map(|p| p.purl.as_str())
                .collect();
            r.vulnerabilities.iter().filter(move |v| v.is_active() && purls.contains(&v.purl.as_str()))
        })
        .map(vuln_score)
        .sum()
}

/// Workloads of a dump with their images, exposure, privilege and score.
fn workloads(dump: &Dump, reports: &[ScanReport]) -> Vec<WorkloadRisk> {
    // Services reachable from outside, and Services an Ingress routes to.
    let mut ingress_services: Vec<(String, String)> = Vec::new();
    for d in dump.of_kind("Ingress") {
        let ns = d.object.namespace.clone().unwrap_or_else(|| "default".into());
        let mut names = Vec::new();
        if let Some(n) =
            d.object.root.path(&["spec", "defaultBackend", "service", "name"]).and_then(Node::as_str)
        {
            names.push(n.to_string());
        }
        for rule in d.object.root.path(&["spec", "rules"]).map(Node::as_seq).unwrap_or(&[]) {
            for p in rule.path(&["http", "paths"]).map(Node::as_seq).unwrap_or(&[]) {
                if let Some(n) = p.path(&["backend", "service", "name"]).and_then(Node::as_str) {
                    names.push(n.to_string());
                }
            }
        }
        ingress_services.extend(names.into_iter().map(|n| (ns.clone(), n)));
    }
    let mut services: Vec<(String, String, LabelSelector, Option<String>)> = Vec::new();
    for d in dump.of_kind("Service") {
        let ns = d.object.namespace.clone().unwrap_or_else(|| "default".into());
        let Some(sel) =
            d.object.root.path(&["spec", "selector"]).filter(|s| s.is_map() && !s.as_map().is_empty())
        else {
            continue;
        };
        let typ = d.object.root.path(&["spec", "type"]).and_then(Node::as_str).unwrap_or("ClusterIP");
        let why = if matches!(typ, "LoadBalancer" | "NodePort") {
            Some(format!("Service {ns}/{} type {typ}", d.object.name))
        } else if ingress_services.contains(&(ns.clone(), d.object.name.clone())) {
            Some(format!("Ingress to Service {ns}/{}", d.object.name))
        } else {
            None
        };
        services.push((ns, d.object.name.clone(), LabelSelector::from_node(sel), why));
    }
    let mut out = Vec::new();
    for d in &dump.objects {
        let o = &d.object;
        let Some(pod) = o.pod() else { continue };
        if crate::rbac::model::controller_owned(o) {
            continue;
        }
        let ns = o.namespace.clone().unwrap_or_else(|| "default".into());
        let pod_labels = labels(pod.meta.and_then(|m| m.get("labels")));
        let mut exposure: Vec<String> = services
            .iter()
            .filter(|(sns, _, sel, why)| *sns == ns && why.is_some() && sel.matches(&pod_labels))
            .filter_map(|(_, _, _, why)| why.clone())
            .collect();
        let flag = |k: &str| pod.spec.get(k).and_then(Node::as_bool) == Some(true);
        let mut privilege = Vec::new();
        if flag("hostNetwork") {
            exposure.push("hostNetwork".into());
            privilege.push("hostNetwork".into());
        }
        for k in ["hostPID", "hostIPC"] {
            if flag(k) {
                privilege.push(k.into());
            }
        }
        if pod
            .spec
            .get("volumes")
            .map(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .any(|v| v.get("hostPath").is_some())
        {
            privilege.push("hostPath volume".into());
        }
        let mut images = Vec::new();
        for field in ["initContainers", "containers"] {
            for c in pod.spec.get(field).map(Node::as_seq).unwrap_or(&[]) {
                if let Some(i) = c.get("image").and_then(Node::as_str) {
                    images.push(i.to_string());
                }
                if c.path(&["securityContext", "privileged"]).and_then(Node::as_bool) == Some(true) {
                    privilege.push(format!(
                        "privileged container {}",
                        c.get("name").and_then(Node::as_str).unwrap_or("?")
                    ));
                }
                if c.get("ports").map(Node::as_seq).unwrap_or(&[]).iter().any(|p| p.get("hostPort").is_some())
                {
                    exposure.push("hostPort".into());
                }
            }
        }
        exposure.dedup();
        let image_part: f64 = reports
            .iter()
            .filter(|r| images.iter().any(|i| same_image(&r.artifact.name, i)))
            .flat_map(|r| r.vulnerabilities.iter().filter(|v| v.is_active()))
            .map(vuln_score)
            .sum::<f64>()
            + component_part(reports, &o.display());
        let own: Vec<f64> = reports
            .iter()
            .flat_map(|r| r.misconfigurations.iter())
            .filter(|m| m.is_active())
            .filter(|m| {
                m.resource.as_ref().is_some_and(|x| {
                    x.kind == o.kind && x.name == o.name && x.namespace.as_deref().unwrap_or("default") == ns
                })
            })
            .map(|m| 0.5 * severity_weight(m.severity))
            .collect();
        let exposure_mult = if exposure.is_empty() { 1.0 } else { 2.0 };
        let privilege_mult = if privilege.iter().any(|p| p.starts_with("privileged")) {
            2.0
        } else if privilege.is_empty() {
            1.0
        } else {
            1.5
        };
        out.push(WorkloadRisk {
            workload: format!("{}/{ns}/{}", o.kind, o.name),
            score: exposure_mult * privilege_mult * (image_part + own.iter().sum::<f64>()),
            images,
            exposure,
            privilege,
            findings: own.len(),
        });
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.workload.cmp(&b.workload)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::findings::vuln::{Exploit, VulnStatus};
    use palisade_core::{ArtifactInfo, ArtifactKind, Ecosystem};

    fn vuln(id: &str, severity: Severity, fixed: bool, exploit: Option<Exploit>) -> VulnFinding {
        VulnFinding {
            id: id.into(),
            aliases: vec![],
            package_name: "lib".into(),
            package_version: "1.0".into(),
            ecosystem: Ecosystem::Npm,
            purl: "pkg:npm/lib@1.0".into(),
            locations: vec![],
            installed_version: "1.0".into(),
            fixed_version: fixed.then(|| "1.1".into()),
            fixed_versions: vec![],
            status: if fixed { VulnStatus::Fixed } else { VulnStatus::Affected },
            severity,
            severity_source: None,
            cvss: vec![],
            title: None,
            description: None,
            references: vec![],
            matched_by: vec![],
            advisory_sources: vec![],
            published: None,
            modified: None,
            exploit,
            suppressed: None,
        }
    }

    #[test]
    fn top_risks_put_known_exploited_vulnerabilities_first() {
        let kev = Exploit { kev_added: Some("2026-12-01".into()), ..Exploit::default() };
        let likely = Exploit { epss: Some(0.4), ..Exploit::default() };
        let mut r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Image, "app:1"), "2026-12-06T00:00:00Z");
        r.vulnerabilities = vec![
            vuln("CVE-2026-0001", Severity::Critical, true, None),
            vuln("CVE-2026-0002", Severity::Critical, true, None),
            vuln("CVE-2026-0003", Severity::Critical, true, None),
            vuln("CVE-2026-0004", Severity::High, false, Some(kev)),
            vuln("CVE-2026-0005", Severity::Medium, false, Some(likely)),
        ];
        let report = build(&[r], None, vec![]);
        let ids: Vec<&str> = report.top.iter().map(|t| t.id.as_str()).collect();
        // KEV high (7 × 100 × 0.8 × 0.7) ≫ EPSS medium (4 × 10 × 0.8 × 0.7) ≫ plain criticals (10 × 0.8).
        assert_eq!(ids[..2], ["CVE-2026-0004", "CVE-2026-0005"], "{:#?}", report.top);
        assert_eq!(report.top[0].exploit, ExploitClass::Kev);
        assert!(report.top[0].what.starts_with("[in CISA KEV] lib 1.0"), "{}", report.top[0].what);
        assert!(report.trends.is_none());
    }
}
