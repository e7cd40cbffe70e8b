//! NeuVector `NvSecurityRule` (`neuvector.com/v1`) from a profile, following the CRD's schema: `target`
//! (the group `nv.<name>.<namespace>` selected by `service` and `domain` criteria, and the policy mode),
//! `process` rules (`name`, `path`, `action: allow`), `file` rules (`filter`, `recursive`, `behavior:
//! monitor_change`, `app`), and `egress`/`ingress` rules whose selectors are address groups (`address`
//! criteria: a CIDR, a DNS name or a wildcard name) with ports written `tcp/443`, `udp/53` or `any`.
//!
//! Profile globs become NeuVector filters (`/dir/*` with `recursive: true` for `**`); argument patterns,
//! parents and hashes have no NeuVector equivalent and are listed in the header comment.
//!
//! The profile's L7 rules: a port's protocols (`spec.l7.ports`) become the `applications` of the network
//! rules on that port (NeuVector's application names: `HTTP`, `SSL`, `DNS`, `gRPC`, …); the DLP sensors
//! NeuVector has built in (`card` → `sensor.creditcard`, `ssn` → `sensor.ssn`) go to `spec.dlp` with
//! `deny` for `drop` and `allow` (log only) for `alert`. HTTP methods, hosts and paths, TLS server names,
//! DNS names and the other sensors have no NvSecurityRule field: they are listed in the header comment.

use crate::profile::model::*;
use crate::verdict::Mode;
use palisade_network::rules::{Peer, Protocol};
use serde_json::{Value, json};

fn group(w: &Workload) -> (String, Vec<Value>) {
    let ns = w.namespace.clone().unwrap_or_else(|| "default".into());
    let svc = w.name.rsplit('/').next().unwrap_or(&w.name).to_string();
    let name = format!("nv.{svc}.{ns}");
    let criteria = vec![
        json!({"key": "service", "op": "=", "value": format!("{svc}.{ns}")}),
        json!({"key": "domain", "op": "=", "value": ns}),
    ];
    (name, criteria)
}

fn ports(e: &NetEntry) -> String {
    let proto = match e.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Any => "any",
    };
    if e.ports.is_empty() {
        return if proto == "any" { "any".into() } else { proto.into() };
    }
    e.ports
        .iter()
        .map(|p| {
            let r = p.0.to_string();
            if proto == "any" { format!("tcp/{r},udp/{r}") } else { format!("{proto}/{r}") }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// NeuVector's application name for a protocol name of `spec.l7.ports`.
fn application(protocol: &str) -> Option<&'static str> {
    Some(match protocol.to_ascii_lowercase().as_str() {
        "http" | "http1" | "http2" => "HTTP",
        "grpc" => "gRPC",
        "tls" => "SSL",
        "dns" => "DNS",
        "redis" => "Redis",
        "mysql" => "MySQL",
        "postgres" => "PostgreSQL",
        "kafka" => "Kafka",
        "ssh" => "SSH",
        _ => return None,
    })
}

/// The applications of a network rule: those `spec.l7.ports` names for each of its ports, or `any` when
/// the L7 rules name none of them (or a port range).
fn applications(e: &NetEntry, l7: Option<&L7Rules>) -> Vec<String> {
    let mut apps = std::collections::BTreeSet::new();
    if let Some(l7) = l7 {
        for p in &e.ports {
            if p.0.first != p.0.last {
                return vec!["any".into()];
            }
            match l7.ports.get(&p.0.first) {
                Some(names) => apps.extend(names.iter().filter_map(|n| application(n)).map(String::from)),
                None => return vec!["any".into()],
            }
        }
    }
    if apps.is_empty() { vec!["any".into()] } else { apps.into_iter().collect() }
}

/// `spec.dlp` of the rule (NeuVector's built-in sensors) and notes on what does not convert.
fn l7_dlp(l7: &L7Rules, notes: &mut Vec<String>) -> Option<Value> {
    use palisade_network::inspect::policy::DlpAction;
    let mut settings = Vec::new();
    for (sensor, action) in &l7.dlp {
        let name = match sensor.as_str() {
            "card" => "sensor.creditcard",
            "ssn" => "sensor.ssn",
            other => {
                notes.push(format!(
                    "l7.dlp.{other}: NeuVector has no built-in sensor for it (define a custom DLP/WAF sensor); left out"
                ));
                continue;
            }
        };
        let action = if *action == DlpAction::Drop { "deny" } else { "allow" };
        settings.push(json!({"name": name, "action": action}));
    }
    let h = l7.http.as_ref();
    for (what, set) in [
        ("l7.http.methods", h.is_some_and(|h| h.methods.is_some())),
        ("l7.http.hosts", h.is_some_and(|h| h.hosts.is_some())),
        ("l7.http.paths", h.is_some_and(|h| h.paths.is_some())),
        ("l7.tls.sni", l7.tls.as_ref().is_some_and(|t| t.sni.is_some())),
        ("l7.dns.names", l7.dns.as_ref().is_some_and(|d| d.names.is_some())),
    ] {
        if set {
            notes.push(format!("{what}: not expressible in an NvSecurityRule; left out"));
        }
    }
    (!settings.is_empty()).then(|| json!({"settings": settings, "status": true}))
}

fn peer_selector(peer: &Peer) -> Option<(String, Vec<Value>)> {
    let addr = |v: String| vec![json!({"key": "address", "op": "=", "value": v})];
    match peer {
        Peer::Any => None,
        Peer::Cidr(net) => Some((format!("nv.ip.{net}"), addr(net.to_string()))),
        Peer::Dns(name) => Some((format!("nv.dns.{name}"), addr(name.clone()))),
        Peer::Workload { namespace, name } => Some((
            format!("nv.{name}.{namespace}"),
            vec![
                json!({"key": "service", "op": "=", "value": format!("{name}.{namespace}")}),
                json!({"key": "domain", "op": "=", "value": namespace}),
            ],
        )),
    }
}

/// The `NvSecurityRule` of a profile, in `mode` (NeuVector's Discover, Monitor or Protect).
pub fn convert(p: &PalisadeProfile, mode: Mode) -> Result<String, String> {
    let (target, criteria) = group(&p.spec.workload);
    let mut notes =
        vec![format!("NeuVector NvSecurityRule converted by Palisade from profile {}.", p.metadata.name)];
    let process: Vec<Value> = p
        .spec
        .processes
        .iter()
        .map(|r| {
            let name = r.name.clone().unwrap_or_else(|| crate::profile::facts::comm_of(&r.path).to_string());
            if !r.args.is_empty() || !r.parents.is_empty() || r.sha256.is_some() {
                notes.push(format!(
                    "{}: argument patterns, parents and hashes are not expressible and were left out",
                    r.path
                ));
            }
            json!({"action": "allow", "name": name, "path": r.path})
        })
        .collect();
    let file: Vec<Value> = p
        .spec
        .files
        .iter()
        .filter(|f| f.class != FileClass::System && f.class != FileClass::Temp)
        .map(|f| {
            let recursive = f.path.ends_with("/**");
            let filter =
                if recursive { format!("{}/*", f.path.trim_end_matches("/**")) } else { f.path.clone() };
            let apps: Vec<String> = p
                .spec
                .processes
                .iter()
                .map(|r| {
                    r.name.clone().unwrap_or_else(|| crate::profile::facts::comm_of(&r.path).to_string())
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            json!({"filter": filter, "recursive": recursive, "behavior": "monitor_change", "app": apps})
        })
        .collect();
    if p.spec.files.iter().any(|f| f.class == FileClass::System || f.class == FileClass::Temp) {
        notes.push("files under /proc, /sys, /dev and temporary directories are not NeuVector file rules and were left out".into());
    }
    let net = |entries: &[NetEntry], dir: &str| -> Vec<Value> {
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let (name, criteria) =
                    peer_selector(&e.peer).unwrap_or_else(|| ("nv.external".to_string(), Vec::new()));
                json!({
                    "action": "allow",
                    "applications": applications(e, p.spec.l7.as_ref()),
                    "name": format!("{target}-{dir}-{i}"),
                    "ports": ports(e),
                    "priority": 0,
                    "selector": {"name": name, "criteria": criteria, "original_name": ""},
                })
            })
            .collect()
    };
    let mode = match mode {
        Mode::Discover => "Discover",
        Mode::Monitor => "Monitor",
        Mode::Protect => "Protect",
    };
    let dlp = p.spec.l7.as_ref().and_then(|l7| l7_dlp(l7, &mut notes));
    let mut doc = json!({
        "apiVersion": "neuvector.com/v1",
        "kind": "NvSecurityRule",
        "metadata": {"name": target, "namespace": p.spec.workload.namespace.clone().unwrap_or_else(|| "default".into())},
        "spec": {
            "target": {"policymode": mode, "selector": {"name": target, "criteria": criteria, "original_name": ""}},
            "process": process,
            "file": file,
            "egress": net(&p.spec.network.egress, "egress"),
            "ingress": net(&p.spec.network.ingress, "ingress"),
        },
    });
    if let Some(dlp) = dlp {
        doc["spec"]["dlp"] = dlp;
    }
    notes.dedup();
    super::document(&notes, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_network::rules::PortRange;

    #[test]
    fn process_file_and_network_rules() {
        let mut p = PalisadeProfile::new(Workload {
            kind: WorkloadKind::Deployment,
            name: "web".into(),
            namespace: Some("shop".into()),
            ..Workload::default()
        });
        p.spec.processes = vec![ProcessRule {
            path: "/bin/busybox".into(),
            name: Some("nc".into()),
            ..ProcessRule::default()
        }];
        p.spec.files = vec![
            FileRule {
                path: "/etc/app/**".into(),
                access: FileAccess::Read,
                class: FileClass::Config,
                seen: Seen::default(),
            },
            FileRule {
                path: "/proc/*/status".into(),
                access: FileAccess::Read,
                class: FileClass::System,
                seen: Seen::default(),
            },
        ];
        p.spec.network.egress = vec![NetEntry {
            peer: Peer::Cidr("10.0.0.7/32".parse().unwrap()),
            protocol: Protocol::Tcp,
            ports: vec![PortSpec(PortRange::single(5432))],
            seen: Seen::default(),
        }];
        let text = convert(&p, Mode::Protect).unwrap();
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
        let d = &docs[0];
        assert_eq!(d["kind"], "NvSecurityRule");
        assert_eq!(d["spec"]["target"]["policymode"], "Protect");
        assert_eq!(d["spec"]["target"]["selector"]["name"], "nv.web.shop");
        assert_eq!(d["spec"]["process"][0], json!({"action": "allow", "name": "nc", "path": "/bin/busybox"}));
        assert_eq!(d["spec"]["file"].as_array().unwrap().len(), 1);
        assert_eq!(d["spec"]["file"][0]["filter"], "/etc/app/*");
        assert_eq!(d["spec"]["file"][0]["recursive"], true);
        assert_eq!(d["spec"]["egress"][0]["ports"], "tcp/5432");
        assert_eq!(d["spec"]["egress"][0]["selector"]["criteria"][0]["value"], "10.0.0.7/32");
        assert!(text.starts_with("# NeuVector NvSecurityRule"), "{text}");
        assert_eq!(d["spec"]["egress"][0]["applications"], json!(["any"]));
        assert!(d["spec"].get("dlp").is_none());
    }

    #[test]
    fn l7_rules_become_applications_and_dlp_sensors() {
        let mut p = PalisadeProfile::new(Workload { name: "web".into(), ..Workload::default() });
        let entry = |port: u16| NetEntry {
            peer: Peer::Any,
            protocol: Protocol::Tcp,
            ports: vec![PortSpec(PortRange::single(port))],
            seen: Seen::default(),
        };
        p.spec.network.ingress = vec![entry(8080), entry(9000)];
        p.spec.l7 = Some(
            serde_saphyr::from_str(
                "ports: {\"8080\": [http, tls]}\nhttp: {paths: [\"/api/*\"]}\ndlp: {card: drop, ssn: alert, sqli: drop}\n",
            )
            .unwrap(),
        );
        let text = convert(&p, Mode::Protect).unwrap();
        let d: Value = serde_saphyr::from_multiple::<Value>(&text).unwrap().remove(0);
        assert_eq!(d["spec"]["ingress"][0]["applications"], json!(["HTTP", "SSL"]));
        assert_eq!(d["spec"]["ingress"][1]["applications"], json!(["any"]));
        assert_eq!(
            d["spec"]["dlp"],
            json!({"settings": [{"name": "sensor.creditcard", "action": "deny"}, {"name": "sensor.ssn", "action": "allow"}], "status": true})
        );
        assert!(text.contains("l7.dlp.sqli") && text.contains("l7.http.paths"), "{text}");
    }
}
