//! CycloneDX and SPDX output validated against the official JSON schemas (CycloneDX 1.6, SPDX 2.3; see
//! `tests/schemas/README.md`), offline: the CycloneDX schema's `$ref`s to `spdx.schema.json` and
//! `jsf-0.82.schema.json` are registered as local resources.

mod common;
#[path = "common/findings.rs"]
mod fixtures;

use common::{fs_project_report, fs_report, image_projects_report, image_report, render, schema_dir};
use jsonschema::{Registry, Validator};
use palisade_core::findings::vuln::{CvssScore, VulnFinding};
use palisade_core::{ArtifactInfo, ArtifactKind, ScanReport, Severity};
use palisade_report::Format;
use serde_json::{Value, json};

fn load(name: &str) -> Value {
    let p = schema_dir().join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn cyclonedx_validator() -> Validator {
    let registry = Registry::new()
        .add("http://cyclonedx.org/schema/spdx.schema.json", load("spdx.schema.json"))
        .expect("spdx.schema.json registers")
        .add("http://cyclonedx.org/schema/jsf-0.82.schema.json", load("jsf-0.82.schema.json"))
        .expect("jsf schema registers")
        .prepare()
        .expect("registry prepares");
    jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&load("bom-1.6.schema.json"))
        .expect("CycloneDX 1.6 schema compiles")
}

fn spdx_validator() -> Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&load("spdx-2.3.schema.json"))
        .expect("SPDX 2.3 schema compiles")
}

fn errors(v: &Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

fn assert_valid(v: &Validator, doc: &Value, what: &str) {
    let errs = errors(v, doc);
    assert!(errs.is_empty(), "{what} is not schema-valid:\n{}", errs.join("\n"));
}

fn as_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("output is JSON")
}

fn reports() -> Vec<(&'static str, ScanReport)> {
    vec![
        ("image report", image_report()),
        ("fs report", fs_report()),
        ("fs report with its project", fs_project_report()),
        ("image report with projects", image_projects_report()),
        ("empty rootfs report", ScanReport::new(ArtifactInfo::new(ArtifactKind::Rootfs, ""), "garbage date")),
    ]
}

#[test]
fn cyclonedx_output_is_valid_cyclonedx_1_6() {
    let v = cyclonedx_validator();
    for (what, r) in reports() {
        let doc = as_json(&render(&r, Format::CycloneDx));
        assert_eq!(doc["specVersion"], "1.6");
        assert_valid(&v, &doc, what);
    }
}

#[test]
fn spdx_output_is_valid_spdx_2_3() {
    let v = spdx_validator();
    for (what, r) in reports() {
        let doc = as_json(&render(&r, Format::SpdxJson));
        assert_eq!(doc["spdxVersion"], "SPDX-2.3");
        assert_valid(&v, &doc, what);
    }
}

#[test]
fn cyclonedx_validator_rejects_broken_documents() {
    let v = cyclonedx_validator();
    let good = as_json(&render(&image_report(), Format::CycloneDx));
    assert_valid(&v, &good, "baseline");

    let mut bad_type = good.clone();
    bad_type["components"][1]["type"] = json!("librarry");
    assert!(!errors(&v, &bad_type).is_empty(), "an unknown component type must be rejected");

    // A list mixing an expression with licence objects is not allowed by the 1.6 schema.
    let mut mixed = good.clone();
    mixed["components"][1]["licenses"] =
        json!([{"expression": "MIT OR Apache-2.0"}, {"license": {"id": "MIT"}}]);
    assert!(!errors(&v, &mixed).is_empty(), "mixed licence choice must be rejected");

    let mut bad_id = good.clone();
    bad_id["components"][1]["licenses"] = json!([{"license": {"id": "Not-A-Licence"}}]);
    assert!(
        !errors(&v, &bad_id).is_empty(),
        "unknown SPDX id must be rejected (checks the spdx.schema.json ref)"
    );

    let mut bad_time = good.clone();
    bad_time["metadata"]["timestamp"] = json!("yesterday");
    assert!(!errors(&v, &bad_time).is_empty(), "a non date-time timestamp must be rejected");

    let mut bad_serial = good;
    bad_serial["serialNumber"] = json!("1234");
    assert!(!errors(&v, &bad_serial).is_empty(), "serial number must be a urn:uuid");
}

#[test]
fn spdx_validator_rejects_broken_documents() {
    let v = spdx_validator();
    let good = as_json(&render(&image_report(), Format::SpdxJson));
    assert_valid(&v, &good, "baseline");

    let mut no_name = good.clone();
    no_name.as_object_mut().expect("object").remove("name");
    assert!(!errors(&v, &no_name).is_empty(), "a document without name must be rejected");

    let mut bad_category = good.clone();
    bad_category["packages"][2]["externalRefs"][0]["referenceCategory"] = json!("PACKAGE_MANAGER_X");
    assert!(!errors(&v, &bad_category).is_empty(), "an unknown reference category must be rejected");

    let mut extra = good;
    extra["packages"][2]["notAField"] = json!(1);
    assert!(!errors(&v, &extra).is_empty(), "unknown package fields must be rejected");
}

/// What Trivy wrote, read back and written again as CycloneDX/SPDX, is still valid.
#[test]
fn trivy_sbom_rewritten_is_valid() {
    let cdx = cyclonedx_validator();
    let spdx = spdx_validator();
    for f in
        ["trivy-rootfs.cdx.json", "trivy-rootfs.spdx.json", "trivy-fs-npm.cdx.json", "trivy-fs-npm.spdx.json"]
    {
        let input =
            palisade_inventory::sbom::read(&common::inventory_fixture(f), f).expect("Trivy SBOM reads");
        let mut r = ScanReport::new(ArtifactInfo::new(ArtifactKind::Sbom, f), "2026-05-06T07:08:09Z");
        r.os = input.os;
        r.packages = input.packages;
        assert!(!r.packages.is_empty(), "{f}");
        assert_valid(&cdx, &as_json(&render(&r, Format::CycloneDx)), f);
        assert_valid(&spdx, &as_json(&render(&r, Format::SpdxJson)), f);
    }
}

/// A finding on `pkg` of [`image_report`] (matched by purl).
fn finding_on(r: &ScanReport, name: &str, id: &str, severity: Severity, fixed: Option<&str>) -> VulnFinding {
    let pkg = r.packages.iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no package {name}"));
    let mut v = fixtures::vuln(id, name, pkg.ecosystem, &pkg.locations[0].path, severity, fixed);
    v.purl = pkg.purl.clone();
    v.package_version = pkg.version.clone();
    v.installed_version = pkg.version.clone();
    v.locations = pkg.locations.clone();
    v
}

/// [`image_report`] with findings run through `palisade-policy` (an ignore file and an OpenVEX document
/// written to a temporary directory), so the suppression reasons are the ones the CLI produces.
fn policy_report() -> ScanReport {
    let mut r = image_report();
    let mut log4j = finding_on(
        &r,
        "org.apache.logging.log4j:log4j-core",
        "CVE-2021-44228",
        Severity::Critical,
        Some("2.15.0"),
    );
    log4j.aliases = vec!["GHSA-jfh8-c2jp-5v3q".into()];
    log4j.cvss = vec![
        CvssScore {
            version: "3.1".into(),
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H".into(),
            score: 10.0,
            source: Some("nvd".into()),
        },
        CvssScore {
            version: "2.0".into(),
            vector: "AV:N/AC:M/Au:N/C:C/I:C/A:C".into(),
            score: 9.3,
            source: None,
        },
        CvssScore {
            version: "4.0".into(),
            vector: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H".into(),
            score: 10.0,
            source: None,
        },
    ];
    log4j.references = vec![
        "https://github.com/apache/logging-log4j2/pull/608".into(),
        "https://logging.apache.org/log4j/2.x/security.html".into(),
    ];
    log4j.published = Some("2021-12-10T00:00:00Z".into());
    log4j.modified = Some("2024-06-01T10:00:00.123+02:00".into());
    let zlib =
        finding_on(&r, "zlib1g", "CVE-2022-37434", Severity::Critical, Some("1:1.2.13.dfsg-1+deb12u1"));
    let serde = finding_on(&r, "serde", "CVE-2099-1111", Severity::Low, Some("1.0.201"));
    let express = finding_on(&r, "express", "CVE-2024-29041", Severity::Medium, Some("4.19.2"));
    let mut ssl = finding_on(&r, "libssl3", "CVE-2023-0464", Severity::Low, None);
    ssl.status = palisade_core::findings::vuln::VulnStatus::WillNotFix;
    r.vulnerabilities = vec![log4j, zlib, serde, express, ssl];

    let dir = tempfile::tempdir().expect("temp dir");
    let ignore = dir.path().join(".palisadeignore");
    std::fs::write(
        &ignore,
        "ignore:\n  - id: GHSA-jfh8-c2jp-5v3q\n    purl: pkg:maven/org.apache.logging.log4j/log4j-core\n    \
         reason: JNDI lookups disabled by log4j2.formatMsgNoLookups\n",
    )
    .expect("write ignore file");
    let vex = dir.path().join("vex.json");
    std::fs::write(
        &vex,
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/app-1",
            "author": "security@example.com", "timestamp": "2026-05-01T00:00:00Z", "version": 1,
            "statements": [
              {"vulnerability": {"name": "CVE-2022-37434"}, "products": [{"@id": "pkg:deb/debian/zlib1g"}],
               "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"},
              {"vulnerability": {"name": "CVE-2099-1111"}, "products": [{"@id": "pkg:cargo/serde"}],
               "status": "fixed"}
            ]}"#,
    )
    .expect("write VEX");
    let opts = palisade_policy::PolicyOptions {
        severities: vec![],
        ignore_unfixed: false,
        ignore_files: vec![ignore],
        vex: vec![vex],
        today: time::macros::date!(2026 - 05 - 06),
    };
    let summary = palisade_policy::apply(&mut r, &opts).expect("policy applies");
    assert_eq!(summary.suppressed, 3, "{summary:?}");
    r
}

/// Reports with vulnerabilities: suppressed and active, aliases, CVSS, hostile strings, and one whose
/// packages are not listed (`--scanners vuln` alone).
fn vuln_reports() -> Vec<(&'static str, ScanReport)> {
    let mut vuln_only = fixtures::findings_report();
    vuln_only.packages.clear();
    vuln_only.secrets.clear();
    vuln_only.misconfigurations.clear();
    vuln_only.vulnerabilities[0].cvss.push(CvssScore {
        version: "3.1".into(),
        vector: "CVSS:3.1/x".into(),
        score: f64::NAN,
        source: None,
    });
    vec![
        ("policy report", policy_report()),
        ("findings report", fixtures::findings_report()),
        ("hostile report", fixtures::hostile_report()),
        ("vulnerability-only report", vuln_only),
    ]
}

fn vuln_by_id<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities")
        .iter()
        .find(|v| v["id"] == id)
        .expect("vulnerability")
}

#[test]
fn cyclonedx_with_vulnerabilities_is_valid_cyclonedx_1_6() {
    let v = cyclonedx_validator();
    for (what, r) in vuln_reports() {
        let doc = as_json(&render(&r, Format::CycloneDx));
        assert!(!doc["vulnerabilities"].as_array().expect(what).is_empty(), "{what}");
        assert_valid(&v, &doc, what);
        // Every vulnerability links to a component of the document.
        let refs: Vec<&Value> = doc["components"].as_array().unwrap().iter().map(|c| &c["bom-ref"]).collect();
        for vuln in doc["vulnerabilities"].as_array().unwrap() {
            assert!(refs.contains(&&vuln["affects"][0]["ref"]), "{what}: {vuln}");
        }
    }
}

#[test]
fn cyclonedx_analysis_follows_the_policy_decision() {
    let r = policy_report();
    let doc = as_json(&render(&r, Format::CycloneDx));
    let log4j = vuln_by_id(&doc, "CVE-2021-44228");
    assert_eq!(log4j["analysis"]["state"], "exploitable", "an accepted risk is still a risk");
    assert!(log4j["analysis"]["detail"].as_str().unwrap().contains("formatMsgNoLookups"));
    assert!(log4j["analysis"].get("justification").is_none());
    let zlib = vuln_by_id(&doc, "CVE-2022-37434");
    assert_eq!(
        (zlib["analysis"]["state"].as_str(), zlib["analysis"]["justification"].as_str()),
        (Some("not_affected"), Some("code_not_reachable"))
    );
    assert_eq!(zlib["affects"][0]["versions"][0]["status"], "unaffected");
    assert_eq!(vuln_by_id(&doc, "CVE-2099-1111")["analysis"]["state"], "resolved");
    let express = vuln_by_id(&doc, "CVE-2024-29041");
    assert!(express.get("analysis").is_none(), "active");
    assert_eq!(express["affects"][0]["versions"][0]["status"], "affected");
    let methods: Vec<&str> =
        log4j["ratings"].as_array().unwrap().iter().filter_map(|r| r["method"].as_str()).collect();
    assert_eq!(methods, ["CVSSv31", "CVSSv2", "CVSSv4"]);
    assert!(vuln_by_id(&doc, "CVE-2023-0464")["recommendation"].as_str().unwrap().contains("will not fix"));
}

/// A change that breaks one part of a document.
type Breaks = Box<dyn Fn(&mut Value)>;

#[test]
fn cyclonedx_validator_rejects_broken_vulnerabilities() {
    let v = cyclonedx_validator();
    let good = as_json(&render(&policy_report(), Format::CycloneDx));
    assert_valid(&v, &good, "baseline");
    let log4j =
        good["vulnerabilities"].as_array().unwrap().iter().position(|x| x["id"] == "CVE-2021-44228").unwrap();
    let broken: [(&str, Breaks); 8] = [
        ("an analysis state outside the enum", Box::new(|d| d["analysis"]["state"] = json!("ignored"))),
        ("an unknown justification", Box::new(|d| d["analysis"]["justification"] = json!("accepted_risk"))),
        ("an unknown rating method", Box::new(|d| d["ratings"][0]["method"] = json!("CVSS3"))),
        ("an unknown severity", Box::new(|d| d["ratings"][0]["severity"] = json!("severe"))),
        ("a score that is not a number", Box::new(|d| d["ratings"][0]["score"] = json!("10"))),
        ("an affects entry without ref", Box::new(|d| d["affects"] = json!([{"versions": []}]))),
        ("a reference without source", Box::new(|d| d["references"] = json!([{"id": "GHSA-x"}]))),
        ("a published time that is not a date-time", Box::new(|d| d["published"] = json!("2021-12-10"))),
    ];
    for (what, breaks) in broken {
        let mut doc = good.clone();
        breaks(&mut doc["vulnerabilities"][log4j]);
        assert!(!errors(&v, &doc).is_empty(), "{what} must be rejected");
    }
}

/// What the SPDX 2.3 schema does not check but the specification requires of what Palisade writes:
/// SECURITY reference types from Annex F, locators without whitespace, licence fields that parse as SPDX
/// expressions with every `LicenseRef-` defined, and no concluded licence.
fn spdx_spec_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let defined: Vec<&str> = doc["hasExtractedLicensingInfos"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["licenseId"].as_str()).collect())
        .unwrap_or_default();
    for p in doc["packages"].as_array().expect("packages") {
        let name = p["name"].as_str().unwrap_or("?");
        for r in p["externalRefs"].as_array().into_iter().flatten() {
            let (cat, ty, loc) = (&r["referenceCategory"], &r["referenceType"], &r["referenceLocator"]);
            let loc = loc.as_str().unwrap_or("");
            if loc.is_empty() || loc.chars().any(char::is_whitespace) {
                problems.push(format!("{name}: locator {loc:?} is empty or has whitespace"));
            }
            if cat == "SECURITY"
                && !["cpe22Type", "cpe23Type", "advisory", "fix", "url", "swid"]
                    .contains(&ty.as_str().unwrap_or(""))
            {
                problems.push(format!("{name}: SECURITY reference type {ty} is not in Annex F"));
            }
        }
        if p["licenseConcluded"] != "NOASSERTION" {
            problems.push(format!(
                "{name}: licenseConcluded {} (Palisade concludes nothing)",
                p["licenseConcluded"]
            ));
        }
        let declared = p["licenseDeclared"].as_str().unwrap_or("");
        if declared != "NOASSERTION" && declared != "NONE" {
            match spdx::Expression::parse(declared) {
                Err(e) => problems.push(format!("{name}: licenseDeclared {declared:?} does not parse: {e}")),
                Ok(expr) => {
                    for req in expr.requirements() {
                        if let spdx::LicenseItem::Other(lr) = &req.req.license {
                            let id = format!("LicenseRef-{}", lr.lic_ref);
                            if !defined.contains(&id.as_str()) {
                                problems.push(format!("{name}: {id} is not in hasExtractedLicensingInfos"));
                            }
                        }
                    }
                }
            }
        }
    }
    problems
}

#[test]
fn spdx_with_vulnerabilities_is_valid_spdx_2_3() {
    let v = spdx_validator();
    let mut all = vuln_reports();
    all.extend(reports());
    for (what, r) in all {
        let doc = as_json(&render(&r, Format::SpdxJson));
        assert_valid(&v, &doc, what);
        let problems = spdx_spec_problems(&doc);
        assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
        let reviews = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["annotations"].as_array().into_iter().flatten())
            .filter(|a| a["annotationType"] == "REVIEW")
            .count();
        let mut distinct: Vec<(&str, &str, &Vec<palisade_core::Location>)> =
            r.vulnerabilities.iter().map(|f| (f.id.as_str(), f.purl.as_str(), &f.locations)).collect();
        distinct.sort();
        distinct.dedup();
        assert_eq!(reviews, distinct.len(), "{what}: one REVIEW annotation per finding");
    }
}

#[test]
fn spdx_security_refs_and_reviews_of_the_policy_report() {
    let doc = as_json(&render(&policy_report(), Format::SpdxJson));
    let pkg =
        |name: &str| doc["packages"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone();
    let log4j = pkg("org.apache.logging.log4j:log4j-core");
    let refs: Vec<(&str, &str)> = log4j["externalRefs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["referenceCategory"] == "SECURITY")
        .map(|r| (r["referenceType"].as_str().unwrap(), r["referenceLocator"].as_str().unwrap()))
        .collect();
    assert_eq!(
        refs,
        [
            ("advisory", "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"),
            ("advisory", "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q"),
            ("fix", "https://github.com/apache/logging-log4j2/pull/608"),
            ("url", "https://logging.apache.org/log4j/2.x/security.html"),
        ]
    );
    let review =
        log4j["annotations"].as_array().unwrap().iter().find(|a| a["annotationType"] == "REVIEW").unwrap();
    let text = review["comment"].as_str().unwrap();
    assert!(
        text.starts_with("Vulnerability CVE-2021-44228: severity critical; installed 2.14.1 -> fixed 2.15.0"),
        "{text}"
    );
    assert!(text.contains("suppressed: ignored by ") && text.contains("formatMsgNoLookups"), "{text}");
    // The declared licence is carried, normalised to SPDX (`Apache License, Version 2.0`).
    assert_eq!(log4j["licenseDeclared"], "Apache-2.0");
}

#[test]
fn spdx_spec_checks_catch_what_the_schema_lets_through() {
    let v = spdx_validator();
    let good = as_json(&render(&policy_report(), Format::SpdxJson));
    assert!(spdx_spec_problems(&good).is_empty());
    let log4j = good["packages"]
        .as_array()
        .unwrap()
        .iter()
        .position(|p| p["name"] == "org.apache.logging.log4j:log4j-core")
        .unwrap();
    let cases: [(&str, Breaks); 4] = [
        (
            "a SECURITY type outside Annex F",
            Box::new(|p| p["externalRefs"][1]["referenceType"] = json!("vulnerability")),
        ),
        (
            "a locator with a space",
            Box::new(|p| p["externalRefs"][1]["referenceLocator"] = json!("https://a b")),
        ),
        ("an undefined LicenseRef", Box::new(|p| p["licenseDeclared"] = json!("LicenseRef-nowhere"))),
        ("a concluded licence", Box::new(|p| p["licenseConcluded"] = json!("MIT"))),
    ];
    for (what, breaks) in cases {
        let mut doc = good.clone();
        breaks(&mut doc["packages"][log4j]);
        assert!(errors(&v, &doc).is_empty(), "{what}: the official schema accepts it");
        assert!(!spdx_spec_problems(&doc).is_empty(), "{what} must be caught");
    }
    // And what the schema does check.
    let mut bad = good.clone();
    bad["packages"][log4j]["annotations"][0]["annotationType"] = json!("VULNERABILITY");
    assert!(!errors(&v, &bad).is_empty(), "an unknown annotation type must be rejected");
    let mut bad = good;
    bad["packages"][log4j]["externalRefs"][1].as_object_mut().unwrap().remove("referenceLocator");
    assert!(!errors(&v, &bad).is_empty(), "an external ref without locator must be rejected");
}
