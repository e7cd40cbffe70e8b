//! One IP packet as NFQUEUE hands it over (no link layer): addresses, ports, TCP flags and sequence
//! number, payload. Parsed with `etherparse`. IPv4 and IPv6 (with extension headers); anything that is
//! not TCP or UDP, and IP fragments after the first, are [`Parsed::Other`] and pass uninspected.

use crate::protocol::Transport;
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use std::net::IpAddr;

/// The parts of a TCP or UDP packet the inspector uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    pub transport: Transport,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub seq: u32,
    pub payload: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    Packet(Packet<'a>),
    /// Not TCP/UDP, or a later fragment.
    Other,
    /// Not a valid IP packet.
    Malformed,
}

pub fn parse(data: &[u8]) -> Parsed<'_> {
    let Ok(sliced) = SlicedPacket::from_ip(data) else { return Parsed::Malformed };
    let (src, dst) = match &sliced.net {
        Some(NetSlice::Ipv4(v4)) => {
            (IpAddr::V4(v4.header().source_addr()), IpAddr::V4(v4.header().destination_addr()))
        }
        Some(NetSlice::Ipv6(v6)) => {
            (IpAddr::V6(v6.header().source_addr()), IpAddr::V6(v6.header().destination_addr()))
        }
        _ => return Parsed::Other,
    };
    let p = |transport, sport, dport, payload| Packet {
        transport,
        src,
        dst,
        sport,
        dport,
        syn: false,
        ack: false,
        fin: false,
        rst: false,
        seq: 0,
        payload,
    };
    match &sliced.transport {
        Some(TransportSlice::Tcp(t)) => Parsed::Packet(Packet {
            syn: t.syn(),
            ack: t.ack(),
            fin: t.fin(),
            rst: t.rst(),
            seq: t.sequence_number(),
            ..p(Transport::Tcp, t.source_port(), t.destination_port(), t.payload())
        }),
        Some(TransportSlice::Udp(u)) => {
            Parsed::Packet(p(Transport::Udp, u.source_port(), u.destination_port(), u.payload()))
        }
        _ => Parsed::Other,
    }
}

/// Builders for hand-made packets in tests.
#[cfg(test)]
pub mod build {
    use etherparse::PacketBuilder;

    pub fn tcp(
        src: [u8; 4],
        dst: [u8; 4],
        sport: u16,
        dport: u16,
        seq: u32,
        syn: bool,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut b = PacketBuilder::ipv4(src, dst, 64).tcp(sport, dport, seq, 64240);
        if syn {
            b = b.syn();
        } else {
            b = b.ack(1);
        }
        let mut out = Vec::new();
        b.write(&mut out, payload).expect("write packet");
        out
    }

    pub fn udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ipv4(src, dst, 64).udp(sport, dport).write(&mut out, payload).expect("write packet");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_and_udp_over_ipv4_and_v6() {
        let raw = build::tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80, 7, true, b"");
        let Parsed::Packet(p) = parse(&raw) else { panic!() };
        assert_eq!((p.transport, p.sport, p.dport, p.syn, p.seq), (Transport::Tcp, 40000, 80, true, 7));
        let raw = build::udp([10, 0, 0, 1], [10, 0, 0, 53], 5353, 53, b"hello");
        let Parsed::Packet(p) = parse(&raw) else { panic!() };
        assert_eq!((p.transport, p.payload), (Transport::Udp, &b"hello"[..]));
        let mut v6 = Vec::new();
        etherparse::PacketBuilder::ipv6([0xfd; 16], [0xfe; 16], 64).udp(1, 2).write(&mut v6, b"x").unwrap();
        let Parsed::Packet(p) = parse(&v6) else { panic!() };
        assert!(p.src.is_ipv6());
    }

    #[test]
    fn garbage_is_malformed_and_never_panics() {
        assert_eq!(parse(b""), Parsed::Malformed);
        assert_eq!(parse(b"\x45\x00"), Parsed::Malformed);
        let raw = build::tcp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, 3, false, b"payload");
        for n in 0..raw.len() {
            let _ = parse(&raw[..n]);
            let mut m = raw.clone();
            m[n] ^= 0xa5;
            let _ = parse(&m);
        }
    }
}
