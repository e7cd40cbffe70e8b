//! The profile model: one [`PalisadeProfile`] per workload, what it was seen doing.
//!
//! A profile is an allow list. Every list is a set the learner fills and a reviewer edits: processes
//! (executable path, optionally the command name and a sha256, argument patterns, parent executables),
//! file access (path globs, read or write, classified by directory), network (egress and ingress
//! [`NetRule`]s, DNS names where the sensor saw them), capabilities and syscalls. Empty `processes`,
//! `files`, `capabilities` or `syscalls` lists mean "nothing learned here" and allow nothing of that kind
//! once the profile is enforced, except that an empty `args` or `parents` list of a process allows any.
//!
//! When and how often each item was seen is kept beside the item ([`Seen`]) and written as a YAML comment
//! on export, so the reviewed file says what was learned when without making the data part of the policy.

pub use palisade_network::inspect::policy::L7Rules;
use palisade_network::rules::{Direction, NetRule, Peer, PortRange, Protocol};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const API_VERSION: &str = "palisade.io/v1alpha1";
pub const KIND: &str = "PalisadeProfile";

/// Annotation keys written on learned profiles.
pub const ANN_FIRST_SEEN: &str = "palisade.io/first-seen";
pub const ANN_LAST_SEEN: &str = "palisade.io/last-seen";
pub const ANN_EVENTS: &str = "palisade.io/events";

/// A workload's profile, as exported to and read from YAML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PalisadeProfile {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: ProfileSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// What a workload is allowed to do.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileSpec {
    pub workload: Workload,
    #[serde(default)]
    pub processes: Vec<ProcessRule>,
    #[serde(default)]
    pub files: Vec<FileRule>,
    #[serde(default)]
    pub network: Network,
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub syscalls: Vec<String>,
    /// L7 rules (HTTP methods/hosts/paths, TLS SNI, DNS names, protocol per port, DLP/WAF sensors with
    /// their action), enforced by the agent's inspector in the workload's mode; written by a reviewer,
    /// never learned. Absent: no L7 inspection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l7: Option<L7Rules>,
}

/// Which workload a profile is for: a controller, else an image, else a container name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The pod labels the controller's pods share (per-pod labels such as `pod-template-hash` left out):
    /// what converters select the pods by.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selector: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    /// No controller known: every container of this image repository.
    #[default]
    Image,
    /// Neither controller nor image known: containers of this name.
    Container,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::Image => "Image",
            WorkloadKind::Container => "Container",
        }
    }
}

impl Workload {
    /// The key modes, exceptions and the decider use: `namespace/Kind/name`, or `Kind/name` without a
    /// namespace (`Image/docker.io/library/nginx`).
    pub fn key(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}/{}", self.kind.as_str(), self.name),
            None => format!("{}/{}", self.kind.as_str(), self.name),
        }
    }

    /// A Kubernetes object name for the profile (lowercase letters, digits, `-` and `.`, at most 253).
    pub fn object_name(&self) -> String {
        let raw = format!("{}-{}", self.kind.as_str(), self.name).to_ascii_lowercase();
        let mut out = String::with_capacity(raw.len());
        for c in raw.chars() {
            let c = if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' };
            if !(c == '-' && out.ends_with('-')) {
                out.push(c);
            }
        }
        let out = out.trim_matches(|c| c == '-' || c == '.').to_string();
        out.chars().take(253).collect()
    }
}

/// When an item was seen: not part of the policy (exported as a comment), so two profiles allowing the
/// same things are equal whatever their history.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seen {
    pub first_ns: u64,
    pub last_ns: u64,
    pub count: u64,
}

impl PartialEq for Seen {
    fn eq(&self, _: &Seen) -> bool {
        true
    }
}

impl Eq for Seen {}

impl Seen {
    pub fn at(ns: u64) -> Seen {
        Seen { first_ns: ns, last_ns: ns, count: 1 }
    }

    pub fn add(&mut self, ns: u64) {
        if self.count == 0 || ns < self.first_ns {
            self.first_ns = ns;
        }
        self.last_ns = self.last_ns.max(ns);
        self.count += 1;
    }

    pub fn merge(&mut self, other: Seen) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 || other.first_ns < self.first_ns {
            self.first_ns = other.first_ns;
        }
        self.last_ns = self.last_ns.max(other.last_ns);
        self.count += other.count;
    }
}

/// An allowed program.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessRule {
    /// Executable path (a glob: `*` within a directory, `**` across).
    pub path: String,
    /// Command name (`comm`), when one executable runs as several programs (busybox applets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// sha256 of the executable, hex; written by a reviewer, checked by enforcement where it can hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Argument patterns (arguments after argv[0] joined by one space; `*` matches anything, `""` no
    /// arguments). Empty: any arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Executables allowed to start it. Empty: any parent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
    #[serde(skip)]
    pub seen: Seen,
}

/// What kind of directory a file lives in; reviewers read secrets and binaries first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileClass {
    Binaries,
    Config,
    Secrets,
    System,
    Temp,
    #[default]
    Data,
}

/// Read, write, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAccess {
    #[default]
    Read,
    Write,
    ReadWrite,
}

impl FileAccess {
    pub fn covers(self, write: bool) -> bool {
        match self {
            FileAccess::Read => !write,
            FileAccess::Write => write,
            FileAccess::ReadWrite => true,
        }
    }

    pub fn union(self, other: FileAccess) -> FileAccess {
        if self == other { self } else { FileAccess::ReadWrite }
    }
}

/// Allowed access to files matching a glob.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRule {
    /// Path glob (`*` within a directory, `**` across directories, `?`, `[...]`).
    pub path: String,
    pub access: FileAccess,
    #[serde(default)]
    pub class: FileClass,
    #[serde(skip)]
    pub seen: Seen,
}

/// Allowed flows, by direction.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    #[serde(default)]
    pub egress: Vec<NetEntry>,
    #[serde(default)]
    pub ingress: Vec<NetEntry>,
}

/// One allowed kind of flow of a direction: [`NetRule`] without its direction, ports written `"443"` or
/// `"8000-8080"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetEntry {
    pub peer: PeerSpec,
    #[serde(default)]
    pub protocol: Protocol,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortSpec>,
    #[serde(skip)]
    pub seen: Seen,
}

/// A peer as written in a profile: `any`, `{cidr: 10.0.0.0/8}`, `{dns: api.example.com}`,
/// `{workload: {namespace: shop, name: db}}` (the shape of [`Peer`]).
pub type PeerSpec = Peer;

/// A port or an inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortSpec(pub PortRange);

impl Serialize for PortSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for PortSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(u64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Num(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        parse_ports(&text).map(PortSpec).map_err(serde::de::Error::custom)
    }
}

fn parse_ports(text: &str) -> Result<PortRange, String> {
    let port =
        |p: &str| p.trim().parse::<u16>().map_err(|_| format!("invalid port {p:?} (expected 0-65535)"));
    match text.split_once('-') {
        Some((a, b)) => {
            let (first, last) = (port(a)?, port(b)?);
            if first > last {
                return Err(format!("invalid port range {text:?}: {first} > {last}"));
            }
            Ok(PortRange { first, last })
        }
        None => port(text).map(PortRange::single),
    }
}

impl NetEntry {
    /// The shared rule type, with this entry's direction.
    pub fn rule(&self, direction: Direction) -> NetRule {
        NetRule {
            direction,
            peer: self.peer.clone(),
            protocol: self.protocol,
            ports: self.ports.iter().map(|p| p.0).collect(),
        }
    }
}

impl Network {
    /// Every entry as a [`NetRule`], egress first.
    pub fn rules(&self) -> Vec<NetRule> {
        self.egress
            .iter()
            .map(|e| e.rule(Direction::Egress))
            .chain(self.ingress.iter().map(|e| e.rule(Direction::Ingress)))
            .collect()
    }
}

impl PalisadeProfile {
    /// An empty profile for `workload`.
    pub fn new(workload: Workload) -> PalisadeProfile {
        PalisadeProfile {
            api_version: API_VERSION.into(),
            kind: KIND.into(),
            metadata: Metadata {
                name: workload.object_name(),
                namespace: workload.namespace.clone(),
                annotations: BTreeMap::new(),
            },
            spec: ProfileSpec { workload, ..ProfileSpec::default() },
        }
    }

    /// Check what serde cannot: the resource's identity and every glob. Messages name the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.api_version != API_VERSION || self.kind != KIND {
            return Err(format!(
                "expected apiVersion {API_VERSION} and kind {KIND}, found {} {}",
                self.api_version, self.kind
            ));
        }
        if self.spec.workload.name.is_empty() {
            return Err("spec.workload.name is empty".into());
        }
        for (i, p) in self.spec.processes.iter().enumerate() {
            crate::profile::glob::check(&p.path).map_err(|e| format!("spec.processes[{i}].path: {e}"))?;
            for (j, a) in p.parents.iter().enumerate() {
                crate::profile::glob::check(a)
                    .map_err(|e| format!("spec.processes[{i}].parents[{j}]: {e}"))?;
            }
            if let Some(h) = &p.sha256
                && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
            {
                return Err(format!("spec.processes[{i}].sha256: expected 64 hex digits"));
            }
        }
        for (i, f) in self.spec.files.iter().enumerate() {
            crate::profile::glob::check(&f.path).map_err(|e| format!("spec.files[{i}].path: {e}"))?;
        }
        if let Some(l7) = &self.spec.l7 {
            palisade_network::inspect::policy::Workload::compile(
                String::new(),
                Vec::new(),
                Default::default(),
                l7,
            )
            .map_err(|e| format!("spec.l7.{e}"))?;
        }
        for (i, c) in self.spec.capabilities.iter().enumerate() {
            if crate::caps::bit(c).is_none() {
                return Err(format!("spec.capabilities[{i}]: unknown capability {c:?}"));
            }
        }
        Ok(())
    }
}
