//! Pod Security Standards conformance: every fixture of kubernetes/pod-security-admission `test/testdata`
//! (`<level>/<version>/<pass|fail>/*.yaml`) must be allowed/denied exactly as labelled when Palisade runs
//! the `pss:<level>` checks for that policy version.

mod common;

use palisade_checks::{CheckOptions, Engine};
use std::collections::BTreeMap;

#[test]
fn psa_testdata_agreement_is_total() {
    let Some(dir) = common::data_dir("PSS conformance") else { return };
    let files = common::read_tar_gz(&dir.join("k8s/psa-testdata.tar.gz"));
    let mut engines: BTreeMap<(String, String), Engine> = BTreeMap::new();
    let mut total = 0;
    let mut wrong = Vec::new();
    let mut per_level: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for (path, data) in &files {
        let parts: Vec<&str> = path.split('/').collect();
        let Some(i) = parts.iter().position(|p| *p == "testdata") else { continue };
        let (Some(level), Some(version), Some(label), Some(file)) =
            (parts.get(i + 1), parts.get(i + 2), parts.get(i + 3), parts.get(i + 4))
        else {
            continue;
        };
        if !file.ends_with(".yaml") || !matches!(*label, "pass" | "fail") {
            continue;
        }
        let engine = engines.entry((level.to_string(), version.to_string())).or_insert_with(|| {
            let opts = CheckOptions {
                k8s_version: Some(version.to_string()),
                select: vec![format!("pss:{level}")],
                ..Default::default()
            };
            Engine::new(&opts).unwrap_or_else(|e| panic!("{e}"))
        });
        let res = engine.check_file(path, data);
        assert!(res.errors.is_empty(), "{path}: {:?}", res.errors);
        let denied = res.findings.iter().any(|f| f.suppressed.is_none());
        let expect_denied = *label == "fail";
        total += 1;
        let e = per_level.entry(level.to_string()).or_default();
        e.0 += 1;
        if denied != expect_denied {
            e.1 += 1;
            let ids: Vec<_> = res.findings.iter().map(|f| format!("{} {}", f.check_id, f.message)).collect();
            wrong.push(format!("{path}: expected {label}, got {ids:?}"));
        }
    }
    for (level, (n, bad)) in &per_level {
        println!("PSS {level}: {n} fixtures, {bad} disagreements");
    }
    for w in wrong.iter().take(50) {
        println!("DISAGREE {w}");
    }
    assert!(total > 4000, "only {total} fixtures read");
    assert!(wrong.is_empty(), "{} of {total} fixtures disagree", wrong.len());
}
