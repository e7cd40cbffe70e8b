//! CycloneDX and SPDX output validated against the official JSON schemas (CycloneDX 1.6, SPDX 2.3; see
//! `tests/schemas/README.md`), offline: the CycloneDX schema's `$ref`s to `spdx.schema.json` and
//! `jsf-0.82.schema.json` are registered as local resources.

mod common;

use common::{fs_project_report, fs_report, image_projects_report, image_report, render, schema_dir};
use jsonschema::{Registry, Validator};
use palisade_core::{ArtifactInfo, ArtifactKind, ScanReport};
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
