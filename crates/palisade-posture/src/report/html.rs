//! The risk report as one self-contained HTML page: no script, no external resource (a Content Security
//! Policy forbids any), charts as inline SVG, every string from the inputs escaped.

use super::{RiskReport, svg};
use crate::compliance::html::escape;
use palisade_core::Severity;
use palisade_core::trend::TrendPoint;

fn colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#8b0000",
        Severity::High => "#d9480f",
        Severity::Medium => "#e0a800",
        Severity::Low => "#2b8a3e",
        Severity::Info => "#1971c2",
        Severity::Unknown => "#868e96",
    }
}

fn sev(s: Severity) -> String {
    format!("{s:?}").to_uppercase()
}

/// The page; with the connection graph section when `graph` is given.
pub fn render(r: &RiskReport, generated: &str, graph: Option<&palisade_network::graph::Graph>) -> String {
    let mut h = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
<title>Palisade risk report</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}\
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}td{overflow-wrap:anywhere}th,td.n{white-space:nowrap;overflow-wrap:normal}\
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}.charts{display:flex;gap:3em;flex-wrap:wrap}\
.sev{color:#fff;padding:0 .4em;border-radius:3px;font-size:.85em;white-space:nowrap}small{color:#666}</style></head><body>\n",
    );
    h.push_str("<h1>Palisade risk report</h1>\n");
    h.push_str(&format!(
        "<p><small>Generated {} from: {}</small></p>\n",
        escape(generated),
        r.inputs.iter().map(|i| escape(i)).collect::<Vec<_>>().join(", ")
    ));
    // Charts
    let sev_rows: Vec<(String, usize, &str)> =
        r.by_severity.iter().map(|(s, n)| (sev(*s), *n, colour(*s))).collect();
    let scan_rows: Vec<(String, usize, &str)> =
        r.by_scanner.iter().map(|(s, n)| (s.clone(), *n, "#495057")).collect();
    h.push_str("<div class=\"charts\">");
    h.push_str(&svg::bars("Findings by severity", &sev_rows));
    h.push_str(&svg::bars("Findings by scanner", &scan_rows));
    h.push_str("</div>\n");
    // Workloads
    if !r.workloads.is_empty() {
        h.push_str("<h2>Workloads by risk</h2>\n<p><small>score = exposure (×2 when reachable from outside) × privilege (×2 privileged, ×1.5 host namespaces or paths) × (its images' vulnerabilities + its own misconfigurations)</small></p>\n");
        h.push_str("<table><thead><tr><th>Workload</th><th>Score</th><th>Exposure</th><th>Privilege</th><th>Images</th><th>Findings</th></tr></thead><tbody>\n");
        for w in &r.workloads {
            h.push_str(&format!(
                "<tr><td>{}</td><td class=\"n\">{:.1}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>\n",
                escape(&w.workload),
                w.score,
                if w.exposure.is_empty() { "internal".into() } else { escape(&w.exposure.join(", ")) },
                escape(&w.privilege.join(", ")),
                escape(&w.images.join(", ")),
                w.findings
            ));
        }
        h.push_str("</tbody></table>\n");
    }
    // Images
    h.push_str("<h2>Images and artifacts by risk</h2>\n<p><small>score = Σ severity × exploitability (×100 in CISA KEV, ×200 with ransomware use, ×10 EPSS ≥ 0.1; × CVSS attack vector) × fixability per vulnerability, + 10 per leaked secret, + half the severity of each misconfiguration</small></p>\n");
    h.push_str("<table><thead><tr><th>Artifact</th><th>Score</th><th>Vulnerabilities</th><th>Secrets</th><th>Misconfigurations</th></tr></thead><tbody>\n");
    for i in &r.images {
        h.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            escape(&i.name),
            i.score,
            i.vulnerabilities,
            i.secrets,
            i.misconfigurations
        ));
    }
    h.push_str("</tbody></table>\n");
    // The image store's riskiest images
    if !r.stored_images.is_empty() {
        h.push_str("<h2>Stored images by risk</h2>\n<p><small>From the image store, as <code>palisade registry report</code> ranks them: score = Σ severity (critical 1000, high 100, medium 10, low 1) × exploitability (×100 in CISA KEV, ×200 with ransomware use, ×10 EPSS ≥ 0.1) × fixability (×2 when fixable) per open finding</small></p>\n");
        h.push_str("<table><thead><tr><th>Image</th><th>Score</th><th>Critical</th><th>High</th><th>In KEV</th><th>Fixable</th><th>Top reason</th></tr></thead><tbody>\n");
        for i in &r.stored_images {
            h.push_str(&format!(
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
                escape(&i.image),
                i.score,
                i.critical,
                i.high,
                i.kev,
                i.fixable,
                escape(&i.top_reason)
            ));
        }
        h.push_str("</tbody></table>\n");
    }
    // Top risks
    h.push_str("<h2>Top risks and their fixes</h2>\n<table><thead><tr><th>Score</th><th>Severity</th><th>Id</th><th>Where</th><th>What</th><th>Fix</th></tr></thead><tbody>\n");
    for t in &r.top {
        h.push_str(&format!(
            "<tr><td class=\"n\">{:.1}</td><td><span class=\"sev\" style=\"background:{}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            t.score,
            colour(t.severity),
            sev(t.severity),
            escape(&t.id),
            escape(&t.subject),
            escape(&t.what),
            escape(&t.fix)
        ));
    }
    h.push_str("</tbody></table>\n");
    // Compliance
    h.push_str("<h2>Compliance</h2>\n");
    if r.compliance.is_empty() {
        h.push_str("<p>No framework asked for (<code>--framework</code>).</p>\n");
    } else {
        h.push_str("<table><thead><tr><th>Framework</th><th>Pass</th><th>Fail</th><th>Manual</th><th>Not assessed</th></tr></thead><tbody>\n");
        for c in &r.compliance {
            let n = |k: &str| c.summary.get(k).copied().unwrap_or(0);
            h.push_str(&format!(
                "<tr><td>{} {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                escape(&c.title),
                escape(&c.version),
                n("PASS"),
                n("FAIL"),
                n("MANUAL"),
                n("NOT ASSESSED")
            ));
        }
        h.push_str("</tbody></table>\n");
    }
    if let Some(g) = graph {
        h.push_str(&super::graph::section(g));
    }
    trends(&mut h, r.trends.as_deref());
    h.push_str("</body></html>\n");
    h
}

/// The trends section: open findings over time by severity from the image store's findings history.
fn trends(h: &mut String, points: Option<&[TrendPoint]>) {
    h.push_str("<h2>Trends</h2>\n");
    let Some(points) = points else {
        h.push_str("<p>Trends need the image store (<code>--store</code>): each report here is one point in time.</p>\n");
        return;
    };
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        h.push_str("<p>The image store has no findings history yet (<code>palisade registry scan</code>, <code>palisade rescan</code>).</p>\n");
        return;
    };
    let day = |p: &TrendPoint| p.at.get(..16).unwrap_or(&p.at).replace('T', " ");
    let series: Vec<(String, &str, Vec<i64>)> = [
        (Severity::Critical, points.iter().map(|p| p.critical).collect::<Vec<_>>()),
        (Severity::High, points.iter().map(|p| p.high).collect()),
        (Severity::Medium, points.iter().map(|p| p.medium).collect()),
        (Severity::Low, points.iter().map(|p| p.low).collect()),
        (Severity::Unknown, points.iter().map(|p| p.unknown).collect()),
    ]
    .into_iter()
    .filter(|(_, v)| v.iter().any(|n| *n > 0))
    .map(|(s, v)| (sev(s), colour(s), v))
    .collect();
    h.push_str(&format!(
        "<p><small>Open vulnerability findings of every stored image after each scan or re-match that changed them ({} points), from the store's findings history.</small></p>\n",
        points.len()
    ));
    h.push_str(&svg::lines("Open findings over time by severity", &day(first), &day(last), &series));
    h.push_str("\n<table><thead><tr><th>When</th><th>Critical</th><th>High</th><th>Medium</th><th>Low</th><th>Unknown</th><th>Opened</th><th>Fixed</th></tr></thead><tbody>\n");
    // The most recent points, newest first.
    for p in points.iter().rev().take(10) {
        h.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            escape(&day(p)),
            p.critical,
            p.high,
            p.medium,
            p.low,
            p.unknown,
            p.opened,
            p.fixed
        ));
    }
    h.push_str("</tbody></table>\n");
}
