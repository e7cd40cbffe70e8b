//! Inline SVG charts: horizontal bars, drawn as text (no script, no external resource).

use crate::compliance::html::escape;

/// A horizontal bar chart of (label, value, colour) rows.
pub fn bars(title: &str, rows: &[(String, usize, &str)]) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let (label_w, bar_w, row_h) = (140.0, 320.0, 22.0);
    let height = 28.0 + row_h * rows.len() as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{t}\" width=\"{w}\" height=\"{height}\" \
viewBox=\"0 0 {w} {height}\"><title>{t}</title><text x=\"0\" y=\"16\" font-size=\"14\" font-weight=\"600\">{t}</text>",
        t = escape(title),
        w = label_w + bar_w + 60.0,
    );
    for (i, (label, value, colour)) in rows.iter().enumerate() {
        let y = 28.0 + row_h * i as f64;
        let w = bar_w * (*value as f64) / (max as f64);
        s.push_str(&format!(
            "<text x=\"0\" y=\"{ty}\" font-size=\"12\">{l}</text><rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{h}\" fill=\"{c}\"/>\
<text x=\"{vx:.1}\" y=\"{ty}\" font-size=\"12\">{value}</text>",
            ty = y + 14.0,
            l = escape(label),
            h = row_h - 6.0,
            c = escape(colour),
            vx = label_w + w + 6.0,
        ));
    }
    s.push_str("</svg>");
    s
}
