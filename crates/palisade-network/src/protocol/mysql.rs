//! MySQL / MariaDB: the server speaks first with the Initial Handshake packet (protocol 10): a 3-byte
//! length and sequence id 0, then `0x0a`, the NUL-terminated server version, a 4-byte connection id, 8
//! bytes of auth data and a filler `0x00`. The server version is returned. The client must not have
//! spoken first.

use super::bytes::text;
use super::{AppProtocol, Detection, FlowBytes, Info, Outcome, Transport};

const PROTOCOL_10: u8 = 0x0a;
const MAX_VERSION: usize = 64;

pub fn detect(flow: &FlowBytes<'_>) -> Outcome {
    if flow.transport != Transport::Tcp || !flow.client.is_empty() || flow.server.is_empty() {
        return Outcome::NoMatch;
    }
    let s = flow.server;
    if s.len() < 5 {
        let plausible = s.get(3).is_none_or(|&seq| seq == 0) && s.get(4).is_none_or(|&p| p == PROTOCOL_10);
        return if plausible { Outcome::NeedMore } else { Outcome::NoMatch };
    }
    let len = u32::from_le_bytes([s[0], s[1], s[2], 0]) as usize;
    if s[3] != 0 || s[4] != PROTOCOL_10 || !(46..=1024).contains(&len) {
        return Outcome::NoMatch;
    }
    let Some(payload) = s.get(4..4 + len) else { return Outcome::NeedMore };
    let Some(nul) = payload.iter().skip(1).take(MAX_VERSION).position(|&b| b == 0) else {
        return Outcome::NoMatch;
    };
    let version = &payload[1..1 + nul];
    if version.is_empty() || !super::bytes::printable(version) || !version[0].is_ascii_digit() {
        return Outcome::NoMatch;
    }
    // connection id (4), auth data part 1 (8), filler 0.
    if payload.get(1 + nul + 1 + 12) != Some(&0) {
        return Outcome::NoMatch;
    }
    Outcome::Match(Detection {
        protocol: AppProtocol::Mysql,
        info: Info::Mysql { server_version: text(version, MAX_VERSION) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A MySQL 8.0 greeting built from the protocol documentation (no MySQL server on the build hosts).
    const GREETING: &[u8] = include_bytes!("../../fixtures/protocol/mysql_greeting.bin");

    fn server(b: &[u8]) -> Outcome {
        detect(&FlowBytes { transport: Transport::Tcp, port: 3306, client: &[], server: b })
    }

    #[test]
    fn greeting_gives_the_server_version() {
        let Outcome::Match(d) = server(GREETING) else { panic!() };
        assert_eq!(d.info, Info::Mysql { server_version: "8.0.36".into() });
        assert_eq!(server(&GREETING[..20]), Outcome::NeedMore);
    }

    #[test]
    fn client_first_or_other_bytes_are_not_mysql() {
        let flow = FlowBytes { transport: Transport::Tcp, port: 3306, client: b"x", server: GREETING };
        assert_eq!(detect(&flow), Outcome::NoMatch);
        assert_eq!(server(b"SSH-2.0-x\r\n"), Outcome::NoMatch);
    }

    #[test]
    fn hostile_input_never_panics() {
        crate::protocol::hostile::never_panics(GREETING, detect);
    }
}
