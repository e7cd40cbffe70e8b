//! Conformance on the Kyverno CLI test corpora in /work/shared/data/policy (see its README):
//! `vap-cel.tar.gz` (ValidatingAdmissionPolicy cases, all must pass) and `kyverno-cli-tests.tar.gz`
//! (every `kyverno-test.yaml`; at least 95% of the results that were run must pass). Each archive is
//! unpacked into a temporary directory; the tests skip with a message when the archives are absent.

use palisade_policy::bundle::Bundle;
use palisade_policy::engine::TestResult;
use palisade_policy::engine::kyverno::test_runner;
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    std::env::var_os("PALISADE_POLICY_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/data/policy"))
}

fn unpack(archive: &Path, into: &Path) {
    let file = std::fs::File::open(archive).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(file)).unpack(into).unwrap();
}

fn test_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            test_files(&p, out);
        } else if p.file_name().is_some_and(|n| n == "kyverno-test.yaml") {
            out.push(p);
        }
    }
}

/// Run every test file under `root`, each as a bundle of its own directory.
fn run_all(root: &Path) -> Vec<TestResult> {
    let mut files = Vec::new();
    test_files(root, &mut files);
    files.sort();
    let mut results = Vec::new();
    for f in files {
        let bundle = Bundle::read(&f).unwrap();
        let compiled = bundle.compile();
        results.extend(test_runner::run(&bundle, &compiled));
    }
    results
}

fn summary(name: &str, results: &[TestResult]) -> (usize, usize, usize) {
    let passed = results.iter().filter(|r| r.passed).count();
    let skipped = results.iter().filter(|r| r.skipped).count();
    let failed = results.len() - passed - skipped;
    println!("{name}: {} results: {passed} passed, {failed} failed, {skipped} skipped", results.len());
    for r in results.iter().filter(|r| !r.passed && !r.skipped) {
        println!("  FAIL {} {}: {}", r.suite.display(), r.name, r.message);
    }
    (passed, failed, skipped)
}

#[test]
fn vap_cel_all_cases_pass() {
    let archive = data_dir().join("vap-cel.tar.gz");
    if !archive.is_file() {
        println!("skipped: {} is absent", archive.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    unpack(&archive, tmp.path());
    let results = run_all(tmp.path());
    let (passed, failed, skipped) = summary("vap-cel", &results);
    assert_eq!(results.len(), 30, "labels.jsonl lists 30 cases");
    assert_eq!((passed, failed, skipped), (30, 0, 0));
}

#[test]
fn kyverno_cli_tests() {
    let archive = data_dir().join("kyverno-cli-tests.tar.gz");
    if !archive.is_file() {
        println!("skipped: {} is absent", archive.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    unpack(&archive, tmp.path());
    let results = run_all(tmp.path());
    let (passed, failed, skipped) = summary("kyverno-cli-tests", &results);
    for r in results.iter().filter(|r| r.skipped) {
        println!("  SKIP {} {}: {}", r.suite.display(), r.name, r.message);
    }
    let run = passed + failed;
    println!(
        "kyverno-cli-tests: {passed}/{run} of the results run pass ({:.1}%)",
        100.0 * passed as f64 / run.max(1) as f64
    );
    assert!(passed * 100 >= run * 95, "{passed} of {run} results pass: below 95%");
}
