//! PostgreSQL (frontend/backend protocol, "Message Formats"): the client's first message has no type
//! byte, only an Int32 length and an Int32 code: `SSLRequest` (80877103, length 8), `GSSENCRequest`
//! (80877104, length 8), `CancelRequest` (80877102, length 16) or a `StartupMessage` (protocol 3.0 or 3.2,
//! then `name\0value\0` pairs and a final `\0`), from which `user` and `database` are read.

use super::bytes::{text, u32_at};
use super::{AppProtocol, Detection, FlowBytes, Info, Outcome, Transport};

const SSL_REQUEST: u32 = 80_877_103;
const GSS_REQUEST: u32 = 80_877_104;
const CANCEL_REQUEST: u32 = 80_877_102;
const MAX_STARTUP: u32 = 10_000;

pub fn detect(flow: &FlowBytes<'_>) -> Outcome {
    if flow.transport != Transport::Tcp || flow.client.is_empty() {
        return Outcome::NoMatch;
    }
    let c = flow.client;
    let (Some(len), Some(code)) = (u32_at(c, 0), u32_at(c, 4)) else {
        // Lengths are small: the first bytes of a plausible message are zero.
        return if c.iter().take(2).all(|&b| b == 0) { Outcome::NeedMore } else { Outcome::NoMatch };
    };
    let message = match (len, code) {
        (8, SSL_REQUEST) => "ssl-request",
        (8, GSS_REQUEST) => "gss-request",
        (16, CANCEL_REQUEST) => "cancel",
        (9..=MAX_STARTUP, 0x0003_0000 | 0x0003_0002) => return startup(c, len as usize),
        _ => return Outcome::NoMatch,
    };
    found(message, None, None)
}

fn found(message: &str, user: Option<String>, database: Option<String>) -> Outcome {
    Outcome::Match(Detection {
        protocol: AppProtocol::Postgres,
        info: Info::Postgres { message: message.into(), user, database },
    })
}

fn startup(c: &[u8], len: usize) -> Outcome {
    let Some(body) = c.get(8..len) else { return Outcome::NeedMore };
    if body.last() != Some(&0) {
        return Outcome::NoMatch;
    }
    let mut fields = body[..body.len() - 1].split(|&b| b == 0);
    let (mut user, mut database) = (None, None);
    while let Some(name) = fields.next() {
        if name.is_empty() {
            break;
        }
        let Some(value) = fields.next() else { return Outcome::NoMatch };
        if !super::bytes::printable(name) {
            return Outcome::NoMatch;
        }
        match name {
            b"user" => user = Some(text(value, 256)),
            b"database" => database = Some(text(value, 256)),
            _ => {}
        }
    }
    if user.is_none() {
        return Outcome::NoMatch;
    }
    found("startup", user, database)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PSQL_SSL: &[u8] = include_bytes!("../../fixtures/protocol/pg_ssl.bin");
    const PSQL_STARTUP: &[u8] = include_bytes!("../../fixtures/protocol/pg_startup.bin");

    fn client(b: &[u8]) -> Outcome {
        detect(&FlowBytes { transport: Transport::Tcp, port: 5432, client: b, server: &[] })
    }

    #[test]
    fn psql_ssl_request_and_startup() {
        let Outcome::Match(d) = client(PSQL_SSL) else { panic!() };
        assert_eq!(d.info, Info::Postgres { message: "ssl-request".into(), user: None, database: None });
        let Outcome::Match(d) = client(PSQL_STARTUP) else { panic!() };
        assert_eq!(
            d.info,
            Info::Postgres {
                message: "startup".into(),
                user: Some("alice".into()),
                database: Some("shop".into())
            }
        );
    }

    #[test]
    fn partial_waits_and_other_codes_do_not_match() {
        assert_eq!(client(&PSQL_STARTUP[..20]), Outcome::NeedMore);
        assert_eq!(client(&[0, 0]), Outcome::NeedMore);
        assert_eq!(client(&[0, 0, 0, 8, 0, 0, 0, 1]), Outcome::NoMatch);
        assert_eq!(client(b"GET / HTTP/1.1\r\n"), Outcome::NoMatch);
    }

    #[test]
    fn hostile_input_never_panics() {
        crate::protocol::hostile::never_panics(PSQL_STARTUP, detect);
        crate::protocol::hostile::never_panics(PSQL_SSL, detect);
    }
}
