//! No serialised finding contains the secret it reports: every rule's positive example is scanned, turned
//! into a `SecretFinding` and serialised to JSON; neither the secret nor its part after the redaction
//! prefix may appear.

use palisade_secrets::sink::to_finding;
use palisade_secrets::{Config, Scanner};

fn unescape(s: &str) -> String {
    s.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\")
}

#[test]
fn serialised_findings_never_contain_the_secret() {
    let examples = include_str!("fixtures/rule_examples.txt");
    let scanner = match Scanner::new(&Config::default()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let mut checked = 0;
    for line in examples.lines().filter(|l| !l.starts_with('#')) {
        let parts: Vec<&str> = line.splitn(4, '\t').collect();
        let [_, "tp", path, text] = parts[..] else { continue };
        let text = unescape(text);
        for m in scanner.scan_bytes(path, text.as_bytes()) {
            let secret = text.get(m.start..m.end).unwrap_or_default().to_string();
            let f = to_finding(m, path, Some(0));
            let json = match serde_json::to_string(&f) {
                Ok(j) => j,
                Err(e) => panic!("{e}"),
            };
            let debug = format!("{f:?}");
            if secret.len() >= 6 {
                let escaped = serde_json::to_string(&secret).unwrap_or_default();
                let escaped = escaped.trim_matches('"');
                assert!(!json.contains(escaped), "{} leaks in {json}", f.rule_id);
                assert!(!debug.contains(&secret), "{} leaks in Debug", f.rule_id);
                let tail = &secret[secret.len() / 2..];
                assert!(!json.contains(tail), "{} leaks its tail in {json}", f.rule_id);
            }
            checked += 1;
        }
    }
    assert!(checked >= 120, "only {checked} findings checked");
}
