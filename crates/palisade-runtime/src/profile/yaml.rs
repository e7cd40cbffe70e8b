//! Profiles as reviewable YAML: export with a stable order and comments saying what was learned when,
//! and parsing back (from text, or from a document a policy bundle already parsed).
//!
//! The writer is Palisade's own because YAML serialisers do not write comments: keys in a fixed order,
//! lists in the learner's sorted order, every string double-quoted with JSON escapes (valid YAML, no
//! `yes`/`no`/octal surprises), and one `# seen …` comment above each learned item. Reading is
//! `serde-saphyr` (unknown fields are errors, with line numbers) followed by [`PalisadeProfile::validate`].

use crate::profile::model::*;
use crate::rules::fields::iso_time;
use palisade_network::rules::{Peer, Protocol};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn seconds(ns: u64) -> String {
    iso_time(ns).chars().take(19).collect::<String>() + "Z"
}

fn seen_comment(out: &mut String, indent: &str, seen: &Seen) {
    if seen.count == 0 {
        return;
    }
    let times = if seen.count == 1 { "once".to_string() } else { format!("{} times", seen.count) };
    if seen.first_ns / 1_000_000_000 == seen.last_ns / 1_000_000_000 {
        let _ = writeln!(out, "{indent}# seen {times}, {}", seconds(seen.first_ns));
    } else {
        let _ =
            writeln!(out, "{indent}# seen {times}, {} to {}", seconds(seen.first_ns), seconds(seen.last_ns));
    }
}

fn list(out: &mut String, indent: &str, key: &str, items: &[String]) {
    if items.is_empty() {
        let _ = writeln!(out, "{indent}{key}: []");
        return;
    }
    let _ = writeln!(out, "{indent}{key}:");
    for i in items {
        let _ = writeln!(out, "{indent}  - {}", q(i));
    }
}

fn peer(p: &Peer) -> String {
    match p {
        Peer::Any => "any".into(),
        Peer::Cidr(net) => format!("{{cidr: {}}}", q(&net.to_string())),
        Peer::Dns(name) => format!("{{dns: {}}}", q(name)),
        Peer::Workload { namespace, name } => {
            format!("{{workload: {{namespace: {}, name: {}}}}}", q(namespace), q(name))
        }
    }
}

fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Any => "any",
    }
}

fn net(out: &mut String, key: &str, entries: &[NetEntry]) {
    if entries.is_empty() {
        let _ = writeln!(out, "    {key}: []");
        return;
    }
    let _ = writeln!(out, "    {key}:");
    for e in entries {
        seen_comment(out, "      ", &e.seen);
        let _ = writeln!(out, "      - peer: {}", peer(&e.peer));
        let _ = writeln!(out, "        protocol: {}", protocol(e.protocol));
        if !e.ports.is_empty() {
            let ports: Vec<String> = e.ports.iter().map(|p| q(&p.0.to_string())).collect();
            let _ = writeln!(out, "        ports: [{}]", ports.join(", "));
        }
    }
}

fn lower<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// The profile as YAML.
pub fn to_yaml(p: &PalisadeProfile) -> String {
    let mut out = String::new();
    let ann = &p.metadata.annotations;
    match (ann.get(ANN_EVENTS), ann.get(ANN_FIRST_SEEN), ann.get(ANN_LAST_SEEN)) {
        (Some(n), Some(first), Some(last)) => {
            let _ = writeln!(
                out,
                "# Learned by Palisade from {n} events of {}, {first} to {last}.",
                p.spec.workload.key()
            );
        }
        _ => {
            let _ = writeln!(out, "# Palisade profile of {}.", p.spec.workload.key());
        }
    }
    out.push_str(
        "# Everything listed is allowed; anything else is an alert in monitor mode and refused in protect mode.\n",
    );
    let _ = writeln!(out, "apiVersion: {API_VERSION}");
    let _ = writeln!(out, "kind: {KIND}");
    out.push_str("metadata:\n");
    let _ = writeln!(out, "  name: {}", q(&p.metadata.name));
    if let Some(ns) = &p.metadata.namespace {
        let _ = writeln!(out, "  namespace: {}", q(ns));
    }
    if !ann.is_empty() {
        out.push_str("  annotations:\n");
        for (k, v) in ann {
            let _ = writeln!(out, "    {}: {}", q(k), q(v));
        }
    }
    out.push_str("spec:\n  workload:\n");
    let w = &p.spec.workload;
    let _ = writeln!(out, "    kind: {}", w.kind.as_str());
    let _ = writeln!(out, "    name: {}", q(&w.name));
    if let Some(ns) = &w.namespace {
        let _ = writeln!(out, "    namespace: {}", q(ns));
    }
    if !w.selector.is_empty() {
        out.push_str("    selector:\n");
        for (k, v) in &w.selector {
            let _ = writeln!(out, "      {}: {}", q(k), q(v));
        }
    }
    if p.spec.processes.is_empty() {
        out.push_str("  processes: []\n");
    } else {
        out.push_str("  processes:\n");
        for r in &p.spec.processes {
            seen_comment(&mut out, "    ", &r.seen);
            let _ = writeln!(out, "    - path: {}", q(&r.path));
            if let Some(n) = &r.name {
                let _ = writeln!(out, "      name: {}", q(n));
            }
            if let Some(h) = &r.sha256 {
                let _ = writeln!(out, "      sha256: {}", q(h));
            }
            if !r.args.is_empty() {
                list(&mut out, "      ", "args", &r.args);
            }
            if !r.parents.is_empty() {
                list(&mut out, "      ", "parents", &r.parents);
            }
        }
    }
    if p.spec.files.is_empty() {
        out.push_str("  files: []\n");
    } else {
        out.push_str("  files:\n");
        let mut class = None;
        for f in &p.spec.files {
            if class != Some(f.class) {
                let _ = writeln!(out, "    # {}", lower(&f.class));
                class = Some(f.class);
            }
            seen_comment(&mut out, "    ", &f.seen);
            let _ = writeln!(out, "    - path: {}", q(&f.path));
            let _ = writeln!(out, "      access: {}", lower(&f.access));
            let _ = writeln!(out, "      class: {}", lower(&f.class));
        }
    }
    out.push_str("  network:\n");
    net(&mut out, "egress", &p.spec.network.egress);
    net(&mut out, "ingress", &p.spec.network.ingress);
    list(&mut out, "  ", "capabilities", &p.spec.capabilities);
    list(&mut out, "  ", "syscalls", &p.spec.syscalls);
    if let Some(l7) = &p.spec.l7 {
        l7_section(&mut out, l7);
    }
    out
}

/// `spec.l7`, one line per rule kind, each value in JSON's flow form (valid YAML).
fn l7_section(out: &mut String, l7: &L7Rules) {
    out.push_str("  l7:\n");
    if !l7.ports.is_empty() {
        let _ = writeln!(out, "    ports: {}", json(&l7.ports));
    }
    if let Some(h) = &l7.http {
        out.push_str("    http:\n");
        for (key, v) in [("methods", &h.methods), ("hosts", &h.hosts), ("paths", &h.paths)] {
            if let Some(v) = v {
                let _ = writeln!(out, "      {key}: {}", json(v));
            }
        }
    }
    if let Some(t) = &l7.tls {
        let _ = writeln!(out, "    tls: {}", json(t));
    }
    if let Some(d) = &l7.dns {
        let _ = writeln!(out, "    dns: {}", json(d));
    }
    if !l7.dlp.is_empty() {
        let _ = writeln!(out, "    dlp: {}", json(&l7.dlp));
    }
}

/// A value in JSON's one-line form.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// Parse every profile of a YAML text; `name` (the file) heads every message.
pub fn parse(text: &str, name: &str) -> Result<Vec<PalisadeProfile>, String> {
    let profiles: Vec<PalisadeProfile> = serde_saphyr::from_multiple(text).map_err(|e| {
        let line = e.location().map(|l| format!(":{}", l.line())).unwrap_or_default();
        let first = e.to_string().lines().next().unwrap_or("").to_string();
        format!("{name}{line}: {first}")
    })?;
    for (i, p) in profiles.iter().enumerate() {
        p.validate().map_err(|e| {
            if profiles.len() > 1 {
                format!("{name}: document {}: {e}", i + 1)
            } else {
                format!("{name}: {e}")
            }
        })?;
    }
    Ok(profiles)
}

/// A profile from a document already parsed (a policy bundle's), with its location for messages.
pub fn from_value(value: &serde_json::Value, at: &str) -> Result<PalisadeProfile, String> {
    let p: PalisadeProfile = serde_json::from_value(value.clone()).map_err(|e| format!("{at}: {e}"))?;
    p.validate().map_err(|e| format!("{at}: {e}"))?;
    Ok(p)
}

/// Whether a YAML text holds a profile (files of other kinds in a profile directory are skipped).
pub fn is_profile(text: &str) -> bool {
    text.lines().any(|l| l.trim_end() == format!("kind: {KIND}"))
}

/// The profiles of a file, or of every `*.yaml`/`*.yml` file of a directory (name order, not recursive)
/// that holds one. A bad file is an error naming it; the others still load.
pub fn load(path: &Path) -> (Vec<(PathBuf, PalisadeProfile)>, Vec<String>) {
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    let files: Vec<PathBuf> = if path.is_dir() {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut v: Vec<PathBuf> = entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                    .collect();
                v.sort();
                v
            }
            Err(e) => {
                errors.push(format!("{}: {e}", path.display()));
                return (out, errors);
            }
        }
    } else {
        vec![path.to_path_buf()]
    };
    let single = !path.is_dir();
    for f in files {
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{}: {e}", f.display()));
                continue;
            }
        };
        if !single && !is_profile(&text) {
            continue;
        }
        match parse(&text, &f.display().to_string()) {
            Ok(ps) => out.extend(ps.into_iter().map(|p| (f.clone(), p))),
            Err(e) => errors.push(e),
        }
    }
    (out, errors)
}

/// Write each profile to `dir/<metadata.name>.yaml`; the paths written.
pub fn write_dir(dir: &Path, profiles: &[PalisadeProfile]) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for p in profiles {
        let path = dir.join(format!("{}.yaml", p.metadata.name));
        let tmp = dir.join(format!(".{}.yaml.tmp", p.metadata.name));
        std::fs::write(&tmp, to_yaml(p))?;
        std::fs::rename(&tmp, &path)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_network::rules::PortRange;

    pub(crate) fn sample() -> PalisadeProfile {
        let mut p = PalisadeProfile::new(Workload {
            kind: WorkloadKind::Deployment,
            name: "web".into(),
            namespace: Some("shop".into()),
            ..Workload::default()
        });
        p.spec.workload.selector.insert("app.kubernetes.io/name".into(), "web".into());
        p.metadata.annotations.insert(ANN_EVENTS.into(), "12".into());
        p.metadata.annotations.insert(ANN_FIRST_SEEN.into(), "2026-12-06T15:00:00Z".into());
        p.metadata.annotations.insert(ANN_LAST_SEEN.into(), "2026-12-06T15:10:00Z".into());
        p.spec.processes.push(ProcessRule {
            path: "/bin/busybox".into(),
            name: Some("nc".into()),
            sha256: None,
            args: vec!["-w * 127.0.0.1 *".into(), "".into()],
            parents: vec!["/bin/busybox".into()],
            seen: Seen { first_ns: 1_796_549_478_000_000_000, last_ns: 1_796_549_479_000_000_000, count: 3 },
        });
        p.spec.files.push(FileRule {
            path: "/etc/app/\"quoted\" yes.conf".into(),
            access: FileAccess::ReadWrite,
            class: FileClass::Config,
            seen: Seen::at(1),
        });
        p.spec.network.egress.push(NetEntry {
            peer: Peer::Cidr("127.0.0.1/32".parse().unwrap()),
            protocol: Protocol::Tcp,
            ports: vec![PortSpec(PortRange::single(4444)), PortSpec(PortRange { first: 8000, last: 8080 })],
            seen: Seen::at(2),
        });
        p.spec.network.egress.push(NetEntry {
            peer: Peer::Dns("api.example.com".into()),
            protocol: Protocol::Any,
            ports: vec![],
            seen: Seen::default(),
        });
        p.spec.network.ingress.push(NetEntry {
            peer: Peer::Workload { namespace: "shop".into(), name: "front".into() },
            protocol: Protocol::Tcp,
            ports: vec![PortSpec(PortRange::single(8080))],
            seen: Seen::default(),
        });
        p.spec.capabilities = vec!["CAP_NET_BIND_SERVICE".into()];
        p.spec.syscalls = vec!["connect".into(), "execve".into()];
        p
    }

    #[test]
    fn export_parses_back_to_the_same_profile() {
        let p = sample();
        let text = to_yaml(&p);
        assert!(text.contains("# seen 3 times, 2026-12-06T09:31:18Z to 2026-12-06T09:31:19Z"), "{text}");
        assert!(text.starts_with("# Learned by Palisade from 12 events of shop/Deployment/web"), "{text}");
        let back = parse(&text, "p.yaml").unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0], p, "{text}");
        assert_eq!(
            to_yaml(&back[0]).lines().filter(|l| !l.trim_start().starts_with("# seen")).count(),
            text.lines().filter(|l| !l.trim_start().starts_with("# seen")).count()
        );
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(from_value(&json, "bundle.yaml:1").unwrap(), p);
        assert!(is_profile(&text));
    }

    #[test]
    fn bad_profiles_name_file_and_field() {
        let e = parse("apiVersion: palisade.io/v1alpha1\nkind: PalisadeProfile\nmetadata: {name: x}\nspec:\n  workload: {kind: Image, name: x}\n  procesess: []\n", "bad.yaml").unwrap_err();
        assert!(e.starts_with("bad.yaml:") && e.contains("procesess"), "{e}");
        let e = parse("apiVersion: palisade.io/v1alpha1\nkind: PalisadeProfile\nmetadata: {name: x}\nspec:\n  workload: {kind: Image, name: x}\n  files: [{path: '/a/[', access: read}]\n", "bad.yaml").unwrap_err();
        assert!(e.contains("spec.files[0].path"), "{e}");
        let e = parse("apiVersion: palisade.io/v1alpha1\nkind: PalisadeProfile\nmetadata: {name: x}\nspec:\n  workload: {kind: Image, name: x}\n  network: {egress: [{peer: any, ports: ['70000']}]}\n", "bad.yaml").unwrap_err();
        assert!(e.contains("70000"), "{e}");
    }
}
