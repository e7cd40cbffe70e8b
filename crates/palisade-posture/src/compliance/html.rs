//! A compliance report as one self-contained HTML page (no scripts, no external resources): the summary and
//! a table of controls with their evidence. Every text from the inputs is escaped.

use super::{ComplianceReport, Verdict};

/// Escape text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Manual => "manual",
        Verdict::NotAssessed => "na",
        Verdict::NotApplicable => "na",
    }
}

pub fn render(r: &ComplianceReport) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    h.push_str(&format!(
        "<title>{} {} — Palisade compliance</title>\n",
        escape(&r.title),
        escape(&r.version)
    ));
    h.push_str(
        "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}\
td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left}th{background:#f3f3f3}\
.pass{color:#176f2c;font-weight:600}.fail{color:#b00020;font-weight:600}.manual{color:#8a5a00;font-weight:600}\
.na{color:#666}ul{margin:0;padding-left:1.2em}.sum span{margin-right:1.5em}</style></head><body>\n",
    );
    h.push_str(&format!("<h1>{} <small>{}</small></h1>\n", escape(&r.title), escape(&r.version)));
    h.push_str("<p class=\"sum\">");
    for (k, v) in &r.summary {
        h.push_str(&format!("<span>{}: <b>{v}</b></span>", escape(k)));
    }
    h.push_str("</p>\n<p>Inputs: ");
    h.push_str(&r.inputs.iter().map(|i| escape(i)).collect::<Vec<_>>().join(", "));
    h.push_str("</p>\n<table><thead><tr><th>Control</th><th>Title</th><th>Result</th><th>Evidence</th></tr></thead><tbody>\n");
    for c in &r.controls {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td><ul>",
            escape(&c.id),
            escape(&c.title),
            class(c.verdict),
            c.verdict.label()
        ));
        for e in &c.evidence {
            h.push_str(&format!("<li>{}</li>", escape(e)));
        }
        if let Some(m) = &c.manual {
            h.push_str(&format!("<li><i>manual: {}</i></li>", escape(m)));
        }
        h.push_str("</ul></td></tr>\n");
    }
    h.push_str("</tbody></table>\n</body></html>\n");
    h
}
