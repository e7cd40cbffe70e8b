//! The L7 policy the inspector enforces: per workload, which protocols each port must carry, which HTTP
//! methods, hosts and paths, TLS server names and DNS names are allowed, and per DLP sensor whether a
//! match only raises an alert or also drops the flow.
//!
//! ```yaml
//! workloads:
//!   - name: shop/web                 # shown in alerts; response rules match it
//!     addresses: [10.77.0.2/32]      # the workload's pod addresses
//!     mode: protect                  # monitor: violations alert only; protect: they also drop the flow
//!     ports: { "8080": [http] }      # protocol must match the port (http = HTTP/1.x, HTTP/2, gRPC)
//!     http:
//!       methods: [GET, POST]
//!       hosts: ["web.example", "*.shop.example"]
//!       paths: ["/api/*", "/healthz"]  # globs on the path without the query string
//!     tls: { sni: ["*.payments.example"] }
//!     dns: { names: ["*.svc.cluster.local"] }
//!     dlp: { card: drop, ssn: alert, secret: drop, sqli: drop, xss: alert }
//! ```
//!
//! A flow belongs to the workload whose addresses hold the flow's server address (ingress), else the one
//! holding its client address (egress). An absent list allows everything of its kind; an empty list
//! allows nothing. DLP sensors not named are off. Host and name globs are case-insensitive; `*` in a
//! host or DNS name also matches dots.

use crate::dlp::SensorId;
use crate::protocol::AppProtocol;
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

/// Monitor or protect, as for the L3/L4 firewall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Monitor,
    Protect,
}

/// What a DLP sensor's match does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DlpAction {
    Alert,
    Drop,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    workloads: Vec<WorkloadSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadSpec {
    name: String,
    #[serde(default)]
    addresses: Vec<IpNet>,
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    ports: BTreeMap<u16, Vec<String>>,
    http: Option<HttpRules>,
    tls: Option<TlsRules>,
    dns: Option<DnsRules>,
    #[serde(default)]
    dlp: BTreeMap<String, DlpAction>,
}

/// One workload's L7 rules as written: a policy file's workload entry without its `name`, `addresses`
/// and `mode`, and a profile's `spec.l7` (whose mode is the workload's). The one type both are read
/// into; [`Workload::compile`] turns it into what the inspector checks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L7Rules {
    /// Port → protocols it must carry (`http` = HTTP/1.x, HTTP/2 and gRPC).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ports: BTreeMap<u16, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpRules>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsRules>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsRules>,
    /// DLP/WAF sensor → action; sensors not named are off.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dlp: BTreeMap<String, DlpAction>,
}

/// Allowed HTTP methods, hosts and paths; an absent list allows everything of its kind.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
}

/// A compiled allow list: `None` allows everything.
#[derive(Debug, Clone, Default)]
pub struct Allow(Option<GlobSet>);

impl Allow {
    fn build(patterns: Option<&[String]>, names: bool) -> Result<Allow, String> {
        let Some(patterns) = patterns else { return Ok(Allow(None)) };
        let mut set = GlobSetBuilder::new();
        for p in patterns {
            let glob = if names {
                GlobBuilder::new(&p.to_ascii_lowercase()).case_insensitive(true).build()
            } else {
                Glob::new(p)
            }
            .map_err(|e| format!("pattern {p:?}: {e}"))?;
            set.add(glob);
        }
        set.build().map(|s| Allow(Some(s))).map_err(|e| e.to_string())
    }

    pub fn allows(&self, value: &str) -> bool {
        self.0.as_ref().is_none_or(|s| s.is_match(value))
    }
}

/// One workload's L7 policy, compiled.
#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub addresses: Vec<IpNet>,
    pub mode: Mode,
    /// Port → protocol names it may carry.
    pub ports: BTreeMap<u16, Vec<String>>,
    pub methods: Option<Vec<String>>,
    pub hosts: Allow,
    pub paths: Allow,
    pub sni: Allow,
    pub dns: Allow,
    pub dlp: BTreeMap<SensorId, DlpAction>,
}

impl Workload {
    pub fn holds(&self, addr: IpAddr) -> bool {
        self.addresses.iter().any(|n| n.contains(&addr))
    }

    /// Whether `protocol` may run on `port` (ports not listed carry anything).
    pub fn port_allows(&self, port: u16, protocol: AppProtocol) -> bool {
        self.ports.get(&port).is_none_or(|names| names.iter().any(|n| protocol.matches_name(n)))
    }

    /// Whether any HTTP rule (methods, hosts, paths) restricts this workload.
    pub fn has_http_rules(&self) -> bool {
        self.methods.is_some() || self.hosts.0.is_some() || self.paths.0.is_some()
    }

    pub fn method_allowed(&self, method: &str) -> bool {
        self.methods.as_ref().is_none_or(|m| m.iter().any(|x| x.eq_ignore_ascii_case(method)))
    }

    /// Compile `rules` for the workload `name` holding `addresses`, in `mode`; errors name the field.
    pub fn compile(
        name: String,
        addresses: Vec<IpNet>,
        mode: Mode,
        rules: &L7Rules,
    ) -> Result<Workload, String> {
        for (port, names) in &rules.ports {
            if let Some(bad) = names.iter().find(|n| !AppProtocol::is_known_name(n)) {
                return Err(format!(
                    "ports.{port}: unknown protocol {bad:?} (known: http, {})",
                    known_protocols()
                ));
            }
        }
        let mut dlp = BTreeMap::new();
        for (sensor, action) in &rules.dlp {
            let Some(id) = SensorId::parse(sensor) else {
                let known: Vec<&str> = SensorId::ALL.iter().map(|s| s.name()).collect();
                return Err(format!("dlp: unknown sensor {sensor:?} (known: {})", known.join(", ")));
            };
            dlp.insert(id, *action);
        }
        let http = rules.http.as_ref();
        Ok(Workload {
            name,
            addresses,
            mode,
            ports: rules.ports.clone(),
            methods: http.and_then(|h| h.methods.clone()),
            hosts: Allow::build(http.and_then(|h| h.hosts.as_deref()), true)
                .map_err(|e| format!("http.hosts: {e}"))?,
            paths: Allow::build(http.and_then(|h| h.paths.as_deref()), false)
                .map_err(|e| format!("http.paths: {e}"))?,
            sni: Allow::build(rules.tls.as_ref().and_then(|t| t.sni.as_deref()), true)
                .map_err(|e| format!("tls.sni: {e}"))?,
            dns: Allow::build(rules.dns.as_ref().and_then(|d| d.names.as_deref()), true)
                .map_err(|e| format!("dns.names: {e}"))?,
            dlp,
        })
    }
}

/// Every workload's policy.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub workloads: Vec<Workload>,
}

impl Policy {
    /// Read a policy file; errors name the file (and the line, for YAML errors).
    pub fn load(path: &Path) -> Result<Policy, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Policy::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Policy, String> {
        Policy::parse_with(text, true)
    }

    /// The runtime agent's L7 policy (`runtime agent --l7-policy`): the same file, but a workload's `name`
    /// is a glob on the agent's workload key (`NAMESPACE/KIND/NAME`, as profiles name workloads) and
    /// `addresses` may be left out: the agent runs one inspector per container, in the container's own
    /// network namespace, where every queued packet is the container's ([`Policy::for_container`]).
    pub fn load_for_agent(path: &Path) -> Result<Policy, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let policy = Policy::parse_with(&text, false).map_err(|e| format!("{}: {e}", path.display()))?;
        for (i, w) in policy.workloads.iter().enumerate() {
            Glob::new(&w.name)
                .map_err(|e| format!("{}: workloads[{i}] ({}): name: {e}", path.display(), w.name))?;
        }
        Ok(policy)
    }

    fn parse_with(text: &str, need_addresses: bool) -> Result<Policy, String> {
        let file: File = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        let mut workloads = Vec::new();
        for (i, w) in file.workloads.into_iter().enumerate() {
            let at = format!("workloads[{i}] ({})", w.name);
            if need_addresses && w.addresses.is_empty() {
                return Err(format!("{at}: addresses: at least one address block is needed"));
            }
            let rules = L7Rules { ports: w.ports, http: w.http, tls: w.tls, dns: w.dns, dlp: w.dlp };
            workloads.push(
                Workload::compile(w.name, w.addresses, w.mode, &rules).map_err(|e| format!("{at}: {e}"))?,
            );
        }
        Ok(Policy { workloads })
    }

    /// The policy of one container's inspector: the first workload whose name (a glob) matches the
    /// container's `workload` key, renamed to that key (alerts and response rules see the workload), and
    /// holding every address (the inspector sees only the container's namespace). `None` when no
    /// workload matches.
    pub fn for_container(&self, workload: &str) -> Option<Policy> {
        let w = self.workloads.iter().find(|w| {
            w.name == workload || Glob::new(&w.name).is_ok_and(|g| g.compile_matcher().is_match(workload))
        })?;
        let everything = ["0.0.0.0/0", "::/0"].iter().filter_map(|n| n.parse().ok()).collect();
        Some(Policy {
            workloads: vec![Workload { addresses: everything, name: workload.to_string(), ..w.clone() }],
        })
    }

    /// The policy of one container's inspector from its profile's L7 rules: workload `workload` (its key),
    /// in `mode`, holding every address.
    pub fn for_profile(workload: &str, mode: Mode, rules: &L7Rules) -> Result<Policy, String> {
        let everything = ["0.0.0.0/0", "::/0"].iter().filter_map(|n| n.parse().ok()).collect();
        Ok(Policy { workloads: vec![Workload::compile(workload.to_string(), everything, mode, rules)?] })
    }

    /// The workload a flow belongs to: the server's, else the client's.
    pub fn workload_of(&self, client: IpAddr, server: IpAddr) -> Option<usize> {
        self.workloads
            .iter()
            .position(|w| w.holds(server))
            .or_else(|| self.workloads.iter().position(|w| w.holds(client)))
    }

    /// The sensors any workload uses.
    pub fn sensors(&self) -> Vec<SensorId> {
        let mut s: Vec<SensorId> = self.workloads.iter().flat_map(|w| w.dlp.keys().copied()).collect();
        s.sort();
        s.dedup();
        s
    }
}

fn known_protocols() -> String {
    AppProtocol::ALL.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../fixtures/inspect/policy.yaml");

    #[test]
    fn example_policy_compiles_and_matches() {
        let p = Policy::parse(EXAMPLE).unwrap();
        let w = &p.workloads[0];
        assert_eq!(w.mode, Mode::Protect);
        assert!(w.method_allowed("get") && !w.method_allowed("DELETE"));
        assert!(w.paths.allows("/api/v1/items") && !w.paths.allows("/admin"));
        assert!(
            w.hosts.allows("WEB.example")
                && w.hosts.allows("a.b.shop.example")
                && !w.hosts.allows("evil.example")
        );
        assert!(w.port_allows(8080, AppProtocol::Http1) && !w.port_allows(8080, AppProtocol::Ssh));
        assert!(w.port_allows(9999, AppProtocol::Ssh));
        assert_eq!(w.dlp.get(&SensorId::Card), Some(&DlpAction::Drop));
        let a: IpAddr = "10.77.0.2".parse().unwrap();
        let b: IpAddr = "10.77.0.1".parse().unwrap();
        assert_eq!(p.workload_of(b, a), Some(0));
        assert_eq!(p.workload_of(a, b), Some(0));
        assert_eq!(p.workload_of(b, b), None);
    }

    #[test]
    fn errors_name_the_place() {
        let e = Policy::parse(
            "workloads:\n  - name: x\n    addresses: [10.0.0.1/32]\n    dlp: { cards: drop }\n",
        )
        .unwrap_err();
        assert!(e.contains("workloads[0] (x)") && e.contains("unknown sensor \"cards\""), "{e}");
        let e = Policy::parse(
            "workloads:\n  - name: x\n    addresses: [10.0.0.1/32]\n    ports: { \"80\": [gopher] }\n",
        )
        .unwrap_err();
        assert!(e.contains("ports.80"), "{e}");
        let e = Policy::parse("workloads:\n  - name: x\n    adresses: []\n").unwrap_err();
        assert!(e.contains("line 3") || e.contains("3:"), "{e}");
        let e = Policy::parse("workloads:\n  - name: x\n    addresses: [not-an-ip]\n").unwrap_err();
        assert!(!e.is_empty());
        let e = Policy::parse("workloads:\n  - name: x\n    mode: protect\n").unwrap_err();
        assert!(e.contains("workloads[0] (x): addresses"), "{e}");
    }

    #[test]
    fn agent_policies_name_workloads_and_need_no_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l7.yaml");
        std::fs::write(
            &path,
            "workloads:\n  - name: shop/Deployment/web\n    mode: protect\n    dlp: { card: drop }\n\
             \x20 - name: \"*/Image/registry.example/*\"\n    http: { paths: [\"/api/*\"] }\n",
        )
        .unwrap();
        let p = Policy::load_for_agent(&path).unwrap();
        let web = p.for_container("shop/Deployment/web").unwrap();
        assert_eq!(web.workloads.len(), 1);
        assert_eq!(web.workloads[0].mode, Mode::Protect);
        let any: IpAddr = "192.0.2.7".parse().unwrap();
        let any6: IpAddr = "2001:db8::7".parse().unwrap();
        assert_eq!(web.workload_of(any, any6), Some(0), "a container's inspector owns every address");
        let img = p.for_container("ci/Image/registry.example/team/app").unwrap();
        assert!(img.workloads[0].paths.allows("/api/x") && !img.workloads[0].paths.allows("/admin"));
        assert!(p.for_container("shop/Deployment/db").is_none());
        std::fs::write(&path, "workloads:\n  - name: \"[\"\n").unwrap();
        let e = Policy::load_for_agent(&path).unwrap_err();
        assert!(e.contains("l7.yaml") && e.contains("workloads[0]"), "{e}");
    }
}
