//! The connection graph section of the HTML report (`report --html --graph FILE`): the graph JSON of
//! `palisade network graph` or the agent's `/graph` drawn as inline SVG (no script, no external
//! resource), with a table of its edges.
//!
//! Nodes sit on a circle, workloads as blue boxes and external peers as grey ellipses; each edge is an
//! arrow from client to server labelled with its protocol and port, its connections (and failures) and,
//! when counters were given, its bytes. Every string from the graph is escaped.

use crate::compliance::html::escape;
use palisade_network::graph::Graph;
use std::collections::HashMap;

/// Read a graph file (the JSON `network graph` writes); errors name the file.
pub fn load(path: &std::path::Path) -> Result<Graph, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let g: Graph = serde_json::from_str(&text).map_err(|e| {
        format!("{}: not a connection graph (network graph --format json): {e}", path.display())
    })?;
    if let Some(e) = g
        .edges
        .iter()
        .find(|e| !g.nodes.iter().any(|n| n.id == e.from) || !g.nodes.iter().any(|n| n.id == e.to))
    {
        return Err(format!(
            "{}: edge {} -> {} names a node the graph does not list",
            path.display(),
            e.from,
            e.to
        ));
    }
    Ok(g)
}

/// Bytes as text: `512 B`, `12.3 kB`, `4.5 MB`, `1.2 GB`.
fn human_bytes(b: u64) -> String {
    let units = [(1_000_000_000.0, "GB"), (1_000_000.0, "MB"), (1_000.0, "kB")];
    for (size, unit) in units {
        if b as f64 >= size {
            return format!("{:.1} {unit}", b as f64 / size);
        }
    }
    format!("{b} B")
}

/// A label cut to `max` characters (the full text stays in the node's `<title>` and the table).
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{head}…")
}

/// The `<h2>` section: the SVG drawing and the edge table.
pub fn section(g: &Graph) -> String {
    let mut h = String::from("<h2>Connection graph</h2>\n");
    if g.nodes.is_empty() {
        h.push_str("<p>The graph has no connections.</p>\n");
        return h;
    }
    let counted = g.edges.iter().any(|e| e.bytes.is_some());
    h.push_str(&format!(
        "<p><small>{} workloads, {} external peers, {} edges (client → server port){}</small></p>\n",
        g.nodes.iter().filter(|n| n.kind == "workload").count(),
        g.nodes.iter().filter(|n| n.kind != "workload").count(),
        g.edges.len(),
        if counted { "; bytes and packets from the firewalls' counters" } else { "" }
    ));
    h.push_str(&svg(g));
    h.push_str("<table><thead><tr><th>Client</th><th>Server</th><th>Port</th><th>Connections</th><th>Failures</th><th>Bytes</th><th>Packets</th></tr></thead><tbody>\n");
    for e in &g.edges {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}/{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            escape(&e.from),
            escape(&e.to),
            escape(&e.protocol),
            e.port,
            e.connections,
            e.failures,
            e.bytes.map(|b| b.to_string()).unwrap_or_default(),
            e.packets.map(|p| p.to_string()).unwrap_or_default(),
        ));
    }
    h.push_str("</tbody></table>\n");
    h
}

fn svg(g: &Graph) -> String {
    let n = g.nodes.len();
    let radius = (120.0 + 28.0 * n as f64).min(420.0);
    let (cx, cy) = (radius + 130.0, radius + 50.0);
    let (width, height) = (2.0 * cx, 2.0 * cy);
    let mut pos: HashMap<&str, (f64, f64)> = HashMap::new();
    for (i, node) in g.nodes.iter().enumerate() {
        let a = -std::f64::consts::FRAC_PI_2 + 2.0 * std::f64::consts::PI * i as f64 / n as f64;
        let (x, y) = if n == 1 { (cx, cy) } else { (cx + radius * a.cos(), cy + radius * a.sin()) };
        pos.insert(node.id.as_str(), (x, y));
    }
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Connection graph\" width=\"{width:.0}\" \
height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\"><title>Connection graph</title>\
<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" \
orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#495057\"/></marker></defs>"
    );
    for e in &g.edges {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(e.from.as_str()), pos.get(e.to.as_str())) else {
            continue;
        };
        let mut label = format!("{}/{} ×{}", e.protocol, e.port, e.connections);
        if e.failures > 0 {
            label.push_str(&format!(" ({} failed)", e.failures));
        }
        if let Some(b) = e.bytes {
            label.push_str(&format!(" · {}", human_bytes(b)));
        }
        let colour = if e.failures > 0 && e.connections == 0 { "#c92a2a" } else { "#495057" };
        if (x1, y1) == (x2, y2) {
            // a workload calling itself (another replica): a loop above it
            s.push_str(&format!(
                "<g><title>{t}</title><path d=\"M{x1:.1},{ya:.1} c-40,-60 40,-60 0,0\" fill=\"none\" stroke=\"{colour}\" \
stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/><text x=\"{x1:.1}\" y=\"{yt:.1}\" font-size=\"11\" text-anchor=\"middle\">{l}</text></g>",
                t = escape(&format!("{} -> {}", e.from, e.to)),
                ya = y1 - 14.0,
                yt = y1 - 64.0,
                l = escape(&label),
            ));
            continue;
        }
        // stop the arrow at the target's outline (a 120×30 box, or an ellipse of radii 62 and 16), plus a gap
        let (dx, dy) = (x2 - x1, y2 - y1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        let workload = g.nodes.iter().any(|n| n.id == e.to && n.kind == "workload");
        let edge = if workload {
            (60.0 / ux.abs().max(1e-9)).min(15.0 / uy.abs().max(1e-9))
        } else {
            1.0 / ((ux / 62.0).powi(2) + (uy / 16.0).powi(2)).sqrt()
        };
        let (ex, ey) = (x2 - ux * (edge + 3.0), y2 - uy * (edge + 3.0));
        s.push_str(&format!(
            "<g><title>{t}</title><line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{ex:.1}\" y2=\"{ey:.1}\" stroke=\"{colour}\" \
stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/><text x=\"{mx:.1}\" y=\"{my:.1}\" font-size=\"11\" text-anchor=\"middle\" \
fill=\"#212529\">{l}</text></g>",
            t = escape(&format!("{} -> {}", e.from, e.to)),
            mx = (x1 + x2) / 2.0,
            my = (y1 + y2) / 2.0 - 4.0,
            l = escape(&label),
        ));
    }
    for node in &g.nodes {
        let (x, y) = pos[node.id.as_str()];
        let mut detail = node.id.clone();
        let addrs: Vec<String> = node.addresses.iter().map(|a| a.to_string()).collect();
        if !addrs.is_empty() {
            detail.push_str(&format!(" ({})", addrs.join(", ")));
        }
        if !node.names.is_empty() {
            detail.push_str(&format!(" [{}]", node.names.iter().cloned().collect::<Vec<_>>().join(", ")));
        }
        let label = node
            .id
            .strip_prefix("external:")
            .map(str::to_string)
            .or_else(|| node.names.iter().next().filter(|_| node.kind != "workload").cloned())
            .unwrap_or_else(|| node.id.clone());
        let shape = if node.kind == "workload" {
            format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"120\" height=\"30\" rx=\"6\" fill=\"#d0ebff\" stroke=\"#1971c2\"/>",
                x - 60.0,
                y - 15.0
            )
        } else {
            format!(
                "<ellipse cx=\"{x:.1}\" cy=\"{y:.1}\" rx=\"62\" ry=\"16\" fill=\"#f1f3f5\" stroke=\"#868e96\"/>"
            )
        };
        s.push_str(&format!(
            "<g class=\"{k}\"><title>{t}</title>{shape}<text x=\"{x:.1}\" y=\"{ty:.1}\" font-size=\"11\" text-anchor=\"middle\">{l}</text></g>",
            k = if node.kind == "workload" { "workload" } else { "external" },
            t = escape(&detail),
            ty = y + 4.0,
            l = escape(&short(&label, 20)),
        ));
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRAPH: &str = include_str!("../../tests/fixtures/report/graph.json");

    #[test]
    fn the_section_draws_every_node_and_edge_escaped() {
        let g: Graph = serde_json::from_str(GRAPH).unwrap();
        let h = section(&g);
        assert_eq!(h.matches("<g class=\"workload\">").count(), 3, "{h}");
        assert_eq!(h.matches("<g class=\"external\">").count(), 1, "{h}");
        assert_eq!(h.matches("marker-end=").count(), g.edges.len());
        assert!(h.contains("tcp/8080 ×3 · 2.0 MB"), "{h}");
        assert!(h.contains("tcp/9090 ×0 (1 failed)"), "{h}");
        assert!(h.contains("shop/&lt;script&gt;"), "node ids are escaped: {h}");
        assert!(!h.contains("<script"), "{h}");
        assert!(h.contains("<td class=\"n\">2000000</td>"), "{h}");
    }

    #[test]
    fn bad_graph_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.json");
        std::fs::write(&p, "{\"nodes\": 3}").unwrap();
        assert!(load(&p).unwrap_err().starts_with(&format!("{}: not a connection graph", p.display())));
        std::fs::write(&p, r#"{"nodes": [], "edges": [{"from": "a", "to": "b", "protocol": "tcp", "port": 1, "connections": 1, "failures": 0, "first_seen_ns": 0, "last_seen_ns": 0}]}"#).unwrap();
        assert!(load(&p).unwrap_err().contains("edge a -> b names a node"));
        assert!(load(&dir.path().join("none.json")).unwrap_err().contains("cannot read"));
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(12_345), "12.3 kB");
    }
}
