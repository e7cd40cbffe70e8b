//! The cgroup mechanism: `cgroup/connect4` and `cgroup/connect6` BPF programs (`bpf/connect.bpf.c`) on a
//! container's cgroup v2 directory judge every `connect()` its processes make (TCP, and UDP sockets being
//! connected) against the egress rules. Outside the rules a connect is counted and recorded, and in protect
//! mode fails with `EPERM` before any packet leaves. Ingress rules do not apply here (nftables covers them).
//!
//! One object per cgroup, its links and maps pinned under `/sys/fs/bpf/palisade/cgroup-INODE/` so the
//! programs stay attached after the command exits, until [`remove`]. Applying again rewrites the rule maps
//! in place (rules first, then the counts that make them live).

use super::status::{Status, Violation};
use super::{Applied, FirewallMode};
use crate::rules::{Direction, NetRule, Peer, Protocol};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Where the pins of every cgroup live.
pub const PIN_ROOT: &str = "/sys/fs/bpf/palisade";
/// Rules per address family the program walks.
pub const MAX_RULES: usize = 256;

#[derive(Debug, Error)]
pub enum CgroupBpfError {
    #[error("cgroup BPF firewall unavailable: {0}")]
    Unavailable(String),
    #[error("cgroup {cgroup}: {what}: {detail}")]
    Failed { cgroup: String, what: &'static str, detail: String },
}

fn failed(cgroup: &Path, what: &'static str, detail: impl std::fmt::Display) -> CgroupBpfError {
    CgroupBpfError::Failed { cgroup: cgroup.display().to_string(), what, detail: detail.to_string() }
}

/// An error with its causes (aya's messages name the syscall; the cause says why it failed).
#[cfg(palisade_cgroup_bpf)]
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// The pin directory of a cgroup directory.
pub fn pin_dir(cgroup: &Path) -> Result<PathBuf, CgroupBpfError> {
    let meta = std::fs::metadata(cgroup).map_err(|e| failed(cgroup, "reading the cgroup directory", e))?;
    Ok(Path::new(PIN_ROOT).join(format!("cgroup-{}", meta.ino())))
}

/// `struct rule` of the program: addr[4], mask[4] (network order), first, last (host order), proto, pad.
fn rule_bytes(net: IpNet, first: u16, last: u16, proto: u8) -> [u8; 40] {
    let mut b = [0u8; 40];
    let (addr, mask): (Vec<u8>, Vec<u8>) = match net.trunc() {
        IpNet::V4(n) => (n.addr().octets().to_vec(), n.netmask().octets().to_vec()),
        IpNet::V6(n) => (n.addr().octets().to_vec(), n.netmask().octets().to_vec()),
    };
    b[..addr.len()].copy_from_slice(&addr);
    b[16..16 + mask.len()].copy_from_slice(&mask);
    b[32..34].copy_from_slice(&first.to_ne_bytes());
    b[34..36].copy_from_slice(&last.to_ne_bytes());
    b[36] = proto;
    b
}

/// The egress rules as the program's entries, IPv4 and IPv6; what cannot be expressed, with why.
pub fn entries(rules: &[NetRule]) -> (Vec<[u8; 40]>, Vec<[u8; 40]>, Vec<String>) {
    let (mut v4, mut v6, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for (i, rule) in rules.iter().enumerate() {
        let what = super::compile::describe(i, rule);
        if rule.direction == Direction::Ingress {
            skipped.push(format!("{what}: ingress rules are not enforced by the cgroup connect hooks"));
            continue;
        }
        let nets: Vec<IpNet> = match &rule.peer {
            Peer::Any => vec!["0.0.0.0/0".parse().unwrap_or_default(), "::/0".parse().unwrap_or_default()],
            Peer::Cidr(net) => vec![*net],
            Peer::Dns(_) | Peer::Workload { .. } => {
                skipped.push(format!("{what}: the peer is not resolved: the rule allows nothing"));
                continue;
            }
        };
        let proto = match rule.protocol {
            Protocol::Any => 0,
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
        };
        let ranges: Vec<(u16, u16)> = if rule.ports.is_empty() {
            vec![(0, u16::MAX)]
        } else {
            rule.ports.iter().map(|r| (r.first, r.last)).collect()
        };
        if ranges.iter().any(|(f, l)| f > l) {
            skipped.push(format!("{what}: an empty port range: the rule allows nothing"));
            continue;
        }
        for net in nets {
            for &(first, last) in &ranges {
                let entry = rule_bytes(net, first, last, proto);
                match net {
                    IpNet::V4(_) => v4.push(entry),
                    IpNet::V6(_) => v6.push(entry),
                }
            }
        }
    }
    (v4, v6, skipped)
}

#[cfg(palisade_cgroup_bpf)]
mod kernel {
    use super::*;
    use crate::firewall::status::RuleCounter;
    use aya::maps::{Array, HashMap, Map, MapData};
    use aya::programs::links::{FdLink, PinnedLink};
    use aya::programs::{CgroupAttachMode, CgroupSockAddr};

    static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/connect.bpf.o"));

    fn array<V: aya::Pod>(
        dir: &Path,
        cgroup: &Path,
        name: &str,
    ) -> Result<Array<MapData, V>, CgroupBpfError> {
        let data = MapData::from_pin(dir.join(name))
            .map_err(|e| failed(cgroup, "opening a pinned map", chain(&e)))?;
        let map = Map::from_map_data(data).map_err(|e| failed(cgroup, "opening a pinned map", chain(&e)))?;
        Array::try_from(map).map_err(|e| failed(cgroup, "opening a pinned map", chain(&e)))
    }

    /// Load, attach and pin (first time), or find the pins (again).
    fn ensure_attached(cgroup: &Path, dir: &Path) -> Result<(), CgroupBpfError> {
        if dir.join("link4").exists() && dir.join("link6").exists() {
            return Ok(());
        }
        if !Path::new("/sys/fs/bpf").join(".").exists() || std::fs::create_dir_all(dir).is_err() {
            return Err(CgroupBpfError::Unavailable(
                "bpffs is not mounted at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)".into(),
            ));
        }
        let mut bpf = aya::EbpfLoader::new()
            .load(OBJECT)
            .map_err(|e| failed(cgroup, "loading the program", chain(&e)))?;
        for name in ["config", "rules4", "rules6", "counters", "violations"] {
            let map = bpf.map(name).ok_or_else(|| failed(cgroup, "the object", format!("no map {name}")))?;
            map.pin(dir.join(name)).map_err(|e| failed(cgroup, "pinning a map", chain(&e)))?;
        }
        for (prog, link) in [("connect4", "link4"), ("connect6", "link6")] {
            let file =
                std::fs::File::open(cgroup).map_err(|e| failed(cgroup, "opening the cgroup", chain(&e)))?;
            let p: &mut CgroupSockAddr = bpf
                .program_mut(prog)
                .ok_or_else(|| failed(cgroup, "the object", format!("no program {prog}")))?
                .try_into()
                .map_err(|e| failed(cgroup, "the object", chain(&e)))?;
            p.load().map_err(|e| failed(cgroup, "loading the program", chain(&e)))?;
            let id = p
                .attach(file, CgroupAttachMode::Single)
                .map_err(|e| failed(cgroup, "attaching", chain(&e)))?;
            let owned = p.take_link(id).map_err(|e| failed(cgroup, "attaching", chain(&e)))?;
            let fd: FdLink = owned.try_into().map_err(|e| failed(cgroup, "attaching", chain(&e)))?;
            fd.pin(dir.join(link)).map_err(|e| failed(cgroup, "pinning the link", chain(&e)))?;
        }
        Ok(())
    }

    pub fn apply(cgroup: &Path, rules: &[NetRule], mode: FirewallMode) -> Result<Applied, CgroupBpfError> {
        let (v4, v6, skipped) = entries(rules);
        if v4.len() > MAX_RULES || v6.len() > MAX_RULES {
            return Err(failed(cgroup, "rules", format!("more than {MAX_RULES} entries per address family")));
        }
        let dir = pin_dir(cgroup)?;
        ensure_attached(cgroup, &dir)?;
        for (name, entries) in [("rules4", &v4), ("rules6", &v6)] {
            let mut map: Array<MapData, [u8; 40]> = array(&dir, cgroup, name)?;
            for (i, e) in entries.iter().enumerate() {
                map.set(i as u32, e, 0).map_err(|e| failed(cgroup, "writing the rules", chain(&e)))?;
            }
        }
        let mut config: Array<MapData, [u32; 3]> = array(&dir, cgroup, "config")?;
        let protect = u32::from(mode == FirewallMode::Protect);
        config
            .set(0, [v4.len() as u32, v6.len() as u32, protect], 0)
            .map_err(|e| failed(cgroup, "writing the mode", chain(&e)))?;
        let installed = rules.len() - skipped.len();
        Ok(Applied { installed, skipped, notes: Vec::new() })
    }

    pub fn remove(cgroup: &Path) -> Result<bool, CgroupBpfError> {
        let dir = pin_dir(cgroup)?;
        if !dir.exists() {
            return Ok(false);
        }
        for link in ["link4", "link6"] {
            if let Ok(pinned) = PinnedLink::from_pin(dir.join(link)) {
                // Unpinned and dropped: the last reference goes and the program detaches.
                drop(pinned.unpin().map_err(|e| failed(cgroup, "unpinning the link", chain(&e)))?);
            }
        }
        std::fs::remove_dir_all(&dir).map_err(|e| failed(cgroup, "removing the pins", chain(&e)))?;
        Ok(true)
    }

    pub fn status(cgroup: &Path) -> Result<Option<Status>, CgroupBpfError> {
        let dir = pin_dir(cgroup)?;
        if !dir.join("config").exists() {
            return Ok(None);
        }
        let config: Array<MapData, [u32; 3]> = array(&dir, cgroup, "config")?;
        let [_, _, protect] = config.get(&0, 0).map_err(|e| failed(cgroup, "reading the mode", chain(&e)))?;
        let mode = if protect == 1 { FirewallMode::Protect } else { FirewallMode::Monitor };
        let counters: Array<MapData, u64> = array(&dir, cgroup, "counters")?;
        let allowed = counters.get(&0, 0).unwrap_or(0);
        let outside = counters.get(&1, 0).unwrap_or(0);
        let data = MapData::from_pin(dir.join("violations"))
            .map_err(|e| failed(cgroup, "opening a pinned map", chain(&e)))?;
        let map = Map::from_map_data(data).map_err(|e| failed(cgroup, "opening a pinned map", chain(&e)))?;
        let violations: HashMap<MapData, [u8; 20], u64> =
            HashMap::try_from(map).map_err(|e| failed(cgroup, "opening a pinned map", chain(&e)))?;
        let mut found = Vec::new();
        for key in violations.keys().flatten() {
            found.extend(violation(&key));
        }
        found.sort();
        Ok(Some(Status {
            mode,
            rules: vec![RuleCounter {
                rule: "connects allowed by a rule".into(),
                packets: allowed,
                bytes: 0,
            }],
            outside: vec![RuleCounter {
                rule: format!(
                    "{} egress {} (connects)",
                    super::super::compile::OUTSIDE_PREFIX,
                    mode.as_str()
                ),
                packets: outside,
                bytes: 0,
            }],
            violations: found,
            flows: Vec::new(),
            flows_from: None,
            notes: Vec::new(),
        }))
    }
}

/// `struct violation` of the program: addr[4] (network order), port, proto, family.
#[cfg_attr(not(palisade_cgroup_bpf), allow(dead_code))]
fn violation(key: &[u8; 20]) -> Option<Violation> {
    let port = u16::from_ne_bytes([key[16], key[17]]);
    let protocol = match key[18] {
        6 => "tcp".to_string(),
        17 => "udp".to_string(),
        other => other.to_string(),
    };
    let peer = match key[19] {
        4 => IpAddr::V4(Ipv4Addr::new(key[0], key[1], key[2], key[3])),
        6 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&key[..16]).ok()?)),
        _ => return None,
    };
    Some(Violation { direction: Direction::Egress, protocol, peer, port })
}

#[cfg(palisade_cgroup_bpf)]
pub use kernel::{apply, remove, status};

#[cfg(not(palisade_cgroup_bpf))]
pub fn apply(_: &Path, _: &[NetRule], _: FirewallMode) -> Result<Applied, CgroupBpfError> {
    Err(CgroupBpfError::Unavailable(env!("PALISADE_CGROUP_BPF_UNAVAILABLE").into()))
}

#[cfg(not(palisade_cgroup_bpf))]
pub fn remove(_: &Path) -> Result<bool, CgroupBpfError> {
    Err(CgroupBpfError::Unavailable(env!("PALISADE_CGROUP_BPF_UNAVAILABLE").into()))
}

#[cfg(not(palisade_cgroup_bpf))]
pub fn status(_: &Path) -> Result<Option<Status>, CgroupBpfError> {
    Err(CgroupBpfError::Unavailable(env!("PALISADE_CGROUP_BPF_UNAVAILABLE").into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::PortRange;

    #[test]
    fn egress_rules_become_entries_and_the_rest_is_explained() {
        let rules = vec![
            NetRule {
                direction: Direction::Egress,
                peer: Peer::Cidr("10.1.2.3/16".parse().unwrap()),
                protocol: Protocol::Tcp,
                ports: vec![PortRange::single(443), PortRange { first: 8000, last: 8080 }],
            },
            NetRule { direction: Direction::Egress, peer: Peer::Any, protocol: Protocol::Udp, ports: vec![] },
            NetRule {
                direction: Direction::Ingress,
                peer: Peer::Any,
                protocol: Protocol::Tcp,
                ports: vec![],
            },
        ];
        let (v4, v6, skipped) = entries(&rules);
        assert_eq!((v4.len(), v6.len(), skipped.len()), (3, 1, 1));
        assert_eq!(&v4[0][..4], &[10, 1, 0, 0], "host bits cleared");
        assert_eq!(&v4[0][16..20], &[255, 255, 0, 0]);
        assert_eq!(u16::from_ne_bytes([v4[1][32], v4[1][33]]), 8000);
        assert_eq!((v4[2][36], u16::from_ne_bytes([v4[2][34], v4[2][35]])), (17, u16::MAX));
        assert!(skipped[0].contains("ingress"), "{skipped:?}");
        let mut key = [0u8; 20];
        key[..4].copy_from_slice(&[10, 77, 0, 1]);
        key[16..18].copy_from_slice(&9090u16.to_ne_bytes());
        key[18] = 6;
        key[19] = 4;
        let v = violation(&key).unwrap();
        assert_eq!((v.peer.to_string(), v.port, v.protocol.as_str()), ("10.77.0.1".into(), 9090, "tcp"));
    }
}
