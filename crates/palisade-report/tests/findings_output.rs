//! Findings in every output format: SARIF validated against the official SARIF 2.1.0 schema (see
//! `tests/schemas/README.md`) with negative cases, SARIF rules/results/suppressions/fingerprints, JUnit parsed
//! back with quick-xml (hostile strings included), and no format ever printing a secret.

mod common;
#[path = "common/findings.rs"]
mod fixtures;

use common::{image_report, render, schema_dir};
use fixtures::{HOSTILE, RAW_SECRET, RAW_SECRET_TAIL, findings_report, hostile_report};
use jsonschema::Validator;
use palisade_core::{ArtifactInfo, ArtifactKind, ScanReport};
use palisade_report::Format;
use quick_xml::XmlVersion;
use quick_xml::events::Event;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

fn sarif_validator() -> Validator {
    let p = schema_dir().join("sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::options().should_validate_formats(true).build(&schema).expect("SARIF 2.1.0 schema compiles")
}

fn errors(v: &Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

fn sarif(r: &ScanReport) -> Value {
    serde_json::from_slice(&render(r, Format::Sarif)).expect("SARIF output is JSON")
}

#[test]
fn sarif_is_valid_sarif_2_1_0() {
    let v = sarif_validator();
    let reports = [
        ("findings", findings_report()),
        ("hostile", hostile_report()),
        ("packages only", image_report()),
        ("empty", ScanReport::new(ArtifactInfo::new(ArtifactKind::Rootfs, ""), "garbage date")),
    ];
    for (what, r) in reports {
        let doc = sarif(&r);
        assert_eq!(doc["version"], "2.1.0");
        let errs = errors(&v, &doc);
        assert!(errs.is_empty(), "{what}: SARIF is not schema-valid:\n{}", errs.join("\n"));
    }
}

#[test]
fn sarif_validator_rejects_broken_documents() {
    let v = sarif_validator();
    let good = sarif(&findings_report());
    assert!(errors(&v, &good).is_empty());

    let mut bad_level = good.clone();
    bad_level["runs"][0]["results"][0]["level"] = json!("fatal");
    assert!(!errors(&v, &bad_level).is_empty(), "an unknown level must be rejected");

    let mut no_version = good.clone();
    no_version.as_object_mut().expect("object").remove("version");
    assert!(!errors(&v, &no_version).is_empty(), "a log without version must be rejected");

    let mut no_message = good.clone();
    no_message["runs"][0]["results"][0].as_object_mut().expect("result").remove("message");
    assert!(!errors(&v, &no_message).is_empty(), "a result without message must be rejected");

    let mut line_zero = good.clone();
    line_zero["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = json!(0);
    assert!(!errors(&v, &line_zero).is_empty(), "startLine 0 must be rejected");

    let mut bad_suppression = good;
    bad_suppression["runs"][0]["results"][0]["suppressions"] = json!([{ "kind": "ignored" }]);
    assert!(!errors(&v, &bad_suppression).is_empty(), "an unknown suppression kind must be rejected");
}

#[test]
fn sarif_rules_and_results() {
    let doc = sarif(&findings_report());
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "palisade");
    // Optional in SARIF: written only when the workspace names an http(s) repository.
    match driver.get("informationUri") {
        Some(uri) => assert!(uri.as_str().is_some_and(|u| u.starts_with("http")), "{uri}"),
        None => assert_eq!(env!("CARGO_PKG_REPOSITORY"), ""),
    }
    let rules = driver["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(
        ids,
        ["CVE-2021-44228", "CVE-2022-37434", "CVE-2023-0464", "github-pat", "PAL-K8S-014", "PAL-IMG-001"],
        "one rule per distinct id, in first-seen order"
    );
    let rule = |id: &str| rules.iter().find(|r| r["id"] == id).expect("rule");

    let log4j = rule("CVE-2021-44228");
    assert_eq!(log4j["helpUri"], "https://logging.apache.org/log4j/2.x/security.html");
    assert_eq!(log4j["properties"]["security-severity"], "10.0", "CVSS score of the critical finding");
    assert_eq!(log4j["defaultConfiguration"]["level"], "error");
    let tags: Vec<&str> =
        log4j["properties"]["tags"].as_array().expect("tags").iter().filter_map(Value::as_str).collect();
    assert!(tags.contains(&"vulnerability") && tags.contains(&"maven"), "{tags:?}");
    let help = log4j["help"]["text"].as_str().expect("help");
    assert!(help.contains("log4j-core 1.0.0: fixed in 2.15.0"), "{help}");
    assert!(help.contains("log4j-api 1.0.0: fixed in 2.15.0"), "{help}");

    // Debian `low` with a 7.5 CVSS: the score follows the reported severity.
    let ssl = rule("CVE-2023-0464");
    assert_eq!(ssl["properties"]["security-severity"], "2.0");
    assert_eq!(ssl["defaultConfiguration"]["level"], "note");
    assert_eq!(rule("CVE-2022-37434")["properties"]["security-severity"], "5.5");
    assert_eq!(rule("github-pat")["properties"]["tags"][0], "secret");
    assert_eq!(rule("github-pat")["properties"]["security-severity"], "9.5");
    let k8s = rule("PAL-K8S-014");
    assert_eq!(k8s["properties"]["tags"][0], "misconfiguration");
    assert_eq!(k8s["helpUri"], "https://kubernetes.io/docs/concepts/security/pod-security-standards/");
    assert!(k8s["help"]["text"].as_str().is_some_and(|h| h.contains("runAsNonRoot: true")));
    assert!(rule("PAL-IMG-001").get("helpUri").is_none(), "no http reference, no helpUri");

    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 9);
    for r in results {
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"], "ruleIndex points at the rule");
    }
    let by_rule = |id: &str| results.iter().filter(|r| r["ruleId"] == id).collect::<Vec<_>>();

    let log4j_results = by_rule("CVE-2021-44228");
    assert_eq!(log4j_results.len(), 2);
    assert_eq!(log4j_results[0]["level"], "error");
    assert_eq!(log4j_results[1]["level"], "error", "the high finding of the same CVE");
    let loc = &log4j_results[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "app/lib/log4j-core-2.14.1.jar");
    assert_eq!(loc["region"]["startLine"], 1);
    let msg = log4j_results[0]["message"]["text"].as_str().expect("message");
    assert!(msg.contains("Installed version 1.0.0, fixed in 2.15.0"), "{msg}");
    assert!(msg.contains("Matched by: introduced 0, fixed 2.15.0"), "{msg}");

    let ssl_result = by_rule("CVE-2023-0464");
    assert_eq!(ssl_result[0]["level"], "note");
    assert!(
        ssl_result[0]["message"]["text"].as_str().is_some_and(|m| m.contains("no fixed version (affected)"))
    );

    let zlib = by_rule("CVE-2022-37434");
    assert_eq!(zlib[0]["level"], "warning");
    assert_eq!(
        zlib[0]["suppressions"],
        json!([{ "kind": "external", "justification": "not reachable: inflateGetHeader unused (VEX)" }])
    );
    assert!(log4j_results[0].get("suppressions").is_none(), "active findings have no suppressions");

    let secrets = by_rule("github-pat");
    let region = &secrets[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!((region["startLine"].as_u64(), region["startColumn"].as_u64()), (Some(12), Some(7)));
    let smsg = secrets[0]["message"]["text"].as_str().expect("message");
    assert!(smsg.contains("ghp_R4*****") && smsg.contains("deleted in layer 2"), "{smsg}");
    assert!(secrets[1]["suppressions"][0]["justification"] == "test fixture credential");

    let k8s_results = by_rule("PAL-K8S-014");
    assert_eq!(k8s_results[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 21);
    let kmsg = k8s_results[0]["message"]["text"].as_str().expect("message");
    assert!(kmsg.contains("Deployment prod/web container app"), "{kmsg}");
    assert!(kmsg.contains("Fix: Set securityContext.runAsNonRoot: true"), "{kmsg}");
    let img = by_rule("PAL-IMG-001");
    let iloc = &img[0]["locations"][0]["physicalLocation"];
    assert_eq!(
        iloc["artifactLocation"]["uri"], "registry.example/team/app%3A1.2",
        "image config: artifact name"
    );
    assert_eq!(iloc["region"], json!({ "startLine": 1 }), "no file position: line 1, no column");

    // Fingerprints: present, unique, and stable across renders.
    let fps: Vec<&str> =
        results.iter().filter_map(|r| r["partialFingerprints"]["palisade/v1"].as_str()).collect();
    assert_eq!(fps.len(), results.len());
    assert_eq!(fps.iter().collect::<HashSet<_>>().len(), fps.len(), "{fps:?}");
    assert_eq!(sarif(&findings_report()), doc, "rendering is deterministic");
    // The two PAL-K8S-014 findings differ only by line: distinct fingerprints, and moving one does not change
    // the first one's.
    let mut moved = findings_report();
    moved.misconfigurations[0].line = 40;
    let moved_doc = sarif(&moved);
    let moved_fp = moved_doc["runs"][0]["results"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["ruleId"] == "PAL-K8S-014"))
        .map(|r| r["partialFingerprints"]["palisade/v1"].clone());
    assert_eq!(moved_fp, Some(k8s_results[0]["partialFingerprints"]["palisade/v1"].clone()));
}

#[test]
fn sarif_hostile_strings_stay_data() {
    let doc = sarif(&hostile_report());
    let results = doc["runs"][0]["results"].as_array().expect("results");
    for r in results {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(
            uri.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b)),
            "uri is percent-encoded: {uri}"
        );
        assert!(!uri.starts_with('/'), "relative: {uri}");
    }
    // The hostile message survives as JSON string data.
    let msg = results[0]["message"]["text"].as_str().expect("message");
    assert!(msg.contains(HOSTILE), "{msg:?}");
    let rule = &doc["runs"][0]["tool"]["driver"]["rules"][0];
    assert!(rule.get("helpUri").is_none(), "a reference with spaces/quotes is not a helpUri: {rule}");
}

/// Parse JUnit XML: (suite name, testcase (classname, name, outcome, message, text)) in order.
type JunitCase = (String, String, String, String, String);

fn parse_junit(xml: &str) -> Vec<(String, Vec<JunitCase>)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut suites: Vec<(String, Vec<JunitCase>)> = Vec::new();
    let mut text = String::new();
    let mut in_failure = false;
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &str| -> String {
        e.attributes()
            .map(|a| a.expect("well-formed attribute"))
            .find(|a| a.key.as_ref() == name)
            .map(|a| a.normalized_value(XmlVersion::Implicit1_0).expect("attribute value").into_owned())
            .unwrap_or_default()
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            ev @ (Event::Start(_) | Event::Empty(_)) => {
                let is_start = matches!(ev, Event::Start(_));
                let (Event::Start(e) | Event::Empty(e)) = ev else { continue };
                match e.name().as_ref() {
                    "testsuite" => suites.push((attr(&e, "name"), Vec::new())),
                    "testcase" => {
                        if let Some(s) = suites.last_mut() {
                            s.1.push((
                                attr(&e, "classname"),
                                attr(&e, "name"),
                                String::new(),
                                String::new(),
                                String::new(),
                            ));
                        }
                    }
                    "failure" | "skipped" => {
                        let outcome = e.name().as_ref().to_string();
                        let message = attr(&e, "message");
                        if let Some(c) = suites.last_mut().and_then(|s| s.1.last_mut()) {
                            c.2 = outcome.clone();
                            c.3 = message;
                        }
                        text.clear();
                        in_failure = is_start && outcome == "failure";
                    }
                    _ => {}
                }
            }
            Event::Text(t) if in_failure => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_failure => {
                let raw: &str = &r;
                let entity = format!("&{raw};");
                text.push_str(&quick_xml::escape::unescape(&entity).expect("known entity"));
            }
            Event::End(e) if e.name().as_ref() == "failure" => {
                in_failure = false;
                if let Some(c) = suites.last_mut().and_then(|s| s.1.last_mut()) {
                    c.4 = std::mem::take(&mut text);
                }
            }
            _ => {}
        }
    }
    suites
}

#[test]
fn junit_suites_cases_and_outcomes() {
    let xml = String::from_utf8(render(&findings_report(), Format::Junit)).expect("UTF-8");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"palisade\" tests=\"9\" failures=\"6\""), "{xml}");
    let suites = parse_junit(&xml);
    let names: Vec<&str> = suites.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["vulnerabilities", "secrets", "misconfigurations", "licenses"]);
    let outcomes: BTreeMap<&str, Vec<&str>> =
        suites.iter().map(|(n, cs)| (n.as_str(), cs.iter().map(|c| c.2.as_str()).collect())).collect();
    assert_eq!(outcomes["vulnerabilities"], ["failure", "failure", "skipped", "failure"]);
    assert_eq!(outcomes["secrets"], ["failure", "skipped"]);
    assert_eq!(outcomes["misconfigurations"], ["failure", "failure", "skipped"]);
    let first = &suites[0].1[0];
    assert_eq!(first.0, "app/lib/log4j-core-2.14.1.jar");
    assert_eq!(first.1, "CVE-2021-44228 org.apache.logging.log4j:log4j-core@1.0.0");
    assert!(first.3.starts_with("[CRITICAL] CVE-2021-44228"), "{}", first.3);
    assert!(first.4.contains("fixed in 2.15.0"), "{}", first.4);
    assert_eq!(suites[0].1[2].3, "not reachable: inflateGetHeader unused (VEX)");
    assert!(
        xml.contains("<testsuite name=\"secrets\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"1\">")
    );

    let empty = String::from_utf8(render(&image_report(), Format::Junit)).expect("UTF-8");
    let suites = parse_junit(&empty);
    assert_eq!(suites.len(), 4);
    assert!(suites.iter().all(|(_, cs)| cs.is_empty()), "no findings, no test cases");
}

#[test]
fn junit_hostile_strings_round_trip_escaped() {
    let xml = String::from_utf8(render(&hostile_report(), Format::Junit)).expect("UTF-8");
    assert!(!xml.contains("<tag"), "markup is escaped");
    assert!(!xml.contains('\x1b') && !xml.contains('\0'), "forbidden characters are replaced");
    let suites = parse_junit(&xml);
    // What XML 1.0 can carry comes back unchanged; the rest is U+FFFD.
    let expected: String = HOSTILE
        .chars()
        .map(|c| if matches!(c, '\x1b' | '\x07' | '\0' | '\u{FFFE}') { '\u{FFFD}' } else { c })
        .collect();
    let vuln = &suites[0].1[0];
    assert_eq!(vuln.2, "failure");
    assert_eq!(vuln.0, format!("/{expected}/package-lock.json"), "classname round-trips");
    assert!(vuln.4.contains(&expected), "failure text round-trips: {:?}", vuln.4);
    let skipped = &suites[0].1[1];
    assert_eq!((skipped.2.as_str(), skipped.3.as_str()), ("skipped", expected.as_str()));
    assert_eq!(suites[2].1[0].0, expected);
}

#[test]
fn no_format_prints_a_secret() {
    let mut r = findings_report();
    r.packages = image_report().packages;
    for s in &r.secrets {
        assert!(!RAW_SECRET.contains(&s.redacted), "the fixture redacts");
    }
    for f in Format::ALL {
        let out = String::from_utf8_lossy(&render(&r, f)).into_owned();
        assert!(!out.contains(RAW_SECRET), "{f} printed the secret");
        assert!(!out.contains(RAW_SECRET_TAIL), "{f} printed part of the secret");
        if matches!(f, Format::Table | Format::Json | Format::Sarif | Format::Junit) {
            assert!(out.contains("ghp_R4*****"), "{f} shows the redacted preview");
        }
    }
}

#[test]
fn json_carries_the_finding_sections() {
    let r = findings_report();
    let doc: Value = serde_json::from_slice(&render(&r, Format::Json)).expect("JSON");
    assert_eq!(doc["vulnerabilities"].as_array().map(Vec::len), Some(4));
    assert_eq!(doc["secrets"].as_array().map(Vec::len), Some(2));
    assert_eq!(doc["misconfigurations"].as_array().map(Vec::len), Some(3));
    assert_eq!(doc["vulnerabilities"][2]["suppressed"], "not reachable: inflateGetHeader unused (VEX)");
    let back: ScanReport = serde_json::from_value(doc).expect("reads back");
    assert_eq!(back, r);
}
