//! Redis (RESP, redis.io protocol spec): clients send commands as an array of bulk strings,
//! `*<n>\r\n$<len>\r\n<command>\r\n…`; the command name is returned (upper-cased). Inline commands
//! (`PING\r\n`) are accepted only for a few well-known names, since any text line would otherwise match.

use super::bytes::text;
use super::{AppProtocol, Detection, FlowBytes, Info, Outcome, Transport};

const INLINE: &[&str] = &["PING", "AUTH", "HELLO", "INFO", "QUIT", "SELECT", "CLIENT"];

pub fn detect(flow: &FlowBytes<'_>) -> Outcome {
    if flow.transport != Transport::Tcp || flow.client.is_empty() {
        return Outcome::NoMatch;
    }
    let c = flow.client;
    if c[0] == b'*' {
        return array(c);
    }
    inline(c)
}

/// Reads `<digits>\r\n` at the start of `b`: the number and the rest; `Err(true)` when more bytes could
/// complete it.
fn number(b: &[u8]) -> Result<(u64, &[u8]), bool> {
    let digits = b.iter().take(10).take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return Err(b.is_empty());
    }
    let rest = &b[digits..];
    match rest {
        [] | [b'\r'] => Err(digits < 10),
        [b'\r', b'\n', ..] => {
            let n = b[..digits].iter().fold(0u64, |a, d| a * 10 + u64::from(d - b'0'));
            Ok((n, &rest[2..]))
        }
        _ => Err(false),
    }
}

fn array(c: &[u8]) -> Outcome {
    let need = |more: bool| if more { Outcome::NeedMore } else { Outcome::NoMatch };
    let (count, rest) = match number(&c[1..]) {
        Ok(v) => v,
        Err(more) => return need(more),
    };
    if count == 0 || count > 1024 * 1024 {
        return Outcome::NoMatch;
    }
    let Some((&first, rest)) = rest.split_first() else { return Outcome::NeedMore };
    if first != b'$' {
        return Outcome::NoMatch;
    }
    let (len, rest) = match number(rest) {
        Ok(v) => v,
        Err(more) => return need(more),
    };
    if len == 0 || len > 64 {
        return Outcome::NoMatch;
    }
    let len = len as usize;
    let Some(name) = rest.get(..len) else { return Outcome::NeedMore };
    if !name.iter().all(|c| c.is_ascii_alphabetic() || *c == b'-' || *c == b'_' || *c == b'.') {
        return Outcome::NoMatch;
    }
    match rest.get(len..len + 2) {
        Some(b"\r\n") => found(name),
        Some(_) => Outcome::NoMatch,
        None => Outcome::NeedMore,
    }
}

fn inline(c: &[u8]) -> Outcome {
    let word = c.iter().take(8).take_while(|b| b.is_ascii_alphabetic()).count();
    let name = &c[..word];
    let known = INLINE.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(name));
    if word == c.len()
        && INLINE.iter().any(|k| k.len() >= word && k.as_bytes()[..word].eq_ignore_ascii_case(name))
    {
        return if word == 0 { Outcome::NoMatch } else { Outcome::NeedMore };
    }
    match c.get(word) {
        Some(b'\r') | Some(b'\n') | Some(b' ') if known => found(name),
        _ => Outcome::NoMatch,
    }
}

fn found(name: &[u8]) -> Outcome {
    Outcome::Match(Detection {
        protocol: AppProtocol::Redis,
        info: Info::Redis { command: text(name, 64).to_ascii_uppercase() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `redis-cli SET k v` as RESP (hand-built from the protocol spec: redis-cli is not installed).
    const SET: &[u8] = include_bytes!("../../fixtures/protocol/redis.bin");

    fn client(b: &[u8]) -> Outcome {
        detect(&FlowBytes { transport: Transport::Tcp, port: 6379, client: b, server: &[] })
    }

    #[test]
    fn resp_array_command() {
        let Outcome::Match(d) = client(SET) else { panic!() };
        assert_eq!(d.info, Info::Redis { command: "SET".into() });
        assert_eq!(client(&SET[..5]), Outcome::NeedMore);
    }

    #[test]
    fn inline_ping_but_not_any_text() {
        assert!(matches!(client(b"PING\r\n"), Outcome::Match(_)));
        assert_eq!(client(b"PI"), Outcome::NeedMore);
        assert_eq!(client(b"HELLOWORLD\r\n"), Outcome::NoMatch);
        assert_eq!(client(b"GET / HTTP/1.1\r\n"), Outcome::NoMatch);
        assert_eq!(client(b"*3\r\n:1\r\n"), Outcome::NoMatch);
    }

    #[test]
    fn hostile_input_never_panics() {
        crate::protocol::hostile::never_panics(SET, detect);
    }
}
