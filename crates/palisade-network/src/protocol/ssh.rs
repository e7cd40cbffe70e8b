//! SSH: the identification string `SSH-protoversion-softwareversion` (RFC 4253 §4.2), sent by both sides;
//! the server's usually comes first, so either direction is read.

use super::{AppProtocol, Detection, FlowBytes, Info, Outcome, Transport, bytes::text};

/// The identification line is at most 255 bytes including CR LF.
const MAX_BANNER: usize = 255;

pub fn detect(flow: &FlowBytes<'_>) -> Outcome {
    if flow.transport != Transport::Tcp {
        return Outcome::NoMatch;
    }
    let mut waiting = false;
    for side in [flow.server, flow.client] {
        match banner(side) {
            Outcome::Match(d) => return Outcome::Match(d),
            Outcome::NeedMore => waiting = true,
            Outcome::NoMatch => {}
        }
    }
    if waiting { Outcome::NeedMore } else { Outcome::NoMatch }
}

fn banner(data: &[u8]) -> Outcome {
    const PREFIX: &[u8] = b"SSH-";
    if data.is_empty() {
        return Outcome::NoMatch;
    }
    let n = data.len().min(PREFIX.len());
    if data[..n] != PREFIX[..n] {
        return Outcome::NoMatch;
    }
    let Some(end) = data.iter().take(MAX_BANNER).position(|&c| c == b'\n') else {
        return if data.len() < MAX_BANNER { Outcome::NeedMore } else { Outcome::NoMatch };
    };
    let line = data[..end].strip_suffix(b"\r").unwrap_or(&data[..end]);
    let rest = &line[PREFIX.len().min(line.len())..];
    let mut parts = rest.splitn(2, |&c| c == b'-');
    let version = parts.next().unwrap_or_default();
    let software = parts.next().unwrap_or_default();
    if !(version == b"2.0" || version == b"1.99") || software.is_empty() {
        return Outcome::NoMatch;
    }
    Outcome::Match(Detection {
        protocol: AppProtocol::Ssh,
        info: Info::Ssh { banner: text(line, MAX_BANNER) },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENSSH: &[u8] = include_bytes!("../../fixtures/protocol/ssh.bin");

    #[test]
    fn openssh_client_banner_and_server_first() {
        let flow = FlowBytes { transport: Transport::Tcp, port: 22, client: OPENSSH, server: &[] };
        let Outcome::Match(d) = detect(&flow) else { panic!() };
        assert_eq!(d.info, Info::Ssh { banner: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6".into() });
        let flow = FlowBytes {
            transport: Transport::Tcp,
            port: 22,
            client: &[],
            server: b"SSH-1.99-Cisco-1.25\r\n",
        };
        assert!(matches!(detect(&flow), Outcome::Match(_)));
    }

    #[test]
    fn prefix_waits_and_other_versions_do_not_match() {
        let f = |b: &'static [u8]| {
            detect(&FlowBytes { transport: Transport::Tcp, port: 22, client: b, server: &[] })
        };
        assert_eq!(f(b"SS"), Outcome::NeedMore);
        assert_eq!(f(b"SSH-2.0-Open"), Outcome::NeedMore);
        assert_eq!(f(b"SSH-3.0-x\r\n"), Outcome::NoMatch);
        assert_eq!(f(b"GET / HTTP/1.1\r\n"), Outcome::NoMatch);
    }

    #[test]
    fn hostile_input_never_panics() {
        crate::protocol::hostile::never_panics(OPENSSH, detect);
    }
}
