//! Kafka (protocol guide, "Requests"): every request is an Int32 size, then the request header: Int16
//! `api_key`, Int16 `api_version`, Int32 `correlation_id` and a nullable Int16-length `client_id` (header
//! v1/v2; flexible versions add tagged fields after it). Checked: the size is plausible, the api key is
//! one Kafka defines (0–74 as of Kafka 4.x) with a version up to 20, and the client id is printable. The
//! first request of a client is usually `ApiVersions` (18).

use super::bytes::{printable, text, u32_at};
use super::{AppProtocol, Detection, FlowBytes, Info, Outcome, Transport};

const MAX_API_KEY: i16 = 74;
const MAX_API_VERSION: i16 = 20;
/// Kafka's default `socket.request.max.bytes` is 100 MiB.
const MAX_SIZE: u32 = 100 * 1024 * 1024;

pub fn detect(flow: &FlowBytes<'_>) -> Outcome {
    if flow.transport != Transport::Tcp || flow.client.is_empty() {
        return Outcome::NoMatch;
    }
    let c = flow.client;
    if c.len() < 14 {
        // Size's high byte is 0 for any request under 16 MiB.
        return if c[0] == 0 { Outcome::NeedMore } else { Outcome::NoMatch };
    }
    let size = u32_at(c, 0).unwrap_or(0);
    let key = i16::from_be_bytes([c[4], c[5]]);
    let version = i16::from_be_bytes([c[6], c[7]]);
    let client_len = i16::from_be_bytes([c[12], c[13]]);
    if !(10..=MAX_SIZE).contains(&size)
        || !(0..=MAX_API_KEY).contains(&key)
        || !(0..=MAX_API_VERSION).contains(&version)
    {
        return Outcome::NoMatch;
    }
    let client_id = match client_len {
        -1 => None,
        n if n >= 0 && (n as u32) + 10 <= size => {
            let Some(id) = c.get(14..14 + n as usize) else { return Outcome::NeedMore };
            if !printable(id) {
                return Outcome::NoMatch;
            }
            Some(text(id, 256))
        }
        _ => return Outcome::NoMatch,
    };
    Outcome::Match(Detection {
        protocol: AppProtocol::Kafka,
        info: Info::Kafka { api_key: key, api_name: api_name(key).into(), api_version: version, client_id },
    })
}

/// Names of the request types clients start with.
fn api_name(key: i16) -> &'static str {
    match key {
        0 => "Produce",
        1 => "Fetch",
        2 => "ListOffsets",
        3 => "Metadata",
        8 => "OffsetCommit",
        9 => "OffsetFetch",
        10 => "FindCoordinator",
        11 => "JoinGroup",
        12 => "Heartbeat",
        17 => "SaslHandshake",
        18 => "ApiVersions",
        19 => "CreateTopics",
        36 => "SaslAuthenticate",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ApiVersions v3 as the Java client sends it, built from the protocol guide (no broker on the build
    /// hosts).
    const API_VERSIONS: &[u8] = include_bytes!("../../fixtures/protocol/kafka.bin");

    fn client(b: &[u8]) -> Outcome {
        detect(&FlowBytes { transport: Transport::Tcp, port: 9092, client: b, server: &[] })
    }

    #[test]
    fn api_versions_request() {
        let Outcome::Match(d) = client(API_VERSIONS) else { panic!() };
        assert_eq!(
            d.info,
            Info::Kafka {
                api_key: 18,
                api_name: "ApiVersions".into(),
                api_version: 3,
                client_id: Some("console-1".into())
            }
        );
        assert_eq!(client(&API_VERSIONS[..6]), Outcome::NeedMore);
    }

    #[test]
    fn other_binary_is_not_kafka() {
        assert_eq!(client(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Outcome::NoMatch);
        assert_eq!(client(&[0, 0, 0, 20, 0x7f, 0, 0, 1, 0, 0, 0, 1, 0, 0]), Outcome::NoMatch);
    }

    #[test]
    fn hostile_input_never_panics() {
        crate::protocol::hostile::never_panics(API_VERSIONS, detect);
    }
}
