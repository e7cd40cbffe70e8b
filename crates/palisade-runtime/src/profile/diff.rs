//! What changed between two sets of profiles, for pull-request review: per workload, items added,
//! removed or changed in each section. Anything added or changed widens what a workload may do and is
//! what a reviewer must look at; [`Diff::widens`] says whether there is any.

use crate::profile::model::*;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Added,
    Removed,
    Changed,
}

/// One changed item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// `processes`, `files`, `network.egress`, `network.ingress`, `capabilities`, `syscalls`, `l7`.
    pub section: &'static str,
    pub op: Op,
    /// The item's identity (a path, a peer and protocol, a name).
    pub item: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// The changes of one workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkloadDiff {
    pub workload: String,
    /// `added` (a new profile), `removed`, or `changed`.
    pub status: Op,
    pub changes: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Diff {
    pub workloads: Vec<WorkloadDiff>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.workloads.is_empty()
    }

    /// Whether any workload may do more than before. In `l7` a removed item widens too: an absent L7
    /// list allows everything of its kind, a removed DLP sensor is off, and no `l7` at all is no
    /// inspection.
    pub fn widens(&self) -> bool {
        self.workloads.iter().any(|w| {
            w.status == Op::Added || w.changes.iter().any(|c| c.op != Op::Removed || c.section == "l7")
        })
    }

    /// The human form: one block per workload, `+` added, `-` removed, `~` changed.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for w in &self.workloads {
            let status = match w.status {
                Op::Added => " (new profile)",
                Op::Removed => " (profile removed)",
                Op::Changed => "",
            };
            out.push_str(&format!("{}{status}\n", w.workload));
            for c in &w.changes {
                let sign = match c.op {
                    Op::Added => '+',
                    Op::Removed => '-',
                    Op::Changed => '~',
                };
                match (&c.from, &c.to) {
                    (Some(f), Some(t)) => {
                        out.push_str(&format!("  {sign} {}: {}: {f} -> {t}\n", c.section, c.item))
                    }
                    (_, Some(d)) | (Some(d), _) => {
                        out.push_str(&format!("  {sign} {}: {} ({d})\n", c.section, c.item))
                    }
                    _ => out.push_str(&format!("  {sign} {}: {}\n", c.section, c.item)),
                }
            }
        }
        out
    }
}

fn process_id(p: &ProcessRule) -> String {
    match &p.name {
        Some(n) => format!("{} as {n}", p.path),
        None => p.path.clone(),
    }
}

fn process_detail(p: &ProcessRule) -> String {
    let mut parts = Vec::new();
    if !p.args.is_empty() {
        parts.push(format!("args {:?}", p.args));
    }
    if !p.parents.is_empty() {
        parts.push(format!("parents {:?}", p.parents));
    }
    if let Some(h) = &p.sha256 {
        parts.push(format!("sha256 {h}"));
    }
    if parts.is_empty() { "any arguments, any parent".into() } else { parts.join(", ") }
}

fn net_id(e: &NetEntry) -> String {
    let peer = serde_json::to_string(&e.peer).unwrap_or_default().replace('"', "");
    format!("{peer} {}", serde_json::to_string(&e.protocol).unwrap_or_default().replace('"', ""))
}

fn net_detail(e: &NetEntry) -> String {
    if e.ports.is_empty() {
        "any port".into()
    } else {
        let ports: Vec<String> = e.ports.iter().map(|p| p.0.to_string()).collect();
        format!("ports {}", ports.join(", "))
    }
}

fn section<T>(
    out: &mut Vec<Change>,
    name: &'static str,
    old: &[T],
    new: &[T],
    id: impl Fn(&T) -> String,
    detail: impl Fn(&T) -> String,
) {
    let old: BTreeMap<String, String> = old.iter().map(|x| (id(x), detail(x))).collect();
    let new: BTreeMap<String, String> = new.iter().map(|x| (id(x), detail(x))).collect();
    for (k, d) in &old {
        match new.get(k) {
            None => out.push(Change {
                section: name,
                op: Op::Removed,
                item: k.clone(),
                from: Some(d.clone()),
                to: None,
            }),
            Some(n) if n != d => out.push(Change {
                section: name,
                op: Op::Changed,
                item: k.clone(),
                from: Some(d.clone()),
                to: Some(n.clone()),
            }),
            Some(_) => {}
        }
    }
    for (k, d) in &new {
        if !old.contains_key(k) {
            out.push(Change {
                section: name,
                op: Op::Added,
                item: k.clone(),
                from: None,
                to: Some(d.clone()),
            });
        }
    }
}

fn changes(old: &ProfileSpec, new: &ProfileSpec) -> Vec<Change> {
    let mut out = Vec::new();
    section(&mut out, "processes", &old.processes, &new.processes, process_id, process_detail);
    let file_detail = |f: &FileRule| {
        format!(
            "{}, {}",
            serde_json::to_string(&f.access).unwrap_or_default().replace('"', ""),
            serde_json::to_string(&f.class).unwrap_or_default().replace('"', "")
        )
    };
    section(&mut out, "files", &old.files, &new.files, |f| f.path.clone(), file_detail);
    section(&mut out, "network.egress", &old.network.egress, &new.network.egress, net_id, net_detail);
    section(&mut out, "network.ingress", &old.network.ingress, &new.network.ingress, net_id, net_detail);
    section(&mut out, "capabilities", &old.capabilities, &new.capabilities, String::clone, |_| String::new());
    section(&mut out, "syscalls", &old.syscalls, &new.syscalls, String::clone, |_| String::new());
    let (old_l7, new_l7) = (l7_items(old.l7.as_ref()), l7_items(new.l7.as_ref()));
    section(&mut out, "l7", &old_l7, &new_l7, |(k, _)| k.clone(), |(_, v)| v.clone());
    for c in &mut out {
        if c.from.as_deref() == Some("") {
            c.from = None;
        }
        if c.to.as_deref() == Some("") {
            c.to = None;
        }
    }
    out
}

/// The L7 rules as (item, value) pairs: `ports.8080`, `http.methods`, `http.hosts`, `http.paths`,
/// `tls.sni`, `dns.names`, `dlp.card`, … (only those written).
fn l7_items(l7: Option<&L7Rules>) -> Vec<(String, String)> {
    let Some(l7) = l7 else { return Vec::new() };
    let list = |v: &[String]| format!("[{}]", v.join(", "));
    let mut out: Vec<(String, String)> =
        l7.ports.iter().map(|(port, protos)| (format!("ports.{port}"), list(protos))).collect();
    if let Some(h) = &l7.http {
        for (k, v) in [("http.methods", &h.methods), ("http.hosts", &h.hosts), ("http.paths", &h.paths)] {
            if let Some(v) = v {
                out.push((k.into(), list(v)));
            }
        }
    }
    if let Some(v) = l7.tls.as_ref().and_then(|t| t.sni.as_ref()) {
        out.push(("tls.sni".into(), list(v)));
    }
    if let Some(v) = l7.dns.as_ref().and_then(|d| d.names.as_ref()) {
        out.push(("dns.names".into(), list(v)));
    }
    for (sensor, action) in &l7.dlp {
        let action = serde_json::to_string(action).unwrap_or_default().replace('"', "");
        out.push((format!("dlp.{sensor}"), action));
    }
    out
}

/// Compare two sets of profiles by workload.
pub fn diff(old: &[PalisadeProfile], new: &[PalisadeProfile]) -> Diff {
    let old: BTreeMap<String, &PalisadeProfile> = old.iter().map(|p| (p.spec.workload.key(), p)).collect();
    let new: BTreeMap<String, &PalisadeProfile> = new.iter().map(|p| (p.spec.workload.key(), p)).collect();
    let empty = ProfileSpec::default();
    let mut workloads = Vec::new();
    let keys: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for k in keys {
        let (status, changes) = match (old.get(k), new.get(k)) {
            (Some(o), Some(n)) => (Op::Changed, changes(&o.spec, &n.spec)),
            (None, Some(n)) => (Op::Added, changes(&empty, &n.spec)),
            (Some(o), None) => (Op::Removed, changes(&o.spec, &empty)),
            (None, None) => continue,
        };
        if status == Op::Changed && changes.is_empty() {
            continue;
        }
        workloads.push(WorkloadDiff { workload: k.clone(), status, changes });
    }
    Diff { workloads }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_network::rules::{Peer, PortRange, Protocol};

    fn base() -> PalisadeProfile {
        let mut p = PalisadeProfile::new(Workload {
            kind: WorkloadKind::Image,
            name: "web".into(),
            namespace: None,
            ..Workload::default()
        });
        p.spec.processes = vec![ProcessRule {
            path: "/bin/cat".into(),
            args: vec!["/etc/a".into()],
            ..ProcessRule::default()
        }];
        p.spec.files = vec![FileRule {
            path: "/etc/a".into(),
            access: FileAccess::Read,
            class: FileClass::Config,
            seen: Seen::default(),
        }];
        p.spec.network.egress = vec![NetEntry {
            peer: Peer::Cidr("10.0.0.1/32".parse().unwrap()),
            protocol: Protocol::Tcp,
            ports: vec![PortSpec(PortRange::single(80))],
            seen: Seen::default(),
        }];
        p
    }

    #[test]
    fn changes_by_section() {
        let old = base();
        assert!(diff(std::slice::from_ref(&old), std::slice::from_ref(&old)).is_empty());
        let mut new = old.clone();
        new.spec.processes.push(ProcessRule {
            path: "/bin/busybox".into(),
            name: Some("nc".into()),
            ..ProcessRule::default()
        });
        new.spec.files[0].access = FileAccess::ReadWrite;
        new.spec.network.egress[0].ports.push(PortSpec(PortRange::single(443)));
        new.spec.syscalls = vec!["connect".into()];
        let d = diff(std::slice::from_ref(&old), std::slice::from_ref(&new));
        assert!(d.widens());
        let text = d.text();
        assert_eq!(
            text,
            "Image/web\n  + processes: /bin/busybox as nc (any arguments, any parent)\n  ~ files: /etc/a: read, config -> readwrite, config\n  ~ network.egress: {cidr:10.0.0.1/32} tcp: ports 80 -> ports 80, 443\n  + syscalls: connect\n"
        );
        let narrowed = diff(std::slice::from_ref(&new), std::slice::from_ref(&old));
        assert!(narrowed.text().contains("- processes: /bin/busybox as nc"));
        let gone = diff(std::slice::from_ref(&old), &[]);
        assert_eq!(gone.workloads[0].status, Op::Removed);
        assert!(!gone.widens());
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["workloads"][0]["changes"][0]["op"], "added");
    }

    #[test]
    fn l7_rules_are_compared_item_by_item_and_a_removed_restriction_widens() {
        let yaml = |l7: &str| {
            let text = format!(
                "apiVersion: palisade.io/v1alpha1\nkind: PalisadeProfile\nmetadata: {{name: web}}\nspec:\n  workload: {{kind: Image, name: web}}\n{l7}"
            );
            crate::profile::yaml::parse(&text, "p.yaml").unwrap().remove(0)
        };
        let old = yaml("  l7:\n    http: {paths: [\"/api/*\"]}\n    dlp: {card: drop}\n");
        let new = yaml(
            "  l7:\n    http: {paths: [\"/api/*\", \"/admin\"], methods: [GET]}\n    dlp: {card: alert}\n",
        );
        let d = diff(std::slice::from_ref(&old), std::slice::from_ref(&new));
        assert_eq!(
            d.text(),
            "Image/web\n  ~ l7: dlp.card: drop -> alert\n  ~ l7: http.paths: [/api/*] -> [/api/*, /admin]\n  + l7: http.methods ([GET])\n"
        );
        let loosened = diff(std::slice::from_ref(&new), &[yaml("  l7:\n    dlp: {card: alert}\n")]);
        assert!(loosened.workloads[0].changes.iter().all(|c| c.op == Op::Removed));
        assert!(loosened.widens(), "dropping an allow list allows everything of its kind");
    }
}
