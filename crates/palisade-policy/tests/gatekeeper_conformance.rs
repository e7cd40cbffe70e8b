//! Conformance: the gatekeeper-library `library/general` gator suites (shared data,
//! `policy/gatekeeper-general.tar.gz`), run with the Rego engine's gator runner. Every labelled case is
//! run; the pass count is printed and must be at least 98 %. Failures are listed by reason in
//! docs/policy-conformance.md.

mod corpus;

use palisade_policy::bundle::Bundle;
use palisade_policy::engine::rego::tests::run_suite;
use std::collections::BTreeMap;

#[test]
fn gatekeeper_library_general_suites() {
    let Some(dir) = corpus::unpack("gatekeeper-general.tar.gz") else { return };
    let labels = corpus::labels(&dir);
    let empty = Bundle::default();
    let mut results = BTreeMap::new();
    let mut suites: Vec<String> =
        labels.iter().filter_map(|l| l["suite"].as_str().map(str::to_owned)).collect();
    suites.dedup();
    for suite in &suites {
        let path = dir.join(suite);
        let text = std::fs::read_to_string(&path).unwrap();
        let doc = palisade_checks::yaml::load_all(&text).into_iter().next().unwrap().unwrap().to_json();
        for r in run_suite(&empty, &path, &doc) {
            results.insert((suite.clone(), r.name.clone()), r);
        }
    }
    let mut passed = 0;
    let mut failures = Vec::new();
    for l in &labels {
        let suite = l["suite"].as_str().unwrap().to_string();
        let name = format!("{}/{}", l["test"].as_str().unwrap(), l["case"].as_str().unwrap());
        match results.get(&(suite.clone(), name.clone())) {
            Some(r) if r.passed => passed += 1,
            Some(r) => failures.push(format!("{suite} {name}: {}", r.message)),
            None => failures.push(format!("{suite} {name}: not run")),
        }
    }
    let total = labels.len();
    println!("gatekeeper library/general: {passed}/{total} cases pass");
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert!(passed * 100 >= total * 98, "{passed}/{total} is under 98 %");
}
