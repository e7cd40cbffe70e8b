//! Cloud keys and other credentials, with palisade-secrets' built-in format rules (AWS, GCP, Azure,
//! GitHub, Slack, private keys, …; `palisade secrets rules` lists them; the broad context rules are left
//! out, see [`scanner`]): its scanner runs on the payload as on a file named `network`, so its keyword
//! prefilter, entropy thresholds, checksums and example allow-lists apply unchanged. The finding's signature is the secret rule's id; the preview is the scanner's
//! redaction.

use super::{Finding, Kind, Sensor, SensorId};
use palisade_secrets::{Config, Scanner};

pub const SENSOR: Sensor = Sensor {
    id: SensorId::Secret,
    title: "Cloud key or credential",
    doc: "palisade-secrets' built-in rules (prefilter, regex, entropy, checksums), on the payload",
    kind: Kind::Secrets,
};

/// The file name the payload is scanned as (no path-restricted rule applies to it).
const PSEUDO_PATH: &str = "network";

/// The scanner with every format-specific rule and none of the broad context rules
/// ([`palisade_secrets::rules::BROAD`]: `Authorization:` headers, password assignments, URL credentials, …):
/// those describe what authenticated traffic normally carries (a login form, a bearer token to the API it
/// is meant for), so on the wire they would flag, or drop, ordinary requests.
pub fn scanner() -> Result<Scanner, String> {
    let config = Config {
        disable: palisade_secrets::rules::BROAD.iter().map(|id| id.to_string()).collect(),
        ..Config::default()
    };
    Scanner::new(&config).map_err(|e| format!("secret rules: {e}"))
}

pub fn scan(scanner: &Scanner, data: &[u8], out: &mut Vec<Finding>) {
    for m in scanner.scan_bytes(PSEUDO_PATH, data) {
        if m.suppressed.is_some() {
            continue;
        }
        out.push(Finding {
            sensor: SensorId::Secret,
            signature: m.rule_id.to_string(),
            start: m.start,
            end: m.end,
            preview: m.redacted,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_key_in_a_json_body_uses_the_secret_rules() {
        let s = scanner().unwrap();
        let mut out = Vec::new();
        // Not AWS's documented example key (those are allowed by the rule), a made-up one.
        scan(&s, br#"{"aws_access_key_id":"AKIAZ3MHQ7RT2XK4NW6P","region":"eu-west-1"}"#, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].signature, "aws-access-key-id");
        assert!(!out[0].preview.contains("AKIAZ3MHQ7RT2XK4NW6P"));
    }

    #[test]
    fn ordinary_authenticated_requests_are_not_findings() {
        let s = scanner().unwrap();
        let mut out = Vec::new();
        let login = b"POST /login HTTP/1.1\r\nHost: shop.example\r\nAuthorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0\r\n\
Cookie: session=Zx8Kq2Lm9Pw4Rt7Vb3Nc6Hd1Jf5Gs0Ay\r\n\r\nuser=jane&password=Sup3r-S3cr3t-Pa55w0rd!";
        scan(&s, login, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }
}
