//! DNS answers seen by the sensor (the `dns_ingress` program's records) and the names they give addresses.
//!
//! [`parse_answer`] reads a DNS response message (with `simple-dns`) into the question's name and the A and
//! AAAA addresses of the answer section; queries, malformed or truncated messages give `None`.
//! [`DnsNames`] keeps, per container (the host is one more), which name each address was last resolved
//! from, so a later `connect` to that address carries the name: bounded to [`DnsNames::PER_CONTAINER`]
//! addresses per container (oldest first out) and [`DnsNames::CONTAINERS`] containers (the least recently
//! updated first out).

use simple_dns::rdata::RData;
use simple_dns::{Packet, PacketFlag};
use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Instant;

/// The name asked and the addresses answered (CNAME chains followed implicitly: every A/AAAA record of
/// the answer section is an address of the asked name).
pub fn parse_answer(message: &[u8]) -> Option<(String, Vec<String>)> {
    let packet = Packet::parse(message).ok()?;
    if !packet.has_flags(PacketFlag::RESPONSE) {
        return None;
    }
    let name = packet.questions.first()?.qname.to_string();
    let name = name.trim_end_matches('.').to_string();
    if name.is_empty() {
        return None;
    }
    let mut addresses = Vec::new();
    for rr in &packet.answers {
        let addr = match &rr.rdata {
            RData::A(a) => Ipv4Addr::from(a.address).to_string(),
            RData::AAAA(a) => Ipv6Addr::from(a.address).to_string(),
            _ => continue,
        };
        if !addresses.contains(&addr) {
            addresses.push(addr);
        }
    }
    Some((name, addresses))
}

#[derive(Default)]
struct PerContainer {
    names: HashMap<String, String>,
    order: VecDeque<String>,
    updated: Option<Instant>,
}

/// Address → name, per container.
#[derive(Default)]
pub struct DnsNames {
    by_container: HashMap<String, PerContainer>,
}

impl DnsNames {
    /// Addresses remembered per container.
    pub const PER_CONTAINER: usize = 1024;
    /// Containers remembered.
    pub const CONTAINERS: usize = 4096;

    /// `addresses` were resolved from `name` in `container` (`""`: the host).
    pub fn learn(&mut self, container: &str, name: &str, addresses: &[String]) {
        if addresses.is_empty() {
            return;
        }
        if !self.by_container.contains_key(container)
            && self.by_container.len() >= Self::CONTAINERS
            && let Some(oldest) =
                self.by_container.iter().min_by_key(|(_, c)| c.updated).map(|(k, _)| k.clone())
        {
            self.by_container.remove(&oldest);
        }
        let c = self.by_container.entry(container.to_string()).or_default();
        c.updated = Some(Instant::now());
        for addr in addresses {
            if c.names.insert(addr.clone(), name.to_string()).is_none() {
                c.order.push_back(addr.clone());
                if c.order.len() > Self::PER_CONTAINER
                    && let Some(old) = c.order.pop_front()
                {
                    c.names.remove(&old);
                }
            }
        }
    }

    /// The name `addr` was last resolved from in `container`.
    pub fn name_of(&self, container: &str, addr: &str) -> Option<&str> {
        self.by_container.get(container)?.names.get(addr).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use simple_dns::rdata::{A, AAAA, CNAME};
    use simple_dns::{CLASS, Name, Question, ResourceRecord, TYPE};

    fn answer() -> Vec<u8> {
        let mut p = Packet::new_reply(7);
        p.questions.push(Question::new(
            Name::new_unchecked("api.example.com"),
            TYPE::A.into(),
            CLASS::IN.into(),
            false,
        ));
        let rr =
            |name: &'static str, rdata| ResourceRecord::new(Name::new_unchecked(name), CLASS::IN, 60, rdata);
        p.answers.push(rr("api.example.com", RData::CNAME(CNAME(Name::new_unchecked("lb.example.com")))));
        p.answers.push(rr("lb.example.com", RData::A(A { address: u32::from(Ipv4Addr::new(10, 1, 2, 3)) })));
        p.answers.push(rr("lb.example.com", RData::AAAA(AAAA { address: u128::from(Ipv6Addr::LOCALHOST) })));
        p.build_bytes_vec_compressed().unwrap()
    }

    #[test]
    fn answers_give_names_to_addresses() {
        let (name, addrs) = parse_answer(&answer()).unwrap();
        assert_eq!(name, "api.example.com");
        assert_eq!(addrs, ["10.1.2.3", "::1"]);
        // a query, a truncated message, garbage: nothing
        let mut q = Packet::new_query(1);
        q.questions.push(Question::new(
            Name::new_unchecked("x.example"),
            TYPE::A.into(),
            CLASS::IN.into(),
            false,
        ));
        assert!(parse_answer(&q.build_bytes_vec().unwrap()).is_none());
        assert!(parse_answer(&answer()[..20]).is_none());
        assert!(parse_answer(b"\x00").is_none());

        let mut names = DnsNames::default();
        names.learn("c1", &name, &addrs);
        assert_eq!(names.name_of("c1", "10.1.2.3"), Some("api.example.com"));
        assert_eq!(names.name_of("c2", "10.1.2.3"), None, "names are per container");
        for i in 0..=DnsNames::PER_CONTAINER {
            names.learn("c1", "many.example", &[format!("10.9.{}.{}", i / 256, i % 256)]);
        }
        assert_eq!(names.name_of("c1", "10.1.2.3"), None, "oldest address evicted");
        assert_eq!(names.name_of("c1", "10.9.4.0"), Some("many.example"));
    }
}
