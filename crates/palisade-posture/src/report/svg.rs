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

/// A line chart of series (label, colour, one value per point) over points evenly spaced from `first` to
/// `last` (the labels under the x axis), each value marked with a dot carrying its value as a tooltip.
pub fn lines(title: &str, first: &str, last: &str, series: &[(String, &str, Vec<i64>)]) -> String {
    let (left, top, plot_w, plot_h, legend_w) = (48.0, 28.0, 560.0, 180.0, 130.0);
    let points = series.iter().map(|s| s.2.len()).max().unwrap_or(0);
    let max = series.iter().flat_map(|s| s.2.iter().copied()).max().unwrap_or(0).max(1);
    let (w, h) = (left + plot_w + 20.0 + legend_w, top + plot_h + 40.0);
    let x = |i: usize| {
        if points <= 1 { left + plot_w / 2.0 } else { left + plot_w * i as f64 / (points - 1) as f64 }
    };
    let y = |v: i64| top + plot_h - plot_h * v.max(0) as f64 / max as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{t}\" width=\"{w}\" height=\"{h}\" \
viewBox=\"0 0 {w} {h}\"><title>{t}</title><text x=\"0\" y=\"16\" font-size=\"14\" font-weight=\"600\">{t}</text>",
        t = escape(title),
    );
    // Axes, with the top value and zero.
    s.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{b}\" stroke=\"#999\"/>\
<line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#999\"/>\
<text x=\"{lx}\" y=\"{ty}\" font-size=\"11\" text-anchor=\"end\">{max}</text>\
<text x=\"{lx}\" y=\"{b}\" font-size=\"11\" text-anchor=\"end\">0</text>\
<text x=\"{left}\" y=\"{xl}\" font-size=\"11\">{first}</text>\
<text x=\"{r}\" y=\"{xl}\" font-size=\"11\" text-anchor=\"end\">{last}</text>",
        b = top + plot_h,
        r = left + plot_w,
        lx = left - 6.0,
        ty = top + 4.0,
        xl = top + plot_h + 16.0,
        first = escape(first),
        last = escape(last),
    ));
    for (n, (label, colour, values)) in series.iter().enumerate() {
        let path: Vec<String> =
            values.iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v))).collect();
        if values.len() > 1 {
            s.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" points=\"{p}\"/>",
                c = escape(colour),
                p = path.join(" ")
            ));
        }
        for (i, v) in values.iter().enumerate() {
            s.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{c}\"><title>{l}: {v}</title></circle>",
                x(i),
                y(*v),
                c = escape(colour),
                l = escape(label),
            ));
        }
        let ly = top + 14.0 + 18.0 * n as f64;
        let lx = left + plot_w + 20.0;
        s.push_str(&format!(
            "<rect x=\"{lx}\" y=\"{ry}\" width=\"12\" height=\"12\" fill=\"{c}\"/>\
<text x=\"{tx}\" y=\"{ly}\" font-size=\"12\">{l}</text>",
            ry = ly - 10.0,
            tx = lx + 18.0,
            c = escape(colour),
            l = escape(label),
        ));
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_charts_scale_to_the_highest_value_and_escape_labels() {
        let svg = lines(
            "Open <findings>",
            "2026-12-01",
            "2026-12-06",
            &[("CRITICAL".into(), "#8b0000", vec![0, 4, 2]), ("HIGH & up".into(), "#d9480f", vec![1, 1, 1])],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Open &lt;findings&gt;") && svg.contains("HIGH &amp; up"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 6);
        // The highest value (4) is at the top of the plot, 0 at its bottom.
        assert!(svg.contains("328.0,28.0") && svg.contains("48.0,208.0"), "{svg}");
        // One point: a dot, no line.
        let one = lines("t", "a", "a", &[("LOW".into(), "#2b8a3e", vec![3])]);
        assert_eq!((one.matches("<polyline").count(), one.matches("<circle").count()), (0, 1));
    }
}
