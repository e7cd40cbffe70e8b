//! Bytes and packets per flow from the kernel's connection tracking, for firewalls applied without the
//! per-packet flow set (the default; `firewall apply --flow-counters` adds the set): conntrack already follows every flow the
//! firewall sees, and with accounting on (`net.netfilter.nf_conntrack_acct`, per network namespace) it
//! counts each direction's packets and bytes at no extra rule cost.
//!
//! The table is read in the pod's namespace from `/proc/thread-self/net/nf_conntrack` (on a thread that
//! entered it), or, where the kernel has no conntrack procfs, from `conntrack -L -f ipv4|ipv6` (Debian's
//! `conntrack` package): both print one entry a line as `key=value` words, the original direction's
//! tuple and counters first, then the reply's. Entries are summed per connection class (original source,
//! destination, protocol, destination port), both directions, as the flow set counts them; loopback
//! entries and protocols other than TCP and UDP are left out. Accounting applies to connections that
//! start after it was turned on.

use crate::firewall::status::FlowCounter;
use crate::netns::Netns;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::Command;

/// The kernel's table, as seen from a thread inside the namespace.
const PROCFS: &str = "/proc/thread-self/net/nf_conntrack";
const ACCT: &str = "/proc/sys/net/netfilter/nf_conntrack_acct";

/// Turn conntrack accounting on in `ns` (connections from now on are counted).
pub fn enable_accounting(ns: &Netns) -> Result<(), String> {
    ns.run(|| std::fs::write(ACCT, "1"))
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("network namespace {ns}: {ACCT}: {e}"))
}

/// Whether accounting is on in `ns`.
pub fn accounting(ns: &Netns) -> Result<bool, String> {
    let text = ns
        .run(|| std::fs::read_to_string(ACCT))
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("network namespace {ns}: {ACCT}: {e}"))?;
    Ok(text.trim() == "1")
}

/// What [`flows`] read.
#[derive(Debug, Default)]
pub struct Table {
    pub flows: Vec<FlowCounter>,
    /// Where the entries came from (`/proc/…/nf_conntrack` or `conntrack -L`).
    pub source: String,
    /// Lines that did not parse, each with its source and line number.
    pub errors: Vec<String>,
}

/// The flows of `ns`'s conntrack table, summed per connection class.
pub fn flows(ns: &Netns) -> Result<Table, String> {
    let (text, source) = ns
        .run(|| match std::fs::read_to_string(PROCFS) {
            Ok(t) => Ok((t, PROCFS.to_string())),
            Err(_) => {
                let mut text = String::new();
                for family in ["ipv4", "ipv6"] {
                    let o = Command::new("conntrack")
                        .args(["-L", "-f", family])
                        .output()
                        .map_err(|e| format!("no {PROCFS}, and conntrack does not run: {e}"))?;
                    if !o.status.success() {
                        return Err(format!("conntrack -L: {}", String::from_utf8_lossy(&o.stderr).trim()));
                    }
                    text.push_str(&String::from_utf8_lossy(&o.stdout));
                }
                Ok((text, "conntrack -L".to_string()))
            }
        })
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("network namespace {ns}: {e}"))?;
    let (flows, errors) = parse(&text, &source);
    Ok(Table { flows, source, errors })
}

/// One entry: the original tuple and the counters of both directions.
struct Entry {
    protocol: String,
    source: IpAddr,
    destination: IpAddr,
    port: u16,
    packets: u64,
    bytes: u64,
}

fn entry(line: &str) -> Result<Option<Entry>, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some(protocol) = words.iter().find(|w| {
        matches!(**w, "tcp" | "udp" | "icmp" | "icmpv6" | "sctp" | "udplite" | "dccp" | "gre" | "unknown")
    }) else {
        return Err("no protocol".into());
    };
    if !matches!(*protocol, "tcp" | "udp") {
        return Ok(None);
    }
    let first = |key: &str| words.iter().find_map(|w| w.strip_prefix(key)?.strip_prefix('='));
    let all = |key: &str| -> Vec<&str> {
        words.iter().filter_map(|w| w.strip_prefix(key)?.strip_prefix('=')).collect()
    };
    let addr = |key: &str| -> Result<IpAddr, String> {
        let v = first(key).ok_or_else(|| format!("no {key}="))?;
        v.parse().map_err(|_| format!("{key}={v}: not an address"))
    };
    let source = addr("src")?;
    let destination = addr("dst")?;
    let port = first("dport").ok_or("no dport=")?;
    let port: u16 = port.parse().map_err(|_| format!("dport={port}: not a port"))?;
    let sum = |key: &str| -> Result<u64, String> {
        all(key).iter().try_fold(0u64, |acc, v| {
            v.parse::<u64>().map(|n| acc.saturating_add(n)).map_err(|_| format!("{key}={v}: not a number"))
        })
    };
    let (packets, bytes) = (sum("packets")?, sum("bytes")?);
    if source.is_loopback() || destination.is_loopback() {
        return Ok(None);
    }
    Ok(Some(Entry { protocol: protocol.to_string(), source, destination, port, packets, bytes }))
}

/// Parse a conntrack listing (procfs, or `conntrack -L` without the family columns); errors name `source` and the line.
/// Without accounting the entries carry no counters and count zero.
pub fn parse(text: &str, source: &str) -> (Vec<FlowCounter>, Vec<String>) {
    let mut classes: BTreeMap<(IpAddr, IpAddr, String, u16), (u64, u64)> = BTreeMap::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with("conntrack v") {
            continue;
        }
        match entry(line) {
            Ok(Some(e)) => {
                let c = classes.entry((e.source, e.destination, e.protocol, e.port)).or_default();
                c.0 = c.0.saturating_add(e.packets);
                c.1 = c.1.saturating_add(e.bytes);
            }
            Ok(None) => {}
            Err(e) => errors.push(format!("{source}: line {}: {e}", i + 1)),
        }
    }
    let flows = classes
        .into_iter()
        .map(|((source, destination, protocol, port), (packets, bytes))| FlowCounter {
            source,
            destination,
            protocol,
            port,
            packets,
            bytes,
        })
        .collect();
    (flows, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROC: &str = include_str!("../tests/fixtures/conntrack/nf_conntrack.txt");
    const TOOL: &str = include_str!("../tests/fixtures/conntrack/conntrack-L.txt");

    #[test]
    fn entries_are_summed_per_class_both_directions() {
        let (flows, errors) = parse(PROC, "nf_conntrack");
        assert!(errors.is_empty(), "{errors:?}");
        // two connections to 10.77.0.1:8080 (one class), one UDP query; loopback and ICMP left out
        assert_eq!(flows.len(), 2, "{flows:#?}");
        let http = flows.iter().find(|f| f.port == 8080).unwrap();
        assert_eq!(http.source, "10.77.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(http.protocol, "tcp");
        assert_eq!((http.packets, http.bytes), (6 + 5 + 10 + 8, 400 + 300 + 1_000_000 + 520));
        let dns = flows.iter().find(|f| f.port == 53).unwrap();
        assert_eq!((dns.protocol.as_str(), dns.packets, dns.bytes), ("udp", 2, 61 + 93));
    }

    #[test]
    fn the_tools_listing_reads_the_same() {
        let (flows, errors) = parse(TOOL, "conntrack -L");
        assert!(errors.is_empty(), "{errors:?}");
        let (proc_flows, _) = parse(PROC, "nf_conntrack");
        assert_eq!(flows, proc_flows);
    }

    #[test]
    fn bad_lines_are_named_and_the_rest_read() {
        let text = format!(
            "garbage\n{}\nipv4 2 tcp 6 10 ESTABLISHED src=10.0.0.1 dst=nope sport=1 dport=2\n",
            PROC.lines().next().unwrap()
        );
        let (flows, errors) = parse(&text, "f");
        assert_eq!(flows.len(), 1);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("f: line 1: no protocol"), "{errors:?}");
        assert!(errors[1].starts_with("f: line 3: dst=nope"), "{errors:?}");
        let (flows, errors) =
            parse("ipv4 2 tcp 6 10 CLOSE src=10.0.0.1 dst=10.0.0.2 sport=1 dport=99999\n", "f");
        assert!(flows.is_empty() && errors[0].contains("dport=99999"), "{errors:?}");
    }
}
